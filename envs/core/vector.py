"""The vector face: ``E`` env copies of a batched task, arrays in and out, auto-reset.

Shapes: observations ``(E, N, D)``, actions ``(E, N)`` (discrete) or ``(E, N, A)``
(continuous), rewards / terminations / truncations ``(E, N)``; with ``K`` objectives rewards
(and ``episode_return``) are ``(E, N, K)``.

Auto-reset happens inside ``step``: a copy whose robots are all done is reset at once, the
returned observation is the first of the new episode, and the last observation of the old one is
kept in ``infos["final_obs"]`` (rows valid where ``infos["_final_obs"]`` is True). Terminations
and truncations stay apart, so a trainer bootstraps on truncation and not on termination.
Finished episodes are summarised in ``infos["episode_return"] (E, N)`` and
``infos["episode_length"] (E,)``, valid where ``infos["_episode"]`` is True. A task whose infos
carry a per-robot ``cost`` (a ``safety_radius``: constrained RL) adds ``infos["episode_cost"]
(E, N)``, its sum over the episode, beside ``episode_return``.

Copy ``i`` reset with ``seed`` behaves exactly like the PettingZoo face reset with ``seed + i``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core.collective import MeanField
from swarmzoo.envs.core.history import RenderHistory, draw_copy
from swarmzoo.envs.core.rng import check_seed
from swarmzoo.envs.core.task import SwarmTask


class SwarmVectorEnv:
    """``E`` copies of a task.

    Args:
        task: a task built with ``n_envs = E``.
        render_mode: None, ``"human"`` or ``"rgb_array"`` (renders copy 0).

    Attributes:
        render_history: copy 0's :class:`~swarmzoo.envs.core.history.RenderHistory` (what
            frames show of the past), kept only while rendering and restarted with each of copy
            0's episodes (reset, auto-reset, ``reset_copies``): None when ``render_mode`` is None.
    """

    def __init__(self, task: SwarmTask, render_mode: str | None = None) -> None:
        if render_mode not in (None, "human", "rgb_array"):
            raise ValueError(f"render_mode must be None, 'human' or 'rgb_array', got {render_mode!r}")
        self.task = task
        self.render_mode = render_mode
        self.num_envs = task.n_envs
        self.n_agents = task.n_agents
        self.agents = task.agent_names()
        self.single_observation_space = task.observation_space
        self.single_action_space = task.action_space
        self.state_space = task.state_space
        self.objectives = task.objectives
        self.single_reward_space = task.reward_space() if task.objectives else None
        """One robot's reward ``Box (K,)`` with objectives; None for scalar rewards."""
        E, N = self.num_envs, self.n_agents
        obs = task.observation_space
        self.observation_space = spaces.Box(
            np.broadcast_to(obs.low, (E, N, *obs.shape)),
            np.broadcast_to(obs.high, (E, N, *obs.shape)),
            dtype=obs.dtype,
        )
        act = task.action_space
        if isinstance(act, spaces.Discrete):
            self.action_space = spaces.MultiDiscrete(np.full((E, N), act.n), start=np.full((E, N), act.start))
        else:
            self.action_space = spaces.Box(
                np.broadcast_to(act.low, (E, N, *act.shape)),
                np.broadcast_to(act.high, (E, N, *act.shape)),
                dtype=act.dtype,
            )
        self.metadata = {
            "render_modes": ["human", "rgb_array"],
            "render_fps": task.render_fps,
            "name": task.name,
        }
        self._returns = np.zeros((E, N, len(task.objectives)) if task.objectives else (E, N))
        self._costs = np.zeros((E, N))  # episode sums of infos["cost"], where a task reports it
        self._done = np.zeros((E, N), dtype=bool)
        self._needs_reset = True
        self._renderer = None
        self.render_history = None if render_mode is None else RenderHistory(task.history_lengths)
        self.record_final_mean_field = False
        """Also return ``infos["final_mean_field"]`` (the finished episodes' last
        :class:`MeanField`) on auto-reset, for mean-field trainers that bootstrap from it."""

    @property
    def max_cycles(self) -> int:
        return self.task.max_cycles

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Reset every copy; copy ``i`` is seeded with ``seed + i`` when ``seed`` is given.

        Returns:
            ``obs (E, N, D)`` and ``infos`` (dict of arrays).
        """
        check_seed(seed)
        seeds = [None] * self.num_envs if seed is None else [int(seed) + i for i in range(self.num_envs)]
        self.task.rng.seed(seeds)
        self.task.reset()
        self._returns[:] = 0.0
        self._costs[:] = 0.0
        self._done[:] = False
        self._needs_reset = False
        if self.render_history is not None:
            self.render_history.restart(self.task.history_sample())
        return self.task.observe(), dict(self.task.reset_infos())

    def reset_copies(self, env_ids) -> np.ndarray:
        """Start a new episode in copies ``env_ids`` only (each continues its own random stream),
        as auto-reset does inside :meth:`step`, e.g. for copies cut short by an outside time limit.

        Returns:
            ``obs (E, N, D)`` of every copy (the others unchanged).

        Raises:
            ValueError: an id outside ``0 .. E - 1``.
        """
        if self._needs_reset:
            raise RuntimeError("reset_copies() called before reset(): call reset() first")
        ids = np.unique(np.asarray(env_ids, dtype=np.int64).ravel())
        if ids.size and (ids[0] < 0 or ids[-1] >= self.num_envs):
            raise ValueError(
                f"env_ids must lie in 0 .. {self.num_envs - 1}, got {np.asarray(env_ids).tolist()}"
            )
        if ids.size:
            self.task.reset(ids)
            self._returns[ids] = 0.0
            self._costs[ids] = 0.0
            self._done[ids] = False
            if self.render_history is not None and ids[0] == 0:
                self.render_history.restart(self.task.history_sample())
        return self.task.observe()

    def step(self, actions: np.ndarray):
        """Step every copy. See the module docstring for shapes and auto-reset.

        Robots that finished before the rest of their copy are stepped with a no-op and get zero
        reward until the copy resets.
        """
        if self._needs_reset:
            raise RuntimeError("step() called before reset(): call reset() first")
        rewards, term, trunc, infos = self.task.step(actions)
        infos = dict(infos)
        if np.logical_or.reduce(self._done, axis=None):
            rewards = np.where(self._done[..., None] if self.objectives else self._done, 0.0, rewards)
        self._returns += rewards
        if "cost" in infos:
            self._costs += np.where(self._done, 0.0, infos["cost"])
        done = self._done | term | trunc
        obs = self.task.observe()
        finished = done.T.copy().all(axis=0)  # env axis innermost: one long loop, not E short ones
        infos["_final_obs"] = finished
        infos["_episode"] = finished
        if np.logical_or.reduce(finished):
            ids = np.flatnonzero(finished)
            infos["final_obs"] = obs.copy()
            infos["final_state"] = self.task.state()
            if self.record_final_mean_field:
                infos["final_mean_field"] = self.task.mean_field()
            infos["episode_return"] = self._returns.copy()
            infos["episode_length"] = self.task.steps.copy()
            if "cost" in infos:
                infos["episode_cost"] = self._costs.copy()
            self.task.reset(ids)
            self._returns[ids] = 0.0
            self._costs[ids] = 0.0
            done[ids] = False
            obs = self.task.observe()
        if self.render_history is not None:
            if finished[0]:  # copy 0 started a new episode
                self.render_history.restart(self.task.history_sample())
            else:
                self.render_history.record(self.task.history_sample())
        self._done = done
        return obs, rewards, term, trunc, infos

    def state(self) -> np.ndarray:
        """Global states ``(E, S)``."""
        return self.task.state()

    def mean_field(self) -> MeanField:
        """The swarms' empirical state distributions (samples ``(E, N, S)``; see
        :class:`~swarmzoo.envs.core.collective.MeanField`)."""
        return self.task.mean_field()

    def render(self) -> np.ndarray | None:
        """Render copy 0."""
        if self.render_mode is None:
            return None
        if self._renderer is None:
            from swarmzoo.envs.core.render import Renderer

            self._renderer = Renderer(
                self.task.arena, self.render_mode, fps=self.task.render_fps, title=self.task.name
            )
        lines = draw_copy(self.task, self._renderer, 0, self.render_history)
        self._renderer.hud([self.task.name, f"step {int(self.task.steps[0])}/{self.task.max_cycles}", *lines])
        return self._renderer.finish()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle and deep-copy without the renderer (it holds pygame objects, which do not
        pickle): a copy opens its own on its first ``render()``; the original keeps its own. The
        render history (plain data) goes along."""
        state = self.__dict__.copy()
        state["_renderer"] = None
        return state
