"""Pareto-front indicators against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from swarmzoo.algorithms.common.pareto import (
    dominates,
    hypervolume,
    non_dominated,
    set_coverage,
    sparsity,
    weight_grid,
)


def test_non_dominated_keeps_the_front_once():
    points = [[1, 0], [0, 1], [0.5, 0.5], [0.4, 0.4], [1, 0], [0.2, 1]]
    front = non_dominated(points)
    np.testing.assert_array_equal(front, [[0.2, 1.0], [0.5, 0.5], [1.0, 0.0]])
    assert dominates(np.array([1, 1]), np.array([1, 0])) and not dominates(np.array([1, 0]), np.array([1, 0]))


def test_hypervolume_of_staircases():
    assert hypervolume([[1.0, 1.0]], [0.0, 0.0]) == pytest.approx(1.0)
    # Two boxes 2x1 and 1x2 overlapping in 1x1: 3.
    assert hypervolume([[2.0, 1.0], [1.0, 2.0]], [0.0, 0.0]) == pytest.approx(3.0)
    # Dominated points and points below the reference add nothing.
    assert hypervolume([[2.0, 1.0], [1.0, 2.0], [0.5, 0.5], [-1.0, 5.0]], [0.0, 0.0]) == pytest.approx(3.0)
    assert hypervolume([[-1.0, -1.0]], [0.0, 0.0]) == 0.0
    # Negative returns (costs) with a reference below them.
    assert hypervolume([[-1.0, -2.0]], [-3.0, -3.0]) == pytest.approx(2.0)
    assert hypervolume([[1.0, 1.0, 1.0]], [0.0, 0.0, 0.0]) == pytest.approx(1.0)


def test_sparsity_and_coverage():
    assert sparsity([[0, 2], [1, 1], [2, 0]]) == pytest.approx((1 + 1 + 1 + 1) / 2)
    assert sparsity([[0, 3], [2.5, 0.5], [3, 0]]) > sparsity([[0, 3], [1.5, 1.5], [3, 0]])  # uneven gaps
    assert sparsity([[1, 1]]) == 0.0
    a, b = [[2, 2], [3, 0]], [[1, 1], [3, 0], [0, 3]]
    assert set_coverage(a, b) == pytest.approx(2 / 3)
    assert set_coverage(b, a) == pytest.approx(1 / 2)


def test_weight_grid_covers_the_simplex():
    grid = weight_grid(2, 4)
    np.testing.assert_allclose(grid, [[1, 0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0, 1]])
    three = weight_grid(3, 3)
    assert len(three) == 10 and np.allclose(three.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: hypervolume([1.0, 2.0], [0.0, 0.0]), r"shape \(P, K\)"),
        (lambda: hypervolume([[1.0, 2.0]], [0.0]), "reference must be 2"),
        (lambda: non_dominated([[np.nan, 1.0]]), "finite"),
        (lambda: set_coverage([[1, 2]], [[1, 2, 3]]), "same objectives"),
        (lambda: weight_grid(2, 0), "steps >= 1"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
