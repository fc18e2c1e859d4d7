"""``coverage-v0`` passes PettingZoo's own test utilities over a matrix of arguments; its vector and
PettingZoo faces replay each other (infos and the end-of-episode ``w2`` included, through
auto-resets and robots whose batteries run out); robots with an empty battery leave ``agents``
on the PettingZoo face and are handled by its AEC form; it is reachable through both registries
and deterministic under seeding.

The matrix crosses N = 1, 2, 8, 64 with discrete and continuous actions, and adds every shipped
map, grayscale and RGB image files, Gaussian mixtures, non-square arenas, a battery (robots
terminate mid-episode), an early ``done_fraction``, periodic ``w2`` and bare or wide
observations.
"""

from __future__ import annotations

import random

import numpy as np
import pettingzoo
import pytest
from pettingzoo import AECEnv, ParallelEnv

import swarmzoo
from swarmzoo.envs import coverage
from swarmzoo.envs.core import SwarmParallelEnv, SwarmVectorEnv
from swarmzoo.envs.registry import spec
from tests.envs.matrix import (
    BATTERY_CONTINUOUS,
    BATTERY_DISCRETE,
    COVERAGE_CONFIGS,
    GAUSSIANS,
    assert_same,
    random_actions,
    resolve,
    vector_actions,
    write_images,
)

CASES = COVERAGE_CONFIGS  # the configs of the conformance matrix
PARAMS = [pytest.param(kw, id=name) for name, kw in CASES.items()]
SMALL_PARAMS = [p for p in PARAMS if p.values[0]["n_agents"] < 64]


def cycles(kwargs: dict, small: int = 20, large: int = 5) -> int:
    """Cycles to run: fewer at N = 64 (the AEC form steps one robot at a time)."""
    return large if kwargs["n_agents"] >= 64 else small


# PettingZoo's checks warn about infinite observation / state bounds; those are by design here.
# Its warnings about dead agents are not: they fail the test (these filters are applied last).
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("error:Live agent was not given:UserWarning"),
    pytest.mark.filterwarnings("error:Agent was given .* but was dead:UserWarning"),
    pytest.mark.filterwarnings("error:No agents present:UserWarning"),
]


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> dict[str, str]:
    """A grayscale and an RGB PNG map (non-square, structured), by placeholder."""
    return write_images(tmp_path_factory.mktemp("coverage_maps"))


# -- PettingZoo's own test utilities -----------------------------------------------------------


def test_render_large_swarm_and_vector_face() -> None:
    env = coverage.parallel_env(n_agents=64, map="disaster", render_mode="rgb_array", max_cycles=3)
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    while env.agents:  # through the episode's end, where the W2 line joins the HUD
        env.step({a: env.action_space(a).sample() for a in env.agents})
        assert env.render().shape == frame.shape
    env.close()
    venv = coverage.vector_env(2, n_agents=8, render_mode="rgb_array", max_cycles=2)
    venv.reset(seed=0)
    for _ in range(3):
        venv.step(np.zeros((2, 8, 2), np.float32))
        assert venv.render().shape[2] == 3
    venv.close()


# -- spaces, infos and the documented sizes ------------------------------------------------------

STEP_INFO_KEYS = {"served_fraction", "served", "battery"}


