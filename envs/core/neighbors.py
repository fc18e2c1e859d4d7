"""Neighbour sensing and the communication graph, batched over env copies.

Two back ends give the same answers:

* ``dense``: all pairwise displacements ``(E, Q, P, 2)``, vectorised over envs and agents. Fastest
  for small swarms (P <= ``DENSE_MAX``) and for many env copies at once.
* ``tree``: one ``scipy.spatial.cKDTree`` per env copy, O(N log N); the only choice for large
  swarms (1,000+ robots) where an N x N matrix would dominate time and memory. Periodic arenas
  use the tree's ``boxsize`` so wrap-around neighbours are found.

``method="auto"`` picks ``dense`` when the target set has at most ``DENSE_MAX`` points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from swarmzoo.envs.core.arena import Arena, min_image

DENSE_MAX = 128
Method = Literal["auto", "dense", "tree"]


@dataclass
class Neighbors:
    """The ``k`` nearest targets of each query point, nearest first, padded to a fixed size.

    Attributes:
        index: ``(E, Q, k)`` target indices, ``-1`` in empty slots.
        delta: ``(E, Q, k, 2)`` displacement target minus query (minimum image on a torus),
            ``0`` in empty slots.
        dist: ``(E, Q, k)`` distances, ``inf`` in empty slots.
        mask: ``(E, Q, k)`` True where the slot holds a real neighbour.
    """

    index: np.ndarray
    delta: np.ndarray
    dist: np.ndarray
    mask: np.ndarray


def _use_dense(method: Method, n_points: int) -> bool:
    if method not in ("auto", "dense", "tree"):
        raise ValueError(f"method must be 'auto', 'dense' or 'tree', got {method!r}")
    return method == "dense" or (method == "auto" and n_points <= DENSE_MAX)


def pairwise_delta(query: np.ndarray, points: np.ndarray, arena: Arena) -> np.ndarray:
    """Displacements ``points[j] - query[i]``: ``(E, Q, 2)``, ``(E, P, 2)`` -> ``(E, Q, P, 2)``."""
    return min_image(points[:, None, :, :] - query[:, :, None, :], arena)


def _tree(points: np.ndarray, arena: Arena) -> cKDTree:
    if arena.periodic:
        size = arena.size
        shifted = np.mod(points + arena.half, size)
        # cKDTree needs data in [0, boxsize): guard the float edge case mod() can return.
        shifted[shifted >= size] = 0.0
        return cKDTree(shifted, boxsize=size)
    return cKDTree(points)


def _tree_query_points(query: np.ndarray, arena: Arena) -> np.ndarray:
    if arena.periodic:
        shifted = np.mod(query + arena.half, arena.size)
        shifted[shifted >= arena.size] = 0.0
        return shifted
    return query


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
        return Neighbors(
            index=np.full((E, Q, k), -1, dtype=np.int64),
            delta=np.zeros((E, Q, k, 2)),
            dist=np.full((E, Q, k), np.inf),
            mask=np.zeros((E, Q, k), dtype=bool),
        )
    if _use_dense(method, P):
        index, dist = _knn_dense(query, points, k, arena, radius, exclude_self)
    else:
        index, dist = _knn_tree(query, points, k, arena, radius, exclude_self)
    mask = index >= 0
    safe = np.where(mask, index, 0)
    gathered = np.take_along_axis(points, safe.reshape(E, -1)[..., None], axis=1).reshape(E, Q, -1, 2)
    delta = min_image(gathered - query[:, :, None, :], arena)
    delta[~mask] = 0.0
    return Neighbors(index=index, delta=delta, dist=dist, mask=mask)


def _knn_dense(query, points, k, arena, radius, exclude_self):
    E, Q = query.shape[:2]
    P = points.shape[1]
    delta = pairwise_delta(query, points, arena)
    d2 = np.einsum("eqpd,eqpd->eqp", delta, delta)
    if exclude_self:
        d2[:, np.arange(Q), np.arange(Q)] = np.inf
    if radius is not None:
        d2[d2 > radius * radius] = np.inf
    kk = min(k, P)
    if kk < P:
        part = np.argpartition(d2, kk - 1, axis=-1)[..., :kk]
        part_d2 = np.take_along_axis(d2, part, axis=-1)
    else:
        part = np.broadcast_to(np.arange(P), d2.shape).copy()
        part_d2 = d2
    order = np.argsort(part_d2, axis=-1, kind="stable")
    index = np.take_along_axis(part, order, axis=-1)
    dist = np.sqrt(np.take_along_axis(part_d2, order, axis=-1))
    index = np.where(np.isfinite(dist), index, -1)
    if kk < k:
        pad = k - kk
        index = np.concatenate([index, np.full((E, Q, pad), -1, dtype=index.dtype)], axis=-1)
        dist = np.concatenate([dist, np.full((E, Q, pad), np.inf)], axis=-1)
    return index.astype(np.int64), dist


def _knn_tree(query, points, k, arena, radius, exclude_self):
    E, Q = query.shape[:2]
    P = points.shape[1]
    extra = 1 if exclude_self else 0
    kq = min(k + extra, P)
    bound = np.inf if radius is None else radius * (1 + 1e-12)
    index = np.full((E, Q, k), -1, dtype=np.int64)
    dist = np.full((E, Q, k), np.inf)
    for e in range(E):
        tree = _tree(points[e], arena)
        d, i = tree.query(_tree_query_points(query[e], arena), k=kq, distance_upper_bound=bound)
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
        pairs = _tree(pos[e], arena).query_pairs(radius, output_type="ndarray")
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
