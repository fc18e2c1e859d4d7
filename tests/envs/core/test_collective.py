"""Unit tests of the collective-behaviour core: angles, order parameters, neighbourhoods."""

from __future__ import annotations

import numpy as np
import pytest

from swarmzoo.envs.core.arena import Arena, min_image
from swarmzoo.envs.core.collective import (
    MeanField,
    complete_angle_summary,
    local_order,
    neighbourhood,
    order_parameter,
    relative_angle_summary,
    rotate,
    wrap_angle,
)


def _edges(graph):
    return sorted(zip(graph.env.tolist(), graph.src.tolist(), graph.dst.tolist()))


def test_wrap_angle_range_and_identity():
    theta = np.array([-10.0, -np.pi, -1e-18, 0.0, np.pi, 3 * np.pi, 7.5])
    out = wrap_angle(theta)
    assert (out >= -np.pi).all() and (out < np.pi).all()
    np.testing.assert_allclose(np.cos(out), np.cos(theta), atol=1e-12)
    np.testing.assert_allclose(np.sin(out), np.sin(theta), atol=1e-12)


def test_order_parameter_extremes():
    assert order_parameter(np.full((1, 10), 0.7))[0] == pytest.approx(1.0)
    evenly = np.linspace(-np.pi, np.pi, 12, endpoint=False)[None]
    assert order_parameter(evenly)[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("boundary", ["walls", "torus"])
def test_neighbourhood_dense_and_tree_agree_with_brute_force(boundary):
    rng = np.random.default_rng(0)
    arena = Arena(4.0, 3.0, boundary)
    pos = rng.uniform(-arena.half, arena.half, size=(3, 60, 2))
    dense = neighbourhood(pos, 0.8, arena, "dense")
    tree = neighbourhood(pos, 0.8, arena, "tree")
    assert _edges(dense) == _edges(tree)
    expected = []
    for e in range(3):
        for i in range(60):
            for j in range(60):
                if i != j and np.linalg.norm(min_image(pos[e, j] - pos[e, i], arena)) < 0.8:
                    expected.append((e, j, i))  # (env, src, dst)
    assert _edges(dense) == sorted(expected)
    np.testing.assert_allclose(
        dense.delta, min_image(pos[dense.env, dense.src] - pos[dense.env, dense.dst], arena)
    )


def test_neighbourhood_sum_count_and_histogram_match_loops():
    rng = np.random.default_rng(1)
    arena = Arena(3.0, 3.0, "torus")
    pos = rng.uniform(-1.5, 1.5, size=(2, 40, 2))
    theta = rng.uniform(-np.pi, np.pi, size=(2, 40))
    graph = neighbourhood(pos, 0.9, arena)
    count, mean_rel, hist = relative_angle_summary(graph, theta, n_bins=6)
    for e in range(2):
        for i in range(40):
            d = np.linalg.norm(min_image(pos[e] - pos[e, i], arena), axis=1)
            nb = np.flatnonzero((d < 0.9) & (np.arange(40) != i))
            assert count[e, i] == len(nb)
            rel = theta[e, nb] - theta[e, i]
            if len(nb):
                np.testing.assert_allclose(
                    mean_rel[e, i], [np.cos(rel).mean(), np.sin(rel).mean()], atol=1e-12
                )
                bins = np.floor((wrap_angle(rel) + np.pi) / (2 * np.pi / 6)).astype(int)
                np.testing.assert_allclose(hist[e, i], np.bincount(bins, minlength=6) / len(nb))
            else:
                assert not mean_rel[e, i].any() and not hist[e, i].any()


def test_complete_summary_equals_radius_graph_covering_everyone():
    rng = np.random.default_rng(2)
    arena = Arena(2.0, 2.0, "walls")
    pos = rng.uniform(-1, 1, size=(2, 25, 2))
    theta = rng.uniform(-np.pi, np.pi, size=(2, 25))
    everyone = neighbourhood(pos, 10.0, arena)  # radius beyond the diagonal: complete graph
    a = relative_angle_summary(everyone, theta, 8)
    b = complete_angle_summary(theta, 8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], atol=1e-12)
    np.testing.assert_allclose(a[2], b[2], atol=1e-12)
    # One robot alone: no neighbours, zero summaries.
    count, mean_rel, hist = complete_angle_summary(theta[:, :1], 4)
    assert not count.any() and not mean_rel.any() and not hist.any()


