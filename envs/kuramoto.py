"""# Kuramoto synchronisation (``kuramoto-v0``)

N oscillator robots, each with its own natural frequency, must bring their phases into step. Each
robot controls its own phase velocity and senses only the phases of the robots it is coupled to,
relative to its own. This is the Kuramoto model (Kuramoto 1975; Acebron et al., RMP 2005) with the
coupling left to a policy, as in the Kuramoto task of Cui et al., "Learning Decentralized Partially
Observable Mean Field Control for Artificial Collective Behavior" (ICLR 2024).

| Import              | ``swarmzoo.make("kuramoto-v0")`` or ``from swarmzoo.envs import kuramoto``       |
|---------------------|--------------------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{N-1}``                                                     |
| Actions             | ``Discrete(n_controls)`` or ``Box(-1, 1, (1,))`` (``continuous_actions=True``)    |
| Observation         | ``Box(-inf, inf, (4 + phase_bins,), float32)``                                   |
| State               | ``Box(-inf, inf, (5 N,), float32)``                                             |
| Mean-field view     | ``env.mean_field()``: samples ``(x, y, phase, frequency)`` per robot              |
| Vector face         | ``swarmzoo.make_vec("kuramoto-v0", num_envs)``                                  |

## Dynamics

Robots sit still at uniform random positions (they matter only for ``graph="radius"``). Each step
(Euler, time step ``dt``)::

    theta_i <- wrap(theta_i + dt * (omega_i + u_i + coupling * mean_j sin(theta_j - theta_i))
                    + phase_noise * sqrt(dt) * xi),   xi ~ N(0, 1)

where ``j`` runs over the robots ``i`` is coupled to and ``u_i`` is the robot's control. The
built-in ``coupling`` is 0 by default: all synchronising effort comes from the policy. Natural
frequencies ``omega_i`` are drawn each episode from ``frequency_distribution`` (``"normal"``: mean
``frequency_mean``, standard deviation ``frequency_spread``; ``"cauchy"``: half-width
``frequency_spread``, for which the all-to-all critical coupling is exactly ``2 *
frequency_spread``; ``"uniform"``: half-range ``frequency_spread``).

Coupling graphs: ``"radius"`` (the ``max_neighbours`` nearest robots closer than
``sensing_radius``; static per episode),
``"complete"`` (all-to-all, the classic model; O(N) per step unless ``phase_bins`` > 0),
``"ring"`` (robot ``i`` with ``i +- 1 .. ring_neighbours``, modulo N) and ``"given"`` (the
undirected links ``edges``, e.g. from a networkx graph: ``edges=tuple(G.edges)``).

## Actions

Discrete: ``a`` in ``0 .. n_controls - 1`` adds ``linspace(-max_control, max_control,
n_controls)[a]`` to the phase velocity (odd ``n_controls``: the middle action adds 0). Continuous:
``u`` in ``[-1, 1]`` adds ``u * max_control``. Out-of-range actions raise ``ValueError``.

## Observation (index slices)

| Slice              | Content                                                                     |
|--------------------|-----------------------------------------------------------------------------|
| ``[0]``            | own natural frequency minus ``frequency_mean``, over ``frequency_spread``   |
| ``[1]``            | neighbours sensed / ``expected_neighbours`` (see Config)                    |
| ``[2:4]``          | mean ``(cos, sin)`` of ``theta_j - theta_i`` over neighbours                 |
| ``[4 : 4+B]``      | fraction of neighbours per phase-difference bin over ``[-pi, pi)``          |

Entry names (``Kuramoto.observation_names(config)``, for ``--rule-features``): ``frequency``,
``neighbours``, ``phase_diff_cos``, ``phase_diff_sin``, ``phase_bin_{b}``. A mean-field decision
rule reads the first four by default (``Kuramoto.mean_field_rule_features``).

No absolute phase: the task is invariant to a common phase shift. ``[2:4]`` is the local order
parameter seen from robot ``i``; ``[3]`` is exactly the Kuramoto coupling term.

## Reward

Every robot gets the order parameter ``r = |mean_j exp(i theta_j)|`` of the swarm
(``reward="global"``) or of itself and its neighbours (``reward="local"``), minus
``control_cost * u_i^2`` (control effort, in units of ``max_control``).

## Termination and truncation

No termination; truncation after ``max_cycles`` steps.

## Infos (per step)

``order_parameter`` (r of the copy), per robot ``neighbours``.

## Mean-field view

``mean_field()`` samples ``(x, y, phase, frequency)``; bounds are the arena, ``[-pi, pi]`` and
``frequency_mean +- 4 frequency_spread`` (Cauchy tails beyond it are clipped by
:meth:`~swarmzoo.envs.core.collective.MeanField.histogram`); the phase is periodic, x and y on a
torus.

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

from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.collective import (
    MeanField,
    Neighbourhood,
    angle_colors,
    arena_for_density,
    complete_angle_summary,
    expected_neighbours,
    local_order,
    neighbourhood,
    order_parameter,
    relative_angle_summary,
    wrap_angle,
)
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.neighbors import Method
from swarmzoo.envs.core.task import (
    SwarmTask,
    check_bool,
    check_choice,
    check_links,
    check_number,
    check_positive_int,
)
from swarmzoo.envs.registry import register

GRAPHS = ("radius", "complete", "ring", "given")
DISTRIBUTIONS = ("normal", "cauchy", "uniform")
# The complete graph's phase histogram compares all pairs: (E, N, N) work per step.
COMPLETE_HISTOGRAM_MAX = 1000
COMPLETE_HISTOGRAM_PAIRS = 4_000_000  # E * N^2 limit of the same


@dataclass(frozen=True)
class Config:
    """Arguments of ``kuramoto-v0``.

    Attributes:
        n_agents: number of robots N (>= 1).
        graph: coupling graph, ``"radius"``, ``"complete"``, ``"ring"`` or ``"given"`` (``edges``).
        edges: undirected links ``((i, j), ...)`` of the ``"given"`` graph (robot indices).
        density: robots per unit area; sets the arena side ``sqrt(N / density)`` unless
            ``arena_width`` is given.
        arena_width: arena extent along x (default from ``density``).
        arena_height: arena extent along y (default ``arena_width``).
        boundary: ``"torus"`` or ``"walls"`` (distances for the radius graph).
        sensing_radius: coupling range of the radius graph.
        max_neighbours: a robot senses at most this many (nearest) robots within the radius,
            or None for all of them (memory then grows with crowding).
        ring_neighbours: neighbours on each side in the ring graph (>= 1).
        frequency_distribution: ``"normal"``, ``"cauchy"`` or ``"uniform"``.
        frequency_mean: centre of the natural frequencies (rad per time unit).
        frequency_spread: std (normal), half-width (cauchy) or half-range (uniform), > 0.
        coupling: built-in Kuramoto coupling K (>= 0; 0: the policy does all the coupling).
        max_control: largest phase-velocity control (rad per time unit).
        n_controls: discrete control levels (odd, >= 1).
        continuous_actions: ``Box(-1, 1, (1,))`` controls instead of ``Discrete(n_controls)``.
        dt: Euler time step.
        phase_noise: phase diffusion strength (>= 0).
        phase_bins: bins of the phase-difference histogram in the observation (0 for none).
        reward: ``"global"`` or ``"local"`` order parameter.
        control_cost: weight of the squared control in the reward (>= 0).
        max_cycles: steps per episode.
        neighbour_method: ``"auto"``, ``"dense"`` or ``"tree"`` radius sensing.
    """

    n_agents: int = 50
    graph: Literal["radius", "complete", "ring", "given"] = "radius"
    edges: tuple[tuple[int, int], ...] | None = None
    density: float = 2.0
    arena_width: float | None = None
    arena_height: float | None = None
    boundary: Literal["torus", "walls"] = "torus"
    sensing_radius: float = 1.0
    max_neighbours: int | None = 32
    ring_neighbours: int = 2
    frequency_distribution: Literal["normal", "cauchy", "uniform"] = "normal"
    frequency_mean: float = 0.0
    frequency_spread: float = 0.5
    coupling: float = 0.0
    max_control: float = 2.0
    n_controls: int = 5
    continuous_actions: bool = False
    dt: float = 0.1
    phase_noise: float = 0.0
    phase_bins: int = 8
    reward: Literal["global", "local"] = "global"
    control_cost: float = 0.0
    max_cycles: int = 100
    neighbour_method: Method = "auto"

    def __post_init__(self) -> None:
        check_positive_int("n_agents", self.n_agents)
        if self.max_neighbours is not None:
            check_positive_int("max_neighbours", self.max_neighbours)
        check_positive_int("ring_neighbours", self.ring_neighbours)
        check_positive_int("n_controls", self.n_controls)
        check_positive_int("phase_bins", self.phase_bins, minimum=0)
        check_positive_int("max_cycles", self.max_cycles)
        if self.n_controls % 2 == 0:
            raise ValueError(f"n_controls must be odd (so one action adds no control), got {self.n_controls}")
        for name in ("density", "sensing_radius", "frequency_spread", "max_control", "dt"):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_number("arena_width", self.arena_width, low=0.0, low_open=True, allow_none=True)
        check_number("arena_height", self.arena_height, low=0.0, low_open=True, allow_none=True)
        check_number("frequency_mean", self.frequency_mean)
        for name in ("coupling", "phase_noise", "control_cost"):
            check_number(name, getattr(self, name), low=0.0)
        for name, value, allowed in (
            ("graph", self.graph, GRAPHS),
            ("frequency_distribution", self.frequency_distribution, DISTRIBUTIONS),
            ("boundary", self.boundary, ("torus", "walls")),
            ("reward", self.reward, ("global", "local")),
            ("neighbour_method", self.neighbour_method, ("auto", "dense", "tree")),
        ):
            check_choice(name, value, allowed)
        check_bool("continuous_actions", self.continuous_actions)
        if (self.graph == "given") != (self.edges is not None):
            raise ValueError("edges are given exactly when graph='given'")
        if self.edges is not None:
            check_links("edges", self.edges, self.n_agents)
        if self.graph == "complete" and self.phase_bins and self.n_agents > COMPLETE_HISTOGRAM_MAX:
            raise ValueError(
                f"graph='complete' with phase_bins={self.phase_bins} compares all pairs; for "
                f"n_agents={self.n_agents} > {COMPLETE_HISTOGRAM_MAX} use phase_bins=0 (the mean "
                "phase difference stays O(N))"
            )

    @cached_property
    def arena(self) -> Arena:
        return arena_for_density(
            self.n_agents, self.density, self.arena_width, self.arena_height, self.boundary
        )

    @property
    def expected_neighbours(self) -> float:
        """The scale of the observation's neighbour count: the graph's mean degree for uniform
        positions (radius), ``N - 1`` (complete) or ``2 ring_neighbours`` (ring); at least 1."""
        if self.graph == "complete":
            return max(1.0, self.n_agents - 1.0)
        if self.graph == "ring":
            return float(min(2 * self.ring_neighbours, max(self.n_agents - 1, 1)))
        if self.graph == "given":
            return max(1.0, 2 * len(set(map(frozenset, self.edges))) / self.n_agents)
        return expected_neighbours(self.n_agents, self.arena.area, self.sensing_radius, self.max_neighbours)

    @cached_property
    def controls(self) -> np.ndarray:
        """The discrete control levels ``(n_controls,)``."""
        if self.n_controls == 1:
            return np.zeros(1)
        return np.linspace(-self.max_control, self.max_control, self.n_controls)


# -- the task's pure functions ---------------------------------------------------------------


def natural_frequencies(uniform: np.ndarray, cfg: Config) -> np.ndarray:
    """Natural frequencies from ``U(0, 1)`` draws (inverse CDF), same shape."""
    m, s = cfg.frequency_mean, cfg.frequency_spread
    # A draw of exactly 0 would give an infinite frequency under the normal or Cauchy inverse CDF.
    uniform = np.clip(uniform, 1e-12, 1.0 - 1e-12)
    if cfg.frequency_distribution == "uniform":
        return m + s * (2.0 * uniform - 1.0)
    if cfg.frequency_distribution == "cauchy":
        return m + s * np.tan(np.pi * (uniform - 0.5))
    from scipy.special import ndtri

    return m + s * ndtri(uniform)


def ring_neighbourhood(n_envs: int, n_agents: int, per_side: int) -> Neighbourhood:
    """Robot ``i`` senses ``i +- 1 .. per_side`` (mod N), each distinct robot once."""
    offsets = np.unique(np.concatenate([np.arange(1, per_side + 1), -np.arange(1, per_side + 1)]) % n_agents)
    offsets = offsets[offsets != 0]
    dst = np.repeat(np.arange(n_agents), len(offsets))
    src = (dst + np.tile(offsets, n_agents)) % n_agents
    M = len(dst)
    return Neighbourhood(
        n_envs,
        n_agents,
        np.repeat(np.arange(n_envs), M),
        np.tile(src, n_envs),
        np.tile(dst, n_envs),
        np.zeros((M * n_envs, 2)),
    )


def given_neighbourhood(n_envs: int, n_agents: int, edges: tuple[tuple[int, int], ...]) -> Neighbourhood:
    """The ``"given"`` graph: each undirected link (duplicates merged) in both directions."""
    links = sorted({(min(i, j), max(i, j)) for i, j in edges})
    i, j = (np.array([link[k] for link in links], dtype=np.int64) for k in (0, 1))
    src, dst = np.concatenate([i, j]), np.concatenate([j, i])
    M = len(src)
    return Neighbourhood(
        n_envs,
        n_agents,
        np.repeat(np.arange(n_envs), M),
        np.tile(src, n_envs),
        np.tile(dst, n_envs),
        np.zeros((M * n_envs, 2)),
    )


def phase_summary(
    theta: np.ndarray, graph: Neighbourhood | None, cfg: Config
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count (E, N)``, mean ``(cos, sin)`` of phase differences ``(E, N, 2)`` and the histogram
    ``(E, N, B)`` over each robot's neighbours (``graph`` None: the complete graph)."""
    if graph is None:
        return complete_angle_summary(theta, cfg.phase_bins)
    return relative_angle_summary(graph, theta, cfg.phase_bins)


