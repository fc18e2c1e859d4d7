"""Bad input to ``coverage-v0`` gets a clear error that names the problem: maps that are not
images, missing files, densities that are zero, negative or NaN, Gaussian mixtures with bad
components, every validated ``Config`` field, unknown keywords (with a did-you-mean), bad actions
on both faces and stepping out of turn. A refused step changes nothing."""

from __future__ import annotations

import dataclasses
import re

import imageio.v3 as iio
import numpy as np
import pytest

import swarmzoo
from swarmzoo.envs import coverage
from swarmzoo.envs.core.density import normalise_density

N = 3
E = 2
FACES = ["parallel", "aec", "vector", "module", "config"]


def _build(face: str, **kwargs):
    """Build coverage-v0 through ``face`` (``config``: the dataclass itself)."""
    if face == "parallel":
        return swarmzoo.make("coverage-v0", **kwargs)
    if face == "aec":
        return swarmzoo.make_aec("coverage-v0", **kwargs)
    if face == "vector":
        return swarmzoo.make_vec("coverage-v0", 2, **kwargs)
    if face == "module":
        return coverage.parallel_env(**kwargs)
    return coverage.Config(**kwargs)


# -- maps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("face", FACES)
def test_a_map_that_is_not_an_image(face, tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not an image\n")
    with pytest.raises(ValueError, match=rf"map {re.escape(repr(str(path)))} is not a readable image"):
        _build(face, map=str(path))
    fake = tmp_path / "fake.png"  # an image's name, text inside
    fake.write_text("PNG? no")
    with pytest.raises(ValueError, match=rf"map {re.escape(repr(str(fake)))} is not a readable image"):
        _build(face, map=str(fake))


@pytest.mark.parametrize("face", FACES)
def test_a_missing_map(face, tmp_path) -> None:
    path = str(tmp_path / "nowhere.png")
    with pytest.raises(
        ValueError, match=rf"map {re.escape(repr(path))} is neither a shipped map .* nor an image"
    ):
        _build(face, map=path)
    with pytest.raises(
        ValueError, match=r"map 'two_hotspot' is neither a shipped map \('uniform', 'two_hotspots'"
    ):
        _build(face, map="two_hotspot")
    with pytest.raises(ValueError, match="is neither a shipped map"):
        _build(face, map=str(tmp_path))  # a folder


@pytest.mark.parametrize("face", FACES)
def test_an_all_zero_image(face, tmp_path) -> None:
    path = tmp_path / "black.png"
    iio.imwrite(path, np.zeros((8, 8), np.uint8))
    with pytest.raises(
        ValueError, match=rf"map {re.escape(repr(str(path)))}: the density is zero everywhere"
    ):
        _build(face, map=str(path))
    rgb = tmp_path / "black_rgb.png"
    iio.imwrite(rgb, np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="the density is zero everywhere"):
        _build(face, map=str(rgb))


def test_an_image_too_small_to_be_a_map(tmp_path) -> None:
    path = tmp_path / "line.png"
    iio.imwrite(path, np.full((1, 9), 255, np.uint8))
    with pytest.raises(ValueError, match=r"must be a 2-D image of at least 2 x 2 pixels, got shape \(1, 9\)"):
        coverage.Config(map=str(path))


@pytest.mark.parametrize("face", ["parallel", "vector", "config"])
def test_map_must_be_a_string(face) -> None:
    with pytest.raises(ValueError, match="map must be a map name or an image path, got 3"):
        _build(face, map=3)


# -- Gaussian mixtures and densities -------------------------------------------------------------------


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize(
    ("gaussians", "match"),
    [
        (((0.0, 0.0, 0.2, -1.0),), r"Gaussian \(0.0, 0.0, 0.2, -1.0\) needs sigma > 0 and weight >= 0"),
        (((0.0, 0.0, 0.2, 1.0), (0.5, 0.5, 0.1, -0.5)), r"needs sigma > 0 and weight >= 0"),
        (((0.0, 0.0, 0.0, 1.0),), r"needs sigma > 0 and weight >= 0"),
        (((0.0, 0.0, -0.1, 1.0),), r"needs sigma > 0 and weight >= 0"),
        (((0.0, 0.0, np.nan, 1.0),), r"needs sigma > 0 and weight >= 0"),
        (((0.0, 0.0, 0.2, np.nan),), r"needs sigma > 0 and weight >= 0"),
        (((np.nan, 0.0, 0.2, 1.0),), r"gaussians: the density has NaN or inf values"),
        (((0.0, np.inf, 0.2, 1.0),), r"gaussians: the density"),  # its mass is nowhere on the map
        (((0.0, 0.0, 0.2, 0.0),), r"gaussians: the density is zero everywhere"),
        ((), r"gaussians: the density is zero everywhere"),
        (((0.0, 0.0, 0.2),), r"each Gaussian is \(x, y, sigma, weight\), got \(0.0, 0.0, 0.2\)"),
        (((0.0, 0.0, 0.2, 1.0, 5.0),), r"each Gaussian is \(x, y, sigma, weight\)"),
    ],
    ids=[
        "negative_weight",
        "one_negative_of_two",
        "zero_sigma",
        "negative_sigma",
        "nan_sigma",
        "nan_weight",
        "nan_centre",
        "inf_centre",
        "all_weights_zero",
        "empty",
        "three_numbers",
        "five_numbers",
    ],
)
def test_bad_gaussians(face, gaussians, match) -> None:
    with pytest.raises(ValueError, match=match):
        _build(face, gaussians=gaussians)


@pytest.mark.parametrize(
    "gaussians", [5, "0 0 0.2 1", ((0.0, 0.0, "wide", 1.0),)], ids=["int", "str", "str_sigma"]
)
def test_gaussians_of_the_wrong_type_raise_a_value_error_naming_them(gaussians) -> None:
    """Not a sequence of four numbers: a ValueError that names ``gaussians``/the Gaussian, not a
    bare TypeError from inside the density code."""
    with pytest.raises(ValueError, match=r"(?i)gaussian"):
        coverage.Config(gaussians=gaussians)


@pytest.mark.parametrize(
    ("field", "match"),
    [
        (np.array([[0.5, -1.0], [0.2, 0.3]]), r"my map: the density has negative values \(min -1\)"),
        (np.array([[0.5, np.nan], [0.2, 0.3]]), r"my map: the density has NaN or inf values"),
        (np.array([[0.5, np.inf], [0.2, 0.3]]), r"my map: the density has NaN or inf values"),
        (np.array([[0.5, -np.inf], [0.2, 0.3]]), r"my map: the density has NaN or inf values"),
        (np.zeros((3, 3)), r"my map: the density is zero everywhere; nothing to cover"),
        (np.full((2, 2), -0.0), r"my map: the density is zero everywhere"),
    ],
    ids=["negative", "nan", "inf", "-inf", "zero", "negative_zero"],
)
def test_normalise_density_refuses(field, match) -> None:
    with pytest.raises(ValueError, match=match):
        normalise_density(field, "my map")


def test_normalise_density_accepts_and_normalises() -> None:
    out = normalise_density(np.array([[0.0, 1.0], [3.0, 0.0]]), "ok")
    np.testing.assert_array_equal(out, [[0.0, 0.25], [0.75, 0.0]])


# -- every validated Config field ----------------------------------------------------------------------

BAD_CONFIGS = [
    ({"n_agents": 0}, r"n_agents must be an integer >= 1, got 0"),
    ({"n_agents": -3}, r"n_agents must be an integer >= 1"),
    ({"n_agents": 2.5}, r"n_agents must be an integer >= 1"),
    ({"n_agents": True}, r"n_agents must be an integer >= 1"),
    ({"n_agents": "5"}, r"n_agents must be an integer >= 1"),
    ({"map_resolution": 1}, r"map_resolution must be an integer >= 2"),
    ({"map_resolution": 16.0}, r"map_resolution must be an integer >= 2"),
    ({"crop_size": 0}, r"crop_size must be an integer >= 1, got 0"),
    ({"crop_size": -1}, r"crop_size must be an integer >= 1"),
    ({"crop_size": 4}, r"crop_size must be odd \(the robot's own cell is the centre\), got 4"),
    ({"crop_size": 2}, r"crop_size must be odd"),
    ({"crop_size": 7.0}, r"crop_size must be an integer >= 1"),
    ({"k_robots": -1}, r"k_robots must be an integer >= 0"),
    ({"k_robots": 1.5}, r"k_robots must be an integer >= 0"),
    ({"w2_resolution": 1}, r"w2_resolution must be an integer >= 2"),
    ({"w2_resolution": 0}, r"w2_resolution must be an integer >= 2"),
    ({"w2_every": -1}, r"w2_every must be an integer >= 0"),
    ({"w2_every": 2.0}, r"w2_every must be an integer >= 0"),
    ({"max_cycles": 0}, r"max_cycles must be an integer >= 1"),
    ({"max_cycles": 10.0}, r"max_cycles must be an integer >= 1"),
    ({"arena_width": 0.0}, r"arena_width must be a finite number in \(0.0, inf\]"),
    ({"arena_width": -2.0}, r"arena_width must be a finite number"),
    ({"arena_width": np.inf}, r"arena_width must be a finite number"),
    ({"arena_width": "2"}, r"arena_width must be a number"),
    ({"arena_height": 0.0}, r"arena_height must be a finite number"),
    ({"arena_height": np.nan}, r"arena_height must be a finite number"),
    ({"dt": 0.0}, r"dt must be a finite number"),
    ({"dt": -0.1}, r"dt must be a finite number"),
    ({"max_accel": 0.0}, r"max_accel must be a finite number"),
    ({"max_accel": np.nan}, r"max_accel must be a finite number"),
    ({"max_speed": 0.0}, r"max_speed must be a finite number"),
    ({"max_speed": -1.0}, r"max_speed must be a finite number"),
    ({"robot_radius": 0.0}, r"robot_radius must be a finite number"),
    ({"robot_radius": -0.04}, r"robot_radius must be a finite number"),
    ({"service_radius": 0.0}, r"service_radius must be a finite number"),
    ({"service_radius": np.inf}, r"service_radius must be a finite number"),
    ({"crop_extent": 0.0}, r"crop_extent must be a finite number"),
    ({"crop_extent": -1.0}, r"crop_extent must be a finite number"),
    ({"service_fraction": 0.0}, r"service_fraction must be a finite number in \(0.0, 1.0\]"),
    ({"service_fraction": 1.5}, r"service_fraction must be a finite number in \(0.0, 1.0\]"),
    ({"service_fraction": -0.1}, r"service_fraction must be a finite number"),
    ({"battery": 0.0}, r"battery must be a finite number"),
    ({"battery": -5.0}, r"battery must be a finite number"),
    ({"battery": np.inf}, r"battery must be a finite number"),
    ({"battery": "full"}, r"battery must be a number"),
    ({"idle_cost": -0.001}, r"idle_cost must be a finite number in \[0.0, inf\]"),
    ({"idle_cost": np.nan}, r"idle_cost must be a finite number"),
    ({"accel_cost": -1.0}, r"accel_cost must be a finite number"),
    ({"local_ratio": -0.1}, r"local_ratio must be a finite number in \[0.0, 1.0\]"),
    ({"local_ratio": 1.1}, r"local_ratio must be a finite number in \[0.0, 1.0\]"),
    ({"done_fraction": 0.0}, r"done_fraction must be a finite number in \(0.0, 1.0\]"),
    ({"done_fraction": 1.01}, r"done_fraction must be a finite number"),
    ({"done_fraction": np.nan}, r"done_fraction must be a finite number"),
    ({"continuous_actions": 1}, r"continuous_actions must be True or False"),
    ({"continuous_actions": "yes"}, r"continuous_actions must be True or False"),
    ({"map_resolution": True}, r"map_resolution must be an integer >= 2"),
    # A body that does not fit in the arena cannot be placed anywhere in it.
    ({"robot_radius": 1.5}, r"robot_radius"),
    ({"arena_width": 4.0, "arena_height": 0.05}, r"robot_radius"),
]
UNKNOWN = [
    ({"n_agent": 3}, r"coverage_v0 has no argument 'n_agent' \(did you mean 'n_agents'\?\)"),
    ({"servce_radius": 0.1}, r"no argument 'servce_radius' \(did you mean 'service_radius'\?\)"),
    ({"maps": "ring"}, r"no argument 'maps' \(did you mean 'map'\?\)"),
    ({"gaussian": ((0, 0, 1, 1),)}, r"no argument 'gaussian' \(did you mean 'gaussians'\?\)"),
    ({"batery": 1.0}, r"no argument 'batery' \(did you mean 'battery'\?\)"),
    ({"w2_res": 16}, r"no argument 'w2_res' \(did you mean 'w2_resolution'\?\)"),
    ({"zzz": 1}, r"coverage_v0 has no argument 'zzz'; arguments: \["),
    ({"preset": "d2oc"}, r"unknown preset 'd2oc' for coverage_v0; presets: \[\]"),
]


def _id(kwargs: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize(("kwargs", "match"), [pytest.param(kw, m, id=_id(kw)) for kw, m in BAD_CONFIGS])
def test_impossible_configs(face, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        _build(face, **kwargs)


@pytest.mark.parametrize("face", ["parallel", "aec", "vector", "module"])
@pytest.mark.parametrize(("kwargs", "match"), [pytest.param(kw, m, id=_id(kw)) for kw, m in UNKNOWN])
def test_unknown_keywords_suggest_the_right_one(face, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        _build(face, **kwargs)


EDGE_CONFIGS = [
    dict(n_agents=1, k_robots=0),
    dict(crop_size=1),
    dict(crop_size=1, crop_extent=0.01),
    dict(map_resolution=2, gaussians=((0.0, 0.0, 1.0, 1.0),)),
    dict(w2_resolution=2),
    dict(service_fraction=1.0, local_ratio=0.0),
    dict(local_ratio=1.0, done_fraction=1.0),
    dict(done_fraction=1e-9),
    dict(battery=1e-6),
    dict(idle_cost=0.0, accel_cost=0.0, battery=1.0),
    dict(n_agents=np.int64(4), arena_width=np.float32(1.5)),
    dict(arena_height=0.5, arena_width=5.0),
    dict(gaussians=((0.0, 0.0, 0.3, 0.0), (0.1, 0.1, 0.2, 1.0))),  # one zero weight is fine
    dict(gaussians=[[0.0, 0.0, 0.3, 1]]),  # lists and ints work too
]


@pytest.mark.parametrize("kwargs", [pytest.param(kw, id=str(i)) for i, kw in enumerate(EDGE_CONFIGS)])
def test_edge_configs_are_accepted(kwargs) -> None:
    env = swarmzoo.make("coverage-v0", max_cycles=2, **kwargs)
    obs, _ = env.reset(seed=0)
    while env.agents:
        env.step({a: env.action_space(a).sample() for a in env.agents})
    assert len(obs) == env.unwrapped.task.n_agents


def test_config_is_frozen() -> None:
    cfg = coverage.Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.map = "ring"


# -- actions on the PettingZoo face --------------------------------------------------------------------


def _env(continuous: bool, **kw):
    kw = {"n_agents": N, "max_cycles": 3, "continuous_actions": continuous, **kw}
    env = swarmzoo.make("coverage-v0", **kw)
    env.reset(seed=0)
    return env


def _acts(env, value, **override) -> dict:
    acts = {a: value for a in env.agents}
    acts.update(override)
    return acts


def _snapshot(env) -> tuple:
    task = env.unwrapped.task
    return (
        env.state().copy(),
        task.demand.copy(),
        task.visits.copy(),
        task.battery.copy(),
        task.pos.copy(),
        int(task.steps[0]),
    )


def _assert_unchanged(env, before: tuple) -> None:
    for x, y in zip(_snapshot(env)[:-1], before[:-1], strict=True):
        np.testing.assert_array_equal(x, y)
    assert int(env.unwrapped.task.steps[0]) == before[-1]


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (1.0, TypeError, "discrete actions must be integers"),
        (np.float32(2.0), TypeError, "discrete actions must be integers"),
        (True, TypeError, "discrete actions must be integers"),
        ("1", TypeError, "discrete actions must be integers"),
        (None, TypeError, "discrete actions must be integers"),
        (-1, ValueError, r"discrete action -1 out of range \[0, 4\]"),
        (5, ValueError, r"discrete action 5 out of range \[0, 4\]"),
        (np.int64(17), ValueError, r"discrete action 17 out of range \[0, 4\]"),
        (np.array([1, 2]), ValueError, r"action for robot_1 has shape \(2,\), expected \(\)"),
    ],
    ids=["float", "np_float", "bool", "str", "none", "neg", "5", "17", "shape"],
)
def test_parallel_bad_discrete_action(bad, error, match) -> None:
    env = _env(False, battery=1.0)
    before = _snapshot(env)
    with pytest.raises(error, match=match):
        env.step(_acts(env, 0, robot_1=bad))
    _assert_unchanged(env, before)


def test_parallel_every_discrete_action_is_accepted() -> None:
    env = _env(False, max_cycles=50)
    for a in range(5):
        env.step(_acts(env, a, robot_2=np.int32(a)))


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.array([0.0, np.nan]), ValueError, "NaN or inf"),
        (np.array([np.inf, 0.0]), ValueError, "NaN or inf"),
        (np.array([0.0, -np.inf]), ValueError, "NaN or inf"),
        (np.array([1.5, 0.0]), ValueError, r"out of bounds \[-1.0, 1.0\]"),
        (np.array([0.0, -1.0001]), ValueError, r"out of bounds \[-1.0, 1.0\]"),
        (np.array([1e9, 0.0]), ValueError, "out of bounds"),
        (np.array(["a", "b"]), TypeError, "continuous actions must be numbers"),
        (np.zeros(3, np.float32), ValueError, r"action for robot_2 has shape \(3,\), expected \(2,\)"),
        (np.zeros(1, np.float32), ValueError, r"action for robot_2 has shape \(1,\), expected \(2,\)"),
        (0.5, ValueError, r"action for robot_2 has shape \(\), expected \(2,\)"),
        (np.zeros((1, 2), np.float32), ValueError, r"action for robot_2 has shape \(1, 2\), expected \(2,\)"),
    ],
    ids=["nan", "inf", "-inf", "1.5", "-1.0001", "huge", "str", "three", "one", "scalar", "batched"],
)
def test_parallel_bad_continuous_action(bad, error, match) -> None:
    env = _env(True, battery=1.0)
    before = _snapshot(env)
    with pytest.raises(error, match=match):
        env.step(_acts(env, np.zeros(2, np.float32), robot_2=bad))
    _assert_unchanged(env, before)


