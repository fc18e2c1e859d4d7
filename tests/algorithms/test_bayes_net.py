"""BN-MAPPO: smoke training, annealing to an independent policy, files, errors; the tabular
coordination game."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from swarmzoo.agents import make_policy
from swarmzoo.agents.bayes_net import BayesNetPolicy
from swarmzoo.agents.policy_files import load_policy
from swarmzoo.algorithms.bayes_net import Args, sparsity_schedule, train
from swarmzoo.algorithms.common.vector import parse_env_kwargs
from swarmzoo.algorithms.coordination_game import CLIMBING, joint_probabilities, train_tabular
from swarmzoo.evaluation import evaluate

TINY = dict(
    total_steps=400, num_envs=4, rollout_steps=50, epochs=2, minibatches=2, progress=False, tensorboard=False
)


@pytest.mark.parametrize(
    "env_id,extra",
    [
        ("navigation-v0", ()),
        ("coverage-v0", ("continuous_actions=False", "n_agents=4", "max_cycles=50")),
    ],
)
@pytest.mark.parametrize("context", ["joint", "neighbours"])
def test_smoke_train_writes_a_policy(tmp_path, env_id: str, extra: tuple, context: str) -> None:
    result = train(Args(env=env_id, env_kwargs=extra, context=context, out=tmp_path / "run", **TINY))
    assert result.global_step == 400 and np.isfinite(result.final_return)
    with (result.run_dir / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(0.0 <= float(r["charts/edge_density"]) <= 1.0 for r in rows)
    assert all(0.0 <= float(r["charts/edge_density_argmax"]) <= 1.0 for r in rows)
    data = torch.load(result.run_dir / "policy.pt", weights_only=True)
    assert data["algo"] == "bayes_net"
    assert data["actor_config"]["context"] == ("pairwise" if context == "neighbours" else "joint")
    policy = make_policy(str(result.run_dir), env_id)
    assert isinstance(policy, BayesNetPolicy)
    out = evaluate(env_id, policy, episodes=2, **parse_env_kwargs(extra))
    assert np.isfinite(out["mean_return"])


def test_a_given_order_is_kept_in_the_policy(tmp_path) -> None:
    result = train(Args(out=tmp_path / "r", order=(2, 0, 1), **TINY))
    policy, _ = load_policy(result.run_dir / "policy.pt")
    allowed = policy.actor.allowed
    assert allowed[2, 0] and allowed[2, 1] and allowed[0, 1] and not allowed[1, 0] and not allowed[0, 2]
    with pytest.raises(ValueError, match="permutation"):
        train(Args(out=tmp_path / "bad", order=(0, 0, 1), **TINY))


def test_a_learned_order_trains_and_is_kept_in_the_policy(tmp_path) -> None:
    result = train(Args(out=tmp_path / "r", learn_order=True, **TINY))
    data = torch.load(result.run_dir / "policy.pt", weights_only=True)
    assert data["actor_config"]["order"] == "learned" and "order_logits" in data["actor"]
    policy = make_policy(str(result.run_dir), "navigation-v0")
    assert np.isfinite(evaluate("navigation-v0", policy, episodes=2)["mean_return"])


def test_random_dag_ablation_trains_runs_and_is_kept_in_the_policy(tmp_path) -> None:
    result = train(Args(out=tmp_path / "r", edge_prob=0.5, anneal=False, **TINY))
    data = torch.load(result.run_dir / "policy.pt", weights_only=True)
    assert data["actor_config"]["edge_prob"] == 0.5 and not any(
        k.startswith("edge_net") for k in data["actor"]
    )
    with (result.run_dir / "progress.csv").open() as f:
        density = [float(r["charts/edge_density"]) for r in csv.DictReader(f)]
    assert all(0.4 < d < 0.6 for d in density)  # 3 allowed pairs x 200 steps per update
    runs = [
        evaluate("navigation-v0", make_policy(str(result.run_dir), "navigation-v0", seed=s), episodes=2)
        for s in (0, 0, 1)
    ]
    assert runs[0]["mean_return"] == runs[1]["mean_return"]  # the policy's DAG draws follow its seed
    with pytest.raises(ValueError, match="no density to anneal"):
        Args(edge_prob=0.5)
    with pytest.raises(ValueError, match="edge_prob must lie in"):
        Args(edge_prob=-0.1, anneal=False)
    with pytest.raises(ValueError, match="edge_prob: 0.5 -> 0.25"):
        train(
            Args(out=tmp_path / "r", resume=True, edge_prob=0.25, anneal=False, **dict(TINY, total_steps=800))
        )


@pytest.mark.parametrize("context", ["joint", "neighbours"])
def test_recurrent_actor_trains_replays_its_rollout_and_round_trips(tmp_path, context: str) -> None:
    # With a vanishing learning rate the policy never moves, so every minibatch's recomputed
    # log-probabilities (memories re-run over each copy's rollout) must equal the rollout's. The
    # factors' output gain is 0.01, so a wrong memory moves the KL by only ~1e-7: hence 1e-9.
    still = train(
        Args(
            out=tmp_path / "still",
            env_kwargs=("max_cycles=15",),  # episodes start inside the rollouts: memories restart
            recurrent=8,
            context=context,
            lr=1e-30,
            **dict(TINY, total_steps=800),
        )
    )
    with (still.run_dir / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert all(abs(float(r["losses/approx_kl"])) < 1e-9 and float(r["losses/clipfrac"]) == 0.0 for r in rows)
    result = train(Args(out=tmp_path / "r", recurrent=8, context=context, **TINY))
    data = torch.load(result.run_dir / "policy.pt", weights_only=True)
    assert data["actor_config"]["recurrent"] == 8 and "gru.weight_hh" in data["actor"]
    policy = make_policy(str(result.run_dir), "navigation-v0")
    assert np.isfinite(evaluate("navigation-v0", policy, episodes=2)["mean_return"])
    with pytest.raises(ValueError, match="needs the task"):
        policy.act(np.zeros((1, 3, policy.actor.obs_dim), dtype=np.float32))
    with pytest.raises(ValueError, match="recurrent: 8 -> 0"):
        train(Args(out=tmp_path / "r", resume=True, context=context, **dict(TINY, total_steps=800)))
    with pytest.raises(ValueError, match="copy sequences"):
        Args(recurrent=8, num_envs=2, minibatches=4)


def test_schedule_holds_then_decays_then_raises_alpha() -> None:
    args = Args(hold=0.4, decay_end=0.7, alpha_start=0.1, alpha_end=1.0)
    assert sparsity_schedule(0.0, args) == (1.0, 0.1)
    assert sparsity_schedule(0.39, args) == (1.0, 0.1)
    assert sparsity_schedule(0.55, args)[0] == pytest.approx(0.5)
    assert sparsity_schedule(0.7, args) == (0.0, 0.1)
    assert sparsity_schedule(0.85, args)[1] == pytest.approx(0.55)
    assert sparsity_schedule(1.0, args)[1] == pytest.approx(1.0)


def test_threshold_zero_and_large_alpha_empty_the_graph_and_give_an_independent_policy(tmp_path) -> None:
    result = train(
        Args(
            out=tmp_path / "r",
            hold=0.0,
            decay_end=0.0,
            alpha_start=50.0,
            alpha_end=50.0,
            lr=3e-3,
            **dict(TINY, total_steps=1600),
        )
    )
    with (result.run_dir / "progress.csv").open() as f:
        density = [float(r["charts/edge_density"]) for r in csv.DictReader(f)]
    assert density[-1] < 0.05 < density[0], density
    policy, _ = load_policy(result.run_dir / "policy.pt")
    actor = policy.actor
    import swarmzoo

    venv = swarmzoo.make_vec("navigation-v0", 64)
    obs = torch.as_tensor(venv.reset(seed=99)[0])  # observations like those it trained on
    graph = actor.sample_graph(obs, deterministic=True)
    assert graph.sum() == 0
    independent = actor.actor(torch.cat([obs, torch.zeros(64, 3, 3 * actor.n_actions)], dim=-1)).argmax(-1)
    assert np.array_equal(policy.act(obs.numpy()), independent.numpy())


def test_resume_and_errors(tmp_path) -> None:
    out = tmp_path / "run"
    first = train(Args(out=out, checkpoint_every=1, **TINY))
    resumed = train(Args(out=out, resume=True, checkpoint_every=1, **dict(TINY, total_steps=800)))
    assert (first.global_step, resumed.global_step) == (400, 800)
    with pytest.raises(ValueError, match="bayes_net training checkpoint, not a policy"):
        load_policy(out / "checkpoints" / "latest.pt")
    with pytest.raises(ValueError, match="context: 'joint' -> 'neighbours'"):
        train(Args(out=out, resume=True, context="neighbours", **dict(TINY, total_steps=1200)))
    with pytest.raises(ValueError, match="discrete actions"):
        train(Args(env="coverage-v0", out=tmp_path / "c", **TINY))
    with pytest.raises(ValueError, match="context"):
        Args(context="global")
    with pytest.raises(ValueError, match="hold <= decay_end"):
        Args(hold=0.8, decay_end=0.5)
    policy = make_policy(str(out), "navigation-v0")
    with pytest.raises(ValueError, match="trained on 3 robots"):
        policy.act(np.zeros((1, 5, policy.actor.obs_dim), dtype=np.float32))


def test_cli_trains_bayes_net(tmp_path) -> None:
    from swarmzoo.cli import main

    out = tmp_path / "cli"
    main(
        [
            "train",
            "bayes-net",
            "--total-steps",
            "200",
            "--num-envs",
            "2",
            "--rollout-steps",
            "50",
            "--no-progress",
            "--no-tensorboard",
            "--out",
            str(out),
        ]
    )
    assert (out / "policy.pt").is_file()


# -- the tabular coordination game ---------------------------------------------------------------


def test_joint_probabilities_are_distributions_for_both_policy_classes() -> None:
    gen = torch.Generator().manual_seed(0)
    for policy, rows in (("independent", [1, 1, 1]), ("bayes_net", [1, 2, 4])):
        logits = [torch.randn(r, 2, generator=gen, dtype=torch.float64) for r in rows]
        p = joint_probabilities(logits, policy, 2)
        assert p.shape == (2, 2, 2) and float(p.sum()) == pytest.approx(1.0)
    # bayes_net: the third agent's table row is picked by the first two agents' actions
    logits = [torch.zeros(1, 2), torch.zeros(2, 2), torch.tensor([[9.0, 0], [0, 9.0], [9.0, 0], [0, 9.0]])]
    p = joint_probabilities(logits, "bayes_net", 2)
    assert p[0, 1, 1] > 0.24 and p[0, 1, 0] < 0.01


@pytest.mark.slow
def test_bayes_net_solves_the_climbing_game_and_independent_policies_do_not() -> None:
    for seed in range(5):
        bn = train_tabular(CLIMBING, "bayes_net", seed=seed)
        ind = train_tabular(CLIMBING, "independent", seed=seed)
        assert bn.best_joint_action == (0, 0) and bn.expected_payoff > 10.5, (seed, bn.expected_payoff)
        assert ind.best_joint_action != (0, 0) and ind.expected_payoff < 8.0, (seed, ind.expected_payoff)


def test_game_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="policy"):
        train_tabular(CLIMBING, "joint")
    with pytest.raises(ValueError, match="same number of actions"):
        train_tabular(np.zeros((2, 3)), "independent")


def test_render_a_bayes_net_policy(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    from swarmzoo.cli import main

    result = train(Args(out=tmp_path / "r", **TINY))
    gif = tmp_path / "bn.gif"
    main(["render", "navigation-v0", "--policy", str(result.run_dir), "--out", str(gif)])
    assert gif.is_file() and gif.stat().st_size > 1000


def test_capture_video_at_checkpoints(tmp_path) -> None:
    result = train(Args(out=tmp_path / "run", capture_video=True, checkpoint_every=1, **TINY))
    videos = sorted(p.name for p in (result.run_dir / "videos").glob("step_*.mp4"))
    assert videos == ["step_200.mp4", "step_400.mp4"]


@pytest.mark.slow
def test_bn_mappo_learns_the_all_zeros_convention_on_coordination_v0(tmp_path) -> None:
    """coordination-v0, 3 robots, 30,000 env steps: the greedy final policy earns at least 95%
    of the optimum (all zeros; random actions earn about 45%, the all-ones convention 77%), and
    its annealed DAG is nearly empty at execution. (benchmarks/bayes_net_coordination.py: every seed of
    MAPPO, IPPO and BN-MAPPO reaches the optimum at N = 5 and 10.)"""
    from swarmzoo.algorithms.common.logging import read_progress
    from swarmzoo.envs.coordination import Config, optimal_step_reward
    from swarmzoo.evaluation import evaluate

    result = train(
        Args(
            env="coordination-v0",
            env_kwargs=("n_agents=3",),
            total_steps=30_000,
            seed=0,
            out=tmp_path / "bn",
            progress=False,
            tensorboard=False,
        )
    )
    policy = make_policy(str(result.run_dir), "coordination-v0")
    score = evaluate("coordination-v0", policy, episodes=32, seed=1_000, n_agents=3)["mean_return"]
    optimum = 50 * optimal_step_reward(Config(n_agents=3))
    assert score >= 0.95 * optimum, (score, optimum)
    # annealing has (nearly) emptied the argmax DAG: 0.045 of the allowed edges in this run
    assert read_progress(result.run_dir)["charts/edge_density_argmax"][-1] < 0.1
