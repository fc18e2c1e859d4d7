"""Generalised advantage estimation that tells truncation from termination.

Shape contract: every input is ``(T, ...)`` with the same trailing shape (e.g. ``(T, E, N)`` for
T steps of E env copies of N robots); outputs have that shape too.

At step ``t`` the bootstrap value is given explicitly as ``next_values[t]``: the value of the
next observation within the episode, or, when the episode was **truncated** at ``t``, the value of
its final observation (so a time limit does not look like a dead end). When the episode
**terminated** at ``t`` nothing is bootstrapped. The recursion stops at every episode end
(``dones[t]``, termination or truncation), so advantages never leak across an auto-reset.
"""

from __future__ import annotations

import torch


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminations: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns (targets of the value function).

    Args:
        rewards: ``(T, ...)`` reward of step ``t``.
        values: ``(T, ...)`` ``V(o_t)``.
        next_values: ``(T, ...)`` ``V`` of the observation after step ``t`` (the final
            observation of the episode if it ended at ``t``).
        terminations: ``(T, ...)`` 1 where the episode terminated at ``t`` (no bootstrap).
        dones: ``(T, ...)`` 1 where the episode ended at ``t`` (terminated or truncated).
        gamma: discount, in [0, 1].
        gae_lambda: GAE lambda, in [0, 1].

    Returns:
        ``(advantages, returns)``, each ``(T, ...)``, with ``returns = advantages + values``.
    """
    if not (0.0 <= gamma <= 1.0 and 0.0 <= gae_lambda <= 1.0):
        raise ValueError(f"gamma and gae_lambda must lie in [0, 1], got {gamma}, {gae_lambda}")
    shapes = {t.shape for t in (rewards, values, next_values, terminations, dones)}
    if len(shapes) != 1:
        raise ValueError(f"compute_gae inputs must share one shape, got {sorted(map(tuple, shapes))}")
    not_terminated = 1.0 - terminations.float()
    not_done = 1.0 - dones.float()
    deltas = rewards + gamma * next_values * not_terminated - values
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * gae_lambda * not_done[t] * running
        advantages[t] = running
    return advantages, advantages + values


def next_values(
    values: torch.Tensor, last_value: torch.Tensor, final_values: torch.Tensor, dones: torch.Tensor
) -> torch.Tensor:
    """``(T, ...)`` bootstrap values for :func:`~swarmzoo.algorithms.common.gae.compute_gae`:
    ``V(o_{t+1})`` within an episode (``values[t + 1]``, or ``last_value`` after the rollout), and
    ``final_values[t]`` (V of the episode's final observation) where the copy reset at ``t``."""
    within = torch.cat([values[1:], last_value[None]])
    return torch.where(dones.bool(), final_values, within)
