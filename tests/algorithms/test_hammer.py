"""HAMMER: smoke training, the policy file, what the messages depend on and reach, and learning."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

import swarmzoo
from swarmzoo import cli
from swarmzoo.agents import RandomPolicy, make_policy
from swarmzoo.agents.files import safe_load
from swarmzoo.agents.hammer import CentralActor, CentralSpec, HammerPolicy, StateLayout
from swarmzoo.agents.networks import Actor, ActorSpec
from swarmzoo.agents.policy_files import load_policy
from swarmzoo.algorithms.hammer import Args, policy_of, train
from swarmzoo.evaluation import evaluate

TINY = dict(
    total_steps=800, num_envs=4, rollout_steps=50, epochs=2, minibatches=2, progress=False, tensorboard=False
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run on navigation-v0 with 3 robots, shared by the tests that only read it."""
    return train(Args(out=tmp_path_factory.mktemp("hammer") / "run", seed=1, **TINY))


def _state_of(n_agents: int = 4, n_envs: int = 2, seed: int = 0, **kwargs):
    venv = swarmzoo.make_vec("navigation-v0", n_envs, n_agents=n_agents, **kwargs)
    obs, _ = venv.reset(seed=seed)
    continuous = kwargs.get("continuous_actions", False)
    push = np.full((n_envs, n_agents, 2), 0.5, np.float32) if continuous else np.full((n_envs, n_agents), 2)
    for _ in range(3):  # some velocity
        obs, *_ = venv.step(push)
    return venv, obs


