"""Dec-POMFC: kernel embedding, the decentralised decision rule, smoke training, files, errors."""

from __future__ import annotations

import csv
import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from gymnasium import spaces
from scipy import integrate

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.agents.mean_field import (
    ClosedLoopPolicy,
    DecisionRule,
    HistogramEmbedding,
    KernelEmbedding,
    MeanFieldPolicy,
    RuleSpec,
    farthest_points,
    fit_rule,
    grid_size,
    rule_feature_indices,
)
from swarmzoo.agents.policy_files import load_policy
from swarmzoo.algorithms.mean_field import Args, train
from swarmzoo.envs.core.collective import MeanField
from swarmzoo.evaluation import evaluate

TINY = dict(
    total_steps=400,
    num_envs=2,
    rollout_steps=50,
    epochs=2,
    minibatches=2,
    rule_centres=8,
    schedule_agents=30,
    progress=False,
    tensorboard=False,
)


def _field(samples: np.ndarray, periodic=(True, True, True)) -> MeanField:
    S = samples.shape[-1]
    return MeanField(
        samples=samples,
        names=tuple(f"f{s}" for s in range(S)),
        low=np.array([-2.0, -1.0, -np.pi][:S]),
        high=np.array([2.0, 3.0, np.pi][:S]),
        periodic=np.array(periodic[:S]),
    )


def _random_samples(rng, E: int, N: int) -> np.ndarray:
    low, high = np.array([-2.0, -1.0, -np.pi]), np.array([2.0, 3.0, np.pi])
    return low + (high - low) * rng.random((E, N, 3))


# -- kernel embedding ---------------------------------------------------------------------------


def test_embedding_is_permutation_invariant() -> None:
    rng = np.random.default_rng(0)
    x = _random_samples(rng, 2, 40)
    emb = KernelEmbedding(np.array([True, False, True]), per_feature=5)
    shuffled = x[:, rng.permutation(40)]
    np.testing.assert_allclose(
        emb(_field(x, (True, False, True))), emb(_field(shuffled, (True, False, True))), rtol=1e-6
    )


def test_embedding_matches_a_direct_computation() -> None:
    """Brute force over centres and robots, with the uniform normaliser integrated by quad."""
    rng = np.random.default_rng(1)
    periodic = (True, False, True)
    x = _random_samples(rng, 1, 7)
    mf = _field(x, periodic)
    c, bw = 4, 0.8
    emb = KernelEmbedding(np.array(periodic), per_feature=c, bandwidth=bw)(mf)[0]
    sigma = bw / c

    def k(u: float, centre: float, wrap: bool) -> float:
        d = abs(u - centre)
        if wrap:
            d = min(d, 1 - d)
        return float(np.exp(-0.5 * (d / sigma) ** 2))

    centres = [(i + 0.5) / c for i in range(c)]
    uniform = [[integrate.quad(k, 0, 1, args=(ci, w), points=[ci])[0] for ci in centres] for w in periodic]
    u = (x[0] - mf.low) / (mf.high - mf.low)
    expected = []
    for idx in itertools.product(range(c), repeat=3):
        total = 0.0
        for robot in u:
            total += np.prod(
                [k(robot[s], centres[idx[s]], periodic[s]) / uniform[s][idx[s]] for s in range(3)]
            )
        expected.append(total / len(u))
    np.testing.assert_allclose(emb, expected, rtol=1e-4)


def test_embedding_of_a_uniform_swarm_is_about_one_and_is_linear_in_mu() -> None:
    rng = np.random.default_rng(2)
    emb = KernelEmbedding(np.array([True, True, True]), per_feature=4)
    big = emb(_field(_random_samples(rng, 1, 200_000)))[0]
    np.testing.assert_allclose(big, 1.0, atol=0.05)
    a, b = _random_samples(rng, 1, 30), _random_samples(rng, 1, 10)
    union = emb(_field(np.concatenate([a, b], axis=1)))[0]
    np.testing.assert_allclose(union, (30 * emb(_field(a))[0] + 10 * emb(_field(b))[0]) / 40, rtol=1e-5)


