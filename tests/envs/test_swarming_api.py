"""The swarming envs (``flocking-v0``, ``kuramoto-v0``, ``aggregation-v0``) pass PettingZoo's own
test utilities over a matrix of arguments; their vector and PettingZoo faces replay each other;
their mean-field views describe the live swarm; they are reachable through both registries; and
they are deterministic under seeding, on both faces.

The matrix crosses N = 1, 2, 50, 500 with discrete and continuous actions, and adds non-square
arenas, every boundary each env supports, Kuramoto's three coupling graphs and frequency
distributions, presets and the neighbour-search methods. N = 500 runs fewer cycles.
"""

from __future__ import annotations

import random
from types import ModuleType

import numpy as np
import pettingzoo
import pytest
from pettingzoo import AECEnv, ParallelEnv

import swarmzoo
from swarmzoo.envs import aggregation, flocking, kuramoto
from swarmzoo.envs.core import SwarmParallelEnv, SwarmVectorEnv
from swarmzoo.envs.core.collective import MeanField
from swarmzoo.envs.registry import spec
from tests.envs.matrix import SWARMING_EXTRA, assert_same, random_actions, stack, vector_actions

MODULES: dict[str, ModuleType] = {"flocking": flocking, "kuramoto": kuramoto, "aggregation": aggregation}
TASKS = {"flocking": flocking.Flocking, "kuramoto": kuramoto.Kuramoto, "aggregation": aggregation.Aggregation}

# N x action kind, for every env.
SIZES = (1, 2, 50, 500)
BASE = {
    f"n{n}_{'continuous' if cont else 'discrete'}": dict(n_agents=n, continuous_actions=cont)
    for n in SIZES
    for cont in (False, True)
}

# Each env's own configs: those of the conformance matrix.
EXTRA = {env_id.split("-")[0]: configs for env_id, configs in SWARMING_EXTRA.items()}

CASES = [(env, name, kw) for env in MODULES for name, kw in {**BASE, **EXTRA[env]}.items()]
PARAMS = [pytest.param(env, kw, id=f"{env}-{name}") for env, name, kw in CASES]
SMALL_PARAMS = [p for p in PARAMS if p.values[1].get("n_agents", 50) < 500]


def cycles(kwargs: dict, small: int = 20, large: int = 3) -> int:
    """Cycles to run: fewer at N = 500 (the AEC form steps one robot at a time)."""
    return large if kwargs.get("n_agents", 50) >= 500 else small


# PettingZoo's checks warn about infinite observation / state bounds; those are by design here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


# -- PettingZoo's own test utilities -----------------------------------------------------------


