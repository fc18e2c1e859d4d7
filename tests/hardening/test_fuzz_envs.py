"""Property-based fuzzing of every registered env, through both faces.

Valid inputs: random configs drawn from each env's ``Config`` fields (small-to-moderate swarms,
every boolean and string option, floats across their valid ranges, presets, maps, Gaussian
mixtures, graphs) and random action sequences (samples of the action space and edge values:
bounds, zeros, in several dtypes) through the PettingZoo face and the vector face. Nothing may
crash; observations, rewards, infos, ``state()`` and the mean field stay finite and of the declared
shape and dtype; observations lie in the observation space; robots stay inside walled arenas;
``env.agents`` matches the keys of every returned dict and is empty once the episode ends; the
vector face's auto-reset keeps every shape.

Invalid inputs: wrong types, NaN/inf, negative or out-of-range numbers, unknown options and
argument names, wrong action shapes / dtypes / ranges, NaN actions, unknown agents and bad seeds.
Each must raise ``ValueError`` or ``TypeError`` whose message names the offending argument or agent,
raised by swarmzoo's own code (never a numpy/scipy traceback). Values that may or may not be valid
(zero, negative, tiny and large magnitudes) must either work like any valid input or be refused
the same way.

Budget: ``SWARMZOO_FUZZ_SCALE`` (default 1) multiplies every ``max_examples``; at 1 the file runs in
about 30-60 s on two cores. ``pytest -s`` prints the number of inputs fuzzed per test and env;
``SWARMZOO_FUZZ_REPORT=path.json`` also writes them as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import string
import traceback
import typing
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import swarmzoo

ENV_IDS = swarmzoo.list_envs()
SCALE = float(os.environ.get("SWARMZOO_FUZZ_SCALE", "1"))
REPO = Path(swarmzoo.__file__).resolve().parents[1]
# Code that may raise the errors users see (the innermost traceback frame must lie here).
OWN_CODE = tuple(REPO / d for d in ("envs", "swarmzoo", "agents", "algorithms"))
FAMILIES = {
    "navigation-v0": "navigation",
    "coverage-v0": "coverage",
    "flocking-v0": "swarming",
    "kuramoto-v0": "swarming",
    "aggregation-v0": "swarming",
}

# Inputs fuzzed, per (test, env id); printed and optionally written when the module finishes.
FUZZED: Counter[tuple[str, str]] = Counter()
STEPS: Counter[tuple[str, str]] = Counter()
REJECTED: Counter[tuple[str, str]] = Counter()


def family(env_id: str) -> str:
    return FAMILIES.get(env_id, "byzantine" if env_id.startswith("byzantine") else env_id)


def fuzz_settings(examples: int):
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        deadline=None,
    )


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    rows = sorted(FUZZED)
    if not rows:
        return
    print("\n\nfuzzed inputs (examples run, env steps taken, valid-config draws rejected as impossible):")
    for test, env_id in rows:
        key = (test, env_id)
        print(f"  {test:<44} {env_id:<28} {FUZZED[key]:>6} {STEPS[key]:>7} {REJECTED[key]:>5}")
    print(f"  total examples {sum(FUZZED.values())}, env steps {sum(STEPS.values())}")
    path = os.environ.get("SWARMZOO_FUZZ_REPORT")
    if path:
        report = {
            "scale": SCALE,
            "rows": [
                {
                    "test": t,
                    "env": e,
                    "family": family(e),
                    "examples": FUZZED[(t, e)],
                    "steps": STEPS[(t, e)],
                    "rejected": REJECTED[(t, e)],
                }
                for t, e in rows
            ],
        }
        Path(path).write_text(json.dumps(report, indent=1))


# -- helpers --------------------------------------------------------------------------------------


def assert_own_error(err: BaseException, *names: str) -> None:
    """``err`` was raised by swarmzoo's code and its message names every one of ``names``."""
    frames = traceback.extract_tb(err.__traceback__)
    assert frames, err
    innermost = Path(frames[-1].filename).resolve()
    assert any(innermost.is_relative_to(root) for root in OWN_CODE), (
        f"{type(err).__name__}: {err} was raised from {innermost}:{frames[-1].lineno}, not swarmzoo code"
    )
    message = str(err)
    for name in names:
        assert name in message, f"the error {message!r} does not name {name!r}"


def make(face: str, env_id: str, kwargs: dict[str, Any], num_envs: int = 2):
    if face == "parallel":
        return swarmzoo.make(env_id, **kwargs)
    return swarmzoo.make_vec(env_id, num_envs, **kwargs)


def build_or_reject(test: str, env_id: str, face: str, kwargs: dict[str, Any], num_envs: int = 2):
    """The env, or ``reject()`` for a combination the env refuses cleanly (an impossible config:
    a ValueError from swarmzoo's own code)."""
    try:
        return make(face, env_id, kwargs, num_envs)
    except ValueError as err:
        assert_own_error(err)
        REJECTED[(test, env_id)] += 1
        reject()


