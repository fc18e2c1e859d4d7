"""QMIX / VDN: mixers, agent network, replay buffer, TD targets, errors, files, determinism,
smoke training and (``slow``) learning on navigation-v0."""

from __future__ import annotations

import csv
import json
import re
import time

import numpy as np
import pytest
import torch

from swarmzoo.agents import RandomPolicy, make_policy
from swarmzoo.agents.files import safe_load
from swarmzoo.agents.networks import ActorPolicy
from swarmzoo.agents.policy_files import load_policy
from swarmzoo.algorithms import vdn
from swarmzoo.algorithms.common.replay import ReplayBatch, ReplayBuffer
from swarmzoo.algorithms.qmix import (
    AgentQNetwork,
    Args,
    QMixer,
    QMixModel,
    VDNMixer,
    epsilon_at,
    epsilon_greedy,
    td_loss,
    td_targets,
    team_transition,
    train,
)
from swarmzoo.cli import main
from swarmzoo.evaluation import evaluate

TINY = dict(
    total_steps=800,
    num_envs=4,
    rollout_steps=10,
    gradient_steps=4,
    batch_size=32,
    buffer_size=500,
    learning_starts=100,
    epsilon_anneal_steps=400,
    target_update_every=5,
    checkpoint_every=10,
    progress=False,
    tensorboard=False,
)


def rows(run_dir) -> list[dict[str, str]]:
    """``progress.csv`` without the wall-clock columns."""
    with (run_dir / "progress.csv").open() as f:
        return [
            {k: v for k, v in r.items() if k != "wall_time" and "per_second" not in k}
            for r in csv.DictReader(f)
        ]


# ---- mixers and the agent network ------------------------------------------------------------


@pytest.mark.parametrize("hypernet_hidden", [0, 16])
@pytest.mark.parametrize("seed", range(3))
def test_qmixer_is_monotonic_in_every_agent_q(seed: int, hypernet_hidden: int) -> None:
    torch.manual_seed(seed)
    N, S, B = 4, 7, 64
    mixer = QMixer(N, S, embed_dim=8, hypernet_hidden=hypernet_hidden)
    with torch.no_grad():  # weights far from the initialisation: negative hypernet outputs abound
        for p in mixer.parameters():
            p.normal_(0.0, 2.0)
    agent_qs = (10 * torch.randn(B, N)).requires_grad_()
    state = torch.randn(B, S)
    q_tot = mixer(agent_qs, state)
    assert q_tot.shape == (B,)
    (grad,) = torch.autograd.grad(q_tot.sum(), agent_qs)
    assert (grad >= 0).all()
    assert (grad > 0).any()


def test_qmixer_depends_on_state_and_takes_a_conditioning_input() -> None:
    torch.manual_seed(0)
    N, S, C, B, K = 3, 5, 2, 6, 4
    mixer = QMixer(N, S, embed_dim=8, hypernet_hidden=16, cond_dim=C)
    agent_qs = torch.randn(B, K, N, requires_grad=True)
    state, cond = torch.randn(B, 1, S), torch.randn(B, K, C)
    q_tot = mixer(agent_qs, state, cond)  # one Q_tot per objective, state broadcast over K
    assert q_tot.shape == (B, K)
    (grad,) = torch.autograd.grad(q_tot.sum(), agent_qs)
    assert (grad >= 0).all()
    assert not torch.allclose(mixer(agent_qs, state, cond), mixer(agent_qs, state + 1.0, cond))
    with pytest.raises(ValueError, match="conditioning input of size 2"):
        mixer(agent_qs, state)
    with pytest.raises(ValueError, match="agent_qs"):
        QMixer(N, S)(torch.randn(B, N + 1), torch.randn(B, S))


def test_vdn_mixer_is_the_sum() -> None:
    agent_qs = torch.randn(5, 2, 3)
    torch.testing.assert_close(VDNMixer()(agent_qs, torch.randn(5, 2, 9)), agent_qs.sum(-1))
    assert not list(VDNMixer().parameters())


