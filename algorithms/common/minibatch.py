"""Minibatches over a rollout's samples.

Shape contract: a rollout buffer ``(T, E, N, ...)`` is flattened to ``(T * E * N, ...)`` samples
(robot-steps), of which only the active ones (robots still in their episode) are kept; an epoch
visits every kept sample exactly once, in ``n_minibatches`` random, nearly equal parts.
"""

from __future__ import annotations

import numpy as np
import torch


def flatten_active(buffer: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """``(T, E, N, *F)`` -> ``(B, *F)``: the samples where ``active (T, E, N)`` is true."""
    if buffer.shape[:3] != active.shape:
        raise ValueError(
            f"buffer {tuple(buffer.shape)} does not start with the active mask's shape {tuple(active.shape)}"
        )
    return buffer.reshape(-1, *buffer.shape[3:])[active.reshape(-1).bool()]


def minibatch_indices(n_samples: int, n_minibatches: int, rng: np.random.Generator) -> list[torch.Tensor]:
    """A random partition of ``range(n_samples)`` into ``n_minibatches`` index tensors whose sizes
    differ by at most one."""
    if not 1 <= n_minibatches <= max(n_samples, 1):
        raise ValueError(f"cannot split {n_samples} samples into {n_minibatches} minibatches")
    return [torch.as_tensor(part) for part in np.array_split(rng.permutation(n_samples), n_minibatches)]
