"""# Cooperative navigation (``navigation-v0``)

N robots must cover N goals while avoiding each other and circular obstacles.

| Import              | ``swarmzoo.make("navigation-v0")`` or ``from swarmzoo.envs import navigation``  |
|---------------------|--------------------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{N-1}``                                                     |
| Actions             | ``Discrete(5)`` or ``Box(-1, 1, (2,))`` (``continuous_actions=True``)            |
| Observation         | ``Box(-inf, inf, (D,), float32)``, D = 4 + 3 k_goals + 3 k_robots + 4 k_obstacles |
| State               | ``Box(-inf, inf, (4 N + 2 G + 3 O,), float32)``                                 |
| Parallel API        | native; AEC through ``parallel_to_aec``                                        |
| Vector face         | ``swarmzoo.make_vec("navigation-v0", num_envs)``                               |

## Dynamics

Holonomic point masses (``swarmzoo.envs.core.physics``): each step the action becomes a force of
up to ``accel``, velocities are damped by ``damping``, robots push each other and obstacles away
with MPE's soft contact, and the arena is walled, a torus or unbounded (``boundary``).

## Actions

Discrete: ``0`` no-op, ``1`` -x, ``2`` +x, ``3`` -y, ``4`` +y (force ``accel`` along that axis).
Continuous: ``(fx, fy)`` in ``[-1, 1]``, force ``accel * (fx, fy)``. Out-of-range actions raise
``ValueError``; nothing is clipped.

## Observation (index slices, default layout)

| Slice                                  | Content                                                        |
|----------------------------------------|----------------------------------------------------------------|
| ``[0:2]``                              | own velocity                                                   |
| ``[2:4]``                              | own position                                                   |
| ``[4 : 4+3kg]``                        | k_goals nearest goals: ``(dx, dy, valid)`` each, nearest first  |
| next ``3 k_robots``                    | k_robots nearest robots: ``(dx, dy, valid)``                    |
| next ``4 k_obstacles``                 | k_obstacles nearest obstacles: ``(dx, dy, radius, valid)``      |

Offsets are relative (target minus self, minimum image on a torus). Slots beyond what exists or
beyond ``sensing_radius`` are zero with ``valid = 0``, so D does not depend on N.

## Reward

``(1 - local_ratio) * shared + local_ratio * local``, where ``shared = -`` the ``mean`` (or, with
``shared_reward="sum"``, the sum) over goals of the distance to the nearest robot, and
``local = -collision_penalty *`` (robots and obstacles the robot overlaps).

## Termination and truncation

Truncation after ``max_cycles`` steps. With ``terminate_on_success=True`` the episode terminates
when every goal has a robot within ``goal_radius``.

## Infos (per step)

``goals_occupied`` (goals with a robot within ``goal_radius``), ``success``, per robot
``collisions`` and ``nearest_goal_distance``.

## Preset ``mpe_spread``

``preset="mpe_spread"`` reproduces MPE's ``simple_spread_v3`` (mpe2): unbounded plane, spawn in
``[-1, 1]^2``, robot radius 0.15, ``shared_reward="sum"``, ``max_cycles=25`` and MPE's layouts:
observation ``[vel, pos, all goals, all other robots, 2 (N-1) zeros for the silent comm
channel]`` in index order, continuous actions ``Box(0, 1, (5,))`` with force
``accel * (a2 - a1, a4 - a3)``, state = all observations concatenated. A parity test replays mpe2
from the same initial state and matches it to 1e-5.

## Arguments

See :class:`Config`; every field is a keyword of ``swarmzoo.make``.

## Version history

* v0: initial release.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core import render as colors
from swarmzoo.envs.core.arena import BOUNDARIES, Arena, apply_walls, min_image
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.neighbors import (
    DENSE_MAX,
    Pairwise,
    env_last,
    knn,
    nearest_offsets,
    pair_table,
    pairwise,
)
from swarmzoo.envs.core.physics import (
    DISCRETE_DIRECTIONS,
    PointMassParams,
    block_obstacles,
    integrate,
    obstacle_contacts,
    robot_contacts,
    total_force,
)
from swarmzoo.envs.core.rng import BatchRNG
from swarmzoo.envs.core.scratch import Scratch
from swarmzoo.envs.core.task import SwarmTask, check_number, check_positive_int
from swarmzoo.envs.registry import register

# Batches of at least this many robots (envs x robots) reuse work memory between steps.
SCRATCH_MIN_ROBOTS = 512
# Fraction of the arena area that obstacles (with clearance) may take before spawning is refused.
MAX_OBSTACLE_FILL = 0.5
# Fresh starts of the random obstacle placement before a layout is declared infeasible.
OBSTACLE_RESTARTS = 500


@dataclass(frozen=True)
class Config:
    """Arguments of ``navigation-v0``.

    Attributes:
        n_agents: number of robots N (>= 1).
        n_goals: number of goals G (default N).
        n_obstacles: number of circular obstacles O.
        obstacle_radius: radius of every obstacle.
        arena_width: arena extent along x; default ``2 * sqrt(max(N, 3) / 3)`` so the density of
            robots stays that of 3 robots in a 2 x 2 arena.
        arena_height: arena extent along y; default ``arena_width``.
        boundary: ``"walls"``, ``"torus"`` or ``"none"`` (unbounded; the arena is the spawn area).
        robot_radius: robot body radius.
        goal_radius: a goal is occupied when a robot's centre is within this distance.
        accel: force of a full action.
        dt: integration time step.
        damping: fraction of velocity lost per step.
        mass: robot mass.
        max_speed: speed cap, or None.
        contact_force: soft-contact stiffness.
        contact_margin: soft-contact softness length.
        local_ratio: weight of the local (collision) reward, in [0, 1].
        shared_reward: ``"mean"`` or ``"sum"`` over goals of the nearest-robot distance.
        collision_penalty: penalty per overlapping robot or obstacle.
        k_goals: goal slots in the observation.
        k_robots: robot slots in the observation.
        k_obstacles: obstacle slots in the observation.
        sensing_radius: robots sense goals, robots and obstacles only within this range (None:
            unlimited).
        terminate_on_success: end the episode once every goal is occupied.
        max_cycles: steps per episode.
        continuous_actions: ``Box`` actions instead of ``Discrete(5)``.
        mpe_compat: MPE simple_spread layouts for observation, state and continuous actions
            (set by the ``mpe_spread`` preset).
    """

    n_agents: int = 3
    n_goals: int | None = None
    n_obstacles: int = 0
    obstacle_radius: float = 0.15
    arena_width: float | None = None
    arena_height: float | None = None
    boundary: Literal["walls", "torus", "none"] = "walls"
    robot_radius: float = 0.1
    goal_radius: float = 0.1
    accel: float = 5.0
    dt: float = 0.1
    damping: float = 0.25
    mass: float = 1.0
    max_speed: float | None = None
    contact_force: float = 100.0
    contact_margin: float = 1e-3
    local_ratio: float = 0.5
    shared_reward: Literal["mean", "sum"] = "mean"
    collision_penalty: float = 1.0
    k_goals: int = 3
    k_robots: int = 3
    k_obstacles: int = 2
    sensing_radius: float | None = None
    terminate_on_success: bool = False
    max_cycles: int = 50
    continuous_actions: bool = False
    mpe_compat: bool = False

    def __post_init__(self) -> None:
        check_positive_int("n_agents", self.n_agents)
        if self.n_goals is not None:
            check_positive_int("n_goals", self.n_goals)
        check_positive_int("n_obstacles", self.n_obstacles, minimum=0)
        check_positive_int("k_goals", self.k_goals, minimum=0)
        check_positive_int("k_robots", self.k_robots, minimum=0)
        check_positive_int("k_obstacles", self.k_obstacles, minimum=0)
        check_positive_int("max_cycles", self.max_cycles)
        for name in (
            "obstacle_radius",
            "robot_radius",
            "goal_radius",
            "accel",
            "dt",
            "mass",
            "contact_margin",
        ):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_number("arena_width", self.arena_width, low=0.0, low_open=True, allow_none=True)
        check_number("arena_height", self.arena_height, low=0.0, low_open=True, allow_none=True)
        check_number("sensing_radius", self.sensing_radius, low=0.0, low_open=True, allow_none=True)
        check_number("max_speed", self.max_speed, low=0.0, low_open=True, allow_none=True)
        check_number("damping", self.damping, 0.0, 0.999999)
        check_number("contact_force", self.contact_force, low=0.0)
        check_number("local_ratio", self.local_ratio, 0.0, 1.0)
        check_number("collision_penalty", self.collision_penalty, low=0.0)
        if self.boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, got {self.boundary!r}")
        if self.shared_reward not in ("mean", "sum"):
            raise ValueError(f"shared_reward must be 'mean' or 'sum', got {self.shared_reward!r}")
        for name in ("terminate_on_success", "continuous_actions", "mpe_compat"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        arena = self.arena
        inner = (arena.width - 2 * self.robot_radius, arena.height - 2 * self.robot_radius)
        if self.boundary == "walls" and min(inner) <= 0:
            raise ValueError(
                f"robot_radius={self.robot_radius} does not fit in the {arena.width:g} x {arena.height:g} "
                "arena (arena_width x arena_height)"
            )
        clearance = self.obstacle_radius + self.robot_radius
        fill = self.n_obstacles * np.pi * clearance**2 / arena.area
        if fill > MAX_OBSTACLE_FILL:
            raise ValueError(
                f"n_obstacles={self.n_obstacles} obstacles of radius {self.obstacle_radius} (plus "
                f"robot clearance) would fill {fill:.0%} of the {arena.width:g} x {arena.height:g} "
                f"arena; at most {MAX_OBSTACLE_FILL:.0%} fits. Use fewer or smaller obstacles or a "
                "larger arena."
            )

    @property
    def goals(self) -> int:
        return self.n_agents if self.n_goals is None else self.n_goals

    @cached_property
    def arena(self) -> Arena:
        width = self.arena_width
        if width is None:
            width = 2.0 * float(np.sqrt(max(self.n_agents, 3) / 3.0))
        height = width if self.arena_height is None else self.arena_height
        return Arena(width=width, height=height, boundary=self.boundary)

    @cached_property
    def physics(self) -> PointMassParams:
        return PointMassParams(
            dt=self.dt,
            damping=self.damping,
            mass=self.mass,
            max_speed=self.max_speed,
            contact_force=self.contact_force,
            contact_margin=self.contact_margin,
        )


# -- the task's pure functions ---------------------------------------------------------------


def spawn_obstacles(rng: BatchRNG, env_ids: np.ndarray, cfg: Config) -> np.ndarray:
    """Non-overlapping obstacle centres ``(len(env_ids), O, 2)``, a robot-wide gap between any two.

    Random sequential placement from a fresh batch of candidates, restarted from scratch (first
    obstacle included) when a batch runs out, so one unlucky early obstacle cannot make a
    feasible layout fail. Distances use the minimum image on a torus.
    """
    arena, n = cfg.arena, cfg.n_obstacles
    out = np.zeros((len(env_ids), n, 2))
    if n == 0:
        return out
    margin = cfg.obstacle_radius if cfg.boundary == "walls" else 0.0
    half = arena.half - margin
    min_gap = 2 * cfg.obstacle_radius + 2 * cfg.robot_radius
    for row, e in enumerate(env_ids):
        gen = rng.generator(int(e))
        for _ in range(OBSTACLE_RESTARTS):
            placed = 0
            for c in gen.uniform(-half, half, size=(8 * n, 2)):
                gaps = np.linalg.norm(min_image(out[row, :placed] - c, arena), axis=1)
                if placed == 0 or gaps.min() >= min_gap:
                    out[row, placed] = c
                    placed += 1
                    if placed == n:
                        break
            if placed == n:
                break
        else:
            raise RuntimeError(
                f"could not place {n} obstacles of radius {cfg.obstacle_radius} "
                f"{min_gap - 2 * cfg.obstacle_radius:g} apart in a {arena.width:g} x "
                f"{arena.height:g} arena; use fewer or smaller obstacles"
            )
    return out


def spawn_free_points(
    rng: BatchRNG, env_ids: np.ndarray, count: int, cfg: Config, obstacles: np.ndarray, clearance: float
) -> np.ndarray:
    """Uniform points ``(len(env_ids), count, 2)`` at least ``clearance`` from obstacle surfaces
    (minimum image on a torus); points that land too close are redrawn."""
    arena = cfg.arena
    if cfg.mpe_compat:
        return rng.uniform(env_ids, (count, 2), -1.0, 1.0)
    margin = cfg.robot_radius if cfg.boundary == "walls" else 0.0
    half = arena.half - margin
    pts = rng.uniform(env_ids, (count, 2), -half, half)
    if cfg.n_obstacles == 0:
        return pts
    limit = cfg.obstacle_radius + clearance
    for row, e in enumerate(env_ids):
        gen = rng.generator(int(e))
        for _ in range(1000):
            gaps = np.linalg.norm(min_image(pts[row, :, None] - obstacles[row, None], arena), axis=-1)
            bad = gaps.min(axis=1) < limit
            if not bad.any():
                break
            pts[row, bad] = gen.uniform(-half, half, size=(int(bad.sum()), 2))
        else:
            raise RuntimeError(
                "could not place robots/goals clear of the obstacles; use fewer or smaller obstacles"
            )
    return pts


def action_forces(actions: np.ndarray, cfg: Config) -> np.ndarray:
    """Forces ``(E, N, 2)`` from validated actions, laid out env-last in memory like the state."""
    if not cfg.continuous_actions:
        return (DISCRETE_DIRECTIONS.T * cfg.accel).take(actions.T, axis=1).T
    if cfg.mpe_compat:
        # Differences in the action's own dtype, as MPE computes them.
        u = np.stack([actions[..., 2] - actions[..., 1], actions[..., 4] - actions[..., 3]], axis=-1)
        return np.asfortranarray(u.astype(np.float64) * cfg.accel)
    return np.asfortranarray(actions.astype(np.float64) * cfg.accel)


def goal_distances(pos: np.ndarray, goals: np.ndarray, arena: Arena) -> np.ndarray:
    """Distance from each goal to its nearest robot, ``(E, G)``."""
    return np.ascontiguousarray(knn(goals, pos, 1, arena).dist[..., 0])


def observe_local(
    pos,
    vel,
    goals,
    obstacles,
    cfg: Config,
    goals_seen: tuple[np.ndarray, np.ndarray] | None = None,
    scratch: Scratch | None = None,
) -> np.ndarray:
    """The default observation layout, ``(E, N, D)`` float32 (see the module docstring).

    ``goals_seen`` saves sensing the goals when the caller already has them: the ``k_goals``
    nearest as :func:`~swarmzoo.envs.core.neighbors.nearest_offsets` returns them. ``scratch``
    holds the work arrays (see :mod:`~swarmzoo.envs.core.scratch`).
    """
    arena, r = cfg.arena, cfg.sensing_radius
    E, N = pos.shape[:2]
    # Built feature-major, (D, N, E), where every feature is one contiguous block, then
    # transposed once (cheaper than many strided writes into the (E, N, D) result).
    shape = (4 + 3 * cfg.k_goals + 3 * cfg.k_robots + 4 * cfg.k_obstacles, N, E)
    obs, new = (
        (np.empty(shape, np.float32), True) if scratch is None else (scratch.buffer("obs", shape, np.float32))
    )
    obs[0:2] = vel.T
    obs[2:4] = pos.T
    # Without a sensing radius the valid flags, obstacle radii and empty slots are the same every
    # step, so a reused buffer keeps them and only the offsets of filled slots are rewritten.
    static = r is None and not new

    def goals_sensed() -> tuple[np.ndarray, np.ndarray]:
        if goals_seen is not None:
            return goals_seen
        return nearest_offsets(pos, goals, cfg.k_goals, arena, radius=r, scratch=scratch)

    def robots_sensed() -> tuple[np.ndarray, np.ndarray]:
        return nearest_offsets(pos, pos, cfg.k_robots, arena, radius=r, exclude_self=True, scratch=scratch)

    def obstacles_sensed() -> tuple[np.ndarray, np.ndarray]:
        return nearest_offsets(pos, obstacles, cfg.k_obstacles, arena, radius=r)

    sensors = (  # (sense, slots, candidates, features per slot)
        (goals_sensed, cfg.k_goals, cfg.goals, 3),
        (robots_sensed, cfg.k_robots, N - 1, 3),
        (obstacles_sensed, cfg.k_obstacles, cfg.n_obstacles, 4),
    )
    start = 4
    for sense, k, candidates, width in sensors:  # one at a time: few large temporaries alive
        slots = obs[start : start + width * k].reshape(k, width, N, E)  # (slot, feature, N, E)
        start += width * k
        filled = min(k, candidates)
        if static and filled == 0:
            continue
        delta, mask = sense()
        if static:
            slots[:filled, 0:2] = delta[:, :filled].transpose(1, 0, 2, 3)
            continue
        slots[:, 0:2] = delta.transpose(1, 0, 2, 3)
        if width == 4:
            slots[:, 2] = np.where(mask, cfg.obstacle_radius, 0.0)
        slots[:, -1] = mask
    return _env_major(obs, scratch)


def _env_major(obs: np.ndarray, scratch: Scratch | None) -> np.ndarray:
    """A fresh C-contiguous ``(E, N, D)`` copy of feature-major ``obs (D, N, E)``."""
    if scratch is None:
        return obs.T.copy()
    # For big batches two transposes beat numpy's one 3-D transpose: (D, N E) -> (N E, D) is a
    # plain 2-D transpose, and (N, E, D) -> (E, N, D) then moves whole D-long rows.
    D, N, E = obs.shape
    rows = scratch.empty("obs_rows", (N * E, D), obs.dtype)
    np.copyto(rows, obs.reshape(D, N * E).T)
    return rows.reshape(N, E, D).transpose(1, 0, 2).copy()


def observe_mpe(pos, vel, goals, goal_pairs: Pairwise | None = None) -> np.ndarray:
    """MPE simple_spread's layout, ``(E, N, 4 + 2 G + 4 (N - 1))`` float32."""
    E, N = pos.shape[:2]
    G = goals.shape[1]
    p = env_last(pos)  # (2, N, E)
    if goal_pairs is None:
        goal_rel = env_last(goals)[:, :, None, :] - p[:, None, :, :]
    else:
        goal_rel = goal_pairs.delta  # (2, G, N, E): goal - robot
    others = p[:, pair_table(N).partner] - p[:, None]  # (2, N - 1, N, E): other - robot
    # Built feature-major, (D, N, E), then transposed once; the silent comm channel stays zero.
    obs = np.zeros((4 + 2 * G + 4 * (N - 1), N, E), dtype=np.float32)
    obs[0:2] = vel.T
    obs[2:4] = p
    obs[4 : 4 + 2 * G].reshape(G, 2, N, E)[...] = goal_rel.transpose(1, 0, 2, 3)
    start = 4 + 2 * G
    obs[start : start + 2 * (N - 1)].reshape(N - 1, 2, N, E)[...] = others.transpose(1, 0, 2, 3)
    return obs.T.copy()


