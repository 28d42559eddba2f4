"""Loaders that hand a dataset whole batches of indices, shuffled once per epoch from a seed, and
their grouping into Lightning steps."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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
    """Iterate ``loader`` in :class:`BatchGroup` s of up to ``size`` consecutive batches, one per
    Lightning step; ``prepare`` is applied to each batch as it is read (see :class:`BatchGroup`)."""

    def __init__(self, loader: DataLoader, size: int, prepare: Callable[[object], object] | None = None) -> None:
        self.loader = loader
        self.size = size
        self.prepare = prepare

    def __len__(self) -> int:
        return -(-len(self.loader) // self.size)

    def __iter__(self) -> Iterator[BatchGroup]:
        batches, total, group = iter(self.loader), len(self.loader), None
        for start in range(0, total, self.size):
            group = BatchGroup(batches, min(self.size, total - start), group, self.prepare)
            yield group


class BatchGroup:
    """Up to ``size`` consecutive batches of a loader, a Lightning step's, read from the loader one
    at a time as the step trains on them (:meth:`once`).

    Read as a list up front (Lightning also reads the next step's batch before this one's runs),
    eight batches of CycleNet's windows were held at once, and the engine took 12-15% longer an
    epoch than a bare loop, against 6-7% read one at a time (``benchmarks/engine.py``). The step
    lets each batch go after training on it. A callback may still index or iterate the group
    before the step (on_train_batch_start): what it reads is kept, and the step trains on those.
    A group reads the groups before it to their end first, so batches keep the loader's order.
    It is no ``collections.abc.Sequence``: Lightning would rebuild one, reading every batch. So
    Lightning does not look into it either, and ``prepare`` does what it does to a step's batch
    (the precision's cast, the move to the device) to each batch read.
    """

    def __init__(self, batches: Iterator, size: int, before: BatchGroup | None,
                 prepare: Callable[[object], object] | None = None) -> None:
        self._batches, self._size, self._before = batches, size, before
        self._prepare = prepare
        self._kept: dict[int, object] = {}
        self._read = 0  # batches taken from the loader so far

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int | slice) -> object:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._size))]
        position = index + self._size if index < 0 else index
        if not 0 <= position < self._size:
            raise IndexError(f"batch {index} of a group of {self._size}")
        if position not in self._kept and position < self._read:
            raise RuntimeError(
                f"batch {index} of this group was trained on and let go; read a group's batches before its step "
                "(on_train_batch_start), or have each batch as its own step (e.g. trainer_kwargs={'max_steps': -1} "
                "or any option that counts steps)"
            )
        while self._read <= position:
            self._keep_next()
        return self._kept[position]

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(self._size))

    def once(self) -> Iterator:
        """The batches in order, each read when reached and not kept (those read before are)."""
        for position in range(self._size):
            yield self._kept[position] if position in self._kept else self._next()

    def _next(self) -> object:
        if self._before is not None:
            self._before._read_to_end()
            self._before = None  # read: no chain of groups kept alive
        try:
            batch = next(self._batches)
        except StopIteration:
            raise RuntimeError(f"the loader ended before its length, {self._read} batches into a group of "
                               f"{self._size}") from None
        self._read += 1
        return batch if self._prepare is None else self._prepare(batch)

    def _keep_next(self) -> None:
        batch = self._next()
        self._kept[self._read - 1] = batch

    def _read_to_end(self) -> None:
        while self._read < self._size:
            self._keep_next()
