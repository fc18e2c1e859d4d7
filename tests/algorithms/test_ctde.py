"""MAPPO / IPPO: in-process smoke training, checkpoints, resume and safe loading."""

from __future__ import annotations

import csv
import json
import pickle

import numpy as np
import pytest
import torch

from swarmzoo.agents import make_policy
from swarmzoo.agents.files import safe_load
from swarmzoo.agents.networks import ActorSpec, RecurrentActor
from swarmzoo.agents.policy_files import load_policy
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


def test_on_checkpoint_hook_sees_each_policy_without_changing_the_run(tmp_path) -> None:
    base = dict(TINY, checkpoint_every=2, env_kwargs=("n_agents=3", "max_cycles=10"))
    plain = train(Args(out=tmp_path / "plain", **base))
    seen: list[tuple[int, float]] = []

    def hook(run_dir, step):
        policy = make_policy(str(run_dir / "policy.pt"), "navigation-v0", seed=0, sample=True)
        torch.rand(3)  # the hook may use torch's random stream freely
        seen.append((step, evaluate("navigation-v0", policy, episodes=2, seed=1, n_agents=3)["mean_return"]))

    hooked = train(Args(out=tmp_path / "hooked", **base), on_checkpoint=hook)
    assert [s for s, _ in seen] == [400, 800]
    assert [(s, r) for s, _, r in hooked.curve] == [(s, r) for s, _, r in plain.curve]  # wall time aside
    final = make_policy(str(hooked.run_dir / "policy.pt"), "navigation-v0", seed=0, sample=True)
    assert seen[-1][1] == evaluate("navigation-v0", final, episodes=2, seed=1, n_agents=3)["mean_return"]


def _recurrent_actor(continuous: bool = False) -> RecurrentActor:
    from gymnasium import spaces

    obs = spaces.Box(-1, 1, (5,))
    act = spaces.Box(-1, 1, (2,)) if continuous else spaces.Discrete(3)
    torch.manual_seed(0)
    return RecurrentActor(ActorSpec.from_spaces(obs, act, (16,), recurrent=8))


@pytest.mark.parametrize("continuous", [False, True])
def test_recurrent_unroll_replays_the_steps(continuous: bool) -> None:
    """unroll() over a stored sequence gives the distributions step() gave, with hidden states
    zeroed where episodes start (and only there)."""
    actor = _recurrent_actor(continuous)
    T, B = 7, 4
    obs = torch.randn(T, B, 5)
    starts = torch.zeros(T, B)
    starts[0] = 1
    starts[3, 1] = starts[5, 2] = 1
    h0 = torch.randn(B, 8)
    h, stepped = h0, []
    for t in range(T):
        dist, h = actor.step(obs[t], h, starts[t])
        stepped.append(dist.logits if not continuous else dist.mean)
    unrolled = actor.unroll(obs, h0, starts)
    torch.testing.assert_close(unrolled.logits if not continuous else unrolled.mean, torch.stack(stepped))
    # without the start at t = 3 robot 1 remembers its past: different outputs from there on
    starts[3, 1] = 0
    other = actor.unroll(obs, h0, starts)
    got = other.logits if not continuous else other.mean
    assert not torch.allclose(got[3:, 1], torch.stack(stepped)[3:, 1])
    torch.testing.assert_close(got[:, 0], torch.stack(stepped)[:, 0])
    with pytest.raises(TypeError, match="no memoryless distribution"):
        actor.distribution(obs[0])


def test_recurrent_policy_remembers_and_restarts_with_episodes() -> None:
    from types import SimpleNamespace

    from swarmzoo.agents.networks import ActorPolicy

    policy = ActorPolicy(_recurrent_actor())
    obs = np.random.default_rng(0).normal(size=(6, 2, 3, 5)).astype(np.float32)  # (steps, E, N, D)

    def run(steps):
        return np.stack([policy.act(obs[t], SimpleNamespace(steps=np.array(s))) for t, s in enumerate(steps)])

    first = run([[0, 0], [1, 1], [2, 2], [0, 3], [1, 4], [2, 5]])
    # copy 0 restarted at step 3 with the observations of the last three steps: the same actions
    # as a fresh episode seeing them; copy 1 kept its memory
    fresh = ActorPolicy(_recurrent_actor())
    again = np.stack(
        [fresh.act(obs[t], SimpleNamespace(steps=np.array([t - 3, t - 3]))) for t in range(3, 6)]
    )
    np.testing.assert_array_equal(first[3:, 0], again[:, 0])
    with pytest.raises(ValueError, match="needs the task"):
        policy.act(obs[0])


