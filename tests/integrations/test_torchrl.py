"""Every swarmzoo env through TorchRL's PettingZooWrapper (specs, grouping, rollouts) and through
the native batched ``SwarmVecEnv`` over the vector face (specs, replay of the vector face, resets).

torchrl is imported inside the tests, so the default run (which deselects ``integration``)
collects this file without the ``[torchrl]`` extra installed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import swarmzoo
from swarmzoo.integrations.torchrl import (
    TorchRLReadyParallelEnv,
    group_map,
    make_torchrl_env,
    make_torchrl_vec_env,
)

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
    own = swarmzoo.make("byzantine-tracking-v0", n_robots=6).reset(seed=0)[1]["robot_0"]
    assert reset_infos["robot_0"] == own  # the env reports every key itself: nothing filled in


@pytest.mark.parametrize("env_id", [e for e in swarmzoo.list_envs() if e.startswith("byzantine-")])
def test_torchrl_own_wrapper_runs_the_byzantine_envs(env_id: str) -> None:
    """TorchRL's PettingZooWrapper builds its info spec from reset: it must see every key there."""
    from torchrl.envs.libs.pettingzoo import PettingZooWrapper

    td = PettingZooWrapper(swarmzoo.make(env_id, n_robots=6), use_mask=True).rollout(5)
    assert td["robot", "info", "max_error"].shape[0] == 5


def test_env_instance_and_bad_arguments() -> None:
    env = make_torchrl_env(swarmzoo.make("kuramoto-v0", n_agents=3), seed=0)
    assert env.group_map == {"robot": ["robot_0", "robot_1", "robot_2"]}
    with pytest.raises(ValueError, match="env id"):
        make_torchrl_env(swarmzoo.make("kuramoto-v0"), n_agents=3)
    with pytest.raises(ValueError, match="n_agent"):
        make_torchrl_env("kuramoto-v0", n_agent=3)


# -- SwarmVecEnv: the native batched env over the vector face -------------------------------------


def _policy_from(actions: list[torch.Tensor], key: tuple = ("robot", "action")):
    """A rollout policy that plays ``actions`` in order."""
    it = iter(actions)

    def policy(td):
        td.set(key, next(it))
        return td

    return policy


def _replay(env_id: str, num_envs: int, steps: int, seed: int, **kwargs) -> tuple:
    """Roll the TorchRL env and the vector face with the same seed and actions; returns both."""
    env = make_torchrl_vec_env(env_id, num_envs, seed=seed, **kwargs)
    spec = env.full_action_spec["robot", "action"]
    torch.manual_seed(seed)
    actions = [spec.rand() for _ in range(steps)]
    td = env.rollout(steps, _policy_from(actions), break_when_any_done=False)

    venv = swarmzoo.make_vec(env_id, num_envs, **kwargs)
    obs, _ = venv.reset(seed=seed)
    face = {"obs": [obs], "next_obs": [], "reward": [], "term": [], "episode": [], "state": [venv.state()]}
    for a in actions:
        obs, rew, term, _, infos = venv.step(a.numpy())
        ended = infos["_episode"]
        last = np.where(ended[:, None, None], infos.get("final_obs", obs), obs)
        face["next_obs"].append(last)
        face["obs"].append(obs)
        face["reward"].append(rew)
        face["term"].append(term)
        face["episode"].append(ended)
        face["state"].append(venv.state())
    return td, {k: np.stack(v, axis=1) for k, v in face.items()}