def arena_limits(task) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(positions (E, M, 2), half extents)`` pairs a task keeps inside its walls (none where
    the plane is unbounded)."""
    cfg, half = task.config, task.arena.half
    name = task.name
    radius = getattr(cfg, "robot_radius", 0.0)
    if name == "navigation_v0":
        if cfg.boundary == "none":
            return []
        return [(task.pos, half - radius if cfg.boundary == "walls" else half)]
    if name == "aggregation_v0":
        return [] if cfg.boundary == "none" else [(task.pos, half - radius)]
    if name == "coverage_v0":
        return [(task.pos, half - radius)]
    if name == "byzantine_tracking_v0":
        return [(task.pos, half), (task.target[:, None, :], half)]
    return [(task.pos, half)]  # flocking (walls or torus), kuramoto and Byzantine: static or wrapped


def check_task(task) -> None:
    """Positions finite and inside the arena; the step count within the episode."""
    for pos, half in arena_limits(task):
        assert np.isfinite(pos).all(), "robot positions went NaN/inf"
        slack = 1e-9 * max(1.0, float(np.max(half)))
        assert (np.abs(pos) <= half + slack).all(), (
            f"a robot left the arena: {np.abs(pos).max(axis=(0, 1))} > {half}"
        )
    assert (task.steps <= task.max_cycles).all()


def check_mean_field(env) -> None:
    try:
        mf = env.mean_field()
    except NotImplementedError:
        return
    assert np.isfinite(mf.samples).all()


def check_infos(infos: dict, ignore: tuple[str, ...] = ()) -> None:
    for key, value in infos.items():
        if key in ignore:
            continue
        arr = np.asarray(value)
        if arr.dtype.kind in "fc":
            assert np.isfinite(arr).all(), f"infos[{key!r}] is not finite: {arr}"


# -- valid configs --------------------------------------------------------------------------------


def floats(low: float, high: float, **kw) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, **kw)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


ROBOTS = st.integers(1, 6) | st.integers(7, 40)
CYCLES = st.integers(1, 6)
SENSING = {
    "sensing_radius": floats(0.2, 3.0),
    "max_neighbours": maybe(st.integers(1, 40)),
    "robot_radius": floats(0.001, 0.09),
    "k_robots": st.integers(0, 5),
    "neighbour_method": st.sampled_from(["auto", "dense", "tree"]),
    "density": floats(0.2, 10.0),
    "arena_width": maybe(floats(0.4, 8.0)),
    "arena_height": maybe(floats(0.4, 8.0)),
    "reward": st.sampled_from(["global", "local"]),
    "continuous_actions": st.booleans(),
}

NAVIGATION = st.fixed_dictionaries(
    {"n_agents": ROBOTS | st.integers(129, 140), "max_cycles": CYCLES},
    optional={
        "n_goals": maybe(st.integers(1, 12)),
        "n_obstacles": st.integers(0, 4),
        "obstacle_radius": floats(0.01, 0.4),
        "arena_width": maybe(floats(0.5, 8.0)),
        "arena_height": maybe(floats(0.5, 8.0)),
        "boundary": st.sampled_from(["walls", "torus", "none"]),
        "robot_radius": floats(0.005, 0.3),
        "goal_radius": floats(0.01, 0.5),
        "accel": floats(0.01, 50.0),
        "dt": floats(0.001, 0.5),
        "damping": floats(0.0, 0.99),
        "mass": floats(0.05, 20.0),
        "max_speed": maybe(floats(0.01, 10.0)),
        "contact_force": floats(0.0, 1000.0),
        "contact_margin": floats(1e-4, 0.1),
        "local_ratio": floats(0.0, 1.0),
        "shared_reward": st.sampled_from(["mean", "sum"]),
        "collision_penalty": floats(0.0, 10.0),
        "k_goals": st.integers(0, 5),
        "k_robots": st.integers(0, 5),
        "k_obstacles": st.integers(0, 4),
        "sensing_radius": maybe(floats(0.05, 5.0)),
        "terminate_on_success": st.booleans(),
        "continuous_actions": st.booleans(),
    },
)
MPE_SPREAD = st.fixed_dictionaries(
    {"preset": st.just("mpe_spread"), "n_agents": st.integers(1, 8), "max_cycles": CYCLES},
    optional={
        "continuous_actions": st.booleans(),
        "local_ratio": floats(0.0, 1.0),
        "damping": floats(0.0, 0.9),
    },
)

FLOCKING = st.fixed_dictionaries(
    {"n_agents": ROBOTS, "max_cycles": CYCLES},
    optional={
        "compass": st.booleans(),
        "initial_headings": st.sampled_from(("uniform", "aligned", "opposed")),
        **SENSING,
        "boundary": st.sampled_from(["torus", "walls"]),
        "speed": floats(0.001, 0.15),
        "heading_noise": floats(0.0, 2 * math.pi),
        "max_turn": floats(1e-6, math.pi),
        "n_turns": st.sampled_from([1, 3, 5, 9]),
        "heading_bins": st.integers(0, 12),
        "cohesion_penalty": floats(0.0, 2.0),
        "collision_penalty": floats(0.0, 2.0),
        "preset": st.just("vicsek"),
    },
)

AGGREGATION = st.fixed_dictionaries(
    {"n_agents": ROBOTS, "max_cycles": CYCLES},
    optional={
        **SENSING,
        "boundary": st.sampled_from(["walls", "none"]),
        "max_speed": floats(0.001, 1.0),
        "collision_penalty": floats(0.0, 2.0),
        "separation_passes": st.integers(0, 6),
    },
)


@st.composite
def aloha_configs(draw) -> dict[str, Any]:
    n = draw(st.integers(2, 8) | st.integers(9, 60))
    kw = {"n_agents": n, "n_channels": draw(st.integers(1, min(n, 6))), "max_cycles": draw(CYCLES)}
    kw.update(
        draw(st.fixed_dictionaries({}, optional={"arrival": floats(0.0, 1.0), "buffer": st.integers(1, 5)}))
    )
    return kw


@st.composite
def coordination_configs(draw) -> dict[str, Any]:
    n = draw(st.integers(2, 6) | st.integers(7, 40))
    kw = {"n_agents": n, "max_cycles": draw(CYCLES)}
    kw.update(
        draw(
            st.fixed_dictionaries(
                {}, optional={"noise": floats(0.0, 0.5), "margin": maybe(st.integers(0, n - 1))}
            )
        )
    )
    return kw


@st.composite
def kuramoto_configs(draw) -> dict[str, Any]:
    n = draw(ROBOTS)
    kw = draw(
        st.fixed_dictionaries(
            {"n_agents": st.just(n), "max_cycles": CYCLES},
            optional={
                **{k: v for k, v in SENSING.items() if k not in ("robot_radius", "k_robots")},
                "boundary": st.sampled_from(["torus", "walls"]),
                "ring_neighbours": st.integers(1, 5),
                "frequency_distribution": st.sampled_from(["normal", "cauchy", "uniform"]),
                "frequency_mean": floats(-5.0, 5.0),
                "frequency_spread": floats(0.01, 3.0),
                "coupling": floats(0.0, 5.0),
                "max_control": floats(0.01, 5.0),
                "n_controls": st.sampled_from([1, 3, 5, 7]),
                "dt": floats(0.001, 1.0),
                "phase_noise": floats(0.0, 2.0),
                "phase_bins": st.integers(0, 12),
                "control_cost": floats(0.0, 2.0),
            },
        )
    )
    graph = draw(st.sampled_from(["radius", "complete", "ring", "given", "preset"]))
    if graph == "preset":
        kw["preset"] = "classic"
    elif graph == "given":
        kw["graph"] = "given"
        pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
        kw["edges"] = tuple(draw(st.lists(pairs, max_size=3 * n))) if n > 1 else ()
    else:
        kw["graph"] = graph
    return kw


COVERAGE_MAPS = st.sampled_from(["uniform", "two_hotspots", "ring", "disaster"])


@st.composite
def coverage_configs(draw) -> dict[str, Any]:
    kw = draw(
        st.fixed_dictionaries(
            {"n_agents": st.integers(1, 10), "max_cycles": CYCLES, "map": COVERAGE_MAPS},
            optional={
                "map_resolution": st.integers(2, 48),
                "arena_width": floats(0.3, 5.0),
                "arena_height": maybe(floats(0.3, 5.0)),
                "dt": floats(0.001, 0.5),
                "max_accel": floats(0.01, 10.0),
                "max_speed": floats(0.01, 2.0),
                "robot_radius": floats(0.005, 0.1),
                "service_radius": floats(0.01, 0.6),
                "service_fraction": floats(1e-6, 1.0),
                "crop_size": st.sampled_from([1, 3, 5, 7, 9]),
                "crop_extent": floats(0.05, 3.0),
                "k_robots": st.integers(0, 4),
                "local_ratio": floats(0.0, 1.0),
                "battery": maybe(floats(0.01, 5.0)),
                "idle_cost": floats(0.0, 0.2),
                "accel_cost": floats(0.0, 0.2),
                "done_fraction": floats(1e-6, 1.0),
                "w2_resolution": st.integers(2, 16),
                "w2_every": maybe(st.integers(0, 4)),
                "continuous_actions": st.booleans(),
            },
        )
    )
    if draw(st.booleans()):
        gaussian = st.tuples(floats(-1.5, 1.5), floats(-1.5, 1.5), floats(0.02, 1.0), floats(0.01, 2.0))
        kw["gaussians"] = tuple(draw(st.lists(gaussian, min_size=1, max_size=3)))
    return kw


def _generic(field: dataclasses.Field, hint: Any) -> st.SearchStrategy | None:
    """A strategy for a field these tables do not know yet (a new argument): its options, or
    values near its default."""
    if typing.get_origin(hint) is typing.Literal:
        return st.sampled_from(typing.get_args(hint))
    default = field.default
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int) and not isinstance(default, bool):
        return st.integers(max(0, default - 2), default + 3)
    if isinstance(default, float) and default > 0:
        return floats(default / 2, default * 2)
    return None


@st.composite
def byzantine_configs(draw, env_id: str) -> dict[str, Any]:
    module = swarmzoo.spec(env_id).load()
    hints = typing.get_type_hints(module.Config)
    R = draw(st.integers(2, 14))
    kw: dict[str, Any] = {"n_robots": R, "max_cycles": draw(CYCLES)}
    how = draw(st.sampled_from(["default", "n_byzantine", "byzantine_fraction", "byzantine_ids"]))
    if how == "n_byzantine":
        kw["n_byzantine"] = F = draw(st.integers(0, R - 1))
    elif how == "byzantine_fraction":
        kw["byzantine_fraction"] = draw(floats(0.0, 0.49))
        F = int(round(kw["byzantine_fraction"] * R))
    elif how == "byzantine_ids":
        kw["byzantine_ids"] = tuple(draw(st.lists(st.integers(0, R - 1), unique=True, max_size=R - 1)))
        F = len(kw["byzantine_ids"])
    else:
        F = int(round(0.1 * R))
    graph = draw(st.sampled_from(["radius", "harary", "given"]))
    kw["graph"] = graph
    if graph == "harary":
        kw["connectivity"] = draw(st.integers(1, R - 1))
    elif graph == "given":
        pairs = st.tuples(st.integers(0, R - 1), st.integers(0, R - 1)).filter(lambda p: p[0] != p[1])
        kw["edges"] = tuple(draw(st.lists(pairs, max_size=3 * R)))
    known = {
        "attack": st.sampled_from(typing.get_args(hints["attack"])),
        "attack_magnitude": floats(0.01, 5.0),
        "attack_start": st.integers(0, 5),
        "drift_rate": floats(1e-3, 1.0),
        "sleeper_on": st.integers(1, 5),
        "sleeper_off": st.integers(1, 5),
        "protocol": st.sampled_from(typing.get_args(hints["protocol"])),
        "wmsr_f": maybe(st.integers(0, 4)),
        "comm_radius": floats(0.05, 3.0),
        "measurement_noise": floats(0.0, 0.1),
        "check_tolerance": floats(0.01, 1.0),
        "authenticate": st.booleans(),
        "byzantine_agents": st.booleans(),
        "reward": st.sampled_from(["global", "local"]),
        "k_slots": st.integers(0, 8),
        "arena_size": floats(0.5, 5.0),
        # case-study arguments
        "sensing_radius": floats(0.05, 3.0),
        "target_speed": floats(0.0, 0.2),
        "target_turn": floats(0.0, 2.0),
        "initial_error": floats(0.0, 0.5),
        "clock_drift": floats(0.0, 0.1),
        "fix_rate": floats(0.0, 1.0),
        "max_correction": floats(0.001, 1.0),
        "anchor_fraction": floats(0.0, 1.0),
        "step_size": floats(0.01, 2.0),
    }
    if "n_references" in hints:
        kw["n_references"] = draw(st.integers(0, min(3, R - F)))
    optional = {}
    for f in dataclasses.fields(module.Config):
        if f.name in kw or f.name in ("n_byzantine", "byzantine_fraction", "byzantine_ids", "connectivity"):
            continue
        strategy = known[f.name] if f.name in known else _generic(f, hints[f.name])
        if strategy is not None and f.name not in ("graph", "edges", "n_references"):
            optional[f.name] = strategy
    kw.update(draw(st.fixed_dictionaries({}, optional=optional)))
    return kw


def configs(env_id: str) -> st.SearchStrategy[dict[str, Any]]:
    table = {
        "navigation-v0": NAVIGATION | MPE_SPREAD,
        "flocking-v0": FLOCKING,
        "aggregation-v0": AGGREGATION,
        "kuramoto-v0": kuramoto_configs(),
        "coverage-v0": coverage_configs(),
        "coordination-v0": coordination_configs(),
        "aloha-v0": aloha_configs(),
    }
    if env_id in table:
        return table[env_id]
    if env_id.startswith("byzantine"):
        return byzantine_configs(env_id)
    raise AssertionError(f"no config strategy for {env_id}: add one to tests/hardening/test_fuzz_envs.py")


def test_every_registered_env_has_a_config_strategy() -> None:
    for env_id in ENV_IDS:
        assert configs(env_id) is not None


# -- actions --------------------------------------------------------------------------------------

MODES = ("sample", "low", "high", "zero", "mixed")


def box_values(space: spaces.Box, shape: tuple[int, ...], mode: str, rng: np.random.Generator) -> np.ndarray:
    low = np.broadcast_to(space.low, shape).astype(np.float64)
    high = np.broadcast_to(space.high, shape).astype(np.float64)
    choices = {
        "sample": rng.uniform(low, high),
        "low": low,
        "high": high,
        "zero": np.clip(0.0, low, high),
    }
    if mode != "mixed":
        return choices[mode]
    pick = rng.integers(0, 4, size=shape)
    return np.choose(pick, [choices["sample"], choices["low"], choices["high"], choices["zero"]])


def discrete_values(space: spaces.Discrete, shape: tuple[int, ...], mode: str, rng) -> np.ndarray:
    lo, hi = int(space.start), int(space.start + space.n - 1)
    choices = {
        "sample": rng.integers(lo, hi + 1, size=shape),
        "low": np.full(shape, lo),
        "high": np.full(shape, hi),
        "zero": np.full(shape, min(max(0, lo), hi)),
    }
    if mode != "mixed":
        return choices[mode]
    pick = rng.integers(0, 4, size=shape)
    return np.choose(pick, [choices["sample"], choices["low"], choices["high"], choices["zero"]])


def agent_action(space: spaces.Space, mode: str, rng: np.random.Generator, form: int) -> Any:
    """One robot's valid action, in one of several Python / numpy forms."""
    if isinstance(space, spaces.Discrete):
        v = int(discrete_values(space, (), mode, rng))
        return [v, np.int64(v), np.int32(v), np.array(v), np.uint64(v) if v >= 0 else v][form % 5]
    values = box_values(space, space.shape, mode, rng)
    integral = np.all(values == np.round(values))
    forms = [
        values.astype(np.float32),
        values,
        values.tolist(),
        values.astype(np.float16) if np.all(np.abs(values) <= 1) and mode != "sample" else values,
        values.astype(np.int64) if integral else values.astype(np.float32),
    ]
    return forms[form % 5]


