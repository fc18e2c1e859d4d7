"""Minibatching: every active robot-step once per epoch, in near-equal random parts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from swarmzoo.algorithms.common.minibatch import flatten_active, minibatch_indices


def test_partition_covers_every_sample_once() -> None:
    parts = minibatch_indices(103, 4, np.random.default_rng(0))
    assert len(parts) == 4
    assert sorted(len(p) for p in parts) == [25, 26, 26, 26]
    assert sorted(torch.cat(parts).tolist()) == list(range(103))
    again = minibatch_indices(103, 4, np.random.default_rng(1))
    assert not all(torch.equal(a, b) for a, b in zip(parts, again))


def test_flatten_active_keeps_robot_steps_in_order() -> None:
    T, E, N, D = 3, 2, 4, 5
    buf = torch.arange(T * E * N * D, dtype=torch.float32).reshape(T, E, N, D)
    active = torch.ones(T, E, N, dtype=torch.bool)
    active[1, 0, 2] = False  # robot 2 of copy 0 finished early
    flat = flatten_active(buf, active)
    assert flat.shape == (T * E * N - 1, D)
    assert torch.equal(flat[0], buf[0, 0, 0]) and torch.equal(flat[-1], buf[2, 1, 3])
    assert not any(torch.equal(row, buf[1, 0, 2]) for row in flat)
    assert flatten_active(torch.zeros(T, E, N), active).shape == (T * E * N - 1,)


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="cannot split 3 samples into 5"):
        minibatch_indices(3, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="does not start with"):
        flatten_active(torch.zeros(2, 2, 2), torch.ones(2, 2, 3, dtype=torch.bool))