def advance(
    theta: np.ndarray,
    omega: np.ndarray,
    control: np.ndarray,
    mean_sin: np.ndarray,
    noise: np.ndarray,
    cfg: Config,
) -> np.ndarray:
    """One Euler step of the controlled Kuramoto model: new phases ``(E, N)`` in ``[-pi, pi)``.

    ``mean_sin`` is each robot's mean ``sin(theta_j - theta_i)`` over neighbours, ``noise`` standard
    normal ``(E, N)``."""
    velocity = omega + control + cfg.coupling * mean_sin
    return wrap_angle(theta + cfg.dt * velocity + cfg.phase_noise * np.sqrt(cfg.dt) * noise)


# -- the task --------------------------------------------------------------------------------


class Kuramoto(SwarmTask):
    """Batched controlled Kuramoto oscillators: state ``phase``, ``omega`` ``(E, N)`` and static
    ``pos (E, N, 2)``."""

    name = "kuramoto_v0"
    Config = Config
    PRESETS = {
        # The classic all-to-all model with Lorentzian frequencies (critical coupling 2 * spread).
        "classic": dict(
            graph="complete", frequency_distribution="cauchy", frequency_spread=0.5, phase_bins=0
        ),
    }

    mean_field_rule_features: ClassVar[tuple[str, ...]] = (
        "frequency",
        "neighbours",
        "phase_diff_cos",
        "phase_diff_sin",
    )
    """Observation entries a mean-field decision rule reads by default (see
    :meth:`observation_names`): the own natural frequency, the neighbour count, the mean phase
    difference."""

    @classmethod
    def observation_size(cls, config: Config) -> int:
        return 4 + config.phase_bins

    @classmethod
    def observation_names(cls, config: Config) -> tuple[str, ...]:
        """One name per observation entry, in order (layout in the module docstring)."""
        own = ("frequency", "neighbours", "phase_diff_cos", "phase_diff_sin")
        return own + tuple(f"phase_bin_{b}" for b in range(config.phase_bins))

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        cfg = config
        self.arena = cfg.arena
        E, N = n_envs, cfg.n_agents
        self.pos = np.zeros((E, N, 2))
        self.phase = np.zeros((E, N))
        self.omega = np.zeros((E, N))
        self.control = np.zeros((E, N))
        # None stands for the complete graph (handled in O(N) without edge lists).
        self.graph: Neighbourhood | None = None
        if cfg.graph == "ring":
            self.graph = ring_neighbourhood(E, N, cfg.ring_neighbours)
        elif cfg.graph == "given":
            self.graph = given_neighbourhood(E, N, cfg.edges)
        if cfg.graph == "complete" and cfg.phase_bins and E * N * N > COMPLETE_HISTOGRAM_PAIRS:
            raise ValueError(
                f"graph='complete' with phase_bins={cfg.phase_bins} compares all pairs of every copy: "
                f"{E} copies x {N}^2 robots is over {COMPLETE_HISTOGRAM_PAIRS:,}; use phase_bins=0"
            )
        self._summary: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.observation_size(cfg),), np.float32)
        self.state_space = spaces.Box(-np.inf, np.inf, (5 * N,), np.float32)
        if cfg.continuous_actions:
            self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        else:
            self.action_space = spaces.Discrete(cfg.n_controls)

    def _summarise(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._summary is None:
            self._summary = phase_summary(self.phase, self.graph, self.config)
        return self._summary

    def _reset(self, env_ids: np.ndarray) -> None:
        cfg, N = self.config, self.n_agents
        half = self.arena.half
        self.pos[env_ids] = self.rng.uniform(env_ids, (N, 2), -half, half)
        self.phase[env_ids] = wrap_angle(self.rng.uniform(env_ids, (N,), -np.pi, np.pi))
        self.omega[env_ids] = natural_frequencies(self.rng.uniform(env_ids, (N,)), cfg)
        self.control[env_ids] = 0.0
        if cfg.graph == "radius":  # robots do not move: the graph changes only at a reset
            self.graph = neighbourhood(
                self.pos, cfg.sensing_radius, self.arena, cfg.neighbour_method, cfg.max_neighbours
            )
        self._summary = None

    def _step(self, actions: np.ndarray):
        cfg = self.config
        if cfg.continuous_actions:
            self.control = actions[..., 0].astype(np.float64) * cfg.max_control
        else:
            self.control = cfg.controls[actions]
        mean_sin = self._summarise()[1][..., 1] if cfg.coupling else 0.0
        noise = self.rng.normal(np.arange(self.n_envs), (self.n_agents,)) if cfg.phase_noise else 0.0
        self.phase = advance(self.phase, self.omega, self.control, mean_sin, noise, cfg)
        self._summary = None
        count = self._summarise()[0]
        order = order_parameter(self.phase)
        if cfg.reward == "local" and self.graph is not None:
            rewards = local_order(self.graph, self.phase)
        else:
            rewards = np.repeat(order[:, None], self.n_agents, axis=1)
        if cfg.control_cost:
            rewards = rewards - cfg.control_cost * (self.control / cfg.max_control) ** 2
        terminated = np.zeros((self.n_envs, self.n_agents), dtype=bool)
        return rewards, terminated, {"order_parameter": order, "neighbours": count}

    def observe(self) -> np.ndarray:
        cfg = self.config
        count, mean_rel, hist = self._summarise()
        own = (self.omega - cfg.frequency_mean) / cfg.frequency_spread
        parts = [own[..., None], (count / cfg.expected_neighbours)[..., None], mean_rel, hist]
        return np.concatenate(parts, axis=-1).astype(np.float32)

    def state(self) -> np.ndarray:
        cfg = self.config
        own = (self.omega - cfg.frequency_mean) / cfg.frequency_spread
        parts = [self.pos / self.arena.half, np.cos(self.phase)[..., None], np.sin(self.phase)[..., None]]
        parts.append(own[..., None])
        return np.concatenate(parts, axis=-1).reshape(self.n_envs, -1).astype(np.float32)

    def mean_field(self) -> MeanField:
        cfg = self.config
        half = self.arena.half
        periodic = cfg.boundary == "torus"
        spread = 4.0 * cfg.frequency_spread
        return MeanField(
            samples=np.concatenate([self.pos, self.phase[..., None], self.omega[..., None]], axis=-1),
            names=("x", "y", "phase", "frequency"),
            low=np.array([-half[0], -half[1], -np.pi, cfg.frequency_mean - spread]),
            high=np.array([half[0], half[1], np.pi, cfg.frequency_mean + spread]),
            periodic=np.array([periodic, periodic, True, False]),
        )

    def history_sample(self) -> dict[str, float]:
        # Copy 0's order parameter over the episode (the curve).
        return {"order": float(order_parameter(self.phase[:1])[0])}

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        return [f"order r {order_parameter(self.phase[env_index : env_index + 1])[0]:.3f}"]

    def draw(self, renderer, env_index: int, history: RenderHistory) -> None:
        e = env_index
        renderer.begin()
        radius = 0.2 * min(self.arena.width, self.arena.height) / np.sqrt(max(self.n_agents, 1))
        renderer.circles(self.pos[e], radius, angle_colors(self.phase[e]), outline=(20, 20, 20))
        # Each robot's phase as a hand on its disc, so equal colours read as equal angles too.
        renderer.arrows(self.pos[e], self.phase[e], radius, (20, 20, 20), width=1)
        if e == 0:
            renderer.curve(history.get("order"), "order r", 0.0, 1.0, length=self.max_cycles + 1)


parallel_env, raw_env, env, vector_env = make_factories(Kuramoto)
register("kuramoto-v0", __name__, "Kuramoto oscillators: robots adjust their phase velocity to synchronise")
