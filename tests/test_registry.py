"""The front door: env ids, ``make`` / ``make_vec`` / ``make_aec`` and PettingZoo's registry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pettingzoo
import pytest
from pettingzoo import AECEnv, ParallelEnv

import swarmzoo
from swarmzoo.envs import navigation
from swarmzoo.envs.core import SwarmParallelEnv, SwarmVectorEnv
from swarmzoo.envs.registry import register, spec


def test_list_envs_includes_navigation() -> None:
    ids = swarmzoo.list_envs()
    assert "navigation-v0" in ids
    assert ids == sorted(ids)


@pytest.mark.parametrize("env_id", ["navigation-v0", "swarmzoo/navigation-v0"])
def test_make_returns_a_working_parallel_env(env_id) -> None:
    env = swarmzoo.make(env_id, n_agents=4, max_cycles=5)
    assert isinstance(env, ParallelEnv) and isinstance(env, SwarmParallelEnv)
    assert env.possible_agents == [f"robot_{i}" for i in range(4)]
    assert env.max_cycles == 5
    obs, infos = env.reset(seed=0)
    assert set(obs) == set(infos) == set(env.possible_agents)
    _, rewards, _, _, _ = env.step({a: 0 for a in env.agents})
    assert set(rewards) == set(env.possible_agents)


@pytest.mark.parametrize("env_id", ["navigation-v0", "swarmzoo/navigation-v0"])
def test_make_aec(env_id) -> None:
    env = swarmzoo.make_aec(env_id, n_agents=3)
    assert isinstance(env, AECEnv)
    env.reset(seed=1)
    assert env.agent_selection == "robot_0"
    env.step(0)
    assert env.agent_selection == "robot_1"


@pytest.mark.parametrize("env_id", ["navigation-v0", "swarmzoo/navigation-v0"])
def test_make_vec(env_id) -> None:
    venv = swarmzoo.make_vec(env_id, 3, n_agents=2, continuous_actions=True)
    assert isinstance(venv, SwarmVectorEnv)
    assert venv.num_envs == 3 and venv.n_agents == 2
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (3, 2, *venv.single_observation_space.shape)
    obs, rew, term, trunc, _ = venv.step(np.zeros((3, 2, 2), dtype=np.float32))
    assert rew.shape == term.shape == trunc.shape == (3, 2)


def test_make_forwards_kwargs_to_the_module_factories() -> None:
    a = swarmzoo.make("navigation-v0", n_agents=5, continuous_actions=True)
    b = navigation.parallel_env(n_agents=5, continuous_actions=True)
    assert a.observation_space("robot_0") == b.observation_space("robot_0")
    assert a.action_space("robot_0") == b.action_space("robot_0")
    oa, _ = a.reset(seed=4)
    ob, _ = b.reset(seed=4)
    for agent in a.possible_agents:
        np.testing.assert_array_equal(oa[agent], ob[agent])


def test_spec_describes_the_env() -> None:
    s = spec("swarmzoo/navigation-v0")
    assert s.id == "navigation-v0"
    assert s.load() is navigation
    assert s.description


def test_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown env id 'navigaton-v0'.*'navigation-v0'"):
        swarmzoo.make("navigaton-v0")
    with pytest.raises(ValueError, match="unknown env id"):
        swarmzoo.make_vec("coverage-v9", 2)
    with pytest.raises(ValueError, match="unknown env id"):
        swarmzoo.make_aec("swarmzoo/nope-v0")


@pytest.mark.parametrize("bad_id", ["navigation", "navigation-vX", "navigation_v0"])
def test_register_requires_versioned_ids(bad_id) -> None:
    with pytest.raises(ValueError, match="versioned"):
        register(bad_id, "swarmzoo.envs.navigation", "x")


needs_pz_registry = pytest.mark.skipif(
    not hasattr(pettingzoo, "register"), reason="this pettingzoo has no env registry (< 1.27)"
)


@needs_pz_registry
def test_pettingzoo_make_parallel_and_aec() -> None:
    swarmzoo.list_envs()
    env = pettingzoo.make("parallel", "swarmzoo/navigation-v0", n_agents=2, max_cycles=7)
    assert isinstance(env, SwarmParallelEnv)
    assert env.possible_agents == ["robot_0", "robot_1"] and env.max_cycles == 7
    env.reset(seed=0)
    aec = pettingzoo.make("aec", "swarmzoo/navigation-v0", n_agents=2)
    assert isinstance(aec, AECEnv)
    aec.reset(seed=0)
    assert aec.agent_selection == "robot_0"


@needs_pz_registry
def test_pettingzoo_make_works_right_after_import_swarmzoo() -> None:
    """``import swarmzoo`` alone must be enough for ``pettingzoo.make`` (fresh interpreter)."""
    code = (
        "import swarmzoo, pettingzoo\n"
        "env = pettingzoo.make('parallel', 'swarmzoo/navigation-v0', n_agents=2)\n"
        "print(type(env).__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "SwarmParallelEnv" in proc.stdout


@pytest.mark.parametrize("env_id", swarmzoo.list_envs())
def test_every_env_takes_continuous_actions(env_id: str) -> None:
    """Generic scripts pass ``continuous_actions`` to every env: an env with one kind of action
    accepts the flag naming it and refuses the other by name; the others build both kinds."""
    from gymnasium import spaces

    for flag in (True, False):
        try:
            env = swarmzoo.make(env_id, continuous_actions=flag)
        except ValueError as err:
            assert f"continuous_actions={flag} is not available" in str(err)
            assert swarmzoo.make(env_id, continuous_actions=not flag)  # the kind it has
            continue
        space = env.action_space(env.possible_agents[0])
        assert isinstance(space, spaces.Box) == flag
        assert (
            isinstance(swarmzoo.make_vec(env_id, 2, continuous_actions=flag).single_action_space, spaces.Box)
            == flag
        )
    with pytest.raises(ValueError, match="continuous_actions must be True or False"):
        swarmzoo.make("aloha-v0", continuous_actions="yes")
