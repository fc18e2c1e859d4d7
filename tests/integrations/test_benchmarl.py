"""BenchMARL trains MAPPO on swarmzoo envs through the task class: real, short runs.

benchmarl is imported inside the tests, so the default run (which deselects ``integration``)
collects this file without the ``[torchrl]`` extra installed.
"""

from __future__ import annotations

import importlib.util
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import swarmzoo

pytestmark = pytest.mark.integration


def _run_mappo(task, tmp_path: Path, continuous: bool):
    """Two MAPPO iterations of 60 frames (2 env copies x 30 steps), evaluation after each, logged
    by BenchMARL's CSV logger into ``tmp_path``; returns the experiment and the logged scalars."""
    from benchmarl.algorithms import MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models import MlpConfig

    config = ExperimentConfig.get_from_yaml()
    config.max_n_iters = 2
    config.max_n_frames = None
    config.on_policy_collected_frames_per_batch = 60
    config.on_policy_n_envs_per_worker = 2
    config.on_policy_n_minibatch_iters = 1
    config.on_policy_minibatch_size = 30
    config.prefer_continuous_actions = continuous
    config.evaluation = True
    config.evaluation_interval = 60
    config.evaluation_episodes = 2
    config.render = False
    config.loggers = ["csv"]
    config.create_json = False
    config.save_folder = str(tmp_path)
    config.checkpoint_interval = 0
    config.checkpoint_at_end = False
    mlp = MlpConfig.get_from_yaml()
    mlp.num_cells = [32, 32]
    experiment = Experiment(
        task=task,
        algorithm_config=MappoConfig.get_from_yaml(),
        model_config=mlp,
        critic_model_config=mlp,
        seed=0,
        config=config,
    )
    experiment.run()
    return experiment, _csv_scalars(tmp_path)


def _csv_scalars(folder: Path) -> dict[str, list[float]]:
    """Every scalar the CSV logger wrote under ``folder``: name (``train_robot_loss_critic``) ->
    its values, one per iteration."""
    scalars = {}
    for path in folder.rglob("scalars/*.csv"):
        rows = [line.split(",") for line in path.read_text().splitlines() if line.strip()]
        scalars[path.stem] = [float(value) for _, value in rows]
    return scalars


def test_mappo_runs_on_navigation(tmp_path: Path) -> None:
    from swarmzoo.integrations.benchmarl import SwarmzooTask

    task = SwarmzooTask.NAVIGATION_V0.get_task(config={"n_agents": 3, "max_cycles": 10})
    experiment, scalars = _run_mappo(task, tmp_path, continuous=False)
    assert experiment.continuous_actions is False
    assert experiment.group_map == {"robot": ["robot_0", "robot_1", "robot_2"]}
    # MAPPO's centralised critic reads the env's global state.
    state_dim = swarmzoo.make("navigation-v0", n_agents=3).state().shape[0]
    assert experiment.state_spec["state"].shape == (state_dim,)

    assert experiment.n_iters_performed == 2
    assert scalars["counters_total_frames"] == [60, 120]
    for key in ("loss_objective", "loss_critic", "entropy", "explained_variance"):
        values = scalars[f"train_robot_{key}"]
        assert len(values) == 2 and all(map(math.isfinite, values)), (key, values)
    # Episodes of 10 steps end within every 30-step batch, so every logged return is a number.
    for key in ("collection_reward_episode_reward_mean", "eval_reward_episode_reward_mean"):
        assert len(scalars[key]) == 2 and all(map(math.isfinite, scalars[key])), key
    assert scalars["eval_reward_episode_len_mean"] == [10, 10]
    assert math.isfinite(experiment.mean_return)
    assert experiment.mean_return == pytest.approx(scalars["collection_reward_episode_reward_mean"][-1])
    # The env's step metrics are logged too.
    assert len(scalars["collection_robot_info_nearest_goal_distance"]) == 2


def test_mappo_runs_with_byzantine_attackers(tmp_path: Path) -> None:
    from swarmzoo.integrations.benchmarl import benchmarl_task

    task = benchmarl_task(
        "byzantine-tracking-v0", n_robots=5, n_byzantine=1, byzantine_agents=True, max_cycles=10
    )
    experiment, scalars = _run_mappo(task, tmp_path, continuous=True)
    assert experiment.continuous_actions is True
    assert experiment.group_map == {"robot": [f"robot_{i}" for i in range(4)], "byzantine": ["byzantine_0"]}
    for group in ("robot", "byzantine"):
        for key in (f"train_{group}_loss_objective", f"eval_{group}_reward_episode_reward_mean"):
            assert len(scalars[key]) == 2 and all(map(math.isfinite, scalars[key])), key


def test_task_enum_and_class() -> None:
    from torchrl.envs.utils import check_env_specs

    from swarmzoo.integrations.benchmarl import SwarmzooClass, SwarmzooTask, benchmarl_task

    # One enum member per registered env.
    assert sorted(t.name for t in SwarmzooTask) == sorted(
        e.replace("-", "_").upper() for e in swarmzoo.list_envs()
    )
    nav = SwarmzooTask.NAVIGATION_V0.get_task()
    assert isinstance(nav, SwarmzooClass) and nav.config == {} and nav.env_id == "navigation-v0"
    assert nav.supports_continuous_actions() and nav.supports_discrete_actions()
    pinned = benchmarl_task("navigation-v0", continuous_actions=False)
    assert not pinned.supports_continuous_actions() and pinned.supports_discrete_actions()
    byz = benchmarl_task("byzantine-timesync-v0", n_robots=4)
    assert byz.supports_continuous_actions() and not byz.supports_discrete_actions()
    assert byz.max_steps(None) == 100
    assert pickle.loads(pickle.dumps(nav)) == nav
    with pytest.raises(ValueError, match="unknown env id"):
        benchmarl_task("navigaton-v0")

    # The training env is the native batched one; its copies get distinct seeds (copy i = seed + i).
    from swarmzoo.integrations.torchrl_vec import SwarmVecEnv

    task = benchmarl_task("aggregation-v0", n_agents=3)
    env = task.get_env_fun(num_envs=3, continuous_actions=True, seed=7, device="cpu")()
    assert isinstance(env, SwarmVecEnv) and env.batch_size == (3,)
    first = env.reset()["robot", "observation"]
    for i in range(3):
        own, _ = swarmzoo.make("aggregation-v0", n_agents=3, continuous_actions=True).reset(seed=7 + i)
        assert np.allclose(
            first[i].numpy(), np.stack([own[a] for a in sorted(own, key=lambda a: int(a[6:]))])
        )
    check_env_specs(env, seed=0)
    obs = env.reset()["robot", "observation"]
    assert not torch.equal(obs[0], obs[1]) and not torch.equal(obs[1], obs[2])
    assert task.observation_spec(env)["robot", "observation"].shape == (3, obs.shape[-1])
    assert set(task.info_spec(env)["robot", "info"].keys()) == {"spread", "largest_group", "neighbours"}
    assert task.render_callback(None, env, None).shape[-1] == 3
    # Videos only where TorchRL's loggers can write them (they need torchvision).
    assert task.has_render(env) is (importlib.util.find_spec("torchvision") is not None)