def batch_actions(space: spaces.Space, E: int, N: int, mode: str, rng, form: int) -> np.ndarray:
    if isinstance(space, spaces.Discrete):
        a = discrete_values(space, (E, N), mode, rng)
        return a.astype([np.int64, np.int32, np.int8, np.uint8][form % 4]) if a.max(initial=0) < 128 else a
    a = box_values(space, (E, N, *space.shape), mode, rng)
    return a.astype(np.float32) if form % 2 else a


# -- the PettingZoo face --------------------------------------------------------------------------


def parallel_rollout(test: str, env_id: str, env, seed: int, mode: str, rng, max_steps: int = 40) -> int:
    obs, infos = env.reset(seed=seed)
    assert env.agents == env.possible_agents
    assert set(obs) == set(infos) == set(env.agents)
    check_parallel_obs(env, obs)
    check_state(env.state(), env.state_space)
    steps = 0
    while env.agents and steps < max_steps:
        before = list(env.agents)
        step_mode = mode if mode != "mixed" else MODES[int(rng.integers(0, len(MODES)))]
        # Each robot's action in its own form: numpy types mix within one step.
        actions = {
            a: agent_action(env.action_space(a), step_mode, rng, int(rng.integers(0, 5))) for a in before
        }
        obs, rewards, terms, truncs, infos = env.step(actions)
        steps += 1
        for d in (obs, rewards, terms, truncs, infos):
            assert set(d) == set(before), f"keys {sorted(d)} != agents {before}"
        check_parallel_obs(env, obs)
        for a in before:
            assert isinstance(rewards[a], float) and math.isfinite(rewards[a]), (
                f"reward of {a}: {rewards[a]!r}"
            )
            assert isinstance(terms[a], bool) and isinstance(truncs[a], bool)
            check_infos(infos[a])
        check_state(env.state(), env.state_space)
        check_task(env.unwrapped.task)
        done = {a for a in before if terms[a] or truncs[a]}
        assert env.agents == [a for a in before if a not in done]
    assert not env.agents, f"the episode did not end within {max_steps} steps"
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})
    check_mean_field(env)
    STEPS[(test, env_id)] += steps
    return steps