def test_agent_network_shapes_ids_and_greedy_actor() -> None:
    torch.manual_seed(0)
    net = AgentQNetwork(obs_dim=6, n_actions=5, hidden=(16,), n_agent_ids=3)
    obs = torch.randn(4, 3, 6)
    q = net(obs)
    assert q.shape == (4, 3, 5)
    with pytest.raises(ValueError, match="agent ids for 3 robots"):
        net(torch.randn(4, 2, 6))
    actor = net.to_actor()  # the policy file's actor: logits = Q, its mode = argmax Q
    policy = ActorPolicy(actor)
    np.testing.assert_array_equal(policy.act(obs.numpy()), q.argmax(-1).numpy())
    conditioned = AgentQNetwork(6, 5, (16,), cond_dim=2)
    assert conditioned(obs, torch.randn(4, 3, 2)).shape == (4, 3, 5)
    with pytest.raises(ValueError, match="not a plain actor"):
        conditioned.to_actor()


def test_target_update_hard_and_polyak() -> None:
    torch.manual_seed(0)
    model = QMixModel(AgentQNetwork(4, 3, (8,)), QMixer(2, 3, 4, 0))
    online = next(model.agent.parameters())
    target = next(model.target_agent.parameters())
    assert not target.requires_grad
    with torch.no_grad():
        online.add_(1.0)
    before = target.clone()
    model.update_targets(0.25)
    torch.testing.assert_close(target, before + 0.25 * (online - before))
    model.update_targets(1.0)
    torch.testing.assert_close(target, online)


# ---- replay buffer ---------------------------------------------------------------------------


def _transitions(E: int, N: int = 2, D: int = 3, S: int = 4, R: tuple[int, ...] = (), start: float = 0.0):
    """E transitions whose every entry is its index ``start + e``, so rows can be traced."""
    ids = start + np.arange(E, dtype=np.float32)
    return dict(
        obs=np.broadcast_to(ids[:, None, None], (E, N, D)),
        state=np.broadcast_to(ids[:, None], (E, S)),
        actions=np.broadcast_to(ids[:, None].astype(np.int64), (E, N)),
        rewards=np.broadcast_to(ids.reshape(E, *[1] * len(R)), (E, *R)),
        next_obs=np.broadcast_to(ids[:, None, None] + 0.5, (E, N, D)),
        next_state=np.broadcast_to(ids[:, None] + 0.5, (E, S)),
        terminated=np.zeros(E, dtype=bool),
        truncated=np.ones(E, dtype=bool),
    )