@pytest.mark.parametrize("env_name", list(MODULES))
def test_render_large_swarm(env_name) -> None:
    env = MODULES[env_name].parallel_env(n_agents=500, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    env.step({a: env.action_space(a).sample() for a in env.agents})
    assert env.render().shape == frame.shape
    env.close()


# The documented sizes (module docstrings): one robot's observation and one copy's state.
def _documented_dims(env_name: str, cfg) -> tuple[int, int]:
    n = cfg.n_agents
    if env_name == "flocking":
        return 5 + cfg.heading_bins + 3 * cfg.k_robots, 4 * n
    if env_name == "kuramoto":
        return 4 + cfg.phase_bins, 5 * n
    return 3 + 3 * cfg.k_robots, 2 * n


INFO_KEYS = {
    "flocking": {"order_parameter", "neighbours", "collisions"},
    "kuramoto": {"order_parameter", "neighbours"},
    "aggregation": {"spread", "largest_group", "neighbours"},
}
ACTION_DIM = {"flocking": 1, "kuramoto": 1, "aggregation": 2}


@pytest.mark.parametrize(("env_name", "kwargs"), PARAMS)
def test_spaces_and_agents(env_name, kwargs) -> None:
    env = MODULES[env_name].parallel_env(**kwargs)
    n = env.unwrapped.task.n_agents
    assert n == kwargs.get("n_agents", 50)
    assert env.possible_agents == [f"robot_{i}" for i in range(n)]
    obs, infos = env.reset(seed=0)
    assert env.agents == env.possible_agents
    for agent in env.agents:
        assert env.observation_space(agent).contains(obs[agent])
        assert obs[agent].dtype == np.float32
        assert np.isfinite(obs[agent]).all()
        assert isinstance(infos[agent], dict)
    assert env.state_space.contains(env.state())
    assert env.metadata["name"] == f"{env_name}_v0"
    assert set(env.metadata["render_modes"]) == {"human", "rgb_array"}
    cfg = env.unwrapped.task.config
    obs_dim, state_dim = _documented_dims(env_name, cfg)
    assert env.observation_space("robot_0").shape == (obs_dim,)
    assert env.state_space.shape == (state_dim,)
    space = env.action_space("robot_0")
    if kwargs.get("continuous_actions"):
        assert space.shape == (ACTION_DIM[env_name],) and space.dtype == np.float32
        np.testing.assert_array_equal(space.low, -1.0)
        np.testing.assert_array_equal(space.high, 1.0)
    else:
        n_actions = {"flocking": "n_turns", "kuramoto": "n_controls"}
        assert space.n == (getattr(cfg, n_actions[env_name]) if env_name in n_actions else 5)
    # Every robot gets a finite reward and the documented infos after a step.
    _, rew, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert set(rew) == set(env.possible_agents)
    assert np.isfinite(list(rew.values())).all()
    for agent in env.possible_agents:
        assert set(infos[agent]) == INFO_KEYS[env_name]
        assert all(np.isfinite(v) for v in infos[agent].values())


# -- the registries ------------------------------------------------------------------------------

IDS = ["flocking-v0", "kuramoto-v0", "aggregation-v0"]


def test_list_envs_includes_the_swarming_envs() -> None:
    assert set(IDS) <= set(swarmzoo.list_envs())


@pytest.mark.parametrize("env_id", IDS + [f"swarmzoo/{i}" for i in IDS])
def test_make_all_faces(env_id) -> None:
    name = env_id.removeprefix("swarmzoo/").removesuffix("-v0")
    assert spec(env_id).load() is MODULES[name]
    assert spec(env_id).description
    env = swarmzoo.make(env_id, n_agents=4, max_cycles=5)
    assert isinstance(env, ParallelEnv) and isinstance(env, SwarmParallelEnv)
    assert env.possible_agents == [f"robot_{i}" for i in range(4)] and env.max_cycles == 5
    obs, _ = env.reset(seed=0)
    # make() forwards its keywords to the module's factory: the same env, the same observations.
    same, _ = MODULES[name].parallel_env(n_agents=4, max_cycles=5).reset(seed=0)
    for agent in env.possible_agents:
        np.testing.assert_array_equal(obs[agent], same[agent])
    aec = swarmzoo.make_aec(env_id, n_agents=3)
    assert isinstance(aec, AECEnv)
    aec.reset(seed=1)
    assert aec.agent_selection == "robot_0"
    aec.step(0)
    assert aec.agent_selection == "robot_1"
    venv = swarmzoo.make_vec(env_id, 3, n_agents=2, continuous_actions=True)
    assert isinstance(venv, SwarmVectorEnv) and venv.num_envs == 3 and venv.n_agents == 2
    vobs, _ = venv.reset(seed=0)
    assert vobs.shape == (3, 2, *venv.single_observation_space.shape)
    venv.step(np.zeros((3, 2, *venv.single_action_space.shape), np.float32))


@pytest.mark.parametrize("env_id", IDS)
def test_pettingzoo_registry(env_id) -> None:
    env = pettingzoo.make("parallel", f"swarmzoo/{env_id}", n_agents=3, max_cycles=7)
    assert isinstance(env, SwarmParallelEnv)
    assert env.possible_agents == ["robot_0", "robot_1", "robot_2"] and env.max_cycles == 7
    env.reset(seed=0)
    env.step({a: 0 for a in env.agents})
    aec = pettingzoo.make("aec", f"swarmzoo/{env_id}", n_agents=2)
    assert isinstance(aec, AECEnv)
    aec.reset(seed=0)
    assert aec.agent_selection == "robot_0"


# -- the vector face replays the PettingZoo face -------------------------------------------------

E = 3
SEED = 10
PARITY = {
    "flocking": {
        "discrete_torus": dict(n_agents=6, max_cycles=5),
        "continuous_walls_non_square": dict(
            n_agents=5,
            boundary="walls",
            arena_width=3.0,
            arena_height=1.5,
            continuous_actions=True,
            max_cycles=4,
        ),
        "local_penalties": dict(
            n_agents=12,
            reward="local",
            cohesion_penalty=0.3,
            collision_penalty=0.2,
            robot_radius=0.15,
            max_cycles=4,
        ),
    },
    "kuramoto": {
        "radius": dict(n_agents=9, max_cycles=5, coupling=1.0, phase_noise=0.2),
        "complete_continuous": dict(
            n_agents=7,
            graph="complete",
            continuous_actions=True,
            frequency_distribution="cauchy",
            max_cycles=4,
        ),
        "ring_local": dict(
            n_agents=8, graph="ring", reward="local", control_cost=0.3, phase_noise=0.5, max_cycles=3
        ),
        "walls_non_square_uniform": dict(
            n_agents=6,
            boundary="walls",
            arena_width=2.0,
            arena_height=0.7,
            frequency_distribution="uniform",
            max_cycles=4,
        ),
    },
    "aggregation": {
        "walls": dict(n_agents=6, max_cycles=5),
        "none_continuous": dict(n_agents=5, boundary="none", continuous_actions=True, max_cycles=4),
        "local_collisions_non_square": dict(
            n_agents=10,
            reward="local",
            collision_penalty=0.4,
            robot_radius=0.15,
            arena_width=2.0,
            arena_height=1.0,
            max_cycles=5,
        ),
    },
}
PARITY_PARAMS = [
    pytest.param(env, kw, id=f"{env}-{name}")
    for env, configs in PARITY.items()
    for name, kw in configs.items()
]
VECTOR_KEYS = {"_final_obs", "_episode", "final_obs", "final_state", "episode_return", "episode_length"}


def _assert_same_mean_field(vector_mf: MeanField, i: int, single_mf: MeanField) -> None:
    np.testing.assert_array_equal(vector_mf.samples[i], single_mf.samples[0])
    assert vector_mf.names == single_mf.names
    np.testing.assert_array_equal(vector_mf.low, single_mf.low)
    np.testing.assert_array_equal(vector_mf.high, single_mf.high)
    np.testing.assert_array_equal(vector_mf.periodic, single_mf.periodic)


@pytest.mark.parametrize(("env_name", "kwargs"), PARITY_PARAMS)
def test_vector_and_pettingzoo_faces_match(env_name, kwargs) -> None:
    env_id = f"{env_name}-v0"
    venv = swarmzoo.make_vec(env_id, E, **kwargs)
    envs = [swarmzoo.make(env_id, **kwargs) for _ in range(E)]
    agents = envs[0].possible_agents
    assert venv.agents == agents
    assert venv.single_observation_space == envs[0].observation_space(agents[0])
    assert venv.single_action_space == envs[0].action_space(agents[0])
    assert venv.state_space == envs[0].state_space

    vobs, vreset_infos = venv.reset(seed=SEED)
    assert vobs.shape == (E, len(agents), *venv.single_observation_space.shape)
    for i, env in enumerate(envs):
        obs, reset_infos = env.reset(seed=SEED + i)
        np.testing.assert_array_equal(vobs[i], stack(obs, agents))
        np.testing.assert_array_equal(venv.state()[i], env.state())
        _assert_same_mean_field(venv.mean_field(), i, env.mean_field())
        for key, value in vreset_infos.items():
            assert [reset_infos[a][key] for a in agents] == np.broadcast_to(value[i], len(agents)).tolist()

    rng = np.random.default_rng(0)
    returns = np.zeros((E, len(agents)))
    lengths = np.zeros(E, dtype=int)
    resets = np.zeros(E, dtype=int)
    steps = 2 * kwargs["max_cycles"] + 3
    for _ in range(steps):
        acts = vector_actions(venv, rng)
        vobs, vrew, vterm, vtrunc, vinfos = venv.step(acts)
        assert vrew.shape == vterm.shape == vtrunc.shape == (E, len(agents))
        finished = vinfos["_final_obs"]
        assert finished.shape == (E,) and finished.dtype == bool
        np.testing.assert_array_equal(vinfos["_episode"], finished)
        task_keys = set(vinfos) - VECTOR_KEYS
        assert task_keys, "the task reports no per-step infos"
        vmf = venv.mean_field()
        for i, env in enumerate(envs):
            obs, rew, term, trunc, infos = env.step(dict(zip(agents, acts[i], strict=True)))
            np.testing.assert_array_equal(vrew[i], stack(rew, agents))
            np.testing.assert_array_equal(vterm[i], stack(term, agents))
            np.testing.assert_array_equal(vtrunc[i], stack(trunc, agents))
            for agent in agents:
                assert set(infos[agent]) == task_keys
            for key in sorted(task_keys):
                np.testing.assert_array_equal(
                    np.broadcast_to(np.asarray(vinfos[key])[i], (len(agents),)),
                    [infos[a][key] for a in agents],
                    err_msg=key,
                )
            returns[i] += stack(rew, agents)
            lengths[i] += 1
            done = all(term.values()) or all(trunc.values())
            assert bool(finished[i]) == done
            assert env.agents == ([] if done else agents)
            if done:
                np.testing.assert_array_equal(vinfos["final_obs"][i], stack(obs, agents))
                np.testing.assert_array_equal(vinfos["final_state"][i], env.state())
                np.testing.assert_array_equal(vinfos["episode_return"][i], returns[i])
                assert vinfos["episode_length"][i] == lengths[i]
                obs, _ = env.reset()  # no seed: the copy's stream continues
                returns[i] = 0.0
                lengths[i] = 0
                resets[i] += 1
            np.testing.assert_array_equal(vobs[i], stack(obs, agents))
            np.testing.assert_array_equal(venv.state()[i], env.state())
            _assert_same_mean_field(vmf, i, env.mean_field())
    # Every copy crossed the same episode boundaries (no termination: truncation only).
    np.testing.assert_array_equal(resets, steps // kwargs["max_cycles"])


# -- the mean-field view ---------------------------------------------------------------------------

# Features whose samples must lie inside [low, high]. Walls and tori keep positions in the arena;
# angles are wrapped. Not bounded: positions on aggregation's open plane (the arena is only the
# spawn area) and Kuramoto's normal or Cauchy natural frequencies (their tails pass +- 4 spreads).
NAMES = {
    "flocking": ("x", "y", "heading"),
    "kuramoto": ("x", "y", "phase", "frequency"),
    "aggregation": ("x", "y"),
}


def _bounded(env_name: str, cfg) -> np.ndarray:
    if env_name == "flocking":
        return np.array([True, True, True])
    if env_name == "kuramoto":
        return np.array([True, True, True, cfg.frequency_distribution == "uniform"])
    walls = cfg.boundary == "walls"
    return np.array([walls, walls])


def _periodic(env_name: str, cfg) -> np.ndarray:
    torus = cfg.boundary == "torus"
    return {
        "flocking": np.array([torus, torus, True]),
        "kuramoto": np.array([torus, torus, True, False]),
        "aggregation": np.array([False, False]),
    }[env_name]


def _check_mean_field(env_name: str, face, n_envs: int) -> None:
    task = face.task if isinstance(face, SwarmVectorEnv) else face.unwrapped.task
    cfg = task.config
    mf = face.mean_field()
    assert isinstance(mf, MeanField)
    S = len(NAMES[env_name])
    assert mf.names == NAMES[env_name]
    assert mf.samples.shape == (n_envs, cfg.n_agents, S)
    assert mf.samples.dtype == np.float64
    assert mf.low.shape == mf.high.shape == mf.periodic.shape == (S,)
    assert np.all(mf.low < mf.high)
    np.testing.assert_array_equal(mf.periodic, _periodic(env_name, cfg))
    half = cfg.arena.half
    np.testing.assert_allclose(mf.low[:2], -half)
    np.testing.assert_allclose(mf.high[:2], half)
    bounded = _bounded(env_name, cfg)
    inside = (mf.samples >= mf.low) & (mf.samples <= mf.high)
    assert inside[..., bounded].all(), f"samples outside [low, high]: {mf.samples[~inside]}"
    # The samples are the live state: they agree with state() (which scales positions by half).
    state = face.state().reshape(n_envs, cfg.n_agents, -1)
    np.testing.assert_allclose(state[..., :2], mf.samples[..., :2] / half, rtol=1e-6, atol=1e-6)
    if env_name in ("flocking", "kuramoto"):
        angle = mf.samples[..., 2]
        np.testing.assert_allclose(state[..., 2], np.cos(angle), atol=1e-6)
        np.testing.assert_allclose(state[..., 3], np.sin(angle), atol=1e-6)
    if env_name == "kuramoto":
        own = (mf.samples[..., 3] - cfg.frequency_mean) / cfg.frequency_spread
        np.testing.assert_allclose(state[..., 4], own, rtol=1e-6, atol=1e-6)
    # Each robot weighs 1 / N: a histogram over [low, high] (clipped) sums to one per copy.
    np.testing.assert_allclose(mf.histogram(3).sum(axis=1), 1.0)


@pytest.mark.parametrize(("env_name", "kwargs"), PARAMS)
def test_mean_field_on_both_faces(env_name, kwargs) -> None:
    kwargs = {**kwargs, "max_cycles": 4}
    env = MODULES[env_name].parallel_env(**kwargs)
    env.reset(seed=3)
    _check_mean_field(env_name, env, 1)
    venv = MODULES[env_name].vector_env(2, **kwargs)
    venv.reset(seed=3)
    _check_mean_field(env_name, venv, 2)
    np.testing.assert_array_equal(venv.mean_field().samples[0], env.mean_field().samples[0])
    rng = np.random.default_rng(0)
    for _ in range(6):  # through an auto-reset
        acts = vector_actions(venv, rng)
        venv.step(acts)
        _check_mean_field(env_name, venv, 2)
        if not env.agents:
            env.reset()
        env.step(dict(zip(env.agents, acts[0], strict=True)))
        _check_mean_field(env_name, env, 1)


def test_mean_field_walls_hold_robots_pushing_out() -> None:
    """Robots that always push into the walls stay inside the arena in every env."""
    for env_name, kwargs, push in (
        ("flocking", dict(n_agents=20, boundary="walls", arena_width=2.0, arena_height=1.0), 2),
        ("aggregation", dict(n_agents=20, boundary="walls", arena_width=2.0, arena_height=1.0), 2),
        ("aggregation", dict(n_agents=20, boundary="walls", arena_width=2.0, arena_height=1.0), 3),
    ):
        venv = MODULES[env_name].vector_env(2, max_cycles=50, **kwargs)
        venv.reset(seed=0)
        for _ in range(40):
            venv.step(np.full((2, 20), push))
            _check_mean_field(env_name, venv, 2)


# -- determinism --------------------------------------------------------------------------------

DETERMINISM = {
    "flocking": dict(n_agents=8, max_cycles=6, heading_noise=0.5),
    "flocking_walls_continuous": dict(n_agents=8, max_cycles=6, boundary="walls", continuous_actions=True),
    "kuramoto": dict(n_agents=8, max_cycles=6, phase_noise=0.3, coupling=1.0),
    "kuramoto_ring_continuous": dict(
        n_agents=8, max_cycles=6, graph="ring", continuous_actions=True, frequency_distribution="cauchy"
    ),
    "aggregation": dict(n_agents=8, max_cycles=6),
    "aggregation_none_continuous": dict(n_agents=8, max_cycles=6, boundary="none", continuous_actions=True),
}
DET_PARAMS = [pytest.param(name.split("_")[0], kw, id=name) for name, kw in DETERMINISM.items()]


def _disturb_global_rngs(value: int) -> None:
    """Scramble the global random streams: an env that secretly used them would diverge."""
    np.random.seed(value)  # noqa: NPY002 - the legacy global stream is the one to scramble
    random.seed(value)


def _parallel_rollout(env_name: str, kwargs: dict, seed: int, episodes: int = 2, disturb: int = 0) -> list:
    """Everything observable over ``episodes`` episodes: reset(seed) once, then plain resets."""
    env = MODULES[env_name].parallel_env(**kwargs)
    _disturb_global_rngs(disturb)
    rng = np.random.default_rng(1234)
    trace = []
    for ep in range(episodes):
        obs, infos = env.reset(seed=seed) if ep == 0 else env.reset()
        trace.append(("reset", obs, infos, env.state(), env.mean_field().samples))
        while env.agents:
            out = env.step(random_actions(env, rng))
            trace.append(("step", *out, env.state(), env.mean_field().samples))
    env.close()
    return trace


def _vector_rollout(env_name: str, kwargs: dict, seed: int, disturb: int = 0) -> list:
    venv = MODULES[env_name].vector_env(E, **kwargs)
    _disturb_global_rngs(disturb)
    rng = np.random.default_rng(1234)
    obs, infos = venv.reset(seed=seed)
    trace = [("reset", obs.copy(), infos, venv.state(), venv.mean_field().samples)]
    for _ in range(2 * kwargs["max_cycles"] + 1):
        out = venv.step(vector_actions(venv, rng))
        trace.append(("step", *out, venv.state(), venv.mean_field().samples))
    return trace


def _aec_rollout(env_name: str, kwargs: dict, seed: int, disturb: int = 0) -> list:
    env = MODULES[env_name].env(**kwargs)
    _disturb_global_rngs(disturb)
    env.reset(seed=seed)
    rng = np.random.default_rng(0)
    space = env.action_space(env.possible_agents[0])
    trace = []
    for agent in env.agent_iter():
        obs, rew, term, trunc, info = env.last()
        trace.append((agent, obs.copy(), rew, term, trunc, dict(info)))
        if term or trunc:
            act = None
        elif hasattr(space, "n"):
            act = int(rng.integers(space.n))
        else:
            act = rng.uniform(space.low, space.high).astype(space.dtype)
        env.step(act)
    return trace


def _first_differences(a: list, b: list) -> int:
    """How many entries of two traces differ (stopping at the shorter one)."""
    diff = 0
    for x, y in zip(a, b, strict=False):
        try:
            assert_same(x, y)
        except AssertionError:
            diff += 1
    return diff


@pytest.mark.parametrize(("env_name", "kwargs"), DET_PARAMS)
def test_parallel_same_seed_same_episodes(env_name, kwargs) -> None:
    a = _parallel_rollout(env_name, kwargs, seed=42, disturb=1)
    b = _parallel_rollout(env_name, kwargs, seed=42, disturb=2)
    assert sum(1 for t in a if t[0] == "reset") == 2
    assert len(a) == 2 * (kwargs["max_cycles"] + 1)
    assert_same(a, b)


@pytest.mark.parametrize(("env_name", "kwargs"), DET_PARAMS)
def test_parallel_different_seeds_differ(env_name, kwargs) -> None:
    a = _parallel_rollout(env_name, kwargs, seed=1, episodes=1)
    b = _parallel_rollout(env_name, kwargs, seed=2, episodes=1)
    first_a, first_b = a[0][1], b[0][1]
    assert not np.array_equal(np.stack(list(first_a.values())), np.stack(list(first_b.values())))
    # Not just the start: every step of the episode differs somewhere.
    assert _first_differences(a, b) == len(a)


@pytest.mark.parametrize(("env_name", "kwargs"), DET_PARAMS)
def test_vector_same_seed_same_trajectories(env_name, kwargs) -> None:
    a = _vector_rollout(env_name, kwargs, seed=7, disturb=1)
    b = _vector_rollout(env_name, kwargs, seed=7, disturb=2)
    assert sum(bool(t[5]["_episode"].any()) for t in a[1:]) == 2  # two auto-resets
    assert_same(a, b)


@pytest.mark.parametrize(("env_name", "kwargs"), DET_PARAMS)
def test_vector_different_seeds_differ(env_name, kwargs) -> None:
    a = _vector_rollout(env_name, kwargs, seed=7)
    b = _vector_rollout(env_name, kwargs, seed=8)
    assert not np.array_equal(a[0][1], b[0][1])
    assert _first_differences(a, b) == len(a)
    # Within one vector env the copies differ from each other too (seeds seed + i).
    obs = a[0][1]
    assert not np.array_equal(obs[0], obs[1]) and not np.array_equal(obs[1], obs[2])


@pytest.mark.parametrize(("env_name", "kwargs"), DET_PARAMS)
def test_aec_same_seed_same_episode(env_name, kwargs) -> None:
    a = _aec_rollout(env_name, kwargs, seed=3, disturb=1)
    b = _aec_rollout(env_name, kwargs, seed=3, disturb=2)
    n = kwargs["n_agents"]
    assert len(a) == n * kwargs["max_cycles"] + n
    assert_same(a, b)
    c = _aec_rollout(env_name, kwargs, seed=4)
    assert not np.array_equal(a[0][1], c[0][1])


@pytest.mark.parametrize("env_name", list(MODULES))
def test_second_episode_differs_from_the_first(env_name) -> None:
    """A plain reset() continues the seeded stream: a new swarm, not a replay."""
    env = MODULES[env_name].parallel_env(n_agents=5)
    first, _ = env.reset(seed=5)
    first_mf = env.mean_field().samples
    second, _ = env.reset()
    assert not np.array_equal(first_mf, env.mean_field().samples)
    again, _ = env.reset(seed=5)
    np.testing.assert_array_equal(first_mf, env.mean_field().samples)
    for agent in env.possible_agents:
        np.testing.assert_array_equal(first[agent], again[agent])


@pytest.mark.parametrize("env_name", list(MODULES))
def test_vector_reseed_replays(env_name) -> None:
    """reset(seed) on a used vector env replays a fresh one reset with the same seed."""
    venv = MODULES[env_name].vector_env(2, n_agents=6, max_cycles=3)
    venv.reset(seed=11)
    for _ in range(4):
        venv.step(np.zeros((2, 6), dtype=int))
    used, _ = venv.reset(seed=11)
    fresh, _ = MODULES[env_name].vector_env(2, n_agents=6, max_cycles=3).reset(seed=11)
    np.testing.assert_array_equal(used, fresh)