def test_local_order_is_one_for_aligned_neighbourhoods_and_zero_alone():
    arena = Arena(10.0, 10.0, "walls")
    pos = np.array([[[0.0, 0.0], [0.5, 0.0], [5.0, 5.0]]])  # a pair and a lone robot
    theta = np.array([[0.3, 0.3, 2.0]])
    np.testing.assert_allclose(local_order(neighbourhood(pos, 1.0, arena), theta), [[1.0, 1.0, 0.0]])
    theta = np.array([[0.0, np.pi, 2.0]])
    np.testing.assert_allclose(
        local_order(neighbourhood(pos, 1.0, arena), theta), [[0.0, 0.0, 0.0]], atol=1e-12
    )


def test_rotate_into_body_frame():
    ahead = rotate(np.array([[np.cos(0.4), np.sin(0.4)]]), np.array([0.4]))
    np.testing.assert_allclose(ahead, [[1.0, 0.0]], atol=1e-12)
    left = rotate(np.array([[0.0, 1.0]]), np.array([0.0]))
    np.testing.assert_allclose(left, [[0.0, 1.0]], atol=1e-12)


def test_mean_field_histogram_is_a_permutation_invariant_distribution():
    rng = np.random.default_rng(3)
    samples = rng.uniform(-1, 1, size=(2, 30, 2))
    mf = MeanField(
        samples, ("x", "y"), np.array([-1.0, -1.0]), np.array([1.0, 1.0]), np.array([False, False])
    )
    h = mf.histogram(4)
    assert h.shape == (2, 16)
    np.testing.assert_allclose(h.sum(axis=1), 1.0)
    shuffled = MeanField(samples[:, rng.permutation(30)], mf.names, mf.low, mf.high, mf.periodic)
    np.testing.assert_array_equal(shuffled.histogram(4), h)


@pytest.mark.parametrize("boundary", ["walls", "torus"])
@pytest.mark.parametrize("k", [3, 32, 400])
def test_capped_neighbourhood_tree_dense_and_brute_force_agree(boundary, k):
    """The k-d tree and dense paths sense each robot's k nearest robots within the radius, with
    ranks in distance order, a crowd included."""
    rng = np.random.default_rng(4)
    arena = Arena(20.0, 15.0, boundary)
    pos = rng.uniform(-arena.half, arena.half, size=(1, 300, 2))
    pos[0, :100] = rng.normal(0.0, 0.2, size=(100, 2))  # a crowd
    tree = neighbourhood(pos, 1.0, arena, "tree", max_neighbours=k)
    dense = neighbourhood(pos, 1.0, arena, "dense", max_neighbours=k)
    links = sorted(zip(tree.dst.tolist(), tree.src.tolist(), tree.rank.tolist()))
    assert links == sorted(zip(dense.dst.tolist(), dense.src.tolist(), dense.rank.tolist()))
    d = np.linalg.norm(min_image(pos[0, None] - pos[0, :, None], arena), axis=-1)  # [dst, src]
    np.fill_diagonal(d, np.inf)
    expected = []
    for i in range(300):
        near = [j for j in np.argsort(d[i], kind="stable") if d[i, j] < 1.0][:k]
        expected += [(i, int(j), r) for r, j in enumerate(near)]
    assert links == sorted(expected)
    delta, mask = tree.nearest(2)
    np.testing.assert_array_equal(mask[0].sum(axis=1), np.minimum((d < 1.0).sum(axis=1), min(2, k)))