@pytest.mark.parametrize(("env_id", "kwargs"), _cases())
def test_vec_env_check_env_specs_every_env(env_id: str, kwargs: dict) -> None:
    from torchrl.envs.utils import check_env_specs

    # max_cycles=2: the 3-step check crosses an episode end and a reset of every copy.
    env = make_torchrl_vec_env(env_id, 3, seed=0, max_cycles=2, **_small(env_id), **kwargs)
    assert env.batch_size == (3,) and set(env.group_map) == {"robot"}
    check_env_specs(env, seed=0, break_when_any_done="both")
    n = env.n_agents
    obs_dim = swarmzoo.make_vec(env_id, 1, **_small(env_id)).single_observation_space.shape[0]
    assert env.observation_spec["robot", "observation"].shape == (3, n, obs_dim)
    assert env.full_reward_spec["robot", "reward"].shape == (3, n, 1)
    assert env.full_done_spec["robot", "terminated"].shape == (3, n, 1)
    assert env.full_done_spec["done"].shape == (3, 1)
    assert env.observation_spec["state"].shape[0] == 3
    td = env.rollout(5, break_when_any_done=False)
    assert (td["next", "done"].squeeze(-1).sum(-1) >= 2).all()  # every copy ended at 2 and 4 at the latest
    assert torch.isfinite(td["next", "robot", "observation"]).all()


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("navigation-v0", {"n_agents": 3, "max_cycles": 7, "continuous_actions": True}),
        ("flocking-v0", {"n_agents": 5, "max_cycles": 9}),
        ("coverage-v0", {"n_agents": 3, "battery": 0.03, "max_cycles": 40}),
    ],
)
def test_vec_env_rollout_replays_the_vector_face(env_id: str, kwargs: dict) -> None:
    td, face = _replay(env_id, 4, 50, seed=3, **kwargs)
    np.testing.assert_array_equal(td["robot", "observation"].numpy(), face["obs"][:, :-1])
    np.testing.assert_array_equal(td["next", "robot", "observation"].numpy(), face["next_obs"])
    np.testing.assert_allclose(td["next", "robot", "reward"].squeeze(-1).numpy(), face["reward"], rtol=1e-6)
    np.testing.assert_array_equal(td["next", "done"].squeeze(-1).numpy(), face["episode"])
    np.testing.assert_allclose(td["state"].numpy(), face["state"][:, :-1], rtol=1e-6)
    assert face["episode"].any()
    # A copy's next observation and the following step's observation differ only at resets.
    same = (
        (td["next", "robot", "observation"][:, :-1] == td["robot", "observation"][:, 1:]).flatten(2).all(-1)
    )
    assert torch.equal(~same, td["next", "done"][:, :-1].squeeze(-1))


def test_vec_env_partial_resets_with_robots_leaving_early() -> None:
    # coverage with a battery: robots terminate at different steps, copies end at different steps.
    td, face = _replay("coverage-v0", 3, 60, seed=1, n_agents=3, battery=0.03, max_cycles=40)
    done = td["next", "done"].squeeze(-1)
    ends = [set(d.nonzero().flatten().tolist()) for d in done]
    assert len({frozenset(e) for e in ends}) > 1, "copies should end at different steps"
    # Some copy ends while another goes on: a partial reset.
    assert ((done.sum(0) > 0) & (done.sum(0) < 3)).any()
    robot_term = td["next", "robot", "terminated"].squeeze(-1)
    partly = robot_term.any(-1) & ~robot_term.all(-1)
    assert partly.any(), "some robots should leave before their copy ends"
    # A robot stays terminated until its copy ends, gets 0 reward once gone, and the copy is
    # terminated (not truncated) when every robot's battery ran out.
    was = robot_term[:, :-1] & ~done[:, :-1, None]
    assert robot_term[:, 1:][was].all()
    assert (td["next", "robot", "reward"].squeeze(-1)[:, 1:][was] == 0).all()
    all_term = robot_term.all(-1)
    assert torch.equal(td["next", "terminated"].squeeze(-1), all_term & done)
    assert torch.equal(td["next", "truncated"].squeeze(-1), done & ~all_term)


def test_vec_env_reset_mask_starts_copies_cut_mid_episode() -> None:
    env = make_torchrl_vec_env("aggregation-v0", 3, n_agents=4, seed=0)
    td = env.reset()
    for _ in range(3):
        td = env.step(env.full_action_spec.rand().update(td))["next"]
    # As TorchRL's contract wants: the input holds the data of the copies that are not reset.
    out = env.reset(td.clone().set("_reset", torch.tensor([[False], [True], [False]])))
    obs = out["robot", "observation"]
    assert torch.equal(obs[[0, 2]], td["robot", "observation"][[0, 2]])
    assert not torch.equal(obs[1], td["robot", "observation"][1])
    # The env's step counter restarted for copy 1 only.
    assert env.venv.task.steps.tolist() == [3, 0, 3]
    env.step(env.full_action_spec.rand().update(out))


def test_vec_env_seed_one_hot_and_reset() -> None:
    def first_obs(seed: int) -> torch.Tensor:
        return make_torchrl_vec_env("kuramoto-v0", 2, n_agents=4, seed=seed).reset()["robot", "observation"]

    torch.testing.assert_close(first_obs(5), first_obs(5))
    assert not torch.equal(first_obs(5), first_obs(6))
    # Copy i is the PettingZoo env reset with seed + i.
    pz_obs, _ = swarmzoo.make("kuramoto-v0", n_agents=4).reset(seed=6)
    np.testing.assert_array_equal(first_obs(5)[1].numpy(), np.stack([pz_obs[f"robot_{i}"] for i in range(4)]))

    env = make_torchrl_vec_env("flocking-v0", 2, n_agents=3, categorical_actions=False, seed=0)
    spec = env.full_action_spec["robot", "action"]
    assert spec.shape == (2, 3, env.venv.single_action_space.n)
    td = env.rollout(4)
    assert (td["robot", "action"].sum(-1) == 1).all()


