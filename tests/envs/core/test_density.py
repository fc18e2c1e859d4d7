"""Unit tests of the density helpers in ``core.density`` that ``coverage-v0`` observes and
scores with: the trajectory histogram (:func:`visit_counts`) and the egocentric crops."""

from __future__ import annotations

import numpy as np

from swarmzoo.envs import coverage
from swarmzoo.envs.core import density
from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.density import DemandGrid, egocentric_crops, visit_counts

ARENA = Arena(width=2.0, height=1.0, boundary="walls")


def test_visit_counts_bins_points_and_clips_outside_ones_to_the_edge() -> None:
    grid = DemandGrid((2, 4), ARENA)  # cells 0.5 x 0.5, row 0 at the top
    points = np.array(
        [
            [[-0.9, 0.4], [0.9, -0.4], [0.1, 0.1], [5.0, -5.0]],  # the last lies off the grid
            [[-0.1, -0.1], [-0.1, -0.2], [-3.0, 3.0], [0.6, 0.2]],
        ]
    )
    counts = visit_counts(grid, points)
    assert counts.shape == (2, 8) and counts.sum(axis=1).tolist() == [4, 4]
    expected = np.zeros((2, 8), dtype=np.int64)
    for b, cells in enumerate([[0, 7, 2, 7], [5, 5, 0, 3]]):
        np.add.at(expected[b], cells, 1)
    np.testing.assert_array_equal(counts, expected)


def test_egocentric_crops_sample_the_field_around_each_robot() -> None:
    grid = DemandGrid((2, 4), ARENA)
    field = np.arange(8.0)[None] / 28.0  # (E = 1, H W), sums to 1
    pos = np.array([[[-0.75, 0.25], [0.75, -0.25]]])  # centres of cells 0 and 7
    crops = egocentric_crops(field, pos, grid, size=3, extent=1.5)  # samples 0.5 apart
    assert crops.shape == (1, 2, 3, 3)
    uniform = field * grid.shape[0] * grid.shape[1]  # the field in units of the uniform density
    # Robot 0 sits in the top-left cell: its crop's centre is that cell, right is cell 1, below
    # is cell 4, and samples left of or above the arena are 0.
    np.testing.assert_allclose(
        crops[0, 0], [[0, 0, 0], [0, uniform[0, 0], uniform[0, 1]], [0, uniform[0, 4], uniform[0, 5]]]
    )
    np.testing.assert_allclose(crops[0, 1, 1, 1], uniform[0, 7])
    assert crops[0, 1, 2].tolist() == [0.0, 0.0, 0.0] and crops[0, 1, :, 2].tolist() == [0.0, 0.0, 0.0]


def test_coverage_still_exports_the_density_names_it_had() -> None:
    for name in ("MAPS", "map_path", "load_density", "gaussian_density", "normalise_density", "pool"):
        assert getattr(coverage, name) is getattr(density, name)
    for name in ("DemandGrid", "wasserstein2"):
        assert getattr(coverage, name) is getattr(density, name)
