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

Where the code lives: :func:`wmsr_keep` and :func:`trimmed_mean` are what the Byzantine envs'
simulated robots execute, so they are implemented in :mod:`swarmzoo.envs.core.byzantine.wmsr`
and re-exported here; :func:`wmsr_mean` and :func:`lcp_mean`, the one-call updates, are this
module's own.
"""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.core.byzantine.wmsr import check_padded, trimmed_mean, wmsr_keep

__all__ = ["wmsr_keep", "trimmed_mean", "wmsr_mean", "lcp_mean"]


def wmsr_mean(own: np.ndarray, values: np.ndarray, valid: np.ndarray, f: int) -> np.ndarray:
    """The W-MSR update: each robot's new value ``(R, d)``."""
    return trimmed_mean(own, values, wmsr_keep(own, values, valid, f))


def lcp_mean(own: np.ndarray, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The linear consensus update (equal weights over self and received values): ``(R, d)``."""
    check_padded(own, values, valid)
    return trimmed_mean(own, values, np.broadcast_to(valid[..., None], values.shape))