@pytest.mark.parametrize("kwargs", PARAMS)
def test_spaces_and_agents(kwargs, images) -> None:
    env = coverage.parallel_env(**resolve(kwargs, images))
    n = kwargs["n_agents"]
    assert env.possible_agents == [f"robot_{i}" for i in range(n)]
    obs, infos = env.reset(seed=0)
    assert env.agents == env.possible_agents
    for agent in env.agents:
        assert env.observation_space(agent).contains(obs[agent])
        assert obs[agent].dtype == np.float32 and np.isfinite(obs[agent]).all()
        assert isinstance(infos[agent], dict)
    assert env.state_space.contains(env.state())
    assert env.metadata["name"] == "coverage_v0"
    assert set(env.metadata["render_modes"]) == {"human", "rgb_array"}
    cfg = env.unwrapped.task.config
    # The module docstring's sizes: 5 + C^2 + 3 k_robots, and 5 N + w2_resolution^2.
    assert env.observation_space("robot_0").shape == (5 + cfg.crop_size**2 + 3 * cfg.k_robots,)
    assert env.state_space.shape == (5 * n + cfg.w2_resolution**2,)
    space = env.action_space("robot_0")
    if kwargs.get("continuous_actions", True):  # continuous by default
        assert space.shape == (2,) and space.dtype == np.float32
        np.testing.assert_array_equal(space.low, -1.0)
        np.testing.assert_array_equal(space.high, 1.0)
    else:
        assert space.n == 5 and space.start == 0
    _, rew, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert set(rew) == set(env.possible_agents)
    assert np.isfinite(list(rew.values())).all()
    for agent in env.possible_agents:
        assert STEP_INFO_KEYS <= set(infos[agent]) <= STEP_INFO_KEYS | {"w2"}
        assert all(np.isfinite(v) for v in infos[agent].values())
        assert 0.0 <= infos[agent]["served_fraction"] <= 1.0
        assert 0.0 <= infos[agent]["battery"] <= 1.0


@pytest.mark.parametrize("kwargs", PARAMS)
def test_vector_face_spaces(kwargs, images) -> None:
    E = 2
    venv = coverage.vector_env(E, **resolve(kwargs, images))
    n = venv.n_agents
    obs, infos = venv.reset(seed=0)
    assert isinstance(infos, dict)
    assert obs.shape == (E, n, *venv.single_observation_space.shape) and obs.dtype == np.float32
    assert venv.observation_space.contains(obs)
    venv.action_space.seed(0)
    for _ in range(3):
        obs, rew, term, trunc, infos = venv.step(venv.action_space.sample())
        assert venv.observation_space.contains(obs)
        assert rew.shape == term.shape == trunc.shape == (E, n)
        assert term.dtype == trunc.dtype == bool
        assert np.isfinite(rew).all()
        assert infos["served_fraction"].shape == (E,)
        assert infos["served"].shape == infos["battery"].shape == (E, n)
    state = venv.state()
    assert state.shape == (E, *venv.state_space.shape)
    assert all(venv.state_space.contains(s) for s in state)


# -- the registries ------------------------------------------------------------------------------


def test_list_envs_includes_coverage() -> None:
    assert "coverage-v0" in swarmzoo.list_envs()


@pytest.mark.parametrize("env_id", ["coverage-v0", "swarmzoo/coverage-v0"])
def test_make_all_faces(env_id) -> None:
    assert spec(env_id).load() is coverage
    assert spec(env_id).description
    env = swarmzoo.make(env_id, n_agents=4, max_cycles=5, map="ring")
    assert isinstance(env, ParallelEnv) and isinstance(env, SwarmParallelEnv)
    assert env.possible_agents == [f"robot_{i}" for i in range(4)] and env.max_cycles == 5
    obs, _ = env.reset(seed=0)
    same, _ = coverage.parallel_env(n_agents=4, max_cycles=5, map="ring").reset(seed=0)
    for agent in env.possible_agents:
        np.testing.assert_array_equal(obs[agent], same[agent])
    aec = swarmzoo.make_aec(env_id, n_agents=3)
    assert isinstance(aec, AECEnv)
    aec.reset(seed=1)
    assert aec.agent_selection == "robot_0"
    aec.step(np.zeros(2, np.float32))
    assert aec.agent_selection == "robot_1"
    venv = swarmzoo.make_vec(env_id, 3, n_agents=2, continuous_actions=False)
    assert isinstance(venv, SwarmVectorEnv) and venv.num_envs == 3 and venv.n_agents == 2
    vobs, _ = venv.reset(seed=0)
    assert vobs.shape == (3, 2, *venv.single_observation_space.shape)
    venv.step(np.zeros((3, 2), dtype=int))


