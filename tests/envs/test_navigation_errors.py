"""Bad input gets a clear error that names the problem, on both faces of ``navigation-v0``."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo
from swarmzoo.envs import navigation

N = 3


def _discrete():
    env = swarmzoo.make("navigation-v0", n_agents=N, max_cycles=3)
    env.reset(seed=0)
    return env


def _continuous():
    env = swarmzoo.make("navigation-v0", n_agents=N, max_cycles=3, continuous_actions=True)
    env.reset(seed=0)
    return env


def _acts(env, value, **override):
    acts = {a: value for a in env.agents}
    acts.update(override)
    return acts


# -- the PettingZoo face: actions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (1.0, TypeError, "discrete actions must be integers"),
        (np.float32(2.0), TypeError, "discrete actions must be integers"),
        (np.array(1.0), TypeError, "discrete actions must be integers"),
        (True, TypeError, "discrete actions must be integers"),
        ("1", TypeError, "discrete actions must be integers"),
        (None, TypeError, "discrete actions must be integers"),
        (5, ValueError, r"discrete action 5 out of range \[0, 4\]"),
        (-1, ValueError, r"discrete action -1 out of range \[0, 4\]"),
        (np.int64(17), ValueError, r"discrete action 17 out of range"),
    ],
)
def test_parallel_bad_discrete_action(bad, error, match) -> None:
    env = _discrete()
    with pytest.raises(error, match=match):
        env.step(_acts(env, 0, robot_1=bad))


def test_parallel_discrete_action_of_wrong_shape_for_one_robot() -> None:
    """An array where an integer is expected: the message names the shape problem or the robot,
    not numpy's internal "inhomogeneous shape" complaint."""
    env = _discrete()
    with pytest.raises(ValueError, match=r"robot_1|discrete actions must"):
        env.step(_acts(env, 0, robot_1=np.array([1, 2])))


def test_parallel_discrete_actions_all_of_wrong_shape() -> None:
    env = _discrete()
    with pytest.raises(ValueError, match=r"action for robot_0 has shape \(1,\), expected \(\)"):
        env.step(_acts(env, np.array([1])))


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.array([0.0, np.nan], np.float32), ValueError, "NaN or inf"),
        (np.array([np.inf, 0.0]), ValueError, "NaN or inf"),
        (np.array([0.0, -np.inf]), ValueError, "NaN or inf"),
        (np.array([1.5, 0.0], np.float32), ValueError, "out of bounds"),
        (np.array([0.0, -1.0001]), ValueError, "out of bounds"),
        (np.array(["a", "b"]), TypeError, "continuous actions must be numbers"),
    ],
)
def test_parallel_bad_continuous_action(bad, error, match) -> None:
    env = _continuous()
    with pytest.raises(error, match=match):
        env.step(_acts(env, np.zeros(2, np.float32), robot_2=bad))


def test_parallel_continuous_actions_all_of_wrong_shape() -> None:
    env = _continuous()
    with pytest.raises(ValueError, match=r"action for robot_0 has shape \(3,\), expected \(2,\)"):
        env.step(_acts(env, np.zeros(3, np.float32)))


def test_parallel_continuous_action_of_wrong_shape_for_one_robot() -> None:
    """One robot sends 3 numbers instead of 2: the message must name the robot or the expected
    shape, not numpy's internal "inhomogeneous shape" complaint."""
    env = _continuous()
    with pytest.raises(ValueError, match=r"robot_1|continuous actions must have shape"):
        env.step(_acts(env, np.zeros(2, np.float32), robot_1=np.zeros(3, np.float32)))


def test_parallel_out_of_bounds_continuous_action_is_not_clipped() -> None:
    env = _continuous()
    before = env.unwrapped.task.pos.copy()
    with pytest.raises(ValueError, match="out of bounds"):
        env.step(_acts(env, np.array([2.0, 0.0], np.float32)))
    # A refused step changes nothing.
    np.testing.assert_array_equal(env.unwrapped.task.pos, before)
    assert int(env.unwrapped.task.steps[0]) == 0


def test_parallel_unknown_agent() -> None:
    env = _discrete()
    with pytest.raises(ValueError, match=r"unknown agent\(s\) \['robot_9'\]"):
        env.step(_acts(env, 0, robot_9=0))
    with pytest.raises(ValueError, match=r"unknown agent\(s\) \['drone_0'\]"):
        env.step({"drone_0": 0, **{a: 0 for a in env.agents[1:]}})


