"""Neighbour sensing and the communication graph, batched over env copies.

Two back ends give the same answers:

* ``dense``: all pairwise displacements ``(E, Q, P, 2)``, vectorised over envs and agents
  (:mod:`~swarmzoo.envs.core.dense`). Fastest for small swarms (P <= ``DENSE_MAX``) and for many
  env copies at once.
* ``tree``: one ``scipy.spatial.cKDTree`` per env copy, O(N log N); the only choice for large
  swarms (1,000+ robots) where an N x N matrix would dominate time and memory. Periodic arenas
  use the tree's ``boxsize`` so wrap-around neighbours are found.

``method="auto"`` picks ``dense`` when the target set has at most ``DENSE_MAX`` points.

The dense back end's building blocks (:class:`~swarmzoo.envs.core.dense.Pairwise`,
:func:`~swarmzoo.envs.core.dense.pair_table`, ...) and the result type :class:`Neighbors` live in
:mod:`~swarmzoo.envs.core.dense` and are importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from swarmzoo.envs.core.arena import Arena, min_image
from swarmzoo.envs.core.dense import (
    RANK_MAX,
    Neighbors,
    PairTable,
    Pairwise,
    empty_neighbors,
    env_last,
    min_image_t,
    pair_table,
    pairwise,
    pairwise_delta,
    pairwise_others,
    squared_norm,
)
from swarmzoo.envs.core.scratch import Scratch

__all__ = [
    "DENSE_MAX",
    "RANK_MAX",
    "CommGraph",
    "Method",
    "Neighbors",
    "PairTable",
    "Pairwise",
    "comm_graph",
    "env_last",
    "kdtree",
    "knn",
    "min_image_t",
    "nearest_offsets",
    "pair_table",
    "pairwise",
    "pairwise_delta",
    "pairwise_others",
    "radius_pairs",
    "squared_norm",
    "tree_coordinates",
]

DENSE_MAX = 128
Method = Literal["auto", "dense", "tree"]


def _use_dense(method: Method, n_points: int) -> bool:
    if method not in ("auto", "dense", "tree"):
        raise ValueError(f"method must be 'auto', 'dense' or 'tree', got {method!r}")
    return method == "dense" or (method == "auto" and n_points <= DENSE_MAX)


def _to_box(x: np.ndarray, arena: Arena) -> np.ndarray:
    """Torus positions shifted into ``[0, size)``, the coordinates of a periodic cKDTree."""
    shifted = np.mod(x + arena.half, arena.size)
    # cKDTree needs data in [0, boxsize): guard the float edge case mod() can return.
    shifted[shifted >= arena.size] = 0.0
    return shifted


def kdtree(points: np.ndarray, arena: Arena) -> cKDTree:
    """A ``cKDTree`` over one copy's ``points (P, 2)``; periodic (``boxsize``) on a torus, where
    queries take :func:`tree_coordinates`."""
    if arena.periodic:
        return cKDTree(_to_box(points, arena), boxsize=arena.size)
    return cKDTree(points)


def tree_coordinates(query: np.ndarray, arena: Arena) -> np.ndarray:
    """Query points in the coordinates of :func:`kdtree` (shifted into the box on a torus)."""
    return _to_box(query, arena) if arena.periodic else query


def knn(
    query: np.ndarray,
    points: np.ndarray,
    k: int,
    arena: Arena,
    radius: float | None = None,
    exclude_self: bool = False,
    method: Method = "auto",
) -> Neighbors:
    """The ``k`` nearest ``points`` of every ``query`` point, optionally within ``radius``.

    Args:
        query: ``(E, Q, 2)`` query positions.
        points: ``(E, P, 2)`` target positions.
        k: slots per query (>= 0). Slots beyond the available targets are empty.
        arena: distances use the minimum image on a torus.
        radius: if given, targets farther than this are not sensed.
        exclude_self: ``query`` and ``points`` are the same set; a point is not its own neighbour.
        method: ``"auto"``, ``"dense"`` or ``"tree"``.

    Returns:
        A :class:`Neighbors` with ``(E, Q, k)`` slots.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if radius is not None and not radius > 0:
        raise ValueError(f"radius must be positive or None, got {radius!r}")
    E, Q = query.shape[:2]
    P = points.shape[1]
    if k == 0 or P == 0:
        return empty_neighbors(E, Q, k)
    if _use_dense(method, P):
        if exclude_self:
            return pairwise_others(points, arena).nearest(k, radius)
        return pairwise(query, points, arena).nearest(k, radius)
    index, dist = _knn_tree(query, points, k, arena, radius, exclude_self)
    mask = index >= 0
    safe = np.where(mask, index, 0)
    gathered = np.take_along_axis(points, safe.reshape(E, -1)[..., None], axis=1).reshape(E, Q, -1, 2)
    delta = min_image(gathered - query[:, :, None, :], arena)
    delta[~mask] = 0.0
    return Neighbors(index=index, delta=delta, dist=dist, mask=mask)


