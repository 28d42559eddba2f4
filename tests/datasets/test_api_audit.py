"""Arguments of the public loaders, splits and generators that used to pass silently or fail unnamed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrec.datasets import list_ucr, load_ett, load_ltsf, load_ucr, ltsf_borders, ltsf_split, make_ar, make_seasonal
from tsrec.datasets._checks import closest_names, did_you_mean
from tsrec.errors import InputFileNotFoundError


@pytest.mark.parametrize(
    ("call", "name", "suggestion"),
    [(load_ltsf, "ETTH1", "ETTh1"), (load_ltsf, "Weather", "weather"), (load_ett, "etth2", "ETTh2"),
     (lambda name: ltsf_borders(name, 100), "Illness", "illness")],
)
def test_a_miscased_name_is_named_with_the_right_one(call, name, suggestion):
    with pytest.raises(ValueError, match=rf"name='{name}' \(did you mean '{suggestion}'\? names are case-sensitive\)"):
        call(name)


@pytest.mark.parametrize(("name", "hint"), [
    ("weather_data", "(did you mean 'weather'?)"),  # not a case slip: "names are case-sensitive" misled
    ("ETTh", "(did you mean 'ETTh1' or 'ETTh2'?)"),  # equally close: naming one of them was a guess
    (" ETTh1", "(did you mean 'ETTh1'? the name has spaces around it)"),
])
def test_a_close_name_is_told_what_differs(name, hint):
    with pytest.raises(ValueError) as info:
        load_ltsf(name)
    assert f"name={name!r} {hint}; choose one of" in str(info.value)


def test_a_miscased_ucr_name_is_named_with_the_right_one(data_dir: Path) -> None:
    with pytest.raises(InputFileNotFoundError, match=r"'gunpoint' \(train\) \(did you mean 'GunPoint'\?") as info:
        load_ucr("gunpoint", data_dir=data_dir)
    # the fix is the name as its files spell it: "Put GunPoint_TRAIN.ts in ..." asked for a file already there
    assert str(info.value).endswith("\nPass name='GunPoint': its files are in a folder searched.")
    assert "Put " not in str(info.value)
    with pytest.raises(InputFileNotFoundError) as info:  # nothing close: no guess
        load_ucr("Nothing", data_dir=data_dir)
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_a_data_dir_that_is_no_folder_is_named(kind: str, data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "MANIFEST.md" if kind == "file" else tmp_path / "no-such-folder"
    match = "is a file, not a folder" if kind == "file" else "does not exist"
    for call in (lambda: load_ltsf("ETTm1", folder), lambda: load_ucr("GunPoint", data_dir=folder),
                 lambda: list_ucr(folder)):  # list_ucr returned [] for both
        with pytest.raises(InputFileNotFoundError, match=re.escape(f"data_dir '{folder}' {match}")):
            call()


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_ltsf_split_refuses_rows_out_of_time_order(order: str) -> None:
    df = load_ett("ETTh1")
    df = df.iloc[::-1] if order == "reversed" else df.sample(frac=1, random_state=0)
    with pytest.raises(ValueError, match="df's rows are not in time order; sort them first"):
        ltsf_split(df, "ETTh1", 96)


def test_ltsf_split_checks_the_step_of_a_period_index() -> None:
    df = load_ett("ETTh1")
    quarter_hours = df.set_axis(pd.period_range("2016-07-01", periods=len(df), freq="15min"))
    with pytest.raises(ValueError, match="df is sampled every 15min but ETTh1 every h"):
        ltsf_split(quarter_hours, "ETTh1", 96)
    hourly = df.set_axis(df.index.to_period())
    assert [len(part) for part in ltsf_split(hourly, "ETTh1", 96)] == [8640, 2976, 2976]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"start": 2024}, "start must be a date"), ({"start": 1.5}, "start must be a date"),
     ({"freq": "-1h"}, "freq must be a positive pandas frequency"), ({"freq": "0h"}, "freq must be a positive"),
     ({"freq": "YS", "n_samples": 10**6}, "n_samples=1000000 steps of freq='YS' .* run past the last date")],
)
def test_make_seasonal_refuses_an_index_that_is_not_forward_in_time(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_seasonal(**{"n_samples": 10, **kwargs})


@pytest.mark.parametrize("coefficients", [[True], [False], [0.5, True], ["0.5"], [np.bool_(False)]])
def test_make_ar_refuses_bool_and_string_coefficients(coefficients: list) -> None:
    with pytest.raises(ValueError, match=r"coefficients must be .* \(real, not bools or strings\)"):
        make_ar(coefficients, n_samples=10)


def test_make_ar_takes_numbers_of_any_kind() -> None:
    expected = make_ar((0.5, 0.0), n_samples=20)
    for coefficients in (np.array([0.5, 0.0]), pd.Series([0.5, 0]), [np.float32(0.5), np.int64(0)]):
        pd.testing.assert_series_equal(make_ar(coefficients, n_samples=20), expected)


def test_generators_are_reproducible_per_seed() -> None:
    pd.testing.assert_series_equal(make_ar(random_state=3), make_ar(random_state=np.int64(3)))
    assert not make_ar(random_state=3).equals(make_ar(random_state=4))
    first, second = make_seasonal(random_state=3), make_seasonal(random_state=3)
    pd.testing.assert_frame_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not make_seasonal(random_state=None)[0].equals(make_seasonal(random_state=None)[0])


@pytest.mark.parametrize("load, path", [(load_ucr, "/data/UCR_UEA/GunPoint/GunPoint_TRAIN.ts"),
                                        (load_ltsf, "/data/ETT/ETTh1.csv"), (load_ltsf, "ETTh1.csv")])
def test_a_files_path_given_as_the_name_is_told_to_go_in_data_dir(load, path):
    # "unknown data set name='/data/ETT/ETTh1.csv'" did not say that a path is no name
    with pytest.raises(ValueError, match=r"\(the loaders take a data set's name, not a file's path: pass the name and "
                                         r"the folder that holds its files as data_dir=\)"):
        load(path)


@pytest.mark.parametrize("name, hint", [("ILI", "the papers' ILI set is 'illness'"),
                                        ("exchange", "its name is 'exchange_rate'"),
                                        ("electricity", "not shipped: electricity's file is about 95 MB"),
                                        ("Traffic", "not shipped")])
def test_other_names_of_the_long_term_sets_are_told_what_to_pass(name, hint):
    with pytest.raises(ValueError, match=rf"unknown data set name='{name}' \({re.escape(hint)}.*\); choose one of"):
        load_ltsf(name)
    with pytest.raises(ValueError, match=re.escape(hint)):
        ltsf_borders(name, 1000)


@pytest.mark.parametrize("n_rows", [1, 4])
def test_borders_of_too_few_rows_for_a_70_10_20_split_are_refused(n_rows):
    # (0, 1, 1) and (2, 4, 4) came back without a word: an empty training or test part
    with pytest.raises(ValueError, match=rf"n_rows={n_rows} is too few for illness's 70/10/20 split: at least 5 rows"):
        ltsf_borders("illness", n_rows)
    assert ltsf_borders("illness", 5) == (3, 4, 5) and ltsf_borders("ETTh1", 1)[0] == 8640  # ETT's are fixed


def test_a_name_exactly_at_the_cutoff_is_still_hinted():
    # difflib's cutoff 0.6 is inclusive (get_close_matches keeps ratio >= cutoff): 'ETTxy' is 0.6 from each ETT set
    with pytest.raises(ValueError, match=r"name='ETTxy' \(did you mean 'ETTh1' or 'ETTh2' or 'ETTm1' or 'ETTm2'\?\)"):
        load_ltsf("ETTxy")


def test_equally_close_names_are_named_in_sorted_order_whatever_order_they_come_in():
    # load_ucr's names found on disk are a set: the message and its 'Pass name=' fix must not depend on its order
    assert did_you_mean("ETTh", ["ETTh2", "ETTh1"]) == " (did you mean 'ETTh1' or 'ETTh2'?)"
    assert closest_names("ETTh", ["ETTh2", "ETTh1"]) == ["ETTh1", "ETTh2"]


def test_a_case_slip_with_spaces_around_it_is_still_a_case_slip():
    with pytest.raises(ValueError, match=r"name=' etth1 ' \(did you mean 'ETTh1'\? names are case-sensitive, and "
                                         r"the name has spaces around it\)"):
        load_ett(" etth1 ")


def test_equally_close_ucr_names_are_not_given_one_of_them_as_the_fix(tmp_path: Path) -> None:
    # "did you mean 'Foo1' or 'Foo2'?" then "Pass name='Foo1'" picked one of the two for the user
    for name in ("Foo1", "Foo2"):
        folder = tmp_path / "UCR_UEA" / name
        folder.mkdir(parents=True)
        (folder / f"{name}_TRAIN.ts").write_text(f"@problemName {name}\n@classLabel true 1 2\n@data\n1,2,3:1\n")
    with pytest.raises(InputFileNotFoundError, match=r"\(did you mean 'Foo1' or 'Foo2'\?\)") as info:
        load_ucr("Foo", data_dir=tmp_path)
    assert "Pass name=" not in str(info.value)


def test_a_ucr_name_whose_other_split_is_there_is_not_told_to_mend_its_spelling(tmp_path: Path) -> None:
    # GunPoint's test file is found, its train file is not: the name is right, so no "did you mean 'GunPoint'?
    # the name has spaces around it" nor "Pass name='GunPoint'"
    folder = tmp_path / "UCR_UEA" / "GunPoint"
    folder.mkdir(parents=True)
    (folder / "GunPoint_TEST.ts").write_text("@problemName GunPoint\n@classLabel true 1 2\n@data\n1,2,3:1\n")
    with pytest.raises(InputFileNotFoundError) as info:
        load_ucr("GunPoint", data_dir=tmp_path)
    assert "did you mean" not in str(info.value) and "Pass name=" not in str(info.value)


def test_a_data_dir_that_does_not_exist_says_what_none_does(tmp_path):
    # the empty one's message says it; a missing folder's said only "or None", which searches where?
    with pytest.raises(InputFileNotFoundError, match=r"does not exist; pass the folder that holds the data files, "
                       r"or None to search \$TSREC_DATA and the checkout's \.\./shared/data"):
        load_ltsf("ETTh1", data_dir=tmp_path / "no-such-folder")
