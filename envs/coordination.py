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
| Observation         | ``Box(0, 1, (2 N,), float32)`` (other sizes: see below)         |
| State               | ``Box(0, 1, (N,), float32)``: the bits (``N + 1`` with a cue)   |

## Dynamics

The state is one bit per robot, drawn uniformly at reset. Each step robot ``i``'s new bit is its
action, flipped with probability ``noise`` (independently per robot).

## Observation (index slices)

With ``B = N`` bits observed (``observe="all"``, the default) or ``B = 1`` (``observe="own"``):

| Slice             | Content                                                                |
|-------------------|------------------------------------------------------------------------|
| ``[0:B]``         | the bits, starting with the robot's own: ``s_i, s_{i+1}, .., s_{i-1}`` |
| ``[B:B+N]``       | one-hot robot index (parameter-shared policies can tell robots apart)  |
| ``[B+N:B+N+2]``   | only with ``cue_steps > 0``: the cue (see below), zeros once hidden    |

The cue is one-hot over the paying bit, shown during the first ``cue_steps`` observations of an
episode (the one ``reset`` returns counts as the first) and zeros afterwards.

## Reward

Shared by all robots, from the new state: with ``z`` zeros and ``o`` ones, 3 if
``z - o > margin``, 2 if ``o - z > margin``, and inside the margin 1 if ``o > z``, else 0
(:func:`coordination_reward`). The best joint action is all zeros in every state (the transition
ignores the state), worth :func:`optimal_step_reward` per step in expectation; all ones earn
about 2.

## The memory variant (``cue_steps > 0``, ``observe="own"``)

