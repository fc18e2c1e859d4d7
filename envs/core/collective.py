"""Collective-behaviour building blocks shared by the swarming tasks (flocking, Kuramoto,
aggregation): angles, order parameters, radius neighbourhoods with per-robot sums, and the
mean-field view of a swarm.

Everything is batched over env copies ``E`` and robots ``N``. Neighbourhoods are edge lists (one
entry per directed link, see :class:`Neighbourhood`), so memory grows with the number of links,
not with ``N^2``: at 10,000 robots with ~10 neighbours each that is ~100,000 edges. Per-robot sums
over neighbours are ``np.bincount`` calls over those edges.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import numpy as np

from swarmzoo.envs.core.arena import Arena, min_image
from swarmzoo.envs.core.neighbors import (
    DENSE_MAX,
    Method,
    Neighbors,
    kdtree,
    knn,
    radius_pairs,
    tree_coordinates,
)

TWO_PI = 2.0 * np.pi


def arena_for_density(
    n_agents: int, density: float, width: float | None, height: float | None, boundary: str
) -> Arena:
    """The arena of a swarming config: ``width`` x ``height`` if given, else a square of side
    ``sqrt(n_agents / density)`` (so the robot density stays the same at every swarm size)."""
    if width is None:
        width = float(np.sqrt(n_agents / density))
    return Arena(width=width, height=width if height is None else height, boundary=boundary)


def expected_neighbours(n_agents: int, area: float, radius: float, max_neighbours: int | None) -> float:
    """Robots a robot senses within ``radius`` on average when ``n_agents`` are spread uniformly
    over ``area`` (at most ``max_neighbours`` and ``n_agents - 1``), at least 1: the scale of an
    observed count."""
    expected = min((n_agents - 1) / area * np.pi * radius**2, n_agents - 1)
    if max_neighbours is not None:
        expected = min(expected, max_neighbours)
    return max(1.0, expected)


def check_sensing(
    sensing_radius: float, robot_radius: float, k_robots: int, max_neighbours: int | None
) -> None:
    """The checks every config with radius sensing and bodies shares.

    Raises:
        ValueError: a robot that cannot sense the robots it touches, or one that would observe
            more robots (``k_robots``) than it senses (``max_neighbours``).
    """
    if sensing_radius <= 2 * robot_radius:
        raise ValueError(
            f"sensing_radius={sensing_radius} must exceed the body diameter 2 * robot_radius="
            f"{2 * robot_radius} (robots must sense the robots they touch)"
        )
    if k_robots and max_neighbours is not None and k_robots > max_neighbours:
        raise ValueError(
            f"k_robots={k_robots} exceeds max_neighbours={max_neighbours}: a robot "
            "cannot observe more robots than it senses"
        )


def wrap_angle(theta: np.ndarray) -> np.ndarray:
    """Angles mapped into ``[-pi, pi)``."""
    out = np.mod(np.asarray(theta) + np.pi, TWO_PI)
    # mod() of a tiny negative number can round up to exactly 2 pi: keep the range half-open.
    out = np.where(out >= TWO_PI, 0.0, out)
    return out - np.pi


def order_parameter(theta: np.ndarray) -> np.ndarray:
    """The polar (Vicsek) / Kuramoto order parameter ``|mean_j exp(i theta_j)|``: ``(E, N) -> (E,)``.

    1 when all angles agree, about ``1 / sqrt(N)`` for independent uniform angles.
    """
    return np.hypot(np.cos(theta).mean(axis=-1), np.sin(theta).mean(axis=-1))


def angle_colors(theta: np.ndarray) -> np.ndarray:
    """An RGB colour per angle (hue = angle), ``(M,) -> (M, 3)`` uint8, for rendering."""
    hue = (np.asarray(theta, dtype=float).ravel() % TWO_PI) / TWO_PI
    rgb = [colorsys.hsv_to_rgb(h, 0.75, 0.9) for h in hue]
    return (np.array(rgb, dtype=float).reshape(-1, 3) * 255).astype(np.uint8)


@dataclass
class Neighbourhood:
    """Who senses whom in every env copy: directed links ``src -> dst`` (``dst`` senses ``src``).

    Attributes:
        n_envs: ``E``.
        n_agents: ``N``.
        env: ``(M,)`` env index of each link.
        src: ``(M,)`` the sensed robot.
        dst: ``(M,)`` the sensing robot.
        delta: ``(M, 2)`` position of ``src`` minus position of ``dst`` (minimum image on a torus).
        rank: ``(M,)`` 0 for the nearest robot ``dst`` senses, 1 for the next, ... (graphs built
            with ``max_neighbours``), or None.
        receiver: ``(M,)`` flat index ``env * N + dst`` of each link's sensing robot (derived).
    """

    n_envs: int
    n_agents: int
    env: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    delta: np.ndarray
    rank: np.ndarray | None = None
    receiver: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.receiver = self.env * self.n_agents + self.dst

    @classmethod
    def empty(cls, n_envs: int, n_agents: int) -> Neighbourhood:
        """A graph without links."""
        none = np.zeros(0, dtype=np.int64)
        return cls(n_envs, n_agents, none, none, none, np.zeros((0, 2)), none)

    def count(self) -> np.ndarray:
        """``(E, N)`` number of neighbours each robot senses."""
        flat = np.bincount(self.receiver, minlength=self.n_envs * self.n_agents)
        return flat.reshape(self.n_envs, self.n_agents)

    def sum(self, edge_values: np.ndarray) -> np.ndarray:
        """Per-robot sums of per-link values: ``(M,)`` or ``(M, F)`` -> ``(E, N)`` or ``(E, N, F)``."""
        size = self.n_envs * self.n_agents
        key = self.receiver
        if edge_values.ndim == 1:
            return np.bincount(key, weights=edge_values, minlength=size).reshape(self.n_envs, self.n_agents)
        cols = [
            np.bincount(key, weights=edge_values[:, f], minlength=size) for f in range(edge_values.shape[1])
        ]
        return np.stack(cols, axis=-1).reshape(self.n_envs, self.n_agents, -1)

    def histogram(self, bins: np.ndarray, n_bins: int) -> np.ndarray:
        """``(E, N, n_bins)`` counts of each robot's links per bin, from ``bins (M,)`` in ``[0, n_bins)``."""
        flat = np.bincount(self.receiver * n_bins + bins, minlength=self.n_envs * self.n_agents * n_bins)
        return flat.reshape(self.n_envs, self.n_agents, n_bins)

    def of_sender(self, values: np.ndarray) -> np.ndarray:
        """Per-robot ``values (E, N, ...)`` gathered at each link's sensed robot: ``(M, ...)``."""
        return values[self.env, self.src]

    def of_receiver(self, values: np.ndarray) -> np.ndarray:
        """Per-robot ``values (E, N, ...)`` gathered at each link's sensing robot: ``(M, ...)``."""
        return values[self.env, self.dst]

    def nearest(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each robot's ``k`` nearest sensed robots as padded slots, nearest first: ``delta (E, N,
        k, 2)`` (zero in empty slots) and ``mask (E, N, k)``. Needs ``rank``."""
        if self.rank is None:
            raise ValueError("nearest() needs a graph built with max_neighbours (links ranked by distance)")
        delta = np.zeros((self.n_envs, self.n_agents, k, 2))
        mask = np.zeros((self.n_envs, self.n_agents, k), dtype=bool)
        keep = self.rank < k
        at = (self.env[keep], self.dst[keep], self.rank[keep])
        delta[at] = self.delta[keep]
        mask[at] = True
        return delta, mask


def neighbourhood(
    pos: np.ndarray, radius: float, arena: Arena, method: Method = "auto", max_neighbours: int | None = None
) -> Neighbourhood:
    """Robots within ``radius`` (strictly) of each other sense each other.

    Args:
        pos: ``(E, N, 2)`` positions.
        radius: sensing radius (> 0).
        arena: distances use the minimum image on a torus.
        method: ``"dense"`` (all pairs, small N), ``"tree"`` (k-d tree, O(N log N)) or ``"auto"``.
        max_neighbours: if given, each robot senses only its ``max_neighbours`` nearest robots
            within ``radius`` (a sensor's tracking capacity), and links are ranked by distance.
            This bounds the links at ``N * max_neighbours`` however densely robots crowd; without
            it a clump of ``n`` robots within ``radius`` of each other has ``n^2`` links.
    """
    E, N = pos.shape[:2]
    if max_neighbours is None:
        env, i, j = radius_pairs(pos, radius, arena, method)
        env2, src, dst = np.concatenate([env, env]), np.concatenate([i, j]), np.concatenate([j, i])
        delta = min_image(pos[env2, src] - pos[env2, dst], arena)
        return Neighbourhood(E, N, env2, src, dst, delta)
    if method == "dense" or (method == "auto" and N <= DENSE_MAX):
        near = _strictly_within(
            knn(pos, pos, max_neighbours, arena, radius, exclude_self=True, method="dense"), radius
        )
        env, dst, rank = np.nonzero(near.mask)
        return Neighbourhood(E, N, env, near.index[env, dst, rank], dst, near.delta[env, dst, rank], rank)
    parts = [_nearest_links(pos[e], radius, max_neighbours, arena) for e in range(E)]
    env = np.concatenate([np.full(len(p[0]), e, dtype=np.int64) for e, p in enumerate(parts)])
    dst, src, rank = (np.concatenate([p[i] for p in parts]) for i in range(3))
    delta = min_image(pos[env, src] - pos[env, dst], arena)
    return Neighbourhood(E, N, env, src, dst, delta, rank)


def _nearest_links(
    points: np.ndarray, radius: float, k: int, arena: Arena
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``dst``, ``src`` and ``rank`` of each robot's up to ``k`` nearest others closer than
    ``radius`` in one copy, from a k-d tree k-nearest query (memory ``N k`` however robots crowd;
    the query's rows come sorted by distance, so the rank is the slot)."""
    tree = kdtree(points, arena)
    dist, index = tree.query(tree_coordinates(points, arena), k=k + 1, distance_upper_bound=radius)
    index = index.reshape(len(points), k + 1)
    dist = dist.reshape(len(points), k + 1)
    valid = (dist < radius) & (index != np.arange(len(points))[:, None])
    # The self entry (distance 0) is usually the first; rank what is left, keep at most k.
    rank = np.cumsum(valid, axis=1) - 1
    valid &= rank < k
    dst, slot = np.nonzero(valid)
    return dst, index[dst, slot], rank[dst, slot]


def nearest_slots(
    graph: Neighbourhood,
    pos: np.ndarray,
    k: int,
    radius: float,
    arena: Arena,
    max_neighbours: int | None,
    method: Method = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest sensed robots of each robot: ``delta (E, N, k, 2)`` (neighbour minus
    robot, zero in empty slots) and ``mask (E, N, k)``, nearest first. Read off the graph's ranked
    links when it was built with ``max_neighbours >= k``; a k-nearest query otherwise."""
    if max_neighbours is not None and max_neighbours >= k:
        return graph.nearest(k)
    near = _strictly_within(knn(pos, pos, k, arena, radius, exclude_self=True, method=method), radius)
    return near.delta, near.mask


def nearest_slot_names(k: int) -> tuple[str, ...]:
    """Names of the ``3 k`` observation entries an env fills from :func:`nearest_slots`, slot by
    slot, nearest first: ``nearest_{j}_dx``, ``nearest_{j}_dy``, ``nearest_{j}_valid``."""
    return tuple(f"nearest_{j}_{part}" for j in range(k) for part in ("dx", "dy", "valid"))


def _strictly_within(near: Neighbors, radius: float) -> Neighbors:
    """``near`` without the slots at exactly ``radius`` (:func:`knn` keeps them; sensing is strict)
    so every path agrees on a robot at the edge of the radius."""
    edge = near.mask & ~(near.dist < radius)
    if not edge.any():
        return near
    mask = near.mask & ~edge
    delta = np.where(mask[..., None], near.delta, 0.0)
    return Neighbors(
        index=np.where(mask, near.index, -1), delta=delta, dist=np.where(mask, near.dist, np.inf), mask=mask
    )


def relative_angle_summary(
    graph: Neighbourhood, theta: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a robot senses of its neighbours' angles, relative to its own.

    Args:
        graph: the neighbourhood.
        theta: ``(E, N)`` headings or phases.
        n_bins: histogram bins over the relative angle ``[-pi, pi)`` (0 for none).

    Returns:
        ``count (E, N)``, ``mean_rel (E, N, 2)`` = mean ``(cos, sin)`` of ``theta_j - theta_i`` over
        neighbours ``j`` (zero without neighbours), ``hist (E, N, n_bins)`` = fraction of
        neighbours per relative-angle bin (zero without neighbours).
    """
    rel = graph.of_sender(theta) - graph.of_receiver(theta)
    count = graph.count()
    denom = np.maximum(count, 1)[..., None]
    mean_rel = graph.sum(np.stack([np.cos(rel), np.sin(rel)], axis=-1)) / denom
    E, N = theta.shape
    if n_bins == 0:
        return count, mean_rel, np.zeros((E, N, 0))
    bins = np.floor((wrap_angle(rel) + np.pi) * (n_bins / TWO_PI)).astype(np.int64)
    np.clip(bins, 0, n_bins - 1, out=bins)
    hist = graph.histogram(bins, n_bins) / denom
    return count, mean_rel, hist


def local_order(graph: Neighbourhood, theta: np.ndarray) -> np.ndarray:
    """``(E, N)`` order parameter of each robot together with the neighbours it senses; 0 for a
    robot that senses none (alone, it has no one to be in order with)."""
    unit = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    total = unit + graph.sum(graph.of_sender(unit))
    count = graph.count()
    return np.where(count > 0, np.linalg.norm(total, axis=-1) / (count + 1), 0.0)


def complete_angle_summary(theta: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`relative_angle_summary` for the complete graph (every robot senses all others).

    The count and mean are O(N) from the swarm's sums (``sum_j cos(theta_j - theta_i) = C cos
    theta_i + S sin theta_i``); the histogram compares all pairs, ``(E, N, N)``, so it is only
    for moderate N.
    """
    E, N = theta.shape
    count = np.full((E, N), N - 1, dtype=np.int64)
    c, s = np.cos(theta), np.sin(theta)
    C, S = c.sum(axis=-1, keepdims=True), s.sum(axis=-1, keepdims=True)
    denom = max(N - 1, 1)
    # Minus the robot's own term: cos(0) = 1, sin(0) = 0.
    mean_rel = np.stack([(C * c + S * s - 1.0) / denom, (S * c - C * s) / denom], axis=-1)
    if N == 1:
        mean_rel[:] = 0.0
    if n_bins == 0:
        return count, mean_rel, np.zeros((E, N, 0))
    rel = theta[:, None, :] - theta[:, :, None]  # (E, i, j): theta_j - theta_i
    bins = np.floor((wrap_angle(rel) + np.pi) * (n_bins / TWO_PI)).astype(np.int64)
    np.clip(bins, 0, n_bins - 1, out=bins)
    others = ~np.eye(N, dtype=bool)
    receiver = np.broadcast_to(np.arange(E * N).reshape(E, N, 1), rel.shape)
    flat = np.bincount((receiver * n_bins + bins)[:, others].ravel(), minlength=E * N * n_bins)
    return count, mean_rel, flat.reshape(E, N, n_bins) / denom


def rotate(vectors: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate ``vectors (..., 2)`` by ``-angle`` (broadcast over the leading axes): world frame ->
    the body frame of a robot heading ``angle``."""
    c, s = np.cos(angle), np.sin(angle)
    x, y = vectors[..., 0], vectors[..., 1]
    return np.stack([c * x + s * y, -s * x + c * y], axis=-1)


@dataclass(frozen=True)
class MeanField:
    """The empirical distribution of a swarm's states: ``mu^N = (1/N) sum_i delta(x_i)``.

    Every robot carries weight ``1 / N``; ``samples[e, i]`` is robot ``i``'s state in copy ``e``.
    Features are laid out as ``names`` says; coordinates lie in ``[low, high]`` and features with
    ``periodic`` True wrap around (a torus axis or an angle), so a kernel on them should use the
    periodic distance. A mean-field trainer reads this (for a kernel mean embedding or a
    histogram) instead of the task's internal arrays.

    Attributes:
        samples: ``(E, N, S)`` float64 robot states.
        names: ``(S,)`` feature names, e.g. ``("x", "y", "heading")``.
        low: ``(S,)`` lower bounds.
        high: ``(S,)`` upper bounds.
        periodic: ``(S,)`` whether each feature wraps around from ``high`` to ``low``.
    """

    samples: np.ndarray
    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    periodic: np.ndarray

    def histogram(self, bins: int) -> np.ndarray:
        """``(E, bins ** S)`` fractions of robots per cell of a regular grid over ``[low, high]``."""
        E, N, S = self.samples.shape
        scaled = (self.samples - self.low) / (self.high - self.low)
        cell = np.clip(np.floor(scaled * bins).astype(np.int64), 0, bins - 1)
        flat = np.ravel_multi_index(tuple(cell[..., s] for s in range(S)), (bins,) * S)
        keys = (np.arange(E)[:, None] * bins**S + flat).ravel()
        return np.bincount(keys, minlength=E * bins**S).reshape(E, -1) / N
