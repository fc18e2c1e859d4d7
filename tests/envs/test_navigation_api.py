"""``navigation-v0`` passes PettingZoo's own test utilities over a matrix of arguments, and is
deterministic under seeding over whole episodes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from swarmzoo.envs import navigation
from tests.envs.matrix import assert_same, random_actions

CONFIGS = {
    "n1": dict(n_agents=1),
    "n2": dict(n_agents=2),
    "n5": dict(n_agents=5),
    "n17": dict(n_agents=17),
    "obstacles": dict(n_agents=4, n_obstacles=3),
    "non_square": dict(n_agents=3, arena_width=4.0, arena_height=2.0),
    "torus": dict(n_agents=5, boundary="torus", n_obstacles=2),
    "open_plane": dict(n_agents=3, boundary="none"),
    "sensing": dict(n_agents=6, sensing_radius=0.5, k_robots=4, k_goals=2),
    "more_goals": dict(n_agents=2, n_goals=4, k_goals=5),
    "continuous": dict(n_agents=3, continuous_actions=True),
    "continuous_obstacles_torus": dict(n_agents=4, n_obstacles=2, boundary="torus", continuous_actions=True),
    "terminate_on_success": dict(n_agents=2, goal_radius=0.6, terminate_on_success=True),
    "mpe_spread": dict(preset="mpe_spread"),
    "mpe_spread_continuous": dict(preset="mpe_spread", n_agents=4, continuous_actions=True),
}
PARAMS = [pytest.param(kw, id=name) for name, kw in CONFIGS.items()]
CYCLES = 30

# PettingZoo's checks warn about infinite observation / state bounds; those are by design here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("kwargs", PARAMS)
def test_spaces_and_agents(kwargs) -> None:
    env = navigation.parallel_env(**kwargs)
    n = env.unwrapped.task.n_agents
    assert env.possible_agents == [f"robot_{i}" for i in range(n)]
    obs, infos = env.reset(seed=0)
    assert env.agents == env.possible_agents
    for agent in env.agents:
        assert env.observation_space(agent).contains(obs[agent])
        assert obs[agent].dtype == np.float32
        assert isinstance(infos[agent], dict)
    assert env.state_space.contains(env.state())
    assert env.metadata["name"] == "navigation_v0"
    assert set(env.metadata["render_modes"]) == {"human", "rgb_array"}


# -- multi-episode determinism (parallel_seed_test checks little) -----------------------------


def _rollout(kwargs: dict, seed: int, episodes: int = 2) -> list:
    """Everything observable over ``episodes`` episodes: reset(seed) once, then plain resets."""
    env = navigation.parallel_env(**kwargs)
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


DETERMINISM = [
    "n5",
    "obstacles",
    "torus",
    "sensing",
    "continuous",
    "terminate_on_success",
    "mpe_spread_continuous",
]


@pytest.mark.parametrize(
    "kwargs", [pytest.param({**CONFIGS[k], "max_cycles": 15}, id=k) for k in DETERMINISM]
)
def test_same_seed_same_episodes(kwargs) -> None:
    a = _rollout(kwargs, seed=42)
    b = _rollout(kwargs, seed=42)
    assert sum(1 for t in a if t[0] == "reset") == 2
    assert_same(a, b)


@pytest.mark.parametrize(
    "kwargs", [pytest.param({**CONFIGS[k], "max_cycles": 15}, id=k) for k in DETERMINISM]
)
def test_different_seeds_differ(kwargs) -> None:
    a = _rollout(kwargs, seed=1, episodes=1)
    b = _rollout(kwargs, seed=2, episodes=1)
    first_a, first_b = a[0][1], b[0][1]
    assert not np.array_equal(np.stack(list(first_a.values())), np.stack(list(first_b.values())))


def test_second_episode_differs_from_the_first() -> None:
    """A plain reset() continues the seeded stream: a new layout, not a replay."""
    env = navigation.parallel_env(n_agents=3)
    first, _ = env.reset(seed=5)
    second, _ = env.reset()
    assert not np.array_equal(first["robot_0"], second["robot_0"])
    again, _ = env.reset(seed=5)
    np.testing.assert_array_equal(first["robot_0"], again["robot_0"])


def test_aec_same_seed_same_episode() -> None:
    def run(seed):
        env = navigation.env(n_agents=3, max_cycles=10, continuous_actions=True)
        env.reset(seed=seed)
        rng = np.random.default_rng(0)
        trace = []
        for agent in env.agent_iter():
            obs, rew, term, trunc, info = env.last()
            trace.append((agent, obs.copy(), rew, term, trunc, dict(info)))
            act = None if term or trunc else rng.uniform(-1, 1, 2).astype(np.float32)
            env.step(act)
        return trace

    a, b = run(3), run(3)
    assert len(a) == 3 * 10 + 3
    assert_same(a, b)
    c = run(4)
    assert not np.array_equal(a[0][1], c[0][1])


def test_human_render_mode_runs_headless() -> None:
    env = navigation.parallel_env(n_agents=2, render_mode="human", max_cycles=3)
    env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert env.render() is None
    env.step({a: 0 for a in env.agents})
    env.close()
    env.close()  # closing twice is harmless
