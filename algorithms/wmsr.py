"""Linear consensus (LCP) and its Byzantine-resilient variant W-MSR, batched over robots.

W-MSR (Weighted-Mean Subsequence Reduced; LeBlanc, Zhang, Koutsoukos, Sundaram, "Resilient
Asymptotic Consensus in Robust Networks", IEEE JSAC 2013): each robot sorts the values it
received, discards up to ``F`` of those strictly larger than its own value (the largest ones; all
of them if there are fewer than ``F``) and up to ``F`` of those strictly smaller (the smallest
ones), and moves to the mean of its own value and the rest. ``F`` must be known in advance; the
guarantees need the network to be (2F+1)-robust. Vector values are trimmed coordinate by
coordinate (the usual extension).

LCP is the same mean without trimming: the unprotected baseline.

Values come padded: ``values (R, K, d)`` with ``valid (R, K)`` marking the received ones, for
``R`` receiving robots with up to ``K`` messages each.
"""

from __future__ import annotations

import numpy as np


def _check(own: np.ndarray, values: np.ndarray, valid: np.ndarray) -> None:
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
    _check(own, values, valid)
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


def wmsr_mean(own: np.ndarray, values: np.ndarray, valid: np.ndarray, f: int) -> np.ndarray:
    """The W-MSR update: each robot's new value ``(R, d)``."""
    return trimmed_mean(own, values, wmsr_keep(own, values, valid, f))


def lcp_mean(own: np.ndarray, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The linear consensus update (equal weights over self and received values): ``(R, d)``."""
    _check(own, values, valid)
    return trimmed_mean(own, values, np.broadcast_to(valid[..., None], values.shape))
