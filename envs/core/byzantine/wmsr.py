"""What a simulated robot runs for W-MSR and linear consensus (LCP): which received values it
keeps, and the mean it moves to. Batched over robots.

W-MSR (Weighted-Mean Subsequence Reduced; LeBlanc, Zhang, Koutsoukos, Sundaram, "Resilient
Asymptotic Consensus in Robust Networks", IEEE JSAC 2013): each robot sorts the values it
received, discards up to ``F`` of those strictly larger than its own value (the largest ones; all
of them if there are fewer than ``F``) and up to ``F`` of those strictly smaller (the smallest
ones), and moves to the mean of its own value and the rest. Vector values are trimmed coordinate
by coordinate (the usual extension). LCP is the same mean without trimming.

Values come padded: ``values (R, K, d)`` with ``valid (R, K)`` marking the received ones, for
``R`` receiving robots with up to ``K`` messages each. The public algorithm module is
:mod:`swarmzoo.algorithms.wmsr`, which re-exports these functions.
"""

from __future__ import annotations

import numpy as np


def check_padded(own: np.ndarray, values: np.ndarray, valid: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``own (R, d)``, ``values (R, K, d)`` and ``valid (R, K)``
    agree."""
    if (
        own.ndim != 2
        or values.ndim != 3
        or values.shape[0] != own.shape[0]
        or values.shape[2] != own.shape[1]
    ):
        raise ValueError(f"own must be (R, d) and values (R, K, d), got {own.shape} and {values.shape}")
    if valid.shape != values.shape[:2]:
        raise ValueError(f"valid must be (R, K) = {values.shape[:2]}, got {valid.shape}")


def wmsr_keep(own: np.ndarray, values: np.ndarray, valid: np.ndarray, f: int) -> np.ndarray:
    """Which received values each robot keeps under W-MSR with parameter ``f``, per coordinate.

    Args:
        own: ``(R, d)`` each robot's own value.
        values: ``(R, K, d)`` received values (padding anywhere ``valid`` is False).
        valid: ``(R, K)`` received-message mask.
        f: values to discard on each side (>= 0).

    Returns:
        ``keep (R, K, d)`` bool: ``valid`` minus the trimmed values.
    """
    check_padded(own, values, valid)
    if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 0:
        raise ValueError(f"W-MSR's f must be an integer >= 0, got {f!r}")
    ok = valid[..., None]
    keep = np.broadcast_to(ok, values.shape).copy()
    if f == 0 or values.shape[1] == 0:
        return keep
    K = values.shape[1]
    ref = own[:, None, :]
    for side, sign in ((values > ref) & ok, 1.0), ((values < ref) & ok, -1.0):
        # Rank the values on this side from the most extreme (rank 0); others rank last.
        key = np.where(side, -sign * values, np.inf)
        order = np.argsort(key, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(K)[None, :, None], axis=1)
        keep &= ~(side & (rank < f))
    return keep


def trimmed_mean(own: np.ndarray, values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Mean of each robot's own value and its kept values, per coordinate: ``(R, d)``."""
    total = own + np.where(keep, values, 0.0).sum(axis=1)
    return total / (1.0 + keep.sum(axis=1))
