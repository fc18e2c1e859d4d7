"""GAE: truncation bootstraps, termination does not, and nothing leaks across an episode end."""

from __future__ import annotations

import pytest
import torch

from swarmzoo.algorithms.common.gae import compute_gae


def _brute_force(rewards, values, next_values, term, done, gamma, lam):
    T = len(rewards)
    adv = [0.0] * T
    for t in range(T):
        total, weight = 0.0, 1.0
        for k in range(t, T):
            delta = rewards[k] + gamma * next_values[k] * (1 - term[k]) - values[k]
            total += weight * delta
            if done[k]:
                break
            weight *= gamma * lam
        adv[t] = total
    return adv


def test_matches_brute_force_with_truncation_and_termination() -> None:
    g = torch.Generator().manual_seed(0)
    T = 12
    rewards = torch.randn(T, generator=g)
    values = torch.randn(T, generator=g)
    next_values = torch.randn(T, generator=g)
    term = torch.zeros(T)
    done = torch.zeros(T)
    term[3] = done[3] = 1.0  # terminated at 3
    done[8] = 1.0  # truncated at 8
    adv, ret = compute_gae(rewards, values, next_values, term, done, 0.9, 0.8)
    expected = _brute_force(
        rewards.tolist(), values.tolist(), next_values.tolist(), term.tolist(), done.tolist(), 0.9, 0.8
    )
    assert adv.tolist() == pytest.approx(expected, abs=1e-5)
    assert torch.allclose(ret, adv + values)


def test_truncation_bootstraps_from_final_value_and_termination_does_not() -> None:
    rewards = torch.tensor([1.0])
    values = torch.tensor([0.0])
    final_value = torch.tensor([10.0])
    truncated, _ = compute_gae(
        rewards, values, final_value, torch.tensor([0.0]), torch.tensor([1.0]), 0.5, 0.95
    )
    terminated, _ = compute_gae(
        rewards, values, final_value, torch.tensor([1.0]), torch.tensor([1.0]), 0.5, 0.95
    )
    assert truncated.item() == pytest.approx(1.0 + 0.5 * 10.0)
    assert terminated.item() == pytest.approx(1.0)


def test_no_leak_across_episode_end() -> None:
    # A huge reward right after the boundary must not change the advantage before it.
    base = dict(
        values=torch.zeros(4),
        next_values=torch.zeros(4),
        terminations=torch.zeros(4),
        dones=torch.tensor([0.0, 1.0, 0.0, 0.0]),
    )
    a, _ = compute_gae(torch.tensor([1.0, 1.0, 0.0, 0.0]), gamma=0.99, gae_lambda=0.95, **base)
    b, _ = compute_gae(torch.tensor([1.0, 1.0, 1e6, 0.0]), gamma=0.99, gae_lambda=0.95, **base)
    assert torch.equal(a[:2], b[:2])


def test_batched_shapes_and_errors() -> None:
    T, E, N = 5, 3, 4
    x = torch.rand(T, E, N)
    adv, ret = compute_gae(x, x, x, torch.zeros(T, E, N), torch.zeros(T, E, N), 0.99, 0.95)
    assert adv.shape == ret.shape == (T, E, N)
    with pytest.raises(ValueError, match="share one shape"):
        compute_gae(x, x[:, :, :2], x, x, x, 0.99, 0.95)
    with pytest.raises(ValueError, match="gamma"):
        compute_gae(x, x, x, x, x, 1.5, 0.95)