def check_parallel_obs(env, obs: dict) -> None:
    for a, o in obs.items():
        space = env.observation_space(a)
        assert isinstance(o, np.ndarray) and o.shape == space.shape and o.dtype == space.dtype, (a, o)
        assert np.isfinite(o).all(), f"observation of {a} is not finite: {o}"
        assert space.contains(o), f"observation of {a} is outside {space}"


def check_state(state: np.ndarray, space: spaces.Box) -> None:
    assert state.shape[-len(space.shape) :] == space.shape and state.dtype == space.dtype
    assert np.isfinite(state).all(), "state() is not finite"


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(40)
@given(data=st.data())
def test_parallel_face_random_configs_and_actions(env_id: str, data) -> None:
    test = "parallel_face_random_configs_and_actions"
    kwargs = data.draw(configs(env_id), label="config")
    env = build_or_reject(test, env_id, "parallel", kwargs)
    FUZZED[(test, env_id)] += 1
    task = env.unwrapped.task
    size = type(task).observation_size(task.config)  # what the memory check assumes
    assert size in (0, task.observation_space.shape[0])
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    mode = data.draw(st.sampled_from(MODES), label="actions")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="action seed"))
    parallel_rollout(test, env_id, env, seed, mode, rng)
    # A second episode on the same env object behaves the same way.
    parallel_rollout(test, env_id, env, seed + 1, mode, rng)


