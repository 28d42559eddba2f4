"""The torch path of :func:`~tsrec.kernels.recurrent.ltc.ltc_scan`, with a hand-written backward.

The solver takes ``time * ode_unfolds`` small sequential updates, so autograd's bookkeeping (a
graph node per operation, two ``(batch, U, U)`` gate tensors kept per update) cost more than the
arithmetic. Here the forward runs without a graph and keeps, per update, only the state entering
it and its denominator (``batch, U`` each, in one buffer); the backward recomputes each update's
gates and walks the adjoint written out in ``ltc_triton``'s docstring over steps and updates in
reverse. Past ``KEEP_UPDATES_BELOW_BYTES`` the forward keeps only the states after each input
step, and the backward recomputes each step's updates from its entering state.
``benchmarks/results/ltc_backward.md`` times both against autograd through the same loop.

The backward also holds four ``(batch, U, U)`` parameter-gradient sums (64 MiB at batch 1024,
64 units, float32). With ``create_graph=True`` (a Hessian, a gradient penalty) and inside ``torch.func``
transforms it instead reruns the loop and differentiates it with ``torch.func.vjp``, so that
second derivatives hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._autocast import without_autocast
from .._autograd import HandWrittenBackward, batched_grads_explained

# the backward recomputes the states entering each update, step by step, unless keeping them
# takes less than this many bytes (the states after each input step are kept in any case)
KEEP_UPDATES_BELOW_BYTES = 256 * 2**20
_sigmoid_backward = torch.ops.aten.sigmoid_backward  # d_out * s * (1 - s) in one op; looked up once


def solve_step(
    num: torch.Tensor, den: torch.Tensor, v: torch.Tensor, params: Sequence[torch.Tensor], ode_unfolds: int,
    trail: torch.Tensor | None = None,
) -> torch.Tensor:
    """The state after one input step's ``ode_unfolds`` updates from ``v`` (``batch, U``).

    ``num`` and ``den`` are the step's constant numerator and denominator terms (leaks, input
    synapses, epsilon). When given, ``trail`` ``(ode_unfolds, 2, batch, U)`` gets each update's
    entering state and denominator.
    """
    cm_t, _, _, w, w_erev, sigma, mu = params
    if trail is None:
        kept = [(None, None)] * ode_unfolds
    else:  # written in place into one buffer: many small kept tensors fragmented the heap
        if trail.shape[0] != ode_unfolds:  # the loop runs once per kept update
            raise ValueError(f"trail holds {trail.shape[0]} updates, but ode_unfolds is {ode_unfolds}")
        kept = zip(*(x.unbind(0) for x in trail.unbind(1)))
    for entering, denominator_out in kept:
        gate = torch.sigmoid(sigma * (v[:, :, None] - mu))  # (batch, pre i, post j)
        numerator = torch.addcmul(num + (gate * w_erev).sum(dim=1), cm_t, v)
        if entering is None:
            denominator = den + (gate * w).sum(dim=1)
        else:
            entering.copy_(v)
            denominator = torch.add(den, (gate * w).sum(dim=1), out=denominator_out)
        v = numerator / denominator
    return v


def step_constants(
    terms_t: torch.Tensor, params: Sequence[torch.Tensor], epsilon: float, rate_t: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A step's constant numerator and denominator terms from its input-synapse ``terms_t``; with
    ``rate_t`` (``batch``: 1 / the step's length), ``leak_den``'s capacitance scaled by it."""
    sensory_num, sensory_den = terms_t.chunk(2, dim=-1)
    den = params[2] + sensory_den + epsilon
    if rate_t is not None:
        den = torch.addcmul(den, params[0], rate_t[:, None] - 1.0)
    return params[1] + sensory_num, den


def step_params(params: Sequence[torch.Tensor], rate_t: torch.Tensor | None) -> Sequence[torch.Tensor]:
    """The parameters of one step: ``cm_t`` per batch row ``cm_t * rate_t`` when steps differ in length."""
    return params if rate_t is None else (params[0] * rate_t[:, None], *params[1:])


def rate_at(rates: torch.Tensor | None, t: int) -> torch.Tensor | None:
    """Step ``t``'s rates (``batch``), or None for unit steps."""
    return None if rates is None else rates[:, t]


def solve(
    terms: torch.Tensor, v0: torch.Tensor, params: Sequence[torch.Tensor], ode_unfolds: int, epsilon: float,
    trail: torch.Tensor | None = None, rates: torch.Tensor | None = None,
) -> torch.Tensor:
    """States ``(batch, time, U)`` after each step of ``terms`` from ``v0``; ``trail``, when given,
    ``(time, ode_unfolds, 2, batch, U)``, gets every update's entering state and denominator;
    ``rates`` ``(batch, time)``, when given, are 1 / each step's length."""
    out, v = [], v0
    for t, terms_t in enumerate(terms.unbind(1)):
        rate_t = rate_at(rates, t)
        v = solve_step(*step_constants(terms_t, params, epsilon, rate_t), v, step_params(params, rate_t),
                       ode_unfolds, None if trail is None else trail[t])
        out.append(v)
    return torch.stack(out, dim=1)


