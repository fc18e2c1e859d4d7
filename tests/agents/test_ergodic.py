"""Spectral Multiscale Coverage (``swarmzoo.agents.ergodic``): the cosine basis, the density's
coefficients, the feedback direction, and coverage quality on ``coverage-v0``."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo
from swarmzoo.agents import RandomPolicy, make_policy
from swarmzoo.agents.ergodic import SpectralMultiscaleCoverage


def smc_on(map_name: str = "two_hotspots", num_envs: int = 1, **kwargs):
    venv = swarmzoo.make_vec("coverage-v0", num_envs, map=map_name, **kwargs)
    policy = SpectralMultiscaleCoverage(n_modes=6)
    obs, _ = venv.reset(seed=0)
    policy.act(obs, venv.task)
    return venv, policy, obs


def test_basis_is_orthonormal_on_the_arena() -> None:
    venv, policy, _ = smc_on(arena_width=3.0, arena_height=2.0)
    # midpoint rule on a fine grid over [-1.5, 1.5] x [-1, 1]
    m = 300
    x = (np.arange(m) + 0.5) / m * 3.0 - 1.5
    y = (np.arange(m) + 0.5) / m * 2.0 - 1.0
    gx, gy = np.meshgrid(x, y)
    f, _ = policy.basis(np.stack([gx.ravel(), gy.ravel()], axis=-1))
    gram = f.T @ f * (3.0 * 2.0 / m**2)
    np.testing.assert_allclose(gram, np.eye(36), atol=1e-3)


def test_gradient_matches_finite_differences() -> None:
    _, policy, _ = smc_on()
    rng = np.random.default_rng(0)
    pos = rng.uniform(-0.9, 0.9, (5, 2))
    _, grad = policy.basis(pos)
    eps = 1e-6
    for d in range(2):
        step = np.zeros(2)
        step[d] = eps
        numeric = (policy.basis(pos + step)[0] - policy.basis(pos - step)[0]) / (2 * eps)
        np.testing.assert_allclose(grad[..., d], numeric, atol=1e-6)


def test_density_coefficients() -> None:
    # uniform map: only the constant mode, mu_0 = 1 / sqrt(area)
    _, policy, _ = smc_on("uniform")
    assert policy.mu[0] == pytest.approx(0.5)
    np.testing.assert_allclose(policy.mu[1:], 0.0, atol=1e-9)
    # a non-uniform map has mass in other modes; Lambda_k weighs large scales first
    _, policy, _ = smc_on("two_hotspots")
    assert np.abs(policy.mu[1:]).max() > 0.05
    assert policy.weights[0] == 1.0 and np.all(np.diff(policy.weights[:6]) < 0)


def test_a_robot_heads_for_the_unvisited_mass() -> None:
    # one robot at rest in the left half of a map whose mass is all on the right: SMC sends it right
    venv = swarmzoo.make_vec("coverage-v0", 1, n_agents=1, gaussians=((0.6, 0.0, 0.15, 1.0),))
    obs, _ = venv.reset(seed=0)
    venv.task.pos[:] = [[[-0.6, 0.0]]]
    venv.task.vel[:] = 0.0
    action = SpectralMultiscaleCoverage().act(obs, venv.task)
    assert action[0, 0, 0] > 0.9 and abs(action[0, 0, 1]) < 0.2


def test_metric_falls_and_w2_beats_random() -> None:
    venv = swarmzoo.make_vec("coverage-v0", 4, map="two_hotspots")
    smc, rand = SpectralMultiscaleCoverage(), RandomPolicy(seed=0)
    obs, _ = venv.reset(seed=0)
    metric = []
    for t in range(venv.max_cycles):
        obs, _, _, _, infos = venv.step(smc.act(obs, venv.task))
        if t in (9, venv.max_cycles - 2):
            metric.append(smc.metric(venv.task))
    assert np.all(metric[1] < 0.25 * metric[0])
    w2_smc = infos["w2"]
    obs, _ = venv.reset(seed=0)
    for _ in range(venv.max_cycles):
        obs, _, _, _, infos = venv.step(rand.act(obs, venv.task))
    assert w2_smc.mean() < 0.5 * infos["w2"].mean(), (w2_smc, infos["w2"])


@pytest.mark.parametrize("kwargs", [{"n_agents": 1}, {"n_agents": 64}, {"continuous_actions": False}])
def test_feasible_actions_and_episode_restarts(kwargs: dict) -> None:
    venv = swarmzoo.make_vec("coverage-v0", 2, map="ring", max_cycles=15, **kwargs)
    policy = SpectralMultiscaleCoverage()
    obs, _ = venv.reset(seed=0)
    cfg = venv.task.config
    for t in range(20):  # crosses the autoreset at step 15
        actions = policy.act(obs, venv.task)
        if t == 15:
            # a new episode starts from an empty record: S holds only the first position
            assert (venv.task.steps == 0).all()
            f, _ = policy.basis(venv.task.pos)
            expected = cfg.dt * (f.sum(axis=1) - cfg.n_agents * policy.mu)
            np.testing.assert_allclose(policy.S, expected)
        if cfg.continuous_actions:
            assert actions.shape == (2, cfg.n_agents, 2) and np.abs(actions).max() <= 1.0
            v_next = venv.task.vel + cfg.dt * cfg.max_accel * actions
            assert np.linalg.norm(v_next, axis=-1).max() <= cfg.max_speed * (1 + 1e-6)
        else:
            assert actions.shape == (2, cfg.n_agents) and actions.min() >= 0 and actions.max() < 5
        obs, *_ = venv.step(actions)


def test_by_name_and_bad_arguments() -> None:
    assert isinstance(make_policy("smc", "coverage-v0"), SpectralMultiscaleCoverage)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_modes"):
            SpectralMultiscaleCoverage(n_modes=bad)
    venv, policy, _ = smc_on()
    other = swarmzoo.make_vec("coverage-v0", 1)
    with pytest.raises(ValueError, match="last acted on"):
        policy.metric(other.task)