def test_embedding_changes_smoothly_with_the_swarm() -> None:
    """Moving one robot by eps moves the embedding by O(eps / N); no jumps as a robot crosses a
    cell border (a hard histogram jumps by a whole robot's mass)."""
    rng = np.random.default_rng(3)
    emb = KernelEmbedding(np.array([True, True, True]), per_feature=6)
    x = _random_samples(rng, 1, 50)
    x[0, 0] = [0.0, 1.0, 0.0]  # on a histogram cell border along features 0 and 2
    base = emb(_field(x))[0]
    steps = []
    for eps in (1e-2, 1e-3, 1e-4):
        y = x.copy()
        y[0, 0, 0] += eps
        steps.append(np.abs(emb(_field(y))[0] - base).max())
    assert steps[0] < 0.05 and steps[1] < steps[0] / 5 and steps[2] < steps[1] / 5
    hist = HistogramEmbedding(3, 6)
    y = x.copy()
    y[0, 0, 0] -= 1e-6
    assert np.abs(hist(_field(y))[0] - hist(_field(x))[0]).max() > 1.0


def test_histogram_embedding_is_the_mean_field_histogram() -> None:
    rng = np.random.default_rng(4)
    mf = _field(_random_samples(rng, 3, 25))
    out = HistogramEmbedding(3, 4)(mf)
    np.testing.assert_allclose(out, mf.histogram(4) * 64, rtol=1e-6)
    np.testing.assert_allclose(out.mean(axis=1), 1.0, rtol=1e-6)


def test_grid_size_follows_the_budget() -> None:
    assert [grid_size(256, s) for s in (1, 2, 3, 4)] == [256, 16, 6, 4]
    with pytest.raises(ValueError, match="mf_centres=10 gives fewer than 2"):
        grid_size(10, 4)


# -- the decision rule ---------------------------------------------------------------------------


def _rule(obs_dim: int = 6, features=(1, 2), n_actions: int = 3) -> RuleSpec:
    rng = np.random.default_rng(5)
    obs = rng.normal(size=(500, obs_dim))
    return fit_rule(obs[:, list(features)], features, obs_dim, 6, 1.0, spaces.Discrete(n_actions), seed=0)


def test_rule_weights_are_normalised_and_the_rule_reads_only_its_features() -> None:
    spec = _rule()
    rule = DecisionRule(spec)
    rng = np.random.default_rng(6)
    obs = torch.as_tensor(rng.normal(size=(2, 9, 6)), dtype=torch.float32)
    w = rule.weights(rule.standardise(obs))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 9))
    xi = torch.as_tensor(rng.normal(size=(2, spec.n_centres, spec.param_dim)), dtype=torch.float32)
    probs = rule.distribution(xi, rule.standardise(obs)).probs
    other = obs.clone()
    other[..., [0, 3, 4, 5]] = 99.0  # entries the rule does not read
    torch.testing.assert_close(rule.distribution(xi, rule.standardise(other)).probs, probs)


def test_a_robots_action_depends_only_on_its_observation_and_the_clock() -> None:
    """Perturb every other robot: robot 0's action distribution does not change."""
    spec = _rule()
    rng = np.random.default_rng(7)
    schedule = torch.as_tensor(rng.normal(size=(5, spec.n_centres, spec.param_dim)), dtype=torch.float32)
    policy = MeanFieldPolicy(DecisionRule(spec), schedule)
    obs = rng.normal(size=(1, 20, 6)).astype(np.float32)
    before = policy.distribution(obs, np.array([2])).probs[0, 0]
    obs2 = obs.copy()
    obs2[0, 1:] = rng.normal(size=(19, 6))
    torch.testing.assert_close(policy.distribution(obs2, np.array([2])).probs[0, 0], before)
    # The clock selects the rule; past the schedule the last rule holds.
    assert not torch.allclose(policy.distribution(obs, np.array([3])).probs[0, 0], before)
    torch.testing.assert_close(
        policy.distribution(obs, np.array([40])).probs, policy.distribution(obs, np.array([4])).probs
    )
    # act() reads the task for its clock only: an object with nothing but `steps` is enough.
    actions = policy.act(obs, SimpleNamespace(steps=np.array([2])))
    assert actions.shape == (1, 20) and actions.dtype == np.int64


