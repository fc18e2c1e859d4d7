"""# Vicsek flocking (``flocking-v0``)

N robots move at constant speed and steer their headings; the swarm is rewarded for flying in one
direction (polar order). Robots sense only neighbours within ``sensing_radius``. This is the
Vicsek model (Vicsek et al., PRL 1995) with the heading update left to a policy, as in the Vicsek
task of Cui et al., "Learning Decentralized Partially Observable Mean Field Control for Artificial
Collective Behavior" (ICLR 2024).

| Import              | ``swarmzoo.make("flocking-v0")`` or ``from swarmzoo.envs import flocking``       |
|---------------------|--------------------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{N-1}``                                                     |
| Actions             | ``Discrete(n_turns)`` or ``Box(-1, 1, (1,))`` (``continuous_actions=True``)      |
| Observation         | ``Box(-inf, inf, (5 + heading_bins + 3 k_robots,), float32)``                    |
| State               | ``Box(-inf, inf, (4 N,), float32)``                                             |
| Mean-field view     | ``env.mean_field()``: samples ``(x, y, heading)`` per robot                      |
| Vector face         | ``swarmzoo.make_vec("flocking-v0", num_envs)``                                  |

## Dynamics

Each step robot ``i`` turns by its action and by heading noise, then moves ``speed`` along its new
heading::

    theta_i <- wrap(theta_i + turn_i + heading_noise * (U - 1/2)),  U ~ Uniform(0, 1)
    x_i     <- x_i + speed * (cos theta_i, sin theta_i)

(``heading_noise`` is Vicsek's eta: the noise is uniform on ``[-eta/2, eta/2]``.) On a torus
positions wrap; with walls a robot that crosses one is mirrored back and its heading reflected.
Headings stay in ``[-pi, pi)`` and every robot's speed is exactly ``speed``.

At reset positions are uniform in the arena and headings uniform on the circle
(``initial_headings="uniform"``); ``"aligned"`` starts every robot of a copy on one heading,
``"opposed"`` half of them on one heading and half on the opposite one (order 0 for even N, locally
ordered), drawn per copy: other initial distributions, for testing policies (such as mean-field
schedules, computed from the uniform start) off the distribution they were made for.

## Actions

Discrete: ``a`` in ``0 .. n_turns - 1`` turns by ``linspace(-max_turn, max_turn, n_turns)[a]``
(``n_turns`` is odd, so the middle action goes straight). Continuous: ``u`` in ``[-1, 1]`` turns
by ``u * max_turn``. Out-of-range actions raise ``ValueError``; nothing is clipped.

## Observation (index slices)

| Slice                                    | Content                                                     |
|------------------------------------------|-------------------------------------------------------------|
| ``[0:2]``                                | own heading ``(cos, sin)`` (a compass; 0 if not ``compass``) |
| ``[2]``                                  | neighbours sensed / ``expected_neighbours`` (see Config)      |
| ``[3:5]``                                | mean ``(cos, sin)`` of neighbours' headings minus own heading |
| ``[5 : 5+B]``                            | fraction of neighbours per relative-heading bin over [-pi, pi) |
| ``[5+B : 5+B+3k]``                       | k nearest: ``(dx, dy) / sensing_radius`` (own frame), ``valid`` |

Entry names (``Flocking.observation_names(config)``, for ``--rule-features``): ``heading_cos``,
``heading_sin``, ``neighbours``, ``rel_heading_cos``, ``rel_heading_sin``, ``heading_bin_{b}``,
``nearest_{j}_dx``, ``nearest_{j}_dy``, ``nearest_{j}_valid``. A mean-field decision rule reads
the first five by default (``Flocking.mean_field_rule_features``).

A robot senses at most ``max_neighbours`` (default 32) nearest robots within ``sensing_radius``:
a sensor's tracking capacity, which also keeps memory linear in N when robots crowd (the Vicsek
model has no repulsion, so clumps form). Neighbour offsets are in the robot's own frame (x ahead,
y to the left). Everything except the compass is relative to the robot's heading, so a policy can
be rotation-invariant; with ``compass=False`` every observation is (slice ``[0:2]`` is zero), and
alignment can only come from the neighbours (no shortcut of all turning to one absolute heading).
A robot with no neighbour sees zeros in ``[2 : ]``.

## Reward

Every robot gets ``order`` (``reward="global"``: the polar order parameter
``|mean_j exp(i theta_j)|`` of the whole swarm; ``reward="local"``: the same over the robot and
its neighbours), minus ``cohesion_penalty`` if it senses no neighbour, minus
``collision_penalty`` per neighbour closer than ``2 robot_radius``.

## Termination and truncation

No termination; truncation after ``max_cycles`` steps.

## Infos (per step)

``order_parameter`` (global polar order of the copy), per robot ``neighbours`` (count sensed) and
``collisions``.

## Mean-field view

``mean_field()`` returns a :class:`~swarmzoo.envs.core.collective.MeanField` with samples
``(x, y, heading)``, bounds ``[-width/2, width/2] x [-height/2, height/2] x [-pi, pi]``; x and y
are periodic on a torus, the heading always.

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

from swarmzoo.envs.core.arena import Arena, wrap
from swarmzoo.envs.core.collective import (
    MeanField,
    Neighbourhood,
    angle_colors,
    arena_for_density,
    check_sensing,
    expected_neighbours,
    local_order,
    nearest_slot_names,
    nearest_slots,
    neighbourhood,
    order_parameter,
    relative_angle_summary,
    rotate,
    wrap_angle,
)
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.neighbors import Method
from swarmzoo.envs.core.task import (
    SwarmTask,
    check_bool,
    check_choice,
    check_number,
    check_positive_int,
)
from swarmzoo.envs.registry import register

BOUNDARIES = ("torus", "walls")
INITIAL_HEADINGS = ("uniform", "aligned", "opposed")


@dataclass(frozen=True)
class Config:
    """Arguments of ``flocking-v0``.

    Attributes:
        n_agents: number of robots N (>= 1).
        density: robots per unit area; sets the arena side ``sqrt(N / density)`` unless
            ``arena_width`` is given.
        arena_width: arena extent along x (default from ``density``).
        arena_height: arena extent along y (default ``arena_width``).
        boundary: ``"torus"`` (Vicsek's periodic box) or ``"walls"`` (reflecting).
        speed: distance moved per step (constant).
        sensing_radius: robots sense neighbours closer than this.
        max_neighbours: a robot senses at most this many (nearest) robots within the radius,
            or None for all of them (memory then grows with crowding).
        heading_noise: Vicsek's eta, width of the uniform heading noise per step (radians, >= 0).
        max_turn: largest turn per step (radians, in (0, pi]).
        n_turns: discrete turn set size (odd, >= 1).
        continuous_actions: ``Box(-1, 1, (1,))`` turns instead of ``Discrete(n_turns)``.
        heading_bins: bins of the relative-heading histogram in the observation (0 for none).
        compass: robots observe their own absolute heading (slice ``[0:2]``); False zeroes it,
            so observations are rotation-invariant.
        initial_headings: ``"uniform"``, ``"aligned"`` (one heading per copy) or ``"opposed"``
            (robots ``0 .. N/2 - 1`` on one heading, the rest on the opposite one).
        k_robots: nearest-neighbour slots in the observation.
        reward: ``"global"`` (swarm order parameter) or ``"local"`` (neighbourhood order).
        cohesion_penalty: penalty for a robot that senses no neighbour.
        collision_penalty: penalty per neighbour closer than ``2 robot_radius``.
        robot_radius: body radius (for collisions and rendering).
        max_cycles: steps per episode.
        neighbour_method: ``"auto"``, ``"dense"`` (all pairs) or ``"tree"`` (k-d tree) sensing.
    """

    n_agents: int = 50
    density: float = 2.0
    arena_width: float | None = None
    arena_height: float | None = None
    boundary: Literal["torus", "walls"] = "torus"
    speed: float = 0.1
    sensing_radius: float = 1.0
    max_neighbours: int | None = 32
    heading_noise: float = 0.2
    max_turn: float = np.pi / 4
    n_turns: int = 5
    continuous_actions: bool = False
    heading_bins: int = 8
    compass: bool = True
    initial_headings: Literal["uniform", "aligned", "opposed"] = "uniform"
    k_robots: int = 3
    reward: Literal["global", "local"] = "global"
    cohesion_penalty: float = 0.0
    collision_penalty: float = 0.0
    robot_radius: float = 0.05
    max_cycles: int = 100
    neighbour_method: Method = "auto"

    def __post_init__(self) -> None:
        check_positive_int("n_agents", self.n_agents)
        if self.max_neighbours is not None:
            check_positive_int("max_neighbours", self.max_neighbours)
        check_positive_int("heading_bins", self.heading_bins, minimum=0)
        check_positive_int("k_robots", self.k_robots, minimum=0)
        check_positive_int("max_cycles", self.max_cycles)
        check_positive_int("n_turns", self.n_turns)
        if self.n_turns % 2 == 0:
            raise ValueError(f"n_turns must be odd (so one action goes straight), got {self.n_turns}")
        for name in ("density", "speed", "sensing_radius", "robot_radius"):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_number("arena_width", self.arena_width, low=0.0, low_open=True, allow_none=True)
        check_number("arena_height", self.arena_height, low=0.0, low_open=True, allow_none=True)
        check_number("heading_noise", self.heading_noise, 0.0, 2 * np.pi)
        check_number("max_turn", self.max_turn, 0.0, np.pi, low_open=True)
        check_number("cohesion_penalty", self.cohesion_penalty, low=0.0)
        check_number("collision_penalty", self.collision_penalty, low=0.0)
        check_choice("boundary", self.boundary, BOUNDARIES)
        check_choice("reward", self.reward, ("global", "local"))
        check_choice("neighbour_method", self.neighbour_method, ("auto", "dense", "tree"))
        check_bool("continuous_actions", self.continuous_actions)
        check_bool("compass", self.compass)
        check_choice("initial_headings", self.initial_headings, INITIAL_HEADINGS)
        check_sensing(self.sensing_radius, self.robot_radius, self.k_robots, self.max_neighbours)
        if self.boundary == "walls" and self.speed >= min(self.arena.width, self.arena.height) / 2:
            raise ValueError(
                f"speed={self.speed} is too large for a {self.arena.width:g}-wide walled arena "
                f"(arena_width x arena_height = {self.arena.width:g} x {self.arena.height:g}; at most half "
                "a side per step)"
            )

    @cached_property
    def arena(self) -> Arena:
        return arena_for_density(
            self.n_agents, self.density, self.arena_width, self.arena_height, self.boundary
        )

    @property
    def expected_neighbours(self) -> float:
        """Neighbours a robot senses on average when robots are spread uniformly (the scale of
        the observation's count), at least 1."""
        return expected_neighbours(self.n_agents, self.arena.area, self.sensing_radius, self.max_neighbours)

    @cached_property
    def turns(self) -> np.ndarray:
        """The discrete turn set ``(n_turns,)`` in radians."""
        return np.linspace(-self.max_turn, self.max_turn, self.n_turns) if self.n_turns > 1 else np.zeros(1)


# -- the task's pure functions ---------------------------------------------------------------


def turn_angles(actions: np.ndarray, cfg: Config) -> np.ndarray:
    """Turns ``(E, N)`` in radians from validated actions."""
    if cfg.continuous_actions:
        return actions[..., 0].astype(np.float64) * cfg.max_turn
    return cfg.turns[actions]


def move(
    pos: np.ndarray, heading: np.ndarray, turn: np.ndarray, noise: np.ndarray, cfg: Config
) -> tuple[np.ndarray, np.ndarray]:
    """One Vicsek step: new ``pos (E, N, 2)`` and ``heading (E, N)``; ``noise`` is ``U(0,1) (E, N)``."""
    heading = wrap_angle(heading + turn + cfg.heading_noise * (noise - 0.5))
    pos = pos + cfg.speed * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
    if cfg.boundary == "torus":
        return wrap(pos, cfg.arena), heading
    return reflect(pos, heading, cfg.arena)


def reflect(pos: np.ndarray, heading: np.ndarray, arena: Arena) -> tuple[np.ndarray, np.ndarray]:
    """Mirror robots that crossed a wall back inside and reflect their headings."""
    half = arena.half
    over_x = np.abs(pos[..., 0]) > half[0]
    over_y = np.abs(pos[..., 1]) > half[1]
    if not (over_x.any() or over_y.any()):
        return pos, heading
    pos = pos.copy()
    pos[..., 0] = np.where(over_x, np.sign(pos[..., 0]) * 2 * half[0] - pos[..., 0], pos[..., 0])
    pos[..., 1] = np.where(over_y, np.sign(pos[..., 1]) * 2 * half[1] - pos[..., 1], pos[..., 1])
    heading = np.where(over_x, np.pi - heading, heading)
    heading = np.where(over_y, -heading, heading)
    return pos, wrap_angle(heading)


def observe(pos: np.ndarray, heading: np.ndarray, graph: Neighbourhood, cfg: Config) -> np.ndarray:
    """Local observations ``(E, N, 5 + B + 3 k)`` float32 (layout in the module docstring)."""
    E, N = heading.shape
    count, mean_rel, hist = relative_angle_summary(graph, heading, cfg.heading_bins)
    own = np.stack([np.cos(heading), np.sin(heading)], axis=-1) if cfg.compass else np.zeros((E, N, 2))
    parts = [own, (count / cfg.expected_neighbours)[..., None]]
    parts += [mean_rel, hist]
    if cfg.k_robots:
        delta, mask = nearest_slots(
            graph, pos, cfg.k_robots, cfg.sensing_radius, cfg.arena, cfg.max_neighbours, cfg.neighbour_method
        )
        body = rotate(delta, heading[..., None]) / cfg.sensing_radius  # (E, N, k, 2)
        slots = np.concatenate([body, mask[..., None]], axis=-1)
        parts.append(slots.reshape(E, N, 3 * cfg.k_robots))
    return np.concatenate(parts, axis=-1).astype(np.float32)


# -- the task --------------------------------------------------------------------------------


class Flocking(SwarmTask):
    """Batched Vicsek flocking: state arrays ``pos (E, N, 2)`` and ``heading (E, N)``."""

    name = "flocking_v0"
    Config = Config
    PRESETS = {
        # Vicsek's original setting: full-strength alignment possible in one step, weak noise.
        "vicsek": dict(max_turn=np.pi, n_turns=9, heading_noise=0.1, speed=0.03, density=4.0),
    }

    mean_field_rule_features: ClassVar[tuple[str, ...]] = (
        "heading_cos",
        "heading_sin",
        "neighbours",
        "rel_heading_cos",
        "rel_heading_sin",
    )
    """Observation entries a mean-field decision rule reads by default (see
    :meth:`observation_names`): the compass, the neighbour count, the mean relative heading."""

    @classmethod
    def observation_size(cls, config: Config) -> int:
        return 5 + config.heading_bins + 3 * config.k_robots

    @classmethod
    def observation_names(cls, config: Config) -> tuple[str, ...]:
        """One name per observation entry, in order (layout in the module docstring)."""
        own = ("heading_cos", "heading_sin", "neighbours", "rel_heading_cos", "rel_heading_sin")
        bins = tuple(f"heading_bin_{b}" for b in range(config.heading_bins))
        return own + bins + nearest_slot_names(config.k_robots)

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        cfg = config
        self.arena = cfg.arena
        E, N = n_envs, cfg.n_agents
        self.pos = np.zeros((E, N, 2))
        self.heading = np.zeros((E, N))
        self.graph = Neighbourhood.empty(E, N)
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.observation_size(cfg),), np.float32)
        self.state_space = spaces.Box(-np.inf, np.inf, (4 * N,), np.float32)
        if cfg.continuous_actions:
            self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        else:
            self.action_space = spaces.Discrete(cfg.n_turns)
        self._obs: np.ndarray | None = None

    def _sense(self) -> None:
        cfg = self.config
        self.graph = neighbourhood(
            self.pos, cfg.sensing_radius, self.arena, cfg.neighbour_method, cfg.max_neighbours
        )
        self._obs = None

    def _reset(self, env_ids: np.ndarray) -> None:
        half = self.arena.half
        self.pos[env_ids] = self.rng.uniform(env_ids, (self.n_agents, 2), -half, half)
        heading = self.rng.uniform(env_ids, (self.n_agents,), -np.pi, np.pi)
        if self.config.initial_headings != "uniform":  # the first robot's draw for the whole copy
            heading = np.repeat(heading[:, :1], self.n_agents, axis=1)
            if self.config.initial_headings == "opposed":
                heading[:, self.n_agents // 2 :] += np.pi
        self.heading[env_ids] = wrap_angle(heading)
        self._sense()

    def _step(self, actions: np.ndarray):
        cfg = self.config
        all_envs = np.arange(self.n_envs)
        noise = self.rng.uniform(all_envs, (self.n_agents,))
        self.pos, self.heading = move(self.pos, self.heading, turn_angles(actions, cfg), noise, cfg)
        self._sense()
        graph = self.graph
        order = order_parameter(self.heading)
        count = graph.count()
        if cfg.reward == "global":
            rewards = np.repeat(order[:, None], self.n_agents, axis=1)
        else:
            rewards = local_order(graph, self.heading)
        close = np.einsum("md,md->m", graph.delta, graph.delta) < (2 * cfg.robot_radius) ** 2
        collisions = graph.sum(close.astype(np.float64)).astype(np.int64)
        rewards = rewards - cfg.cohesion_penalty * (count == 0) - cfg.collision_penalty * collisions
        terminated = np.zeros((self.n_envs, self.n_agents), dtype=bool)
        infos = {"order_parameter": order, "neighbours": count, "collisions": collisions}
        return rewards, terminated, infos

    def observe(self) -> np.ndarray:
        if self._obs is None:
            self._obs = observe(self.pos, self.heading, self.graph, self.config)
        return self._obs

    def state(self) -> np.ndarray:
        E = self.n_envs
        scaled = self.pos / self.arena.half
        parts = [scaled, np.cos(self.heading)[..., None], np.sin(self.heading)[..., None]]
        return np.concatenate(parts, axis=-1).reshape(E, -1).astype(np.float32)

    def mean_field(self) -> MeanField:
        half = self.arena.half
        periodic = self.config.boundary == "torus"
        return MeanField(
            samples=np.concatenate([self.pos, self.heading[..., None]], axis=-1),
            names=("x", "y", "heading"),
            low=np.array([-half[0], -half[1], -np.pi]),
            high=np.array([half[0], half[1], np.pi]),
            periodic=np.array([periodic, periodic, True]),
        )

    def history_sample(self) -> dict[str, float]:
        # Copy 0's order parameter over the episode (the curve).
        return {"order": float(order_parameter(self.heading[:1])[0])}

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        return [f"order {order_parameter(self.heading[env_index : env_index + 1])[0]:.3f}"]

    def draw(self, renderer, env_index: int, history: RenderHistory) -> None:
        e, cfg = env_index, self.config
        renderer.begin()
        length = max(cfg.speed * 3, cfg.robot_radius * 3, 0.008 * max(self.arena.width, self.arena.height))
        renderer.arrows(self.pos[e], self.heading[e], length, angle_colors(self.heading[e]))
        if e == 0:
            renderer.curve(history.get("order"), "order", 0.0, 1.0, length=self.max_cycles + 1)


parallel_env, raw_env, env, vector_env = make_factories(Flocking)
register("flocking-v0", __name__, "Vicsek flocking: constant-speed robots steer to align headings")
