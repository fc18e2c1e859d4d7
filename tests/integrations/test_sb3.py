"""Stable-Baselines3 trains on swarmzoo through the adapter, without SuperSuit."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy

import swarmzoo
from swarmzoo.agents import RandomPolicy
from swarmzoo.evaluation import evaluate
from swarmzoo.integrations.sb3 import SB3Policy, SB3VecEnv


def test_slots_map_robots_of_copies() -> None:
    venv = SB3VecEnv("navigation-v0", num_envs=3, n_agents=4, max_cycles=5)
    assert venv.num_envs == 12
    venv.seed(7)
    obs = venv.reset()
    ref = swarmzoo.make_vec("navigation-v0", 3, n_agents=4, max_cycles=5)
    ref_obs, _ = ref.reset(seed=7)
    np.testing.assert_array_equal(obs, ref_obs.reshape(12, -1))
    rng = np.random.default_rng(0)
    for _ in range(5):
        actions = rng.integers(0, 5, size=12)
        obs, rewards, dones, infos = venv.step(actions)
        ref_obs, ref_rew, _, _, ref_info = ref.step(actions.reshape(3, 4))
        np.testing.assert_allclose(rewards, ref_rew.reshape(12), rtol=1e-6)
        assert rewards.dtype == np.float32 and dones.dtype == bool
    # Step 5 ends every copy's episode by truncation.
    assert dones.all()
    for k, info in enumerate(infos):
        e, i = divmod(k, 4)
        assert info["TimeLimit.truncated"] is True
        np.testing.assert_array_equal(info["terminal_observation"], ref_info["final_obs"][e, i])
        assert info["episode"]["l"] == 5
        assert info["episode"]["r"] == pytest.approx(ref_info["episode_return"][e, i])


def test_continuous_actions_reshape() -> None:
    venv = SB3VecEnv("navigation-v0", num_envs=2, n_agents=3, continuous_actions=True)
    venv.reset()
    obs, *_ = venv.step(np.zeros((6, 2), dtype=np.float32))
    assert obs.shape == (6, venv.observation_space.shape[0])


def test_ppo_learn_smoke() -> None:
    venv = SB3VecEnv("navigation-v0", num_envs=2, n_agents=3)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0)
    model.learn(400)
    assert len(model.ep_info_buffer) > 0
    mean, _ = evaluate_policy(model, SB3VecEnv("navigation-v0", num_envs=1), n_eval_episodes=3, warn=True)
    assert np.isfinite(mean)


@pytest.mark.slow
def test_sb3_ppo_learns_navigation() -> None:
    venv = SB3VecEnv("navigation-v0", num_envs=8, n_agents=3)
    model = PPO("MlpPolicy", venv, n_steps=256, batch_size=1024, learning_rate=1e-3, gamma=0.95, seed=0)
    model.learn(300_000)
    trained = evaluate("navigation-v0", SB3Policy(model), episodes=32, seed=123)
    random = evaluate("navigation-v0", RandomPolicy(seed=0), episodes=32, seed=123)
    # Random scores about -15 per robot; a policy that heads for goals scores far better.
    assert trained["mean_return"] > random["mean_return"] + 0.5 * abs(random["mean_return"]), (
        trained,
        random,
    )


def _script(name: str):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_train_sb3_script_runs_callbacks_videos_and_evaluate_policy(tmp_path) -> None:
    import json

    import imageio.v3 as iio
    import torch

    train_sb3 = _script("train_sb3")
    out = tmp_path / "run"
    argv = ["--total-timesteps", "600", "--num-envs", "2", "--n-steps", "32", "--batch-size", "64"]
    argv += ["--eval-every", "300", "--eval-episodes", "3", "--capture-video", "--out", str(out)]
    argv += ["--env-kwargs", "n_agents=3", "max_cycles=10"]  # with SB3's progress bar (the default)
    train_sb3.main(argv)
    result = json.loads((out / "results.json").read_text())
    assert result["timesteps"] >= 600 and np.isfinite(result["mean_return"])
    evaluations = np.load(out / "evaluations.npz")  # EvalCallback ran at 300 and 600 timesteps
    assert evaluations["timesteps"].tolist() == [300, 600]
    assert sorted(p.name for p in (out / "checkpoints").iterdir())
    videos = sorted((out / "videos").glob("step_*.mp4"))
    assert len(videos) >= 2 and iio.imread(videos[-1], index=None).shape[0] == 11
    weights = torch.load(out / "policy_state.pt", weights_only=True)
    assert all(torch.isfinite(w).all() for w in weights.values())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--total-timesteps", "0"], "--total-timesteps must be >= 1"),
        (["--gamma", "1.5"], "--gamma must be in"),
        (["--env", "navigation-v9"], "unknown env id"),
        (["--env-kwargs", "n_agents"], "KEY=VALUE"),
    ],
)
def test_train_sb3_script_errors(tmp_path, capsys, argv, message) -> None:
    with pytest.raises(SystemExit) as exc:
        _script("train_sb3").main([*argv, "--out", str(tmp_path / "x")])
    # Argument checks are reported by tyro on stderr (exit code 2), env errors by the script.
    assert message in str(exc.value) + " ".join(capsys.readouterr().err.split())


def test_supersuit_recipe_of_the_sb3_guide() -> None:
    """What docs/guides/sb3.md says of SuperSuit 3.11: PPO(seed=) fails inside it, unseeded copies
    replay one episode stream, one reset(seed) of the inner ConcatVecEnv seeds them apart, and
    black_death_v3 steps a finished env. If SuperSuit fixes one, this fails: update the guide."""
    import supersuit as ss

    def stacked(seed: int | None):
        env = swarmzoo.make("navigation-v0", n_agents=3, max_cycles=25)
        venv = ss.concat_vec_envs_v1(
            ss.pettingzoo_env_to_vec_env_v1(env), 2, num_cpus=1, base_class="stable_baselines3"
        )
        first = venv.venv.reset(seed=seed)[0] if seed is not None else venv.reset()
        return venv, np.asarray(first)

    venv, obs = stacked(None)
    assert np.array_equal(obs[:3], obs[3:])  # both copies: the same episode
    with pytest.raises(AttributeError, match="seed"):
        PPO("MlpPolicy", venv, seed=0, n_steps=32)
    _, a = stacked(7)
    _, b = stacked(7)
    assert np.array_equal(a, b) and not np.array_equal(a[:3], a[3:])
    env = ss.black_death_v3(swarmzoo.make("coverage-v0", n_agents=2, battery=5.0, continuous_actions=True))
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="no live agents"):
        for _ in range(1000):
            env.step({a: np.zeros(2, np.float32) for a in env.agents})
