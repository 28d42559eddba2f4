"""The training loader's shuffling: one seeded permutation per epoch, read lazily."""

from __future__ import annotations

import itertools
import tracemalloc

import torch

from tsrec.estimators._batches import PERMUTATION_SLICE, EpochPermutation


def test_each_pass_is_the_next_permutation_of_the_seeded_generator():
    n = 3 * PERMUTATION_SLICE + 5  # slices and a partial last one
    sampler = EpochPermutation(n, seed=7)
    generator = torch.Generator().manual_seed(7)
    for _ in range(2):  # two epochs: two draws of one generator
        assert list(sampler) == torch.randperm(n, generator=generator).tolist()


def test_the_first_batches_of_a_pass_do_not_turn_every_index_into_a_python_int():
    sampler = EpochPermutation(2_000_000, seed=0)
    tracemalloc.start()
    try:
        first = list(itertools.islice(iter(sampler), 64))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(set(first)) == 64
    assert peak < 2_000_000  # bytes; a list of all 2 million indices takes over 60 MB
