"""Benchmark data loaders, the papers' splits, and synthetic series with known answers."""

from tsrec.datasets.ltsf import load_ett, load_ltsf, ltsf_borders, ltsf_split
from tsrec.datasets.synthetic import make_ar, make_seasonal

__all__ = ["load_ett", "load_ltsf", "ltsf_borders", "ltsf_split", "make_ar", "make_seasonal"]
