"""Every ```python block of README.md runs as the README implies, so that its examples cannot rot.

Blocks are named by their section heading and their first statement. Each block is either run here
(``RUN``: in a fresh namespace, or continuing the namespace of an earlier block, as the README says)
or listed in ``TOO_SLOW`` with the reason; a block in neither list fails
``test_every_block_is_run_or_listed``. Every block, slow ones too, must compile and use only names
that it or an earlier block defines.
"""

from __future__ import annotations

import ast
import builtins
import re
import symtable
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

FORECASTING = ("Forecasting", "from tsrec.datasets import load_ett")
LS4 = ("Forecasting", "from tsrec.estimators import LS4Forecaster")
CLASSIFICATION = ("Classification", "from tsrec.datasets import load_ucr")
TUNING = ("Tuning with Optuna", "from tsrec.tuning import tune")
BATCH = ("Batch forecasting from files", "from tsrec.batch import forecast_files")
SAVING = ("Saving and loading", 'est.save("model_dir")')

# block -> the block whose namespace it continues (None: a fresh one); wall times on the 2-core machine,
# one torch thread, 2026-12-02
RUN = {
    FORECASTING: None,  # 7.5 s
    CLASSIFICATION: None,  # 7 s; GunPoint from the data folder
    BATCH: None,  # 0.1 s, plus its inputs: a saved univariate model and the files it names (below)
    SAVING: FORECASTING,  # `est` of the forecasting example
}

TOO_SLOW = {
    LS4: "fits LS4 for 4 epochs: 73 s on 2026-12-02, more than this test's budget",
    TUNING: "two Optuna searches: the forecaster's took 12.2 s, the classifier's 10 trials 88.5 s (README)",
}


def _blocks() -> list[tuple[tuple[str, str], int, str]]:
    """((section, first statement), first line number, source) of every ```python block, in order."""
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, section, i = [], "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.strip() == "```python":
            start = i + 1
            end = next(j for j in range(start, len(lines)) if lines[j].strip() == "```")
            source = "\n".join(lines[start:end]) + "\n"
            first = next(code for code in lines[start:end] if code.strip() and not code.lstrip().startswith("#"))
            blocks.append(((section, re.sub(r"\s+#.*$", "", first).strip()), start + 1, source))
            i = end
        i += 1
    return blocks


BLOCKS = _blocks()
BY_KEY = {key: (line, source) for key, line, source in BLOCKS}


def _code(key: tuple[str, str], replace: dict[str, str] | None = None):
    line, source = BY_KEY[key]
    for old, new in (replace or {}).items():
        assert source.count(old) == 1, f"README block {key} no longer holds {old!r} once"
        source = source.replace(old, new)
    # compiled at its own line of README.md, so that a traceback points at the README
    return compile("\n" * (line - 1) + source, str(README), "exec")


def test_every_block_is_run_or_listed() -> None:
    keys = [key for key, _, _ in BLOCKS]
    assert len(keys) == len(set(keys)), f"two README blocks share a section and first line: {keys}"
    unlisted = [key for key in keys if key not in RUN and key not in TOO_SLOW]
    assert not unlisted, f"README python blocks neither run nor listed in TOO_SLOW: {unlisted}"
    stale = [key for key in [*RUN, *TOO_SLOW] if key not in BY_KEY]
    assert not stale, f"RUN/TOO_SLOW name blocks that README.md no longer has: {stale}"
    assert not set(RUN) & set(TOO_SLOW)


def _globals_read(table: symtable.SymbolTable) -> set[str]:
    """Module-level names that ``table``'s code reads: its own free reads at module level, and the
    global reads of every function, class, lambda and comprehension inside (whose arguments and
    locals are theirs)."""
    names = set()
    for symbol in table.get_symbols():
        top = table.get_type() == "module"
        if symbol.is_referenced() and (symbol.is_global() or (top and not symbol.is_local())):
            names.add(symbol.get_name())
    for child in table.get_children():
        names |= _globals_read(child)
    return names


def _statement_names(statement: ast.stmt) -> tuple[set[str], set[str]]:
    """(names one top-level statement reads from the module, names it binds there)."""
    table = symtable.symtable(ast.unparse(statement), "<readme>", "exec")
    bound = {symbol.get_name() for symbol in table.get_symbols()
             if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()}
    # a statement may bind a name and read it after (x = 1; ... a for loop reading its target)
    reads = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_referenced() and not symbol.is_assigned()
             and not symbol.is_imported() and not symbol.is_namespace()}
    for child in table.get_children():
        reads |= _globals_read(child) - bound
    return reads, bound


