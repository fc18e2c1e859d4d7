"""# Non-uniform area coverage (``coverage-v0``)

N robots must spend their time where a mission's reference density says attention is needed
(search and rescue, inspection, monitoring). The density is a grayscale image (shipped maps:
``uniform``, ``two_hotspots``, ``ring``, ``disaster``; or any image file) or a Gaussian mixture.
Robots serve the demand they pass over; the remaining-demand map fades as it is served. This is
the setting of D2OC (Seo & Lee, "Density-Driven Optimal Control for Non-Uniform Area Coverage in
Decentralized Multi-Agent Systems Using Optimal Transport", IEEE TSMC 2025).

| Import              | ``swarmzoo.make("coverage-v0")`` or ``from swarmzoo.envs import coverage``       |
|---------------------|--------------------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{N-1}``                                                     |
| Actions             | ``Box(-1, 1, (2,))`` acceleration, or ``Discrete(5)`` (``continuous_actions=False``) |
| Observation         | ``Box(-inf, inf, (5 + crop_size^2 + 3 k_robots,), float32)``                     |
| State               | ``Box(-inf, inf, (5 N + M,), float32)``, M = ``w2_resolution^2`` remaining demand |
| Vector face         | ``swarmzoo.make_vec("coverage-v0", num_envs)``                                  |

## Dynamics

Double integrators in a walled ``arena_width x arena_height`` arena: ``v <- clip_speed(v + dt *
max_accel * a)``, ``x <- x + dt * v``; speeds are capped at ``max_speed``; a robot that reaches a
wall stops there (its outward velocity is dropped).

## Demand

The reference density ``rho`` lives on the map's grid of cells over the arena (image row 0 is the
arena's top edge) and sums to 1. The remaining demand starts at ``rho``. Each step every active
robot serves the fraction ``service_fraction`` of the remaining demand of each cell within
``service_radius`` of it (a cell covered by k robots loses ``1 - (1 - service_fraction)^k`` of
it, shared equally among them). So a robot serves more where more attention is needed, and
staying in one place has diminishing returns: the swarm should spend its time in proportion to
the density.

## Actions

Continuous (default): ``(ax, ay)`` in ``[-1, 1]``, acceleration ``max_accel * (ax, ay)``.
Discrete: ``0`` coast, ``1`` -x, ``2`` +x, ``3`` -y, ``4`` +y at ``max_accel``. Out-of-range actions
raise ``ValueError``.

## Observation (index slices)

| Slice                          | Content                                                               |
|--------------------------------|-----------------------------------------------------------------------|
| ``[0:2]``                      | own velocity / ``max_speed``                                          |
| ``[2:4]``                      | own position / arena half extents (in ``[-1, 1]``)                    |
| ``[4]``                        | battery left (fraction; 1 without a battery)                          |
| ``[5 : 5+C^2]``                | egocentric crop of the remaining demand (see below)                   |
| next ``3 k_robots``            | k nearest robots: ``(dx, dy, valid)``                                 |

The crop is ``C x C`` samples (C = ``crop_size``) over a square of side ``crop_extent`` centred
on the robot, world-aligned, row-major from the top-left, in units of the uniform density (1 =
the average demand per cell at the start), 0 outside the arena.

## Reward

``(1 - local_ratio) * shared + local_ratio * local``: ``local`` is the demand the robot served this
step and ``shared`` the mean over robots, both in units of what a robot serves over a fresh,
uniform map (so 1 is average, hot spots give more).

## Objectives (vector rewards)

``objectives=("served", "energy")`` (or ``"served,energy"``) makes every robot's reward a
float32 array over those objectives, in that order (MOMAland's API: ``reward_space(agent)`` is a
``Box (K,)``; the vector face returns ``(E, N, K)``). Each is higher-is-better:

| Name            | Value                                                                 |
|-----------------|-----------------------------------------------------------------------|
| ``served``      | the demand this robot served this step (the reward's ``local`` term)   |
| ``team_served`` | the mean over robots (the reward's ``shared`` term)                    |
| ``energy``      | minus the battery's cost ``idle_cost + accel_cost * (a . a)``      |
| ``w2_progress`` | how much the coverage W2 fell this step (copy-wide; one W2 per step)   |

``energy`` is counted with or without ``battery`` set, and is 0 for a robot whose battery ran out.
The default ``()`` keeps the scalar reward above.

## Battery

With ``battery`` set, a robot spends ``idle_cost + accel_cost * |a|^2`` per step; at 0 it stops and
terminates (it leaves ``agents`` on the PettingZoo face).

## Termination and truncation

Robots terminate when their battery is empty, all robots when the demand is served down to
``done_fraction``; truncation after ``max_cycles`` steps.

## Infos and coverage quality

Per step: ``served_fraction`` (demand served so far), per robot ``served`` and ``battery``
(with a ``safety_radius``, also the safety metrics of navigation-v0: ``collisions``, ``cost``,
``near_misses``, ``nearest_robot_distance``, ``min_separation``). At the
end of an episode (and every ``w2_every`` steps if > 0) also ``w2``: the Wasserstein-2 distance
between the robots' time-averaged trajectory distribution (every robot's position at every step
so far, equal weights) and the reference density, both binned on a ``w2_resolution`` grid over
the arena and solved exactly with POT (``ot.emd2``, squared Euclidean cost between cell centres).
Binning adds at most about one cell diagonal of error (the default 16 x 16 grid agrees with a
32 x 32 one to about 0.01 on the shipped maps and takes ~10 ms instead of ~200 ms per copy).
``task.coverage_w2()`` computes it on demand; ``w2_every=None`` turns it off (training).

## Arguments

See :class:`Config`; every field is a keyword of ``swarmzoo.make``.

## Version history

* v0: initial release.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core import render as colors
from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.density import MAPS as MAPS
from swarmzoo.envs.core.density import (
    DemandGrid,
    egocentric_crops,
    gaussian_density,
    load_density,
    pool,
    visit_counts,
    wasserstein2,
)
from swarmzoo.envs.core.density import map_path as map_path
from swarmzoo.envs.core.density import normalise_density as normalise_density
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.neighbors import knn
from swarmzoo.envs.core.physics import DISCRETE_DIRECTIONS
from swarmzoo.envs.core.safety import robots_within, safety_step
from swarmzoo.envs.core.task import SwarmTask, check_bool, check_number, check_positive_int, parse_objectives
from swarmzoo.envs.registry import register

# ``X as X`` above: MAPS, map_path and normalise_density stay names of this module (they lived
# here before core.density).

TRAIL_STEPS = 40  # rendered trail length
# Vector-reward objectives (``objectives=(...)``), each higher-is-better.
OBJECTIVES = {
    "served": "the demand this robot served this step, in units of a robot on a fresh uniform map",
    "team_served": "the mean over robots of the demand served this step (one value per copy)",
    "energy": "minus the battery cost idle_cost + accel_cost * |a|^2 of this step (per robot)",
    "w2_progress": "the fall of the coverage W2 this step (one value per copy; one W2 per step)",
}


@dataclass(frozen=True)
class Config:
    """Arguments of ``coverage-v0``.

    Attributes:
        n_agents: number of robots N (>= 1).
        map: a shipped map name (``uniform``, ``two_hotspots``, ``ring``, ``disaster``) or the path
            of a grayscale image (pixel value = relative demand).
        gaussians: ``((x, y, sigma, weight), ...)``: a Gaussian-mixture density instead of ``map``.
        map_resolution: grid cells along the longer side for ``gaussians``.
        arena_width: arena extent along x.
        arena_height: arena extent along y (default ``arena_width``).
        dt: time step.
        max_accel: acceleration of a full action.
        max_speed: speed cap.
        robot_radius: body radius (rendering; robots do not collide).
        service_radius: robots serve cells within this distance.
        service_fraction: fraction of a covered cell's remaining demand a robot serves per step.
        crop_size: samples per side of the observation's demand crop (odd, >= 1).
        crop_extent: side of the crop's square in world units.
        k_robots: nearest-robot slots in the observation.
        local_ratio: weight of the robot's own service in its reward, in [0, 1].
        battery: energy per robot, or None for unlimited.
        idle_cost: energy spent per step.
        accel_cost: energy per step per unit of squared action.
        done_fraction: the episode terminates once this fraction of demand is served (1: never
            before truncation, unless all of it is).
        w2_resolution: grid side of the W2 metric.
        w2_every: also compute W2 every this many steps (0: only at the end of an episode; None:
            never, for training runs that do not need the metric).
        max_cycles: steps per episode.
        continuous_actions: ``Box`` accelerations (default) or ``Discrete(5)``.
        objectives: vector-reward objectives in order, from ``served``, ``team_served``,
            ``energy``, ``w2_progress`` (empty: the scalar reward).
        safety_radius: minimum allowed centre-to-centre distance between two robots (must exceed
            ``2 * robot_radius``). When set, every step's infos carry ``collisions`` (bodies that
            overlap; the dynamics let them pass through each other) and the safety metrics
            ``cost``, ``near_misses``, ``min_separation``, ``nearest_robot_distance``, as in
            navigation-v0; None: no safety metrics.
    """

    n_agents: int = 8
    map: str = "two_hotspots"
    gaussians: tuple[tuple[float, float, float, float], ...] | None = None
    map_resolution: int = 64
    arena_width: float = 2.0
    arena_height: float | None = None
    dt: float = 0.1
    max_accel: float = 3.0
    max_speed: float = 0.5
    robot_radius: float = 0.04
    service_radius: float = 0.15
    service_fraction: float = 0.05
    crop_size: int = 7
    crop_extent: float = 1.0
    k_robots: int = 3
    local_ratio: float = 0.5
    battery: float | None = None
    idle_cost: float = 0.001
    accel_cost: float = 0.004
    done_fraction: float = 1.0
    w2_resolution: int = 16
    w2_every: int | None = 0
    max_cycles: int = 200
    continuous_actions: bool = True
    objectives: tuple[str, ...] = ()
    safety_radius: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", parse_objectives(self.objectives, OBJECTIVES))
        check_positive_int("n_agents", self.n_agents)
        check_positive_int("map_resolution", self.map_resolution, minimum=2)
        check_positive_int("crop_size", self.crop_size)
        if self.crop_size % 2 == 0:
            raise ValueError(
                f"crop_size must be odd (the robot's own cell is the centre), got {self.crop_size}"
            )
        check_positive_int("k_robots", self.k_robots, minimum=0)
        check_positive_int("w2_resolution", self.w2_resolution, minimum=2)
        if self.w2_every is not None:
            check_positive_int("w2_every", self.w2_every, minimum=0)
        check_positive_int("max_cycles", self.max_cycles)
        for name in (
            "arena_width",
            "dt",
            "max_accel",
            "max_speed",
            "robot_radius",
            "service_radius",
            "crop_extent",
        ):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_number("arena_height", self.arena_height, low=0.0, low_open=True, allow_none=True)
        check_number("service_fraction", self.service_fraction, 0.0, 1.0, low_open=True)
        check_number("battery", self.battery, low=0.0, low_open=True, allow_none=True)
        check_number("idle_cost", self.idle_cost, low=0.0)
        check_number("accel_cost", self.accel_cost, low=0.0)
        check_number("local_ratio", self.local_ratio, 0.0, 1.0)
        check_number("done_fraction", self.done_fraction, 0.0, 1.0, low_open=True)
        check_number("safety_radius", self.safety_radius, low=0.0, low_open=True, allow_none=True)
        if self.safety_radius is not None and self.safety_radius <= 2 * self.robot_radius:
            raise ValueError(
                f"safety_radius={self.safety_radius} must exceed 2 * robot_radius = {2 * self.robot_radius:g}"
            )
        if 2 * self.robot_radius >= min(self.arena.width, self.arena.height):
            raise ValueError(
                f"robot_radius={self.robot_radius} does not fit in the {self.arena.width:g} x "
                f"{self.arena.height:g} arena (arena_width x arena_height)"
            )
        if not isinstance(self.map, str):
            raise ValueError(f"map must be a map name or an image path, got {self.map!r}")
        check_bool("continuous_actions", self.continuous_actions)
        self.density  # noqa: B018 (load and check the map now: a bad map fails at construction)

    @cached_property
    def arena(self) -> Arena:
        height = self.arena_width if self.arena_height is None else self.arena_height
        return Arena(width=self.arena_width, height=height, boundary="walls")

    @cached_property
    def density(self) -> np.ndarray:
        """The reference density ``(H, W)``, summing to 1."""
        if self.gaussians is not None:
            return gaussian_density(self.gaussians, self.map_resolution, self.arena.width, self.arena.height)
        return load_density(self.map)


# -- the task's pure functions ---------------------------------------------------------------


def serve(
    demand: np.ndarray,
    pos: np.ndarray,
    active: np.ndarray,
    grid: DemandGrid,
    offsets: np.ndarray,
    fraction: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Robots serve the cells around them.

    Args:
        demand: ``(E, H W)`` remaining demand (updated in place).
        pos: ``(E, N, 2)`` positions.
        active: ``(E, N)`` robots that serve.
        grid, offsets: the grid and its service-disk offsets ``(K, 2)``.
        fraction: share of a cell's demand one robot serves per step.

    Returns:
        ``served (E, N)`` and ``demand`` after the step.
    """
    E, N = pos.shape[:2]
    H, W = grid.shape
    row, col = grid.rows_cols(pos)  # (E, N)
    rr = row[..., None] + offsets[:, 0]  # (E, N, K)
    cc = col[..., None] + offsets[:, 1]
    valid = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W) & active[..., None]
    flat = (rr * W + cc + (np.arange(E) * H * W)[:, None, None])[valid]
    covers = np.bincount(flat, minlength=E * H * W)
    cell_served = demand.ravel() * (1.0 - (1.0 - fraction) ** covers)
    share = np.zeros((E, N, len(offsets)))
    share[valid] = (cell_served / np.maximum(covers, 1))[flat]
    demand -= cell_served.reshape(E, H * W)
    return share.sum(axis=-1), demand


