"""Saved folders: hand edits that lower the format version, forged values, folders this user may
not read or write, and the forecast columns' names and dtypes, which a load keeps as a pickle does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNClassifier, SMambaForecaster
from tsrec.estimators.errors import LoadError

from saved_configs import edit_config  # tests/estimators/saved_configs.py

X = np.random.default_rng(0).normal(size=(12, 2, 10))
LABELS = np.array(["cat", "dog"] * 6)
DAYS = pd.date_range("2020", periods=30, freq="D")
PANEL_Y = pd.DataFrame({"y": np.sin(np.arange(60.0))},
                       index=pd.MultiIndex.from_product([["a", "b"], range(30)], names=["id", "time"]))


@pytest.fixture(scope="module")
def clf():
    return PGNClassifier(hidden=8, max_epochs=1, random_state=0).fit(X, LABELS)


def ar_net(y, **params) -> ARNetForecaster:
    params = {"n_lags": 3, "horizon": 2, "max_epochs": 1, "random_state": 0, **params}
    return ARNetForecaster(**params).fit(y, fh=[1, 2])


# ---- a format version lowered by hand ----------------------------------------------------------


def test_column_names_that_only_version_2_on_wrote_give_a_lowered_version_away(tmp_path):
    frame = pd.DataFrame(X[:, 0, :], columns=[f"t{i}" for i in range(10)])
    folder = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(frame, LABELS).save(tmp_path / "m")

    def downgraded(config):
        config["format_version"] = 1
        del config["config_sha256"]

    edit_config(folder, downgraded, reseal=False)
    with pytest.raises(LoadError, match="says format_version 1, but holds what only later versions write"):
        tsrec.load(folder)


# ---- forged values (the checksum recomputed) ---------------------------------------------------


@pytest.fixture(scope="module")
def cyclenet():
    y = pd.Series(np.random.default_rng(0).normal(size=40), index=pd.date_range("2020", periods=40, freq="D"))
    return CycleNetForecaster(lookback=4, horizon=3, cycle_length=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])


@pytest.mark.parametrize("step", [{"freq": None}, {"freq": "no such step"}, {"int": 0}, {"int": True}, "D", {}])
def test_a_forged_series_step_is_refused_at_load_not_at_predict(tmp_path, cyclenet, step):
    folder = cyclenet.save(tmp_path / "m")
    edit_config(folder, lambda config: config["fitted"]["series"][0].update(step=step))
    with pytest.raises(LoadError, match="a saved series step .* is no time step tsrec writes"):
        tsrec.load(folder)


@pytest.mark.parametrize("name, value", [
    ("horizon", 2**70), ("n_lags", 2**40), ("hidden_layers", {"__tuple__": [2**70]}),
])
def test_absurd_sizes_are_refused_before_a_network_is_built(tmp_path, name, value):
    folder = ar_net(np.sin(np.arange(30.0))).save(tmp_path / "m")
    edit_config(folder, lambda config: config["params"].update({name: value}))
    with pytest.raises(LoadError, match=f"the saved parameter {name}=.* is far larger than any fitted model's"):
        tsrec.load(folder)


_LOAD_FORGED = """
import json, resource, sys, tsrec
tsrec.load(sys.argv[1])  # imports and warms all that a load uses
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    tsrec.load(sys.argv[2])
    error = None
except tsrec.errors.LoadError as err:
    error = str(err)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"error": error, "peak_grown_mib": grown / 1024}))