@pytest.mark.parametrize("reward_shape", [(), (3,)])
def test_replay_buffer_shapes_and_wrap_around(reward_shape) -> None:
    buf = ReplayBuffer(5, n_agents=2, obs_dim=3, state_dim=4, reward_shape=reward_shape)
    buf.add(**_transitions(3, R=reward_shape, start=0))
    assert len(buf) == 3 and buf.pos == 3
    buf.add(**_transitions(3, R=reward_shape, start=3))  # rows 3, 4, then 0 (wraps)
    assert len(buf) == 5 and buf.pos == 1
    np.testing.assert_array_equal(buf.data["state"][:, 0].numpy(), [5, 1, 2, 3, 4])
    batch = buf.sample(16, np.random.default_rng(0))
    assert isinstance(batch, ReplayBatch)
    assert batch.obs.shape == (16, 2, 3) and batch.next_obs.shape == (16, 2, 3)
    assert batch.state.shape == (16, 4) and batch.actions.shape == (16, 2)
    assert batch.actions.dtype == torch.int64
    assert batch.rewards.shape == (16, *reward_shape)
    assert batch.terminated.shape == batch.truncated.shape == (16,)
    # each row stays one transition: its fields carry the same index
    torch.testing.assert_close(batch.obs[:, 0, 0], batch.state[:, 0])
    torch.testing.assert_close(batch.next_state[:, 0], batch.state[:, 0] + 0.5)
    assert set(batch.state[:, 0].tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    again = buf.sample(16, np.random.default_rng(0))
    torch.testing.assert_close(again.obs, batch.obs)


def test_replay_buffer_state_dict_round_trip_and_errors() -> None:
    buf = ReplayBuffer(4, 2, 3, 4)
    buf.add(**_transitions(3))
    copy = ReplayBuffer(4, 2, 3, 4)
    copy.load_state_dict(buf.state_dict())
    assert (copy.pos, copy.size) == (buf.pos, buf.size)
    for name in buf.data:
        torch.testing.assert_close(copy.data[name], buf.data[name])
    with pytest.raises(ValueError, match="state must have shape"):
        buf.add(**{**_transitions(2), "state": np.zeros((2, 5))})
    with pytest.raises(ValueError, match="capacity 4"):
        buf.add(**_transitions(5))
    with pytest.raises(ValueError, match="cannot sample"):
        ReplayBuffer(4, 2, 3, 4).sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        ReplayBuffer(0, 2, 3, 4)


# ---- TD targets ------------------------------------------------------------------------------


def test_td_targets_stop_at_termination_only() -> None:
    rewards = torch.tensor([1.0, 2.0, 3.0])
    terminated = torch.tensor([1.0, 0.0, 0.0])  # row 1: truncated (not terminated), row 2: mid-episode
    next_values = torch.tensor([10.0, 20.0, 30.0])
    torch.testing.assert_close(
        td_targets(rewards, terminated, next_values, 0.5), torch.tensor([1.0, 12.0, 18.0])
    )
    # vector rewards (B, K): the flag broadcasts over objectives
    y = td_targets(torch.ones(3, 2), terminated, torch.full((3, 2), 4.0), 0.5)
    torch.testing.assert_close(y, torch.tensor([[1.0, 1.0], [3.0, 3.0], [3.0, 3.0]]))


@pytest.mark.parametrize("double_q", [True, False])
def test_td_loss_bootstraps_truncated_and_not_terminated_transitions(double_q: bool) -> None:
    torch.manual_seed(0)
    N, D, S, A, B, gamma = 2, 3, 4, 5, 4, 0.9
    model = QMixModel(AgentQNetwork(D, A, (8,)), QMixer(N, S, 4, 8))
    with torch.no_grad():  # targets differ from the online nets, so double Q matters
        for p in model.target_agent.parameters():
            p.add_(0.3 * torch.randn_like(p))
    batch = ReplayBatch(
        obs=torch.randn(B, N, D),
        state=torch.randn(B, S),
        actions=torch.randint(0, A, (B, N)),
        rewards=torch.randn(B),
        next_obs=torch.randn(B, N, D),
        next_state=torch.randn(B, S),
        terminated=torch.tensor([1.0, 0.0, 0.0, 1.0]),
        truncated=torch.tensor([0.0, 1.0, 0.0, 0.0]),
    )
    loss, stats = td_loss(model, batch, gamma, double_q)
    with torch.no_grad():
        q_tot = model.mixer(
            model.agent(batch.obs).gather(-1, batch.actions[..., None]).squeeze(-1), batch.state
        )
        chooser = model.agent if double_q else model.target_agent
        a_next = chooser(batch.next_obs).argmax(-1, keepdim=True)
        q_next = model.target_agent(batch.next_obs).gather(-1, a_next).squeeze(-1)
        v_next = model.target_mixer(q_next, batch.next_state)
    expected = batch.rewards + gamma * torch.tensor([0.0, 1.0, 1.0, 0.0]) * v_next
    torch.testing.assert_close(loss, (q_tot - expected).pow(2).mean())
    assert stats["target"] == pytest.approx(expected.mean().item(), abs=1e-6)
    loss.backward()
    assert all(p.grad is None for p in model.target_agent.parameters())
    assert next(model.mixer.parameters()).grad is not None


def test_team_transition_keeps_final_obs_and_splits_termination_from_truncation() -> None:
    E, N, D, S = 3, 2, 2, 3
    obs_next = np.zeros((E, N, D))  # copies 0 and 1 just auto-reset: these are new episodes' obs
    state_next = np.zeros((E, S))
    infos = {
        "_final_obs": np.array([True, True, False]),
        "final_obs": np.full((E, N, D), 7.0),
        "final_state": np.full((E, S), 8.0),
    }
    truncations = np.array([[False, False], [True, False], [True, True]])  # copy 0: terminated
    rewards = np.array([[1.0, 3.0], [0.0, 2.0], [4.0, 4.0]])
    nobs, nstate, r, term, trunc = team_transition(obs_next, state_next, rewards, truncations, infos)
    np.testing.assert_array_equal(nobs[:2], 7.0)
    np.testing.assert_array_equal(nobs[2], 0.0)
    np.testing.assert_array_equal(nstate[:2], 8.0)
    np.testing.assert_array_equal(r, [2.0, 1.0, 4.0])
    np.testing.assert_array_equal(term, [True, False, False])
    np.testing.assert_array_equal(trunc, [False, True, False])
    assert obs_next.max() == 0.0  # the env's own array is left alone


def test_epsilon_schedule_and_greedy_actions() -> None:
    args = Args(epsilon_start=1.0, epsilon_end=0.1, epsilon_anneal_steps=100)
    assert epsilon_at(0, args) == 1.0
    assert epsilon_at(50, args) == pytest.approx(0.55)
    assert epsilon_at(10_000, args) == pytest.approx(0.1)
    q = torch.randn(4, 3, 5)
    np.testing.assert_array_equal(epsilon_greedy(q, 0.0, np.random.default_rng(0)), q.argmax(-1).numpy())
    random = epsilon_greedy(q, 1.0, np.random.default_rng(0))
    assert random.shape == (4, 3) and random.min() >= 0 and random.max() < 5


# ---- arguments and envs that do not fit ------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(mixer="qtran"), "mixer must be one of"),
        (dict(lr=0.0), "lr must be > 0"),
        (dict(gamma=1.5), "gamma must lie in"),
        (dict(epsilon_start=0.1, epsilon_end=0.5), "epsilon_end"),
        (dict(target_tau=0.0), "target_tau"),
        (dict(batch_size=64, buffer_size=32), "batch_size (64) exceeds buffer_size"),
        (dict(num_envs=0), "num_envs must be >= 1"),
        (dict(learning_starts=-1), "learning_starts must be >= 0"),
        (dict(lr=float("nan")), "lr must be a finite number"),
        (dict(hidden=(0,)), "hidden layer sizes"),
    ],
)
def test_bad_args_are_clear_errors(kwargs, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Args(**kwargs)


def test_continuous_actions_and_vector_rewards_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"qmix needs a Discrete action space.*continuous_actions"):
        train(Args(out=tmp_path / "c", env_kwargs=("continuous_actions=True",), **TINY))
    with pytest.raises(ValueError, match="vdn needs a Discrete action space"):
        train(vdn.Args(env="coverage-v0", out=tmp_path / "cov", **TINY))
    with pytest.raises(ValueError, match="give --reward-weights"):
        train(Args(out=tmp_path / "mo", env_kwargs=("objectives=('goals', 'energy')",), **TINY))
    assert not (tmp_path / "c").exists()  # refused before the run folder is made


