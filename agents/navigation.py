"""Scripted baseline for ``navigation-v0``: Hungarian goal assignment plus proportional control.

Each episode every robot is assigned a distinct goal by a minimum-total-distance matching
(``scipy.optimize.linear_sum_assignment``, one call per env copy and episode, since the matching
itself does not batch). Each step, batched over copies and robots, a robot asks for the velocity
``(goal - pos) / time_constant`` (capped), plus a push away from nearby obstacles, and applies the
force that reaches it in one step under the env's damped dynamics. Discrete actions take the axis
direction closest to that force, or no-op near the goal.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from swarmzoo.envs.core.arena import min_image
from swarmzoo.envs.core.physics import DISCRETE_DIRECTIONS
from swarmzoo.envs.navigation import Navigation


class NavigationHeuristic:
    """Goal assignment + proportional control, batched.

    Args:
        time_constant: seconds to close the distance to the goal (smaller is more aggressive).
        obstacle_margin: extra clearance (world units) kept from obstacle surfaces.
        deadband: fraction of ``accel`` below which a discrete robot does nothing.
    """

    def __init__(
        self, time_constant: float = 0.4, obstacle_margin: float = 0.1, deadband: float = 0.3
    ) -> None:
        self.time_constant = time_constant
        self.obstacle_margin = obstacle_margin
        self.deadband = deadband
        self._targets: np.ndarray | None = None
        self._last_steps: np.ndarray | None = None

    def assign(self, task: Navigation, env_ids: np.ndarray) -> None:
        """Match robots to goals in copies ``env_ids``; robots left over hold their position (so
        they do not crowd, and collide at, goals that are already taken)."""
        for e in env_ids:
            d = np.linalg.norm(min_image(task.goals[e][None] - task.pos[e][:, None], task.arena), axis=-1)
            rows, cols = linear_sum_assignment(d)
            self._targets[e] = task.pos[e]
            self._targets[e, rows] = task.goals[e, cols]

    def act(self, obs: np.ndarray, task: Navigation) -> np.ndarray:
        """Actions ``(E, N)`` or ``(E, N, A)`` for the task's current state (``obs`` is unused)."""
        cfg = task.config
        E, N = task.pos.shape[:2]
        if self._targets is None or self._targets.shape[:2] != (E, N):
            self._targets = np.zeros((E, N, 2))
            self._last_steps = np.full(E, np.iinfo(np.int64).max)
        new_episode = task.steps <= self._last_steps
        self._last_steps = task.steps.copy()
        if new_episode.any():
            self.assign(task, np.flatnonzero(new_episode))
        error = min_image(self._targets - task.pos, task.arena)
        v_des = error / self.time_constant
        top_speed = cfg.top_speeds[:, None]  # per robot: terminal speed of a full push, capped
        speed = np.linalg.norm(v_des, axis=-1, keepdims=True)
        v_des = np.where(speed > top_speed, v_des * top_speed / np.maximum(speed, 1e-12), v_des)
        if cfg.n_obstacles:
            v_des += self._avoid_obstacles(task) * top_speed
        force = (v_des - (1.0 - cfg.damping) * task.vel) * cfg.mass / cfg.dt
        return self._to_actions(force, task)

    def _avoid_obstacles(self, task: Navigation) -> np.ndarray:
        cfg = task.config
        delta = min_image(task.pos[:, :, None] - task.obstacles[:, None], task.arena)  # (E, N, O, 2)
        dist = np.linalg.norm(delta, axis=-1, keepdims=True)
        reach = task.obstacle_radius[:, None, :, None] + cfg.robot_radius + self.obstacle_margin
        push = np.clip((reach - dist) / self.obstacle_margin, 0.0, 1.0)
        return (push * delta / np.maximum(dist, 1e-9)).sum(axis=2)

    def _to_actions(self, force: np.ndarray, task: Navigation) -> np.ndarray:
        cfg = task.config
        u = force / cfg.accel
        if not cfg.continuous_actions:
            scores = np.einsum("end,ad->ena", u, DISCRETE_DIRECTIONS)
            actions = scores.argmax(axis=-1)
            actions[np.linalg.norm(u, axis=-1) < self.deadband] = 0
            return actions
        u = np.clip(u, -1.0, 1.0)
        if cfg.mpe_compat:
            z = np.zeros(u.shape[:2])
            return np.stack(
                [
                    z,
                    np.maximum(-u[..., 0], 0),
                    np.maximum(u[..., 0], 0),
                    np.maximum(-u[..., 1], 0),
                    np.maximum(u[..., 1], 0),
                ],
                axis=-1,
            ).astype(np.float32)
        return u.astype(np.float32)