# -- the vector face ------------------------------------------------------------------------------


def check_vector_step(venv, obs, rewards, term, trunc, infos) -> None:
    E, N = venv.num_envs, venv.n_agents
    D = venv.single_observation_space.shape
    assert obs.shape == (E, N, *D) and obs.dtype == venv.single_observation_space.dtype
    assert np.isfinite(obs).all(), "vector observations are not finite"
    assert rewards.shape == (E, N) and np.isfinite(rewards).all(), "vector rewards are not finite"
    assert term.shape == (E, N) and trunc.shape == (E, N) and term.dtype == bool and trunc.dtype == bool
    assert infos["_final_obs"].shape == (E,)
    if infos["_final_obs"].any():
        done = infos["_final_obs"]
        assert infos["final_obs"].shape == (E, N, *D) and np.isfinite(infos["final_obs"][done]).all()
        assert infos["episode_return"].shape == (E, N) and np.isfinite(infos["episode_return"]).all()
        assert infos["episode_length"].shape == (E,)
        check_state(infos["final_state"], venv.state_space)
    # ``w2`` is NaN by design for the copies whose metric was not due this step.
    check_infos({k: v for k, v in infos.items() if not k.startswith("final")}, ignore=("w2",))
    if "w2" in infos:
        assert not np.isinf(infos["w2"]).any()
    check_state(venv.state(), venv.state_space)
    assert venv.state().shape[0] == E
    check_task(venv.task)


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(30)
@given(data=st.data())
def test_vector_face_random_configs_and_actions(env_id: str, data) -> None:
    test = "vector_face_random_configs_and_actions"
    kwargs = data.draw(configs(env_id), label="config")
    E = data.draw(st.integers(1, 4), label="num_envs")
    venv = build_or_reject(test, env_id, "vector", kwargs, E)
    FUZZED[(test, env_id)] += 1
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    mode = data.draw(st.sampled_from(MODES), label="actions")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="action seed"))
    obs, infos = venv.reset(seed=seed)
    N = venv.n_agents
    assert obs.shape == (E, N, *venv.single_observation_space.shape) and np.isfinite(obs).all()
    check_infos(infos)
    assert venv.observation_space.shape == (E, N, *venv.single_observation_space.shape)
    # Past the end of the first episode, so every copy auto-resets at least once.
    steps = venv.max_cycles + data.draw(st.integers(1, 3), label="extra steps")
    resets = np.zeros(E, dtype=np.int64)
    for t in range(steps):
        step_mode = mode if mode != "mixed" else MODES[int(rng.integers(0, len(MODES)))]
        actions = batch_actions(venv.single_action_space, E, N, step_mode, rng, t)
        assert venv.action_space.contains(actions.astype(venv.action_space.dtype))
        obs, rewards, term, trunc, infos = venv.step(actions)
        check_vector_step(venv, obs, rewards, term, trunc, infos)
        resets += infos["_final_obs"]
    assert (resets >= 1).all(), "a copy never auto-reset"
    check_mean_field(venv)
    STEPS[(test, env_id)] += steps


# -- invalid configs ------------------------------------------------------------------------------


def field_kinds(env_id: str) -> dict[str, tuple[str, bool, tuple]]:
    """``name -> (kind, optional, options)`` of every Config field, from its type hint."""
    module = swarmzoo.spec(env_id).load()
    hints = typing.get_type_hints(module.Config)
    out = {}
    for f in dataclasses.fields(module.Config):
        hint = hints[f.name]
        args = typing.get_args(hint)
        optional = type(None) in args
        if optional:
            hint = next(a for a in args if a is not type(None))
        origin = typing.get_origin(hint)
        if origin is typing.Literal:
            out[f.name] = ("choice", optional, typing.get_args(hint))
        elif origin is tuple:
            out[f.name] = ("tuple", optional, ())
        else:
            out[f.name] = (hint.__name__, optional, ())
    return out