# -- the task --------------------------------------------------------------------------------


class Coverage(SwarmTask):
    """Batched non-uniform coverage: ``pos``, ``vel`` ``(E, N, 2)``, ``battery`` ``(E, N)``,
    ``demand`` ``(E, H W)`` (remaining, flat row-major) and ``visits`` ``(E, w2_resolution^2)``
    (trajectory histogram)."""

    name = "coverage_v0"
    history_lengths: ClassVar[dict[str, int]] = {"trail": TRAIL_STEPS}
    objectives_available = OBJECTIVES
    Config = Config

    @classmethod
    def observation_size(cls, config: Config) -> int:
        return 5 + config.crop_size**2 + 3 * config.k_robots

    @classmethod
    def memory_estimate(cls, config: Config, n_envs: int) -> int:
        # Each copy also holds its remaining demand (the map's cells) and visit histogram.
        per_copy = 8 * (config.density.size + config.w2_resolution**2)
        return super().memory_estimate(config, n_envs) + int(n_envs) * per_copy

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        cfg = config
        self.arena = cfg.arena
        E, N = n_envs, cfg.n_agents
        self.density = cfg.density
        self.grid = DemandGrid(self.density.shape, self.arena)
        self.offsets = self.grid.disk_offsets(cfg.service_radius)
        # What one robot serves in a step over a fresh uniform map: the reward's unit.
        self.unit_service = cfg.service_fraction * len(self.offsets) / self.density.size
        self.w2_grid = DemandGrid((cfg.w2_resolution, cfg.w2_resolution), self.arena)
        self.reference = pool(self.density, cfg.w2_resolution).ravel()
        self.pos = np.zeros((E, N, 2))
        self.vel = np.zeros((E, N, 2))
        self.battery = np.ones((E, N))
        self.demand = np.zeros((E, self.density.size))
        self.visits = np.zeros((E, cfg.w2_resolution**2))
        self.served = np.zeros((E, N))
        self._w2_now: tuple[int, float] | None = None  # copy 0's (step, W2) if measured this step
        self._w2_before = np.full(E, np.nan)  # each copy's W2 before the step (w2_progress only)
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.observation_size(cfg),), np.float32)
        self.state_space = spaces.Box(-np.inf, np.inf, (5 * N + cfg.w2_resolution**2,), np.float32)
        if cfg.continuous_actions:
            self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        else:
            self.action_space = spaces.Discrete(5)

    # -- episode ------------------------------------------------------------------------------

    def _reset(self, env_ids: np.ndarray) -> None:
        cfg = self.config
        half = self.arena.half - cfg.robot_radius
        self.pos[env_ids] = self.rng.uniform(env_ids, (self.n_agents, 2), -half, half)
        self.vel[env_ids] = 0.0
        self.battery[env_ids] = 1.0
        self.demand[env_ids] = self.density.ravel()
        self.visits[env_ids] = 0.0
        self.served[env_ids] = 0.0
        self._record(env_ids)
        if "w2_progress" in self.objectives:
            self._w2_before[env_ids] = self.coverage_w2(env_ids)

    def _record(self, env_ids: np.ndarray) -> None:
        """Add the robots' current positions to the trajectory histograms of ``env_ids``."""
        self.visits[env_ids] += visit_counts(self.w2_grid, self.pos[env_ids])

    def occasional_infos(self) -> tuple[str, ...]:
        return ("w2",) if self.config.w2_every is not None else ()

    def coverage_w2(self, env_ids: np.ndarray | None = None) -> np.ndarray:
        """W2 between each copy's time-averaged trajectory distribution and the reference
        density (see the module docstring): ``(len(env_ids),)``."""
        ids = np.arange(self.n_envs) if env_ids is None else np.asarray(env_ids)
        return np.array([wasserstein2(self.visits[e], self.reference, self.w2_grid.centres) for e in ids])

    def served_fraction(self) -> np.ndarray:
        """``(E,)`` fraction of the demand served so far."""
        return 1.0 - self.demand.sum(axis=1)

    def _step(self, actions: np.ndarray):
        cfg = self.config
        self._w2_now = None
        if cfg.continuous_actions:
            accel = actions.astype(np.float64)
        else:
            accel = DISCRETE_DIRECTIONS[actions]
        active = self.battery > 0
        accel = accel * active[..., None]
        vel = self.vel + cfg.dt * cfg.max_accel * accel
        speed = np.linalg.norm(vel, axis=-1, keepdims=True)
        vel = np.where(speed > cfg.max_speed, vel * cfg.max_speed / np.maximum(speed, 1e-12), vel)
        vel[~active] = 0.0
        pos = self.pos + cfg.dt * vel
        limit = self.arena.half - cfg.robot_radius
        hit = np.abs(pos) > limit
        self.pos = np.clip(pos, -limit, limit)
        self.vel = np.where(hit, 0.0, vel)
        if cfg.battery is not None or self.objectives:
            cost = cfg.idle_cost + cfg.accel_cost * np.einsum("end,end->en", accel, accel)
            self._energy = np.where(active, cost, 0.0)
        if cfg.battery is not None:
            self.battery = np.where(active, np.maximum(self.battery - cost / cfg.battery, 0.0), 0.0)
        served, self.demand = serve(
            self.demand, self.pos, active, self.grid, self.offsets, cfg.service_fraction
        )
        self.served += served
        self._record(np.arange(self.n_envs))
        local = served / self.unit_service
        shared = local.mean(axis=1, keepdims=True)
        rewards = (1 - cfg.local_ratio) * shared + cfg.local_ratio * local
        self._served_now = local, shared
        fraction = self.served_fraction()
        done = fraction >= cfg.done_fraction - 1e-12
        terminated = (self.battery <= 0) | done[:, None]
        infos = {"served_fraction": fraction, "served": served, "battery": self.battery.copy()}
        if cfg.safety_radius is not None:
            overlaps = robots_within(self.pos, 2 * cfg.robot_radius, self.arena)
            infos["collisions"] = overlaps
            infos.update(safety_step(self.pos, self.arena, cfg.safety_radius, overlaps).infos())
        ending = done | (self.steps >= self.max_cycles) | terminated.all(axis=1)
        if cfg.w2_every is not None:
            due = ending | ((self.steps % cfg.w2_every == 0) if cfg.w2_every > 0 else False)
            if due.any():
                w2 = np.full(self.n_envs, np.nan)
                which = np.flatnonzero(due)
                w2[which] = self.coverage_w2(which)
                infos["w2"] = w2
                if due[0]:
                    self._w2_now = (int(self.steps[0]), float(w2[0]))
        return rewards, terminated, infos

    def objective_rewards(self, rewards: np.ndarray, infos: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The objectives of :data:`OBJECTIVES` for the step just taken (W2 only if asked)."""
        local, shared = self._served_now
        terms = {"served": local, "team_served": shared, "energy": -self._energy}
        if "w2_progress" in self.objectives:
            w2 = self.coverage_w2()
            terms["w2_progress"] = self._w2_before - w2
            self._w2_before = w2
        return terms

    def history_sample(self) -> dict[str, Any]:
        """Copy 0's served fraction, positions (the trails) and, when measured this step, its
        ``(step, W2)``; a reset starts the served curve at exactly 0."""
        if self.steps[0] == 0:
            return {"served": 0.0, "trail": self.pos[0]}
        sample = {"served": float(self.served_fraction()[0]), "trail": self.pos[0]}
        if self._w2_now is not None:
            sample["w2"] = self._w2_now
        return sample

    # -- views --------------------------------------------------------------------------------

    def observe(self) -> np.ndarray:
        cfg = self.config
        E, N = self.n_envs, self.n_agents
        crops = egocentric_crops(self.demand, self.pos, self.grid, cfg.crop_size, cfg.crop_extent)
        crops = crops.reshape(E, N, -1)
        parts = [self.vel / cfg.max_speed, self.pos / self.arena.half, self.battery[..., None], crops]
        if cfg.k_robots:
            near = knn(self.pos, self.pos, cfg.k_robots, self.arena, exclude_self=True)
            parts.append(np.concatenate([near.delta, near.mask[..., None]], axis=-1).reshape(E, N, -1))
        return np.concatenate(parts, axis=-1).astype(np.float32)

    def state(self) -> np.ndarray:
        E = self.n_envs
        robots = np.concatenate([self.pos / self.arena.half, self.vel, self.battery[..., None]], axis=-1)
        res = self.config.w2_resolution
        remaining = pool(self.demand.reshape(E, *self.grid.shape), res).reshape(E, -1) * res * res
        return np.concatenate([robots.reshape(E, -1), remaining], axis=1).astype(np.float32)

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        lines = [f"served {self.served_fraction()[env_index]:.1%}"]
        w2 = history.get("w2")
        if env_index == 0 and w2:
            lines.append(f"W2 {w2[-1][1]:.3f} (step {w2[-1][0]})")
        return lines

    def draw(self, renderer, env_index: int, history: RenderHistory) -> None:
        e, cfg = env_index, self.config
        renderer.begin()
        renderer.heatmap(self.demand[e].reshape(self.grid.shape) / self.density.max())
        trail = history.get("trail")
        if e == 0 and len(trail) > 1:
            path = np.stack(trail)  # (T, N, 2)
            renderer.segments(path[:-1].reshape(-1, 2), path[1:].reshape(-1, 2), (150, 165, 210), 2)
        renderer.circles(self.pos[e], cfg.service_radius, (120, 150, 220), width=1)
        renderer.robots(self.pos[e], self.vel[e], cfg.robot_radius, colors.ROBOT)
        if e == 0:
            renderer.curve(history.get("served"), "served", 0.0, 1.0, length=self.max_cycles + 1)
            if history.get("w2"):
                steps, w2 = zip(*history.get("w2"))
                top = max(w2) * 1.1
                renderer.curve(w2, "W2", 0.0, top, length=self.max_cycles + 1, slot=1, xs=steps)


parallel_env, raw_env, env, vector_env = make_factories(Coverage)
register("coverage-v0", __name__, "Non-uniform area coverage: robots serve a reference density map")
