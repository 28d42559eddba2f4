"""Optimiser parameter groups that networks ask for, as S4's training code does for its SSM parameters."""

from __future__ import annotations

from torch import nn

#: S4's cap on the learning rate of the state-space parameters (``lr = min(1e-3, lr)``)
SSM_MAX_LR = 1e-3


def optimizer_groups(network: nn.Module, lr: float, weight_decay: float) -> list[dict]:
    """Parameter groups for ``network``: the state-space parameters apart, the rest as given.

    A module that defines ``ssm_parameters()`` (the S4 layers: step size, ``A`` and, for NPLR,
    ``P`` and ``B``) gets those trained at ``min(SSM_MAX_LR, lr)`` without weight decay, as in
    S4 and LS4: they set the time scales of the whole stack and are easily pushed out of their
    stable range by a large step. Every other parameter trains at ``lr`` with ``weight_decay``
    (each group names its own, so the optimiser's defaults are not needed).

    Examples
    --------
    >>> from tsrec.nn.s4 import S4Stack
    >>> groups = optimizer_groups(S4Stack(d_model=4, n_layers=1, d_state=4), lr=1e-2, weight_decay=0.1)
    >>> [(len(g["params"]), g.get("lr"), g.get("weight_decay")) for g in groups]
    [(14, 0.01, 0.1), (5, 0.001, 0.0)]
    """
    ssm = {id(p) for module in network.modules() if hasattr(module, "ssm_parameters")
           for p in module.ssm_parameters()}
    rest = [p for p in network.parameters() if id(p) not in ssm]
    special = [p for p in network.parameters() if id(p) in ssm]
    groups = [{"params": rest, "lr": lr, "weight_decay": weight_decay}] if rest else []
    if special:
        groups.append({"params": special, "lr": min(SSM_MAX_LR, lr), "weight_decay": 0.0})
    return groups
