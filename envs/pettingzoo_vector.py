"""Any PettingZoo ``ParallelEnv`` as a vector env with swarmzoo's array contract (the slow path).

swarmzoo's own envs are batched natively (``swarmzoo.make_vec``); this adapter lets the same
trainers run on envs from elsewhere (e.g. mpe2's ``simple_spread_v3``) by stepping ``E`` copies
one after another. Agents must be homogeneous (one observation and action space for all), which
is what a shared policy needs. Agents that finish before the rest of their copy receive zero
observations and rewards until the copy resets.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv


def load_factory(spec: str) -> Callable[..., ParallelEnv]:
    """``"package.module:factory"`` -> the callable (e.g. ``"mpe2.simple_spread_v3:parallel_env"``)."""
    module, sep, attr = spec.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"expected 'module:factory', got {spec!r}")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot load PettingZoo env factory {spec!r}: {err}") from err


class ParallelEnvBatch:
    """``num_envs`` copies of a PettingZoo parallel env behind arrays ``(E, N, ...)``.

    Args:
        env_fn: builds one ``ParallelEnv``.
        num_envs: copies ``E``.
    """

    def __init__(self, env_fn: Callable[[], ParallelEnv], num_envs: int) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.envs = [env_fn() for _ in range(num_envs)]
        first = self.envs[0]
        self.agents = list(first.possible_agents)
        self.num_envs = num_envs
        self.n_agents = len(self.agents)
        self.single_observation_space: spaces.Box = first.observation_space(self.agents[0])
        self.single_action_space: spaces.Space = first.action_space(self.agents[0])
        for a in self.agents[1:]:
            if (
                first.observation_space(a) != self.single_observation_space
                or first.action_space(a) != self.single_action_space
            ):
                raise ValueError(
                    f"agent {a!r} has other spaces than {self.agents[0]!r}: all agents "
                    "must share one observation and one action space (pad them first)"
                )
        self._has_state = isinstance(getattr(first, "state_space", None), spaces.Box)
        dim = int(np.prod(self.single_observation_space.shape))
        self.state_space = (
            first.state_space
            if self._has_state
            else spaces.Box(-np.inf, np.inf, (self.n_agents * dim,), np.float32)
        )
        self.render_mode = getattr(first, "render_mode", None)
        self.task = None
        self.max_cycles = getattr(first.unwrapped, "max_cycles", None)
        self._obs = np.zeros((num_envs, self.n_agents, *self.single_observation_space.shape), np.float32)
        self._returns = np.zeros((num_envs, self.n_agents))
        self._lengths = np.zeros(num_envs, dtype=np.int64)

    def _fill(self, e: int, obs: dict[str, Any]) -> None:
        self._obs[e] = 0.0
        for i, a in enumerate(self.agents):
            if a in obs:
                self._obs[e, i] = obs[a]

    def _state(self, e: int) -> np.ndarray:
        return np.asarray(self.envs[e].state(), np.float32) if self._has_state else self._obs[e].reshape(-1)

    def reset(self, seed: int | None = None, options: dict | None = None):
        for e, env in enumerate(self.envs):
            obs, _ = env.reset(seed=None if seed is None else seed + e)
            self._fill(e, obs)
        self._returns[:] = 0.0
        self._lengths[:] = 0
        return self._obs.copy(), {}

    def state(self) -> np.ndarray:
        return np.stack([self._state(e) for e in range(self.num_envs)])

    def step(self, actions: np.ndarray):
        E, N = self.num_envs, self.n_agents
        rewards = np.zeros((E, N))
        term = np.zeros((E, N), dtype=bool)
        trunc = np.zeros((E, N), dtype=bool)
        finished = np.zeros(E, dtype=bool)
        final_obs = np.zeros_like(self._obs)
        final_state = np.zeros((E, *self.state_space.shape), np.float32)
        episode_return = np.zeros((E, N))
        episode_length = np.zeros(E, dtype=np.int64)
        for e, env in enumerate(self.envs):
            live = list(env.agents)
            act = {a: actions[e, self.agents.index(a)] for a in live}
            obs, rew, te, tr, _ = env.step(act)
            for i, a in enumerate(self.agents):
                rewards[e, i] = rew.get(a, 0.0)
                term[e, i] = te.get(a, a not in live)
                trunc[e, i] = tr.get(a, False)
            self._fill(e, obs)
            self._returns[e] += rewards[e]
            self._lengths[e] += 1
            if not env.agents:
                finished[e] = True
                final_obs[e] = self._obs[e]
                final_state[e] = self._state(e)
                episode_return[e] = self._returns[e]
                episode_length[e] = self._lengths[e]
                obs, _ = env.reset()
                self._fill(e, obs)
                self._returns[e] = 0.0
                self._lengths[e] = 0
        infos = {"_final_obs": finished, "_episode": finished}
        if finished.any():
            infos.update(
                final_obs=final_obs,
                final_state=final_state,
                episode_return=episode_return,
                episode_length=episode_length,
            )
        return self._obs.copy(), rewards, term, trunc, infos

    def close(self) -> None:
        for env in self.envs:
            env.close()
