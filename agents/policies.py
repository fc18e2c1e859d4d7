"""The policy contract used by evaluation, rendering and the CLI, and the random baseline.

A policy maps a batch of observations to a batch of actions for a batched task::

    actions = policy.act(obs, task)   # obs (E, N, D) -> actions (E, N) or (E, N, A)

Learned policies read only ``obs``; scripted controllers may also read the task's state arrays
(they are baselines, not decentralised policies).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core.task import SwarmTask


class Policy(Protocol):
    """Anything with ``act(obs (E, N, D), task) -> actions``."""

    def act(self, obs: np.ndarray, task: SwarmTask) -> np.ndarray: ...


class RandomPolicy:
    """Uniform random actions from the task's action space, from its own seeded generator."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, task: SwarmTask) -> np.ndarray:
        space = task.action_space
        E, N = obs.shape[:2]
        if isinstance(space, spaces.Discrete):
            return self.rng.integers(space.start, space.start + space.n, size=(E, N))
        if isinstance(space, spaces.Box):
            u = self.rng.random((E, N, *space.shape))
            return (space.low + (space.high - space.low) * u).astype(space.dtype)
        raise TypeError(f"RandomPolicy does not support {space}")
