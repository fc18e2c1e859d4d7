"""Pareto fronts of multi-objective returns and the indicators that compare them.

Every function takes returns to MAXIMISE, ``points (P, K)`` (P solutions, K objectives), as the
envs' objectives are higher-is-better. Hypervolume comes from pymoo (``pip install
"swarmzoo[mo]"``), which minimises: points and reference are negated on the way in.

* :func:`non_dominated`: the front of a set of points.
* :func:`hypervolume`: the volume dominated by the front and bounded below by ``reference``.
* :func:`sparsity`: the mean squared gap between neighbouring front points along each objective
  (PGMORL's definition, Xu et al. 2020; lower is more even).
* :func:`set_coverage`: Zitzler's C(A, B), the fraction of B weakly dominated by some point of A.
* :func:`weight_grid`: evenly spaced preferences on the simplex.
"""

from __future__ import annotations

import itertools

import numpy as np


def _points(points: np.ndarray, name: str = "points") -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"{name} must have shape (P, K), got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"{name} must be finite")
    return p


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` Pareto-dominates ``b``: no worse in every objective and better in one."""
    return bool(np.all(a >= b) and np.any(a > b))


def non_dominated(points: np.ndarray) -> np.ndarray:
    """The non-dominated points of ``points (P, K)``, duplicates once, sorted by the first
    objective (then the others)."""
    p = np.unique(_points(points), axis=0)
    keep = [i for i in range(len(p)) if not any(dominates(p[j], p[i]) for j in range(len(p)) if j != i)]
    return p[keep]


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """The hypervolume of ``points (P, K)`` above ``reference (K,)`` (maximisation); points not
    strictly above the reference in every objective add nothing.

    Raises:
        ImportError: pymoo is missing (named with the extra that brings it).
        ValueError: shapes that do not match.
    """
    p = _points(points)
    ref = np.asarray(reference, dtype=np.float64)
    if ref.shape != (p.shape[1],) or not np.isfinite(ref).all():
        raise ValueError(f"reference must be {p.shape[1]} finite numbers, got {reference!r}")
    try:
        from pymoo.indicators.hv import HV
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError('hypervolume needs pymoo: pip install "swarmzoo[mo]"') from err
    above = p[np.all(p > ref, axis=1)]
    if not len(above):
        return 0.0
    return float(HV(ref_point=-ref)(-above))


def sparsity(points: np.ndarray) -> float:
    """PGMORL's sparsity of the front of ``points``: for each objective, sort the front's values
    and average the squared gaps, summed over objectives and divided by ``P - 1``; 0 for a
    front of one point."""
    front = non_dominated(points)
    if len(front) < 2:
        return 0.0
    gaps = np.diff(np.sort(front, axis=0), axis=0)
    return float((gaps**2).sum() / (len(front) - 1))


def set_coverage(a: np.ndarray, b: np.ndarray) -> float:
    """Zitzler's C(A, B): the fraction of the points of ``b`` weakly dominated (no worse in
    every objective) by some point of ``a``. C(A, B) = 1 and C(B, A) < 1: A's front is better."""
    pa, pb = _points(a, "a"), _points(b, "b")
    if pa.shape[1] != pb.shape[1]:
        raise ValueError(f"a and b must have the same objectives, got {pa.shape[1]} and {pb.shape[1]}")
    covered = (pa[:, None, :] >= pb[None, :, :]).all(axis=-1).any(axis=0)
    return float(covered.mean())


def weight_grid(k: int, steps: int) -> np.ndarray:
    """Preferences on the ``k``-simplex with coordinates in multiples of ``1 / steps``, ``(P, k)``
    (``steps + 1`` of them for two objectives), in lexicographic order."""
    if k < 1 or steps < 1:
        raise ValueError(f"weight_grid needs k >= 1 and steps >= 1, got k={k}, steps={steps}")
    rows = [c for c in itertools.product(range(steps + 1), repeat=k) if sum(c) == steps]
    return np.array(sorted(rows, reverse=True), dtype=np.float64) / steps
