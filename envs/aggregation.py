"""# Aggregation (``aggregation-v0``)

N robots scattered over a walled arena must gather into one group. Each robot senses only the
robots within ``sensing_radius``; the swarm is rewarded for a small spread. This is the
aggregation task of Cui et al., "Learning Decentralized Partially Observable Mean Field Control
for Artificial Collective Behavior" (ICLR 2024), and the classic self-organised aggregation
problem of swarm robotics (e.g. Gauci et al., IJRR 2014).

| Import              | ``swarmzoo.make("aggregation-v0")`` or ``from swarmzoo.envs import aggregation``  |
|---------------------|--------------------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{N-1}``                                                     |
| Actions             | ``Discrete(5)`` or ``Box(-1, 1, (2,))`` (``continuous_actions=True``)            |
| Observation         | ``Box(-inf, inf, (3 + 3 k_robots,), float32)``                                   |
| State               | ``Box(-inf, inf, (2 N,), float32)``                                             |
| Mean-field view     | ``env.mean_field()``: samples ``(x, y)`` per robot                               |
| Vector face         | ``swarmzoo.make_vec("aggregation-v0", num_envs)``                               |

## Dynamics

Kinematic robots: each step a robot moves by ``max_speed * a`` (continuous ``a`` in ``[-1,
1]^2``) or ``max_speed`` along an axis (discrete). Bodies of radius ``robot_radius`` do not
overlap: after the move every overlapping pair is pushed apart along the line between them, half
the overlap each, repeated ``separation_passes`` times (bodies are soft: robots that keep pushing
into a dense pile can still overlap there). Walls stop
robots at the edge; with ``boundary="none"`` the plane is unbounded and the arena is only the
spawn area.

## Actions

Discrete: ``0`` stay, ``1`` -x, ``2`` +x, ``3`` -y, ``4`` +y. Continuous: velocity ``max_speed * (ax,
ay)``. Out-of-range actions raise ``ValueError``; nothing is clipped.

## Observation (index slices)

| Slice                    | Content                                                                  |
|--------------------------|--------------------------------------------------------------------------|
| ``[0]``                  | neighbours sensed / ``expected_neighbours`` (see Config)                 |
| ``[1:3]``                | offset to the centroid of the sensed neighbours / ``sensing_radius``      |
| ``[3 : 3+3k]``           | k nearest neighbours: ``(dx, dy) / sensing_radius``, ``valid``            |

Entry names (``Aggregation.observation_names(config)``, for ``--rule-features``): ``neighbours``,
``centroid_dx``, ``centroid_dy``, ``nearest_{j}_dx``, ``nearest_{j}_dy``, ``nearest_{j}_valid``.
A mean-field decision rule reads the first three by default
(``Aggregation.mean_field_rule_features``).

Robots sense at most ``max_neighbours`` (default 32) nearest robots within ``sensing_radius``
(a packed group of 10,000 robots would otherwise give every robot thousands of neighbours).
Offsets are world-frame (robots have a compass) and relative; nothing global is observed. A robot
with no neighbour sees zeros.

## Reward

``reward="global"`` (default): every robot gets ``-spread / sensing_radius``, where ``spread`` is
the mean distance of the robots to the swarm's centroid. ``reward="local"``: each robot gets minus
its mean distance to the neighbours it senses, over ``sensing_radius`` (``-1`` when it senses
none). Both minus ``collision_penalty`` per overlapping neighbour.

## Termination and truncation

No termination; truncation after ``max_cycles`` steps.

## Infos (per step)

``spread`` (mean distance to the centroid), ``largest_group`` (fraction of robots in the largest
connected component of the sensing graph; 1 when the swarm is one group), per robot
``neighbours``.

## Mean-field view

``mean_field()`` samples ``(x, y)`` with the arena as bounds (not periodic).

## Arguments

See :class:`Config`; every field is a keyword of ``swarmzoo.make``.

## Version history

* v0: initial release.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

import numpy as np
from gymnasium import spaces
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from swarmzoo.envs.core import render as colors
from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.collective import (
    MeanField,
    Neighbourhood,
    arena_for_density,
    check_sensing,
    expected_neighbours,
    nearest_slot_names,
    nearest_slots,
    neighbourhood,
)
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.neighbors import Method, radius_pairs
from swarmzoo.envs.core.physics import DISCRETE_DIRECTIONS
from swarmzoo.envs.core.task import (
    SwarmTask,
    check_bool,
    check_choice,
    check_number,
    check_positive_int,
)
from swarmzoo.envs.registry import register


@dataclass(frozen=True)
class Config:
    """Arguments of ``aggregation-v0``.

    Attributes:
        n_agents: number of robots N (>= 1).
        density: robots per unit area at the start; sets the arena side ``sqrt(N / density)``
            unless ``arena_width`` is given.
        arena_width: arena extent along x (default from ``density``).
        arena_height: arena extent along y (default ``arena_width``).
        boundary: ``"walls"`` or ``"none"`` (unbounded; the arena is the spawn area).
        max_speed: distance per step of a full action.
        sensing_radius: robots sense others closer than this.
        max_neighbours: a robot senses at most this many (nearest) robots within the radius,
            or None for all of them (memory then grows with crowding).
        robot_radius: body radius; bodies are kept apart.
        k_robots: nearest-neighbour slots in the observation.
        continuous_actions: ``Box(-1, 1, (2,))`` velocities instead of ``Discrete(5)``.
        reward: ``"global"`` (swarm spread) or ``"local"`` (distance to sensed neighbours).
        collision_penalty: penalty per overlapping neighbour (>= 0).
        separation_passes: overlap-resolving passes per step (>= 0; 0: bodies pass through).
        max_cycles: steps per episode.
        neighbour_method: ``"auto"``, ``"dense"`` or ``"tree"`` radius sensing.
    """

    n_agents: int = 50
    density: float = 1.0
    arena_width: float | None = None
    arena_height: float | None = None
    boundary: Literal["walls", "none"] = "walls"
    max_speed: float = 0.1
    sensing_radius: float = 2.5
    max_neighbours: int | None = 32
    robot_radius: float = 0.05
    k_robots: int = 4
    continuous_actions: bool = False
    reward: Literal["global", "local"] = "global"
    collision_penalty: float = 0.0
    separation_passes: int = 4
    max_cycles: int = 100
    neighbour_method: Method = "auto"

    def __post_init__(self) -> None:
        check_positive_int("n_agents", self.n_agents)
        if self.max_neighbours is not None:
            check_positive_int("max_neighbours", self.max_neighbours)
        check_positive_int("k_robots", self.k_robots, minimum=0)
        check_positive_int("max_cycles", self.max_cycles)
        check_positive_int("separation_passes", self.separation_passes, minimum=0)
        for name in ("density", "max_speed", "sensing_radius", "robot_radius"):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_number("arena_width", self.arena_width, low=0.0, low_open=True, allow_none=True)
        check_number("arena_height", self.arena_height, low=0.0, low_open=True, allow_none=True)
        check_number("collision_penalty", self.collision_penalty, low=0.0)
        for name, value, allowed in (
            ("boundary", self.boundary, ("walls", "none")),
            ("reward", self.reward, ("global", "local")),
            ("neighbour_method", self.neighbour_method, ("auto", "dense", "tree")),
        ):
            check_choice(name, value, allowed)
        check_bool("continuous_actions", self.continuous_actions)
        check_sensing(self.sensing_radius, self.robot_radius, self.k_robots, self.max_neighbours)
        if self.boundary == "walls" and min(self.arena.width, self.arena.height) <= 2 * self.robot_radius:
            raise ValueError(
                f"robot_radius={self.robot_radius} does not fit in the arena (arena_width x arena_height "
                f"= {self.arena.width:g} x {self.arena.height:g}, set by density unless given)"
            )

    @cached_property
    def arena(self) -> Arena:
        return arena_for_density(
            self.n_agents, self.density, self.arena_width, self.arena_height, self.boundary
        )

    @property
    def expected_neighbours(self) -> float:
        """Neighbours a robot senses on average at the (uniform) start: the count's scale, >= 1."""
        return expected_neighbours(self.n_agents, self.arena.area, self.sensing_radius, self.max_neighbours)


