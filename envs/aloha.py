"""# Slot contention: robots sharing radio channels (``aloha-v0``)

``N`` robots share ``K`` radio channels to a base station. Packets arrive at random; every step a
robot with a packet may key up on one channel, and a channel delivers only when exactly one robot
transmits on it (slotted ALOHA). Who has a packet changes every step and is known only to that
robot, so a fixed channel plan wastes capacity, and robots that choose independently collide:
this is the swarm task where correlated action pays. A robot that sees which channels its
predecessors took (a Bayesian-network policy's parents' actions) can take a free one; the
centralised scheduler (``--policy scheduler``) delivers ``min(backlogged robots, K)`` packets
every step, the most any policy can.

| Import              | ``swarmzoo.make("aloha-v0")``                                    |
|---------------------|------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{N-1}``                                      |
| Actions             | ``Discrete(K + 1)``: 0 stays silent, ``k`` transmits on channel k |
| Observation         | ``Box(0, 1, (3 + 3 K + N,), float32)``                           |
| State               | ``Box(0, 1, (N + 3 K,), float32)``                               |

## Dynamics

Each robot holds up to ``buffer`` packets. A step: every transmitting robot occupies its channel
(one that keys up without a packet still occupies it and delivers nothing); a channel with
exactly one transmitter delivers that robot's oldest packet. Then a new packet arrives at each
robot with probability ``arrival``; one that finds the buffer full is dropped. At reset every
robot holds one packet with probability ``arrival``.

## Observation (index slices)

| Slice                    | Content                                                          |
|--------------------------|------------------------------------------------------------------|
| ``[0]``                  | own queue length / ``buffer``                                    |
| ``[1]``                  | 1 if the robot transmitted last step                             |
| ``[2]``                  | 1 if its last transmission delivered (the base station's ack)    |
| ``[3:3+K]``              | last step, per channel: 1 if idle                                |
| ``[3+K:3+2K]``           | last step, per channel: 1 if it delivered                        |
| ``[3+2K:3+3K]``          | last step, per channel: 1 if it collided                         |
| ``[3+3K:3+3K+N]``        | one-hot robot index (parameter-shared policies can tell robots apart) |

The channel feedback (idle / success / collision) is what every robot hears from the base
station; nobody observes another robot's queue.

## State

Every robot's queue length / ``buffer``, then the channel feedback.

## Reward

Shared by all robots: the packets delivered this step (0 .. K). A robot that keys up with an
empty queue costs its channel nothing but the chance to deliver.

The scripted baseline (``--policy heuristic``) is slotted ALOHA,
:class:`swarmzoo.agents.aloha.SlottedAloha` (a backlogged robot transmits with probability
``K / N`` on a random channel); ``--policy scheduler`` is the centralised optimum,
:class:`swarmzoo.agents.aloha.CentralScheduler`.

## Termination and truncation

Never terminates; truncation after ``max_cycles`` steps.

## Infos (per step)

``delivered`` (packets, 0 .. K), ``collisions`` (channels with two or more transmitters),
``idle`` (channels nobody used), ``dropped`` (arrivals lost to full buffers), ``backlog``
(robots holding a packet after the step), ``offered`` (robots that held a packet before it: the
most a step could deliver is ``min(offered, K)``).

## Version history

* v0: initial release.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.task import SwarmTask, check_number, check_positive_int
from swarmzoo.envs.registry import register

SILENT_COLOUR = (150, 150, 150)
COLLISION_COLOUR = (220, 40, 40)
CHANNEL_COLOURS = ((40, 120, 220), (40, 170, 80), (235, 140, 30), (150, 70, 200), (20, 160, 160))


@dataclass(frozen=True)
class Config:
    """Arguments of ``aloha-v0``.

    Attributes:
        n_agents: number of robots N (>= 2).
        n_channels: radio channels K (>= 1, at most N).
        arrival: probability that a packet arrives at a robot in a step, in [0, 1].
        buffer: packets a robot can hold (>= 1); arrivals beyond it are dropped.
        max_cycles: steps per episode.
    """

    n_agents: int = 6
    n_channels: int = 2
    arrival: float = 0.3
    buffer: int = 1
    max_cycles: int = 50

    def __post_init__(self) -> None:
        check_positive_int("n_agents", self.n_agents, minimum=2)
        check_positive_int("n_channels", self.n_channels)
        if self.n_channels > self.n_agents:
            raise ValueError(
                f"n_channels must be at most n_agents={self.n_agents} (more channels than robots "
                f"leaves some idle by construction), got {self.n_channels}"
            )
        check_number("arrival", self.arrival, 0.0, 1.0)
        check_positive_int("buffer", self.buffer)
        check_positive_int("max_cycles", self.max_cycles)


def channel_outcome(actions: np.ndarray, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Transmitters per channel ``(..., K)`` and, per robot ``(..., N)``, whether it was the only
    one on its channel, for actions ``(..., N)`` (0 silent, ``k`` channel k)."""
    one_hot = actions[..., None] == np.arange(1, n_channels + 1)  # (..., N, K)
    count = one_hot.sum(axis=-2)  # (..., K)
    alone = (one_hot & (count[..., None, :] == 1)).any(axis=-1)
    return count, alone