def test_parallel_missing_action_for_live_agent() -> None:
    env = _discrete()
    acts = _acts(env, 0)
    del acts["robot_1"]
    with pytest.raises(ValueError, match=r"missing actions for live agent\(s\) \['robot_1'\]"):
        env.step(acts)
    with pytest.raises(ValueError, match="missing actions"):
        env.step({})


def test_parallel_actions_not_a_dict() -> None:
    env = _discrete()
    with pytest.raises(TypeError, match="actions must be a dict keyed by agent name"):
        env.step([0] * N)


def test_parallel_spaces_of_unknown_agent() -> None:
    env = _discrete()
    with pytest.raises(ValueError, match="unknown agent 'robot_7'"):
        env.action_space("robot_7")
    with pytest.raises(ValueError, match="unknown agent 'robot_7'"):
        env.observation_space("robot_7")


def test_parallel_step_before_reset() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=N)
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        env.step({a: 0 for a in env.possible_agents})


def test_parallel_step_after_episode_ended() -> None:
    env = _discrete()
    for _ in range(3):
        _, _, _, trunc, _ = env.step(_acts(env, 0))
    assert all(trunc.values()) and env.agents == []
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        env.step({a: 0 for a in env.possible_agents})
    with pytest.raises(RuntimeError, match="no live agents"):
        env.step({})
    env.reset()
    env.step(_acts(env, 0))  # a reset makes it usable again


def test_parallel_step_after_termination() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=1, terminate_on_success=True)
    env.reset(seed=0)
    task = env.unwrapped.task
    task.pos[:] = task.goals
    task.vel[:] = 0.0
    _, _, term, _, _ = env.step({"robot_0": 0})
    assert term == {"robot_0": True}
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        env.step({"robot_0": 0})


def test_aec_step_before_reset_is_refused() -> None:
    env = swarmzoo.make_aec("navigation-v0", n_agents=2)
    with pytest.raises(Exception, match="reset"):
        env.step(0)


@pytest.mark.parametrize("make", [swarmzoo.make, swarmzoo.make_aec])
def test_bad_render_mode(make) -> None:
    with pytest.raises(ValueError, match=r"render_mode must be None, 'human' or 'rgb_array'"):
        make("navigation-v0", render_mode="ansi")


# -- the vector face: actions -----------------------------------------------------------------


E = 2


def _vec(**kw):
    venv = swarmzoo.make_vec("navigation-v0", E, n_agents=N, max_cycles=3, **kw)
    venv.reset(seed=0)
    return venv


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros((E, N)), TypeError, "discrete actions must be integers"),
        (np.zeros((E, N), dtype=bool), TypeError, "discrete actions must be integers"),
        (np.zeros((E, N + 1), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(2, 4\)"),
        (np.zeros((N,), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(3,\)"),
        (np.full((E, N), 5), ValueError, r"discrete action 5 out of range \[0, 4\]"),
        (np.full((E, N), -2), ValueError, r"discrete action -2 out of range"),
    ],
)
def test_vector_bad_discrete_actions(bad, error, match) -> None:
    venv = _vec()
    with pytest.raises(error, match=match):
        venv.step(bad)


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros((E, N)), ValueError, r"shape \(E, N, A\) = \(2, 3, 2\), got \(2, 3\)"),
        (np.zeros((E, N, 5)), ValueError, r"shape \(E, N, A\) = \(2, 3, 2\), got \(2, 3, 5\)"),
        (np.full((E, N, 2), np.nan), ValueError, "NaN or inf"),
        (np.full((E, N, 2), np.inf), ValueError, "NaN or inf"),
        (np.full((E, N, 2), 1.01), ValueError, "out of bounds"),
        (np.full((E, N, 2), -3.0), ValueError, "out of bounds"),
        (np.full((E, N, 2), "x"), TypeError, "continuous actions must be numbers"),
    ],
)
def test_vector_bad_continuous_actions(bad, error, match) -> None:
    venv = _vec(continuous_actions=True)
    before = venv.task.pos.copy()
    with pytest.raises(error, match=match):
        venv.step(bad)
    np.testing.assert_array_equal(venv.task.pos, before)


def test_vector_step_before_reset() -> None:
    venv = swarmzoo.make_vec("navigation-v0", E, n_agents=N)
    with pytest.raises(RuntimeError, match=r"before reset\(\)"):
        venv.step(np.zeros((E, N), dtype=int))


def test_vector_keeps_going_after_an_episode_ends() -> None:
    """The vector face auto-resets, so stepping past an episode end is not an error."""
    venv = _vec()
    for _ in range(7):
        venv.step(np.zeros((E, N), dtype=int))