"""


def test_a_forged_width_is_refused_before_a_network_that_size_is_allocated(tmp_path):
    # d_model=2**25 passes the parameter checks; the network it names holds 1.4 GB, the weights 2 KB
    est = CycleNetForecaster(lookback=8, horizon=2, backbone="mlp", d_model=8, cycle_length=4, max_epochs=1,
                             random_state=0).fit(np.sin(np.arange(40.0)))
    good, forged = est.save(tmp_path / "good"), est.save(tmp_path / "forged")
    edit_config(forged, lambda config: config["params"].update(d_model=2**25))
    run = subprocess.run([sys.executable, "-c", _LOAD_FORGED, str(good), str(forged)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert "saved weights do not fit CycleNetForecaster" in outcome["error"]
    assert "saved as" in outcome["error"] and "built as" in outcome["error"]
    assert outcome["peak_grown_mib"] < 200


def test_a_forged_layer_count_is_stopped_while_its_outline_is_built(tmp_path):
    # the outline on the meta device allocates no tensors but builds every module: 4096 layers took 23 s
    # and 357 MB before the shapes were compared (2**20 layers pass the size checks)
    est = SMambaForecaster(lookback=8, horizon=2, d_model=4, d_ff=4, d_state=2, e_layers=1, max_epochs=1,
                           random_state=0).fit(np.sin(np.arange(60.0)), fh=[1, 2])
    folder = est.save(tmp_path / "m")
    edit_config(folder, lambda config: config["params"].update(e_layers=4096))
    with pytest.raises(LoadError, match=r"build more than \d+ parameter tensors, the file holds \d+"):
        tsrec.load(folder)


def test_the_estimators_own_parameter_checks_run_at_load(tmp_path, clf):
    folder = clf.save(tmp_path / "m")
    edit_config(folder, lambda config: config["params"].update(hidden=-3))
    with pytest.raises(LoadError, match="the saved parameters are refused by PGNClassifier"):
        tsrec.load(folder)


# ---- the forecast columns' names and dtypes ----------------------------------------------------


@pytest.mark.parametrize("columns", [
    pd.Index(["a", "b"], name="var"), pd.Index([10, 20], dtype="int32"), pd.CategoricalIndex(["a", "b"], name="c"),
    pd.Index(["a", "b"], dtype="string"),  # pandas' nullable text loaded as pandas 3's "str"
], ids=["named", "int32", "categorical", "nullable-text"])
def test_a_loaded_forecaster_labels_its_columns_as_the_fitted_one(tmp_path, columns):
    y = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 2)), index=DAYS, columns=columns)
    est = ar_net(y)
    pd.testing.assert_frame_equal(tsrec.load(est.save(tmp_path / "m")).predict(), est.predict())


@pytest.mark.parametrize("dtype", ["int32", "uint64"])
def test_a_loaded_forecaster_keeps_its_integer_index_dtype(tmp_path, dtype):
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.Index(np.arange(30), dtype=dtype))
    est = ar_net(y)
    loaded = tsrec.load(est.save(tmp_path / "m"))
    assert loaded.cutoff.dtype == est.cutoff.dtype == np.dtype(dtype)
    pd.testing.assert_series_equal(loaded.predict(), est.predict())


def test_folders_saved_without_column_and_index_dtypes_load_as_before(tmp_path):
    y = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 2)), index=pd.Index(np.arange(30), dtype="int32"),
                     columns=pd.Index([10, 20], dtype="int32", name="var"))
    folder = ar_net(y).save(tmp_path / "m")

    def as_saved_before(config):
        config["fitted"].pop("columns_index")
        config["fitted"]["series"][0]["index"].pop("dtype")

    edit_config(folder, as_saved_before)
    forecast = tsrec.load(folder).predict()
    assert forecast.columns.dtype == forecast.index.dtype == np.int64 and forecast.columns.name is None


@pytest.mark.parametrize("edit", [
    lambda fitted: fitted["columns_index"].update(dtype="int8", names=[None]) or fitted.update(columns=[1000, 2]),
    lambda fitted: fitted["series"][0]["index"].update(dtype="float64"),
], ids=["column dtype", "index dtype"])
def test_forged_column_and_index_dtypes_are_refused(tmp_path, edit):
    y = pd.DataFrame(np.ones((30, 2)) + np.arange(30)[:, None], columns=pd.Index([1, 2], dtype="int32"))
    folder = ar_net(y).save(tmp_path / "m")
    edit_config(folder, lambda config: edit(config["fitted"]))
    with pytest.raises(LoadError, match="the file was not written by tsrec"):
        tsrec.load(folder)


# ---- folders this user may not read or write ---------------------------------------------------

# run as a user without root's rights (root reads and writes any folder); prints what happened as JSON
_PERMISSIONS_SCRIPT = r"""
import json, os, sys
import numpy as np
import tsrec
from tsrec.estimators import ARNetForecaster, _folder

def attempt(call):
    try:
        call()
        return "ok"
    except Exception as err:
        return f"{type(err).__name__}: {err}"

base, y, out = sys.argv[1], np.sin(np.arange(30.0)), {}
good = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y)
new = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=1).fit(y)
for way in ("exchange", "two renames"):
    if way == "two renames":
        _folder._renameat2 = lambda: None  # as where renameat2 is missing
    folder = os.path.join(base, way.replace(" ", "_"))
    os.mkdir(folder)
    good.save(folder + "/m")
    os.chmod(folder + "/m", 0o555)
    saved = attempt(lambda: new.save(folder + "/m"))
    holds_new = np.array_equal(tsrec.load(folder + "/m").predict(fh=[1, 2]), new.predict(fh=[1, 2]))
    out[way] = {"save": saved, "left": sorted(os.listdir(folder)), "holds_new": bool(holds_new)}
