"""Safety metrics of robot swarms, batched over env copies: separations and personal-space
violations.

A task with a ``safety_radius`` (navigation, coverage) reports, every step and per robot, how many
robots and obstacles are inside its personal space; :func:`swarmzoo.evaluation.evaluate`
summarises them per episode (minimum separation, near misses and collisions per robot-hour).
Every robot keeps a disc of radius ``safety_radius / 2``: two robots violate each other's space
when their centres are closer than ``safety_radius``, a robot and an obstacle when the robot's
centre is closer than ``obstacle_radius + safety_radius / 2`` to the obstacle's centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from swarmzoo.envs.core.arena import Arena, min_image
from swarmzoo.envs.core.neighbors import knn, radius_pairs


def nearest_robot_distance(pos: np.ndarray, arena: Arena) -> np.ndarray:
    """Centre distance from each robot to its nearest other robot, ``(E, N)`` (``inf`` for a
    robot alone; minimum image on a torus)."""
    E, N = pos.shape[:2]
    if N < 2:
        return np.full((E, N), np.inf)
    return np.ascontiguousarray(knn(pos, pos, 1, arena, exclude_self=True).dist[..., 0])


def robots_within(pos: np.ndarray, radius: float, arena: Arena) -> np.ndarray:
    """How many other robots have their centre closer than ``radius`` to each robot's, ``(E, N)``."""
    E, N = pos.shape[:2]
    counts = np.zeros(E * N, dtype=np.int64)
    if N < 2:
        return counts.reshape(E, N)
    env, i, j = radius_pairs(pos, radius, arena)
    counts += np.bincount(env * N + i, minlength=E * N)
    counts += np.bincount(env * N + j, minlength=E * N)
    return counts.reshape(E, N)


def obstacles_within(
    pos: np.ndarray, obstacles: np.ndarray, obstacle_radius: np.ndarray, clearance: float, arena: Arena
) -> np.ndarray:
    """How many obstacles each robot's centre is closer than ``obstacle_radius + clearance`` to,
    ``(E, N)``; ``obstacles (E, O, 2)``, ``obstacle_radius (E, O)``."""
    if obstacles.shape[1] == 0:
        return np.zeros(pos.shape[:2], dtype=np.int64)
    delta = min_image(pos[:, :, None] - obstacles[:, None], arena)  # (E, N, O, 2)
    dist = np.sqrt(np.einsum("enod,enod->eno", delta, delta))
    return np.add.reduce(dist < obstacle_radius[:, None] + clearance, axis=-1).astype(np.int64)


@dataclass(frozen=True)
class SafetyStep:
    """One step's safety metrics (see :func:`safety_step`)."""

    nearest_robot_distance: np.ndarray  # (E, N)
    min_separation: np.ndarray  # (E,)
    cost: np.ndarray  # (E, N) float: robots + obstacles inside the personal space
    near_misses: np.ndarray  # (E, N) int: of those, the ones not in contact

    def infos(self) -> dict[str, np.ndarray]:
        return {
            "cost": self.cost,
            "near_misses": self.near_misses,
            "min_separation": self.min_separation,
            "nearest_robot_distance": self.nearest_robot_distance,
        }


def safety_step(
    pos: np.ndarray,
    arena: Arena,
    safety_radius: float,
    contacts: np.ndarray | None = None,
    obstacles: np.ndarray | None = None,
    obstacle_radius: np.ndarray | None = None,
) -> SafetyStep:
    """The safety metrics of positions ``pos (E, N, 2)``.

    Args:
        safety_radius: minimum allowed centre distance of two robots (see the module docstring).
        contacts: ``(E, N)`` robots and obstacles each robot overlaps (the task's collisions),
            subtracted from the violations to give the near misses; None: no contacts (robots
            without bodies that collide).
        obstacles, obstacle_radius: circular obstacles ``(E, O, 2)`` and radii ``(E, O)``.

    Returns:
        A :class:`SafetyStep`: ``cost`` (robots and obstacles inside the robot's personal space,
        the constrained-RL cost, collisions included), ``near_misses`` (``cost`` minus the
        contacts), ``min_separation`` (the closest pair's centre distance per copy) and
        ``nearest_robot_distance``.
    """
    inside = robots_within(pos, safety_radius, arena)
    if obstacles is not None and obstacles.shape[1]:
        inside = inside + obstacles_within(pos, obstacles, obstacle_radius, safety_radius / 2, arena)
    nearest = nearest_robot_distance(pos, arena)
    near = inside if contacts is None else np.maximum(inside - contacts, 0)
    return SafetyStep(
        nearest_robot_distance=nearest,
        min_separation=nearest.min(axis=1),
        cost=inside.astype(np.float64),
        near_misses=near,
    )
