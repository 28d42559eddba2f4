# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tsrec-installed
# the CPU build of torch installs from a local file in seconds; a bare `torch` pulls CUDA (GBs)
TORCH_PIN := torch==2.13.0

.PHONY: install demo test benchmarks clean

install: $(STAMP)

# constraints.txt: the versions the suite last passed with (pyproject.toml keeps the ranges users get)
$(STAMP): pyproject.toml Makefile constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,dask]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tsrec demo --out demo_output

# two workers, each handed two tests at a time: with tests/conftest.py's slowest files first, the last
# tests handed out are short ones, and neither worker waits on the other at the end
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --maxschedchunk 2

benchmarks: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/kernels.py --budget 0.3 --out benchmarks/results/kernels.md
	$(PY) benchmarks/fft_conv_paths.py --threads 1 --out benchmarks/results/fft_conv_paths.md
	$(PY) benchmarks/scan2d_paths.py --repeats 5
	$(PY) benchmarks/chimera_modes.py --out benchmarks/results/chimera_modes.md
	$(PY) benchmarks/ltc_backward.py --out benchmarks/results/ltc_backward.md
	$(PY) benchmarks/rollout_memory.py --out benchmarks/results/rollout_memory.md
	$(PY) benchmarks/ls4_panel.py --out benchmarks/results/ls4_panel.md
	$(PY) benchmarks/ltsf.py --model CycleNetForecaster --datasets ETTh1 ETTm1
	$(PY) benchmarks/ltsf.py --model PGNForecaster --protocol tpgn-univariate --lookback 168 --horizons 168 336 720 --datasets ETTh1 --params '{"hidden": 2}'
	$(PY) benchmarks/ltsf.py --model PGNForecaster --protocol tpgn-univariate --lookback 168 --horizons 168 336 720 --datasets ETTh1 --params '{"hidden": 2}' --drop-last 32
	$(PY) benchmarks/ltsf.py --model PGNForecaster --lookback 96 --datasets ETTh1 --seeds 2024 2025 2026
	$(PY) benchmarks/ltsf.py --model SMambaForecaster --datasets ETTh1 --horizons 96 192 --seeds 2024 --params '{"lr": 7e-5}'
	$(PY) benchmarks/ltsf.py --model SMambaForecaster --datasets ETTh1 --horizons 336 720 --seeds 2024 --params '{"lr": 5e-5}'
	$(PY) benchmarks/ltsf.py --model SpaceTimeForecaster --protocol univariate --lookback 336 --datasets ETTh1 --horizons 96 192 336 720 --seeds 0 --params '{"max_epochs": 8, "warmup_epochs": 1}'
	$(PY) benchmarks/ltsf.py --model ChimeraForecaster --datasets ETTh1 --horizons 96 192 720 --seeds 2024 --params '{"max_epochs": 3}'
	$(PY) benchmarks/ltsf.py --model ChimeraForecaster --datasets ETTh1 --horizons 96 720 --seeds 2024 --params '{"max_epochs": 3, "decoder": "closed_loop"}'
	$(PY) benchmarks/probabilistic.py --params '{"d_model": 32, "d_state": 32, "n_layers": 2, "max_epochs": 4, "instance_norm": true}'
	$(PY) benchmarks/classification.py --seeds 0 1 2
	$(PY) benchmarks/panel_scaling.py --datasets exchange_rate illness weather

clean:
	rm -rf $(VENV) demo_output .pytest_cache