def test_robots_with_their_own_clocks_apply_their_own_rules() -> None:
    spec = _rule()
    rng = np.random.default_rng(3)
    schedule = torch.as_tensor(rng.normal(size=(6, spec.n_centres, spec.param_dim)), dtype=torch.float32)
    policy = MeanFieldPolicy(DecisionRule(spec), schedule)
    obs = rng.normal(size=(3, 30, 6)).astype(np.float32)
    steps = np.array([0, 2, 5])
    synced = np.repeat(steps[:, None], 30, axis=1)
    np.testing.assert_array_equal(
        policy.act_at_clocks(obs, synced), policy.act(obs, SimpleNamespace(steps=steps))
    )
    clocks = rng.integers(0, 8, size=(3, 30))  # past the schedule the last rule holds
    got = policy.act_at_clocks(obs, clocks)
    for e, i in itertools.product(range(3), range(30)):
        alone = policy.act(obs[e : e + 1, i : i + 1], SimpleNamespace(steps=np.array([clocks[e, i]])))
        assert got[e, i] == alone[0, 0]
    with pytest.raises(ValueError, match="clocks must have shape"):
        policy.act_at_clocks(obs, clocks[:, :5])
    with pytest.raises(ValueError, match="clock must be >= 0"):
        policy.act_at_clocks(obs, -synced - 1)


def test_in_the_env_moving_unseen_robots_does_not_change_a_robots_action(tmp_path) -> None:
    """Flocking: robots outside robot 0's sensing radius are moved and turned; robot 0's
    observation, hence its action distribution, is unchanged."""
    result = train(Args(env="flocking-v0", env_kwargs=("n_agents=40",), out=tmp_path / "r", **TINY))
    policy, _ = load_policy(result.run_dir / "policy.pt")
    venv = swarmzoo.make_vec("flocking-v0", 1, n_agents=100)
    venv.reset(seed=3)
    task = venv.task
    before = policy.distribution(task.observe(), task.steps).probs[0, 0].clone()
    cfg = task.config
    d = task.pos[0] - task.pos[0, 0]
    d -= task.arena.width * np.round(d / task.arena.width)
    far = np.flatnonzero(np.linalg.norm(d, axis=1) > 1.2 * cfg.sensing_radius)
    assert len(far) > 50
    task.heading[0, far] = np.random.default_rng(0).uniform(-np.pi, np.pi, len(far))
    task.pos[0, far] = task.pos[0, far[::-1]]  # shuffle the far robots among far places
    task._sense()  # re-sense the neighbourhoods as a step would
    obs = task.observe()
    after = policy.distribution(obs, task.steps).probs[0, 0]
    torch.testing.assert_close(after, before)


def test_rule_spec_errors_name_the_problem() -> None:
    good = _rule().to_dict()
    with pytest.raises(ValueError, match="out of range"):
        RuleSpec.from_dict(dict(good, features=(1, 9)))
    with pytest.raises(ValueError, match="bandwidth"):
        RuleSpec.from_dict(dict(good, bandwidth=0.0))
    with pytest.raises(ValueError, match="observations of size 6"):
        DecisionRule(_rule()).standardise(torch.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="distinct observations"):
        fit_rule(np.zeros((100, 2)), (0, 1), 3, 4, 1.0, spaces.Discrete(2), seed=0)
    with pytest.raises(ValueError, match="out of range"):
        fit_rule(np.zeros((100, 2)), (0, 3), 3, 4, 1.0, spaces.Discrete(2), seed=0)
    with pytest.raises(ValueError, match="schedule"):
        MeanFieldPolicy(DecisionRule(_rule()), torch.zeros(0, 6, 3))


def test_farthest_points_covers_the_extremes() -> None:
    z = np.concatenate([np.random.default_rng(8).normal(0, 0.1, (500, 2)), [[5.0, 0.0], [-5.0, 0.0]]])
    chosen = set(farthest_points(z, 3).tolist())
    assert {500, 501} <= chosen


# -- the rule's features, named by the env ---------------------------------------------------------

# The indices the trainer read before the envs named their entries (a seeded run must not change).
DEFAULT_RULE_FEATURES = {
    "flocking-v0": (0, 1, 2, 3, 4),
    "kuramoto-v0": (0, 1, 2, 3),
    "aggregation-v0": (0, 1, 2),
}


