"""Benchmark data loaders, the papers' splits, and synthetic series with known answers."""

from tsrec.datasets.ltsf import load_ett, load_ltsf, ltsf_borders, ltsf_split
from tsrec.datasets.synthetic import make_ar, make_seasonal
from tsrec.datasets.ucr import list_ucr, load_ucr
from tsrec.errors import UnpublishedDataWarning

__all__ = [
    "UnpublishedDataWarning", "list_ucr", "load_ett", "load_ltsf", "load_ucr", "ltsf_borders", "ltsf_split", "make_ar",
    "make_seasonal",
]
