"""Every swarmzoo env through TorchRL's PettingZooWrapper: specs, grouping, rollouts.

torchrl is imported inside the tests, so the default run (which deselects ``integration``)
collects this file without the ``[torchrl]`` extra installed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import swarmzoo
from swarmzoo.integrations.torchrl import TorchRLReadyParallelEnv, group_map, make_torchrl_env

pytestmark = pytest.mark.integration


def _fields(env_id: str) -> set[str]:
    env = swarmzoo.make(env_id)
    return {f.name for f in dataclasses.fields(env.unwrapped.task.config)}


def _small(env_id: str) -> dict:
    """A small swarm of the env: 3 robots, or 6 with one Byzantine robot in the Byzantine envs."""
    fields = _fields(env_id)
    return {"n_robots": 6} if "n_robots" in fields else {"n_agents": 3}


def _cases() -> list:
    cases = []
    for env_id in swarmzoo.list_envs():
        if "continuous_actions" in _fields(env_id):
            kinds = {"discrete": False, "continuous": True}
            cases += [
                pytest.param(env_id, {"continuous_actions": c}, id=f"{env_id}-{k}") for k, c in kinds.items()
            ]
        else:
            cases.append(pytest.param(env_id, {}, id=env_id))
    return cases


# -- group_map ----------------------------------------------------------------------------------


def test_group_map_groups_by_prefix_in_order() -> None:
    names = ["robot_0", "robot_1", "byzantine_0", "robot_2", "byzantine_1"]
    assert group_map(names) == {
        "robot": ["robot_0", "robot_1", "robot_2"],
        "byzantine": ["byzantine_0", "byzantine_1"],
    }
    assert list(group_map(names)) == ["robot", "byzantine"]


def test_group_map_unconventional_names_are_their_own_group() -> None:
    assert group_map(["leader", "robot_x", "two_part_3", "_4", "robot_10"]) == {
        "leader": ["leader"],
        "robot_x": ["robot_x"],
        "two_part": ["two_part_3"],
        "_4": ["_4"],
        "robot": ["robot_10"],
    }
    assert group_map([]) == {}
    with pytest.raises(ValueError, match="robot_1"):
        group_map(["robot_1", "robot_1"])


# -- specs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env_id", "kwargs"), _cases())
def test_check_env_specs_every_env(env_id: str, kwargs: dict) -> None:
    from torchrl.envs.utils import check_env_specs

    # max_cycles=2: the 3-step check crosses an episode end and a reset.
    env = make_torchrl_env(env_id, seed=0, max_cycles=2, **_small(env_id), **kwargs)
    assert set(env.group_map) == {"robot"}
    check_env_specs(env, seed=0, break_when_any_done="both")
    # Step metrics reach TorchRL as (group, "info") although reset reports fewer keys.
    infos = env.rollout(3)["next", "robot", "info"]
    assert len(infos.keys()) > 0
    assert "state" in env.observation_spec.keys()


@pytest.mark.parametrize("env_id", [e for e in swarmzoo.list_envs() if e.startswith("byzantine-")])
def test_byzantine_agents_form_their_own_group(env_id: str) -> None:
    from torchrl.envs.utils import check_env_specs

    env = make_torchrl_env(env_id, n_robots=6, n_byzantine=2, byzantine_agents=True, max_cycles=2, seed=1)
    assert env.group_map == {
        "robot": ["robot_0", "robot_1", "robot_2", "robot_3"],
        "byzantine": ["byzantine_0", "byzantine_1"],
    }
    check_env_specs(env, seed=0, break_when_any_done="both")
    obs_dim = env.observation_spec["robot", "observation"].shape[-1]
    assert env.observation_spec["byzantine", "observation"].shape == (2, obs_dim)
    assert env.full_action_spec["byzantine", "action"].shape[0] == 2


def test_robots_leaving_early_with_mask() -> None:
    from torchrl.envs.utils import check_env_specs

    env = make_torchrl_env("coverage-v0", n_agents=3, battery=0.03, max_cycles=40, use_mask=True, seed=1)
    check_env_specs(env, seed=0)
    td = env.rollout(60, break_when_any_done=False)
    live = td["next", "robot", "mask"].sum(-1)
    # Some step has only part of the swarm alive, and the episode ends when all robots are done.
    assert ((live > 0) & (live < 3)).any()
    ends = td["next", "done"].squeeze(-1)
    assert ends.any()
    assert (live[ends] == 0).all()


# -- rollouts -----------------------------------------------------------------------------------


def test_random_policy_rollout_shapes_and_values() -> None:
    from torchrl.envs.utils import RandomPolicy

    env = make_torchrl_env("navigation-v0", n_agents=4, max_cycles=10, continuous_actions=True, seed=3)
    policy = RandomPolicy(env.full_action_spec)
    td = env.rollout(25, policy, break_when_any_done=False)
    obs_dim = swarmzoo.make("navigation-v0", n_agents=4).observation_space("robot_0").shape[0]
    assert td["robot", "action"].shape == (25, 4, 2)
    assert td["robot", "action"].abs().max() <= 1.0
    assert td["next", "robot", "observation"].shape == (25, 4, obs_dim)
    assert td["next", "robot", "reward"].shape == (25, 4, 1)
    assert td["next", "state"].shape[0] == 25
    for key in (("next", "robot", "observation"), ("next", "robot", "reward"), ("next", "state")):
        assert torch.isfinite(td[key]).all(), key
    assert td["next", "robot", "reward"].abs().sum() > 0
    # Truncated after 10 and 20 steps; the rollout went on through the resets.
    done = td["next", "done"].squeeze(-1)
    assert done.nonzero().flatten().tolist() == [9, 19]
    assert td["next", "robot", "truncated"][done].all()


def test_discrete_and_two_group_rollout() -> None:
    from torchrl.envs.utils import RandomPolicy

    env = make_torchrl_env("byzantine-timesync-v0", n_robots=5, n_byzantine=1, byzantine_agents=True, seed=0)
    td = env.rollout(8, RandomPolicy(env.full_action_spec))
    assert td["next", "robot", "reward"].shape == (8, 4, 1)
    assert td["next", "byzantine", "reward"].shape == (8, 1, 1)
    assert torch.isfinite(td["next", "byzantine", "observation"]).all()

    env = make_torchrl_env("flocking-v0", n_agents=5, n_turns=3, seed=0)
    td = env.rollout(8, RandomPolicy(env.full_action_spec))
    assert td["robot", "action"].dtype == torch.int64
    assert set(td["robot", "action"].unique().tolist()) <= {0, 1, 2}
    assert torch.isfinite(td["next", "robot", "reward"]).all()


def test_seed_reproduces_and_varies() -> None:
    def first_obs(seed: int) -> torch.Tensor:
        return make_torchrl_env("aggregation-v0", n_agents=4, seed=seed).reset()["robot", "observation"]

    torch.testing.assert_close(first_obs(5), first_obs(5))
    assert not torch.equal(first_obs(5), first_obs(6))


# -- the adapter --------------------------------------------------------------------------------


def test_info_schema_is_fixed() -> None:
    pz = TorchRLReadyParallelEnv(swarmzoo.make("byzantine-tracking-v0", n_robots=6))
    _, reset_infos = pz.reset(seed=0)
    _, _, _, _, step_infos = pz.step({a: np.zeros(2, np.float32) for a in pz.agents})
    for agent in pz.agents:
        assert list(reset_infos[agent]) == list(step_infos[agent]) == list(pz.info_schema[agent])
    assert "max_error" in reset_infos["robot_0"] and reset_infos["robot_0"]["max_error"] == 0


def test_env_instance_and_bad_arguments() -> None:
    env = make_torchrl_env(swarmzoo.make("kuramoto-v0", n_agents=3), seed=0)
    assert env.group_map == {"robot": ["robot_0", "robot_1", "robot_2"]}
    with pytest.raises(ValueError, match="env id"):
        make_torchrl_env(swarmzoo.make("kuramoto-v0"), n_agents=3)
    with pytest.raises(ValueError, match="n_agent"):
        make_torchrl_env("kuramoto-v0", n_agent=3)
