"""Unit tests of the per-env random streams."""

from __future__ import annotations

import numpy as np
import pytest

from swarmzoo.envs.core.rng import BatchRNG


def _draw(rng: BatchRNG, env_ids) -> np.ndarray:
    return rng.uniform(np.asarray(env_ids), (4, 2), -1.0, 1.0)


def test_same_seeds_same_draws_different_seeds_differ() -> None:
    a, b, c = BatchRNG(3), BatchRNG(3), BatchRNG(3)
    a.seed([1, 2, 3])
    b.seed([1, 2, 3])
    c.seed([4, 5, 6])
    da, db, dc = _draw(a, [0, 1, 2]), _draw(b, [0, 1, 2]), _draw(c, [0, 1, 2])
    np.testing.assert_array_equal(da, db)
    assert not np.array_equal(da, dc)
    # Copies with different seeds draw different numbers.
    assert not np.array_equal(da[0], da[1])
    np.testing.assert_array_equal(a.normal(np.arange(3), (5,)), b.normal(np.arange(3), (5,)))


def test_reseeding_restarts_the_stream() -> None:
    rng = BatchRNG(2)
    rng.seed([7, 8])
    first = _draw(rng, [0, 1])
    _draw(rng, [0, 1])
    rng.seed([7, 8])
    np.testing.assert_array_equal(_draw(rng, [0, 1]), first)


def test_none_seed_leaves_the_stream_running() -> None:
    rng, ref = BatchRNG(2), BatchRNG(2)
    rng.seed([3, 4])
    ref.seed([3, 4])
    _draw(rng, [0, 1])
    _draw(ref, [0, 1])
    rng.seed([None, 9])
    np.testing.assert_array_equal(_draw(rng, [0])[0], _draw(ref, [0])[0])


def test_copies_are_independent() -> None:
    """Copy 0's numbers depend neither on copy 1's seed nor on whether copy 1 drew."""
    a, b = BatchRNG(2), BatchRNG(2)
    a.seed([11, 12])
    b.seed([11, 99])
    np.testing.assert_array_equal(_draw(a, [0, 1])[0], _draw(b, [0])[0])
    np.testing.assert_array_equal(_draw(a, [0])[0], _draw(b, [0, 1])[0])
    np.testing.assert_array_equal(a.generator(0).random(3), b.generator(0).random(3))


def test_copy_i_replays_a_single_env_seeded_with_seed_plus_i() -> None:
    batch = BatchRNG(4)
    batch.seed([20 + i for i in range(4)])
    draws = _draw(batch, [0, 1, 2, 3])
    for i in range(4):
        single = BatchRNG(1)
        single.seed([20 + i])
        np.testing.assert_array_equal(_draw(single, [0])[0], draws[i])


def test_uniform_bounds_broadcast_and_empty_ids() -> None:
    rng = BatchRNG(2)
    rng.seed([0, 1])
    low, high = np.array([-2.0, 5.0]), np.array([-1.0, 6.0])
    u = rng.uniform(np.arange(2), (1000, 2), low, high)
    assert u.shape == (2, 1000, 2)
    assert np.all(u >= low) and np.all(u < high)
    assert rng.uniform(np.array([], dtype=int), (3, 2)).shape == (0, 3, 2)
    assert rng.normal(np.array([], dtype=int), (3,)).shape == (0, 3)


def test_wrong_number_of_seeds() -> None:
    with pytest.raises(ValueError, match="expected 3 seeds, got 2"):
        BatchRNG(3).seed([1, 2])
