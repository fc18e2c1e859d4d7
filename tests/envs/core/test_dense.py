"""The dense back end (``core.dense``): its names stay importable from ``core.neighbors``, and
``empty_neighbors`` is what a query with nothing to find returns."""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.core import dense, neighbors
from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.dense import empty_neighbors


def test_neighbors_reexports_the_dense_names() -> None:
    names = ["Neighbors", "PairTable", "Pairwise", "env_last", "min_image_t", "pair_table", "pairwise"]
    names += ["pairwise_delta", "pairwise_others", "squared_norm", "RANK_MAX"]
    for name in names:
        assert getattr(neighbors, name) is getattr(dense, name), name
        assert name in neighbors.__all__


def test_empty_neighbors_has_every_slot_empty() -> None:
    nb = empty_neighbors(2, 3, 4)
    assert nb.index.shape == nb.dist.shape == nb.mask.shape == (2, 3, 4) and nb.delta.shape == (2, 3, 4, 2)
    assert (nb.index == -1).all() and np.isinf(nb.dist).all() and not nb.mask.any() and not nb.delta.any()
    found = neighbors.knn(np.zeros((2, 3, 2)), np.zeros((2, 0, 2)), 4, Arena())  # no targets
    for field in ("index", "delta", "dist", "mask"):
        np.testing.assert_array_equal(getattr(found, field), getattr(nb, field))