Our addition, not in the paper: every episode draws which bit pays 3 (the *convention*, uniform
over 0 and 1; the other bit's majority pays 2 and the rule inside the margin is mirrored), and
the robots are told only during the first ``cue_steps`` observations. A robot that sees only its
own bit (``observe="own"``) must remember the cue: its own bit is a fading memory (it flips with
probability ``noise`` each step, so repeating it keeps the convention with probability
``(1 + (1 - 2 noise)^t) / 2`` after ``t`` steps), and the best memoryless rule is one fixed
convention, right in half the episodes. The recurrent actors (``--recurrent H`` of MAPPO and of
the Bayesian-network actor-critic) are measured on it in ``benchmarks/bayes_net_memory.py``. The
state (the centralised critic's input) then ends with the convention.

The scripted baseline (``--policy heuristic``) is
:class:`swarmzoo.agents.coordination.AllZeros` (with a cue: every robot chooses the bit the cue
announced, remembered per copy).

## Termination and truncation

Never terminates; truncation after ``max_cycles`` steps.

## Infos (per step)

``ones`` (fraction of ones in the new state), ``zeros_majority`` (a clear majority of zeros:
reward 3 this step unless a cue made ones pay), ``ones_majority`` (a clear majority of ones).
With ``cue_steps > 0`` also ``convention`` (the bit that pays 3 this episode) and
``convention_majority`` (reward 3 this step).

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
        cue_steps: 0 for the paper's game (zeros always pay 3); ``k >= 1``: each episode draws
            the paying bit, shown to every robot during its first ``k`` observations only (the
            memory variant).
        observe: ``"all"`` (every robot sees every bit) or ``"own"`` (only its own bit).
    """

    n_agents: int = 3
    noise: float = 0.1
    margin: int | None = None
    max_cycles: int = 50
    cue_steps: int = 0
    observe: str = "all"

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
        check_positive_int("cue_steps", self.cue_steps, minimum=0)
        if self.observe not in ("all", "own"):
            raise ValueError(f"observe must be 'all' or 'own', got {self.observe!r}")

    @property
    def observed_bits(self) -> int:
        """How many bits each robot observes (``N``, or 1 with ``observe="own"``)."""
        return self.n_agents if self.observe == "all" else 1

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
        return config.observed_bits + config.n_agents + (2 if config.cue_steps else 0)

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        E, N = self.n_envs, self.n_agents
        self.arena = Arena(2.0, 2.0, "walls")
        angle = np.pi / 2 - 2 * np.pi * np.arange(N) / N
        ring = 0.7 * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
        self.pos = np.broadcast_to(ring, (E, N, 2))
        self.radius = min(0.2, 0.7 * np.sin(np.pi / N) * 0.8)
        self.bits = np.zeros((E, N), dtype=np.int8)
        self.convention = np.zeros(E, dtype=np.int8)  # the bit that pays 3 (always 0 without a cue)
        self.last_reward = np.zeros(E)
        # own bit first: row i of `order` is i, i+1, .., i-1
        self.order = (np.arange(N)[:, None] + np.arange(N)[None, :]) % N
        self.identity = np.eye(N, dtype=np.float32)
        self.observation_space = spaces.Box(0.0, 1.0, (self.observation_size(config),), np.float32)
        self.state_space = spaces.Box(0.0, 1.0, (N + (1 if config.cue_steps else 0),), np.float32)
        self.action_space = spaces.Discrete(2)

    def _reset(self, env_ids: np.ndarray) -> None:
        self.bits[env_ids] = self.rng.uniform(env_ids, (self.n_agents,)) < 0.5
        if self.config.cue_steps:
            self.convention[env_ids] = self.rng.uniform(env_ids, (1,))[:, 0] < 0.5
        self.last_reward[env_ids] = 0.0

    def _step(self, actions: np.ndarray):
        cfg = self.config
        flip = self.rng.uniform(np.arange(self.n_envs), (self.n_agents,)) < cfg.noise
        self.bits = (actions.astype(np.int8) ^ flip).astype(np.int8)
        N = self.n_agents
        ones = self.bits.sum(axis=1, dtype=np.int64)
        # the reward counts the bits that go against the convention (ones in the paper's game)
        against = np.where(self.convention == 1, N - ones, ones)
        reward = coordination_reward(against, N, cfg.majority_margin)
        self.last_reward = reward
        rewards = np.repeat(reward[:, None], N, axis=1)
        terminated = np.zeros((self.n_envs, N), dtype=bool)
        lead = (N - ones) - ones
        infos = {
            "ones": ones / N,
            "zeros_majority": lead > cfg.majority_margin,
            "ones_majority": -lead > cfg.majority_margin,
        }
        if cfg.cue_steps:
            infos["convention"] = self.convention.astype(np.int64)
            infos["convention_majority"] = reward == 3.0
        return rewards, terminated, infos

    def observe(self) -> np.ndarray:
        cfg, E, N = self.config, self.n_envs, self.n_agents
        bits = self.bits.astype(np.float32)
        if cfg.observe == "all":
            bits = bits[:, self.order]  # (E, N, N), own bit first
        else:
            bits = bits[:, :, None]  # (E, N, 1)
        parts = [bits, np.broadcast_to(self.identity, (E, N, N))]
        if cfg.cue_steps:
            shown = (self.steps < cfg.cue_steps).astype(np.float32)  # (E,)
            cue = np.zeros((E, 2), dtype=np.float32)
            cue[np.arange(E), self.convention] = shown
            parts.append(np.broadcast_to(cue[:, None, :], (E, N, 2)))
        return np.concatenate(parts, axis=-1)

    def state(self) -> np.ndarray:
        bits = self.bits.astype(np.float32)
        if self.config.cue_steps:
            return np.concatenate([bits, self.convention[:, None].astype(np.float32)], axis=1)
        return bits

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        ones = int(self.bits[env_index].sum())
        line = f"zeros {self.n_agents - ones}  ones {ones}  reward {self.last_reward[env_index]:g}"
        if self.config.cue_steps:
            line += f"  convention {int(self.convention[env_index])}"
        return [line]

    def draw(self, renderer, env_index: int, history: RenderHistory) -> None:
        bits = self.bits[env_index]
        colours = np.where(bits[:, None] == 1, ONE_COLOUR, ZERO_COLOUR)
        renderer.begin()
        renderer.circles(self.pos[env_index], self.radius, colours, outline=(20, 20, 20))


parallel_env, raw_env, env, vector_env = make_factories(Coordination)
register("coordination-v0", __name__, "Markov coordination game: binary robots paid for a clear majority")
