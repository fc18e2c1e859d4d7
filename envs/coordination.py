"""# Markov coordination game (``coordination-v0``)

The multi-state coordination game of the Bayesian-network actor-critic paper (Chen & Zhang,
ICML 2023) as an env: ``N`` robots each hold one bit, choose a bit every step, and are paid
together for a clear majority. A clear majority of zeros pays most, but a robot that switches to
zero alone only breaks the ones' majority: independent learners can settle on the all-ones
convention, which is what correlated (Bayesian-network) policies exist to escape. The exact,
tabular form of the same game is :class:`swarmzoo.algorithms.coordination_game.MarkovCoordinationGame`
(``benchmarks/coordination_game.py``); this is the form RL libraries train on.

| Import              | ``swarmzoo.make("coordination-v0")``                            |
|---------------------|-----------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{N-1}``                                     |
| Actions             | ``Discrete(2)``: the bit the robot chooses                      |
| Observation         | ``Box(0, 1, (2 N,), float32)``                                  |
| State               | ``Box(0, 1, (N,), float32)``: the bits                          |

## Dynamics

The state is one bit per robot, drawn uniformly at reset. Each step robot ``i``'s new bit is its
action, flipped with probability ``noise`` (independently per robot).

## Observation (index slices)

| Slice           | Content                                                                |
|-----------------|------------------------------------------------------------------------|
| ``[0:N]``       | the bits, starting with the robot's own: ``s_i, s_{i+1}, .., s_{i-1}`` |
| ``[N:2N]``      | one-hot robot index (parameter-shared policies can tell robots apart)  |

## Reward

Shared by all robots, from the new state: with ``z`` zeros and ``o`` ones, 3 if
``z - o > margin``, 2 if ``o - z > margin``, and inside the margin 1 if ``o > z``, else 0
(:func:`coordination_reward`). The best joint action is all zeros in every state (the transition
ignores the state), worth :func:`optimal_step_reward` per step in expectation; all ones earn
about 2.

The scripted baseline (``--policy heuristic``) is
:class:`swarmzoo.agents.coordination.AllZeros`.

## Termination and truncation

Never terminates; truncation after ``max_cycles`` steps.

## Infos (per step)

``ones`` (fraction of ones in the new state), ``zeros_majority`` (reward 3 this step),
``ones_majority`` (reward 2).

## Version history

* v0: initial release.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from math import comb

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.task import SwarmTask, check_number, check_positive_int
from swarmzoo.envs.registry import register

ZERO_COLOUR = (40, 170, 80)
ONE_COLOUR = (235, 140, 30)


@dataclass(frozen=True)
class Config:
    """Arguments of ``coordination-v0``.

    Attributes:
        n_agents: number of robots N (>= 2).
        noise: probability that a robot's new bit is the opposite of its action, in [0, 0.5].
        margin: majority margin; None for the paper's ``round(N / 3)`` (at least 1), which gives
            1, 1, 2, 3 for N = 2, 3, 5, 10.
        max_cycles: steps per episode.
    """

    n_agents: int = 3
    noise: float = 0.1
    margin: int | None = None
    max_cycles: int = 50

    def __post_init__(self) -> None:
        check_positive_int("n_agents", self.n_agents, minimum=2)
        check_number("noise", self.noise, 0.0, 0.5)
        if self.margin is not None:
            check_positive_int("margin", self.margin, minimum=0)
            if self.margin >= self.n_agents:
                raise ValueError(
                    f"margin must be below n_agents={self.n_agents} (or no majority is ever clear), "
                    f"got {self.margin}"
                )
        check_positive_int("max_cycles", self.max_cycles)

    @cached_property
    def majority_margin(self) -> int:
        """The margin in use (``margin``, or ``round(N / 3)`` but at least 1)."""
        return max(1, round(self.n_agents / 3)) if self.margin is None else int(self.margin)


def coordination_reward(ones: np.ndarray, n: int, margin: int) -> np.ndarray:
    """The shared reward of states with ``ones`` ones among ``n`` bits (any shape, integer)."""
    ones = np.asarray(ones)
    lead = (n - ones) - ones  # zeros minus ones
    inside = np.abs(lead) <= margin
    return np.where(inside, (ones > n - ones).astype(float), np.where(lead > 0, 3.0, 2.0))


def optimal_step_reward(config: Config) -> float:
    """Expected reward per step of the best joint action (all zeros): the number of bits that
    flip is binomial(N, noise)."""
    n, p = config.n_agents, config.noise
    flips = np.arange(n + 1)
    probs = np.array([comb(n, k) * p**k * (1 - p) ** (n - k) for k in flips])
    return float(probs @ coordination_reward(flips, n, config.majority_margin))


class Coordination(SwarmTask):
    """Batched coordination game: ``bits (E, N)`` int8. Robots sit on a circle for rendering
    (``pos (E, N, 2)``, constant)."""

    name = "coordination_v0"
    Config = Config
    fixed_actions = "discrete"

    @classmethod
    def observation_size(cls, config: Config) -> int:
        return 2 * config.n_agents

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        E, N = self.n_envs, self.n_agents
        self.arena = Arena(2.0, 2.0, "walls")
        angle = np.pi / 2 - 2 * np.pi * np.arange(N) / N
        ring = 0.7 * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
        self.pos = np.broadcast_to(ring, (E, N, 2))
        self.radius = min(0.2, 0.7 * np.sin(np.pi / N) * 0.8)
        self.bits = np.zeros((E, N), dtype=np.int8)
        self.last_reward = np.zeros(E)
        # own bit first: row i of `order` is i, i+1, .., i-1
        self.order = (np.arange(N)[:, None] + np.arange(N)[None, :]) % N
        self.identity = np.eye(N, dtype=np.float32)
        self.observation_space = spaces.Box(0.0, 1.0, (2 * N,), np.float32)
        self.state_space = spaces.Box(0.0, 1.0, (N,), np.float32)
        self.action_space = spaces.Discrete(2)

    def _reset(self, env_ids: np.ndarray) -> None:
        self.bits[env_ids] = self.rng.uniform(env_ids, (self.n_agents,)) < 0.5
        self.last_reward[env_ids] = 0.0

    def _step(self, actions: np.ndarray):
        cfg = self.config
        flip = self.rng.uniform(np.arange(self.n_envs), (self.n_agents,)) < cfg.noise
        self.bits = (actions.astype(np.int8) ^ flip).astype(np.int8)
        ones = self.bits.sum(axis=1, dtype=np.int64)
        reward = coordination_reward(ones, self.n_agents, cfg.majority_margin)
        self.last_reward = reward
        rewards = np.repeat(reward[:, None], self.n_agents, axis=1)
        terminated = np.zeros((self.n_envs, self.n_agents), dtype=bool)
        infos = {
            "ones": ones / self.n_agents,
            "zeros_majority": reward == 3.0,
            "ones_majority": reward == 2.0,
        }
        return rewards, terminated, infos

    def observe(self) -> np.ndarray:
        bits = self.bits.astype(np.float32)[:, self.order]  # (E, N, N), own bit first
        identity = np.broadcast_to(self.identity, bits.shape)
        return np.concatenate([bits, identity], axis=-1)

    def state(self) -> np.ndarray:
        return self.bits.astype(np.float32)

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        ones = int(self.bits[env_index].sum())
        return [f"zeros {self.n_agents - ones}  ones {ones}  reward {self.last_reward[env_index]:g}"]

    def draw(self, renderer, env_index: int, history: RenderHistory) -> None:
        bits = self.bits[env_index]
        colours = np.where(bits[:, None] == 1, ONE_COLOUR, ZERO_COLOUR)
        renderer.begin()
        renderer.circles(self.pos[env_index], self.radius, colours, outline=(20, 20, 20))


parallel_env, raw_env, env, vector_env = make_factories(Coordination)
register("coordination-v0", __name__, "Markov coordination game: binary robots paid for a clear majority")