# ---- training: smoke, files, determinism, resume ---------------------------------------------


@pytest.mark.parametrize(
    "env, mixer, env_kwargs",
    [
        ("navigation-v0", "qmix", ("n_agents=3", "max_cycles=20")),
        ("navigation-v0", "vdn", ("n_agents=2", "max_cycles=20", "terminate_on_success=True")),
        ("coordination-v0", "qmix", ("max_cycles=10",)),
        ("aloha-v0", "vdn", ()),
    ],
)
def test_smoke_train_writes_a_run_folder_and_a_greedy_policy(tmp_path, env, mixer, env_kwargs) -> None:
    result = train(Args(env=env, mixer=mixer, env_kwargs=env_kwargs, out=tmp_path / "run", seed=1, **TINY))
    assert result.global_step == 800
    assert np.isfinite(result.final_return)
    run = result.run_dir
    assert json.loads((run / "config.json").read_text())["mixer"] == mixer
    progress = rows(run)
    assert len(progress) == 20 and progress[-1]["global_step"] == "800"
    losses = [float(r["losses/td_loss"]) for r in progress if r.get("losses/td_loss")]
    assert losses and all(np.isfinite(losses))
    assert float(progress[-1]["charts/epsilon"]) == pytest.approx(0.05)
    policy, meta = load_policy(run / "policy.pt")
    assert meta["algo"] == mixer and meta["q_values"]
    kwargs = dict(a.split("=") for a in env_kwargs)
    kwargs = {k: int(v) if v.isdigit() else v == "True" for k, v in kwargs.items()}
    out = evaluate(env, policy, episodes=2, **kwargs)
    assert np.isfinite(out["mean_return"])


