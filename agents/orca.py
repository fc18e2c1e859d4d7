"""ORCA collision avoidance as a scripted controller for ``navigation-v0`` (``--policy orca``).

Reference: J. van den Berg, S. J. Guy, M. Lin and D. Manocha, "Reciprocal n-body collision
avoidance", Robotics Research (ISRR 2009), Springer Tracts in Advanced Robotics 70, 2011. The
velocity optimisation is RVO2's own (the C++ library of the authors, through its Python binding
``pyrvo``, an optional dependency: ``pip install 'swarmzoo[safety]'``).

What is RVO2's and what is ours:

* **RVO2** computes, per robot, the ORCA half-planes of its neighbours (the ``max_neighbors``
  nearest within ``neighbor_dist``) and of the obstacle edges, and the velocity closest to the
  preferred one that satisfies them all (a 2-D linear program; a 3-D one when they are
  infeasible), within the robot's maximum speed.
* **Ours**: the goal each robot heads for (NavigationHeuristic's Hungarian assignment, one
  matching per env copy and episode), its preferred velocity (the heuristic's law
  ``(goal - pos) / time_constant``, capped to the speed the robot can reach), the obstacles fed to
  RVO2 (each circle as a circumscribed ``obstacle_sides``-gon, counter-clockwise as RVO2 expects;
  on ``boundary="walls"`` four slabs outside the arena), the periodic images on a torus (below),
  and the conversion of ORCA's velocity into the action that reaches it.

ORCA's assumptions against this env's dynamics. ORCA assumes velocity control: the chosen velocity
holds from now on. The env integrates forces on damped point masses,
``pos += vel * dt; vel = vel * (1 - damping) + force / mass * dt``, so

1. the new velocity only moves the robot from the *next* step on (this step still moves it by the
   current ``vel * dt``). With ``lookahead=True`` (default) RVO2 is therefore given every robot at
   ``pos + vel * dt``, where ORCA's velocity starts to act;
2. a velocity is reached in one step by the force ``(v - (1 - damping) vel) mass / dt``, which may
   exceed the action's bounds (a full push changes the velocity by at most ``accel dt / mass`` per
   axis). Such a force is **scaled** (direction kept) into the action box
   ``[-accel, accel]^2``: the controller then moves toward ORCA's velocity as fast as it can, and
   the collision-free guarantee of ORCA holds only approximately (hence the default ``margin``
   added to the body radius). Discrete actions are coarser still: the axis direction closest to the
   force, or no-op below ``deadband`` (NavigationHeuristic's conversion);
3. ORCA's maximum speed is the robot's terminal speed under a full push,
   ``accel dt / (mass damping)``, capped by the env's ``max_speed`` (one number or one per robot).
   With ``damping=0`` and no ``max_speed`` there is no such speed: pass ``max_speed``;
4. the env's soft contacts and its obstacle blocking are not modelled; RVO2 sees only positions,
   velocities, radii and obstacles (positions are always read from the task, never from RVO2).

Boundaries: ``"walls"`` are obstacles; ``"none"`` has none. A ``"torus"`` is supported through
periodic images, since RVO2's plane has no minimum image: the neighbour range is capped at half
the shorter side (beyond it the minimum image is ambiguous), and each step every robot within that
range of an edge is added again at its periodic images just outside the cell, with its own
velocity and preferred velocity; each obstacle is added at every image within RVO2's obstacle range
(once per episode). A robot then sees each neighbour in range at its minimum image, and the
constraints two robots take across the seam are each other's reciprocal, as on the plane (so the
controller is invariant under translations of the whole scene). The images' own ORCA velocities
are discarded. The images use agent slots after the N robots; slots not needed in a step are
parked far outside the arena (``pyrvo``'s ``clear_agents`` leaves RVO2's k-d tree holding the
deleted agents, so agents are never removed from a simulator).

One RVO2 simulator per env copy is kept across steps and rebuilt when the copy starts a
new episode (its obstacles moved) or the batch shape changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from swarmzoo.agents.navigation import NavigationHeuristic
from swarmzoo.envs.core.arena import min_image, wrap
from swarmzoo.envs.core.task import check_number, check_positive_int
from swarmzoo.envs.navigation import Navigation

# Default clearance added to the body radius, in robot radii: enough that ORCA's velocities, reached
# only approximately by forces, keep robots apart; little enough that neighbouring goals stay
# reachable.
DEFAULT_MARGIN = 0.3
INSTALL_HINT = "pip install 'swarmzoo[safety]' (or pip install --no-deps pyrvo)"


def load_pyrvo() -> Any:
    """The ``pyrvo`` module (RVO2's Python binding), or an ImportError saying how to install it."""
    try:
        import pyrvo
    except ImportError as err:
        raise ImportError(f"the ORCA policy needs the RVO2 binding pyrvo: {INSTALL_HINT}") from err
    return pyrvo


def circle_polygon(centre: np.ndarray, radius: float, sides: int) -> list[tuple[float, float]]:
    """Vertices, counter-clockwise, of the regular ``sides``-gon circumscribing a circle (so the
    polygon covers the whole disk)."""
    angles = 2.0 * np.pi * np.arange(sides) / sides
    r = radius / np.cos(np.pi / sides)
    return [(float(x), float(y)) for x, y in centre + r * np.stack([np.cos(angles), np.sin(angles)], 1)]


def wall_polygons(half: np.ndarray, offset: float, thickness: float) -> list[list[tuple[float, float]]]:
    """Four counter-clockwise slabs just outside the rectangle ``[-half, half]`` grown by
    ``offset``, overlapping at the corners."""
    hx, hy = (float(h) + offset for h in half)
    t = thickness

    def box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]

    return [
        box(-hx - t, -hy - t, -hx, hy + t),  # left
        box(hx, -hy - t, hx + t, hy + t),  # right
        box(-hx, -hy - t, hx, -hy),  # bottom
        box(-hx, hy, hx, hy + t),  # top
    ]


