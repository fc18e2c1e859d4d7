"""The ``navigation-v0`` task on the core physics, in its default layouts.

:class:`NavigationTask` holds the batched state, spawning, dynamics, contacts, reward, infos and
drawing of ``navigation-v0`` with the default observation, state and action layouts (see
:mod:`swarmzoo.envs.navigation`, which documents them and owns the ``Config``). MPE's
simple_spread layouts are the subclass :class:`~swarmzoo.envs.navigation_mpe.MPESpread`, which
overrides only those. The functions here take ``navigation-v0``'s ``Config`` as ``cfg``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core import render as colors
from swarmzoo.envs.core.arena import Arena, apply_walls, min_image
from swarmzoo.envs.core.dense import Pairwise, env_major, pairwise
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.neighbors import DENSE_MAX, knn, nearest_offsets
from swarmzoo.envs.core.physics import (
    DISCRETE_DIRECTIONS,
    block_obstacles,
    integrate,
    obstacle_contacts,
    robot_contacts,
    total_force,
)
from swarmzoo.envs.core.rng import BatchRNG
from swarmzoo.envs.core.safety import safety_step
from swarmzoo.envs.core.scratch import Scratch
from swarmzoo.envs.core.task import SwarmTask

# Batches of at least this many robots (envs x robots) reuse work memory between steps.
SCRATCH_MIN_ROBOTS = 512
# Fresh starts of the random obstacle placement before a layout is declared infeasible.
OBSTACLE_RESTARTS = 500

# -- the task's pure functions ---------------------------------------------------------------


def spawn_obstacles(rng: BatchRNG, env_ids: np.ndarray, cfg: Any) -> np.ndarray:
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
    rng: BatchRNG, env_ids: np.ndarray, count: int, cfg: Any, obstacles: np.ndarray, clearance: float
) -> np.ndarray:
    """Uniform points ``(len(env_ids), count, 2)`` at least ``clearance`` from obstacle surfaces
    (minimum image on a torus); points that land too close are redrawn."""
    arena = cfg.arena
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


def separate_robots(
    rng: BatchRNG, env_ids: np.ndarray, pos: np.ndarray, cfg: Any, obstacles: np.ndarray
) -> np.ndarray:
    """``pos (len(env_ids), N, 2)`` with robots redrawn until every two centres are at least
    ``cfg.spawn_separation`` apart (minimum image on a torus), each still clear of obstacles.
    Copies already separated keep their draw, so their random streams are unchanged."""
    arena, sep = cfg.arena, cfg.spawn_separation
    margin = cfg.robot_radius if cfg.boundary == "walls" else 0.0
    half = arena.half - margin
    limit = cfg.obstacle_radius + cfg.robot_radius
    pos = pos.copy()
    for row, e in enumerate(env_ids):
        gen = None
        for _ in range(10_000):
            d = np.linalg.norm(min_image(pos[row, :, None] - pos[row, None], arena), axis=-1)
            close = np.triu(d < sep, k=1)
            if not close.any():
                break
            gen = gen or rng.generator(int(e))
            bad = np.flatnonzero(close.any(axis=0))  # the later robot of each close pair
            fresh = gen.uniform(-half, half, size=(len(bad), 2))
            if cfg.n_obstacles:
                gaps = np.linalg.norm(min_image(fresh[:, None] - obstacles[row, None], arena), axis=-1)
                fresh = np.where((gaps.min(axis=1) < limit)[:, None], pos[row, bad], fresh)
            pos[row, bad] = fresh
        else:
            raise RuntimeError(
                f"could not spawn {cfg.n_agents} robots {sep:g} apart in a {arena.width:g} x "
                f"{arena.height:g} arena; use a smaller spawn_separation or a larger arena"
            )
    return pos


# Vector-reward objectives (``objectives=(...)``), each higher-is-better.
OBJECTIVES = {
    "goals": "minus the mean (or sum, shared_reward) over goals of the nearest robot's distance "
    "(the reward's shared term; one value per copy)",
    "occupied": "the fraction of goals with a robot within goal_radius (one value per copy)",
    "collisions": "minus the robots and obstacles this robot overlaps (per robot)",
    "energy": "minus the control effort |action force|^2 / accel^2 (per robot; 0 for a no-op)",
}


def action_forces(actions: np.ndarray, cfg: Any) -> np.ndarray:
    """Forces ``(E, N, 2)`` from validated actions, laid out env-last in memory like the state."""
    if not cfg.continuous_actions:
        return (DISCRETE_DIRECTIONS.T * cfg.accel).take(actions.T, axis=1).T
    return np.asfortranarray(actions.astype(np.float64) * cfg.accel)


def goal_distances(pos: np.ndarray, goals: np.ndarray, arena: Arena) -> np.ndarray:
    """Distance from each goal to its nearest robot, ``(E, G)``."""
    return np.ascontiguousarray(knn(goals, pos, 1, arena).dist[..., 0])


def observe_local(
    pos,
    vel,
    goals,
    obstacles,
    cfg: Any,
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
    return env_major(obs, scratch)


def _sum_over_goals(goal_dist_t: np.ndarray) -> np.ndarray:
    """Row sums ``(E,)`` of the ``(E, G)`` goal distances given as their transpose ``(G, E)``, in
    exactly the order numpy sums a contiguous ``(E, G)`` row (so rewards keep their last bit):
    left to right below 8 terms, which adding the env-last rows in order reproduces, and
    pairwise from 8 terms on."""
    if len(goal_dist_t) < 8:
        return np.add.reduce(goal_dist_t, axis=0)
    return np.ascontiguousarray(goal_dist_t.T).sum(axis=1)


# -- the task --------------------------------------------------------------------------------


class NavigationTask(SwarmTask):
    """Batched cooperative navigation: state arrays ``pos``, ``vel`` ``(E, N, 2)``, ``goals``
    ``(E, G, 2)``, ``obstacles`` ``(E, O, 2)``.

    A layout subclass overrides :meth:`observation_size`, :meth:`state_size`,
    :meth:`make_action_space`, :meth:`observe`, :meth:`state` and the hooks
    :meth:`_spawn_points` and :meth:`_action_forces`.
    """

    name = "navigation_v0"
    objectives_available = OBJECTIVES
    # The observation holds each robot's k_goals nearest goals (the default layout): the step's
    # k-d tree query for the nearest-goal distance then finds them for the observation too.
    senses_nearest_goals: ClassVar[bool] = True

    @classmethod
    def observation_size(cls, config: Any) -> int:
        return 4 + 3 * config.k_goals + 3 * config.k_robots + 4 * config.k_obstacles

    @classmethod
    def state_size(cls, config: Any) -> int:
        """Length of one env copy's global state."""
        caps = config.n_agents if isinstance(config.max_speed, tuple) else 0  # heterogeneous robots
        return 4 * config.n_agents + 2 * config.goals + 3 * config.n_obstacles + caps

    @classmethod
    def make_action_space(cls, config: Any) -> spaces.Space:
        """One robot's action space."""
        if not config.continuous_actions:
            return spaces.Discrete(5)
        return spaces.Box(-1.0, 1.0, (2,), np.float32)

    def __init__(self, config: Any, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        cfg = config
        self.arena = cfg.arena
        self.physics = cfg.physics
        E, N, G, O = n_envs, cfg.n_agents, cfg.goals, cfg.n_obstacles
        # State is stored env-last in memory (Fortran order) with shapes (E, ...), so the dense
        # core's working transposes are free (see swarmzoo.envs.core.dense.env_last).
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
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.observation_size(cfg),), np.float32)
        self.state_space = spaces.Box(-np.inf, np.inf, (self.state_size(cfg),), np.float32)
        self.action_space = self.make_action_space(cfg)
        self._obs: np.ndarray | None = None

    # -- the layout hooks -------------------------------------------------------------------

    def _spawn_points(self, env_ids: np.ndarray, count: int, obstacles: np.ndarray) -> np.ndarray:
        """``count`` robot or goal positions ``(len(env_ids), count, 2)`` for new episodes."""
        cfg = self.config
        return spawn_free_points(self.rng, env_ids, count, cfg, obstacles, cfg.robot_radius)

    def _action_forces(self, actions: np.ndarray) -> np.ndarray:
        """Forces ``(E, N, 2)`` from validated actions (see :func:`action_forces`)."""
        return action_forces(actions, self.config)

    # -- episode and dynamics ---------------------------------------------------------------

    def _reset(self, env_ids: np.ndarray) -> None:
        cfg = self.config
        obstacles = spawn_obstacles(self.rng, env_ids, cfg)
        self.obstacles[env_ids] = obstacles
        N = cfg.n_agents
        if cfg.n_obstacles == 0:
            # Without rejection sampling, robots then goals in one draw per env copy (the same
            # numbers as two draws, at half the per-copy generator calls).
            points = self._spawn_points(env_ids, N + cfg.goals, obstacles)
            self.pos[env_ids], self.goals[env_ids] = points[:, :N], points[:, N:]
        else:
            self.pos[env_ids] = self._spawn_points(env_ids, N, obstacles)
            self.goals[env_ids] = self._spawn_points(env_ids, cfg.goals, obstacles)
        if cfg.spawn_separation > 0:
            self.pos[env_ids] = separate_robots(self.rng, env_ids, self.pos[env_ids], cfg, obstacles)
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
        action_force = self._action_forces(actions)
        if self.objectives:  # control effort, before the contact forces are added
            self._effort = np.add.reduce(action_force * action_force, axis=-1) / cfg.accel**2
        force = total_force(action_force, *self._contact_forces, scratch=self._scratch["forces"])
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
            if self.senses_nearest_goals and cfg.sensing_radius is None and cfg.k_goals:
                # The observation's nearest goals (k-d tree) give the nearest-goal distance too.
                seen = knn(self.pos, self.goals, cfg.k_goals, self.arena)
                self._goals_seen = seen.delta.T, seen.mask.T
            else:
                seen = knn(self.pos, self.goals, 1, self.arena)
            nearest_goal = np.ascontiguousarray(seen.dist[..., 0])
        total = _sum_over_goals(goal_dist_t)
        shared = -(total if cfg.shared_reward == "sum" else total / cfg.goals)
        self._shared = shared
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
        if cfg.safety_radius is not None:
            obstacles = (self.obstacles, self.obstacle_radius) if cfg.n_obstacles else (None, None)
            infos.update(safety_step(self.pos, self.arena, cfg.safety_radius, hits, *obstacles).infos())
        return rewards, terminated, infos

    def objective_rewards(self, rewards: np.ndarray, infos: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The objectives of :data:`OBJECTIVES` for the step just taken."""
        return {
            "goals": self._shared,
            "occupied": infos["goals_occupied"] / self.config.goals,
            "collisions": -infos["collisions"],
            "energy": -self._effort,
        }

    def observe(self) -> np.ndarray:
        if self._obs is None:
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
        parts = [
            self.pos,
            self.vel,
            self.goals,
            np.concatenate([self.obstacles, self.obstacle_radius[..., None]], axis=-1),
        ]
        if isinstance(self.config.max_speed, tuple):  # heterogeneous robots: their speed caps
            parts.append(np.broadcast_to(np.asarray(self.config.max_speed), (E, self.config.n_agents)))
        return np.concatenate([p.reshape(E, -1) for p in parts], axis=1).astype(np.float32)

    def draw(self, renderer, env_index: int, history: RenderHistory) -> None:
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
