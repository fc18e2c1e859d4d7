"""MAPPO / IPPO: in-process smoke training, checkpoints, resume and safe loading."""

from __future__ import annotations

import csv
import json
import pickle

import numpy as np
import pytest
import torch

from swarmzoo.agents import make_policy
from swarmzoo.agents.networks import load_policy, safe_load
from swarmzoo.algorithms.ctde import Args, policy_of, train
from swarmzoo.evaluation import evaluate

TINY = dict(
    total_steps=800, num_envs=4, rollout_steps=50, epochs=2, minibatches=2, progress=False, tensorboard=False
)


@pytest.mark.parametrize("critic", ["central", "local"])
@pytest.mark.parametrize("continuous", [False, True])
def test_smoke_train_writes_run_folder(tmp_path, critic: str, continuous: bool) -> None:
    args = Args(
        critic=critic,
        out=tmp_path / "run",
        seed=1,
        env_kwargs=(f"continuous_actions={continuous}", "n_agents=3"),
        **TINY,
    )
    result = train(args)
    assert result.global_step == 800
    assert np.isfinite(result.final_return)
    run = result.run_dir
    config = json.loads((run / "config.json").read_text())
    assert config["critic"] == critic
    with (run / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and rows[-1]["global_step"] == "800"
    assert all(np.isfinite(float(r["losses/value_loss"])) for r in rows)
    assert (run / "checkpoints" / "latest.pt").is_file()
    policy = policy_of(result)
    out = evaluate("navigation-v0", policy, episodes=2, continuous_actions=continuous)
    assert np.isfinite(out["mean_return"])


def test_agent_ids_and_obs_norm_round_trip(tmp_path) -> None:
    result = train(Args(out=tmp_path / "r", agent_ids=True, obs_norm=True, **TINY))
    policy, meta = load_policy(result.run_dir / "policy.pt")
    assert meta["actor_spec"]["n_agent_ids"] == 3 and policy.obs_norm is not None
    obs = np.zeros((2, 3, policy.actor.spec.obs_dim), dtype=np.float32)
    assert policy.act(obs).shape == (2, 3)
    with pytest.raises(ValueError, match="agent ids for 3 robots"):
        policy.act(np.zeros((1, 5, policy.actor.spec.obs_dim), dtype=np.float32))


def test_resume_continues_from_checkpoint(tmp_path) -> None:
    out = tmp_path / "run"
    base = dict(TINY, total_steps=1600, checkpoint_every=2)
    first = train(Args(out=out, **dict(base, total_steps=800)))
    ckpt = safe_load(out / "checkpoints" / "latest.pt")
    assert ckpt["global_step"] == first.global_step == 800
    resumed = train(Args(out=out, resume=True, **base))
    assert resumed.global_step == 1600
    with (out / "progress.csv").open() as f:
        steps = [int(r["global_step"]) for r in csv.DictReader(f)]
    assert steps == [200, 400, 600, 800, 1000, 1200, 1400, 1600]


def test_resume_without_checkpoint_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no policy or checkpoint file"):
        train(Args(out=tmp_path / "empty", resume=True, **TINY))


class _Exploit:
    def __reduce__(self):
        return (print, ("pwned",))


def test_malicious_pickle_is_refused(tmp_path) -> None:
    bad = tmp_path / "policy.pt"
    with bad.open("wb") as f:
        pickle.dump({"format": "swarmzoo-policy-v1", "actor": _Exploit()}, f)
    with pytest.raises(ValueError, match="refusing to load"):
        load_policy(bad)
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a swarmzoo policy"):
        load_policy(tmp_path / "other.pt")


def test_policy_from_other_env_is_refused(tmp_path) -> None:
    result = train(Args(out=tmp_path / "r", **TINY))
    assert make_policy(str(result.run_dir), "navigation-v0") is not None
    with pytest.raises(ValueError, match="unknown env id"):
        make_policy(str(result.run_dir), "nope-v0")


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ValueError, match="num_envs"):
        Args(num_envs=0)
    with pytest.raises(ValueError, match="critic"):
        Args(critic="global")
    with pytest.raises(ValueError, match="KEY=VALUE"):
        train(Args(env_kwargs=("n_agents",), **TINY))


def test_trains_on_any_pettingzoo_parallel_env(tmp_path) -> None:
    pytest.importorskip("mpe2", reason="mpe2 is installed by `make install-dev`")
    result = train(
        Args(
            env="mpe2.simple_spread_v3:parallel_env",
            env_kwargs=("N=3", "max_cycles=25"),
            out=tmp_path / "mpe",
            **dict(TINY, rollout_steps=25, total_steps=400),
        )
    )
    assert result.global_step == 400 and np.isfinite(result.final_return)
    assert result.curve, "episodes of 25 steps must finish within a 25-step rollout"


def test_same_seed_trains_the_same_policy(tmp_path) -> None:
    weights = []
    for name in ("a", "b", "c"):
        seed = 1 if name == "c" else 0
        train(Args(out=tmp_path / name, seed=seed, **TINY))
        weights.append(torch.load(tmp_path / name / "policy.pt", weights_only=True)["actor"])
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not all(torch.equal(weights[0][k], weights[2][k]) for k in weights[0])


@pytest.mark.parametrize("env_id", ["flocking-v0", "kuramoto-v0", "aggregation-v0"])
@pytest.mark.parametrize("critic", ["central", "local"])
def test_smoke_train_on_swarming_envs(tmp_path, env_id: str, critic: str) -> None:
    result = train(Args(env=env_id, critic=critic, out=tmp_path / "run", env_kwargs=("n_agents=6",), **TINY))
    assert np.isfinite(result.final_return)
    # The policy is size-free (no agent ids): it runs on a swarm 5x larger than it trained on.
    out = evaluate(env_id, policy_of(result), episodes=1, n_agents=30)
    assert np.isfinite(out["mean_return"])


def test_sampled_actions_follow_the_seed(tmp_path) -> None:
    result = train(Args(out=tmp_path / "r", **TINY))
    obs = (
        np.random.default_rng(0).normal(size=(4, 3, policy_of(result).actor.spec.obs_dim)).astype(np.float32)
    )
    acts = [
        load_policy(result.run_dir / "policy.pt", deterministic=False, seed=s)[0].act(obs) for s in (0, 0, 1)
    ]
    assert np.array_equal(acts[0], acts[1]) and not np.array_equal(acts[0], acts[2])


def test_capture_video_records_each_checkpoint_without_changing_the_run(tmp_path) -> None:
    import imageio.v3 as iio

    base = dict(TINY, checkpoint_every=2, env_kwargs=("n_agents=3", "max_cycles=10"))
    plain = train(Args(out=tmp_path / "plain", **base))
    filmed = train(Args(out=tmp_path / "filmed", capture_video=True, **base))
    videos = sorted((filmed.run_dir / "videos").glob("step_*.mp4"), key=lambda p: int(p.stem[5:]))
    assert [p.name for p in videos] == ["step_400.mp4", "step_800.mp4"]
    assert iio.imread(videos[0], index=None).shape[0] == 11  # reset + 10 steps

    def rows(run):
        with (run / "progress.csv").open() as f:
            return [
                {k: v for k, v in r.items() if k != "wall_time" and "per_second" not in k}
                for r in csv.DictReader(f)
            ]

    assert rows(filmed.run_dir) == rows(plain.run_dir)  # recording leaves the random streams alone