# -- the task's pure functions ---------------------------------------------------------------


def velocities(actions: np.ndarray, cfg: Config) -> np.ndarray:
    """Displacements per step ``(E, N, 2)`` from validated actions."""
    if cfg.continuous_actions:
        return actions.astype(np.float64) * cfg.max_speed
    return DISCRETE_DIRECTIONS[actions] * cfg.max_speed


def separate(pos: np.ndarray, cfg: Config) -> np.ndarray:
    """Push overlapping bodies apart, half the overlap each, along the line between them, for
    ``separation_passes`` passes; keep them inside the walls. Returns new positions ``(E, N, 2)``."""
    pos = pos.copy()
    limit = cfg.arena.half - cfg.robot_radius
    if cfg.boundary == "walls":
        np.clip(pos, -limit, limit, out=pos)
    for _ in range(cfg.separation_passes):
        # Pairs left exactly touching by the last pass (up to rounding) are not overlaps.
        env, i, j = radius_pairs(pos, 2 * cfg.robot_radius * (1 - 1e-9), cfg.arena, cfg.neighbour_method)
        if not len(env):
            break
        delta = pos[env, j] - pos[env, i]
        dist = np.linalg.norm(delta, axis=-1, keepdims=True)
        # Coincident robots separate along a fixed axis (rare; deterministic).
        direction = np.where(dist > 1e-12, delta / np.maximum(dist, 1e-12), np.array([1.0, 0.0]))
        push = 0.5 * (2 * cfg.robot_radius - dist) * direction
        np.add.at(pos, (env, j), push)
        np.add.at(pos, (env, i), -push)
        if cfg.boundary == "walls":
            np.clip(pos, -limit, limit, out=pos)
    return pos