NOT_A_NUMBER = ["abc", "1.5", [1.0], {"x": 1}, b"1", complex(1, 1), object()]
NON_FINITE = [math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("inf")]
# Values some fields accept and others refuse: each must either work or be refused by name.
EDGY_FLOATS = [0.0, -1.0, -1e-9, 1e-9, 1e-300, 5e-324, 1e6, -1e6, 1e9, -1e9, 1e12, 1e300, np.float32(0.5), 3]
EDGY_INTS = [0, np.int64(2), np.int32(1), np.uint8(3)]


def invalid_values(kind: str, optional: bool, options: tuple) -> list[Any]:
    """Values that are never valid for a field of this kind."""
    none = [] if optional else [None]
    if kind == "int":
        return [*NOT_A_NUMBER, *NON_FINITE, *none, 2.5, 3.0, -1, -(10**20), True, np.float64(2.0)]
    if kind == "float":
        return [*NOT_A_NUMBER, *NON_FINITE, *none, True, np.bool_(False)]
    if kind == "bool":
        return ["yes", "True", 1, 0, 1.0, *none, [True]]
    if kind == "choice":
        return ["bogus", "", *none, 3, str(options[0]).upper() + "_", [options[0]], (options[0],)]
    if kind == "str":
        return [3, *none, "", "no_such_map_or_file", b"ring", ["ring"]]
    if kind == "tuple":
        return ["abc", 5, 2.5, [[0, "x"]], [(0,)], [(0, 1, 2, 3, 4)], [(math.nan, 0, 1, 1)], [None]]
    raise AssertionError(f"unknown field kind {kind}")


def edgy_values(kind: str) -> list[Any]:
    if kind == "float":
        return EDGY_FLOATS
    if kind == "int":
        return EDGY_INTS
    if kind == "tuple":
        return [(), [], ((0, 1), (1, 0), (0, 1))]
    return []


def context_for(env_id: str, name: str) -> dict[str, Any]:
    """Other arguments a field needs to be read at all (edges only count with graph='given')."""
    if name == "edges":
        return {"graph": "given"}
    if name == "connectivity":
        return {"graph": "harary"}
    if name == "gaussians":
        return {}
    if env_id.startswith("byzantine"):
        return {"n_robots": 6}
    return {}


def small(env_id: str) -> dict[str, Any]:
    return {"max_cycles": 3} | ({} if env_id.startswith("byzantine") else {"n_agents": 3})


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(60)
@given(data=st.data())
def test_invalid_config_values_are_refused_by_name(env_id: str, data) -> None:
    test = "invalid_config_values_are_refused_by_name"
    kinds = field_kinds(env_id)
    name = data.draw(st.sampled_from(sorted(kinds)), label="field")
    kind, optional, options = kinds[name]
    value = data.draw(st.sampled_from(invalid_values(kind, optional, options)), label="value")
    face = data.draw(st.sampled_from(["parallel", "vector"]), label="face")
    kwargs = small(env_id) | context_for(env_id, name) | {name: value}
    FUZZED[(test, env_id)] += 1
    with pytest.raises((ValueError, TypeError)) as info:
        make(face, env_id, kwargs)
    assert_own_error(info.value, name)


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(50)
@given(data=st.data())
def test_edge_config_values_work_or_are_refused_by_name(env_id: str, data) -> None:
    test = "edge_config_values_work_or_are_refused_by_name"
    kinds = field_kinds(env_id)
    names = sorted(n for n, (kind, _, _) in kinds.items() if edgy_values(kind))
    # One to three fields at their edges at once (a tiny mass with a huge force, ...).
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True), label="fields")
    kwargs = small(env_id)
    for name in chosen:
        kwargs |= context_for(env_id, name)
    for name in chosen:
        kwargs[name] = data.draw(st.sampled_from(edgy_values(kinds[name][0])), label=name)
    face = data.draw(st.sampled_from(["parallel", "vector"]), label="face")
    FUZZED[(test, env_id)] += 1
    try:
        env = make(face, env_id, kwargs)
    except (ValueError, TypeError) as err:
        assert_own_error(err)
        assert any(name in str(err) for name in chosen), f"the error {err} names none of {chosen}"
        return
    rng = np.random.default_rng(0)
    if face == "parallel":
        parallel_rollout(test, env_id, env, 0, "mixed", rng)
        return
    obs, _ = env.reset(seed=0)
    assert np.isfinite(obs).all()
    for t in range(env.max_cycles + 1):
        actions = batch_actions(env.single_action_space, env.num_envs, env.n_agents, MODES[t % 5], rng, t)
        check_vector_step(env, *env.step(actions))
    STEPS[(test, env_id)] += env.max_cycles + 1


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(6)
@given(data=st.data())
def test_render_random_configs(env_id: str, data) -> None:
    """``rgb_array`` frames of random configs, extreme arenas included, on both faces."""
    test = "render_random_configs"
    kwargs = data.draw(configs(env_id), label="config")
    side = "arena_size" if env_id.startswith("byzantine") else "arena_width"
    if side in field_kinds(env_id) and data.draw(st.booleans(), label="extreme arena"):
        kwargs[side] = data.draw(st.sampled_from([1e-3, 1e3, 1e9]), label=side)
        if "arena_height" in field_kinds(env_id):
            kwargs["arena_height"] = data.draw(st.sampled_from([None, 1e-3, 1e9]), label="arena_height")
    face = data.draw(st.sampled_from(["parallel", "vector"]), label="face")
    env = build_or_reject(test, env_id, face, kwargs | {"render_mode": "rgb_array"}, 2)
    FUZZED[(test, env_id)] += 1
    env.reset(seed=0)
    for _ in range(2):
        frame = env.render()
        assert frame.ndim == 3 and frame.shape[-1] == 3 and frame.dtype == np.uint8
        assert 64 <= frame.shape[0] <= 4 * frame.shape[1]
        if face == "parallel":
            if not env.agents:
                break
            env.step({a: env.action_space(a).sample() for a in env.agents})
        else:
            env.step(env.action_space.sample())
    env.close()
    STEPS[(test, env_id)] += 1


