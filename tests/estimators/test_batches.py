"""The training loader's shuffling: one seeded permutation per epoch, read lazily."""

from __future__ import annotations

import itertools
import tracemalloc

import pytest
import torch

from tsrec.estimators._batches import PERMUTATION_SLICE, BatchGroups, EpochPermutation


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


def groups_of(n_batches: int, size: int) -> tuple[list, list]:
    """The batches of a loader of ``n_batches`` and its BatchGroups of ``size``."""
    loader = [torch.full((2,), float(i)) for i in range(n_batches)]
    return loader, list(BatchGroups(loader, size))


def test_groups_hand_the_step_the_loaders_batches_in_order_one_at_a_time():
    loader, groups = groups_of(10, 4)  # made before any is read, as Lightning reads the next step's ahead
    assert [len(g) for g in groups] == [4, 4, 2]
    seen = [batch for group in groups for batch in group.once()]
    assert all(a is b for a, b in zip(seen, loader)) and len(seen) == 10
    with pytest.raises(RuntimeError, match="batch 0 of this group was trained on and let go; read a group's"):
        groups[0][0]


def test_a_later_group_read_first_leaves_the_earlier_ones_their_batches():
    loader, groups = groups_of(7, 3)
    assert groups[2][0] is loader[6]  # reads groups 0 and 1 to their end first, and keeps them
    assert [b for b in groups[1].once()] == loader[3:6] and groups[0][:] == loader[:3]


def test_batches_a_callback_reads_before_the_step_are_kept_for_it():
    loader, (group, _) = groups_of(5, 3)
    assert group[1] is loader[1] and group[-3] is loader[0]
    assert [b for b in group.once()] == loader[:3]
    assert group[1] is loader[1]
    with pytest.raises(RuntimeError, match="trained on and let go"):
        group[2]
    with pytest.raises(IndexError):
        group[3]


def test_lightning_moves_a_group_without_reading_it():
    # a collections.abc.Sequence would be rebuilt element by element, every batch read up front
    from lightning.fabric.utilities.apply_func import move_data_to_device

    loader, (group, _) = groups_of(4, 2)
    assert move_data_to_device(group, torch.device("cpu")) is group
    assert [b for b in group.once()] == loader[:2]  # nothing was read or kept before the step


def test_a_loader_shorter_than_its_length_is_named():
    class Short(list):
        def __len__(self):
            return 5

    group = next(iter(BatchGroups(Short([torch.zeros(1)] * 3), 5)))
    with pytest.raises(RuntimeError, match="the loader ended before its length, 3 batches into a group of 5"):
        list(group.once())
