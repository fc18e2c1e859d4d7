"""The Byzantine case studies pass PettingZoo's test utilities over a matrix of protocols,
attacks and graphs; both faces replay each other; attackers can be exposed as agents; bad
arguments are refused by name."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from pettingzoo.test import (
    render_test,
    state_test,
)

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.envs import byzantine_localization, byzantine_timesync, byzantine_tracking
from tests.envs.matrix import BYZANTINE_CONFIGS

MODULES = {
    "tracking": byzantine_tracking,
    "timesync": byzantine_timesync,
    "localization": byzantine_localization,
}
CASES = BYZANTINE_CONFIGS  # the configs of the conformance matrix
PARAMS = [pytest.param(m, kw, id=f"{m}-{c}") for m in MODULES for c, kw in CASES.items()]

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize(("env_name", "kwargs"), PARAMS)
def test_reset_reports_the_same_info_keys_as_step(env_name, kwargs) -> None:
    """RL libraries (TorchRL's PettingZooWrapper) build their info specs from reset."""
    mod = MODULES[env_name]
    env = mod.parallel_env(**kwargs)
    _, reset_infos = env.reset(seed=0)
    _, _, _, _, step_infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    for agent in env.agents:
        assert list(reset_infos[agent]) == list(step_infos[agent])
        for key, value in reset_infos[agent].items():
            assert np.shape(value) == np.shape(step_infos[agent][key]), key
    venv = swarmzoo.make_vec(f"byzantine-{env_name}-v0", num_envs=2, **kwargs)
    _, vec_reset = venv.reset(seed=0)
    _, _, _, _, vec_step = venv.step(np.zeros((2, *venv.action_space.shape[1:]), np.float32))
    assert {k for k in vec_step if not k.startswith("_")} == set(vec_reset)  # the face's own: _episode, ...


@pytest.mark.parametrize("env_name", list(MODULES))
def test_state_and_render(env_name) -> None:
    mod = MODULES[env_name]
    state_test(mod.env(n_robots=10), mod.parallel_env(n_robots=10))
    render_test(partial(mod.env, n_robots=10, max_cycles=5))
    env = mod.parallel_env(render_mode="rgb_array", n_robots=10, attack="bias")
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.std() > 0


@pytest.mark.parametrize("env_name", list(MODULES))
def test_faces_replay_each_other(env_name) -> None:
    mod = MODULES[env_name]
    kwargs = dict(n_robots=12, attack="bias", max_cycles=20)
    pz = mod.parallel_env(**kwargs)
    obs, _ = pz.reset(seed=3)
    venv = mod.vector_env(2, **kwargs)
    vobs, _ = venv.reset(seed=3)
    policy = make_policy("heuristic", f"byzantine-{env_name}-v0")
    for _ in range(20):
        np.testing.assert_allclose(np.stack(list(obs.values())), vobs[0], atol=1e-6)
        actions = policy.act(vobs, venv.task)
        obs, rew, *_ = pz.step(dict(zip(pz.agents, actions[0])))
        vobs, vrew, *_ = venv.step(actions)
        np.testing.assert_allclose(list(rew.values()), vrew[0], atol=1e-9)


def test_attackers_as_agents() -> None:
    env = byzantine_timesync.parallel_env(n_robots=10, n_byzantine=3, byzantine_agents=True, max_cycles=10)
    obs, _ = env.reset(seed=0)
    assert env.possible_agents[-3:] == ["byzantine_0", "byzantine_1", "byzantine_2"]
    assert env.possible_agents[0] == "robot_0" and len(obs) == 10
    # Attackers push their clocks forward as hard as they can; they are rewarded by the error.
    actions = {
        a: np.ones(1, np.float32) if a.startswith("byz") else np.zeros(1, np.float32) for a in env.agents
    }
    for _ in range(5):
        _, rew, *_ = env.step(actions)
    assert rew["byzantine_0"] > 0 > rew["robot_0"] and rew["byzantine_0"] == -rew["robot_0"]


def test_registry_and_cli_heuristic() -> None:
    ids = swarmzoo.list_envs()
    for name in MODULES:
        assert f"byzantine-{name}-v0" in ids
    from swarmzoo.evaluation import evaluate

    result = evaluate(
        "byzantine-timesync-v0",
        make_policy("heuristic", "byzantine-timesync-v0"),
        episodes=2,
        seed=0,
        n_robots=10,
    )
    assert result is not None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n_robots=1), "n_robots"),
        (dict(n_byzantine=2, byzantine_fraction=0.1), "at most one"),
        (dict(n_robots=5, n_byzantine=5), "at least one robot must be cooperative"),
        (dict(byzantine_ids=(0, 0)), "distinct"),
        (dict(attack="jam"), "attack"),
        (dict(protocol="pbft"), "protocol"),
        (dict(graph="harary", connectivity=50, n_robots=50), "connectivity"),
        (dict(graph="given"), "edges"),
        (dict(graph="given", edges=((0, 0),)), "two different robots"),
        (dict(check_tolerance=0.0), "check_tolerance"),
        (dict(measurement_noise=-1.0), "measurement_noise"),
        (dict(wmsr_f=-1), "wmsr_f"),
        (dict(authenticate=1), "authenticate"),
        (dict(fix_rate=2.0), "fix_rate"),
        (dict(n_robots=10, n_byzantine=5, n_references=6), "n_references"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        byzantine_timesync.parallel_env(**kwargs)


def test_out_of_range_actions_are_refused() -> None:
    env = byzantine_tracking.parallel_env(n_robots=5)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="out of bounds"):
        env.step({a: np.full(2, 1.5, np.float32) for a in env.agents})


def test_a_scalar_is_accepted_for_a_one_element_box_and_real_shape_errors_are_not() -> None:
    """AgileRL (and Gymnasium users) send a 0-d action for ``Box(-1, 1, (1,))``."""
    runs = []
    for wrap in (np.float32, float, lambda x: np.array([x], np.float32)):
        env = byzantine_timesync.parallel_env(n_robots=6)
        env.reset(seed=0)
        runs.append([env.step({a: wrap(0.3) for a in env.agents})[1]["robot_0"] for _ in range(3)])
    assert runs[0] == runs[2] and np.allclose(runs[1], runs[0])  # a Python float is float64
    env = byzantine_timesync.parallel_env(n_robots=6)
    env.reset(seed=0)
    for bad, shape in ((np.zeros((1, 1)), r"\(1, 1\)"), (np.zeros(2), r"\(2,\)")):
        with pytest.raises(ValueError, match=f"has shape {shape}, expected \\(1,\\)"):
            env.step({a: bad for a in env.agents})
    with pytest.raises(ValueError, match="out of bounds"):
        env.step({a: 1.5 for a in env.agents})
    two = byzantine_tracking.parallel_env(n_robots=5)  # Box (2,): a scalar is ambiguous
    two.reset(seed=0)
    with pytest.raises(ValueError, match=r"has shape \(\), expected \(2,\)"):
        two.step({a: 0.3 for a in two.agents})
