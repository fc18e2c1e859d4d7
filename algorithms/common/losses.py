"""The clipped PPO losses the trainers share.

Shapes: losses take matching tensors of log-probabilities / values over a minibatch (any shape;
the advantage broadcasts against the log-probabilities, e.g. one advantage per swarm step and one
log-probability per robot).
"""

from __future__ import annotations

import torch


def clipped_policy_loss(
    logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, clip: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO's ``-mean(min(r A, clip(r, 1 - eps, 1 + eps) A))`` with ``r = exp(logp - old_logp)``,
    and the diagnostics ``approx_kl`` (the unbiased ``(r - 1) - log r`` estimator) and
    ``clipfrac``."""
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    loss = -torch.min(ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages).mean()
    with torch.no_grad():
        stats = {
            "approx_kl": ((ratio - 1) - log_ratio).mean().item(),
            "clipfrac": ((ratio - 1).abs() > clip).float().mean().item(),
        }
    return loss, stats


def clipped_value_loss(
    v: torch.Tensor, target: torch.Tensor, v_old: torch.Tensor, clip: float
) -> torch.Tensor:
    """``mean(max((v - R)^2, (v_old + clip(v - v_old, -c, c) - R)^2)) / 2``; plain squared error
    when ``clip`` is 0."""
    loss = (v - target) ** 2
    if clip > 0:
        clipped = v_old + (v - v_old).clamp(-clip, clip)
        loss = torch.max(loss, (clipped - target) ** 2)
    return 0.5 * loss.mean()


def normalize_advantages(adv: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit std over a minibatch (unchanged for a single sample)."""
    return (adv - adv.mean()) / (adv.std() + 1e-8) if adv.numel() > 1 else adv
