"""Bad input gets a clear error that names the problem, on both faces of the swarming envs
(``flocking-v0``, ``kuramoto-v0``, ``aggregation-v0``): bad actions, stepping out of turn and
impossible configs. A refused step changes nothing, random streams included."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import swarmzoo
from swarmzoo.envs import aggregation, flocking, kuramoto

N = 3
E = 2
ENVS = ["flocking", "kuramoto", "aggregation"]
MODULES = {"flocking": flocking, "kuramoto": kuramoto, "aggregation": aggregation}
# Discrete action-set size (set to something other than the default 5 where the env allows) and
# the continuous action shape of each env.
DISCRETE = {"flocking": dict(n_turns=3), "kuramoto": dict(n_controls=7), "aggregation": {}}
N_ACTIONS = {"flocking": 3, "kuramoto": 7, "aggregation": 5}
ACTION_DIM = {"flocking": 1, "kuramoto": 1, "aggregation": 2}
# Configs whose steps use randomness after the reset (a refused step must not consume it).
NOISY = {"flocking": dict(heading_noise=0.5), "kuramoto": dict(phase_noise=0.5), "aggregation": {}}


def _discrete(env_name: str, **kw):
    env = swarmzoo.make(f"{env_name}-v0", **{"n_agents": N, "max_cycles": 3, **DISCRETE[env_name], **kw})
    env.reset(seed=0)
    return env


def _continuous(env_name: str, **kw):
    env = swarmzoo.make(
        f"{env_name}-v0", **{"n_agents": N, "max_cycles": 3, "continuous_actions": True, **kw}
    )
    env.reset(seed=0)
    return env


def _acts(env, value, **override) -> dict:
    acts = {a: value for a in env.agents}
    acts.update(override)
    return acts


def _zeros(env_name: str) -> np.ndarray:
    return np.zeros(ACTION_DIM[env_name], np.float32)


def _snapshot(env) -> tuple:
    task = env.unwrapped.task
    return env.state().copy(), env.mean_field().samples.copy(), int(task.steps[0])


def _assert_unchanged(env, before: tuple) -> None:
    state, samples, steps = before
    np.testing.assert_array_equal(env.state(), state)
    np.testing.assert_array_equal(env.mean_field().samples, samples)
    assert int(env.unwrapped.task.steps[0]) == steps


# -- the PettingZoo face: discrete actions ------------------------------------------------------


@pytest.mark.parametrize("env_name", ENVS)
@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (1.0, TypeError, "discrete actions must be integers"),
        (np.float32(2.0), TypeError, "discrete actions must be integers"),
        (np.array(1.0), TypeError, "discrete actions must be integers"),
        (True, TypeError, "discrete actions must be integers"),
        (np.bool_(False), TypeError, "discrete actions must be integers"),
        (np.array(True), TypeError, "discrete actions must be integers"),
        ("1", TypeError, "discrete actions must be integers"),
        (None, TypeError, "discrete actions must be integers"),
        (-1, ValueError, r"discrete action -1 out of range \[0, {hi}\]"),
        ("n", ValueError, r"discrete action {n} out of range \[0, {hi}\]"),
        (np.int64(17), ValueError, r"discrete action 17 out of range \[0, {hi}\]"),
    ],
    ids=[
        "float",
        "np_float",
        "float_0d_array",
        "bool",
        "np_bool",
        "bool_0d_array",
        "str",
        "none",
        "neg",
        "n",
        "17",
    ],
)
def test_parallel_bad_discrete_action(env_name, bad, error, match) -> None:
    n = N_ACTIONS[env_name]
    if isinstance(bad, str) and bad == "n":
        bad = n
    env = _discrete(env_name)
    before = _snapshot(env)
    with pytest.raises(error, match=match.format(n=n, hi=n - 1)):
        env.step(_acts(env, 0, robot_1=bad))
    _assert_unchanged(env, before)


@pytest.mark.parametrize("env_name", ENVS)
def test_parallel_discrete_action_of_wrong_shape(env_name) -> None:
    env = _discrete(env_name)
    with pytest.raises(ValueError, match=r"action for robot_1 has shape \(2,\), expected \(\)"):
        env.step(_acts(env, 0, robot_1=np.array([1, 2])))
    with pytest.raises(ValueError, match=r"action for robot_0 has shape \(1,\), expected \(\)"):
        env.step(_acts(env, np.array([1])))


@pytest.mark.parametrize("env_name", ENVS)
def test_parallel_every_discrete_action_in_range_is_accepted(env_name) -> None:
    env = _discrete(env_name, max_cycles=50)
    for a in range(N_ACTIONS[env_name]):
        env.step(_acts(env, a, robot_2=np.int32(a)))


# -- the PettingZoo face: continuous actions ----------------------------------------------------


@pytest.mark.parametrize("env_name", ENVS)
@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (np.nan, ValueError, "NaN or inf"),
        (np.inf, ValueError, "NaN or inf"),
        (-np.inf, ValueError, "NaN or inf"),
        (1.5, ValueError, r"out of bounds \[-1.0, 1.0\]"),
        (-1.0001, ValueError, r"out of bounds \[-1.0, 1.0\]"),
        (1e9, ValueError, "out of bounds"),
        ("a", TypeError, "continuous actions must be numbers"),
    ],
    ids=["nan", "inf", "-inf", "1.5", "-1.0001", "huge", "str"],
)
def test_parallel_bad_continuous_action(env_name, value, error, match) -> None:
    env = _continuous(env_name)
    bad = np.zeros(ACTION_DIM[env_name], np.float64 if value != "a" else "<U1")
    bad[-1] = value
    before = _snapshot(env)
    with pytest.raises(error, match=match):
        env.step(_acts(env, _zeros(env_name), robot_2=bad))
    _assert_unchanged(env, before)


@pytest.mark.parametrize("env_name", ENVS)
def test_parallel_continuous_actions_of_wrong_shape(env_name) -> None:
    env = _continuous(env_name)
    dim = ACTION_DIM[env_name]
    expected = rf"expected \({dim},\)"
    with pytest.raises(ValueError, match=rf"action for robot_0 has shape \({dim + 2},\), {expected}"):
        env.step(_acts(env, np.zeros(dim + 2, np.float32)))
    with pytest.raises(ValueError, match=rf"action for robot_1 has shape \({dim + 1},\), {expected}"):
        env.step(_acts(env, _zeros(env_name), robot_1=np.zeros(dim + 1, np.float32)))
    if dim == 1:  # a bare number for a one-element Box is unambiguous: taken as [x]
        twin = _continuous(env_name)
        a = env.step(_acts(env, np.float32(0.5)))[0]["robot_0"]
        assert np.array_equal(a, twin.step(_acts(twin, np.full(1, 0.5, np.float32)))[0]["robot_0"])
    else:  # a bare number where a (dim,) array is expected
        with pytest.raises(ValueError, match=rf"action for robot_0 has shape \(\), {expected}"):
            env.step(_acts(env, 0.5))
    with pytest.raises(ValueError, match=rf"action for robot_2 has shape \(1, {dim}\), {expected}"):
        env.step(_acts(env, _zeros(env_name), robot_2=np.zeros((1, dim), np.float32)))


@pytest.mark.parametrize("env_name", ENVS)
def test_parallel_continuous_bounds_are_inclusive(env_name) -> None:
    env = _continuous(env_name, max_cycles=10)
    dim = ACTION_DIM[env_name]
    env.step(_acts(env, np.ones(dim, np.float32)))
    env.step(_acts(env, -np.ones(dim, np.float64)))
    env.step(_acts(env, [0.25] * dim))


@pytest.mark.parametrize("env_name", ENVS)
@pytest.mark.parametrize("continuous", [False, True])
def test_refused_step_consumes_no_randomness(env_name, continuous) -> None:
    """After a refused step the env continues exactly as one that never saw the bad action."""
    kw = dict(continuous_actions=continuous, **NOISY[env_name])
    clean = swarmzoo.make(f"{env_name}-v0", n_agents=N, max_cycles=5, **kw)
    refused = swarmzoo.make(f"{env_name}-v0", n_agents=N, max_cycles=5, **kw)
    clean.reset(seed=9)
    refused.reset(seed=9)
    good = np.full(ACTION_DIM[env_name], 0.5, np.float32) if continuous else 1
    bad = np.full(ACTION_DIM[env_name], np.nan, np.float32) if continuous else 99
    with pytest.raises(ValueError):
        refused.step(_acts(refused, good, robot_0=bad))
    for _ in range(3):
        a = clean.step(_acts(clean, good))
        b = refused.step(_acts(refused, good))
        for x, y in zip(a[:4], b[:4], strict=True):
            assert x.keys() == y.keys()
            np.testing.assert_array_equal(np.stack(list(x.values())), np.stack(list(y.values())))
        np.testing.assert_array_equal(clean.state(), refused.state())


# -- the PettingZoo face: agents and call order -------------------------------------------------


@pytest.mark.parametrize("env_name", ENVS)
def test_parallel_unknown_and_missing_agents(env_name) -> None:
    env = _discrete(env_name)
    with pytest.raises(ValueError, match=r"unknown agent\(s\) \['robot_9'\]"):
        env.step(_acts(env, 0, robot_9=0))
    acts = _acts(env, 0)
    del acts["robot_1"]
    with pytest.raises(ValueError, match=r"missing actions for live agent\(s\) \['robot_1'\]"):
        env.step(acts)
    with pytest.raises(TypeError, match="actions must be a dict keyed by agent name"):
        env.step([0] * N)
    with pytest.raises(ValueError, match="unknown agent 'robot_7'"):
        env.action_space("robot_7")
    with pytest.raises(ValueError, match="unknown agent 'robot_7'"):
        env.observation_space("robot_7")


@pytest.mark.parametrize("env_name", ENVS)
def test_parallel_step_before_reset(env_name) -> None:
    env = swarmzoo.make(f"{env_name}-v0", n_agents=N)
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        env.step({a: 0 for a in env.possible_agents})


@pytest.mark.parametrize("env_name", ENVS)
def test_parallel_step_after_episode_ended(env_name) -> None:
    env = _discrete(env_name)
    for _ in range(3):
        _, _, term, trunc, _ = env.step(_acts(env, 0))
    assert all(trunc.values()) and not any(term.values()) and env.agents == []
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        env.step({a: 0 for a in env.possible_agents})
    with pytest.raises(RuntimeError, match="no live agents"):
        env.step({})
    env.reset()
    env.step(_acts(env, 0))  # a reset makes it usable again


@pytest.mark.parametrize("env_name", ENVS)
def test_aec_step_before_reset_is_refused(env_name) -> None:
    env = swarmzoo.make_aec(f"{env_name}-v0", n_agents=2)
    with pytest.raises(Exception, match="reset"):
        env.step(0)


@pytest.mark.parametrize("env_name", ENVS)
def test_aec_bad_action(env_name) -> None:
    """The AEC form collects a cycle's actions and steps the parallel env at the cycle's end."""
    env = swarmzoo.make_aec(f"{env_name}-v0", n_agents=2, **DISCRETE[env_name])
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(ValueError, match=rf"discrete action {N_ACTIONS[env_name]} out of range"):
        env.step(N_ACTIONS[env_name])


@pytest.mark.parametrize("env_name", ENVS)
@pytest.mark.parametrize(
    "make", [swarmzoo.make, swarmzoo.make_aec, lambda i, **kw: swarmzoo.make_vec(i, 2, **kw)]
)
def test_bad_render_mode(env_name, make) -> None:
    with pytest.raises(ValueError, match=r"render_mode must be None, 'human' or 'rgb_array'"):
        make(f"{env_name}-v0", render_mode="ansi")


@pytest.mark.parametrize("env_name", ENVS)
def test_parallel_render_without_a_render_mode_warns(env_name) -> None:
    env = _discrete(env_name)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


# -- the vector face ----------------------------------------------------------------------------


def _vec(env_name: str, **kw):
    venv = swarmzoo.make_vec(f"{env_name}-v0", E, n_agents=N, max_cycles=3, **kw)
    venv.reset(seed=0)
    return venv


@pytest.mark.parametrize("env_name", ENVS)
@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros((E, N)), TypeError, "discrete actions must be integers"),
        (np.zeros((E, N), dtype=bool), TypeError, "discrete actions must be integers"),
        (np.zeros((E, N + 1), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(2, 4\)"),
        (np.zeros((N,), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(3,\)"),
        (np.zeros((E, N, 1), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(2, 3, 1\)"),
        ("n", ValueError, r"discrete action {n} out of range \[0, {hi}\]"),
        (np.full((E, N), -2), ValueError, r"discrete action -2 out of range \[0, {hi}\]"),
    ],
    ids=["float", "bool", "wide", "flat", "trailing_axis", "n", "neg"],
)
def test_vector_bad_discrete_actions(env_name, bad, error, match) -> None:
    n = N_ACTIONS[env_name]
    if isinstance(bad, str):
        bad = np.full((E, N), n)
    venv = _vec(env_name, **DISCRETE[env_name])
    before = venv.state().copy()
    with pytest.raises(error, match=match.format(n=n, hi=n - 1)):
        venv.step(bad)
    np.testing.assert_array_equal(venv.state(), before)
    np.testing.assert_array_equal(venv.task.steps, 0)


@pytest.mark.parametrize("env_name", ENVS)
@pytest.mark.parametrize(
    ("fill", "shape", "error", "match"),
    [
        (0.0, "missing_axis", ValueError, r"shape \(E, N, A\) = \(2, 3, {a}\), got \(2, 3\)"),
        (0.0, "wide", ValueError, r"shape \(E, N, A\) = \(2, 3, {a}\), got \(2, 3, 5\)"),
        (np.nan, "ok", ValueError, "NaN or inf"),
        (np.inf, "ok", ValueError, "NaN or inf"),
        (1.01, "ok", ValueError, "out of bounds"),
        (-3.0, "ok", ValueError, "out of bounds"),
        ("x", "ok", TypeError, "continuous actions must be numbers"),
    ],
    ids=["missing_axis", "wide", "nan", "inf", "1.01", "-3", "str"],
)
def test_vector_bad_continuous_actions(env_name, fill, shape, error, match) -> None:
    dim = ACTION_DIM[env_name]
    full = {"missing_axis": (E, N), "wide": (E, N, 5), "ok": (E, N, dim)}[shape]
    bad = np.full(full, fill)
    venv = _vec(env_name, continuous_actions=True)
    before = venv.state().copy()
    with pytest.raises(error, match=match.format(a=dim)):
        venv.step(bad)
    np.testing.assert_array_equal(venv.state(), before)
    np.testing.assert_array_equal(venv.task.steps, 0)


@pytest.mark.parametrize("env_name", ENVS)
def test_vector_one_bad_copy_refuses_the_whole_step(env_name) -> None:
    venv = _vec(env_name, continuous_actions=True)
    acts = np.zeros((E, N, ACTION_DIM[env_name]), np.float32)
    acts[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        venv.step(acts)
    np.testing.assert_array_equal(venv.task.steps, 0)


@pytest.mark.parametrize("env_name", ENVS)
def test_vector_step_before_reset(env_name) -> None:
    venv = swarmzoo.make_vec(f"{env_name}-v0", E, n_agents=N)
    with pytest.raises(RuntimeError, match=r"before reset\(\)"):
        venv.step(np.zeros((E, N), dtype=int))


@pytest.mark.parametrize("env_name", ENVS)
def test_vector_keeps_going_after_an_episode_ends(env_name) -> None:
    """The vector face auto-resets, so stepping past an episode end is not an error."""
    venv = _vec(env_name)
    for t in range(7):
        _, _, _, trunc, infos = venv.step(np.zeros((E, N), dtype=int))
        assert trunc.all() == (t % 3 == 2)
        assert infos["_episode"].all() == (t % 3 == 2)


@pytest.mark.parametrize("env_name", ENVS)
def test_vector_bad_num_envs(env_name) -> None:
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="num_envs"):
            swarmzoo.make_vec(f"{env_name}-v0", bad)
    with pytest.raises(ValueError, match="num_envs"):
        MODULES[env_name].vector_env(0)


# -- impossible configs -------------------------------------------------------------------------

COMMON_BAD = [
    ({"n_agents": 0}, r"n_agents must be an integer >= 1"),
    ({"n_agents": -3}, r"n_agents must be an integer >= 1"),
    ({"n_agents": 2.5}, r"n_agents must be an integer >= 1"),
    ({"n_agents": True}, r"n_agents must be an integer >= 1"),
    ({"n_agents": "5"}, r"n_agents must be an integer >= 1"),
    ({"max_cycles": 0}, r"max_cycles must be an integer >= 1"),
    ({"max_cycles": 10.0}, r"max_cycles must be an integer >= 1"),
    ({"density": 0.0}, r"density must be a finite number"),
    ({"density": -1.0}, r"density must be a finite number"),
    ({"density": np.inf}, r"density must be a finite number"),
    ({"density": "2"}, r"density must be a number"),
    ({"sensing_radius": 0.0}, r"sensing_radius must be a finite number"),
    ({"sensing_radius": -1.0}, r"sensing_radius must be a finite number"),
    ({"sensing_radius": np.nan}, r"sensing_radius must be a finite number"),
    ({"arena_width": 0.0}, r"arena_width must be a finite number"),
    ({"arena_width": -2.0}, r"arena_width must be a finite number"),
    ({"arena_height": 0.0}, r"arena_height must be a finite number"),
    ({"arena_height": np.nan}, r"arena_height must be a finite number"),
    ({"arena_height": np.inf}, r"arena_height must be a finite number"),
    ({"reward": "max"}, r"reward must be .*'global'.*'local'.*got 'max'"),
    ({"neighbour_method": "grid"}, r"neighbour_method must be .*got 'grid'"),
    ({"continuous_actions": 1}, r"continuous_actions must be True or False"),
    ({"continuous_actions": "yes"}, r"continuous_actions must be True or False"),
    ({"n_agent": 3}, r"no argument 'n_agent' \(did you mean 'n_agents'\?\)"),
    ({"sensing_raduis": 0.5}, r"no argument 'sensing_raduis' \(did you mean 'sensing_radius'\?\)"),
    ({"zzz": 1}, r"has no argument 'zzz'; arguments: \["),
]

BAD_CONFIGS = {
    "flocking": COMMON_BAD
    + [
        ({"heading_bins": -1}, r"heading_bins must be an integer >= 0"),
        ({"k_robots": -1}, r"k_robots must be an integer >= 0"),
        ({"k_robots": 2.0}, r"k_robots must be an integer >= 0"),
        ({"n_turns": 0}, r"n_turns must be an integer >= 1"),
        ({"n_turns": 4}, r"n_turns must be odd"),
        ({"n_turns": 2}, r"n_turns must be odd"),
        ({"speed": 0.0}, r"speed must be a finite number"),
        ({"speed": -0.1}, r"speed must be a finite number"),
        ({"robot_radius": 0.0}, r"robot_radius must be a finite number"),
        ({"robot_radius": -0.05}, r"robot_radius must be a finite number"),
        ({"heading_noise": -0.1}, r"heading_noise must be a finite number"),
        ({"heading_noise": 7.0}, r"heading_noise must be a finite number"),
        ({"heading_noise": np.nan}, r"heading_noise must be a finite number"),
        ({"max_turn": 0.0}, r"max_turn must be a finite number"),
        ({"max_turn": -0.5}, r"max_turn must be a finite number"),
        ({"max_turn": 3.5}, r"max_turn must be a finite number"),
        ({"cohesion_penalty": -1.0}, r"cohesion_penalty must be a finite number"),
        ({"collision_penalty": -1.0}, r"collision_penalty must be a finite number"),
        ({"boundary": "none"}, r"boundary must be one of \('torus', 'walls'\), got 'none'"),
        ({"boundary": "sphere"}, r"boundary must be one of"),
        (
            {"boundary": "walls", "arena_width": 1.0, "speed": 0.5},
            r"speed=0.5 is too large for a 1-wide walled arena",
        ),
        (
            {"boundary": "walls", "arena_width": 4.0, "arena_height": 0.3, "speed": 0.2},
            r"speed=0.2 is too large",
        ),
        ({"heading_bin": 3}, r"did you mean 'heading_bins'\?"),
        ({"max_speed": 0.1}, r"no argument 'max_speed' \(did you mean 'speed'\?\)"),
        ({"graph": "ring"}, r"flocking_v0 has no argument 'graph'"),
        ({"preset": "vicsk"}, r"unknown preset 'vicsk' for flocking_v0; presets: \['vicsek'\]"),
    ],
    "kuramoto": COMMON_BAD
    + [
        ({"ring_neighbours": 0}, r"ring_neighbours must be an integer >= 1"),
        ({"n_controls": 0}, r"n_controls must be an integer >= 1"),
        ({"n_controls": 4}, r"n_controls must be odd"),
        ({"phase_bins": -1}, r"phase_bins must be an integer >= 0"),
        ({"frequency_spread": 0.0}, r"frequency_spread must be a finite number"),
        ({"frequency_spread": -0.5}, r"frequency_spread must be a finite number"),
        ({"max_control": 0.0}, r"max_control must be a finite number"),
        ({"dt": 0.0}, r"dt must be a finite number"),
        ({"dt": -0.1}, r"dt must be a finite number"),
        ({"frequency_mean": np.inf}, r"frequency_mean must be a finite number"),
        ({"frequency_mean": np.nan}, r"frequency_mean must be a finite number"),
        ({"frequency_mean": "0"}, r"frequency_mean must be a number"),
        ({"coupling": -1.0}, r"coupling must be a finite number"),
        ({"phase_noise": -0.1}, r"phase_noise must be a finite number"),
        ({"control_cost": -1.0}, r"control_cost must be a finite number"),
        ({"graph": "star"}, r"graph must be one of \('radius', 'complete', 'ring', 'given'\), got 'star'"),
        ({"frequency_distribution": "gaussian"}, r"frequency_distribution must be one of .*got 'gaussian'"),
        ({"boundary": "none"}, r"boundary must be one of \('torus', 'walls'\), got 'none'"),
        (
            {"graph": "complete", "n_agents": 1001},
            r"graph='complete' with phase_bins=8 compares all pairs; "
            r"for n_agents=1001 > 1000 use phase_bins=0",
        ),
        (
            {"graph": "complete", "n_agents": 5000, "phase_bins": 1},
            r"graph='complete' with phase_bins=1 .*n_agents=5000",
        ),
        ({"couplng": 1.0}, r"did you mean 'coupling'\?"),
        ({"graphs": "ring"}, r"did you mean 'graph'\?"),
        ({"frequency_distrib": "normal"}, r"did you mean 'frequency_distribution'\?"),
        ({"preset": "clasic"}, r"unknown preset 'clasic' for kuramoto_v0; presets: \['classic'\]"),
    ],
    "aggregation": COMMON_BAD
    + [
        ({"k_robots": -1}, r"k_robots must be an integer >= 0"),
        ({"max_speed": 0.0}, r"max_speed must be a finite number"),
        ({"max_speed": -0.1}, r"max_speed must be a finite number"),
        ({"robot_radius": 0.0}, r"robot_radius must be a finite number"),
        ({"robot_radius": -0.05}, r"robot_radius must be a finite number"),
        ({"collision_penalty": -1.0}, r"collision_penalty must be a finite number"),
        ({"boundary": "torus"}, r"boundary must be one of \('walls', 'none'\), got 'torus'"),
        (
            {"sensing_radius": 0.1, "robot_radius": 0.05},
            r"sensing_radius=0.1 must exceed the body diameter 2 \* robot_radius=0.1",
        ),
        ({"sensing_radius": 0.08, "robot_radius": 0.05}, r"sensing_radius=0.08 must exceed"),
        ({"sensing_radius": 1.0, "robot_radius": 2.0}, r"sensing_radius=1.0 must exceed"),
        ({"arena_width": 0.1, "robot_radius": 0.05}, r"robot_radius=0.05 does not fit in the arena"),
        ({"arena_height": 0.09, "robot_radius": 0.05}, r"robot_radius=0.05 does not fit in the arena"),
        ({"speed": 0.1}, r"no argument 'speed' \(did you mean 'max_speed'\?\)"),
        ({"max_sped": 0.1}, r"did you mean 'max_speed'\?"),
        ({"preset": "tight"}, r"unknown preset 'tight' for aggregation_v0; presets: \[\]"),
    ],
}
CONFIG_PARAMS = [
    pytest.param(env, kw, match, id=f"{env}-{'-'.join(f'{k}={v}' for k, v in kw.items())}")
    for env, cases in BAD_CONFIGS.items()
    for kw, match in cases
]


@pytest.mark.parametrize(("env_name", "kwargs", "match"), CONFIG_PARAMS)
@pytest.mark.parametrize("face", ["parallel", "aec", "vector", "module"])
def test_impossible_configs(face, env_name, kwargs, match) -> None:
    env_id = f"{env_name}-v0"
    with pytest.raises(ValueError, match=match):
        if face == "parallel":
            swarmzoo.make(env_id, **kwargs)
        elif face == "aec":
            swarmzoo.make_aec(env_id, **kwargs)
        elif face == "vector":
            swarmzoo.make_vec(env_id, 2, **kwargs)
        else:
            MODULES[env_name].parallel_env(**kwargs)


def _is_config(env_name: str, kwargs: dict) -> bool:
    return set(kwargs) <= {f.name for f in dataclasses.fields(MODULES[env_name].Config)}


@pytest.mark.parametrize(
    ("env_name", "kwargs", "match"), [p for p in CONFIG_PARAMS if _is_config(p.values[0], p.values[1])]
)
def test_config_dataclass_validates_directly(env_name, kwargs, match) -> None:
    """The Config itself refuses what the factories refuse (unknown keywords and presets are
    the factories' business)."""
    with pytest.raises(ValueError, match=match):
        MODULES[env_name].Config(**kwargs)


# Boundary values that are valid: validation must not be stricter than the docs.
EDGE_CONFIGS = {
    "flocking": [
        dict(n_agents=1),
        dict(n_turns=1),
        dict(heading_bins=0, k_robots=0),
        dict(heading_noise=0.0),
        dict(heading_noise=2 * np.pi),
        dict(max_turn=np.pi),
        dict(boundary="walls", arena_width=1.0, speed=0.49),
        dict(n_agents=np.int64(4), density=np.float32(1.5)),
        dict(arena_height=0.5),
    ],
    "kuramoto": [
        dict(n_agents=1, graph="ring"),
        dict(n_controls=1),
        dict(phase_bins=0),
        dict(graph="complete", n_agents=1000),
        dict(graph="complete", n_agents=1001, phase_bins=0),
        dict(graph="radius", n_agents=1001),
        dict(graph="ring", n_agents=3, ring_neighbours=10),
        dict(frequency_mean=-3.0, coupling=0.0, phase_noise=0.0, control_cost=0.0),
        dict(boundary="walls", arena_width=0.2, arena_height=7.0),
    ],
    "aggregation": [
        dict(n_agents=1),
        dict(k_robots=0),
        dict(sensing_radius=0.1001, robot_radius=0.05),
        dict(boundary="none", arena_width=0.1, robot_radius=0.05),
        dict(arena_width=0.11, robot_radius=0.05),
    ],
}


@pytest.mark.parametrize(
    ("env_name", "kwargs"),
    [
        pytest.param(env, kw, id=f"{env}-{i}")
        for env, cases in EDGE_CONFIGS.items()
        for i, kw in enumerate(cases)
    ],
)
def test_edge_configs_are_accepted(env_name, kwargs) -> None:
    env = swarmzoo.make(f"{env_name}-v0", max_cycles=2, **kwargs)
    obs, _ = env.reset(seed=0)
    env.step({a: env.action_space(a).sample() for a in env.agents})
    assert len(obs) == env.unwrapped.task.n_agents


@pytest.mark.parametrize("env_name", ENVS)
def test_config_is_frozen(env_name) -> None:
    cfg = MODULES[env_name].Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_agents = 3


@pytest.mark.parametrize("env_name", ENVS)
def test_unknown_env_id_suggests_the_right_one(env_name) -> None:
    typo = env_name[:-2] + env_name[-1] + env_name[-2] + "-v0"  # last two letters swapped
    with pytest.raises(ValueError, match=rf"unknown env id '{typo}'\. Did you mean '{env_name}-v0'\?"):
        swarmzoo.make(typo)
    with pytest.raises(ValueError, match=rf"unknown env id '{env_name}-v9'"):
        swarmzoo.make_vec(f"{env_name}-v9", 2)


def test_observing_more_robots_than_sensed_is_refused():
    for env_id in ("flocking-v0", "aggregation-v0"):
        with pytest.raises(ValueError, match="k_robots=5 exceeds max_neighbours=2"):
            swarmzoo.make(env_id, k_robots=5, max_neighbours=2)


def test_kuramoto_given_graph_validation():
    with pytest.raises(ValueError, match="edges are given exactly when graph='given'"):
        swarmzoo.make("kuramoto-v0", graph="given")
    with pytest.raises(ValueError, match="edges are given exactly when graph='given'"):
        swarmzoo.make("kuramoto-v0", edges=((0, 1),))
    with pytest.raises(ValueError, match=r"edge \(0, 9\) must join two different robots"):
        swarmzoo.make("kuramoto-v0", n_agents=3, graph="given", edges=((0, 9),))
    with pytest.raises(ValueError, match="pair of robot indices"):
        swarmzoo.make("kuramoto-v0", n_agents=3, graph="given", edges=((0, 1.5),))


def test_complete_histogram_guard_counts_env_copies():
    with pytest.raises(ValueError, match="compares all pairs of every copy"):
        swarmzoo.make_vec("kuramoto-v0", 8, n_agents=1000, graph="complete")