IDENTIFIER = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=24)


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(15)
@given(data=st.data())
def test_unknown_arguments_are_refused_by_name(env_id: str, data) -> None:
    test = "unknown_arguments_are_refused_by_name"
    fields = {f.name for f in dataclasses.fields(swarmzoo.spec(env_id).load().Config)}
    name = data.draw(IDENTIFIER.filter(lambda s: s not in fields | {"preset", "render_mode"}), label="name")
    face = data.draw(st.sampled_from(["parallel", "vector"]), label="face")
    FUZZED[(test, env_id)] += 1
    with pytest.raises(ValueError) as info:
        make(face, env_id, small(env_id) | {name: 1})
    assert_own_error(info.value, repr(name))


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"preset": "bogus"}, ["preset", "bogus"]),
        ({"preset": ["vicsek"]}, ["preset"]),
        ({"preset": 3}, ["preset"]),
        ({"render_mode": "bogus"}, ["render_mode"]),
        ({"render_mode": ["rgb_array"]}, ["render_mode"]),
    ],
)
@pytest.mark.parametrize("face", ["parallel", "vector"])
def test_bad_preset_and_render_mode(env_id, kwargs, names, face) -> None:
    FUZZED[("bad_preset_and_render_mode", env_id)] += 1
    with pytest.raises((ValueError, TypeError)) as info:
        make(face, env_id, small(env_id) | kwargs)
    assert_own_error(info.value, *names)


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", None, True, np.float64(2), 10**30])
def test_bad_num_envs(bad) -> None:
    for env_id in ENV_IDS:
        FUZZED[("bad_num_envs", env_id)] += 1
        with pytest.raises((ValueError, TypeError)) as info:
            swarmzoo.make_vec(env_id, bad, **small(env_id))
        assert_own_error(info.value, "num_envs")


@pytest.mark.parametrize("bad", [3, None, b"navigation-v0", ["navigation-v0"], "", "navigation"])
@pytest.mark.parametrize("factory", [swarmzoo.make, swarmzoo.make_aec, lambda i: swarmzoo.make_vec(i, 1)])
def test_bad_env_ids(bad, factory) -> None:
    FUZZED[("bad_env_ids", "all")] += 1
    with pytest.raises((ValueError, TypeError)) as info:
        factory(bad)
    assert_own_error(info.value, "env id")


# -- invalid actions, agents and seeds ------------------------------------------------------------


def bad_agent_action(space: spaces.Space, kind: str, rng) -> tuple[Any, type]:
    """An invalid action of ``kind`` for one robot and the error it must raise."""
    if isinstance(space, spaces.Discrete):
        lo, hi = int(space.start), int(space.start + space.n - 1)
        return {
            "shape": (np.array([lo, lo]), ValueError),
            "dtype": (
                [float(lo), np.float32(lo), "1", None, True, np.bool_(False), 1 + 0j, object()][
                    rng.integers(8)
                ],
                TypeError,
            ),
            "range": (
                [hi + 1, lo - 1, 2**40, -(2**40), np.int64(hi + 7), np.uint64(2**63)][rng.integers(6)],
                ValueError,
            ),
            "nan": (math.nan, TypeError),
            "huge": (2**70, (ValueError, TypeError)),
        }[kind]
    shape = space.shape
    good = np.zeros(shape, dtype=np.float32)
    nan = good.copy()
    nan.flat[rng.integers(nan.size)] = [math.nan, math.inf, -math.inf][rng.integers(3)]
    out = good.copy()
    out.flat[rng.integers(out.size)] = [1.0001, -1.0001, 1e30, -7.0, 2.0][rng.integers(5)]
    if np.all(space.low >= 0):
        out.flat[0] = -0.5
    # A scalar is a shape fault except for a one-element Box, where the env accepts it.
    wrong = [np.zeros((*shape, 2)), np.zeros(shape[0] + 1), []] + ([0.0] if shape != (1,) else [])
    return {
        "shape": (wrong[rng.integers(len(wrong))], ValueError),
        "dtype": (
            [good.astype(str), good.astype(object), good.astype(complex), good.astype(bool)][rng.integers(4)],
            TypeError,
        ),
        "range": (out, ValueError),
        "nan": (nan, ValueError),
        "huge": ([10**400] + [0] * (good.size - 1), (ValueError, TypeError)),
    }[kind]


ACTION_FAULTS = ("shape", "dtype", "range", "nan", "huge")


def ready(face: str, env_id: str, kwargs: dict[str, Any], E: int = 2):
    env = make(face, env_id, kwargs, E)
    env.reset(seed=0)
    return env


