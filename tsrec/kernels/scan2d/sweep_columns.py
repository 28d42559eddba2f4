"""The variate sweep's inputs a column at a time, shared by its forward pass and its adjoint."""

from __future__ import annotations

from typing import NamedTuple

import torch


class ColumnInputs(NamedTuple):
    """The per-cell inputs in column-major layout, ``(V, B, T, D)`` or ``(V, B, T, N)``, contiguous,
    so that a column is one dense block."""

    x: torch.Tensor
    d1: torch.Tensor
    d2: torch.Tensor
    B1: torch.Tensor
    B2: torch.Tensor
    C1: torch.Tensor
    C2: torch.Tensor

    @classmethod
    def of(cls, x, d1, d2, BC) -> ColumnInputs:
        """From ``(B, T, V, F)`` tensors."""
        return cls(*(t.permute(2, 0, 1, 3).contiguous() for t in (x, d1, d2, *BC)))


def sweep_order(nvar: int, reverse: bool) -> range:
    """The columns in scan order."""
    return range(nvar - 1, -1, -1) if reverse else range(nvar)


def time_decays(cols: ColumnInputs, v: int, A) -> tuple:
    """``exp(delta1 A1), exp(delta1 A2)`` of column ``v`` (B, T, D, N); None for an absent ``A2``."""
    steps = _along_states(cols.d1[v], A[0].shape[1])
    # in place where a buffer is free: on grids this size, each fresh one costs about as much as the op
    return (steps * A[0]).exp_(), None if A[1] is None else steps.mul_(A[1]).exp_()


def variate_decays(cols: ColumnInputs, v: int, A) -> tuple:
    """``exp(delta2 A3), exp(delta2 A4)`` of column ``v`` (B, T, D, N); None for an absent ``A3``."""
    steps = _along_states(cols.d2[v], A[0].shape[1])
    return None if A[2] is None else (steps * A[2]).exp_(), steps.mul_(A[3]).exp_()


def _along_states(step: torch.Tensor, n_state: int) -> torch.Tensor:
    """(B, T, D) -> (B, T, D, N), contiguous: products with it then run at full speed, where ones
    broadcast along the short state axis are several times slower. On a CPU a matmul with a row of
    ones makes it faster than a broadcast copy (and exactly: times 1); elsewhere the copy, since a
    GPU's matmul may round its inputs to TF32."""
    if step.device.type == "cpu":
        return torch.mm(step.reshape(-1, 1), step.new_ones(1, n_state)).view(*step.shape, n_state)
    return step.unsqueeze(-1).expand(*step.shape, n_state).contiguous()


def dot_states(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``sum_N h w``: (B, T, D, N) with (B, T, N) -> (B, T, D); on a CPU as a batched matmul (faster than
    a product broadcast along the short state axis and its sum), elsewhere not (TF32, above)."""
    if h.device.type == "cpu":
        return (h @ w.unsqueeze(-1)).squeeze(-1)
    return (h * w.unsqueeze(-2)).sum(-1)