def test_parallel_continuous_bounds_are_inclusive_and_any_float_dtype_works() -> None:
    env = _env(True, max_cycles=10)
    env.step(_acts(env, np.ones(2, np.float32)))
    env.step(_acts(env, -np.ones(2, np.float64)))
    env.step(_acts(env, [0.25, -0.25]))
    env.step(_acts(env, np.array([1, -1])))


def test_refused_step_changes_nothing_later() -> None:
    """After a refused step the env continues exactly as one that never saw the bad action."""
    clean, refused = _env(True, max_cycles=5, battery=1.0), _env(True, max_cycles=5, battery=1.0)
    good = np.full(2, 0.5, np.float32)
    with pytest.raises(ValueError):
        refused.step(_acts(refused, good, robot_0=np.array([np.nan, 0.0])))
    for _ in range(5):
        a, b = clean.step(_acts(clean, good)), refused.step(_acts(refused, good))
        for x, y in zip(a, b, strict=True):  # obs, rewards, terminations, truncations, infos
            assert x.keys() == y.keys()
            for agent in x:
                if isinstance(x[agent], dict):
                    assert x[agent] == y[agent]
                else:
                    np.testing.assert_array_equal(x[agent], y[agent])
        np.testing.assert_array_equal(clean.state(), refused.state())


