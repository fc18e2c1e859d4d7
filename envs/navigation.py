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

## Objectives (vector rewards)

``objectives=("goals", "energy")`` (or ``"goals,energy"``) makes every robot's reward a float32
array over those objectives, in that order (MOMAland's API: ``reward_space(agent)`` is a
``Box (K,)``; the vector face returns ``(E, N, K)``). Each is higher-is-better:

| Name           | Value                                                                     |
|----------------|---------------------------------------------------------------------------|
| ``goals``      | the scalar reward's shared term (minus the goals' nearest-robot distance) |
| ``occupied``   | fraction of goals with a robot within ``goal_radius``                     |
| ``collisions`` | minus the robots and obstacles the robot overlaps                         |
| ``energy``     | minus the control effort ``(force . force) / accel^2`` (1 for a move)   |

The default ``()`` keeps the scalar reward above.

## Termination and truncation

Truncation after ``max_cycles`` steps. With ``terminate_on_success=True`` the episode terminates
when every goal has a robot within ``goal_radius``.

## Infos (per step)

``goals_occupied`` (goals with a robot within ``goal_radius``), ``success``, per robot
``collisions`` and ``nearest_goal_distance``.

## Safety metrics and the cost signal (``safety_radius``)

``safety_radius=Ds`` is the minimum allowed centre-to-centre distance between two robots: each
robot keeps a personal-space disc of radius ``Ds / 2``, which other robots' discs and obstacles
must not enter. It changes nothing in the dynamics or the reward; every step's infos then also
carry, per robot, ``cost`` (robots and obstacles inside the personal space, contacts included:
the constraint signal of constrained RL, kept apart from the reward) and ``near_misses`` (those
not in contact), ``nearest_robot_distance``, and per copy ``min_separation``. The vector face
adds ``episode_cost (E, N)`` beside ``episode_return``. ``swarmzoo evaluate`` reports collisions
and near misses per robot-hour, the minimum separation and the time to goal
(:func:`swarmzoo.evaluation.safety_summary`).

## Heterogeneous robots

``max_speed=(v_0, ..., v_{N-1})`` caps each robot's speed separately (e.g. half slow, half
fast). The global state then ends with the N caps, so a centralised critic or a central agent
knows which robot is which; the local observation is unchanged (a robot's cap shows only through
how it moves).

## Preset ``mpe_spread``

``preset="mpe_spread"`` reproduces MPE's ``simple_spread_v3`` (mpe2): unbounded plane, spawn in
``[-1, 1]^2``, robot radius 0.15, ``shared_reward="sum"``, ``max_cycles=25`` and MPE's layouts:
observation ``[vel, pos, all goals, all other robots, 2 (N-1) zeros for the silent comm
channel]`` in index order, continuous actions ``Box(0, 1, (5,))`` with force
``accel * (a2 - a1, a4 - a3)``, state = all observations concatenated. A parity test replays mpe2
from the same initial state and matches it to 1e-5. The preset sets ``mpe_compat=True``, which
makes the task :class:`NavigationMPE` (MPE's layouts, :mod:`swarmzoo.envs.navigation_mpe`, on the
same physics).

## Arguments

See :class:`Config`; every field is a keyword of ``swarmzoo.make``.

## Version history

* v0: initial release.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np

from swarmzoo.envs.core.arena import BOUNDARIES, Arena
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.physics import PointMassParams
from swarmzoo.envs.core.task import check_number, check_positive_int, parse_objectives
from swarmzoo.envs.navigation_mpe import MPESpread
from swarmzoo.envs.navigation_task import OBJECTIVES, NavigationTask
from swarmzoo.envs.registry import register

