"""The PettingZoo face: one env copy of a batched task behind agent-keyed dicts.

Robots are named ``robot_0 ... robot_{N-1}``. Written natively as a ``ParallelEnv``; the AEC form
is ``pettingzoo.utils.parallel_to_aec`` of it (:class:`VectorRewardAEC` with objectives).

With objectives set (``objectives=("goals", "energy")``) the env is multi-objective as MOMAland
defines it: each robot's reward is a float32 array of shape ``(K,)`` and ``reward_space(agent)``
is its ``Box``.
"""

from __future__ import annotations

from collections import deque
from itertools import repeat
from operator import setitem
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from swarmzoo.envs.core.collective import MeanField
from swarmzoo.envs.core.history import RenderHistory, draw_copy
from swarmzoo.envs.core.task import SwarmTask, validate_actions


class SwarmParallelEnv(ParallelEnv):
    """A PettingZoo ``ParallelEnv`` over one copy of ``task``.

    Args:
        task: a task built with ``n_envs=1``.
        render_mode: None, ``"human"`` or ``"rgb_array"``.

    Attributes:
        render_history: the episode's :class:`~swarmzoo.envs.core.history.RenderHistory`
            (what frames show of the past), kept only while rendering: None when
            ``render_mode`` is None.
        objectives: the reward's objectives (empty: scalar rewards).
        reward_spaces: agent -> its reward ``Box (K,)``, with objectives only (MOMAland's
            attribute; absent for scalar rewards).
    """

    metadata: dict[str, Any] = {
        "render_modes": ["human", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 10,
        "name": "swarm",
    }

    def __init__(self, task: SwarmTask, render_mode: str | None = None) -> None:
        if task.n_envs != 1:
            raise ValueError(f"the PettingZoo face runs one env copy, the task has {task.n_envs}")
        if render_mode not in (None, "human", "rgb_array"):
            raise ValueError(f"render_mode must be None, 'human' or 'rgb_array', got {render_mode!r}")
        self.task = task
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": task.name, "render_fps": task.render_fps}
        self.possible_agents = task.agent_names()
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self.observation_spaces = dict.fromkeys(self.possible_agents, task.observation_space)
        self.action_spaces = {a: _copy_space(task.action_space) for a in self.possible_agents}
        self.state_space = task.state_space
        self.objectives = task.objectives
        if task.objectives:
            self.reward_spaces = {a: task.reward_space() for a in self.possible_agents}
        self._discrete = isinstance(task.action_space, spaces.Discrete)
        self._done = np.ones(task.n_agents, dtype=bool)
        self._noop = np.zeros(task.action_space.shape or (), dtype=task.action_space.dtype)
        self._action_shape = tuple(task.action_space.shape or ())
        self._renderer = None
        self.render_history = None if render_mode is None else RenderHistory(task.history_lengths)
        self._last_rewards: list = []
        # Types of discrete action values already checked (the check runs once per type).
        self._discrete_types_ok: set[type] = set()

    def __str__(self) -> str:
        return self.metadata["name"]

    # -- spaces -------------------------------------------------------------------------------

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[self._agent(agent)]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[self._agent(agent)]

    def reward_space(self, agent: str) -> spaces.Box:
        """The agent's reward space ``Box (K,)`` over the objectives (MOMAland's API).

        Raises:
            ValueError: the env has scalar rewards (no ``objectives``).
        """
        self._agent(agent)
        if not self.objectives:
            raise ValueError(f"{self} has scalar rewards; pass objectives=(...) for vector rewards")
        return self.reward_spaces[agent]

    def _agent(self, agent: str) -> str:
        try:
            known = agent in self._index
        except TypeError:  # unhashable
            known = False
        if not known:
            raise ValueError(
                f"unknown agent {agent!r}; agents are {self.possible_agents[0]} .. {self.possible_agents[-1]}"
            )
        return agent

    @property
    def max_cycles(self) -> int:
        return self.task.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.task.max_cycles = int(value)

    # -- API ----------------------------------------------------------------------------------

    def reset(self, seed: int | None = None, options: dict | None = None):
        self.task.rng.seed([seed])
        self.task.reset()
        self.agents = self.possible_agents[:]
        self._done[:] = False
        self._last_rewards = []
        if self.render_history is not None:
            self.render_history.restart(self.task.history_sample())
        obs = self.task.observe()[0].copy()
        infos = self._agent_infos(self.task.reset_infos(), self.agents, None)
        if self.render_mode == "human":
            self.render()
        return dict(zip(self.agents, obs)), infos

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise RuntimeError(
                "step() called with no live agents: call reset() first "
                "(before the first step and after an episode ends)"
            )
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict keyed by agent name, got {type(actions).__name__}")
        batch = self._action_batch(actions)
        try:
            rewards, term, trunc, info = self.task.step(batch)
        except (ValueError, TypeError) as err:
            self._blame(actions, err)
            raise
        if self.render_history is not None:
            self.render_history.record(self.task.history_sample())
        live = self.agents
        obs = self.task.observe()[0]
        if len(live) == self.task.n_agents:  # everyone live: whole rows, no index gathering
            idx = None
            obs = obs.copy()
            rew_rows = rewards[0]
            term_l, trunc_l = term[0].tolist(), trunc[0].tolist()
        else:
            idx = np.flatnonzero(~self._done)
            obs = obs[idx]
            rew_rows = rewards[0, idx]
            term_l, trunc_l = term[0, idx].tolist(), trunc[0, idx].tolist()
        # Scalar rewards as Python floats; objectives as one float32 (K,) array per robot.
        rew = list(rew_rows.astype(np.float32)) if self.objectives else rew_rows.tolist()
        self._last_rewards = rew
        out = (
            dict(zip(live, obs)),
            dict(zip(live, rew)),
            dict(zip(live, term_l)),
            dict(zip(live, trunc_l)),
            self._agent_infos(info, live, idx),
        )
        if True in term_l or True in trunc_l:
            self._done |= term[0] | trunc[0]
            self.agents = [a for a, d in zip(self.possible_agents, self._done.tolist()) if not d]
        if self.render_mode == "human":
            self.render()
        return out

    def _action_batch(self, actions: dict[str, Any]) -> np.ndarray:
        live = self.agents
        if len(actions) != len(live) or not all(map(actions.__contains__, live)):
            unknown = [a for a in actions if a not in self._index]
            if unknown:
                raise ValueError(f"actions for unknown agent(s) {unknown}")
            dead = [a for a in actions if a not in live]
            if dead:
                raise ValueError(f"actions for agent(s) that are done: {dead}")
            missing = [a for a in live if a not in actions]
            raise ValueError(f"missing actions for live agent(s) {missing}")
        vals = list(map(actions.__getitem__, live))
        if self._discrete:
            if not self._discrete_types_ok.issuperset(map(type, vals)):
                for a, v in zip(live, vals):
                    if (
                        isinstance(v, (bool, np.bool_))
                        or not isinstance(v, (int, np.integer, np.ndarray))
                        or (isinstance(v, np.ndarray) and v.dtype.kind not in "iu")
                    ):
                        raise TypeError(f"discrete actions must be integers, got {v!r} for {a}")
                # Scalar types are safe once seen; arrays are checked every time (their dtype varies).
                self._discrete_types_ok.update(t for t in map(type, vals) if t is not np.ndarray)
        try:
            if self._discrete:
                arr = np.asarray(vals)
            else:
                arrs = [np.asarray(v) for v in vals]
                if self._action_shape == (1,):  # a scalar for a one-element Box is unambiguous
                    arrs = [x.reshape(1) if x.ndim == 0 else x for x in arrs]
                if not all(x.dtype.kind in "fiu" for x in arrs):  # else bools become 0.0 / 1.0
                    a, x = next((a, x) for a, x in zip(live, arrs) if x.dtype.kind not in "fiu")
                    raise TypeError(f"action for {a}: continuous actions must be numbers, not {x.dtype}")
                arr = np.asarray(arrs)
        except ValueError:  # ragged: some robot's action has another shape
            arr = None
        if arr is None or arr.shape[1:] != self._action_shape:
            for a, v in zip(live, vals):
                try:
                    shape = np.shape(v)
                except ValueError:  # ragged nested lists
                    shape = "ragged"
                if shape != self._action_shape:
                    raise ValueError(
                        f"action for {a} has shape {shape}, expected "
                        f"{self._action_shape} ({self.action_spaces[a]})"
                    )
        if self._discrete and arr.dtype.kind not in "iu":  # integers of mixed numpy types promote to float
            arr = np.asarray([int(v) for v in vals])
        if len(live) == self.task.n_agents:
            return arr[None]
        full = np.broadcast_to(self._noop, (self.task.n_agents, *self._noop.shape)).copy()
        full[~self._done] = arr
        return full[None]

    def _blame(self, actions: dict[str, Any], err: Exception) -> None:
        """Re-raise a refused batch's error naming the first live agent whose own action the
        task refuses (returns where no single action is at fault)."""
        for a in self.agents:
            try:
                one = np.asarray(actions[a])
            except (ValueError, TypeError):
                one = np.asarray(None)
            if not self._discrete and self._action_shape == (1,) and one.ndim == 0:
                one = one.reshape(1)  # the scalar _action_batch accepted
            try:
                validate_actions(one[None, None], self.task.action_space, 1, 1, locate=False)
            except (ValueError, TypeError) as own:
                raise type(own)(f"action for {a}: {own}") from err

    def _agent_infos(self, info: dict[str, np.ndarray], names: list[str], idx: np.ndarray | None) -> dict:
        """Per-agent info dicts of ``names`` (robots ``idx``, all if None) from the batch's
        ``(E,)`` (shared by all robots) or ``(E, N)`` arrays, as Python scalars."""
        if not info:
            return {a: {} for a in names}
        # One template dict in the info's key order (shared values filled in), copied per agent,
        # then each per-robot column written in with one C-level map: ~3x faster than building
        # every agent's dict from a zip at N = 1,000 (the PettingZoo face's largest cost there).
        template: dict[str, Any] = {}
        columns = []
        for key, arr in info.items():
            arr = np.asarray(arr)[0]
            if arr.ndim == 0:
                template[key] = arr.item()
            else:
                column = (arr if idx is None else arr[idx]).tolist()
                if len(column) != len(names):
                    raise ValueError(f"info {key!r} has {len(column)} values for {len(names)} agents")
                template[key] = None
                columns.append((key, column))
        out = [template.copy() for _ in names]
        for key, column in columns:
            deque(map(setitem, out, repeat(key), column), maxlen=0)
        return dict(zip(names, out))

    def state(self) -> np.ndarray:
        return self.task.state()[0]

    def mean_field(self) -> MeanField:
        """The swarm's empirical state distribution (samples ``(1, N, S)``; see
        :class:`~swarmzoo.envs.core.collective.MeanField`)."""
        return self.task.mean_field()

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            import gymnasium

            gymnasium.logger.warn("render() called without a render_mode; pass render_mode=...")
            return None
        if self._renderer is None:
            from swarmzoo.envs.core.render import Renderer

            self._renderer = Renderer(
                self.task.arena, self.render_mode, fps=self.task.render_fps, title=self.metadata["name"]
            )
        lines = draw_copy(self.task, self._renderer, 0, self.render_history)
        self._renderer.hud(
            [
                self.metadata["name"],
                f"step {int(self.task.steps[0])}/{self.task.max_cycles}",
                self._reward_line(),
                *lines,
            ]
        )
        return self._renderer.finish()

    def _reward_line(self) -> str:
        """The frame's reward line: the mean over live robots of the last step's reward (of
        each objective, with objectives)."""
        if not self.objectives:
            return f"mean reward {np.mean(self._last_rewards) if self._last_rewards else 0.0:+.3f}"
        means = np.mean(self._last_rewards, axis=0) if self._last_rewards else np.zeros(len(self.objectives))
        return "mean reward " + " ".join(f"{n} {m:+.3f}" for n, m in zip(self.objectives, means))

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


class VectorRewardAEC(parallel_to_aec_wrapper):
    """PettingZoo's parallel-to-AEC conversion for an env with objectives: rewards and
    cumulative rewards stay ``(K,)`` float32 arrays (PettingZoo's resets them to the scalar 0),
    as MOMAland's AEC API wants; ``reward_space(agent)`` is the parallel env's."""

    def __init__(self, parallel_env: SwarmParallelEnv) -> None:
        if not parallel_env.objectives:
            raise ValueError(f"{parallel_env} has scalar rewards; VectorRewardAEC needs objectives")
        super().__init__(parallel_env)

    @property
    def reward_spaces(self) -> dict[str, spaces.Box]:
        return self.env.reward_spaces

    def reward_space(self, agent: str) -> spaces.Box:
        return self.env.reward_space(agent)

    def _zeros(self) -> dict[str, np.ndarray]:
        k = len(self.env.objectives)
        return {a: np.zeros(k, dtype=np.float32) for a in self.agents}

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        super().reset(seed=seed, options=options)
        self.rewards = self._zeros()
        self._cumulative_rewards = self._zeros()

    def step(self, action: Any) -> None:
        super().step(action)
        # Own copies, so accumulating one dict never changes the other's arrays.
        self.rewards = {a: np.array(r, dtype=np.float32) for a, r in self.rewards.items()}
        self._cumulative_rewards = {
            a: np.array(r, dtype=np.float32) for a, r in self._cumulative_rewards.items()
        }

    def _clear_rewards(self) -> None:
        k = len(self.env.objectives)
        for agent in self.rewards:
            self.rewards[agent] = np.zeros(k, dtype=np.float32)


def _copy_space(space: spaces.Space) -> spaces.Space:
    """A fresh copy per agent, so seeding one agent's action space leaves the others alone."""
    if isinstance(space, spaces.Discrete):
        return spaces.Discrete(int(space.n), start=int(space.start))
    if isinstance(space, spaces.Box):
        return spaces.Box(space.low.copy(), space.high.copy(), dtype=space.dtype)
    raise TypeError(f"unsupported action space {space}")
