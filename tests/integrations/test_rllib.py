"""RLlib end to end: the MultiAgentEnv face of every env, policy mappings, and real PPO training
through scripts/train_rllib.py (Ray started by the test), resume and per-group policies."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import swarmzoo
from swarmzoo.integrations.rllib import (
    build_config,
    group_of,
    make_env,
    policy_mapping,
    register_envs,
)

# Needs the [rllib] extra (Ray), which `make test-integrations` installs; ray is imported inside
# the tests so that the default run (without Ray) collects this file and deselects it.
pytestmark = pytest.mark.integration


def _script(name: str):
    path = Path(__file__).resolve().parents[2] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_group_and_policy_mapping() -> None:
    assert group_of("robot_12") == "robot" and group_of("byzantine_0") == "byzantine"
    agents = ["robot_0", "robot_1", "byzantine_0"]
    ids, fn = policy_mapping("shared", agents)
    assert ids == {"shared"} and {fn(a, None) for a in agents} == {"shared"}
    ids, fn = policy_mapping("per-group", agents)
    assert ids == {"robot", "byzantine"} and fn("byzantine_0", None) == "byzantine"
    ids, fn = policy_mapping("independent", agents)
    assert ids == set(agents) and fn("robot_1", None) == "robot_1"
    with pytest.raises(ValueError, match="policies must be one of"):
        policy_mapping("per-robot", agents)


@pytest.mark.parametrize("env_id", swarmzoo.list_envs())
def test_multi_agent_env_face(env_id: str) -> None:
    kwargs = {"max_cycles": 6} | ({} if env_id.startswith("byzantine") else {"n_agents": 4})
    env = make_env(env_id, **kwargs)
    obs, infos = env.reset(seed=0)
    assert set(obs) == set(env.agents) == set(env.possible_agents)
    for a in env.agents:
        assert env.observation_spaces[a].contains(obs[a])
    steps = 0
    while True:
        actions = {a: env.action_spaces[a].sample() for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        steps += 1
        assert set(rewards) == set(actions) and "__all__" in terms and "__all__" in truncs
        assert all(np.isfinite(r) for r in rewards.values())
        if terms["__all__"] or truncs["__all__"]:
            break
    assert steps <= 6 and env.agents == []
    assert make_env(env_id, render_mode="rgb_array", **kwargs).reset(seed=0) is not None


def test_register_envs_and_config_errors() -> None:
    names = register_envs()
    assert names == ["swarmzoo/" + e for e in swarmzoo.list_envs()]
    with pytest.raises(ValueError, match="unknown env id"):
        build_config("navigation-v9")
    with pytest.raises(ValueError, match="n_agents"):
        build_config("navigation-v0", env_kwargs={"n_agents": 0})
    with pytest.raises(ValueError, match="unknown RLlib algorithm"):
        build_config("navigation-v0", algo="NoSuchAlgo")


def test_train_rllib_script_trains_logs_checkpoints_and_resumes(tmp_path, local_ray) -> None:
    train_rllib = _script("train_rllib")
    run = tmp_path / "run"
    argv = ["--env-kwargs", "n_agents=3", "max_cycles=25", "--train-batch-size", "300", "--minibatch-size"]
    argv += ["100", "--num-env-runners", "1", "--checkpoint-every", "2", "--checkpoint-dir", str(run)]
    train_rllib.main([*argv, "--stop-iters", "3", "--capture-video"])
    with (run / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["global_step"]) for r in rows] == [300, 600, 900]
    returns = [float(r["charts/episode_return"]) for r in rows]
    assert all(np.isfinite(returns)) and all(-100 < r < 0 for r in returns)  # negative distances
    assert (run / "checkpoint").is_dir()
    assert sorted(p.name for p in (run / "videos").iterdir()) == ["iter_2.mp4", "iter_3.mp4"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["iterations"] == 3 and summary["stopped_by"] == "stop_iters"

    # A run killed after logging iteration 4 but before checkpointing it: resuming from the
    # iteration-3 checkpoint drops the orphan row and logs iteration 4 again, once.
    import shutil

    shutil.copytree(run / "checkpoint", tmp_path / "checkpoint_iter3")
    train_rllib.main([*argv, "--stop-iters", "4", "--resume"])
    shutil.rmtree(run / "checkpoint")
    shutil.copytree(tmp_path / "checkpoint_iter3", run / "checkpoint")
    train_rllib.main([*argv, "--stop-iters", "5", "--resume"])
    with (run / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["global_step"]) for r in rows] == [300, 600, 900, 1200, 1500]
    assert json.loads((run / "summary.json").read_text())["iterations"] == 5


def test_per_group_policies_train_robots_and_byzantine_attackers(tmp_path, local_ray) -> None:
    config = build_config(
        "byzantine-timesync-v0",
        env_kwargs={"byzantine_agents": True, "n_robots": 8, "n_byzantine": 2, "max_cycles": 20},
        policies="per-group",
        train_batch_size=200,
        minibatch_size=100,
    )
    algo = config.build_algo()
    try:
        before = {p: algo.get_module(p).state_dict() for p in ("robot", "byzantine")}
        before = {p: {k: v.clone() for k, v in sd.items()} for p, sd in before.items()}
        result = algo.train()
        per_module = result["env_runners"]["module_episode_returns_mean"]
        assert set(per_module) == {"robot", "byzantine"}
        assert all(np.isfinite(v) for v in per_module.values())
        for p in ("robot", "byzantine"):  # both policies were updated by the learner
            after = algo.get_module(p).state_dict()
            assert any(not np.allclose(before[p][k], after[k]) for k in after)
    finally:
        algo.stop()


def test_train_rllib_script_errors(tmp_path, capsys) -> None:
    train_rllib = _script("train_rllib")
    for argv, message in [
        (["--stop-iters", "0"], "--stop-iters must be >= 1"),
        (["--num-env-runners", "-1"], "--num-env-runners must be >= 0"),
        (["--env", "flocking-v9"], "unknown env id"),
        (["--resume", "--checkpoint-dir", str(tmp_path / "none")], "no RLlib checkpoint"),
        (["--env-kwargs", "n_agents=-3"], "n_agents"),
    ]:
        with pytest.raises(SystemExit) as exc:
            train_rllib.main(argv)
        assert message in str(exc.value) + " ".join(capsys.readouterr().err.split())