# Fraction of the arena area that obstacles (with clearance) may take before spawning is refused.
MAX_OBSTACLE_FILL = 0.5


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
        max_speed: speed cap: one number for every robot, a tuple of N numbers (heterogeneous
            robots, robot i capped at ``max_speed[i]``; the global state then ends with the N
            caps), or None (no cap).
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
            (set by the ``mpe_spread`` preset; the task is then :class:`NavigationMPE`).
        objectives: vector-reward objectives in order, from ``goals``, ``occupied``,
            ``collisions``, ``energy`` (empty: the scalar reward).
        safety_radius: the minimum allowed centre-to-centre distance between two robots (each
            robot keeps a personal-space disc of radius ``safety_radius / 2``, which obstacles
            must not enter either); must exceed ``2 * robot_radius``. When set, every step's
            infos carry the safety metrics ``cost``, ``near_misses``, ``min_separation`` and
            ``nearest_robot_distance`` (see the module docstring); None: no safety metrics.
        spawn_separation: robots start at least this far apart, centre to centre (0: robots
            are dropped independently and may start overlapping, as in MPE).
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
    max_speed: float | tuple[float, ...] | None = None
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
    objectives: tuple[str, ...] = ()
    safety_radius: float | None = None
    spawn_separation: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", parse_objectives(self.objectives, OBJECTIVES))
        object.__setattr__(self, "max_speed", parse_max_speed(self.max_speed, self.n_agents))
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
        check_number("safety_radius", self.safety_radius, low=0.0, low_open=True, allow_none=True)
        if self.safety_radius is not None and self.safety_radius <= 2 * self.robot_radius:
            raise ValueError(
                f"safety_radius={self.safety_radius} must exceed 2 * robot_radius = "
                f"{2 * self.robot_radius:g} (robots closer than that already collide)"
            )
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
        check_number("spawn_separation", self.spawn_separation, low=0.0)
        packed = self.n_agents * np.pi * (self.spawn_separation / 2) ** 2 / arena.area
        if packed > MAX_OBSTACLE_FILL:
            raise ValueError(
                f"spawn_separation={self.spawn_separation}: {self.n_agents} robots that far apart would "
                f"fill {packed:.0%} of the {arena.width:g} x {arena.height:g} arena; at most "
                f"{MAX_OBSTACLE_FILL:.0%} can be drawn. Use a smaller separation or a larger arena."
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
    def heterogeneous(self) -> bool:
        """Whether robots have their own speed caps (``max_speed`` is a tuple)."""
        return isinstance(self.max_speed, tuple)

    @property
    def top_speeds(self) -> np.ndarray:
        """Each robot's top speed ``(N,)``: the terminal speed of a full push,
        ``accel dt / (mass damping)`` (``inf`` without damping), capped by its ``max_speed``."""
        terminal = self.accel * self.dt / (self.mass * self.damping) if self.damping > 0 else np.inf
        caps = np.inf if self.max_speed is None else np.asarray(self.max_speed, dtype=np.float64)
        return np.broadcast_to(np.minimum(terminal, caps), (self.n_agents,)).astype(np.float64)

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


def parse_max_speed(value: Any, n_agents: int) -> float | tuple[float, ...] | None:
    """``max_speed`` as None, one number, or a tuple of ``n_agents`` numbers (a list or a comma
    string such as ``"0.5,1.5"`` is accepted); raises ``ValueError`` naming what is wrong."""
    if (
        value is None
        or isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
    ):
        check_number("max_speed", value, low=0.0, low_open=True, allow_none=True)
        return value
    if isinstance(value, str):
        try:
            value = tuple(float(v) for v in value.split(","))
        except ValueError:
            raise ValueError(f"max_speed must be a number or {n_agents} numbers, got {value!r}") from None
    if not isinstance(value, (tuple, list, np.ndarray)):
        raise ValueError(f"max_speed must be a number, a tuple of {n_agents} numbers or None, got {value!r}")
    caps = tuple(value)
    if len(caps) != n_agents:
        raise ValueError(
            f"max_speed has {len(caps)} entries but there are n_agents={n_agents} robots: give one per robot"
        )
    for i, cap in enumerate(caps):
        check_number(f"max_speed[{i}]", cap, low=0.0, low_open=True)
    return tuple(float(c) for c in caps)


class Navigation(NavigationTask):
    """``navigation-v0``'s task: :class:`~swarmzoo.envs.navigation_task.NavigationTask` (the
    default layouts) with its :class:`Config` and presets.

    ``Navigation(config)`` builds the task class the config asks for (:func:`task_class`), as
    ``pathlib.Path()`` builds a ``PosixPath`` or a ``WindowsPath``: a :class:`NavigationMPE`
    for ``mpe_compat``. So the factories, which call ``Navigation(config)``, need not choose.
    """

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

    def __new__(cls, config: Config | None = None, *args: Any, **kwargs: Any) -> Navigation:
        # No config: unpickling or copying, which call cls.__new__(cls) for the class they restore.
        if cls is Navigation and config is not None:
            cls = task_class(config)
        return super().__new__(cls)

    @classmethod
    def observation_size(cls, config: Config) -> int:
        # Asked of Navigation before anything is built (the memory check): the answer of the
        # class the config picks.
        if cls is Navigation and task_class(config) is not Navigation:
            return task_class(config).observation_size(config)
        return super().observation_size(config)


class NavigationMPE(MPESpread, Navigation):
    """``navigation-v0`` in MPE simple_spread's layouts: :class:`~swarmzoo.envs.navigation_mpe.MPESpread`
    (whose overrides come first) as a :class:`Navigation`, what ``Navigation(config)`` builds for
    ``mpe_compat=True`` (the ``mpe_spread`` preset)."""


def task_class(config: Config) -> type[Navigation]:
    """The task class of ``config``: :class:`NavigationMPE` for MPE's layouts (``mpe_compat``,
    set by the ``mpe_spread`` preset), else :class:`Navigation`."""
    return NavigationMPE if config.mpe_compat else Navigation


parallel_env, raw_env, env, vector_env = make_factories(Navigation)
register("navigation-v0", __name__, "N robots cover N goals, avoiding collisions and obstacles")