@pytest.mark.parametrize(
    "env_id,kwargs",
    [
        ("flocking-v0", {}),
        ("flocking-v0", {"heading_bins": 0, "k_robots": 0, "compass": False}),
        ("flocking-v0", {"heading_bins": 3, "k_robots": 5}),
        ("kuramoto-v0", {}),
        ("kuramoto-v0", {"phase_bins": 0, "graph": "complete"}),
        ("aggregation-v0", {}),
        ("aggregation-v0", {"k_robots": 0}),
    ],
)
def test_envs_name_every_observation_entry_and_the_rules_default_features(env_id, kwargs) -> None:
    venv = swarmzoo.make_vec(env_id, 1, n_agents=6, **kwargs)
    task = venv.task
    names = task.observation_names(task.config)
    obs, _ = venv.reset(seed=0)
    assert len(names) == len(set(names)) == obs.shape[-1] == task.observation_size(task.config)
    assert set(task.mean_field_rule_features) <= set(names)
    assert rule_feature_indices(task, None, env_id) == DEFAULT_RULE_FEATURES[env_id]
    venv.close()


def test_rule_features_are_looked_up_by_name() -> None:
    venv = swarmzoo.make_vec("flocking-v0", 1, n_agents=6, k_robots=2)
    task = venv.task
    assert rule_feature_indices(task, ("heading_sin", "rel_heading_cos", "nearest_1_valid")) == (1, 3, 18)
    with pytest.raises(ValueError, match="unknown rule feature") as err:
        rule_feature_indices(task, ("heading_cos", "speed", 2), "flocking-v0")
    message = str(err.value)
    assert "['speed', 2]" in message and "heading_cos, heading_sin, neighbours" in message
    assert "nearest_1_valid" in message  # every valid name, the env's own layout
    # A task that names nothing: read whole by default, and names are refused.
    bare = SimpleNamespace(name="bare_v0", observation_space=spaces.Box(-1, 1, (3,)), config=None)
    assert rule_feature_indices(bare) == (0, 1, 2)
    with pytest.raises(ValueError, match="bare_v0 does not name its observation entries"):
        rule_feature_indices(bare, ("x",))
    venv.close()


def test_train_reads_the_named_rule_features(tmp_path) -> None:
    result = train(
        Args(
            out=tmp_path / "r",
            rule_features=("heading_cos", "neighbours"),
            env_kwargs=("n_agents=6",),
            **TINY,
        )
    )
    data = torch.load(result.run_dir / "policy.pt", weights_only=True)
    assert tuple(data["rule_spec"]["features"]) == (0, 2)
    assert data["args"]["rule_features"] == ["heading_cos", "neighbours"]


def test_cli_rule_features_take_names_and_refuse_unknown_ones(tmp_path) -> None:
    from swarmzoo.cli import main

    base = ["train", "mean-field", "--env", "kuramoto-v0", "--env-kwargs", "n_agents=6"]
    base += ["--total-steps", "100", "--num-envs", "1", "--rollout-steps", "50", "--rule-centres", "4"]
    base += ["--schedule-agents", "10", "--no-progress", "--no-tensorboard"]
    main([*base, "--rule-features", "frequency", "phase_diff_sin", "--out", str(tmp_path / "ok")])
    data = torch.load(tmp_path / "ok" / "policy.pt", weights_only=True)
    assert tuple(data["rule_spec"]["features"]) == (0, 3)
    with pytest.raises(SystemExit, match=r"swarmzoo: error: unknown rule feature\(s\) \['phase'\]") as err:
        main([*base, "--rule-features", "phase", "--out", str(tmp_path / "bad")])
    assert "frequency, neighbours, phase_diff_cos, phase_diff_sin, phase_bin_0" in str(err.value)
    assert not (tmp_path / "bad").exists()