folder = os.path.join(base, "unreadable", "m")
good.save(folder)
os.chmod(folder, 0)
out["load"], out["save"] = attempt(lambda: tsrec.load(folder)), attempt(lambda: new.save(folder))
os.chmod(folder, 0o755)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def permission_outcomes():
    """Run the script as this user or, as root, as nobody (setpriv), in a folder that user may write."""
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: root may read and write any folder")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    base = tempfile.mkdtemp(prefix="tsrec-permissions-")
    os.chmod(base, 0o777)
    env = {**os.environ, "HOME": base, "PYTHONPATH": str(Path(tsrec.__file__).parents[1])}
    probe = subprocess.run([*prefix, sys.executable, "-c", "import numpy, tsrec"], capture_output=True, cwd=base,
                           env=env, timeout=120)
    if probe.returncode != 0:  # a checkout in a folder only root may enter (mktemp -d makes 0700 folders)
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip("nobody cannot import this checkout's environment; the message tests below run anyway")
    try:
        run = subprocess.run([*prefix, sys.executable, "-c", _PERMISSIONS_SCRIPT, base], capture_output=True,
                             text=True, cwd=base, env=env, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        return json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        for root, dirs, _ in os.walk(base):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("way", ["exchange", "two renames"])
def test_saving_over_a_read_only_earlier_save_replaces_it_and_leaves_nothing_behind(permission_outcomes, way):
    assert permission_outcomes[way] == {"save": "ok", "left": ["m"], "holds_new": True}


@pytest.mark.parametrize("action", ["load", "save"])
def test_a_folder_this_user_may_not_read_gives_a_message_with_the_fix(permission_outcomes, action):
    message = permission_outcomes[action]
    assert message.startswith("PermissionError: [Errno 13] cannot "), message
    assert "unreadable/m" in message and "make it readable for this user (chmod u+r" in message


def _denied(*args, **kwargs):
    raise PermissionError(13, "Permission denied")


@pytest.mark.parametrize("action", ["load", "save"])
def test_a_permission_error_while_checking_a_folder_names_the_folder_and_the_fix(tmp_path, monkeypatch, action):
    """The same messages as above, for any user: the checks that read the folder come before the guarded reads."""
    good = ar_net(np.sin(np.arange(30.0)))
    folder = good.save(tmp_path / "m")
    if action == "load":
        monkeypatch.setattr(Path, "is_file", _denied)
        call = lambda: tsrec.load(folder)  # noqa: E731
    else:
        monkeypatch.setattr(Path, "iterdir", _denied)
        call = lambda: good.save(folder)  # noqa: E731
    with pytest.raises(PermissionError, match=r"cannot .*m.*make it readable for this user \(chmod u\+r"):
        call()


def test_an_earlier_save_whose_config_this_user_may_not_read_gets_the_permission_fix(tmp_path, monkeypatch):
    # it was called "not a saved tsrec estimator", with the fix to choose another path or empty it
    good = ar_net(np.sin(np.arange(30.0)))
    folder = good.save(tmp_path / "m")
    read_text = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: _denied() if self.name == "config.json"
                        else read_text(self, *a, **k))
    with pytest.raises(PermissionError, match=r"cannot save to .*m .*: Permission denied; make it readable for this "
                                              r"user \(chmod u\+r"):
        good.save(folder)
    monkeypatch.undo()
    np.testing.assert_array_equal(tsrec.load(folder).predict(), good.predict())


@pytest.mark.parametrize(("fh", "match"), [
    (2**40, "is neither relative steps nor time stamps"),  # sktime built every step: an 8 TiB MemoryError
    ("1", "is neither relative steps nor time stamps"),
    ({"relative": [1]}, "is neither relative steps nor time stamps"),
    ([1, 2.5], "is not a list of relative steps"),
    ([1, True], "is not a list of relative steps"),
])
def test_a_forged_fh_is_refused(tmp_path, cyclenet, fh, match):
    folder = cyclenet.save(tmp_path / "m")
    edit_config(folder, lambda config: config["fitted"].update(fh=fh))
    with pytest.raises(LoadError, match=rf"the saved fh .* {match}; the file was not written by tsrec"):
        tsrec.load(folder)


@pytest.mark.parametrize("names", [[{"a": 1}], "t", []])
def test_forged_index_names_are_refused(tmp_path, cyclenet, names):
    folder = cyclenet.save(tmp_path / "m")
    edit_config(folder, lambda config: config["fitted"].update(index_names=names))
    with pytest.raises(LoadError, match="the saved index_names .* are not the names of index levels"):
        tsrec.load(folder)


@pytest.mark.parametrize(("panel", "names"), [(False, [None, None]), (True, [None]), (True, ["id", "x", "time"])])
def test_index_names_that_do_not_fit_the_series_keys_are_refused(tmp_path, cyclenet, panel, names):
    model = ar_net(PANEL_Y) if panel else cyclenet
    folder = model.save(tmp_path / "m")
    edit_config(folder, lambda config: config["fitted"].update(index_names=names))
    with pytest.raises(LoadError, match=rf"the saved index_names .* name {len(names)} index levels, but the saved "
                                        rf"series keys have \[{int(panel)}\] id levels"):
        tsrec.load(folder)