def test_pettingzoo_registry() -> None:
    env = pettingzoo.make("parallel", "swarmzoo/coverage-v0", n_agents=3, max_cycles=7)
    assert isinstance(env, SwarmParallelEnv)
    assert env.possible_agents == ["robot_0", "robot_1", "robot_2"] and env.max_cycles == 7
    env.reset(seed=0)
    env.step({a: np.zeros(2, np.float32) for a in env.agents})
    aec = pettingzoo.make("aec", "swarmzoo/coverage-v0", n_agents=2)
    assert isinstance(aec, AECEnv)
    aec.reset(seed=0)
    assert aec.agent_selection == "robot_0"


# -- robots with an empty battery ----------------------------------------------------------------


def test_parallel_face_removes_robots_with_an_empty_battery() -> None:
    """Robots leave ``agents`` the step their battery reaches 0 (reported terminated once), the
    rest go on; the episode ends when the last one dies, before ``max_cycles``."""
    env = coverage.parallel_env(n_agents=6, max_cycles=100, **BATTERY_CONTINUOUS)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    gone: list[str] = []
    counts = []
    steps = 0
    while env.agents:
        live = list(env.agents)
        # Robot 0 coasts (slowest drain), the others push hard: they die at different steps.
        acts = {a: rng.uniform(-1, 1, 2).astype(np.float32) for a in live}
        if "robot_0" in acts:
            acts["robot_0"] = np.zeros(2, np.float32)
        obs, rew, term, trunc, infos = env.step(acts)
        steps += 1
        assert set(obs) == set(rew) == set(term) == set(trunc) == set(infos) == set(live)
        assert not any(trunc.values())
        dead = [a for a in live if term[a]]
        for a in dead:
            assert infos[a]["battery"] == 0.0 and obs[a][4] == 0.0
        for a in live:
            if not term[a]:
                assert infos[a]["battery"] > 0.0
        assert env.agents == [a for a in live if not term[a]]
        gone += dead
        counts.append(len(env.agents))
    assert steps < 100
    assert sorted(gone) == sorted(env.possible_agents) and len(gone) == 6
    assert gone[-1] == "robot_0"  # the coasting robot lasts longest
    assert len(set(counts)) > 2, "robots should die at different steps"
    assert "w2" in infos["robot_0"]  # the episode's end
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        env.step({})
    # Dead robots stay where they died and serve nothing until the reset.
    task = env.unwrapped.task
    np.testing.assert_array_equal(task.vel, 0.0)


def test_parallel_face_refuses_actions_for_dead_robots() -> None:
    """A moving robot (cost 0.5 of its battery per step) dies at step 2, coasting ones (0.25) at
    step 4; after that an action for the dead robot is refused and the others go on."""
    env = coverage.parallel_env(n_agents=3, battery=1.0, idle_cost=0.25, accel_cost=0.25)
    env.reset(seed=0)
    push, coast = np.array([1.0, 0.0], np.float32), np.zeros(2, np.float32)
    for step in (1, 2):
        _, _, term, _, _ = env.step({"robot_0": push, "robot_1": coast, "robot_2": coast})
        assert term == {"robot_0": step == 2, "robot_1": False, "robot_2": False}
    assert env.agents == ["robot_1", "robot_2"]
    with pytest.raises(ValueError, match=r"actions for agent\(s\) that are done: \['robot_0'\]"):
        env.step({"robot_0": push, "robot_1": coast, "robot_2": coast})
    for step in (3, 4):
        obs, _, term, _, infos = env.step({"robot_1": coast, "robot_2": coast})
        assert set(obs) == {"robot_1", "robot_2"}
        assert all(term.values()) == (step == 4)
    assert env.agents == [] and "w2" in infos["robot_1"]