def test_vector_bad_num_envs() -> None:
    with pytest.raises(ValueError, match=r"n_envs|num_envs"):
        swarmzoo.make_vec("navigation-v0", 0)
    with pytest.raises(ValueError, match="render_mode"):
        swarmzoo.make_vec("navigation-v0", 2, render_mode="ansi")


# -- impossible configs, both faces -----------------------------------------------------------


BAD_CONFIGS = [
    ({"n_agents": 0}, r"n_agents must be an integer >= 1"),
    ({"n_agents": -3}, r"n_agents must be an integer >= 1"),
    ({"n_agents": 2.5}, r"n_agents must be an integer"),
    ({"n_goals": 0}, r"n_goals must be an integer >= 1"),
    ({"n_obstacles": -1}, r"n_obstacles must be an integer >= 0"),
    ({"robot_radius": -0.1}, r"robot_radius must be a finite number"),
    ({"robot_radius": 0.0}, r"robot_radius must be a finite number"),
    ({"obstacle_radius": -1.0}, r"obstacle_radius must be a finite number"),
    ({"goal_radius": np.nan}, r"goal_radius must be a finite number"),
    ({"sensing_radius": -0.5}, r"sensing_radius must be a finite number"),
    ({"sensing_radius": 0.0}, r"sensing_radius must be a finite number"),
    ({"arena_width": 0.0}, r"arena_width must be a finite number"),
    ({"arena_height": -2.0}, r"arena_height must be a finite number"),
    ({"max_speed": 0.0}, r"max_speed must be a finite number"),
    ({"dt": 0.0}, r"dt must be a finite number"),
    ({"damping": 1.0}, r"damping must be a finite number"),
    ({"local_ratio": 1.5}, r"local_ratio must be a finite number"),
    ({"collision_penalty": -1.0}, r"collision_penalty must be a finite number"),
    ({"max_cycles": 0}, r"max_cycles must be an integer >= 1"),
    ({"k_robots": -1}, r"k_robots must be an integer >= 0"),
    ({"boundary": "sphere"}, r"boundary must be one of"),
    ({"shared_reward": "max"}, r"shared_reward must be 'mean' or 'sum'"),
    ({"continuous_actions": 1}, r"continuous_actions must be True or False"),
    ({"n_obstacles": 100}, r"n_obstacles=100 obstacles .* at most 50% fits"),
    ({"n_obstacles": 3, "obstacle_radius": 1.0}, r"n_obstacles=3 obstacles of radius 1"),
    ({"robot_radius": 1.5}, r"robot_radius=1.5 does not fit"),
    ({"n_agent": 3}, r"no argument 'n_agent' \(did you mean 'n_agents'\?\)"),
    ({"num_obstacles": 3}, r"no argument 'num_obstacles' \(did you mean 'n_obstacles'\?\)"),
    ({"sensing_raduis": 0.5}, r"did you mean 'sensing_radius'"),
    ({"zzz": 1}, r"has no argument 'zzz'; arguments: \["),
    ({"preset": "mpe_spred"}, r"unknown preset 'mpe_spred'.*presets: \['mpe_spread'\]"),
    ({"preset": "mpe_spread", "n_obstacles": 2}, r"mpe_compat .* no obstacles"),
    ({"preset": "mpe_spread", "boundary": "torus"}, r"mpe_compat .* no torus"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_CONFIGS, ids=[str(i) for i in range(len(BAD_CONFIGS))])
@pytest.mark.parametrize("face", ["parallel", "aec", "vector", "module"])
def test_impossible_configs(face, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        if face == "parallel":
            swarmzoo.make("navigation-v0", **kwargs)
        elif face == "aec":
            swarmzoo.make_aec("navigation-v0", **kwargs)
        elif face == "vector":
            swarmzoo.make_vec("navigation-v0", 2, **kwargs)
        else:
            navigation.parallel_env(**kwargs)


def test_config_dataclass_validates_directly() -> None:
    with pytest.raises(ValueError, match="n_agents"):
        navigation.Config(n_agents=0)
    with pytest.raises(ValueError, match="sensing_radius"):
        navigation.Config(sensing_radius=-1.0)


@pytest.mark.parametrize(
    "make", [swarmzoo.make, swarmzoo.make_aec, lambda env_id: swarmzoo.make_vec(env_id, 2)]
)
def test_unknown_env_id(make) -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown env id 'navigatoin-v0'\. Did you mean "
        r"'navigation-v0'\?",
    ):
        make("navigatoin-v0")
