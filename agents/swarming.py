"""Scripted baselines of the swarming envs, batched over env copies and robots.

Each rule reads only the robot's own observation (the index slices documented in the env's
docstring) and the env's config (action scaling), so it is a decentralised controller that runs
unchanged at any swarm size:

* :class:`VicsekRule` (``flocking-v0``): turn toward the mean heading of the robot and its
  neighbours (Vicsek et al., 1995).
* :class:`KuramotoRule` (``kuramoto-v0``): add ``gain * mean_j sin(theta_j - theta_i)`` to the phase
  velocity, the Kuramoto coupling law.
* :class:`LocalCentroidRule` (``aggregation-v0``): move toward the centroid of the sensed
  neighbours without pushing into robots already touching; robots that sense nobody keep a
  random heading until they find someone.
"""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.aggregation import Aggregation
from swarmzoo.envs.core.physics import DISCRETE_DIRECTIONS
from swarmzoo.envs.flocking import Flocking
from swarmzoo.envs.kuramoto import Kuramoto


def _nearest_level(value: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Index ``(E, N)`` of the level closest to each value."""
    return np.abs(value[..., None] - levels).argmin(axis=-1)


class VicsekRule:
    """Turn toward the circular mean heading of self and neighbours (as far as ``max_turn`` allows)."""

    def act(self, obs: np.ndarray, task: Flocking) -> np.ndarray:
        cfg = task.config
        count = obs[..., 2] * cfg.expected_neighbours
        # Sum of unit headings in the robot's own frame: itself (1, 0) plus its neighbours.
        turn = np.arctan2(count * obs[..., 4], 1.0 + count * obs[..., 3])
        if cfg.continuous_actions:
            return np.clip(turn / cfg.max_turn, -1.0, 1.0)[..., None].astype(np.float32)
        return _nearest_level(turn, cfg.turns)


class KuramotoRule:
    """The Kuramoto coupling law ``u_i = gain * mean_j sin(theta_j - theta_i)``.

    Args:
        gain: coupling strength K (rad per time unit); None uses the env's ``max_control``.
    """

    def __init__(self, gain: float | None = None) -> None:
        self.gain = gain

    def act(self, obs: np.ndarray, task: Kuramoto) -> np.ndarray:
        cfg = task.config
        gain = cfg.max_control if self.gain is None else self.gain
        control = gain * obs[..., 3]
        if cfg.continuous_actions:
            return np.clip(control / cfg.max_control, -1.0, 1.0)[..., None].astype(np.float32)
        return _nearest_level(control, cfg.controls)


class LocalCentroidRule:
    """Move toward the centroid of the sensed neighbours; explore in a persistent random direction
    while alone.

    Args:
        seed: seed of the exploration directions.
        turn_probability: chance per step that a lone robot picks a new direction.
    """

    def __init__(self, seed: int | None = None, turn_probability: float = 0.05) -> None:
        self.rng = np.random.default_rng(seed)
        self.turn_probability = turn_probability
        self._explore: np.ndarray | None = None

    def act(self, obs: np.ndarray, task: Aggregation) -> np.ndarray:
        cfg = task.config
        E, N = obs.shape[:2]
        if self._explore is None or self._explore.shape[:2] != (E, N):
            self._explore = self._directions((E, N))
        renew = self.rng.random((E, N)) < self.turn_probability
        self._explore[renew] = self._directions((int(renew.sum()),))
        offset = obs[..., 1:3].astype(np.float64) * cfg.sensing_radius  # to the local centroid
        alone = obs[..., 0] == 0
        # Full speed toward the centroid, slowing down over the last step (no overshoot).
        step = offset / cfg.max_speed
        velocity = np.where(alone[..., None], self._explore, step)
        velocity = self._yield_to_contacts(velocity, obs, cfg)
        if cfg.continuous_actions:
            return np.clip(velocity, -1.0, 1.0).astype(np.float32)
        scores = velocity @ DISCRETE_DIRECTIONS.T
        actions = scores.argmax(axis=-1)
        actions[np.abs(velocity).max(axis=-1) < 0.5] = 0
        return actions

    @staticmethod
    def _yield_to_contacts(velocity: np.ndarray, obs: np.ndarray, cfg) -> np.ndarray:
        """Drop the part of ``velocity`` that would push into a robot it (almost) touches, so a
        gathered group packs instead of crushing into a pile."""
        k = cfg.k_robots
        slots = obs[..., 3 : 3 + 3 * k].astype(np.float64).reshape(*obs.shape[:2], k, 3)
        offset = slots[..., :2] * cfg.sensing_radius
        dist = np.linalg.norm(offset, axis=-1)
        contact = (slots[..., 2] > 0) & (dist < 2 * cfg.robot_radius + cfg.max_speed)
        unit = offset / np.maximum(dist, 1e-12)[..., None]
        for slot in range(k):  # nearest first
            toward = np.maximum((velocity * unit[:, :, slot]).sum(axis=-1), 0.0) * contact[:, :, slot]
            velocity = velocity - toward[..., None] * unit[:, :, slot]
        return velocity

    def _directions(self, shape: tuple[int, ...]) -> np.ndarray:
        angle = self.rng.uniform(-np.pi, np.pi, shape)
        return np.stack([np.cos(angle), np.sin(angle)], axis=-1)