def spread(pos: np.ndarray) -> np.ndarray:
    """Mean distance of the robots to their centroid: ``(E, N, 2) -> (E,)``."""
    return np.linalg.norm(pos - pos.mean(axis=1, keepdims=True), axis=-1).mean(axis=1)


def largest_group(graph: Neighbourhood) -> np.ndarray:
    """Fraction of robots in the largest connected component of each copy's graph: ``(E,)``."""
    E, N = graph.n_envs, graph.n_agents
    nodes = E * N
    flat_src = graph.env * N + graph.src
    adjacency = coo_matrix((np.ones(len(flat_src)), (flat_src, graph.receiver)), shape=(nodes, nodes))
    _, labels = connected_components(adjacency, directed=False)
    sizes = np.bincount(labels)  # components never span copies (no edges between them)
    return sizes[labels].reshape(E, N).max(axis=1) / N


def observe(pos: np.ndarray, graph: Neighbourhood, cfg: Config) -> np.ndarray:
    """Local observations ``(E, N, 3 + 3 k)`` float32 (layout in the module docstring)."""
    E, N = pos.shape[:2]
    count = graph.count()
    centroid = graph.sum(graph.delta) / np.maximum(count, 1)[..., None] / cfg.sensing_radius
    parts = [(count / cfg.expected_neighbours)[..., None], centroid]
    if cfg.k_robots:
        delta, mask = nearest_slots(
            graph, pos, cfg.k_robots, cfg.sensing_radius, cfg.arena, cfg.max_neighbours, cfg.neighbour_method
        )
        slots = np.concatenate([delta / cfg.sensing_radius, mask[..., None]], axis=-1)
        parts.append(slots.reshape(E, N, 3 * cfg.k_robots))
    return np.concatenate(parts, axis=-1).astype(np.float32)


# -- the task --------------------------------------------------------------------------------


