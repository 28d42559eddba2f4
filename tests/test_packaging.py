"""What an installed tsrec shows of itself: its version, its extras, its license, its data-folder lookup."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import tsrec
from tsrec.datasets import _datadir, load_ett

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_is_the_installed_distributions() -> None:
    assert tsrec.__version__ == importlib.metadata.version("tsrec")
    assert "__version__" in dir(tsrec)


def test_version_of_a_tree_never_installed_is_a_valid_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert tsrec._version() == "0+unknown"  # a PEP 440 local version, so tools comparing versions accept it


def test_python_dash_m_tsrec_dash_dash_version() -> None:
    run = subprocess.run([sys.executable, "-m", "tsrec", "--version"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"tsrec {tsrec.__version__}\n"


@pytest.mark.parametrize("extra", ["parquet", "dask", "dev"])
def test_extras_reading_parquet_bring_pyarrow(extra: str) -> None:
    # tsrec.batch reads and writes .parquet / .pq only with pyarrow
    assert any(req.startswith("pyarrow") for req in _pyproject()["project"]["optional-dependencies"][extra])


def test_license_is_an_spdx_expression_with_its_files() -> None:
    # the code's license and the bundled ETT data's: the wheel ships both (a scanner reads the expression)
    project = _pyproject()["project"]
    assert project["license"] == "Apache-2.0 AND CC-BY-ND-4.0"  # a table ({text = ...}) is deprecated by setuptools
    code, data = (ROOT / name for name in project["license-files"])
    assert "Apache License" in code.read_text(encoding="utf-8")[:200]
    assert "(CC BY-ND 4.0)" in data.read_text(encoding="utf-8")
    assert data.parent == ROOT / "tsrec" / "datasets" / "data" and (data.parent / "ETTh1.csv").is_file()


def test_the_package_says_it_is_typed() -> None:
    # PEP 561: without py.typed in the installed package, mypy ignores tsrec's annotations
    assert (Path(tsrec.__file__).parent / "py.typed").is_file()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["tsrec"]


def test_sdist_leaves_the_tests_out() -> None:
    # setuptools would otherwise pack tests/test*.py alone, without conftest.py or the subfolders
    assert "prune tests" in (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()


def test_dev_data_only_in_a_checkout(tmp_path: Path) -> None:
    module = tmp_path / "repo" / "tsrec" / "datasets" / "_datadir.py"
    module.parent.mkdir(parents=True)
    module.touch()
    # installed: the folder two levels up is site-packages, with no pyproject.toml
    assert _datadir._dev_data(module) is None
    (tmp_path / "repo" / "pyproject.toml").touch()
    assert _datadir._dev_data(module) == tmp_path / "shared" / "data"


def test_this_checkout_has_a_dev_data_folder_path() -> None:
    assert Path(_datadir.__file__).resolve().is_relative_to(ROOT)  # make install: an editable install
    assert _datadir.DEV_DATA == ROOT.parent / "shared" / "data"


def test_missing_file_without_dev_data_names_no_such_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_datadir, "DEV_DATA", None)
    monkeypatch.delenv("TSREC_DATA", raising=False)
    with pytest.raises(FileNotFoundError) as info:
        load_ett("ETTm1")
    message = str(info.value)
    assert "(no folder to search: no data_dir, TSREC_DATA unset)" in message
    assert "None" not in message and "site-packages" not in message


def test_missing_file_in_a_checkout_names_the_dev_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_datadir, "DEV_DATA", tmp_path / "shared" / "data")
    monkeypatch.delenv("TSREC_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="TSREC_DATA unset, no .*shared.data\\)"):
        load_ett("ETTm1")


def _pins() -> dict[str, str]:
    from packaging.utils import canonicalize_name

    lines = (line.split("#")[0].strip() for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines())
    return {canonicalize_name(name): version for name, version in (line.split("==") for line in lines if line)}


def test_make_install_pins_versions_inside_the_declared_ranges() -> None:
    # `make install` installs constraints.txt's versions, so that CI meets no release the suite never ran with; a
    # pin outside pyproject's range would make pip fail, and a declared dependency left unpinned would float
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert '-m pip install --quiet -c constraints.txt -e ".[dev,dask]"' in makefile
    pins, project = _pins(), _pyproject()["project"]
    extras = project["optional-dependencies"]
    for req in map(Requirement, project["dependencies"] + extras["dev"] + extras["dask"] + extras["parquet"]):
        name = canonicalize_name(req.name)
        if name == "torch":  # the Makefile's TORCH_PIN installs it, from a local CPU build where there is one
            assert name not in pins
            pin = next(line for line in makefile.splitlines() if line.startswith("TORCH_PIN :="))
            assert pin.split("==")[1] in req.specifier, pin
        elif req.marker is None or req.marker.evaluate():
            assert name in pins and pins[name] in req.specifier, (req, pins.get(name))