@st.composite
def action_test_configs(draw, env_id: str) -> dict[str, Any]:
    kw = small(env_id)
    if "continuous_actions" in {f.name for f in dataclasses.fields(swarmzoo.spec(env_id).load().Config)}:
        kw["continuous_actions"] = draw(st.booleans())
    if env_id == "navigation-v0" and draw(st.booleans()):
        kw = {"preset": "mpe_spread", "n_agents": 3, "continuous_actions": kw["continuous_actions"]}
    if env_id.startswith("byzantine"):
        kw |= {"n_robots": draw(st.integers(2, 6)), "byzantine_agents": draw(st.booleans())}
    return kw


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(40)
@given(data=st.data())
def test_parallel_bad_actions_name_the_agent(env_id: str, data) -> None:
    test = "parallel_bad_actions_name_the_agent"
    env = ready("parallel", env_id, data.draw(action_test_configs(env_id), label="config"))
    FUZZED[(test, env_id)] += 1
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    good = {a: agent_action(env.action_space(a), "sample", rng, 0) for a in env.agents}
    state = env.state().copy()
    fault = data.draw(st.sampled_from([*ACTION_FAULTS, "unknown", "missing", "not_a_dict", "key_type"]))
    victim = data.draw(st.sampled_from(env.agents), label="agent")
    actions = dict(good)
    if fault in ACTION_FAULTS:
        actions[victim], error = bad_agent_action(env.action_space(victim), fault, rng)
        names: tuple[str, ...] = (victim,)
    elif fault == "unknown":
        name = data.draw(IDENTIFIER.filter(lambda s: s not in env.possible_agents), label="unknown agent")
        actions[name], error, names = good[victim], ValueError, (repr(name),)
    elif fault == "missing":
        del actions[victim]
        error, names = ValueError, (victim,)
    elif fault == "key_type":
        key = data.draw(st.sampled_from([0, None, ("robot_0",), 1.5, b"robot_0"]))
        actions[key], error, names = good[victim], ValueError, (repr(key),)
    else:
        actions = data.draw(st.sampled_from([list(good.values()), None, "robot_0", np.zeros(3)]))
        error, names = TypeError, ("actions",)
    with pytest.raises(error) as info:
        env.step(actions)
    assert_own_error(info.value, *names)
    # A refused step changes nothing, and the env goes on.
    np.testing.assert_array_equal(env.state(), state)
    env.step(good)


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(10)
@given(data=st.data())
def test_parallel_spaces_of_unknown_agents(env_id: str, data) -> None:
    env = swarmzoo.make(env_id, **small(env_id))
    FUZZED[("parallel_spaces_of_unknown_agents", env_id)] += 1
    agent = data.draw(
        IDENTIFIER.filter(lambda s: s not in env.possible_agents)
        | st.sampled_from([0, None, ["robot_0"], {"a": 1}])
    )
    for method in (env.observation_space, env.action_space):
        with pytest.raises((ValueError, TypeError)) as info:
            method(agent)
        assert_own_error(info.value, "agent", repr(agent))


@pytest.mark.parametrize("env_id", ENV_IDS)
@fuzz_settings(30)
@given(data=st.data())
def test_vector_bad_actions_are_refused(env_id: str, data) -> None:
    test = "vector_bad_actions_are_refused"
    E = data.draw(st.integers(1, 3))
    venv = ready("vector", env_id, data.draw(action_test_configs(env_id), label="config"), E)
    FUZZED[(test, env_id)] += 1
    N, space = venv.n_agents, venv.single_action_space
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    good = batch_actions(space, E, N, "sample", rng, 0)
    state = venv.state().copy()
    fault = data.draw(st.sampled_from(["shape", "dtype", "range", "nan", "ragged", "none", "string"]))
    bad = good.copy()
    error: Any = ValueError
    if fault == "shape":
        bad = data.draw(
            st.sampled_from(
                [good[:, :-1], good[None], good.reshape(-1), good[..., None], np.zeros((E + 1, N))]
            )
        )
        if bad.shape == good.shape:
            bad = good[None]
    elif fault == "dtype":
        bad = data.draw(
            st.sampled_from([good.astype(object), good.astype(str), good.astype(complex), good.astype(bool)])
        )
        error = TypeError
        if isinstance(space, spaces.Discrete) and data.draw(st.booleans()):
            bad = good.astype(np.float32)
    elif fault == "range":
        idx = tuple(int(rng.integers(s)) for s in good.shape)
        if isinstance(space, spaces.Discrete):
            bad[idx] = data.draw(st.sampled_from([space.n, -1, space.n + 100]))
        else:
            bad[idx] = data.draw(st.sampled_from([1.5, -1.5, 1e9, -1e9]))
    elif fault == "nan":
        if isinstance(space, spaces.Discrete):
            bad, error = good.astype(np.float64), TypeError
            bad[0, 0] = math.nan
        else:
            bad[tuple(int(rng.integers(s)) for s in good.shape)] = data.draw(
                st.sampled_from([math.nan, math.inf, -math.inf])
            )
    elif fault == "ragged":
        bad = [list(row) for row in good.tolist()]
        bad[0] = bad[0][:-1] if len(bad[0]) > 1 else [*bad[0], bad[0][0]]
    elif fault == "none":
        bad, error = None, (ValueError, TypeError)
    else:
        bad, error = "robot_0", (ValueError, TypeError)
    with pytest.raises(error) as info:
        venv.step(bad)
    assert_own_error(info.value, "actions")
    np.testing.assert_array_equal(venv.state(), state)
    check_vector_step(venv, *venv.step(good))


SEEDS = [-1, -(2**40), 1.5, "0", "abc", [0], object(), np.float64(3.0), True]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("face", ["parallel", "vector"])
@pytest.mark.parametrize("seed", SEEDS, ids=repr)
def test_bad_seeds_are_refused_by_name(env_id, face, seed) -> None:
    FUZZED[("bad_seeds_are_refused_by_name", env_id)] += 1
    env = make(face, env_id, small(env_id))
    with pytest.raises((ValueError, TypeError)) as info:
        env.reset(seed=seed)
    assert_own_error(info.value, "seed")


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("seed", [0, 2**32 - 1, 2**63, 2**128 + 5, np.int64(7), np.uint32(9)], ids=repr)
def test_large_and_numpy_seeds_work(env_id, seed) -> None:
    FUZZED[("large_and_numpy_seeds_work", env_id)] += 1
    for face in ("parallel", "vector"):
        env = make(face, env_id, small(env_id))
        obs, _ = env.reset(seed=seed)
        again, _ = env.reset(seed=seed)
        if face == "parallel":
            obs, again = np.stack(list(obs.values())), np.stack(list(again.values()))
        np.testing.assert_array_equal(obs, again)