# Small settings for every registered env whose actions can be discrete (the smoke test below
# picks the envs itself, so a new discrete env is covered without editing this file).
SMALL = {"flocking-v0": ("n_agents=8",), "kuramoto-v0": ("n_agents=8",), "aggregation-v0": ("n_agents=8",)}


def _discrete_envs() -> list[tuple[str, tuple[str, ...]]]:
    """Every registered env with discrete actions by default or with continuous_actions=False."""
    from gymnasium import spaces

    import swarmzoo

    out = []
    for env_id in swarmzoo.list_envs():
        kwargs = ("max_cycles=20", *SMALL.get(env_id, ()))
        if not isinstance(swarmzoo.make_vec(env_id, 1).single_action_space, spaces.Discrete):
            try:
                swarmzoo.make_vec(env_id, 1, continuous_actions=False)
            except ValueError:  # continuous only (the Byzantine envs)
                continue
            kwargs = (*kwargs, "continuous_actions=False")
        out.append((env_id, kwargs))
    return out


DISCRETE_ENVS = _discrete_envs()


def test_every_discrete_env_is_covered() -> None:
    assert {e for e, _ in DISCRETE_ENVS} >= {
        "navigation-v0",
        "coverage-v0",
        "flocking-v0",
        "kuramoto-v0",
        "aggregation-v0",
        "aloha-v0",
        "coordination-v0",
    }


@pytest.mark.parametrize(("env", "env_kwargs"), DISCRETE_ENVS, ids=[e for e, _ in DISCRETE_ENVS])
def test_qmix_and_vdn_train_on_every_discrete_env(tmp_path, env, env_kwargs) -> None:
    for mixer in ("qmix", "vdn"):
        small = dict(TINY, total_steps=240)
        result = train(Args(env=env, mixer=mixer, env_kwargs=env_kwargs, out=tmp_path / mixer, **small))
        assert result.global_step == 240 and np.isfinite(result.final_return)
        losses = [float(r["losses/td_loss"]) for r in rows(result.run_dir) if r.get("losses/td_loss")]
        assert losses and all(np.isfinite(losses))


def test_vector_rewards_train_on_their_weighted_sum(tmp_path) -> None:
    kwargs = ("objectives=('goals', 'energy')", "max_cycles=20")
    result = train(Args(out=tmp_path / "w", env_kwargs=kwargs, reward_weights=(0.8, 0.2), **TINY))
    assert np.isfinite(result.final_return)
    assert json.loads((result.run_dir / "config.json").read_text())["reward_weights"] == [0.8, 0.2]


def test_replay_holds_truncated_episode_ends_with_their_final_obs(tmp_path) -> None:
    args = Args(out=tmp_path / "r", env_kwargs=("max_cycles=10",), **dict(TINY, total_steps=200))
    train(args)
    replay = safe_load(tmp_path / "r" / "checkpoints" / "latest.pt")["replay"]
    assert replay["size"] == 200
    truncated = replay["truncated"].bool()
    assert int(truncated.sum()) == 20  # 4 copies x 5 episodes of 10 steps
    assert not replay["terminated"].any()
    # a truncated row's next_obs is its episode's last observation, not the next episode's first
    rows_of_copy0 = torch.arange(0, 200, 4)
    ends = rows_of_copy0[truncated[rows_of_copy0]][:-1]
    assert not torch.allclose(replay["next_obs"][ends], replay["obs"][ends + 4])
    mid = rows_of_copy0[~truncated[rows_of_copy0]][:-1]
    torch.testing.assert_close(replay["next_obs"][mid], replay["obs"][mid + 4])


def test_seeded_runs_are_deterministic(tmp_path) -> None:
    a = train(Args(out=tmp_path / "a", seed=3, **TINY))
    b = train(Args(out=tmp_path / "b", seed=3, **TINY))
    c = train(Args(out=tmp_path / "c", seed=4, **TINY))
    assert rows(a.run_dir) == rows(b.run_dir)
    assert rows(a.run_dir) != rows(c.run_dir)