def periodic_images(points: np.ndarray, half: np.ndarray, band: float) -> tuple[np.ndarray, np.ndarray]:
    """The periodic images of ``points (K, 2)`` (inside the cell ``[-half, half)``) that lie
    outside the cell but within ``band`` of it: ``(index (M,), position (M, 2))``."""
    size = 2.0 * half
    wraps = int(np.ceil(band / float(size.min())))
    index, images = [], []
    for sx in range(-wraps, wraps + 1):
        for sy in range(-wraps, wraps + 1):
            if sx == 0 and sy == 0:
                continue
            shifted = points + size * (sx, sy)
            near = np.flatnonzero(np.all(np.abs(shifted) <= half + band, axis=1))
            index.append(near)
            images.append(shifted[near])
    return np.concatenate(index), np.concatenate(images).reshape(-1, 2)


@dataclass
class _Copy:
    """One env copy's RVO2 simulator: ``size`` agents, the first ``active`` of them in use."""

    sim: Any
    size: int
    active: int


class ORCA:
    """ORCA (RVO2) on top of NavigationHeuristic's goal assignment, batched over env copies.

    Args:
        time_horizon: seconds ahead over which ORCA keeps robots clear of each other (> 0).
        time_horizon_obst: the same for obstacles and walls (> 0).
        neighbor_dist: range within which robots are neighbours; None:
            ``2 max_speed time_horizon + 2 radius`` (every robot that could reach this one within
            the horizon). On a torus at most half the shorter side.
        max_neighbors: most neighbours each robot takes into account (>= 1).
        radius: the disk ORCA keeps robots (and their obstacle clearance) apart with; None: the
            env's ``safety_radius / 2`` where the config has one set, else ``robot_radius +
            margin``. Must be at least ``robot_radius``.
        margin: clearance added to the body radius where ``radius`` is None and the env has no
            ``safety_radius`` (None: 0.3 robot radii), for the velocity ORCA wants but the
            dynamics cannot reach in one step.
        max_speed: ORCA's speed limit; None: the robots' terminal speed under a full push. The
            env's ``max_speed`` caps it either way.
        time_constant: seconds to close the distance to the goal in the preferred velocity.
        deadband: fraction of ``accel`` below which a discrete robot does nothing, in [0, 1).
        obstacle_sides: sides of the polygon that stands for each circular obstacle (>= 3).
        lookahead: give RVO2 each robot at ``pos + vel dt``, where the new velocity starts to
            act (see the module docstring).

    Raises:
        ValueError: an argument out of range.
        ImportError: ``pyrvo`` is not installed.
    """

    def __init__(
        self,
        time_horizon: float = 0.5,
        time_horizon_obst: float = 0.5,
        neighbor_dist: float | None = None,
        max_neighbors: int = 10,
        radius: float | None = None,
        margin: float | None = None,
        max_speed: float | None = None,
        time_constant: float = 0.4,
        deadband: float = 0.3,
        obstacle_sides: int = 16,
        lookahead: bool = True,
    ) -> None:
        check_number("time_horizon", time_horizon, low=0.0, low_open=True)
        check_number("time_horizon_obst", time_horizon_obst, low=0.0, low_open=True)
        check_number("neighbor_dist", neighbor_dist, low=0.0, low_open=True, allow_none=True)
        check_positive_int("max_neighbors", max_neighbors)
        check_number("radius", radius, low=0.0, low_open=True, allow_none=True)
        check_number("margin", margin, low=0.0, allow_none=True)
        check_number("max_speed", max_speed, low=0.0, low_open=True, allow_none=True)
        check_number("time_constant", time_constant, low=0.0, low_open=True)
        check_number("deadband", deadband, 0.0, 1.0)
        if deadband == 1.0:
            raise ValueError(f"deadband must be below 1, got {deadband!r}")
        check_positive_int("obstacle_sides", obstacle_sides, minimum=3)
        if not isinstance(lookahead, bool):
            raise ValueError(f"lookahead must be True or False, got {lookahead!r}")
        self._rvo = load_pyrvo()
        self.time_horizon = float(time_horizon)
        self.time_horizon_obst = float(time_horizon_obst)
        self.neighbor_dist = neighbor_dist
        self.max_neighbors = int(max_neighbors)
        self.radius = radius
        self.margin = margin
        self.max_speed = max_speed
        self.time_constant = float(time_constant)
        self.deadband = float(deadband)
        self.obstacle_sides = int(obstacle_sides)
        self.lookahead = lookahead
        # Goal assignment and the discrete conversion are the heuristic's.
        self._nav = NavigationHeuristic(time_constant=time_constant, deadband=deadband)
        self._key: tuple | None = None
        self._last_steps: np.ndarray | None = None
        self._sims: list[Any] = []
        self._params: dict[str, Any] = {}

    # -- parameters from the env ----------------------------------------------------------

    def parameters(self, task: Navigation) -> dict[str, Any]:
        """ORCA's parameters for ``task``: ``radius``, ``speed (N,)`` (ORCA's per-robot speed
        limit), ``neighbor_dist``, ``max_neighbors``, ``time_horizon``, ``time_horizon_obst``.

        Raises:
            ValueError: ``task`` is not ``navigation-v0``'s, its action space is not one ORCA can
                drive, the radius is below the body radius, or the robots have no top speed.
        """
        if not isinstance(task, Navigation):
            raise ValueError(
                f"ORCA drives navigation-v0 only, not {type(task).__name__} "
                f"({getattr(task, 'name', '?')}); use make_policy('orca', 'navigation-v0')"
            )
        cfg = task.config
        space = task.action_space
        if not isinstance(space, (spaces.Discrete, spaces.Box)):
            raise ValueError(f"ORCA does not support the action space {space}")
        N = task.pos.shape[1]
        safety = getattr(cfg, "safety_radius", None)
        if self.radius is not None:
            radius = float(self.radius)
        elif safety is not None:
            radius = float(safety) / 2.0
        else:
            margin = DEFAULT_MARGIN * cfg.robot_radius if self.margin is None else self.margin
            radius = cfg.robot_radius + margin
        if radius < cfg.robot_radius:
            raise ValueError(
                f"ORCA radius={radius:g} is below the robot radius {cfg.robot_radius:g}: robots "
                "would collide; use radius >= robot_radius"
            )
        if self.max_speed is not None:
            speed = np.full(N, float(self.max_speed))
        else:
            speed = cfg.top_speeds
            if not np.isfinite(speed).all():
                raise ValueError(
                    "with damping=0 and no max_speed the robots have no top speed: pass "
                    "ORCA(max_speed=...) or set the env's max_speed"
                )
        if cfg.max_speed is not None:
            speed = np.minimum(speed, cfg.top_speeds)
        neighbor_dist = self.neighbor_dist
        if neighbor_dist is None:
            neighbor_dist = 2.0 * float(speed.max()) * self.time_horizon + 2.0 * radius
        if cfg.boundary == "torus":  # beyond half a side the minimum image is ambiguous
            neighbor_dist = min(neighbor_dist, 0.5 * float(task.arena.size.min()))
        return {
            "radius": radius,
            "speed": speed,
            "neighbor_dist": float(neighbor_dist),
            "max_neighbors": self.max_neighbors,
            "time_horizon": self.time_horizon,
            "time_horizon_obst": self.time_horizon_obst,
        }

    # -- the policy -----------------------------------------------------------------------

    def act(self, obs: np.ndarray, task: Navigation) -> np.ndarray:
        """Actions ``(E, N)`` or ``(E, N, A)`` for the task's current state (``obs`` is unused)."""
        E, N = task.pos.shape[:2]
        key = (id(task), E, N)
        if key != self._key:
            self._params = self.parameters(task)
            self._key = key
            self._nav._targets = np.zeros((E, N, 2))
            self._last_steps = np.full(E, np.iinfo(np.int64).max)
            self._sims = [None] * E
        cfg, prm = task.config, self._params
        new_episode = task.steps <= self._last_steps
        self._last_steps = task.steps.copy()
        if new_episode.any():
            fresh = np.flatnonzero(new_episode)
            self._nav.assign(task, fresh)
            for e in fresh:
                self._sims[e] = None
        pos = np.ascontiguousarray(task.pos, dtype=np.float64)
        vel = np.ascontiguousarray(task.vel, dtype=np.float64)
        start = self._start_positions(pos, vel, task)
        # The heuristic's desired-velocity law, capped to each robot's reachable speed.
        v_pref = min_image(self._nav._targets - start, task.arena) / self.time_constant
        speed = np.linalg.norm(v_pref, axis=-1, keepdims=True)
        top = prm["speed"][None, :, None]
        v_pref = np.where(speed > top, v_pref * top / np.maximum(speed, 1e-12), v_pref)
        v_new = np.empty_like(vel)
        for e in range(E):
            v_new[e] = self._orca_step(e, start[e], vel[e], v_pref[e], task)
        # The force that reaches ORCA's velocity in one step, scaled into the action box.
        u = (v_new - (1.0 - cfg.damping) * vel) * (cfg.mass / (cfg.dt * cfg.accel))
        u /= np.maximum(np.abs(u).max(axis=-1, keepdims=True), 1.0)
        return self._nav._to_actions(u * cfg.accel, task)

    def _start_positions(self, pos: np.ndarray, vel: np.ndarray, task: Navigation) -> np.ndarray:
        """Where the new velocity starts to act: ``pos + vel dt`` (kept inside walls, wrapped on
        a torus) with ``lookahead``, else ``pos``."""
        if not self.lookahead:
            return pos
        cfg = task.config
        start = pos + vel * cfg.dt
        if cfg.boundary == "walls":
            inner = task.arena.half - cfg.robot_radius
            start = np.clip(start, -inner, inner)
        return wrap(start, task.arena)

    def _orca_step(
        self, e: int, pos: np.ndarray, vel: np.ndarray, v_pref: np.ndarray, task: Navigation
    ) -> np.ndarray:
        """ORCA's new velocities ``(N, 2)`` for env copy ``e``.

        The copy's simulator holds the N robots (agents ``0 .. N-1``) and, on a torus, after them
        the periodic images of this step; image slots not needed this step are parked far
        outside the arena, where they meet nothing. A simulator too small for this step's images
        is rebuilt larger.
        """
        prm, arena = self._params, task.arena
        N = len(pos)
        speed = prm["speed"]
        torus = task.config.boundary == "torus"
        if torus:
            idx, images = periodic_images(pos, arena.half, self._band(task))
            pos = np.concatenate([pos, images])
            vel = np.concatenate([vel, vel[idx]])
            v_pref = np.concatenate([v_pref, v_pref[idx]])
            speed = np.concatenate([speed, speed[idx]])
        K = len(pos)
        copy = self._sims[e]
        if copy is None or K > copy.size:
            size = K + max(K - N, 16) if torus else K
            sim = self._new_simulator(task, self._obstacle_polygons(task, e))
            self._add_agents(sim, pos, vel, speed)
            self._add_agents(sim, self._parking(task, K, size), np.zeros((size - K, 2)), np.zeros(size - K))
            copy = self._sims[e] = _Copy(sim, size, K)
        else:
            sim = copy.sim
            for i, (p, v) in enumerate(zip(pos.tolist(), vel.tolist())):
                sim.set_agent_position(i, p)
                sim.set_agent_velocity(i, v)
            for i, s in enumerate(speed[N:].tolist(), start=N):
                sim.set_agent_max_speed(i, s)  # an image slot's robot changes from step to step
            if copy.active > K:  # park the image slots no longer needed
                for i, p in enumerate(self._parking(task, K, copy.active).tolist(), start=K):
                    sim.set_agent_position(i, p)
                    sim.set_agent_velocity(i, (0.0, 0.0))
                    sim.set_agent_pref_velocity(i, (0.0, 0.0))
            copy.active = K
        for i, pv in enumerate(v_pref.tolist()):
            sim.set_agent_pref_velocity(i, pv)
        sim.do_step()
        return np.array([sim.get_agent_velocity(i).to_tuple() for i in range(N)])

    def _band(self, task: Navigation) -> float:
        """How far outside a torus' cell the robots' periodic images are kept: the neighbour
        range (on a torus at most half the shorter side, so that a robot sees every neighbour
        within range at its minimum image, and only there)."""
        return self._params["neighbor_dist"]

    def _parking(self, task: Navigation, begin: int, end: int) -> np.ndarray:
        """Positions ``(end - begin, 2)`` for unused agent slots ``begin .. end-1``: in a row far
        outside the arena, each farther than the neighbour range from any other agent."""
        prm = self._params
        reach = prm["neighbor_dist"] + prm["radius"] + float(prm["speed"].max()) * self.time_horizon_obst
        far = 4.0 * (float(task.arena.half.max()) + reach) + 100.0
        x = far + (2.0 * reach + 1.0) * np.arange(begin, end)
        return np.stack([x, np.full_like(x, far)], axis=1)

    def _obstacle_polygons(self, task: Navigation, e: int) -> list[list[tuple[float, float]]]:
        """Env copy ``e``'s obstacles (with their periodic images near the cell on a torus) and
        walls as RVO2 polygons."""
        cfg = task.config
        centres, radii = task.obstacles[e], task.obstacle_radius[e]
        if cfg.boundary == "torus" and len(centres):
            # Every image within RVO2's obstacle range (each is the same obstacle, really there on
            # the torus), plus the polygon's size.
            prm = self._params
            reach = prm["time_horizon_obst"] * float(prm["speed"].max()) + prm["radius"]
            reach += float(radii.max()) / np.cos(np.pi / self.obstacle_sides)
            idx, images = periodic_images(centres, task.arena.half, reach)
            centres, radii = np.concatenate([centres, images]), np.concatenate([radii, radii[idx]])
        polygons = [circle_polygon(c, float(r), self.obstacle_sides) for c, r in zip(centres, radii)]
        if cfg.boundary == "walls":
            # Grown by radius - robot_radius, so ORCA stops a robot's centre where the walls do.
            offset = self._params["radius"] - cfg.robot_radius
            thickness = float(task.arena.size.max())
            polygons += wall_polygons(task.arena.half, offset, thickness)
        return polygons

    def _new_simulator(self, task: Navigation, polygons: list) -> Any:
        sim = self._rvo.RVOSimulator()
        sim.set_time_step(float(task.config.dt))
        for polygon in polygons:
            sim.add_obstacle(polygon)
        sim.process_obstacles()
        return sim

    def _add_agents(self, sim: Any, pos: np.ndarray, vel: np.ndarray, speed: np.ndarray) -> None:
        prm = self._params
        nd, mn = prm["neighbor_dist"], prm["max_neighbors"]
        th, tho, r = prm["time_horizon"], prm["time_horizon_obst"], prm["radius"]
        for p, v, s in zip(pos.tolist(), vel.tolist(), speed.tolist()):
            sim.add_agent(p, nd, mn, th, tho, r, s, v)
