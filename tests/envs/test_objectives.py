"""Vector rewards (``objectives=``): MOMAland's API on both faces, the objectives' meaning, and
that scalar-reward runs are untouched."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from momaland.test.api_test import api_test as momaland_api_test
from momaland.utils.parallel_wrappers import LinearizeReward as MomalandLinearize
from pettingzoo.test import parallel_api_test

import swarmzoo
from swarmzoo.envs.coverage import OBJECTIVES as COVERAGE_OBJECTIVES
from swarmzoo.envs.navigation_task import OBJECTIVES as NAVIGATION_OBJECTIVES
from swarmzoo.envs.objectives import LinearizeReward, LinearizeVectorReward

BYZANTINE = ("byzantine-timesync-v0", "byzantine-localization-v0", "byzantine-tracking-v0")

# env id, small config, every objective it offers
CASES = [
    ("navigation-v0", {"n_agents": 3, "n_obstacles": 1}, tuple(NAVIGATION_OBJECTIVES)),
    ("navigation-v0", {"n_agents": 4, "continuous_actions": True}, ("energy", "goals")),
    ("navigation-v0", {"preset": "mpe_spread"}, ("goals", "collisions", "energy")),
    ("coverage-v0", {"n_agents": 3, "max_cycles": 40}, tuple(COVERAGE_OBJECTIVES)),
    ("coverage-v0", {"n_agents": 3, "continuous_actions": False, "battery": 2.0}, ("energy", "served")),
    *[(env_id, {"n_robots": 10, "max_cycles": 30}, ("error", "messages")) for env_id in BYZANTINE],
]
IDS = [f"{env_id}-{i}" for i, (env_id, _, _) in enumerate(CASES)]


def _actions(space, rng):
    """A random vector-face action batch for ``space``."""
    if hasattr(space, "nvec"):
        return rng.integers(0, space.nvec)
    return rng.uniform(space.low, space.high).astype(space.dtype)


@pytest.mark.parametrize(("env_id", "kwargs", "objectives"), CASES, ids=IDS)
def test_momaland_and_pettingzoo_api(env_id, kwargs, objectives):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # their advice on infinite bounds and all-zero observations
        momaland_api_test(swarmzoo.make_aec(env_id, objectives=objectives, **kwargs), num_cycles=60)
        parallel_api_test(swarmzoo.make(env_id, objectives=objectives, **kwargs), num_cycles=60)
    env = swarmzoo.make(env_id, objectives=objectives, **kwargs)
    space = env.reward_space(env.possible_agents[0])
    assert space.shape == (len(objectives),) and space.dtype == np.float32
    assert env.reward_spaces[env.possible_agents[-1]] == space


@pytest.mark.parametrize(("env_id", "kwargs", "objectives"), CASES, ids=IDS)
def test_objectives_leave_the_run_unchanged_and_faces_agree(env_id, kwargs, objectives):
    """The same seeded run with and without objectives: identical observations and infos; the
    vector face's (E, N, K) rows are the PettingZoo face's per-robot (K,) arrays."""
    E = 2
    scalar = swarmzoo.make_vec(env_id, E, **kwargs)
    multi = swarmzoo.make_vec(env_id, E, objectives=objectives, **kwargs)
    par = swarmzoo.make(env_id, objectives=objectives, **kwargs)
    assert multi.single_reward_space.shape == (len(objectives),)
    obs_s, _ = scalar.reset(seed=5)
    obs_m, _ = multi.reset(seed=5)
    par.reset(seed=5)
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(scalar.max_cycles + 5):
        actions = _actions(scalar.action_space, rng)
        obs_s, r_s, term_s, trunc_s, info_s = scalar.step(actions)
        obs_m, r_m, term_m, trunc_m, info_m = multi.step(actions)
        assert r_s.shape == (E, scalar.n_agents) and r_m.shape == (E, scalar.n_agents, len(objectives))
        assert np.isfinite(r_m).all()
        np.testing.assert_array_equal(obs_s, obs_m)
        np.testing.assert_array_equal(term_s, term_m)
        np.testing.assert_array_equal(trunc_s, trunc_m)
        if par.agents:
            _, r_p, *_ = par.step(
                {a: actions[0, i] for i, a in enumerate(par.possible_agents) if a in par.agents}
            )
            for i, a in enumerate(par.possible_agents):
                if a in r_p:
                    assert r_p[a].dtype == np.float32 and r_p[a].shape == (len(objectives),)
                    np.testing.assert_allclose(r_p[a], r_m[0, i], rtol=1e-6, atol=1e-7)
        if info_m["_episode"].any():
            finished += 1
            assert info_m["episode_return"].shape == r_m.shape
            np.testing.assert_array_equal(info_s["episode_length"], info_m["episode_length"])
    assert finished


def test_navigation_objectives_rebuild_the_scalar_reward():
    kwargs = {"n_agents": 4, "n_obstacles": 2, "local_ratio": 0.3, "collision_penalty": 2.0}
    scalar = swarmzoo.make_vec("navigation-v0", 3, **kwargs)
    multi = swarmzoo.make_vec("navigation-v0", 3, objectives=("goals", "collisions", "energy"), **kwargs)
    scalar.reset(seed=1)
    multi.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(40):
        a = rng.integers(0, 5, (3, 4))
        _, r_s, *_ = scalar.step(a)
        _, r_m, _, _, info = multi.step(a)
        np.testing.assert_allclose(r_s, 0.7 * r_m[..., 0] + 0.3 * 2.0 * r_m[..., 1])
        np.testing.assert_array_equal(r_m[..., 1], -info["collisions"])
        np.testing.assert_array_equal(r_m[..., 2], np.where(a == 0, 0.0, -1.0))  # a move: |force| = accel
        assert (r_m[..., 0] == r_m[..., :1, 0]).all()  # shared by a copy's robots


def test_coverage_objectives_rebuild_the_scalar_reward_and_w2_progress_telescopes():
    scalar = swarmzoo.make_vec("coverage-v0", 2, n_agents=4, max_cycles=25)
    multi = swarmzoo.make_vec(
        "coverage-v0", 2, n_agents=4, max_cycles=25, objectives="served,team_served,w2_progress"
    )
    scalar.reset(seed=2)
    multi.reset(seed=2)
    w2_start = multi.task.coverage_w2()
    rng = np.random.default_rng(2)
    progress = np.zeros(2)
    for _ in range(25):
        a = rng.uniform(-1, 1, (2, 4, 2)).astype(np.float32)
        _, r_s, *_ = scalar.step(a)
        _, r_m, _, _, info = multi.step(a)
        np.testing.assert_allclose(r_s, 0.5 * r_m[..., 1] + 0.5 * r_m[..., 0])
        np.testing.assert_allclose(r_m[..., 1], np.repeat(r_m[..., 0].mean(axis=1, keepdims=True), 4, axis=1))
        progress += r_m[:, 0, 2]
    assert info["_episode"].all()
    # The same run's W2 at the episode's end (w2_every=0 measures it there only).
    ended = swarmzoo.make_vec("coverage-v0", 2, n_agents=4, max_cycles=25, w2_every=0)
    ended.reset(seed=2)
    rng = np.random.default_rng(2)
    for _ in range(25):
        _, _, _, _, info_end = ended.step(rng.uniform(-1, 1, (2, 4, 2)).astype(np.float32))
    np.testing.assert_allclose(progress, w2_start - info_end["w2"], rtol=1e-9, atol=1e-12)


def test_coverage_energy_is_the_battery_cost():
    env = swarmzoo.make_vec("coverage-v0", 1, n_agents=2, battery=5.0, objectives=("energy",))
    env.reset(seed=0)
    before = env.task.battery.copy()
    a = np.array([[[1.0, 0.0], [0.0, 0.0]]], dtype=np.float32)
    _, r, *_ = env.step(a)
    np.testing.assert_allclose(-r[..., 0], (before - env.task.battery) * 5.0)
    np.testing.assert_allclose(-r[0, :, 0], [0.001 + 0.004, 0.001])


@pytest.mark.parametrize("env_id", BYZANTINE)
def test_byzantine_messages_count_what_was_sent(env_id):
    kwargs = {"n_robots": 12, "attack": "false_accusation", "n_byzantine": 2, "protocol": "dbp"}
    env = swarmzoo.make_vec(env_id, 2, objectives=("messages", "error"), **kwargs)
    scalar = swarmzoo.make_vec(env_id, 2, **kwargs)
    _, info = env.reset(seed=3)
    scalar.reset(seed=3)
    sent = info["value_messages"] + info["accusation_messages"]
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        _, r, _, _, info = env.step(a)
        _, r_s, *_ = scalar.step(a)
        now = info["value_messages"] + info["accusation_messages"]
        np.testing.assert_allclose(r[..., 0], np.broadcast_to((-(now - sent) / 12)[:, None], r.shape[:2]))
        np.testing.assert_array_equal(r[..., 1], r_s)
        sent = now


def test_linearize_reward_on_both_faces_and_momaland_wrapper_agree():
    objectives = ("goals", "collisions", "energy")
    w = np.array([0.6, 0.3, 0.1])
    ours = LinearizeReward(swarmzoo.make("navigation-v0", objectives=objectives), w)
    theirs = MomalandLinearize(
        swarmzoo.make("navigation-v0", objectives=objectives), dict.fromkeys(ours.possible_agents, w)
    )
    venv = LinearizeVectorReward(swarmzoo.make_vec("navigation-v0", 1, objectives=objectives), w)
    ours.reset(seed=4)
    theirs.reset(seed=4)
    venv.reset(seed=4)
    rng = np.random.default_rng(4)
    total = np.zeros(3)
    for _ in range(ours.max_cycles):
        a = rng.integers(0, 5, (1, 3))
        _, r_ours, *_ = ours.step({name: int(a[0, i]) for i, name in enumerate(ours.possible_agents)})
        _, r_theirs, *_ = theirs.step({name: int(a[0, i]) for i, name in enumerate(ours.possible_agents)})
        _, r_vec, _, _, info = venv.step(a)
        assert all(isinstance(v, float) for v in r_ours.values())
        np.testing.assert_allclose(list(r_ours.values()), list(r_theirs.values()), rtol=1e-6)
        np.testing.assert_allclose(r_vec[0], list(r_ours.values()), rtol=1e-6)
        total += r_vec[0]
    assert info["_episode"][0]
    np.testing.assert_allclose(info["episode_return"][0], total)
    np.testing.assert_allclose(info["episode_return_objectives"][0] @ w, total)


def test_per_robot_preferences_on_the_vector_face():
    venv = swarmzoo.make_vec("navigation-v0", 2, objectives=("goals", "energy"))
    weights = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    lin = LinearizeVectorReward(
        swarmzoo.make_vec("navigation-v0", 2, objectives=("goals", "energy")), weights
    )
    venv.reset(seed=0)
    lin.reset(seed=0)
    a = np.ones((2, 3), dtype=np.int64)
    _, r, *_ = venv.step(a)
    _, r_lin, *_ = lin.step(a)
    np.testing.assert_allclose(r_lin, (r * weights).sum(-1))
    assert lin.objectives == () and lin.num_envs == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (("goals", "speed"), "unknown objective"),
        (("goals", "goals"), "more than once"),
        ("goals,,speed", "unknown objective"),
        (",", "no objective named"),
        (3, "sequence of objective names"),
        (("goals", 1), "sequence of objective names"),
    ],
)
def test_bad_objectives_are_named(value, message):
    with pytest.raises(ValueError, match=message):
        swarmzoo.make("navigation-v0", objectives=value)


def test_string_objectives_and_scalar_envs():
    env = swarmzoo.make("navigation-v0", objectives=" goals , energy ")
    assert env.objectives == ("goals", "energy")
    assert swarmzoo.make("navigation-v0").objectives == ()
    with pytest.raises(ValueError, match="scalar rewards"):
        swarmzoo.make("navigation-v0").reward_space("robot_0")
    with pytest.raises(ValueError, match="no argument 'objectives'"):
        swarmzoo.make("flocking-v0", objectives=("alignment",))
    assert not hasattr(swarmzoo.make("navigation-v0"), "reward_spaces")


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1.0], r"shape \(2,\)"),
        ([[1.0, 0.0]] * 2, r"\(3, 2\)"),
        ([np.nan, 1.0], "finite"),
        (["a", "b"], "numbers"),
    ],
)
def test_bad_weights_are_named(weights, message):
    with pytest.raises(ValueError, match=message):
        LinearizeVectorReward(swarmzoo.make_vec("navigation-v0", 1, objectives=("goals", "energy")), weights)


def test_linearize_needs_objectives_and_all_agents():
    with pytest.raises(ValueError, match="scalar rewards"):
        LinearizeReward(swarmzoo.make("navigation-v0"), [1.0])
    env = swarmzoo.make("navigation-v0", objectives=("goals", "energy"))
    with pytest.raises(ValueError, match=r"agents without weights \['robot_2'\]"):
        LinearizeReward(env, {"robot_0": [1, 0], "robot_1": [1, 0]})


def test_done_robots_get_zero_vector_rewards_on_the_vector_face():
    """Robot 0 accelerates and drains its battery first; until the copy resets it gets 0 in every
    objective, as scalar rewards get 0."""
    venv = swarmzoo.make_vec("coverage-v0", 1, n_agents=2, battery=0.05, objectives=("energy", "served"))
    venv.reset(seed=0)
    a = np.zeros((1, 2, 2), dtype=np.float32)
    a[0, 0] = (1.0, 0.0)
    done_at = None
    for step in range(40):
        _, r, term, _, info = venv.step(a)
        if done_at is not None:
            np.testing.assert_array_equal(r[0, 0], [0.0, 0.0])
            assert r[0, 1, 0] < 0  # the other robot still spends energy
        elif term[0, 0]:
            done_at = step
        assert not info["_episode"].any()
    assert done_at is not None and done_at < 20
