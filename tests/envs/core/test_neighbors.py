"""Unit tests of neighbour sensing (k nearest, radius pairs) and the communication graph."""

from __future__ import annotations

import numpy as np
import pytest

from swarmzoo.envs.core.arena import Arena, min_image
from swarmzoo.envs.core.neighbors import DENSE_MAX, comm_graph, knn, radius_pairs

WALLS = Arena(width=2.0, height=1.4, boundary="walls")
TORUS = Arena(width=2.0, height=1.4, boundary="torus")
ARENAS = [pytest.param(WALLS, id="walls"), pytest.param(TORUS, id="torus")]


def _points(seed: int, E: int, n: int, arena: Arena) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-arena.half, arena.half, size=(E, n, 2))


def _brute_distances(query, points, arena):
    delta = min_image(points[:, None, :, :] - query[:, :, None, :], arena)
    return np.linalg.norm(delta, axis=-1), delta


def _brute_knn(query, points, k, arena, radius=None, exclude_self=False):
    """Reference: sorted neighbours per query point, by Python loops."""
    dist, delta = _brute_distances(query, points, arena)
    E, Q, P = dist.shape
    index = np.full((E, Q, k), -1)
    out_dist = np.full((E, Q, k), np.inf)
    out_delta = np.zeros((E, Q, k, 2))
    for e in range(E):
        for q in range(Q):
            cands = [
                p
                for p in range(P)
                if not (exclude_self and p == q) and (radius is None or dist[e, q, p] <= radius)
            ]
            cands.sort(key=lambda p: dist[e, q, p])
            for s, p in enumerate(cands[:k]):
                index[e, q, s] = p
                out_dist[e, q, s] = dist[e, q, p]
                out_delta[e, q, s] = delta[e, q, p]
    return index, out_dist, out_delta


@pytest.mark.parametrize("arena", ARENAS)
@pytest.mark.parametrize("radius", [None, 0.35])
@pytest.mark.parametrize("exclude_self", [False, True])
@pytest.mark.parametrize("k", [1, 4, 70])
def test_knn_dense_and_tree_agree_with_brute_force(arena, radius, exclude_self, k) -> None:
    pts = _points(0, 2, 60, arena)
    query = pts if exclude_self else _points(1, 2, 25, arena)
    ref_index, ref_dist, ref_delta = _brute_knn(query, pts, k, arena, radius, exclude_self)
    for method in ("dense", "tree"):
        nb = knn(query, pts, k, arena, radius=radius, exclude_self=exclude_self, method=method)
        assert nb.index.shape == nb.dist.shape == nb.mask.shape == (2, query.shape[1], k)
        assert nb.delta.shape == (2, query.shape[1], k, 2)
        np.testing.assert_array_equal(nb.index, ref_index, err_msg=method)
        np.testing.assert_allclose(nb.dist, ref_dist, atol=1e-12, err_msg=method)
        np.testing.assert_allclose(nb.delta, ref_delta, atol=1e-12, err_msg=method)
        np.testing.assert_array_equal(nb.mask, ref_index >= 0, err_msg=method)


@pytest.mark.parametrize("arena", ARENAS)
def test_knn_auto_uses_tree_for_large_sets_and_agrees(arena) -> None:
    n = DENSE_MAX + 72
    pts = _points(2, 1, n, arena)
    auto = knn(pts, pts, 6, arena, radius=0.2, exclude_self=True)
    dense = knn(pts, pts, 6, arena, radius=0.2, exclude_self=True, method="dense")
    np.testing.assert_array_equal(auto.index, dense.index)
    np.testing.assert_allclose(auto.dist, dense.dist, atol=1e-12)
    np.testing.assert_allclose(auto.delta, dense.delta, atol=1e-12)


@pytest.mark.parametrize("method", ["dense", "tree"])
def test_knn_radius_limit_exclude_self_and_padding(method) -> None:
    arena = WALLS
    pts = _points(3, 3, 30, arena)
    nb = knn(pts, pts, 40, arena, radius=0.3, exclude_self=True, method=method)
    dist, _ = _brute_distances(pts, pts, arena)
    within = (dist <= 0.3) & ~np.eye(30, dtype=bool)
    # Exactly the robots within the radius are sensed, never the query point itself.
    np.testing.assert_array_equal(nb.mask.sum(-1), within.sum(-1))
    assert np.all(nb.index != np.arange(30)[None, :, None])
    assert np.all(nb.dist[nb.mask] <= 0.3)
    # Real neighbours first, nearest first.
    assert np.all(np.diff(nb.mask.astype(int), axis=-1) <= 0)
    finite_dist = np.where(nb.mask, nb.dist, 1e9)
    assert np.all(np.diff(finite_dist, axis=-1) >= 0)
    # Empty slots are padded: index -1, inf distance, zero displacement.
    empty = ~nb.mask
    assert empty.any()
    assert np.all(nb.index[empty] == -1)
    assert np.all(np.isinf(nb.dist[empty]))
    np.testing.assert_array_equal(nb.delta[empty], 0.0)


@pytest.mark.parametrize("method", ["dense", "tree"])
def test_knn_more_slots_than_points(method) -> None:
    pts = _points(4, 1, 3, WALLS)
    nb = knn(pts, pts, 5, WALLS, exclude_self=True, method=method)
    assert nb.mask.shape == (1, 3, 5)
    np.testing.assert_array_equal(nb.mask.sum(-1), 2)
    np.testing.assert_array_equal(nb.mask[..., :2], True)
    np.testing.assert_array_equal(nb.index[..., 2:], -1)
    nb = knn(pts, pts[:, :1], 3, WALLS, method=method)
    np.testing.assert_array_equal(nb.index[..., 0], 0)
    np.testing.assert_array_equal(nb.mask[..., 1:], False)