def test_parallel_unknown_missing_agents_and_call_order() -> None:
    env = _env(False)
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
    fresh = swarmzoo.make("coverage-v0", n_agents=N)
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        fresh.step({a: np.zeros(2, np.float32) for a in fresh.possible_agents})
    for _ in range(3):
        _, _, _, trunc, _ = env.step(_acts(env, 0))
    assert all(trunc.values()) and env.agents == []
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        env.step({a: 0 for a in env.possible_agents})
    env.reset()
    env.step(_acts(env, 0))


def test_aec_bad_action() -> None:
    env = swarmzoo.make_aec("coverage-v0", n_agents=2, continuous_actions=False)
    with pytest.raises(Exception, match="reset"):
        env.step(0)
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(ValueError, match=r"discrete action 5 out of range \[0, 4\]"):
        env.step(5)


@pytest.mark.parametrize(
    "make", [swarmzoo.make, swarmzoo.make_aec, lambda i, **kw: swarmzoo.make_vec(i, 2, **kw)]
)
def test_bad_render_mode(make) -> None:
    with pytest.raises(ValueError, match=r"render_mode must be None, 'human' or 'rgb_array'"):
        make("coverage-v0", render_mode="ansi")


# -- actions on the vector face ------------------------------------------------------------------------


def _vec(continuous: bool):
    venv = swarmzoo.make_vec("coverage-v0", E, n_agents=N, max_cycles=3, continuous_actions=continuous)
    venv.reset(seed=0)
    return venv


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros((E, N)), TypeError, "discrete actions must be integers"),
        (np.zeros((E, N), dtype=bool), TypeError, "discrete actions must be integers"),
        (np.zeros((E, N + 1), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(2, 4\)"),
        (np.zeros((N,), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(3,\)"),
        (np.zeros((E, N, 2), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(2, 3, 2\)"),
        (np.full((E, N), 5), ValueError, r"discrete action 5 out of range \[0, 4\]"),
        (np.full((E, N), -2), ValueError, r"discrete action -2 out of range \[0, 4\]"),
    ],
    ids=["float", "bool", "wide", "flat", "trailing_axis", "5", "neg"],
)
def test_vector_bad_discrete_actions(bad, error, match) -> None:
    venv = _vec(False)
    before = (venv.state().copy(), venv.task.demand.copy(), venv.task.visits.copy())
    with pytest.raises(error, match=match):
        venv.step(bad)
    for x, y in zip((venv.state(), venv.task.demand, venv.task.visits), before, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(venv.task.steps, 0)


@pytest.mark.parametrize(
    ("fill", "shape", "error", "match"),
    [
        (0.0, (E, N), ValueError, r"shape \(E, N, A\) = \(2, 3, 2\), got \(2, 3\)"),
        (0.0, (E, N, 3), ValueError, r"shape \(E, N, A\) = \(2, 3, 2\), got \(2, 3, 3\)"),
        (0.0, (N, 2), ValueError, r"shape \(E, N, A\) = \(2, 3, 2\), got \(3, 2\)"),
        (np.nan, (E, N, 2), ValueError, "NaN or inf"),
        (np.inf, (E, N, 2), ValueError, "NaN or inf"),
        (1.01, (E, N, 2), ValueError, "out of bounds"),
        (-3.0, (E, N, 2), ValueError, "out of bounds"),
        ("x", (E, N, 2), TypeError, "continuous actions must be numbers"),
    ],
    ids=["missing_axis", "wide", "no_env_axis", "nan", "inf", "1.01", "-3", "str"],
)
def test_vector_bad_continuous_actions(fill, shape, error, match) -> None:
    venv = _vec(True)
    before = venv.state().copy()
    with pytest.raises(error, match=match):
        venv.step(np.full(shape, fill))
    np.testing.assert_array_equal(venv.state(), before)
    np.testing.assert_array_equal(venv.task.steps, 0)


def test_vector_one_bad_robot_refuses_the_whole_step() -> None:
    venv = _vec(True)
    acts = np.zeros((E, N, 2), np.float32)
    acts[1, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        venv.step(acts)
    np.testing.assert_array_equal(venv.task.steps, 0)


def test_vector_step_before_reset_and_bad_num_envs() -> None:
    venv = swarmzoo.make_vec("coverage-v0", E, n_agents=N)
    with pytest.raises(RuntimeError, match=r"before reset\(\)"):
        venv.step(np.zeros((E, N, 2), np.float32))
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="num_envs"):
            swarmzoo.make_vec("coverage-v0", bad)


def test_coverage_w2_before_any_position_is_recorded() -> None:
    task = coverage.Coverage(coverage.Config(n_agents=2), n_envs=1)  # never reset
    with pytest.raises(ValueError, match="no robot positions recorded yet"):
        task.coverage_w2()