def test_aec_form_handles_dead_robots() -> None:
    """On the AEC form a robot whose battery ran out is reported terminated, must be stepped
    with None once, and then leaves ``agents``; the others keep their turns."""
    env = coverage.env(n_agents=4, max_cycles=60, **BATTERY_DISCRETE)
    env.reset(seed=2)
    rng = np.random.default_rng(1)
    removed_at: dict[str, int] = {}
    turns = {a: 0 for a in env.possible_agents}
    for i, agent in enumerate(env.agent_iter(max_iter=2000)):
        obs, rew, term, trunc, info = env.last()
        turns[agent] += 1
        assert agent not in removed_at, f"{agent} got a turn after it was removed"
        if term or trunc:
            assert term and not trunc
            assert info["battery"] == 0.0 and obs[4] == 0.0
            env.step(None)
            assert agent not in env.agents
            removed_at[agent] = i
        else:
            # robot_0 coasts (drains slowest), the others move.
            env.step(0 if agent == "robot_0" else int(rng.integers(1, 5)))
    assert set(removed_at) == set(env.possible_agents)
    assert env.agents == []
    assert max(removed_at, key=removed_at.get) == "robot_0"
    assert turns["robot_0"] > max(turns[a] for a in ("robot_1", "robot_2", "robot_3"))


# -- the vector face replays the PettingZoo face -------------------------------------------------

E = 3
SEED = 10
PARITY = {
    "discrete": dict(n_agents=6, max_cycles=5),
    "continuous_gaussians_non_square": dict(
        n_agents=5,
        gaussians=GAUSSIANS,
        arena_width=3.0,
        arena_height=1.5,
        continuous_actions=True,
        max_cycles=4,
    ),
    "ring_local_reward": dict(n_agents=8, map="ring", local_ratio=1.0, max_cycles=4),
    "disaster_shared_reward_continuous": dict(
        n_agents=4, map="disaster", local_ratio=0.0, continuous_actions=True, max_cycles=3
    ),
    # Robots die at different steps and copies end at different steps (all batteries empty).
    "battery_continuous": dict(n_agents=3, max_cycles=40, **BATTERY_CONTINUOUS),
    "battery_discrete": dict(n_agents=2, max_cycles=40, **BATTERY_DISCRETE),
    # Copies end by termination once 3 % of the demand is served (different steps per copy).
    "done_fraction": dict(n_agents=10, map="two_hotspots", done_fraction=0.03, max_cycles=30),
    # Periodic W2 while the copies are out of step (their batteries empty at different steps).
    "w2_every_battery": dict(n_agents=2, w2_every=3, max_cycles=40, **BATTERY_CONTINUOUS),
    "w2_every": dict(n_agents=3, w2_every=2, max_cycles=5),
}
PARITY_PARAMS = [pytest.param(kw, id=name) for name, kw in PARITY.items()]
VECTOR_KEYS = {"_final_obs", "_episode", "final_obs", "final_state", "episode_return", "episode_length"}
ENDS_EARLY = ("battery", "done_fraction")  # configs whose copies end at different steps