def trail_bytes(terms: torch.Tensor, ode_unfolds: int) -> int:
    """Bytes of the entering states and denominators of every update over ``terms``."""
    batch, time, two_units = terms.shape
    return batch * time * ode_unfolds * two_units * terms.element_size()


class _Accumulators:
    """Parameter gradients summed per batch row: four in-place operations a solver update and one
    a step, and no reduction over the batch until the end (``4 * batch * U * U`` elements)."""

    def __init__(self, v0: torch.Tensor, units: int) -> None:
        grid = (v0.shape[0], units, units)
        self.sigma, self.mu, self.w_erev, self.w = (v0.new_zeros(grid) for _ in range(4))
        self.cm = v0.new_zeros(v0.shape)

    def add_update(self, d_num_j, d_den_neg_j, d_pre, d_pre_sigma, gate, offset) -> None:
        """One update's terms; ``d_num_j`` and ``d_den_neg_j`` are ``(batch, 1, U)``."""
        self.sigma.addcmul_(d_pre, offset)
        self.mu.add_(d_pre_sigma)
        self.w_erev.addcmul_(gate, d_num_j)
        self.w.addcmul_(gate, d_den_neg_j)

    def add_step(self, d_nums: torch.Tensor, entering: torch.Tensor, rate_t: torch.Tensor | None) -> None:
        """``cm_t``'s term of a whole step: its updates' ``d_num`` and entering states ``(K, batch, U)``."""
        step = (d_nums * entering).sum(dim=0)
        self.cm += step if rate_t is None else step * rate_t[:, None]

    def gradients(self, d_terms: torch.Tensor, rates: torch.Tensor | None) -> list[torch.Tensor]:
        """Gradients of ``(cm_t, leak_num, leak_den, w, w_erev, sigma, mu)``."""
        # two tensors, not two views of one sum: each becomes a parameter's .grad
        d_num, d_den = (half.clone() for half in d_terms.sum(dim=(0, 1)).chunk(2))
        d_cm = self.cm.sum(0)
        if rates is not None:  # the capacitance in each step's denominator constant
            d_cm = d_cm + torch.einsum("btu,bt->u", d_terms[..., d_terms.shape[-1] // 2:], rates - 1.0)
        return [d_cm, d_num, d_den, -self.w.sum(0), self.w_erev.sum(0), self.sigma.sum(0), -self.mu.sum(0)]


def _step_adjoint(
    a: torch.Tensor, v_out: torch.Tensor, trail: torch.Tensor, params: Sequence[torch.Tensor],
    acc: _Accumulators | None, rate_t: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Adjoints of one input step's updates, last first: from ``a`` (dL/d its final state
    ``v_out``) to dL/d its entering state, and dL/d its constant numerator and denominator.

    ``trail`` ``(K, 2, batch, U)`` holds each update's entering state and denominator; ``params``
    are the step's (:func:`step_params`), ``rate_t`` its rates for ``cm_t``'s gradient.
    """
    cm_t, _, _, w, w_erev, sigma, mu = params
    entering, denominators = trail.unbind(1)
    d_nums, d_dens_neg = torch.empty_like(trail).unbind(1)  # per update, summed once a step
    # each update's tensors as views made once a step: indexing them anew in the loop cost more
    updates = list(zip(*(x.unbind(0) for x in (entering, denominators, d_nums, d_dens_neg))))
    for v, denominator, d_num_out, d_den_neg_out in reversed(updates):
        d_num = torch.div(a, denominator, out=d_num_out)  # dL/dN; dL/dD = -d_num * v_out
        d_den_neg = torch.mul(d_num, v_out, out=d_den_neg_out)
        d_num_j, d_den_neg_j = d_num.unsqueeze(1), d_den_neg.unsqueeze(1)  # along post-synaptic j
        offset = v.unsqueeze(2) - mu
        gate = torch.sigmoid(sigma * offset)
        d_gate = torch.addcmul(d_num_j * w_erev, d_den_neg_j, w, value=-1)
        d_pre = _sigmoid_backward(d_gate, gate)
        d_pre_sigma = d_pre * sigma
        a = torch.addcmul(d_pre_sigma.sum(dim=2), d_num, cm_t)
        if acc is not None:
            acc.add_update(d_num_j, d_den_neg_j, d_pre, d_pre_sigma, gate, offset)
        v_out = v
    if acc is not None:
        acc.add_step(d_nums, entering, rate_t)
    return a, d_nums.sum(dim=0), -d_dens_neg.sum(dim=0)


def adjoint(
    grad_states: torch.Tensor, terms: torch.Tensor, v0: torch.Tensor, states: torch.Tensor,
    params: Sequence[torch.Tensor], trail: torch.Tensor | None, ode_unfolds: int, epsilon: float,
    param_grads: bool, rates: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor] | None]:
    """Gradients of ``terms``, ``v0`` and (when ``param_grads``) the seven parameters."""
    time, units = terms.shape[1], v0.shape[1]
    acc = _Accumulators(v0, units) if param_grads else None
    d_terms = torch.empty_like(terms)
    a = torch.zeros_like(v0)
    recomputed = v0.new_empty(ode_unfolds, 2, *v0.shape) if trail is None else None
    for t in range(time - 1, -1, -1):
        a = a + grad_states[:, t]
        rate_t = rate_at(rates, t)
        params_t = step_params(params, rate_t)
        if trail is not None:
            step_trail = trail[t]
        else:  # recompute what the forward did not keep
            step_trail = recomputed
            entering = states[:, t - 1] if t else v0
            solve_step(*step_constants(terms[:, t], params, epsilon, rate_t), entering, params_t, ode_unfolds,
                       step_trail)
        a, d_terms[:, t, :units], d_terms[:, t, units:] = _step_adjoint(a, states[:, t], step_trail, params_t, acc,
                                                                         rate_t)
    return d_terms, a, None if acc is None else acc.gradients(d_terms, rates)


class LTCAdjoint(HandWrittenBackward):
    """:func:`solve` run without a graph, differentiated by :func:`adjoint` (``setup_context`` lets
    ``torch.func``'s ``grad``, ``vjp`` and ``jacrev`` through)."""

    @staticmethod
    def forward(terms, v0, ode_unfolds, epsilon, rates, *params):
        trail = None
        if trail_bytes(terms, ode_unfolds) < KEEP_UPDATES_BELOW_BYTES:
            trail = terms.new_empty(terms.shape[1], ode_unfolds, 2, *v0.shape)
        states = solve(terms, v0, params, ode_unfolds, epsilon, trail, rates)
        # the caller gets a copy, free to change in place: the backward reads the states saved
        return states.clone(), states, trail

    @staticmethod
    def vmap(info, in_dims, *args):  # noqa: D102 - autograd protocol
        # defined so that torch.func.hessian (jacfwd over jacrev) reaches the jvp refusal, whose message gives
        # the way out; PyTorch's said to implement this method
        raise RuntimeError("ltc_scan's torch path (a hand-written adjoint) does not run under torch.func.vmap, which "
                           "torch.func.hessian and jacfwd over a gradient use; use torch.autograd.functional.hessian, "
                           "or backend='naive' there (plain autograd, slower)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        terms, v0, ode_unfolds, epsilon, rates, *params = inputs
        _, states, trail = output
        ctx.save_for_backward(terms, v0, states, trail, rates, *params)
        ctx.settings = (ode_unfolds, epsilon)
        ctx.mark_non_differentiable(states, *(() if trail is None else (trail,)))

    @staticmethod
    @without_autocast
    def backward(ctx, grad_states, *_):
        terms, v0, states, trail, rates, *params = ctx.saved_tensors
        needs = ctx.needs_input_grad[:2] + ctx.needs_input_grad[5:]  # rates are data, not differentiated
        if torch.is_grad_enabled():  # create_graph=True: differentiate a recomputation instead
            return _differentiated_again(grad_states, (terms, v0, *params), needs, *ctx.settings, rates)
        with batched_grads_explained((grad_states,)):
            d_terms, d_v0, d_params = adjoint(grad_states.contiguous(), terms, v0, states, params, trail,
                                              *ctx.settings, param_grads=any(needs[2:]), rates=rates)
        grads = [d_terms, d_v0, *(d_params or [None] * len(params))]
        d_terms, d_v0, *d_params = (g if need else None for g, need in zip(grads, needs))
        return d_terms, d_v0, None, None, None, *d_params


def _differentiated_again(grad_states, saved, needs, ode_unfolds, epsilon, rates):
    """The backward with ``create_graph=True``, or inside a ``torch.func`` transform: the loop rerun
    and differentiated by ``torch.func.vjp``, whose gradients autograd can differentiate in turn.

    ``torch.autograd.grad`` on the saved tensors failed inside ``torch.func.vjp`` and ``jacrev``,
    whose saved tensors do not require grad at the level autograd sees.
    """
    _, pullback = torch.func.vjp(lambda *xs: solve(xs[0], xs[1], xs[2:], ode_unfolds, epsilon, rates=rates), *saved)
    d_terms, d_v0, *d_params = (g if need else None for g, need in zip(pullback(grad_states), needs))
    return d_terms, d_v0, None, None, None, *d_params
