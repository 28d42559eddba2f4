"""Loaders that hand a dataset whole batches of indices, shuffled once per epoch from a seed, and
their grouping into Lightning steps."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler


#: window indices turned into Python ints at a time
PERMUTATION_SLICE = 4096


class EpochPermutation(Sampler[int]):
    """One random permutation of ``range(n)`` per pass, drawn from a seeded generator.

    torch's ``RandomSampler`` draws one more permutation when a pass runs to exhaustion rather
    than stopping after the last batch, so its order in the next epoch would depend on how the
    training loop iterates; here each epoch draws exactly one permutation.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(self.n, generator=self.generator)
        # a slice at a time: a list of every index costs about 40 bytes a window (40 MB for a
        # million), and a pass that trainer_kwargs limits reads only its first batches
        for start in range(0, self.n, PERMUTATION_SLICE):
            yield from order[start:start + PERMUTATION_SLICE].tolist()


def batch_loader(dataset: Dataset, batch_size: int, shuffle: bool, seed: int, drop_last: bool = False) -> DataLoader:
    """A DataLoader whose dataset's ``__getitem__`` takes a list of indices and returns a batch."""
    n = len(dataset)
    sampler = EpochPermutation(n, seed) if shuffle else SequentialSampler(range(n))
    return DataLoader(dataset, sampler=BatchSampler(sampler, batch_size=batch_size, drop_last=drop_last),
                      batch_size=None)


class BatchGroups:
    """Iterate ``loader`` in lists of up to ``size`` consecutive batches, one per Lightning step."""

    def __init__(self, loader: DataLoader, size: int) -> None:
        self.loader = loader
        self.size = size

    def __len__(self) -> int:
        return -(-len(self.loader) // self.size)

    def __iter__(self) -> Iterator[list]:
        batches = iter(self.loader)
        while group := list(itertools.islice(batches, self.size)):
            yield group
