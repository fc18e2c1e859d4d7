"""# Rendezvous (``rendezvous-v0``)

N robots start scattered over a walled arena and must meet: the episode ends when every robot is
within ``meet_radius`` of the swarm's centroid. No robot knows where the others are; each senses
only its ``k_robots`` nearest robots within ``sensing_radius``. (The complete example of the guide
"Write your own swarm env"; tested by ``tests/test_docs.py``.)

| Import              | ``swarmzoo.make("rendezvous-v0")`` after importing this module        |
|---------------------|-----------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{N-1}``                                           |
| Actions             | ``Discrete(5)`` or ``Box(-1, 1, (2,))`` (``continuous_actions=True``)  |
| Observation         | ``Box(-inf, inf, (4 + 3 k_robots,), float32)``                        |
| State               | ``Box(-inf, inf, (4 N,), float32)``                                   |

## Dynamics

Holonomic point masses (``swarmzoo.envs.core.physics``): an action is a force of up to ``accel``,
robots push each other apart with soft contacts, walls stop them.

## Actions

Discrete: ``0`` no-op, ``1`` -x, ``2`` +x, ``3`` -y, ``4`` +y. Continuous: ``(fx, fy)`` in
``[-1, 1]``.

## Observation (index slices)

| Slice             | Content                                                        |
|-------------------|----------------------------------------------------------------|
| ``[0:2]``         | own velocity                                                   |
| ``[2:4]``         | own position / arena half side                                 |
| ``[4 : 4+3k]``    | k nearest robots: ``(dx, dy) / sensing_radius``, ``valid``     |

## Reward

Every robot gets minus the robots' mean distance to their centroid, over ``arena_size``.

## Termination and truncation

Terminates when every robot is within ``meet_radius`` of the centroid; truncation after
``max_cycles`` steps.

## Infos (per step)

``spread`` (mean distance to the centroid), ``met``, per robot ``collisions``.

## Version history

* v0: initial release.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core import render as colors
from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.neighbors import knn
from swarmzoo.envs.core.physics import PointMassParams, integrate, robot_contacts, total_force
from swarmzoo.envs.core.task import SwarmTask, check_bool, check_number, check_positive_int
from swarmzoo.registry import register

# Unit force of each discrete action: no-op, -x, +x, -y, +y.
DIRECTIONS = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.float64)


# --8<-- [start:config]
@dataclass(frozen=True)
class Config:
    """Arguments of ``rendezvous-v0``.

    Attributes:
        n_agents: number of robots N (>= 1).
        arena_size: side of the square, walled arena.
        robot_radius: robot body radius.
        sensing_radius: robots sense others closer than this.
        k_robots: nearest robots in the observation (>= 0).
        meet_radius: the swarm has met when every robot is this close to the centroid.
        accel: force of a full action.
        continuous_actions: ``Box(-1, 1, (2,))`` forces instead of ``Discrete(5)``.
        max_cycles: steps per episode.
    """

    n_agents: int = 6
    arena_size: float = 4.0
    robot_radius: float = 0.05
    sensing_radius: float = 2.0
    k_robots: int = 3
    meet_radius: float = 0.5
    accel: float = 1.0
    continuous_actions: bool = False
    max_cycles: int = 100

    def __post_init__(self) -> None:
        check_positive_int("n_agents", self.n_agents)
        check_positive_int("k_robots", self.k_robots, minimum=0)
        check_positive_int("max_cycles", self.max_cycles)
        for name in ("arena_size", "robot_radius", "sensing_radius", "meet_radius", "accel"):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_bool("continuous_actions", self.continuous_actions)
        if 2 * self.robot_radius >= self.arena_size:
            raise ValueError(f"robot_radius={self.robot_radius} does not fit in the arena")


# --8<-- [end:config]


# -- the task's pure functions: arrays in, arrays out, batched over env copies and robots ------


# --8<-- [start:functions]
def distance_to_centroid(pos: np.ndarray) -> np.ndarray:
    """Each robot's distance to its swarm's centroid: ``(E, N, 2) -> (E, N)``."""
    return np.linalg.norm(pos - pos.mean(axis=1, keepdims=True), axis=-1)


def observe(pos: np.ndarray, vel: np.ndarray, arena: Arena, cfg: Config) -> np.ndarray:
    """Local observations ``(E, N, 4 + 3 k)`` float32 (layout in the module docstring)."""
    E, N = pos.shape[:2]
    parts = [vel, pos / arena.half]
    if cfg.k_robots:
        near = knn(pos, pos, cfg.k_robots, arena, radius=cfg.sensing_radius, exclude_self=True)
        slots = np.concatenate([near.delta / cfg.sensing_radius, near.mask[..., None]], axis=-1)
        parts.append(slots.reshape(E, N, 3 * cfg.k_robots))
    return np.concatenate(parts, axis=-1).astype(np.float32)


# --8<-- [end:functions]


# -- the task --------------------------------------------------------------------------------


# --8<-- [start:task]
class Rendezvous(SwarmTask):
    """Batched rendezvous: state arrays ``pos (E, N, 2)`` and ``vel (E, N, 2)``."""

    name = "rendezvous_v0"
    Config = Config

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        cfg = config
        E, N = self.n_envs, self.n_agents
        self.arena = Arena(cfg.arena_size, cfg.arena_size, "walls")
        self.params = PointMassParams()
        self.pos = np.zeros((E, N, 2))
        self.vel = np.zeros((E, N, 2))
        self.observation_space = spaces.Box(-np.inf, np.inf, (4 + 3 * cfg.k_robots,), np.float32)
        self.state_space = spaces.Box(-np.inf, np.inf, (4 * N,), np.float32)
        if cfg.continuous_actions:
            self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        else:
            self.action_space = spaces.Discrete(5)

    def _reset(self, env_ids: np.ndarray) -> None:
        # Draw only from self.rng (one stream per env copy): both faces then replay each other.
        half = self.arena.half - self.config.robot_radius
        self.pos[env_ids] = self.rng.uniform(env_ids, (self.n_agents, 2), -half, half)
        self.vel[env_ids] = 0.0

    def _step(self, actions: np.ndarray):
        cfg = self.config
        push = actions.astype(np.float64) if cfg.continuous_actions else DIRECTIONS[actions]
        contacts, collisions = robot_contacts(self.pos, cfg.robot_radius, self.params, self.arena)
        force = total_force(cfg.accel * push, contacts)
        self.pos, self.vel = integrate(self.pos, self.vel, force, self.params, self.arena, cfg.robot_radius)
        dist = distance_to_centroid(self.pos)
        spread = dist.mean(axis=1)  # (E,)
        met = (dist <= cfg.meet_radius).all(axis=1)  # (E,)
        rewards = np.repeat(-spread[:, None] / cfg.arena_size, self.n_agents, axis=1)
        terminated = np.repeat(met[:, None], self.n_agents, axis=1)
        infos = {"spread": spread, "met": met, "collisions": collisions}
        return rewards, terminated, infos

    def observe(self) -> np.ndarray:
        return observe(self.pos, self.vel, self.arena, self.config)

    def state(self) -> np.ndarray:
        state = np.concatenate([self.pos / self.arena.half, self.vel], axis=-1)
        return state.reshape(self.n_envs, -1).astype(np.float32)

    def hud(self, env_index: int, history) -> list[str]:
        return [f"spread {distance_to_centroid(self.pos[env_index : env_index + 1]).mean():.3f}"]

    def draw(self, renderer, env_index: int, history) -> None:
        e, cfg = env_index, self.config
        centroid = self.pos[e].mean(axis=0, keepdims=True)
        renderer.begin()
        renderer.circles(centroid, cfg.meet_radius, colors.GOAL, width=1)
        renderer.crosses(centroid, 4 * cfg.robot_radius, colors.GOAL)
        renderer.robots(self.pos[e], self.vel[e], cfg.robot_radius)


# --8<-- [end:task]


# -- a scripted baseline: any object with act(obs (E, N, D), task) -> actions is a policy -------


# --8<-- [start:policy]
class TowardsNeighbours:
    """Push towards the centroid of the robots sensed (discrete actions); stay if none."""

    def act(self, obs: np.ndarray, task: Rendezvous) -> np.ndarray:
        slots = obs[..., 4:].reshape(*obs.shape[:2], -1, 3)  # (E, N, k, dx dy valid)
        count = slots[..., 2].sum(axis=-1, keepdims=True)
        target = (slots[..., :2] * slots[..., 2:]).sum(axis=-2) / np.maximum(count, 1)
        axis = np.abs(target).argmax(axis=-1)  # push along the larger offset: 1/2 is x, 3/4 is y
        actions = 1 + 2 * axis + (np.take_along_axis(target, axis[..., None], -1)[..., 0] > 0)
        return np.where(count[..., 0] > 0, actions, 0)


# --8<-- [end:policy]


# -- the factories and the registry line every env module ends with ---------------------------

# --8<-- [start:factories]
parallel_env, raw_env, env, vector_env = make_factories(Rendezvous)
register("rendezvous-v0", __name__, "Rendezvous: robots meet using local sensing only")
# --8<-- [end:factories]


if __name__ == "__main__":
    from pettingzoo.test import parallel_api_test

    import swarmzoo

    parallel_api_test(swarmzoo.make("rendezvous-v0"), num_cycles=50)
    venv = swarmzoo.make_vec("rendezvous-v0", num_envs=64, n_agents=10)
    obs, infos = venv.reset(seed=0)
    policy = TowardsNeighbours()
    met = 0
    for _ in range(100):
        obs, rewards, term, trunc, infos = venv.step(policy.act(obs, venv.task))
        met += int(term.all(axis=1).sum())
    print(f"swarms that met in 100 steps over 64 copies: {met}")