# -- training ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env_id,extra",
    [
        ("flocking-v0", {}),
        ("kuramoto-v0", {"gradient": "lifted"}),
        ("aggregation-v0", {"representation": "histogram"}),
        ("flocking-v0", {"env_kwargs": ("n_agents=8", "continuous_actions=True")}),
    ],
)
def test_smoke_train_writes_a_policy_that_runs_at_any_size(tmp_path, env_id: str, extra: dict) -> None:
    kwargs = dict(TINY, env=env_id, env_kwargs=("n_agents=8",), out=tmp_path / "run")
    kwargs.update(extra)
    result = train(Args(**kwargs))
    assert result.global_step == 400 and np.isfinite(result.final_return)
    run = result.run_dir
    with (run / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and all(np.isfinite(float(r["losses/value_loss"])) for r in rows)
    assert any(r["charts/episode_return"] for r in rows)
    data = torch.load(run / "policy.pt", weights_only=True)  # plain tensors only
    assert data["algo"] == "mean_field" and data["schedule"].shape[0] == 100
    policy = make_policy(str(run), env_id)
    assert isinstance(policy, MeanFieldPolicy)
    env_kwargs = dict(kv.split("=") for kv in kwargs["env_kwargs"])
    cont = env_kwargs.get("continuous_actions") == "True"
    for n in (3, 40):
        out = evaluate(env_id, policy, episodes=1, n_agents=n, continuous_actions=cont)
        assert np.isfinite(out["mean_return"])
    closed = ClosedLoopPolicy(run)
    assert np.isfinite(
        evaluate(env_id, closed, episodes=1, n_agents=20, continuous_actions=cont)["mean_return"]
    )


def test_resume_continues_from_the_checkpoint(tmp_path) -> None:
    out = tmp_path / "run"
    base = dict(TINY, total_steps=800, checkpoint_every=2, env_kwargs=("n_agents=6",))
    first = train(Args(out=out, **dict(base, total_steps=400)))
    assert first.global_step == 400
    resumed = train(Args(out=out, resume=True, **base))
    assert resumed.global_step == 800
    with (out / "progress.csv").open() as f:
        steps = [int(r["global_step"]) for r in csv.DictReader(f)]
    assert steps == [100, 200, 300, 400, 500, 600, 700, 800]


def test_same_seed_trains_the_same_policy(tmp_path) -> None:
    files = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        train(Args(out=tmp_path / name, seed=seed, env_kwargs=("n_agents=6",), **TINY))
        files.append(torch.load(tmp_path / name / "policy.pt", weights_only=True))
    assert torch.equal(files[0]["schedule"], files[1]["schedule"])
    assert not torch.equal(files[0]["schedule"], files[2]["schedule"])


def test_bad_arguments_and_envs_without_a_mean_field_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="rule_centres"):
        Args(rule_centres=0)
    with pytest.raises(ValueError, match="gradient"):
        Args(gradient="exact")
    with pytest.raises(ValueError, match="representation"):
        Args(representation="moments")
    with pytest.raises(ValueError, match="no mean-field view"):
        train(Args(env="navigation-v0", out=tmp_path / "nav", **TINY))
    with pytest.raises(ValueError, match=r"unknown rule feature\(s\) \['heading'\] for flocking-v0"):
        train(Args(out=tmp_path / "f", rule_features=("heading",), env_kwargs=("n_agents=6",), **TINY))
    assert not (tmp_path / "f").exists()


def test_cli_trains_and_evaluates(tmp_path, capsys) -> None:
    from swarmzoo.cli import main

    out = tmp_path / "cli"
    main(
        [
            "train",
            "mean-field",
            "--env",
            "kuramoto-v0",
            "--env-kwargs",
            "n_agents=6",
            "--total-steps",
            "200",
            "--num-envs",
            "2",
            "--rollout-steps",
            "50",
            "--rule-centres",
            "6",
            "--schedule-agents",
            "20",
            "--no-progress",
            "--no-tensorboard",
            "--out",
            str(out),
        ]
    )
    assert (out / "policy.pt").is_file()
    main(["evaluate", str(out), "--episodes", "1", "--n-agents", "12", "--json"])
    assert '"mean_return"' in capsys.readouterr().out
    main(["evaluate", str(out), "--episodes", "1", "--sample", "--json"])
    assert '"sample": true' in capsys.readouterr().out