def test_blocks_use_only_names_defined_before() -> None:
    # a reader runs the blocks top to bottom, each statement in order: a statement may use what an
    # earlier one (of its block or an earlier block) defined
    defined = set(dir(builtins))
    for key, line, source in BLOCKS:
        for statement in ast.parse(source, filename=f"README.md:{line}").body:
            reads, bound = _statement_names(statement)
            missing = sorted(reads - defined)
            where = f"README block {key} (line {line + statement.lineno - 1})"
            assert not missing, f"{where} uses {missing} before defining them"
            defined |= bound


def test_the_name_check_reads_statements_in_order_and_knows_arguments() -> None:
    # the check itself: a use before the definition fails, a function's arguments are no globals
    assert _statement_names(ast.parse("print(est)").body[0])[0] == {"print", "est"}
    assert _statement_names(ast.parse("def space(trial):\n    return trial.x + y").body[0]) == ({"y"}, {"space"})
    assert _statement_names(ast.parse("z = [v for v in values]").body[0]) == ({"values"}, {"z"})


_NAMESPACES: dict[tuple[str, str], dict] = {}


def _run(key: tuple[str, str], namespace: dict | None = None, replace: dict[str, str] | None = None) -> dict:
    after = RUN[key]
    if namespace is None:
        namespace = {"__name__": "__readme__"}
        if after is not None:
            namespace.update(_NAMESPACES[after] if after in _NAMESPACES else _run(after))
    exec(_code(key, replace), namespace)
    _NAMESPACES[key] = namespace
    return namespace


def test_forecasting_example() -> None:
    ns = _run(FORECASTING)
    df, pred, far, new = ns["df"], ns["pred"], ns["far"], ns["new"]
    # what the block's comments say it gives
    assert pred.shape == (96, 7) and list(pred.columns) == list(df.columns)
    assert pred.index[0] == df.index[8640] and pred.index.freqstr == "h"
    assert far.shape == (192, 7) and far.iloc[:96].equals(pred)  # the first 96 steps are the same forecast
    assert new.shape == (3, 7) and new.index[0] == df.index[9000]
    assert ns["est"].cycle_.shape == (24, 7) and np.isfinite(far.to_numpy()).all()


def test_classification_example(data_dir: Path) -> None:
    ns = _run(CLASSIFICATION)
    clf, X_test, y_test = ns["clf"], ns["X_test"], ns["y_test"]
    assert ns["X_train"].shape == (50, 150) and clf.score(X_test, y_test) > 0.5  # two balanced classes
    proba = clf.predict_proba(X_test[:3])
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1.0)


def test_saving_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = _run(SAVING)
    assert (tmp_path / "model_dir" / "config.json").is_file()
    assert type(namespace["est2"]) is type(namespace["est"])


def test_batch_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the inputs the example names: a saved univariate model (`est.save("model")`), long files
    # jan.csv, feb.csv and meters.csv, a wide meters.parquet, and a Dask scheduler in place of
    # "tcp://host:8786"
    distributed = pytest.importorskip("distributed", reason="the example needs tsrec[dask]")
    import pandas as pd

    from tsrec.datasets import load_ett
    from tsrec.estimators import CycleNetForecaster

    monkeypatch.chdir(tmp_path)
    ot = load_ett("ETTh1")["OT"]
    est = CycleNetForecaster(lookback=96, horizon=24, max_epochs=1, random_state=0).fit(ot.iloc[:2000])
    est.save("model")

    def long(ids: list[str], start: int, n: int = 150) -> pd.DataFrame:
        parts = [ot.iloc[start + k * n : start + (k + 1) * n] for k in range(len(ids))]
        return pd.concat(
            pd.DataFrame({"unique_id": i, "ds": part.index, "y": part.to_numpy()}) for i, part in zip(ids, parts)
        )

    long(["a", "b"], 2000).to_csv("jan.csv", index=False)
    long(["c", "d"], 3000).to_csv("feb.csv", index=False)
    long(["m1", "m2", "m3"], 4000).to_csv("meters.csv", index=False)
    wide = ot.iloc[5000:5150]
    pd.DataFrame({"ds": wide.index, "m1": wide.to_numpy(), "m2": ot.iloc[5200:5350].to_numpy()}).to_parquet(
        "meters.parquet", index=False
    )

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        namespace = {"__name__": "__readme__", "est": est}
        try:
            _run(BATCH, namespace, replace={"tcp://host:8786": cluster.scheduler_address})
        finally:
            if "client" in namespace:
                namespace["client"].close()
    assert len(pd.read_parquet("forecasts.parquet")) == 4 * 24
    assert len(pd.read_csv("out.csv")) == 3 * 24