def nearest_offsets(
    query: np.ndarray,
    points: np.ndarray,
    k: int,
    arena: Arena,
    radius: float | None = None,
    exclude_self: bool = False,
    method: Method = "auto",
    scratch: Scratch | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`knn`'s displacements and mask alone (what an observation needs), env-last:
    ``delta (2, k, Q, E)`` and ``mask (k, Q, E)``; arguments as for :func:`knn` (with a
    ``scratch``, the arrays live in its memory)."""
    if _use_dense(method, points.shape[1]) and k >= 0 and (radius is None or radius > 0):
        if exclude_self:
            pairs = pairwise_others(points, arena, scratch)
        else:
            pairs = pairwise(query, points, arena, scratch)
        return pairs.offsets(k, radius, scratch)
    nb = knn(query, points, k, arena, radius, exclude_self, method)
    return nb.delta.T, nb.mask.T


def _knn_tree(query, points, k, arena, radius, exclude_self):
    E, Q = query.shape[:2]
    P = points.shape[1]
    extra = 1 if exclude_self else 0
    kq = min(k + extra, P)
    bound = np.inf if radius is None else radius * (1 + 1e-12)
    index = np.full((E, Q, k), -1, dtype=np.int64)
    dist = np.full((E, Q, k), np.inf)
    for e in range(E):
        tree = kdtree(points[e], arena)
        d, i = tree.query(tree_coordinates(query[e], arena), k=kq, distance_upper_bound=bound)
        d = d.reshape(Q, kq)
        i = i.reshape(Q, kq).astype(np.int64)
        if exclude_self:
            is_self = i == np.arange(Q)[:, None]
            # Move the self entry (if found) to the end, keep the others in distance order.
            order = np.argsort(is_self, axis=1, kind="stable")
            i = np.take_along_axis(i, order, axis=1)[:, : kq - 1]
            d = np.take_along_axis(d, order, axis=1)[:, : kq - 1]
        if radius is not None:
            d[d > radius] = np.inf
        i[~np.isfinite(d)] = -1
        n = min(k, i.shape[1])
        index[e, :, :n] = i[:, :n]
        dist[e, :, :n] = d[:, :n]
    return index, dist


def radius_pairs(
    pos: np.ndarray, radius: float, arena: Arena, method: Method = "auto"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All unordered pairs closer than ``radius``, over every env copy.

    Args:
        pos: ``(E, N, 2)`` positions.
        radius: pair distance threshold (strictly less than).

    Returns:
        ``(env, i, j)`` int arrays of equal length with ``i < j``.
    """
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius!r}")
    E, N = pos.shape[:2]
    if N < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if _use_dense(method, N):
        delta = pairwise_delta(pos, pos, arena)
        d2 = np.einsum("eijd,eijd->eij", delta, delta)
        close = (d2 < radius * radius) & np.triu(np.ones((N, N), dtype=bool), k=1)
        env, i, j = np.nonzero(close)
        return env, i, j
    envs, iis, jjs = [], [], []
    for e in range(E):
        pairs = kdtree(pos[e], arena).query_pairs(radius, output_type="ndarray")
        if len(pairs):
            delta = min_image(pos[e, pairs[:, 1]] - pos[e, pairs[:, 0]], arena)
            pairs = pairs[np.einsum("pd,pd->p", delta, delta) < radius * radius]
        lo = np.minimum(pairs[:, 0], pairs[:, 1])
        hi = np.maximum(pairs[:, 0], pairs[:, 1])
        envs.append(np.full(len(pairs), e, dtype=np.int64))
        iis.append(lo.astype(np.int64))
        jjs.append(hi.astype(np.int64))
    return np.concatenate(envs), np.concatenate(iis), np.concatenate(jjs)


@dataclass
class CommGraph:
    """Who can hear whom: an undirected graph per env copy, as directed edge lists.

    Attributes:
        n_envs: ``E``.
        n_agents: ``N``.
        env: ``(M,)`` env index of each directed edge.
        src: ``(M,)`` sender.
        dst: ``(M,)`` receiver. Every undirected link appears in both directions.
    """

    n_envs: int
    n_agents: int
    env: np.ndarray
    src: np.ndarray
    dst: np.ndarray

    @property
    def degree(self) -> np.ndarray:
        """``(E, N)`` number of robots each robot hears."""
        flat = np.bincount(self.env * self.n_agents + self.dst, minlength=self.n_envs * self.n_agents)
        return flat.reshape(self.n_envs, self.n_agents)

    def adjacency(self) -> np.ndarray:
        """Dense ``(E, N, N)`` bool adjacency (for small N and tests)."""
        adj = np.zeros((self.n_envs, self.n_agents, self.n_agents), dtype=bool)
        adj[self.env, self.dst, self.src] = True
        return adj

    def padded(self, max_degree: int) -> tuple[np.ndarray, np.ndarray]:
        """Senders heard by each robot, padded: ``(E, N, max_degree)`` indices (-1 empty) and mask.

        Raises:
            ValueError: if a robot hears more than ``max_degree`` others (nothing is dropped
                silently; use :func:`knn` with a radius to keep only the nearest).
        """
        deg = self.degree
        if deg.size and deg.max() > max_degree:
            raise ValueError(f"a robot hears {deg.max()} others, more than max_degree={max_degree}")
        out = np.full((self.n_envs, self.n_agents, max_degree), -1, dtype=np.int64)
        if len(self.dst) == 0:
            return out, out >= 0
        key = self.env * self.n_agents + self.dst
        order = np.argsort(key, kind="stable")
        key_sorted = key[order]
        starts = np.searchsorted(key_sorted, key_sorted, side="left")
        slot = np.arange(len(key_sorted)) - starts
        out.reshape(-1, max_degree)[key_sorted, slot] = self.src[order]
        return out, out >= 0


def comm_graph(pos: np.ndarray, radius: float, arena: Arena, method: Method = "auto") -> CommGraph:
    """Robots within ``radius`` of each other can hear each other: ``(E, N, 2)`` -> CommGraph."""
    env, i, j = radius_pairs(pos, radius, arena, method)
    return CommGraph(
        n_envs=pos.shape[0],
        n_agents=pos.shape[1],
        env=np.concatenate([env, env]),
        src=np.concatenate([i, j]),
        dst=np.concatenate([j, i]),
    )
