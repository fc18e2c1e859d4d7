"""Cooperative matrix games with tabular softmax policies: where correlated (Bayesian-network)
policies reach the optimum that independent policies miss.

Every agent gets the same payoff ``R[a_1, ..., a_n]``. Two policy classes, trained with the exact
policy gradient of the expected payoff ``J = sum_a pi(a) R[a]`` (all joint actions enumerated, so
no sampling noise):

* ``independent``: ``pi(a) = prod_i pi_i(a_i)``, one softmax table per agent;
* ``bayes_net``: ``pi(a) = prod_i pi_i(a_i | a_1 .. a_{i-1})`` on the full DAG in index order,
  one softmax table per agent and parents' joint action (the tabular setting of Chen & Zhang,
  ICML 2023, Sec. 4).

The climbing game (Claus & Boutilier, 1998) is the classic trap: independent learners are drawn to
the safe joint actions (payoff 5 or 7) because the optimum (11) sits next to the worst penalty
(-30); a follower that sees the leader's action best-responds to each and the leader then picks
the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

CLIMBING = np.array([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]])
"""The climbing game (rows: agent 0's action, columns: agent 1's); optimum 11 at (0, 0)."""


@dataclass
class GameResult:
    """Outcome of one tabular training run."""

    expected_payoff: float
    """``J`` of the final policy."""
    best_joint_action: tuple[int, ...]
    """The most likely joint action of the final policy."""
    curve: list[float]
    """``J`` after every step."""


def joint_probabilities(logits: list[torch.Tensor], policy: str, n_actions: int) -> torch.Tensor:
    """``(A,) * n`` joint action probabilities of the tabular policy with these logits."""
    n = len(logits)
    joint = torch.ones(())
    for i, table in enumerate(logits):
        probs = torch.softmax(table, dim=-1)
        if policy == "independent":
            factor = probs.reshape((1,) * i + (n_actions,))
        else:  # bayes_net: table (A^i, A), row = the parents' joint action a_1 .. a_{i-1}
            factor = probs.reshape((n_actions,) * i + (n_actions,))
        joint = joint[..., None] * factor
    return joint.reshape((n_actions,) * n)


def train_tabular(
    payoff: np.ndarray,
    policy: str,
    steps: int = 2000,
    lr: float = 0.5,
    seed: int = 0,
    init_scale: float = 0.1,
) -> GameResult:
    """Exact softmax policy gradient ascent on a common-payoff matrix game.

    Args:
        payoff: ``(A,) * n`` common payoff.
        policy: ``"independent"`` or ``"bayes_net"``.
        steps: gradient steps.
        lr: step size (plain gradient ascent on the logits).
        seed: seed of the small random initial logits.
        init_scale: std of the initial logits (0: uniform policies).
    """
    payoff = np.asarray(payoff, dtype=np.float64)
    if payoff.ndim < 1:
        raise ValueError("payoff must have one axis per agent, got a scalar")
    n, A = payoff.ndim, payoff.shape[0]
    if payoff.shape != (A,) * n:
        raise ValueError(f"payoff must have the same number of actions per agent, got shape {payoff.shape}")
    if policy not in ("independent", "bayes_net"):
        raise ValueError(f"policy must be 'independent' or 'bayes_net', got {policy!r}")
    if steps < 1 or not lr > 0:
        raise ValueError(f"steps must be >= 1 and lr > 0, got {steps}, {lr}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: several threads only contend
    try:
        return _ascend(payoff, policy, steps, lr, seed, init_scale)
    finally:
        torch.set_num_threads(threads)


def _ascend(
    payoff: np.ndarray, policy: str, steps: int, lr: float, seed: int, init_scale: float
) -> GameResult:
    n, A = payoff.ndim, payoff.shape[0]
    gen = torch.Generator().manual_seed(seed)
    rows = [1 if policy == "independent" else A**i for i in range(n)]
    logits = [
        (init_scale * torch.randn(r, A, generator=gen, dtype=torch.float64)).requires_grad_() for r in rows
    ]
    R = torch.as_tensor(payoff)
    curve = []
    for _ in range(steps):
        J = (joint_probabilities(logits, policy, A) * R).sum()
        grads = torch.autograd.grad(J, logits)
        with torch.no_grad():
            for table, g in zip(logits, grads):
                table += lr * g
        curve.append(J.item())
    with torch.no_grad():
        probs = joint_probabilities(logits, policy, A)
        J = float((probs * R).sum())
        best = tuple(int(x) for x in np.unravel_index(int(probs.argmax()), probs.shape))
    return GameResult(expected_payoff=J, best_joint_action=best, curve=curve)
