"""Lloyd / Voronoi coverage for ``coverage-v0``: the classic static-coverage baseline.

Cortés, Martínez, Karataş & Bullo, "Coverage control for mobile sensing networks" (IEEE T-RA,
2004). Each step, batched over env copies and robots, every cell of the env's density grid
(``task.grid.centres`` with weights ``task.density``) goes to its nearest robot (the robot's
Voronoi cell), and each robot tracks the density-weighted centroid of its cell with the same LQ
tracking law as :class:`~swarmzoo.agents.d2oc.D2OC` (a PD law on the env's dynamics, within
the action bounds and ``max_speed``). The swarm converges to a centroidal Voronoi tessellation
and stays there: good static coverage, but a time-averaged trajectory distribution made of N
points, which is what D2OC improves on.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from swarmzoo.agents.lq_tracking import LQTracker, check_lq_weights
from swarmzoo.envs.coverage import Coverage

DENSE_MAX_ROBOTS = 16  # up to this many robots the nearest one comes from a dense argmin, else a k-d tree


def voronoi_centroids(
    pos: np.ndarray, centres: np.ndarray, mass: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Density-weighted centroids of the robots' Voronoi cells.

    Args:
        pos: ``(E, N, 2)`` robot positions.
        centres: ``(M, 2)`` grid cell centres.
        mass: ``(M,)`` cell weights.

    Returns:
        ``centroid (E, N, 2)`` (the robot's own position where its cell has no mass) and
        ``cell_mass (E, N)``.
    """
    E, N = pos.shape[:2]
    if N <= DENSE_MAX_ROBOTS:
        d2 = (
            np.einsum("end,end->en", pos, pos)[:, None, :]
            - 2.0 * np.einsum("md,end->emn", centres, pos)
            + np.einsum("md,md->m", centres, centres)[None, :, None]
        )
        owner = d2.argmin(axis=-1)  # (E, M)
    else:
        owner = np.stack([cKDTree(p).query(centres)[1] for p in pos])
    keys = (np.arange(E)[:, None] * N + owner).ravel()
    weights = np.broadcast_to(mass, owner.shape).ravel()
    cell_mass = np.bincount(keys, weights=weights, minlength=E * N).reshape(E, N)
    moment = np.stack(
        [
            np.bincount(
                keys, weights=weights * np.broadcast_to(centres[:, d], owner.shape).ravel(), minlength=E * N
            )
            for d in range(2)
        ],
        axis=-1,
    ).reshape(E, N, 2)
    has_mass = cell_mass > 0
    centroid = moment / np.where(has_mass, cell_mass, 1.0)[..., None]
    return np.where(has_mass[..., None], centroid, pos), cell_mass


class LloydVoronoi:
    """Track the density-weighted centroid of one's Voronoi cell (Lloyd's algorithm), batched.

    Reads ``task.pos``, ``task.vel``, ``task.grid`` and ``task.density`` (a centralised baseline:
    a robot's Voronoi cell depends on its Voronoi neighbours' positions).

    Args:
        horizon: LQ horizon in steps (as :class:`~swarmzoo.agents.d2oc.D2OC`).
        q_v: speed weight of the LQ cost.
        r: action weight of the LQ cost.
    """

    def __init__(self, horizon: int = 5, q_v: float = 0.01, r: float = 0.001) -> None:
        check_lq_weights(horizon, q_v, r)
        self.horizon, self.q_v, self.r = horizon, q_v, r
        self._task: Coverage | None = None

    def act(self, obs: np.ndarray, task: Coverage) -> np.ndarray:
        """Actions ``(E, N, 2)`` or ``(E, N)`` for the task's current state (``obs`` unused)."""
        if self._task is not task:
            self._task = task
            self.tracker = LQTracker(task, self.horizon, self.q_v, self.r)
            mass = task.density.ravel()
            self.cells = np.flatnonzero(mass > 0)
            self.centres, self.mass = task.grid.centres[self.cells], mass[self.cells]
        target, _ = voronoi_centroids(task.pos, self.centres, self.mass)
        return self.tracker.act(task.pos, task.vel, target)
