"""The dense back end of neighbour sensing: all pairwise displacements, env axis last.

For small swarms (up to ``DENSE_MAX`` targets, see :mod:`~swarmzoo.envs.core.neighbors`, which
picks the back end) every query point's displacement to every target is computed at once,
vectorised over envs and agents.

Layout: public arrays keep the env axis first, ``(E, Q, P, ...)``, but the dense work runs on
their transposes (``x.T``, env axis last, C-contiguous; see :func:`env_last`). With many env
copies of a small swarm the env axis is the only long one, and numpy's inner loops only run fast
when they are long: ``pos[:, :, None] - pos[:, None]`` on ``(1024, 3, 2)`` loops three elements
at a time, its transpose loops 1,024. Results are handed back as transposed views, so shapes and
values are unchanged.

Building blocks, for tasks that reuse one distance matrix several times (say the goal distances
of the reward, the infos and the observation): :func:`pairwise` and :func:`pairwise_others` give a
:class:`Pairwise`, whose :meth:`~Pairwise.nearest` is :func:`~swarmzoo.envs.core.neighbors.knn`
and whose :meth:`~Pairwise.offsets` is what an observation needs
(:func:`~swarmzoo.envs.core.neighbors.nearest_offsets` picks dense or tree). :func:`pair_table`
holds the constant index tables of the unordered pairs of N points.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from swarmzoo.envs.core.arena import Arena, min_image
from swarmzoo.envs.core.scratch import Scratch, empty, scratch_out

# Up to this many candidates the dense k-nearest ranks them by pairwise comparison (vectorised
# over envs and queries); beyond it a per-row argpartition / argsort is cheaper.
RANK_MAX = 6


def env_last(x: np.ndarray) -> np.ndarray:
    """The C-contiguous transpose of ``x`` (``(E, ...)`` -> ``(..., E)``), the working layout of
    the dense path. Free (a view) when ``x`` is itself the transpose of a C-contiguous array."""
    return np.ascontiguousarray(x.T)


def env_major(obs: np.ndarray, scratch: Scratch | None) -> np.ndarray:
    """A fresh C-contiguous ``(E, N, D)`` copy of feature-major ``obs (D, N, E)`` (how an env
    hands out an observation built in the dense path's layout); ``scratch`` holds the work array."""
    if scratch is None:
        return obs.T.copy()
    # For big batches two transposes beat numpy's one 3-D transpose: (D, N E) -> (N E, D) is a
    # plain 2-D transpose, and (N, E, D) -> (E, N, D) then moves whole D-long rows.
    D, N, E = obs.shape
    rows = scratch.empty("obs_rows", (N * E, D), obs.dtype)
    np.copyto(rows, obs.reshape(D, N * E).T)
    return rows.reshape(N, E, D).transpose(1, 0, 2).copy()


@dataclass(frozen=True)
class PairTable:
    """Index tables over the unordered pairs of ``n`` points (constant; see :func:`pair_table`).

    ``P = n (n - 1) / 2`` pairs in row-major upper-triangle order, ``S = n - 1`` partners per point.

    Attributes:
        first: ``(P,)`` lower index of each pair.
        second: ``(P,)`` higher index of each pair.
        partner: ``(S, n)`` the other points of each point, ascending.
        partner_pair: ``(S, n)`` pair index of ``(point, partner)``.
        partner_is_first: ``(S, n)`` True where the point is the pair's ``first``.
        partner_sign: ``(S, n)`` ``+1.0`` where the point is the pair's ``first``, else ``-1.0``.
    """

    first: np.ndarray
    second: np.ndarray
    partner: np.ndarray
    partner_pair: np.ndarray
    partner_is_first: np.ndarray
    partner_sign: np.ndarray


@functools.lru_cache(maxsize=64)
def pair_table(n: int) -> PairTable:
    """The (cached, read-only) :class:`PairTable` of ``n`` points."""
    first, second = np.triu_indices(n, k=1)
    pair_id = np.zeros((n, n), dtype=np.intp)
    pair_id[first, second] = pair_id[second, first] = np.arange(len(first))
    partner = np.nonzero(~np.eye(n, dtype=bool))[1].reshape(n, n - 1).T
    point = np.arange(n)[None, :]
    is_first = point < partner
    table = PairTable(
        first=first.astype(np.intp),
        second=second.astype(np.intp),
        partner=partner.astype(np.intp),
        partner_pair=pair_id[point, partner],
        partner_is_first=is_first,
        partner_sign=np.where(is_first, 1.0, -1.0),
    )
    for arr in vars(table).values():
        arr.setflags(write=False)
    return table


def min_image_t(delta: np.ndarray, arena: Arena) -> np.ndarray:
    """:func:`min_image` for env-last displacements ``(2, ...)`` (coordinate axis first)."""
    if not arena.periodic:
        return delta
    size = arena.size.reshape((2,) + (1,) * (delta.ndim - 1))
    return delta - size * np.round(delta / size)


@dataclass(slots=True)
class Pairwise:
    """Displacements from ``Q`` query points to ``P`` candidate targets each, env axis last.

    Attributes:
        delta: ``(2, P, Q, E)`` ``target - query`` (minimum image on a torus).
        d2: ``(P, Q, E)`` squared distances.
        targets: ``(P, Q)`` target index of each candidate, or None when candidate ``p`` is
            target ``p`` for every query (all targets are candidates).
    """

    delta: np.ndarray
    d2: np.ndarray
    targets: np.ndarray | None = None

    def nearest(self, k: int, radius: float | None = None) -> Neighbors:
        """The ``k`` nearest candidates of each query point (see
        :func:`~swarmzoo.envs.core.neighbors.knn`). The arrays are transposed views of env-last
        memory (:func:`env_last` of them is free)."""
        P, Q, E = self.d2.shape
        if k == 0 or P == 0:
            return empty_neighbors(E, Q, k)
        M = Q * E
        at, sel_d2, mask, delta = _dense_slots(self, k, radius, with_d2=True)
        index = np.full((k, M), -1, dtype=np.int64)
        kk = len(at)
        if self.targets is None:
            index[:kk] = at // M
        else:
            index[:kk] = np.repeat(self.targets.reshape(-1), E).take(at)
        if radius is not None:
            index[~mask] = -1
        shape = (k, Q, E)
        return Neighbors(
            index=index.reshape(shape).T,
            delta=delta.reshape(2, *shape).T,
            dist=np.sqrt(sel_d2).reshape(shape).T,
            mask=mask.reshape(shape).T,
        )

    def offsets(
        self, k: int, radius: float | None = None, scratch: Scratch | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """What a range sensor with ``k`` slots reports, env-last: displacements
        ``(2, k, Q, E)`` to the ``k`` nearest candidates (nearest first, zero in empty slots)
        and ``mask (k, Q, E)`` (True where a slot holds a candidate). :meth:`nearest` without
        the indices and distances. With a ``scratch`` the arrays live in its memory."""
        P, Q, E = self.d2.shape
        if k == 0 or P == 0:
            return np.zeros((2, k, Q, E)), np.zeros((k, Q, E), dtype=bool)
        _, _, mask, delta = _dense_slots(self, k, radius, scratch=scratch)
        return delta.reshape(2, k, Q, E), mask.reshape(k, Q, E)


def pairwise(query: np.ndarray, points: np.ndarray, arena: Arena, scratch: Scratch | None = None) -> Pairwise:
    """Every target a candidate of every query: ``(E, Q, 2)``, ``(E, P, 2)`` -> :class:`Pairwise`
    (``delta.T`` is :func:`pairwise_delta`'s ``(E, Q, P, 2)``). With a ``scratch`` the result
    lives in its memory (valid until the next call with that scratch)."""
    q = env_last(query)
    p = env_last(points)
    E, Q, P = query.shape[0], query.shape[1], points.shape[1]
    delta = np.subtract(p[:, :, None, :], q[:, None, :, :], out=scratch_out(scratch, "delta", (2, P, Q, E)))
    delta = min_image_t(delta, arena)
    return Pairwise(delta=delta, d2=squared_norm(delta, scratch_out(scratch, "d2", (P, Q, E))))


def pairwise_others(points: np.ndarray, arena: Arena, scratch: Scratch | None = None) -> Pairwise:
    """Each point's candidates are the other points, ascending: ``(E, N, 2)`` ->
    :class:`Pairwise` with ``N - 1`` candidates per point (no self entries to mask out)."""
    E, N = points.shape[:2]
    partner = pair_table(N).partner  # (N - 1, N)
    p = env_last(points)
    delta = np.subtract(p[:, partner], p[:, None], out=scratch_out(scratch, "delta", (2, N - 1, N, E)))
    delta = min_image_t(delta, arena)
    return Pairwise(
        delta=delta, d2=squared_norm(delta, scratch_out(scratch, "d2", (N - 1, N, E))), targets=partner
    )


def squared_norm(delta: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``dx * dx + dy * dy`` of env-last displacements ``(2, ...)`` (the same value as
    ``np.square(delta).sum(axis=0)``), into ``out`` if given."""
    d2 = np.square(delta[0], out=out)
    d2 += np.square(delta[1])
    return d2


@dataclass
class Neighbors:
    """The ``k`` nearest targets of each query point, nearest first, padded to a fixed size.

    Attributes:
        index: ``(E, Q, k)`` target indices, ``-1`` in empty slots.
        delta: ``(E, Q, k, 2)`` displacement target minus query (minimum image on a torus),
            ``0`` in empty slots.
        dist: ``(E, Q, k)`` distances, ``inf`` in empty slots.
        mask: ``(E, Q, k)`` True where the slot holds a real neighbour.

    From the dense path the arrays are transposed views of env-last memory (see
    :func:`env_last`), not C-contiguous.
    """

    index: np.ndarray
    delta: np.ndarray
    dist: np.ndarray
    mask: np.ndarray


def pairwise_delta(query: np.ndarray, points: np.ndarray, arena: Arena) -> np.ndarray:
    """Displacements ``points[j] - query[i]``: ``(E, Q, 2)``, ``(E, P, 2)`` -> ``(E, Q, P, 2)``."""
    return min_image(points[:, None, :, :] - query[:, :, None, :], arena)


def _dense_slots(
    pw: Pairwise,
    k: int,
    radius: float | None,
    with_d2: bool = False,
    scratch: Scratch | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """The k-nearest selection on a :class:`Pairwise` (``k >= 1``, ``P >= 1``), env-last.

    Returns:
        ``at (kk, M)`` flat positions in the ``(P, M = Q E)`` candidate arrays of the
        ``kk = min(k, P)`` nearest; their squared distances ``d2 (k, M)`` (``inf`` in empty
        slots; only if ``with_d2`` or ``radius``, else None); ``mask (k, M)`` and
        ``delta (2, k, M)`` (zero in empty slots).
    """
    P, Q, E = pw.d2.shape
    M = Q * E
    d2 = pw.d2.reshape(P, M)
    if radius is not None:
        d2 = np.where(d2 > radius * radius, np.inf, d2)
    kk = min(k, P)
    at = _rank_select(d2, kk) if P <= RANK_MAX else _sort_select(d2, kk)
    sel_d2 = None
    if with_d2 or radius is not None:
        sel_d2 = np.full((k, M), np.inf)  # slots beyond the P candidates stay empty
        d2.take(at, out=sel_d2[:kk])
        mask = sel_d2 < np.inf
    else:  # every candidate is in range: the first kk slots are full
        mask = empty(scratch, "mask", (k, M), bool)
        mask[:kk] = True
        mask[kk:] = False
    delta = empty(scratch, "slot_delta", (2, k, M))
    delta[:, kk:] = 0.0
    for c in range(2):
        pw.delta[c].take(at, out=delta[c, :kk])
    if radius is not None:  # out-of-range candidates sort last; empty their slots
        np.copyto(delta, 0.0, where=~mask)
    return at, sel_d2, mask, delta


def _rank_select(d2: np.ndarray, kk: int) -> np.ndarray:
    """Flat positions ``(kk, M)`` in ``d2 (P, M)`` of the ``kk`` smallest of each column,
    ascending, ties by index (as a stable argsort).

    A candidate's rank is the number of candidates that sort before it, counted over the
    ``P (P - 1) / 2`` pairs with one vectorised comparison each (cheap for small ``P``, where a
    per-column argsort would pay its call overhead ``M`` times).
    """
    P, M = d2.shape
    col = np.arange(M)
    if P == 1:
        return col[None]
    if P == 2:  # one comparison decides; ties keep index order
        at = np.empty((2, M), dtype=np.intp)
        np.multiply(d2[1] < d2[0], M, out=at[0])  # M where candidate 1 is the nearer
        np.subtract(M, at[0], out=at[1])
        at += col
        return at[:kk]
    pairs = pair_table(P)
    first_before = d2[pairs.first] <= d2[pairs.second]  # (pairs, M)
    # A candidate counts each partner that sorts before it: as a pair's second, when the first
    # comes before it; as a pair's first, when it does not.
    before_me = first_before[pairs.partner_pair] != pairs.partner_is_first[..., None]
    rank = np.add.reduce(before_me, axis=0)  # (P, M), a permutation of 0..P-1 in every column
    rank *= M
    rank += col
    at = np.empty(P * M, dtype=np.intp)
    at[rank.reshape(-1)] = np.arange(P * M)
    return at[: kk * M].reshape(kk, M)


def _sort_select(d2: np.ndarray, kk: int) -> np.ndarray:
    """As :func:`_rank_select`, by a per-column argpartition / argsort (for larger ``P``)."""
    P, M = d2.shape
    rows = np.ascontiguousarray(d2.T)  # (M, P)
    if kk < P:
        part = np.argpartition(rows, kk - 1, axis=-1)[:, :kk]
        part_d2 = np.take_along_axis(rows, part, axis=-1)
        order = np.take_along_axis(part, np.argsort(part_d2, axis=-1, kind="stable"), axis=-1)
    else:
        order = np.argsort(rows, axis=-1, kind="stable")
    return order.T * M + np.arange(M)


def empty_neighbors(E: int, Q: int, k: int) -> Neighbors:
    """A :class:`Neighbors` of ``E`` copies of ``Q`` queries with ``k`` slots, all empty."""
    return Neighbors(
        index=np.full((E, Q, k), -1, dtype=np.int64),
        delta=np.zeros((E, Q, k, 2)),
        dist=np.full((E, Q, k), np.inf),
        mask=np.zeros((E, Q, k), dtype=bool),
    )
