"""MO-MIX: the parallel mixer's monotonicity, the scalarised greedy rule, the vector TD target,
the exploration guide, the run folder and its errors; a slow test that the front follows the
preference."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from swarmzoo.agents.files import safe_load
from swarmzoo.agents.policy_files import load_policy
from swarmzoo.algorithms.common.pareto import weight_grid
from swarmzoo.algorithms.common.replay import ReplayBatch
from swarmzoo.algorithms.mo_mix import (
    Args,
    ExplorationGuide,
    ParallelMixer,
    PreferenceQNetwork,
    load_model,
    mo_td_loss,
    pareto_front,
    scalarised_actions,
    train,
)
from swarmzoo.algorithms.qmix import QMixModel

OBJECTIVES = ("objectives=goals,energy",)
TINY = dict(
    env="navigation-v0",
    env_kwargs=OBJECTIVES,
    total_steps=2_000,
    num_envs=4,
    rollout_steps=25,
    gradient_steps=4,
    batch_size=32,
    learning_starts=200,
    eval_episodes=2,
    eval_steps=2,
    checkpoint_every=5,
    progress=False,
    tensorboard=False,
)


@pytest.mark.parametrize("kind", ["qmix", "vdn"])
def test_each_head_is_monotonic_in_its_own_objective_only(kind):
    torch.manual_seed(0)
    mixer = ParallelMixer(kind, n_agents=3, state_dim=5, k=2, embed=8, hypernet_hidden=16)
    qs = torch.randn(64, 3, 2, requires_grad=True)
    out = mixer(qs, torch.randn(64, 5), torch.rand(64, 2))
    assert out.shape == (64, 2)
    for k in range(2):
        (grad,) = torch.autograd.grad(out[:, k].sum(), qs, retain_graph=True)
        assert (grad[..., k] >= 0).all()
        assert (grad[..., 1 - k] == 0).all()


def test_scalarised_actions_maximise_the_weighted_values():
    q = torch.tensor([[[[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]]]])  # (B=1, N=1, A=3, K=2)
    pick = {
        w: int(scalarised_actions(q, torch.tensor([[list(w)]], dtype=torch.float32)))
        for w in [(1, 0), (0, 1), (0.5, 0.5)]
    }
    assert pick == {(1, 0): 0, (0, 1): 1, (0.5, 0.5): 2}


def _batch(B, N, D, S, K, terminated):
    g = torch.Generator().manual_seed(1)
    return ReplayBatch(
        obs=torch.randn(B, N, D, generator=g),
        state=torch.randn(B, S, generator=g),
        actions=torch.randint(0, 5, (B, N), generator=g),
        rewards=torch.randn(B, K, generator=g),
        next_obs=torch.randn(B, N, D, generator=g),
        next_state=torch.randn(B, S, generator=g),
        terminated=torch.full((B,), float(terminated)),
        truncated=torch.zeros(B),
    )


def test_vector_td_target_stops_at_termination_and_bootstraps_otherwise():
    torch.manual_seed(0)
    B, N, D, S, K = 16, 3, 6, 4, 2
    model = QMixModel(PreferenceQNetwork(D, 5, K, (16,)), ParallelMixer("qmix", N, S, K, 8, 8))
    w = torch.rand(B, K)
    for terminated in (True, False):
        batch = _batch(B, N, D, S, K, terminated)
        loss, _ = mo_td_loss(model, batch, w, gamma=0.9)
        q = model.agent(batch.obs, w[:, None].expand(-1, N, -1))
        taken = q.gather(2, batch.actions[..., None, None].expand(-1, -1, 1, K)).squeeze(2)
        q_tot = model.mixer(taken, batch.state, w)
        if terminated:
            expected = ((q_tot - batch.rewards) ** 2).mean()
        else:
            wa = w[:, None].expand(-1, N, -1)
            nxt = model.target_agent(batch.next_obs, wa)
            a = scalarised_actions(model.agent(batch.next_obs, wa), wa)
            nq = nxt.gather(2, a[..., None, None].expand(-1, -1, 1, K)).squeeze(2)
            expected = (
                (q_tot - (batch.rewards + 0.9 * model.target_mixer(nq, batch.next_state, w))) ** 2
            ).mean()
        torch.testing.assert_close(loss, expected)


def test_exploration_guide_favours_isolated_front_points():
    grid = weight_grid(2, 4)
    guide = ExplorationGuide(grid, mix=0.0, ema=1.0)
    np.testing.assert_allclose(guide.probabilities(), 0.2)  # nothing tried yet: uniform
    # Points 0-2 crowd one end of the front, 3 is alone at the other, 4 is dominated.
    for i, point in enumerate([[0.0, 10.0], [0.1, 9.9], [0.2, 9.8], [10.0, 0.0], [-1.0, -1.0]]):
        guide.record(i, np.array(point))
    p = guide.probabilities()
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()
    assert p[3] > max(p[0], p[1], p[2], p[4])
    assert ExplorationGuide(grid, mix=0.5, ema=1.0, enabled=False).probabilities() == pytest.approx(
        np.full(5, 0.2)
    )
    guide.record(3, np.array([0.0, 0.0]))  # ema = 1: the latest return replaces the mean
    np.testing.assert_array_equal(guide.means[3], [0.0, 0.0])


def test_train_writes_a_front_and_a_safe_policy_file(tmp_path):
    result = train(Args(out=tmp_path / "run", seed=3, **TINY))
    front = json.loads((result.run_dir / "front.json").read_text())
    assert front["objectives"] == ["goals", "energy"] and len(front["returns"]) == 3
    assert np.isfinite(front["returns"]).all()
    assert safe_load(result.run_dir / "policy.pt")["algo"] == "mo_mix"
    net, meta = load_model(result.run_dir / "policy.pt")
    assert net.k == 2 and meta["env_id"] == "navigation-v0"
    np.testing.assert_allclose(
        pareto_front(result.run_dir / "policy.pt", np.array(front["weights"]), episodes=2, seed=3),
        front["returns"],
    )
    with pytest.raises(ValueError, match="MO-MIX policy"):
        load_policy(result.run_dir / "policy.pt")
    again = train(Args(out=tmp_path / "again", seed=3, **TINY))
    rows = [list(csv.DictReader((r.run_dir / "progress.csv").open())) for r in (result, again)]
    columns = ("charts/episode_return", "losses/td_loss", "losses/grad_norm")
    assert [[r[c] for c in columns] for r in rows[0]] == [[r[c] for c in columns] for r in rows[1]]
    assert any(r["losses/td_loss"] for r in rows[0])


def test_resume_continues_the_run(tmp_path):
    out = tmp_path / "run"
    train(Args(out=out, **dict(TINY, total_steps=1_000)))
    resumed = train(Args(out=out, resume=True, **TINY))
    assert resumed.global_step == 2_000
    assert set(safe_load(out / "checkpoints" / "latest.pt")) >= {"replay", "guide"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"env_kwargs": ()}, "at least two objectives"),
        ({"env_kwargs": ("objectives=goals",)}, "at least two objectives"),
        ({"env_kwargs": ("objectives=goals,energy", "continuous_actions=True")}, "Discrete action space"),
        ({"guide_mix": 1.5}, "guide_mix"),
        ({"reward_weights": (0.5, 0.5)}, "does not apply"),
        ({"preference_steps": 0}, "preference_steps"),
    ],
)
def test_bad_setups_are_named(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train(Args(out=tmp_path / "bad", **{**TINY, **kwargs}))


def test_pareto_front_checks_the_weights(tmp_path):
    result = train(Args(out=tmp_path / "run", **TINY))
    with pytest.raises(ValueError, match=r"shape \(P, 2\)"):
        pareto_front(result.run_dir / "policy.pt", np.ones((2, 3)))


@pytest.mark.slow
def test_front_follows_the_preference(tmp_path):
    """One MO-MIX model, two preferences: goal-first covers the goals better, energy-first spends
    less energy (measured: see benchmarks/RESULTS.md, mo_mix_navigation)."""
    result = train(
        Args(out=tmp_path / "run", **dict(TINY, total_steps=60_000, gradient_steps=25, batch_size=128))
    )
    (goal_first, energy_first) = pareto_front(
        result.run_dir / "policy.pt", np.array([[1.0, 0.0], [0.0, 1.0]]), episodes=16, seed=7
    )
    assert goal_first[0] > energy_first[0] + 2.0  # goals return: per-step distances summed
    assert energy_first[1] > goal_first[1] + 10.0  # energy: pushes per episode (50 steps)