@pytest.mark.parametrize("continuous", [False, True])
def test_recurrent_smoke_train_round_trip_and_resume(tmp_path, continuous: bool) -> None:
    out = tmp_path / "run"
    # no lr annealing: the 400-step first run then shares the 800-step run's schedule
    kw = dict(
        TINY, recurrent=16, anneal_lr=False, env_kwargs=(f"continuous_actions={continuous}", "n_agents=3")
    )
    train(Args(out=out, agent_ids=True, **dict(kw, total_steps=400, checkpoint_every=2)))
    resumed = train(Args(out=out, agent_ids=True, resume=True, **dict(kw, checkpoint_every=2)))
    assert resumed.global_step == 800 and np.isfinite(resumed.final_return)
    policy, meta = load_policy(out / "policy.pt")
    assert isinstance(policy.actor, RecurrentActor) and meta["actor_spec"]["recurrent"] == 16
    res = evaluate("navigation-v0", policy, episodes=2, continuous_actions=continuous)
    assert np.isfinite(res["mean_return"])
    # an uninterrupted run gives the same weights as the killed-and-resumed one
    whole = train(Args(out=tmp_path / "whole", agent_ids=True, **dict(kw, checkpoint_every=2)))
    a = torch.load(out / "policy.pt", weights_only=True)["actor"]
    b = torch.load(whole.run_dir / "policy.pt", weights_only=True)["actor"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="recurrent"):
        train(Args(out=out, resume=True, **dict(kw, recurrent=8, checkpoint_every=2)))
    with pytest.raises(ValueError, match="recurrent must be >= 0"):
        Args(recurrent=-1)
    with pytest.raises(ValueError, match="robot sequences"):
        train(Args(out=tmp_path / "mb", **dict(kw, minibatches=13)))


def test_trains_on_a_weighted_sum_of_objectives(tmp_path) -> None:
    """--reward-weights: the run sees w . r, and its policy file evaluates per objective."""
    kwargs = ("objectives=goals,energy",)
    run = train(Args(out=tmp_path / "w", env_kwargs=kwargs, reward_weights=(0.5, 0.5), **TINY))
    policy = make_policy(str(run.run_dir / "policy.pt"), "navigation-v0")
    result = evaluate("navigation-v0", policy, episodes=2, objectives=("goals", "energy"))
    assert result["objectives"] == ["goals", "energy"] and len(result["mean_returns"]) == 2
    with pytest.raises(ValueError, match="give --reward-weights"):
        train(Args(out=tmp_path / "x", env_kwargs=kwargs, **TINY))
    with pytest.raises(ValueError, match="scalar rewards"):
        train(Args(out=tmp_path / "y", reward_weights=(1.0,), **TINY))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        train(Args(out=tmp_path / "z", env_kwargs=kwargs, reward_weights=(1.0,), **TINY))


def test_resume_from_a_checkpoint_written_before_an_argument_existed(tmp_path) -> None:
    """A checkpoint without ``reward_weights`` in its arguments resumes: the missing argument
    counts as its default."""
    out = tmp_path / "run"
    base = dict(TINY, total_steps=1600, checkpoint_every=2)
    train(Args(out=out, **dict(base, total_steps=800)))
    path = out / "checkpoints" / "latest.pt"
    ckpt = safe_load(path)
    del ckpt["args"]["reward_weights"]
    torch.save(ckpt, path)
    assert train(Args(out=out, resume=True, **base)).global_step == 1600
    with pytest.raises(ValueError, match="reward_weights"):
        train(
            Args(out=out, resume=True, env_kwargs=("objectives=goals,energy",), reward_weights=(1, 0), **base)
        )