def test_resume_continues_exactly_as_the_uninterrupted_run(tmp_path) -> None:
    base = dict(TINY, total_steps=800, checkpoint_every=5)
    whole = train(Args(out=tmp_path / "whole", **base))
    train(Args(out=tmp_path / "cut", **dict(base, total_steps=400)))
    resumed = train(Args(out=tmp_path / "cut", resume=True, **base))
    assert resumed.global_step == 800
    assert rows(resumed.run_dir) == rows(whole.run_dir)
    with pytest.raises(ValueError, match="mixer"):
        train(Args(out=tmp_path / "cut", resume=True, **dict(base, mixer="vdn")))


def test_files_load_safely_and_the_checkpoint_is_a_policy_too(tmp_path) -> None:
    result = train(Args(out=tmp_path / "r", agent_ids=True, **TINY))
    ckpt = safe_load(result.run_dir / "checkpoints" / "latest.pt")  # torch.load(weights_only=True)
    assert ckpt["algo"] == "qmix" and ckpt["gradient_steps"] > 0
    obs = np.random.default_rng(0).normal(size=(2, 3, 30)).astype(np.float32)
    from_policy = load_policy(result.run_dir / "policy.pt")[0].act(obs)
    from_ckpt = load_policy(result.run_dir / "checkpoints" / "latest.pt")[0].act(obs)
    np.testing.assert_array_equal(from_policy, from_ckpt)
    assert make_policy(str(result.run_dir), "navigation-v0").act(obs).shape == (2, 3)


def test_cli_trains_vdn_and_qmix_and_evaluates_the_run(tmp_path, capsys) -> None:
    tiny = (
        "--total-steps 400 --num-envs 4 --rollout-steps 10 --gradient-steps 2 --batch-size 32 "
        "--learning-starts 100 --no-progress --no-tensorboard"
    ).split()
    main(["train", "vdn", "--out", str(tmp_path / "v"), *tiny])
    main(
        [
            "train",
            "qmix",
            "--env",
            "navigation-v0",
            "--out",
            str(tmp_path / "q"),
            *tiny,
            "--env-config.max-cycles",
            "20",
        ]
    )
    assert json.loads((tmp_path / "v" / "config.json").read_text())["mixer"] == "vdn"
    config = json.loads((tmp_path / "q" / "config.json").read_text())
    assert config["mixer"] == "qmix" and config["env_kwargs"] == ["max_cycles=20"]
    capsys.readouterr()
    main(["evaluate", str(tmp_path / "q"), "--episodes", "2", "--json"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert np.isfinite(summary["mean_return"]) and summary["env_kwargs"] == {"max_cycles": 20}
    continuous = ["--env", "navigation-v0", "--env-config.continuous-actions"]
    with pytest.raises(SystemExit, match="Discrete action space"):
        main(["train", "qmix", "--out", str(tmp_path / "x"), *tiny, *continuous])


# ---- learning --------------------------------------------------------------------------------


@pytest.mark.slow
def test_qmix_beats_random_clearly_on_navigation(tmp_path) -> None:
    """QMIX (defaults, 3 robots, 100k env steps) against uniform random actions on the same 48
    evaluation episodes; the gap must exceed 3 and 4 standard errors (measured: see
    docs/algorithms/qmix.md)."""
    start = time.time()
    result = train(
        Args(
            env_kwargs=("n_agents=3",),
            total_steps=100_000,
            seed=0,
            out=tmp_path / "q",
            progress=False,
            tensorboard=False,
        )
    )
    episodes = dict(episodes=48, seed=12345, n_agents=3)
    trained = evaluate("navigation-v0", load_policy(result.run_dir / "policy.pt")[0], **episodes)
    random = evaluate("navigation-v0", RandomPolicy(seed=0), **episodes)
    info = {"qmix": trained["mean_return"], "random": random["mean_return"], "seconds": time.time() - start}
    noise = np.hypot(trained["std_return"], random["std_return"]) / np.sqrt(48)  # std error of the gap
    assert trained["mean_return"] - random["mean_return"] > max(3.0, 4 * noise), info