@pytest.mark.parametrize("kwargs", PARITY_PARAMS)
def test_vector_and_pettingzoo_faces_match(kwargs) -> None:
    venv = swarmzoo.make_vec("coverage-v0", E, **kwargs)
    envs = [swarmzoo.make("coverage-v0", **kwargs) for _ in range(E)]
    agents = envs[0].possible_agents
    n = len(agents)
    assert venv.agents == agents
    assert venv.single_observation_space == envs[0].observation_space(agents[0])
    assert venv.single_action_space == envs[0].action_space(agents[0])
    assert venv.state_space == envs[0].state_space

    vobs, vreset_infos = venv.reset(seed=SEED)
    for i, env in enumerate(envs):
        obs, reset_infos = env.reset(seed=SEED + i)
        np.testing.assert_array_equal(vobs[i], np.stack([obs[a] for a in agents]))
        np.testing.assert_array_equal(venv.state()[i], env.state())
        assert all(reset_infos[a].keys() == vreset_infos.keys() for a in agents)

    rng = np.random.default_rng(0)
    returns = np.zeros((E, n))
    lengths = np.zeros(E, dtype=int)
    resets = np.zeros(E, dtype=int)
    w2_seen = 0
    steps = 2 * kwargs["max_cycles"] + 3
    for _ in range(steps):
        acts = vector_actions(venv, rng)
        vobs, vrew, vterm, vtrunc, vinfos = venv.step(acts)
        finished = vinfos["_final_obs"]
        np.testing.assert_array_equal(vinfos["_episode"], finished)
        task_keys = set(vinfos) - VECTOR_KEYS
        assert STEP_INFO_KEYS <= task_keys <= STEP_INFO_KEYS | {"w2"}
        for i, env in enumerate(envs):
            live = list(env.agents)
            idx = [agents.index(a) for a in live]
            dead = [j for j in range(n) if j not in idx]
            obs, rew, term, trunc, infos = env.step({a: acts[i][agents.index(a)] for a in live})
            assert set(rew) == set(live)
            np.testing.assert_array_equal(vrew[i][idx], [rew[a] for a in live])
            np.testing.assert_array_equal(vrew[i][dead], 0.0)  # the vector face's dead robots
            np.testing.assert_array_equal(vterm[i][idx], [term[a] for a in live])
            np.testing.assert_array_equal(vtrunc[i][idx], [trunc[a] for a in live])
            for key in sorted(STEP_INFO_KEYS):
                np.testing.assert_array_equal(
                    np.broadcast_to(np.asarray(vinfos[key])[i], (n,))[idx],
                    [infos[a][key] for a in live],
                    err_msg=key,
                )
            # W2: reported for copy i exactly when the PettingZoo env reports it, same value.
            has_w2 = {"w2" in infos[a] for a in live}
            assert len(has_w2) == 1
            if has_w2.pop():
                w2_seen += 1
                assert "w2" in vinfos, "the PettingZoo face reports w2, the vector face does not"
                assert np.isfinite(infos[live[0]]["w2"]) and infos[live[0]]["w2"] > 0
                assert all(infos[a]["w2"] == vinfos["w2"][i] for a in live)
            else:
                assert "w2" not in vinfos or np.isnan(vinfos["w2"][i]), (
                    f"copy {i} has w2={vinfos['w2'][i]} on the vector face at step "
                    f"{lengths[i] + 1}, none on the PettingZoo face"
                )
            returns[i][idx] += [rew[a] for a in live]
            lengths[i] += 1
            done = not env.agents
            assert bool(finished[i]) == done
            if done:
                assert "w2" in infos[live[0]]  # every episode's end reports W2
                np.testing.assert_array_equal(vinfos["final_obs"][i][idx], [obs[a] for a in live])
                np.testing.assert_array_equal(vinfos["final_state"][i], env.state())
                np.testing.assert_array_equal(vinfos["episode_return"][i], returns[i])
                assert vinfos["episode_length"][i] == lengths[i]
                obs, _ = env.reset()  # no seed: the copy's stream continues
                returns[i] = 0.0
                lengths[i] = 0
                resets[i] += 1
                np.testing.assert_array_equal(vobs[i], np.stack([obs[a] for a in agents]))
            else:
                np.testing.assert_array_equal(vobs[i][idx], [obs[a] for a in live])
            np.testing.assert_array_equal(venv.state()[i], env.state())
    assert np.all(resets >= 1), resets
    assert w2_seen >= E
    if any(key in kwargs for key in ENDS_EARLY):
        assert len(set(resets.tolist())) > 1 or np.any(lengths != lengths[0]), (
            "copies should end at different times"
        )


def test_vector_face_reports_w2_only_for_finished_copies() -> None:
    """At an episode end ``infos["w2"]`` holds each finished copy's W2 and NaN for the others,
    and it matches ``coverage_w2()`` of the finished state."""
    venv = coverage.vector_env(3, n_agents=10, map="two_hotspots", done_fraction=0.03, max_cycles=50)
    venv.reset(seed=0)
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(60):
        task = venv.task
        _, _, _, _, infos = venv.step(vector_actions(venv, rng))
        if "w2" not in infos:
            assert not infos["_episode"].any()
            continue
        w2 = infos["w2"]
        np.testing.assert_array_equal(np.isfinite(w2), infos["_episode"])
        assert np.all(w2[infos["_episode"]] > 0)
        checked += int(infos["_episode"].sum())
        assert task is venv.task
    assert checked >= 3