def _sum_over_goals(goal_dist_t: np.ndarray) -> np.ndarray:
    """Row sums ``(E,)`` of the ``(E, G)`` goal distances given as their transpose ``(G, E)``, in
    exactly the order numpy sums a contiguous ``(E, G)`` row (so rewards keep their last bit):
    left to right below 8 terms, which adding the env-last rows in order reproduces, and
    pairwise from 8 terms on."""
    if len(goal_dist_t) < 8:
        return np.add.reduce(goal_dist_t, axis=0)
    return np.ascontiguousarray(goal_dist_t.T).sum(axis=1)


# -- the task --------------------------------------------------------------------------------


class Navigation(SwarmTask):
    """Batched cooperative navigation: state arrays ``pos``, ``vel`` ``(E, N, 2)``, ``goals``
    ``(E, G, 2)``, ``obstacles`` ``(E, O, 2)``."""

    name = "navigation_v0"
    Config = Config
    PRESETS = {
        "mpe_spread": dict(
            arena_width=2.0,
            arena_height=2.0,
            boundary="none",
            robot_radius=0.15,
            goal_radius=0.1,
            shared_reward="sum",
            max_cycles=25,
            mpe_compat=True,
        ),
    }

    @classmethod
    def observation_size(cls, config: Config) -> int:
        if config.mpe_compat:  # every goal and every other robot: grows with N
            return 4 + 2 * config.goals + 4 * (config.n_agents - 1)
        return 4 + 3 * config.k_goals + 3 * config.k_robots + 4 * config.k_obstacles

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        cfg = config
        if cfg.mpe_compat and (
            cfg.n_goals not in (None, cfg.n_agents)
            or cfg.n_obstacles
            or cfg.boundary == "torus"
            or cfg.sensing_radius is not None
        ):
            raise ValueError(
                "mpe_compat (preset 'mpe_spread') needs n_goals = n_agents, no "
                "obstacles, no torus and no sensing_radius"
            )
        self.arena = cfg.arena
        self.physics = cfg.physics
        E, N, G, O = n_envs, cfg.n_agents, cfg.goals, cfg.n_obstacles
        # State is stored env-last in memory (Fortran order) with shapes (E, ...), so the dense
        # core's working transposes are free (see swarmzoo.envs.core.neighbors.env_last).
        self.pos = np.zeros((E, N, 2), order="F")
        self.vel = np.zeros((E, N, 2), order="F")
        self.goals = np.zeros((E, G, 2), order="F")
        self.obstacles = np.zeros((E, O, 2), order="F")
        self.obstacle_radius = np.full((E, O), cfg.obstacle_radius, order="F")
        self.collisions = np.zeros((E, N), dtype=np.int64, order="F")
        self._contact_forces: list = []
        # One robot-goal distance matrix serves reward, infos and observation where both the
        # robots and the goals are few enough for the dense path (else k-d trees, per query).
        self._dense_goals = N <= DENSE_MAX and G <= DENSE_MAX
        self._goal_pairs: Pairwise | None = None
        self._goals_seen: tuple[np.ndarray, np.ndarray] | None = None
        self._never_terminated = np.zeros((E, N), dtype=bool)
        self._never_terminated.setflags(write=False)
        # Work memory per call site, worth its bookkeeping only for big batches (see scratch.py).
        big = E * N >= SCRATCH_MIN_ROBOTS
        self._scratch = {site: Scratch() if big else None for site in ("obs", "goals", "contacts", "forces")}
        obs_dim = self.observation_size(cfg)
        state_dim = N * obs_dim if cfg.mpe_compat else 4 * N + 2 * G + 3 * O
        self.observation_space = spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.state_space = spaces.Box(-np.inf, np.inf, (state_dim,), np.float32)
        if not cfg.continuous_actions:
            self.action_space = spaces.Discrete(5)
        elif cfg.mpe_compat:
            self.action_space = spaces.Box(0.0, 1.0, (5,), np.float32)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._obs: np.ndarray | None = None

    def _reset(self, env_ids: np.ndarray) -> None:
        cfg = self.config
        obstacles = spawn_obstacles(self.rng, env_ids, cfg)
        self.obstacles[env_ids] = obstacles
        N = cfg.n_agents
        if cfg.n_obstacles == 0:
            # Without rejection sampling, robots then goals in one draw per env copy (the same
            # numbers as two draws, at half the per-copy generator calls).
            points = spawn_free_points(self.rng, env_ids, N + cfg.goals, cfg, obstacles, cfg.robot_radius)
            self.pos[env_ids], self.goals[env_ids] = points[:, :N], points[:, N:]
        else:
            self.pos[env_ids] = spawn_free_points(self.rng, env_ids, N, cfg, obstacles, cfg.robot_radius)
            self.goals[env_ids] = spawn_free_points(
                self.rng, env_ids, cfg.goals, cfg, obstacles, cfg.robot_radius
            )
        self.vel[env_ids] = 0.0
        self._contacts()

    def _contacts(self) -> None:
        """Contact forces and overlaps of the current state (used for this step's reward and
        the next step's dynamics, so each is computed once)."""
        cfg = self.config
        robot_force, hits = robot_contacts(
            self.pos, cfg.robot_radius, self.physics, self.arena, self._scratch["contacts"]
        )
        forces = [robot_force]
        if cfg.n_obstacles:
            push, obstacle_hits = obstacle_contacts(
                self.pos, cfg.robot_radius, self.obstacles, self.obstacle_radius, self.physics, self.arena
            )
            forces.append(push)
            hits = hits + obstacle_hits
        self._contact_forces, self.collisions = forces, hits
        self._goal_pairs = self._goals_seen = None
        self._obs = None

    def _goal_pairwise(self) -> Pairwise | None:
        """Robot-to-goal displacements of the current state, shared by the reward, the infos and
        the observation; None where a swarm this large uses the k-d tree instead."""
        if self._goal_pairs is None and self._dense_goals:
            self._goal_pairs = pairwise(self.pos, self.goals, self.arena, self._scratch["goals"])
        return self._goal_pairs

    def _sense_goals(self) -> tuple[np.ndarray, np.ndarray]:
        """The ``k_goals`` nearest goals of each robot in the current state (see
        :func:`observe_local`)."""
        if self._goals_seen is None:
            cfg = self.config
            pairs = self._goal_pairwise()
            if pairs is not None:
                self._goals_seen = pairs.offsets(cfg.k_goals, cfg.sensing_radius, self._scratch["goals"])
            else:
                seen = knn(self.pos, self.goals, cfg.k_goals, self.arena, cfg.sensing_radius)
                self._goals_seen = seen.delta.T, seen.mask.T
        return self._goals_seen

    def _step(self, actions: np.ndarray):
        cfg = self.config
        force = total_force(
            action_forces(actions, cfg), *self._contact_forces, scratch=self._scratch["forces"]
        )
        prev_pos = self.pos
        self.pos, self.vel = integrate(self.pos, self.vel, force, self.physics, self.arena, cfg.robot_radius)
        if cfg.n_obstacles:
            if block_obstacles(
                prev_pos,
                self.pos,
                self.vel,
                cfg.robot_radius,
                self.obstacles,
                self.obstacle_radius,
                self.arena,
            ).any():
                apply_walls(self.pos, self.vel, cfg.robot_radius, self.arena)
        # Rewards and metrics are taken on the new state, as in MPE.
        self._contacts()
        hits = self.collisions
        pairs = self._goal_pairwise()
        if pairs is not None:
            goal_d2 = pairs.d2  # (G, N, E)
            goal_dist_t = np.sqrt(np.minimum.reduce(goal_d2, axis=1))  # (G, E)
            nearest_goal = np.ascontiguousarray(np.sqrt(np.minimum.reduce(goal_d2, axis=0)).T)
        else:
            goal_dist_t = goal_distances(self.pos, self.goals, self.arena).T
            if cfg.sensing_radius is None and cfg.k_goals and not cfg.mpe_compat:
                # The observation's nearest goals (k-d tree) give the nearest-goal distance too.
                seen = knn(self.pos, self.goals, cfg.k_goals, self.arena)
                self._goals_seen = seen.delta.T, seen.mask.T
            else:
                seen = knn(self.pos, self.goals, 1, self.arena)
            nearest_goal = np.ascontiguousarray(seen.dist[..., 0])
        total = _sum_over_goals(goal_dist_t)
        shared = -(total if cfg.shared_reward == "sum" else total / cfg.goals)
        local_t = -cfg.collision_penalty * hits.T  # (N, E)
        rewards = np.ascontiguousarray(((1.0 - cfg.local_ratio) * shared + cfg.local_ratio * local_t).T)
        occupied = np.add.reduce(goal_dist_t < cfg.goal_radius, axis=0)
        success = occupied == cfg.goals
        if cfg.terminate_on_success:
            terminated = np.broadcast_to(success[:, None], rewards.shape)
        else:
            terminated = self._never_terminated
        infos = {
            "goals_occupied": occupied,
            "success": success,
            "collisions": np.ascontiguousarray(hits),
            "nearest_goal_distance": nearest_goal,
        }
        return rewards, terminated, infos

    def observe(self) -> np.ndarray:
        if self._obs is None:
            if self.config.mpe_compat:
                self._obs = observe_mpe(self.pos, self.vel, self.goals, self._goal_pairwise())
            else:
                self._obs = observe_local(
                    self.pos,
                    self.vel,
                    self.goals,
                    self.obstacles,
                    self.config,
                    self._sense_goals(),
                    self._scratch["obs"],
                )
        return self._obs

    def state(self) -> np.ndarray:
        E = self.n_envs
        if self.config.mpe_compat:
            return self.observe().reshape(E, -1)
        parts = [
            self.pos,
            self.vel,
            self.goals,
            np.concatenate([self.obstacles, self.obstacle_radius[..., None]], axis=-1),
        ]
        return np.concatenate([p.reshape(E, -1) for p in parts], axis=1).astype(np.float32)

    def draw(self, renderer, env_index: int) -> None:
        e, cfg = env_index, self.config
        extent = None
        if cfg.boundary == "none":
            extent = np.abs(np.concatenate([self.pos[e], self.goals[e]])).max(axis=0)
        renderer.begin(extent)
        if cfg.n_obstacles:
            renderer.circles(self.obstacles[e], self.obstacle_radius[e], colors.OBSTACLE)
        if cfg.sensing_radius is not None:
            renderer.circles(self.pos[e], cfg.sensing_radius, (205, 215, 240), width=1)
        occupied = (
            knn(self.goals[e : e + 1], self.pos[e : e + 1], 1, self.arena).dist[0, :, 0] < cfg.goal_radius
        )
        renderer.circles(self.goals[e], cfg.goal_radius, (250, 230, 200))
        robot_colors = np.where(self.collisions[e][:, None] > 0, colors.COLLISION, colors.ROBOT)
        renderer.robots(self.pos[e], self.vel[e], cfg.robot_radius, robot_colors)
        # Goal marks on top, so an occupied goal (green) stays visible under its robot.
        renderer.crosses(
            self.goals[e], cfg.goal_radius, np.where(occupied[:, None], colors.GOAL_DONE, colors.GOAL)
        )


parallel_env, raw_env, env, vector_env = make_factories(Navigation)
register("navigation-v0", __name__, "N robots cover N goals, avoiding collisions and obstacles")