@pytest.mark.parametrize("env_id", [e for e in swarmzoo.list_envs() if e.startswith("byzantine-")])
def test_vec_env_byzantine_agents_form_their_own_group(env_id: str) -> None:
    from torchrl.envs.utils import check_env_specs

    kwargs = {"n_robots": 6, "n_byzantine": 2, "byzantine_agents": True, "max_cycles": 2}
    env = make_torchrl_vec_env(env_id, 3, seed=1, **kwargs)
    assert env.group_map == {
        "robot": ["robot_0", "robot_1", "robot_2", "robot_3"],
        "byzantine": ["byzantine_0", "byzantine_1"],
    }
    check_env_specs(env, seed=0, break_when_any_done="both")
    assert env.observation_spec["byzantine", "observation"].shape[:2] == (3, 2)
    assert env.full_reward_spec["byzantine", "reward"].shape == (3, 2, 1)
    # The groups are the vector face's agent axis split in two.
    actions = {g: env.full_action_spec[g, "action"].rand() for g in env.group_map}
    env.set_seed(1)
    td = env.reset()
    for g, a in actions.items():
        td[g, "action"] = a
    out = env.step(td)["next"]
    venv = swarmzoo.make_vec(env_id, 3, **kwargs)
    venv.reset(seed=1)
    both = torch.cat([actions["robot"], actions["byzantine"]], dim=1).numpy()
    obs, rew, *_ = venv.step(both)
    np.testing.assert_array_equal(out["robot", "observation"].numpy(), obs[:, :4])
    np.testing.assert_array_equal(out["byzantine", "observation"].numpy(), obs[:, 4:])
    np.testing.assert_allclose(out["byzantine", "reward"].squeeze(-1).numpy(), rew[:, 4:], rtol=1e-6)


def test_vec_env_is_faster_than_the_pettingzoo_wrapper() -> None:
    """Prints env steps/s of both TorchRL envs (not asserted: the machine may be busy)."""
    import time

    def rate(env, steps: int) -> float:
        env.rollout(2, break_when_any_done=False)
        start = time.perf_counter()
        env.rollout(steps, break_when_any_done=False)
        return steps * env.batch_size.numel() / (time.perf_counter() - start)

    kwargs = {"n_agents": 10, "max_cycles": 25}
    wrapper = rate(make_torchrl_env("navigation-v0", seed=0, **kwargs), 50)
    native = rate(make_torchrl_vec_env("navigation-v0", 16, seed=0, **kwargs), 50)
    print(f"\nnavigation-v0 N=10 env steps/s: PettingZooWrapper {wrapper:.0f}, SwarmVecEnv(16) {native:.0f}")


def test_vec_env_metrics_are_the_vector_face_infos() -> None:
    """return_info=True: the vector face's infos as (group, "info", key) (E, n), copy-wide ones
    repeated per robot; a metric a step does not report is NaN (coverage's w2 between its
    evaluations), never 0; the env's own random streams are untouched by reading the keys."""
    kw = dict(n_agents=3, w2_every=4, max_cycles=10)
    env = make_torchrl_vec_env("coverage-v0", 2, seed=0, return_info=True, **kw)
    assert env.info_keys == ("served_fraction", "served", "battery", "w2")
    td = env.rollout(6, break_when_any_done=False)
    venv = swarmzoo.make_vec("coverage-v0", 2, **kw)
    venv.reset(seed=0)
    for t in range(6):
        infos = venv.step(td["robot", "action"][:, t].numpy())[4]  # rollouts are (E, T)
        got = td["next", "robot", "info"][:, t]
        assert np.allclose(got["served"].numpy(), infos["served"])
        assert np.allclose(got["served_fraction"].numpy(), np.repeat(infos["served_fraction"][:, None], 3, 1))
        w2 = got["w2"].numpy()
        assert np.isnan(w2).all() if "w2" not in infos else np.allclose(w2[:, 0], infos["w2"])
    assert np.isnan(td["robot", "info", "w2"][:, 0].numpy()).all()  # the reset reports no w2
    plain = make_torchrl_vec_env("coverage-v0", 2, seed=0, **kw)
    assert ("robot", "info") not in plain.observation_spec.keys(True)
    first = td["robot", "observation"][:, 0]
    assert torch.equal(plain.reset()["robot", "observation"], first)  # the probe left no trace