def test_knn_empty_cases() -> None:
    q = _points(5, 2, 4, WALLS)
    nb = knn(q, np.zeros((2, 0, 2)), 3, WALLS)
    assert nb.index.shape == (2, 4, 3) and not nb.mask.any()
    assert np.all(nb.index == -1) and np.all(np.isinf(nb.dist))
    nb = knn(q, q, 0, WALLS)
    assert nb.index.shape == (2, 4, 0) and nb.delta.shape == (2, 4, 0, 2)


def test_knn_finds_neighbour_across_the_torus_seam() -> None:
    pts = np.array([[[-0.98, 0.0], [0.98, 0.0], [0.0, 0.0]]])
    for method in ("dense", "tree"):
        nb = knn(pts, pts, 1, TORUS, exclude_self=True, method=method)
        assert nb.index[0, 0, 0] == 1
        np.testing.assert_allclose(nb.delta[0, 0, 0], [-0.04, 0.0], atol=1e-12)
        np.testing.assert_allclose(nb.dist[0, 0, 0], 0.04, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": -1}, "k must be"),
        ({"radius": 0.0}, "radius"),
        ({"radius": -1.0}, "radius"),
        ({"method": "octree"}, "method"),
    ],
)
def test_knn_rejects_bad_arguments(kwargs, match) -> None:
    pts = _points(6, 1, 4, WALLS)
    args = {"k": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        knn(pts, pts, arena=WALLS, **args)


def _brute_pairs(pos, radius, arena):
    dist, _ = _brute_distances(pos, pos, arena)
    E, N = pos.shape[:2]
    return {(e, i, j) for e in range(E) for i in range(N) for j in range(i + 1, N) if dist[e, i, j] < radius}


@pytest.mark.parametrize("arena", ARENAS)
@pytest.mark.parametrize("n", [2, 40, DENSE_MAX + 30])
def test_radius_pairs_dense_tree_and_brute_force_agree(arena, n) -> None:
    pos = _points(7, 2, n, arena)
    radius = 0.3 if n > 2 else 2.5  # two points: a radius that links them
    ref = _brute_pairs(pos, radius, arena)
    assert ref
    for method in ("dense", "tree", "auto"):
        env, i, j = radius_pairs(pos, radius, arena, method=method)
        assert len(env) == len(i) == len(j)
        assert np.all(i < j)
        got = set(zip(env.tolist(), i.tolist(), j.tolist(), strict=True))
        assert len(got) == len(env), "duplicate pairs"
        assert got == ref, method


def test_radius_pairs_small_inputs_and_bad_radius() -> None:
    env, i, j = radius_pairs(np.zeros((3, 1, 2)), 1.0, WALLS)
    assert len(env) == len(i) == len(j) == 0
    with pytest.raises(ValueError, match="radius"):
        radius_pairs(np.zeros((1, 3, 2)), 0.0, WALLS)


@pytest.mark.parametrize("arena", ARENAS)
@pytest.mark.parametrize("method", ["dense", "tree"])
def test_comm_graph_matches_brute_force(arena, method) -> None:
    pos = _points(8, 2, 35, arena)
    radius = 0.4
    g = comm_graph(pos, radius, arena, method=method)
    dist, _ = _brute_distances(pos, pos, arena)
    expect = (dist < radius) & ~np.eye(35, dtype=bool)
    adj = g.adjacency()
    np.testing.assert_array_equal(adj, expect)
    np.testing.assert_array_equal(adj, np.swapaxes(adj, 1, 2))
    np.testing.assert_array_equal(g.degree, expect.sum(axis=2))
    assert g.n_envs == 2 and g.n_agents == 35
    assert len(g.src) == len(g.dst) == len(g.env) == expect.sum()


def test_comm_graph_padded_lists_exactly_the_heard_robots() -> None:
    pos = _points(9, 2, 30, WALLS)
    g = comm_graph(pos, 0.45, WALLS)
    max_degree = int(g.degree.max())
    idx, mask = g.padded(max_degree + 2)
    assert idx.shape == mask.shape == (2, 30, max_degree + 2)
    np.testing.assert_array_equal(mask, idx >= 0)
    np.testing.assert_array_equal(mask.sum(-1), g.degree)
    adj = g.adjacency()
    for e in range(2):
        for i in range(30):
            assert set(idx[e, i][mask[e, i]].tolist()) == set(np.flatnonzero(adj[e, i]).tolist())
    # Exactly enough slots is fine; one fewer is refused.
    g.padded(max_degree)
    with pytest.raises(ValueError, match="max_degree"):
        g.padded(max_degree - 1)


def test_comm_graph_padded_with_isolated_robots() -> None:
    """Nobody hears anybody: a zero-width padding is valid and must not crash."""
    pos = np.array([[[-0.9, -0.6], [0.9, 0.6]]])
    g = comm_graph(pos, 0.1, WALLS)
    np.testing.assert_array_equal(g.degree, 0)
    idx, mask = g.padded(2)
    assert np.all(idx == -1) and not mask.any()
    idx, mask = g.padded(0)
    assert idx.shape == mask.shape == (1, 2, 0)
