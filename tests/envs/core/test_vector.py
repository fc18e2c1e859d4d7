"""The vector face's partial reset: reset_copies restarts only the copies asked for."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo


def test_reset_copies_restarts_only_those_copies() -> None:
    venv = swarmzoo.make_vec("navigation-v0", 3, n_agents=3, max_cycles=50)
    with pytest.raises(RuntimeError, match="before reset"):
        venv.reset_copies([0])
    venv.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        obs, *_ = venv.step(rng.integers(0, 5, size=(3, 3)))
    new = venv.reset_copies([1])
    np.testing.assert_array_equal(new[[0, 2]], obs[[0, 2]])
    assert not np.array_equal(new[1], obs[1])
    assert venv.task.steps.tolist() == [5, 0, 5]
    _, _, _, trunc, infos = venv.step(rng.integers(0, 5, size=(3, 3)))
    assert venv.task.steps.tolist() == [6, 1, 6] and not infos["_episode"].any()
    assert np.array_equal(venv.reset_copies([]), venv.task.observe())
    with pytest.raises(ValueError, match="env_ids must lie in 0 .. 2"):
        venv.reset_copies([3])
