"""A memory task for recurrent actors (a PettingZoo ParallelEnv, for tests): each robot sees a
random cue bit at the first step only and is paid at the last step for naming it.

Observation ``[cue if first step else 0, first step, last step]``; actions ``Discrete(2)``;
reward 1 at the last step for action == cue, 0 otherwise. A memoryless policy cannot beat 1/2 per
episode; one that remembers the cue earns 1.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv


class CueRecall(ParallelEnv):
    metadata = {"name": "cue_recall_v0"}

    def __init__(self, n_agents: int = 2, length: int = 4) -> None:
        self.possible_agents = [f"robot_{i}" for i in range(n_agents)]
        self.length = length
        self.observation_spaces = {a: spaces.Box(0.0, 1.0, (3,), np.float32) for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(2) for a in self.possible_agents}
        self.rng = np.random.default_rng()

    def observation_space(self, agent):
        return self.observation_spaces[agent]

    def action_space(self, agent):
        return self.action_spaces[agent]

    def _obs(self) -> dict:
        first, last = self.t == 0, self.t == self.length - 1
        return {
            a: np.array([self.cue[i] if first else 0.0, first, last], dtype=np.float32)
            for i, a in enumerate(self.possible_agents)
        }

    def reset(self, seed=None, options=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.t = 0
        self.cue = self.rng.integers(0, 2, len(self.agents))
        return self._obs(), {a: {} for a in self.agents}

    def step(self, actions):
        last = self.t == self.length - 1
        rewards = {a: float(last and actions[a] == self.cue[i]) for i, a in enumerate(self.possible_agents)}
        self.t += 1
        done = self.t >= self.length
        obs = self._obs() if not done else {a: np.zeros(3, np.float32) for a in self.agents}
        terms = {a: False for a in self.agents}
        truncs = {a: done for a in self.agents}
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, {a: {} for a in self.possible_agents}


def parallel_env(**kwargs) -> CueRecall:
    return CueRecall(**kwargs)
