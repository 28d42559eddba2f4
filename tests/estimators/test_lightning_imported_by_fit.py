"""Lightning is imported by the first fit only: importing tsrec and predicting with a saved model
(the batch command line's every run) do without it, which saves about as long as importing torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, LTCClassifier


def _modules_loaded_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    script = textwrap.dedent(code) + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split("\n")[-2].split())


def test_importing_tsrec_leaves_lightning_out() -> None:
    loaded = _modules_loaded_after("import tsrec, tsrec.estimators, tsrec.batch, tsrec.datasets, tsrec.nn, tsrec.cli")
    assert "tsrec" in loaded and "sktime" in loaded  # the check sees what the imports brought in
    assert "lightning" not in loaded


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("saved")
    y = pd.DataFrame({"load": np.sin(np.arange(120) / 4.0)}, index=pd.date_range("2024-01-01", periods=120, freq="h"))
    ARNetForecaster(max_epochs=1, n_lags=12, val_size=0, patience=None).fit(y, fh=[1, 2]).save(
        folder / "arnet")
    X = np.random.default_rng(0).normal(size=(12, 1, 16))
    LTCClassifier(max_epochs=1, units=4, val_size=0, patience=None).fit(X, np.array(["a", "b"] * 6)).save(
        folder / "ltc")
    y.to_csv(folder / "series.csv", index_label="ds")
    return str(folder), str(folder / "series.csv")


def test_loading_and_predicting_leave_lightning_out(saved_models: tuple[str, str]) -> None:
    folder, _ = saved_models
    loaded = _modules_loaded_after(f"""
        import numpy as np
        import tsrec
        forecast = tsrec.load({folder!r} + "/arnet").predict()
        assert forecast.shape == (2, 1), forecast.shape
        labels = tsrec.load({folder!r} + "/ltc").predict(np.zeros((3, 1, 16)))
        assert set(labels) <= {{"a", "b"}}, labels
    """)
    assert "lightning" not in loaded


def test_batch_forecasting_leaves_lightning_out(saved_models: tuple[str, str], tmp_path) -> None:
    folder, csv = saved_models
    out = tmp_path / "forecasts.csv"
    loaded = _modules_loaded_after(f"""
        from tsrec.batch import forecast_files
        forecast_files({folder!r} + "/arnet", [{csv!r}], {str(out)!r}, layout="wide", fh=2)
    """)
    assert len(pd.read_csv(out)) == 2
    assert "lightning" not in loaded


def test_a_fit_imports_lightning() -> None:
    # the other side of the laziness: the engine (and so Lightning) comes with the first fit
    loaded = _modules_loaded_after("""
        import numpy as np, pandas as pd
        from tsrec.estimators import ARNetForecaster
        y = pd.Series(np.sin(np.arange(60) / 4.0))
        ARNetForecaster(max_epochs=1, n_lags=8, val_size=0, patience=None).fit(y, fh=[1])
    """)
    assert "lightning" in loaded


FIT_WITH_UNUSED_PATIENCE = (
    "y = pd.Series(np.sin(np.arange(40) / 4.0))\n"
    "ARNetForecaster(n_lags=3, max_epochs=1, val_size=0, patience=2).fit(y, fh=[1])\n"
)
FIRST_LIGHTNING_IMPORTS = {  # each way tsrec imports Lightning first, then the fit
    "first fit": "",
    "import tsrec.tuning": "import tsrec.tuning\n",
    "accelerator check": "from tsrec.estimators._params import check_device_params\n"  # a non-string: Lightning's
                         "try:\n    check_device_params(3, 'auto', '32-true')\nexcept ValueError:\n    pass\n",
}


@pytest.mark.parametrize("first", list(FIRST_LIGHTNING_IMPORTS))
def test_the_users_warning_filters_stay_ahead_of_the_ones_lightnings_import_adds(first: str) -> None:
    # Lightning's import put its "default" filter for its deprecations ahead of the user's filters:
    # set after the imports (a notebook's next cell), they no longer held once tsrec imported Lightning
    script = textwrap.dedent("""
        import warnings
        import numpy as np, pandas as pd, torch
        from tsrec.estimators import ARNetForecaster
        warnings.filterwarnings("ignore", category=DeprecationWarning)
    """) + FIRST_LIGHTNING_IMPORTS[first] + FIT_WITH_UNUSED_PATIENCE + textwrap.dedent("""
        from lightning.fabric.utilities.rank_zero import LightningDeprecationWarning
        warnings.warn_explicit("an old Lightning argument", LightningDeprecationWarning, "lightning/x.py", 1,
                               module="lightning.x")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "old Lightning argument" not in run.stderr
    assert "patience=2 is not used" in run.stderr  # tsrec's own warnings were not hidden with them


def test_the_accelerator_check_still_knows_lightnings_accelerators() -> None:
    # the check imports Lightning's Accelerator only for an argument that is not a string
    from lightning.pytorch.accelerators import CPUAccelerator

    from tsrec.estimators._params import check_device_params

    check_device_params(CPUAccelerator(), "auto", "32-true")
    with pytest.raises(ValueError, match="accelerator must be a string such as 'auto'"):
        check_device_params(3, "auto", "32-true")
