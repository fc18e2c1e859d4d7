"""MPE's ``simple_spread_v3`` layouts on ``navigation-v0``'s physics (``preset="mpe_spread"``).

:class:`MPESpread` is :class:`~swarmzoo.envs.navigation_task.NavigationTask` with MPE's
layouts (see the ``mpe_spread`` section of :mod:`swarmzoo.envs.navigation`): robots and goals
spawn uniformly in ``[-1, 1]^2``; the observation is ``[vel, pos, all goals, all other robots,
2 (N-1) zeros for the silent comm channel]`` in index order; continuous actions are
``Box(0, 1, (5,))`` with force ``accel * (a2 - a1, a4 - a3)``; the state is all observations
concatenated. Dynamics, contacts, rewards and infos are the task's own, which are MPE's.

``swarmzoo.make("navigation-v0", preset="mpe_spread")`` (or ``mpe_compat=True``) builds it:
``navigation-v0``'s factory picks the task class from the config
(:func:`swarmzoo.envs.navigation.task_class`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core.dense import Pairwise, env_last, env_major, pair_table
from swarmzoo.envs.core.scratch import Scratch
from swarmzoo.envs.navigation_task import NavigationTask
from swarmzoo.envs.navigation_task import action_forces as default_action_forces


def check_config(cfg: Any) -> None:
    """Raise ``ValueError`` unless ``cfg`` (``navigation-v0``'s ``Config``) fits MPE's layouts."""
    if not cfg.mpe_compat:
        raise ValueError("MPE's layouts (MPESpread) need mpe_compat=True (preset 'mpe_spread')")
    if (
        cfg.n_goals not in (None, cfg.n_agents)
        or cfg.n_obstacles
        or cfg.boundary == "torus"
        or cfg.sensing_radius is not None
    ):
        raise ValueError(
            "mpe_compat (preset 'mpe_spread') needs n_goals = n_agents, no "
            "obstacles, no torus and no sensing_radius"
        )


def action_forces(actions: np.ndarray, cfg: Any) -> np.ndarray:
    """Forces ``(E, N, 2)`` from validated actions: MPE's ``Box(0, 1, (5,))`` continuous
    layout, force ``accel * (a2 - a1, a4 - a3)``; discrete actions as the default layout."""
    if not cfg.continuous_actions:
        return default_action_forces(actions, cfg)
    # Differences in the action's own dtype, as MPE computes them.
    u = np.stack([actions[..., 2] - actions[..., 1], actions[..., 4] - actions[..., 3]], axis=-1)
    return np.asfortranarray(u.astype(np.float64) * cfg.accel)


def observe_mpe(
    pos, vel, goals, goal_pairs: Pairwise | None = None, scratch: Scratch | None = None
) -> np.ndarray:
    """MPE simple_spread's layout, ``(E, N, 4 + 2 G + 4 (N - 1))`` float32 (a fresh array; with a
    ``scratch`` the feature-major work array is reused and the zero comm channel written once)."""
    E, N = pos.shape[:2]
    G = goals.shape[1]
    p = env_last(pos)  # (2, N, E)
    if goal_pairs is None:
        goal_rel = env_last(goals)[:, :, None, :] - p[:, None, :, :]
    else:
        goal_rel = goal_pairs.delta  # (2, G, N, E): goal - robot
    others = p[:, pair_table(N).partner] - p[:, None]  # (2, N - 1, N, E): other - robot
    # Built feature-major, (D, N, E), then made env-major; the silent comm channel stays zero.
    shape = (4 + 2 * G + 4 * (N - 1), N, E)
    if scratch is None:
        obs = np.zeros(shape, dtype=np.float32)
    else:
        obs, new = scratch.buffer("obs_mpe", shape, np.float32)
        if new:
            obs[...] = 0.0
    obs[0:2] = vel.T
    obs[2:4] = p
    obs[4 : 4 + 2 * G].reshape(G, 2, N, E)[...] = goal_rel.transpose(1, 0, 2, 3)
    start = 4 + 2 * G
    obs[start : start + 2 * (N - 1)].reshape(N - 1, 2, N, E)[...] = others.transpose(1, 0, 2, 3)
    return env_major(obs, scratch)


class MPESpread(NavigationTask):
    """``navigation-v0`` in MPE simple_spread's layouts (see the module docstring); needs a
    config with ``mpe_compat=True``, as many goals as robots, no obstacles, no torus and no
    sensing radius."""

    senses_nearest_goals = False

    @classmethod
    def observation_size(cls, config: Any) -> int:
        # Every goal and every other robot: grows with N.
        return 4 + 2 * config.goals + 4 * (config.n_agents - 1)

    @classmethod
    def state_size(cls, config: Any) -> int:
        return config.n_agents * cls.observation_size(config)

    @classmethod
    def make_action_space(cls, config: Any) -> spaces.Space:
        if not config.continuous_actions:
            return spaces.Discrete(5)
        return spaces.Box(0.0, 1.0, (5,), np.float32)

    def __init__(self, config: Any, n_envs: int = 1) -> None:
        check_config(config)
        super().__init__(config, n_envs)

    def _spawn_points(self, env_ids: np.ndarray, count: int, obstacles: np.ndarray) -> np.ndarray:
        return self.rng.uniform(env_ids, (count, 2), -1.0, 1.0)

    def _action_forces(self, actions: np.ndarray) -> np.ndarray:
        return action_forces(actions, self.config)

    def observe(self) -> np.ndarray:
        if self._obs is None:
            self._obs = observe_mpe(
                self.pos, self.vel, self.goals, self._goal_pairwise(), self._scratch["obs"]
            )
        return self._obs

    def state(self) -> np.ndarray:
        return self.observe().reshape(self.n_envs, -1)