@pytest.mark.parametrize("continuous", [False, True])
def test_smoke_train_writes_run_folder_and_the_policy_evaluates(tmp_path, continuous: bool) -> None:
    args = Args(out=tmp_path / "run", env_kwargs=(f"continuous_actions={continuous}",), **TINY)
    result = train(args)
    assert result.global_step == 800 and np.isfinite(result.final_return)
    run = result.run_dir
    assert json.loads((run / "config.json").read_text())["message_dim"] == 4
    with (run / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and rows[-1]["global_step"] == "800"
    for key in ("losses/value_loss", "central/policy_loss", "central/value_loss", "central/message_std"):
        assert all(np.isfinite(float(r[key])) for r in rows), key
    policy = policy_of(result)
    assert isinstance(policy, HammerPolicy)
    out = evaluate("navigation-v0", policy, episodes=2, continuous_actions=continuous)
    assert np.isfinite(out["mean_return"])
    # the training checkpoint loads as the same policy
    from_ckpt = load_policy(run / "checkpoints" / "latest.pt")[0]
    venv, obs = _state_of(3, continuous_actions=continuous)
    np.testing.assert_array_equal(from_ckpt.act(obs, venv.task), policy.act(obs, venv.task))


def test_cli_trains_evaluates_and_renders(tmp_path, capsys) -> None:
    assert cli.TRAINERS["hammer"] == "swarmzoo.algorithms.hammer"
    run = tmp_path / "cli"
    cli.main(
        ["train", "hammer", "--total-steps", "400", "--num-envs", "4", "--epochs", "1", "--out", str(run)]
        + ["--no-progress", "--no-tensorboard", "--env-config.n-agents", "4", "--message-dim", "3"]
    )
    assert "trained 400 env steps" in capsys.readouterr().out
    assert safe_load(run / "policy.pt")["central_spec"]["message_dim"] == 3
    cli.main(["evaluate", str(run), "--episodes", "2", "--json"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert np.isfinite(summary["mean_return"]) and summary["env_kwargs"]["n_agents"] == 4
    cli.main(["evaluate", str(run), "--episodes", "2", "--n-agents", "9", "--json"])
    assert np.isfinite(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["mean_return"])
    gif = tmp_path / "hammer.gif"
    cli.main(
        ["render", "navigation-v0", "--policy", str(run), "--out", str(gif), "--env-kwargs", "max_cycles=4"]
    )
    assert gif.is_file() and gif.stat().st_size > 0


def test_the_central_agent_reads_the_state_the_task_holds() -> None:
    venv, _ = _state_of(5, n_obstacles=2, max_speed=(0.3, 0.3, 2.5, 1.0, 1.0))
    task = venv.task
    layout = StateLayout.of(task, CentralSpec(4, goal_slots=6, obstacle_slots=3))
    x = layout.features(task.state()).numpy()  # (E, N, F)
    assert x.shape == (2, 5, CentralSpec(4, goal_slots=6, obstacle_slots=3).feature_dim)
    np.testing.assert_allclose(x[..., 0:2], task.pos, atol=1e-6)
    np.testing.assert_allclose(x[..., 2:4], task.vel, atol=1e-6)
    np.testing.assert_allclose(x[0, :, 4], [0.3, 0.3, 2.0, 1.0, 1.0])  # 2.0: the terminal speed
    # goal slots, nearest first: offset, distance, nearest other robot's distance, valid
    goals = x[..., 5 : 5 + 30].reshape(2, 5, 6, 5)
    dist = np.linalg.norm(task.goals[:, None] - task.pos[:, :, None], axis=-1)  # (E, N, G)
    np.testing.assert_allclose(goals[..., :5, 2], np.sort(dist, axis=-1), atol=1e-5)
    np.testing.assert_array_equal(goals[..., 4], [[[1, 1, 1, 1, 1, 0]] * 5] * 2)  # 5 goals, 6 slots
    e, i = 1, 3
    g = int(np.argmin(dist[e, i]))
    others = np.delete(dist[e, :, g], i)
    np.testing.assert_allclose(goals[e, i, 0, 3], others.min(), atol=1e-5)
    np.testing.assert_allclose(goals[e, i, 0, :2], task.goals[e, g] - task.pos[e, i], atol=1e-5)
    obstacles = x[..., 35:].reshape(2, 5, 3, 5)
    np.testing.assert_array_equal(obstacles[..., 4], [[[1, 1, 0]] * 5] * 2)
    np.testing.assert_allclose(obstacles[..., :2, 3], task.config.obstacle_radius, atol=1e-6)


def test_messages_are_per_robot_and_permutation_equivariant() -> None:
    """Each robot's message is its own (robots in different places get different messages), and
    relabelling the robots relabels the messages."""
    torch.manual_seed(0)
    spec = CentralSpec(4)
    central = CentralActor(spec)
    with torch.no_grad():
        central.head[-1].weight.mul_(100.0)  # a trained-sized head (the initial one is tiny)
    venv, _ = _state_of(6)
    x = StateLayout.of(venv.task, spec).features(venv.task.state())
    with torch.no_grad():
        m = central.distribution(x).mean
        perm = torch.tensor([3, 0, 5, 1, 4, 2])
        m_perm = central.distribution(x[:, perm]).mean
    torch.testing.assert_close(m_perm, m[:, perm])
    assert (m[:, :, None] - m[:, None]).abs().amax(-1)[:, ~torch.eye(6, dtype=bool)].min() > 1e-4
    # robot i's own features drive its message more than any other robot's message moves
    y = x.clone()
    y[:, 2, :4] += 0.5
    with torch.no_grad():
        moved = (central.distribution(y).mean - m).abs().amax(-1)  # (E, N)
    assert (moved[:, 2] > moved[:, [0, 1, 3, 4, 5]].amax(-1)).all()


def test_local_agents_hear_only_their_own_message(trained) -> None:
    """The local actor's input is [o_i, m_i] (D + M entries, no slot for anyone else's message):
    changing the other robots' observations and messages leaves robot i's action distribution
    exactly as it was."""
    policy = policy_of(trained)
    venv, obs = _state_of(3, n_envs=4)
    D, M = obs.shape[-1], policy.message_dim
    assert policy.local.spec.obs_dim == D + M
    msg = policy.messages(venv.task)
    assert msg.shape == (4, 3, M)
    x = torch.cat([torch.as_tensor(obs), msg], -1)
    y = x.clone()
    y[:, [0, 2]] += torch.randn(4, 2, D + M)  # every robot but 1
    with torch.no_grad():
        before, after = policy.local.distribution(x).logits, policy.local.distribution(y).logits
    torch.testing.assert_close(after[:, 1], before[:, 1])
    assert not torch.allclose(after[:, 0], before[:, 0])


def test_the_messages_change_the_local_actions(trained) -> None:
    """The policy's actions come from the central agent's messages, and the local agents act on
    them: other messages (unit-sized ones, or another robot's) change what the robots do."""
    policy = policy_of(trained)
    venv, obs = _state_of(3, n_envs=64, seed=3)
    msg = policy.messages(venv.task)
    acts = policy.act(obs, venv.task)
    np.testing.assert_array_equal(acts, policy.local_actions(obs, msg))
    signs = torch.randint(0, 2, msg.shape, generator=torch.Generator().manual_seed(0)) * 2.0 - 1.0
    assert (policy.local_actions(obs, signs) != acts).mean() > 0.05
    assert (policy.local_actions(obs, signs[:, [1, 2, 0]]) != policy.local_actions(obs, signs)).mean() > 0.05
    # and the local logits respond to every message entry
    x = torch.cat([torch.as_tensor(obs), msg], -1).requires_grad_(True)
    policy.local.distribution(x).logits.square().sum().backward()
    assert (x.grad[..., -policy.message_dim :].abs().sum(dim=(0, 1)) > 0).all()


@pytest.mark.parametrize("n_agents", [1, 7])
def test_runs_on_another_swarm_size_and_on_heterogeneous_robots(trained, n_agents: int) -> None:
    policy = policy_of(trained)
    out = evaluate("navigation-v0", policy, episodes=2, n_agents=n_agents)
    assert np.isfinite(out["mean_return"])
    caps = tuple(0.5 if i % 2 else 1.5 for i in range(n_agents))
    out = evaluate("navigation-v0", policy, episodes=2, n_agents=n_agents, max_speed=caps)
    assert np.isfinite(out["mean_return"])


def test_trains_on_heterogeneous_robots(tmp_path) -> None:
    result = train(
        Args(out=tmp_path / "het", env_kwargs=("n_agents=4", "max_speed=(0.4, 0.4, 1.6, 1.6)"), **TINY)
    )
    policy = policy_of(result)
    assert np.isfinite(
        evaluate("navigation-v0", policy, episodes=2, n_agents=4, max_speed=(0.4, 0.4, 1.6, 1.6))[
            "mean_return"
        ]
    )


def test_sampled_policy_follows_the_seed(trained) -> None:
    venv, obs = _state_of(3, n_envs=16)
    acts = [
        load_policy(trained.run_dir / "policy.pt", deterministic=False, seed=s)[0].act(obs, venv.task)
        for s in (0, 0, 1)
    ]
    assert np.array_equal(acts[0], acts[1]) and not np.array_equal(acts[0], acts[2])


def test_resume_continues_exactly(tmp_path) -> None:
    kw = dict(TINY, anneal_lr=False, checkpoint_every=2)
    out = tmp_path / "run"
    train(Args(out=out, **dict(kw, total_steps=400)))
    resumed = train(Args(out=out, resume=True, **kw))
    assert resumed.global_step == 800
    whole = train(Args(out=tmp_path / "whole", **kw))
    a, b = safe_load(out / "policy.pt"), safe_load(whole.run_dir / "policy.pt")
    for part in ("actor", "central"):
        assert all(torch.equal(a[part][k], b[part][k]) for k in a[part]), part
    with pytest.raises(ValueError, match="message_dim"):
        train(Args(out=out, resume=True, message_dim=2, **kw))


def test_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="navigation-v0's global state"):
        train(Args(env="flocking-v0", **TINY))
    with pytest.raises(ValueError, match="mpe_spread"):
        train(Args(env_kwargs=("preset=mpe_spread",), **TINY))
    with pytest.raises(ValueError, match="message_dim"):
        Args(message_dim=0)
    local = Actor(ActorSpec(obs_dim=5, action_kind="discrete", action_dim=5))
    with pytest.raises(ValueError, match="needs the task"):
        HammerPolicy(local, CentralActor(CentralSpec(1))).act(np.zeros((1, 2, 4), np.float32))


@pytest.mark.slow
def test_hammer_beats_the_random_policy_on_navigation(tmp_path) -> None:
    """60k env steps (about 1.5 min on a free core): well above random, and the learned local
    agents do listen to the learned messages (silencing them changes their actions)."""
    result = train(
        Args(total_steps=60_000, seed=0, out=tmp_path / "learn", progress=False, tensorboard=False)
    )
    policy = policy_of(result)
    ev = dict(episodes=48, seed=12345)
    trained_return = evaluate("navigation-v0", policy, **ev)["mean_return"]
    random_return = evaluate("navigation-v0", RandomPolicy(seed=0), **ev)["mean_return"]
    heuristic = evaluate("navigation-v0", make_policy("heuristic", "navigation-v0"), **ev)["mean_return"]
    score = (trained_return - random_return) / (heuristic - random_return)
    assert score > 0.3, {"trained": trained_return, "random": random_return, "heuristic": heuristic}
    venv, obs = _state_of(3, n_envs=64, seed=7)
    msg = policy.messages(venv.task)
    silenced = policy.local_actions(obs, torch.zeros_like(msg))
    assert (silenced != policy.act(obs, venv.task)).mean() > 0.01