class Aloha(SwarmTask):
    """Batched channel contention: ``queue (E, N)`` packets held, ``feedback (E, 3, K)`` last
    step's idle / success / collision per channel. Robots sit on a circle around the base station
    for rendering (``pos (E, N, 2)``, constant)."""

    name = "aloha_v0"
    Config = Config
    fixed_actions = "discrete"

    @classmethod
    def observation_size(cls, config: Config) -> int:
        return 3 + 3 * config.n_channels + config.n_agents

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        E, N, K = self.n_envs, self.n_agents, config.n_channels
        self.n_channels = K
        self.arena = Arena(2.0, 2.0, "walls")
        angle = np.pi / 2 - 2 * np.pi * np.arange(N) / N
        ring = 0.75 * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
        self.pos = np.broadcast_to(ring, (E, N, 2))
        self.radius = min(0.15, 0.75 * np.sin(np.pi / N) * 0.7)
        self.queue = np.zeros((E, N), dtype=np.int64)
        self.feedback = np.zeros((E, 3, K), dtype=np.float32)
        self.transmitted = np.zeros((E, N), dtype=bool)
        self.acked = np.zeros((E, N), dtype=bool)
        self.last_actions = np.zeros((E, N), dtype=np.int64)
        self.identity = np.eye(N, dtype=np.float32)
        self.observation_space = spaces.Box(0.0, 1.0, (self.observation_size(config),), np.float32)
        self.state_space = spaces.Box(0.0, 1.0, (N + 3 * K,), np.float32)
        self.action_space = spaces.Discrete(K + 1)

    def _reset(self, env_ids: np.ndarray) -> None:
        arrived = self.rng.uniform(env_ids, (self.n_agents,)) < self.config.arrival
        self.queue[env_ids] = arrived
        self.feedback[env_ids] = 0.0
        self.feedback[env_ids, 0] = 1.0  # every channel idle before the first step
        self.transmitted[env_ids] = False
        self.acked[env_ids] = False
        self.last_actions[env_ids] = 0

    def _step(self, actions: np.ndarray):
        cfg, K = self.config, self.n_channels
        offered = (self.queue > 0).sum(axis=1)
        count, alone = channel_outcome(actions, K)
        delivered_by = alone & (self.queue > 0)
        delivered = delivered_by.sum(axis=1)
        self.queue -= delivered_by
        arrived = self.rng.uniform(np.arange(self.n_envs), (self.n_agents,)) < cfg.arrival
        dropped = (arrived & (self.queue >= cfg.buffer)).sum(axis=1)
        self.queue = np.minimum(self.queue + arrived, cfg.buffer)
        # a channel whose only transmitter had nothing to send delivered nothing: not a success
        success = np.zeros((self.n_envs, K), dtype=bool)
        env_idx, robot_idx = np.nonzero(delivered_by)
        success[env_idx, actions[env_idx, robot_idx] - 1] = True
        self.feedback[:, 0] = count == 0
        self.feedback[:, 1] = success
        self.feedback[:, 2] = count >= 2
        self.transmitted = actions > 0
        self.acked = delivered_by
        self.last_actions = actions.astype(np.int64)
        reward = delivered.astype(float)
        rewards = np.repeat(reward[:, None], self.n_agents, axis=1)
        terminated = np.zeros((self.n_envs, self.n_agents), dtype=bool)
        infos = {
            "delivered": delivered.astype(float),
            "collisions": (count >= 2).sum(axis=1).astype(float),
            "idle": (count == 0).sum(axis=1).astype(float),
            "dropped": dropped.astype(float),
            "backlog": (self.queue > 0).sum(axis=1).astype(float),
            "offered": offered.astype(float),
        }
        return rewards, terminated, infos

    def reset_infos(self) -> dict[str, np.ndarray]:
        zeros = np.zeros(self.n_envs)
        backlog = (self.queue > 0).sum(axis=1).astype(float)
        return {
            "delivered": zeros,
            "collisions": zeros.copy(),
            "idle": np.full(self.n_envs, float(self.n_channels)),
            "dropped": zeros.copy(),
            "backlog": backlog,
            "offered": zeros.copy(),
        }

    def observe(self) -> np.ndarray:
        E, N, K = self.n_envs, self.n_agents, self.n_channels
        own = np.stack([self.queue / self.config.buffer, self.transmitted, self.acked], axis=-1).astype(
            np.float32
        )
        heard = np.broadcast_to(self.feedback.reshape(E, 1, 3 * K), (E, N, 3 * K))
        identity = np.broadcast_to(self.identity, (E, N, N))
        return np.concatenate([own, heard, identity], axis=-1)

    def state(self) -> np.ndarray:
        queues = (self.queue / self.config.buffer).astype(np.float32)
        return np.concatenate([queues, self.feedback.reshape(self.n_envs, -1)], axis=-1)

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        fb = self.feedback[env_index]
        return [
            f"backlog {int((self.queue[env_index] > 0).sum())}/{self.n_agents}  "
            f"delivered {int(fb[1].sum())}/{self.n_channels}  collisions {int(fb[2].sum())}"
        ]

    def draw(self, renderer, env_index: int, history: RenderHistory) -> None:
        pos, actions = self.pos[env_index], self.last_actions[env_index]
        fb = self.feedback[env_index]
        renderer.begin()
        base = np.zeros((1, 2))
        colours = np.array([CHANNEL_COLOURS[k % len(CHANNEL_COLOURS)] for k in range(self.n_channels)])
        talking = np.nonzero(actions > 0)[0]
        channel = actions[talking] - 1
        collided = fb[2, channel] > 0
        link = np.where(collided[:, None], COLLISION_COLOUR, colours[channel])
        renderer.segments(pos[talking], np.zeros_like(pos[talking]), link, width=3)
        renderer.circles(base, 0.12, (60, 60, 60))
        fill = np.array([SILENT_COLOUR] * self.n_agents)
        fill[talking] = colours[channel]
        renderer.circles(pos, self.radius, fill, outline=(20, 20, 20))
        holding = self.queue[env_index] > 0
        if holding.any():
            renderer.circles(pos[holding], self.radius * 0.35, (255, 255, 255))


parallel_env, raw_env, env, vector_env = make_factories(Aloha)
register("aloha-v0", __name__, "Slot contention: robots sharing K radio channels (slotted ALOHA)")