class Aggregation(SwarmTask):
    """Batched aggregation: state array ``pos (E, N, 2)``."""

    name = "aggregation_v0"
    Config = Config

    mean_field_rule_features: ClassVar[tuple[str, ...]] = ("neighbours", "centroid_dx", "centroid_dy")
    """Observation entries a mean-field decision rule reads by default (see
    :meth:`observation_names`): the neighbour count, the offset to the local centroid."""

    @classmethod
    def observation_size(cls, config: Config) -> int:
        return 3 + 3 * config.k_robots

    @classmethod
    def observation_names(cls, config: Config) -> tuple[str, ...]:
        """One name per observation entry, in order (layout in the module docstring)."""
        return ("neighbours", "centroid_dx", "centroid_dy", *nearest_slot_names(config.k_robots))

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        cfg = config
        self.arena = cfg.arena
        E, N = n_envs, cfg.n_agents
        self.pos = np.zeros((E, N, 2))
        self.graph = Neighbourhood.empty(E, N)
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.observation_size(cfg),), np.float32)
        self.state_space = spaces.Box(-np.inf, np.inf, (2 * N,), np.float32)
        if cfg.continuous_actions:
            self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        else:
            self.action_space = spaces.Discrete(5)
        self._obs: np.ndarray | None = None

    def _sense(self) -> None:
        cfg = self.config
        self.graph = neighbourhood(
            self.pos, cfg.sensing_radius, self.arena, cfg.neighbour_method, cfg.max_neighbours
        )
        self._obs = None

    def _reset(self, env_ids: np.ndarray) -> None:
        cfg = self.config
        half = self.arena.half - (cfg.robot_radius if cfg.boundary == "walls" else 0.0)
        self.pos[env_ids] = separate(self.rng.uniform(env_ids, (self.n_agents, 2), -half, half), cfg)
        self._sense()

    def _step(self, actions: np.ndarray):
        cfg = self.config
        self.pos = separate(self.pos + velocities(actions, cfg), cfg)
        self._sense()
        graph = self.graph
        count = graph.count()
        swarm_spread = spread(self.pos)
        if cfg.reward == "global":
            rewards = np.repeat(-swarm_spread[:, None] / cfg.sensing_radius, self.n_agents, axis=1)
        else:
            dist = graph.sum(np.linalg.norm(graph.delta, axis=-1))
            rewards = np.where(count > 0, -dist / np.maximum(count, 1) / cfg.sensing_radius, -1.0)
        if cfg.collision_penalty:
            # Overlaps left after the separation pass (dense piles).
            touching = np.einsum("md,md->m", graph.delta, graph.delta) < (2 * cfg.robot_radius) ** 2 * (
                1 - 1e-9
            )
            rewards = rewards - cfg.collision_penalty * graph.sum(touching.astype(np.float64))
        terminated = np.zeros((self.n_envs, self.n_agents), dtype=bool)
        infos = {"spread": swarm_spread, "largest_group": largest_group(graph), "neighbours": count}
        return rewards, terminated, infos

    def observe(self) -> np.ndarray:
        if self._obs is None:
            self._obs = observe(self.pos, self.graph, self.config)
        return self._obs

    def state(self) -> np.ndarray:
        return (self.pos / self.arena.half).reshape(self.n_envs, -1).astype(np.float32)

    def mean_field(self) -> MeanField:
        half = self.arena.half
        return MeanField(
            samples=self.pos.copy(),
            names=("x", "y"),
            low=-half,
            high=half.copy(),
            periodic=np.array([False, False]),
        )

    def history_sample(self) -> dict[str, float]:
        # Copy 0's spread over the episode (the curve, scaled to its first value).
        return {"spread": float(spread(self.pos[:1])[0])}

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        return [f"spread {spread(self.pos[env_index : env_index + 1])[0]:.3f}"]

    def draw(self, renderer, env_index: int, history: RenderHistory) -> None:
        e, cfg = env_index, self.config
        extent = np.abs(self.pos[e]).max(axis=0) + cfg.robot_radius if cfg.boundary == "none" else None
        renderer.begin(extent)
        centroid = self.pos[e].mean(axis=0, keepdims=True)
        mean_spread = spread(self.pos[e : e + 1])[0]
        renderer.circles(centroid, max(mean_spread, 1e-3), (235, 225, 205), width=1)
        renderer.crosses(centroid, cfg.robot_radius * 3, colors.GOAL)
        renderer.circles(self.pos[e], cfg.robot_radius, colors.ROBOT, outline=(20, 20, 20))
        if e == 0:
            trace = history.get("spread")
            start = trace[0] if trace else 1.0
            renderer.curve(trace, "spread", 0.0, max(start, 1e-9), length=self.max_cycles + 1)


parallel_env, raw_env, env, vector_env = make_factories(Aggregation)
register("aggregation-v0", __name__, "Aggregation: robots gather into one group using local sensing")