def test_render_a_trained_policy(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    from swarmzoo.cli import main

    result = train(Args(out=tmp_path / "r", env_kwargs=("n_agents=6",), **TINY))
    gif = tmp_path / "mf.gif"
    main(
        [
            "render",
            "flocking-v0",
            "--policy",
            str(result.run_dir),
            "--out",
            str(gif),
            "--env-kwargs",
            "max_cycles=10",
        ]
    )
    assert gif.is_file() and gif.stat().st_size > 1000


def test_robots_outside_the_box_count_at_its_edge() -> None:
    emb = KernelEmbedding(np.array([False, False]), per_feature=4)
    mf = MeanField(
        samples=np.array([[[5.0, 0.5], [-7.0, 0.5]]]),  # far beyond x's box [0, 1]
        names=("x", "y"),
        low=np.zeros(2),
        high=np.ones(2),
        periodic=np.array([False, False]),
    )
    edge = MeanField(np.array([[[1.0, 0.5], [0.0, 0.5]]]), mf.names, mf.low, mf.high, mf.periodic)
    np.testing.assert_allclose(emb(mf), emb(edge))
    assert emb(mf).sum() > 1.0


def test_embedding_and_args_refuse_bad_settings() -> None:
    with pytest.raises(ValueError, match="mf_bandwidth"):
        KernelEmbedding(np.array([True]), per_feature=4, bandwidth=1e-4)
    with pytest.raises(ValueError, match="minibatches"):
        Args(num_envs=2, rollout_steps=3, minibatches=7)
    with pytest.raises(ValueError, match="rule_features"):
        Args(rule_features=())
    with pytest.raises(ValueError, match="histogram built for 2 features"):
        HistogramEmbedding(2, 4)(_field(np.zeros((1, 3, 3))))


def test_resume_refuses_changed_arguments_and_foreign_checkpoints(tmp_path) -> None:
    out = tmp_path / "run"
    base = dict(TINY, env_kwargs=("n_agents=6",))
    train(Args(out=out, **base))
    with pytest.raises(ValueError, match="gradient: 'agents' -> 'lifted'"):
        train(Args(out=out, resume=True, gradient="lifted", **base))
    with pytest.raises(ValueError, match="mean_field training checkpoint, not a policy"):
        load_policy(out / "checkpoints" / "latest.pt")
    from swarmzoo.algorithms import ctde

    other = tmp_path / "ctde"
    ctde.train(
        ctde.Args(out=other, total_steps=200, num_envs=2, rollout_steps=50, progress=False, tensorboard=False)
    )
    with pytest.raises(ValueError, match="not 'mean_field_checkpoint'"):
        train(Args(out=other, resume=True, **base))


def test_the_schedule_swarm_keeps_the_training_density() -> None:
    from swarmzoo.algorithms.mean_field import _schedule_env_kwargs

    args = Args(schedule_agents=500)
    assert _schedule_env_kwargs(args, {"n_agents": 6})["n_agents"] == 500  # the arena grows with N
    fixed = {"n_agents": 6, "arena_width": 3.0}
    assert _schedule_env_kwargs(args, fixed) == fixed  # a fixed arena: the training swarm itself


def test_sampling_policies_follow_their_seed(tmp_path) -> None:
    result = train(Args(out=tmp_path / "r", env_kwargs=("n_agents=6", "arena_width=3.0"), **TINY))
    venv = swarmzoo.make_vec("flocking-v0", 2, n_agents=30)
    obs, _ = venv.reset(seed=0)
    acts = []
    for seed in (0, 0, 1):
        policy, _ = load_policy(result.run_dir / "policy.pt", deterministic=False, seed=seed)
        acts.append(policy.act(obs, venv.task))
    assert np.array_equal(acts[0], acts[1]) and not np.array_equal(acts[0], acts[2])
    assert isinstance(make_policy(str(result.run_dir), "flocking-v0", seed=3), MeanFieldPolicy)


def test_capture_video_at_checkpoints(tmp_path) -> None:
    result = train(Args(out=tmp_path / "run", capture_video=True, checkpoint_every=2, **TINY))
    videos = sorted(p.name for p in (result.run_dir / "videos").glob("step_*.mp4"))
    assert videos == ["step_200.mp4", "step_400.mp4"]  # 4 updates of 2 x 50 steps
