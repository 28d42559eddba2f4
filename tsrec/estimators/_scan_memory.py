"""An up-front memory check of Chimera's training.

Each selective 2-D SSM keeps state-sized grids for its backward pass, one value per (window,
time step, variate, channel, state): its two states, its two time decays and its inputs, 4.6
grids (:mod:`tsrec.kernels.scan2d.variate_sweep`). A Chimera layer runs four of them, so one
training batch holds at least ``4 * 4.6 * batch * lookback * variates * d_model * d_state``
values. That grows with the variates: one batch at the defaults took about 49 MiB a variate (4.8
GiB at 100, 1.78 times the bound; ``benchmarks/results/chimera_memory.md``), and at hundreds of
variates Linux's out-of-memory killer ended the process before torch could fail with a message.

Recomputing each 2-D SSM in backward (:func:`tsrec.nn.chimera.recompute_scans`, the estimators'
``gradient_checkpointing``) keeps one head's grids at a time, for one more forward pass of the scans.
"""

from __future__ import annotations

import torch

from tsrec.kernels._checks import ALWAYS_FITS, device_memory

#: state-sized grids one selective 2-D SSM keeps for its backward, a lower bound of its working set
GRIDS_KEPT = 4.6
#: 2-D SSMs of a Chimera layer: a trend and a seasonal head, each in both variate directions
HEADS_PER_LAYER = 4
#: measured peak over the bound, rounded up (1.5-1.78 in ``benchmarks/results/chimera_memory.md``)
PEAK_PER_BOUND = 2
#: the smallest measured peak over the bound, grids kept (False) or recomputed (True: the recomputed
#: head's backward pass holds several grids more; 2.8-3.65): a batch takes at least that
SMALLEST_PEAK_PER_BOUND = {False: 1.5, True: 2.8}
RECOMPUTE_CHOICES = ("auto", True, False)


def training_bytes(est, config, n_variates: int, length: int, batch: int, recompute: bool = False) -> int:
    """A lower bound of the bytes one training batch of a Chimera estimator ``est`` keeps.

    Recomputing the scans in backward (``recompute``), one head's grids live at a time.
    """
    itemsize = 8 if "64" in str(config.precision) else 4
    cells = batch * length * n_variates * est.d_model * est.d_state
    heads = 1 if recompute else HEADS_PER_LAYER * est.e_layers
    return int(GRIDS_KEPT * heads * cells * itemsize)


def plan_chimera_training_memory(est, config, n_variates: int, length: int, batch: int) -> bool:
    """Whether training recomputes the scans in backward; refuses a fit whose batches cannot fit.

    ``gradient_checkpointing="auto"`` recomputes where keeping the grids would likely not fit:
    twice the bound (the measured peak was up to 1.78 times it) above the memory. A fit is refused
    where the bound times the smallest peak over it measured (:data:`SMALLEST_PEAK_PER_BOUND`)
    exceeds the memory. Only the selective 2-D SSMs are counted: ``selective=False`` runs each as
    a convolution.
    """
    choice = est.gradient_checkpointing
    if not est.selective:
        return False
    device = _training_device(config)
    memory, where = device_memory(device) if device is not None else (None, "")
    keep = training_bytes(est, config, n_variates, length, batch)
    recompute = (choice == "auto" and memory is not None and PEAK_PER_BOUND * keep > memory) or (
        choice != "auto" and bool(choice))
    # the grids, times the smallest peak over them measured: less than a batch took
    need = SMALLEST_PEAK_PER_BOUND[recompute] * training_bytes(est, config, n_variates, length, batch, recompute)
    if memory is None or need <= max(memory, ALWAYS_FITS):
        return recompute
    raise ValueError(
        f"{type(est).__name__} would take at least {need / 2**30:.3g} GiB for one training batch (batch_size "
        f"{batch} x {length} time steps x {n_variates} variates x d_model={est.d_model} x d_state={est.d_state}, "
        + ("one 2-D SSM recomputed at a time" if recompute else f"four 2-D SSMs a layer, e_layers={est.e_layers}")
        + f"), more than the {memory / 2**30:.3g} GiB of memory {where}; "
        + ("" if recompute else "use gradient_checkpointing='auto' or True (the scans recomputed in backward), ")
        + "lower batch_size (and keep the effective batch with trainer_kwargs={'accumulate_grad_batches': k}), "
        "d_model or d_state, or use selective=False (2-D convolutions)"
    )


def _training_device(config) -> torch.device | None:
    """The device Lightning trains on, where its memory can be read (CPU or CUDA)."""
    accelerator = str(config.accelerator).lower()
    if accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return None