# -- determinism --------------------------------------------------------------------------------

DETERMINISM = {
    "discrete": dict(n_agents=8, max_cycles=6),
    "continuous_battery": dict(n_agents=4, max_cycles=15, **BATTERY_CONTINUOUS),
    "gaussians_non_square_continuous": dict(
        n_agents=5,
        gaussians=GAUSSIANS,
        arena_width=2.5,
        arena_height=1.0,
        max_cycles=5,
        continuous_actions=True,
    ),
}
DET_PARAMS = [pytest.param(kw, id=name) for name, kw in DETERMINISM.items()]


def _disturb_global_rngs(value: int) -> None:
    """Scramble the global random streams: an env that secretly used them would diverge."""
    np.random.seed(value)  # noqa: NPY002 - the legacy global stream is the one to scramble
    random.seed(value)


def _parallel_rollout(kwargs: dict, seed: int, episodes: int = 2, disturb: int = 0) -> list:
    env = coverage.parallel_env(**kwargs)
    _disturb_global_rngs(disturb)
    rng = np.random.default_rng(1234)
    trace = []
    for ep in range(episodes):
        obs, infos = env.reset(seed=seed) if ep == 0 else env.reset()
        trace.append(("reset", obs, infos, env.state()))
        while env.agents:
            out = env.step(random_actions(env, rng))
            trace.append(("step", *out, env.state()))
    env.close()
    return trace


def _vector_rollout(kwargs: dict, seed: int, disturb: int = 0) -> list:
    venv = coverage.vector_env(E, **kwargs)
    _disturb_global_rngs(disturb)
    rng = np.random.default_rng(1234)
    obs, infos = venv.reset(seed=seed)
    trace = [("reset", obs.copy(), infos, venv.state())]
    for _ in range(2 * kwargs["max_cycles"] + 1):
        out = venv.step(vector_actions(venv, rng))
        trace.append(("step", *out, venv.state()))
    return trace


@pytest.mark.parametrize("kwargs", DET_PARAMS)
def test_parallel_same_seed_same_episodes(kwargs) -> None:
    a = _parallel_rollout(kwargs, seed=42, disturb=1)
    b = _parallel_rollout(kwargs, seed=42, disturb=2)
    assert sum(1 for t in a if t[0] == "reset") == 2
    assert_same(a, b)
    c = _parallel_rollout(kwargs, seed=43, episodes=1)
    assert not np.array_equal(a[0][3], c[0][3])


@pytest.mark.parametrize("kwargs", DET_PARAMS)
def test_vector_same_seed_same_trajectories(kwargs) -> None:
    a = _vector_rollout(kwargs, seed=7, disturb=1)
    b = _vector_rollout(kwargs, seed=7, disturb=2)
    assert any(bool(t[5]["_episode"].any()) for t in a[1:])
    assert_same(a, b)
    c = _vector_rollout(kwargs, seed=8)
    assert not np.array_equal(a[0][1], c[0][1])
    obs = a[0][1]  # copies differ from each other (seeds seed + i)
    assert not np.array_equal(obs[0], obs[1]) and not np.array_equal(obs[1], obs[2])


def test_second_episode_differs_from_the_first() -> None:
    env = coverage.parallel_env(n_agents=5)
    first, _ = env.reset(seed=5)
    first_state = env.state()
    env.reset()
    assert not np.array_equal(first_state, env.state())
    again, _ = env.reset(seed=5)
    np.testing.assert_array_equal(first_state, env.state())
    for agent in env.possible_agents:
        np.testing.assert_array_equal(first[agent], again[agent])
