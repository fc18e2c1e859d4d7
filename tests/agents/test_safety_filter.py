"""The CBF safety filter (``swarmzoo.agents.safety``) on navigation-v0.

The guarantee: from a start where every pair is at least the safety radius ``Ds`` apart, under
adversarial nominal policies, no two filtered robots ever come closer than ``Ds`` and the filter
never reports infeasibility, while the same policies unfiltered do come closer (so the checks
can fail). Then: a state where no action can help is flagged (warn / raise), safe actions pass
unchanged, a trained MAPPO policy file is wrapped, actions stay in all three action layouts,
1,000 robots run, the CLI flags, and bad arguments are clear errors.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.agents.safety import (
    CBFSafetyFilter,
    InfeasibleError,
    SafetyFilterWarning,
    make_safety_filter,
    project_box_polygon,
)
from swarmzoo.envs.core.arena import min_image
from swarmzoo.envs.core.neighbors import knn
from swarmzoo.envs.core.physics import DISCRETE_DIRECTIONS
from swarmzoo.envs.core.safety import nearest_robot_distance
from swarmzoo.evaluation import evaluate

DS = 0.3  # safety radius (robot_radius 0.1: contacts at 0.2)
TOL = 1e-9


class Adversary:
    """Full force toward the swarm's centroid, toward the nearest robot, or in a random direction,
    in the task's action layout."""

    def __init__(self, kind: str, seed: int = 0) -> None:
        self.kind = kind
        self.rng = np.random.default_rng(seed)

    def direction(self, task) -> np.ndarray:
        pos = np.ascontiguousarray(task.pos)
        if self.kind == "centroid":
            return min_image(pos.mean(axis=1, keepdims=True) - pos, task.arena)
        if self.kind == "nearest":
            return knn(pos, pos, 1, task.arena, exclude_self=True).delta[:, :, 0]
        return self.rng.normal(size=pos.shape)

    def act(self, obs, task) -> np.ndarray:
        d = self.direction(task)
        return to_actions(d / np.maximum(np.abs(d).max(axis=-1, keepdims=True), 1e-12), task)


def to_actions(u: np.ndarray, task) -> np.ndarray:
    """Normalised forces ``(E, N, 2)`` in ``[-1, 1]`` as actions of ``task``'s layout."""
    cfg = task.config
    if not cfg.continuous_actions:
        return np.einsum("end,ad->ena", u, DISCRETE_DIRECTIONS[1:]).argmax(axis=-1) + 1
    u = np.clip(u, -1.0, 1.0)
    if cfg.mpe_compat:
        z = np.zeros(u.shape[:2])
        parts = [z, np.maximum(-u[..., 0], 0), np.maximum(u[..., 0], 0), np.maximum(-u[..., 1], 0)]
        return np.stack([*parts, np.maximum(u[..., 1], 0)], axis=-1).astype(np.float32)
    return u.astype(np.float32)


def obstacle_gaps(task, Ds: float) -> np.ndarray:
    """Per copy, the smallest robot-centre to obstacle-centre distance minus
    ``obstacle_radius + Ds / 2`` (inf without obstacles)."""
    if task.config.n_obstacles == 0:
        return np.full(task.n_envs, np.inf)
    delta = min_image(task.pos[:, :, None] - task.obstacles[:, None], task.arena)
    gap = np.linalg.norm(delta, axis=-1) - task.obstacle_radius[:, None] - Ds / 2
    return gap.min(axis=(1, 2))


def safe_start(venv, seed: int, Ds: float = DS):
    """Reset, then redraw the copies whose robots start closer than ``Ds`` (or inside an
    obstacle's margin): every copy starts safe. Deterministic in ``seed``."""
    venv.reset(seed=seed)
    task = venv.task
    for _ in range(500):
        bad = (nearest_robot_distance(task.pos, task.arena).min(axis=1) < Ds) | (obstacle_gaps(task, Ds) < 0)
        if not bad.any():
            return task
        task.reset(np.flatnonzero(bad))
    raise AssertionError("no safe start found")


def rollout(task, policy, filt: CBFSafetyFilter | None = None, Ds: float = DS):
    """One episode of ``max_cycles`` steps; per copy the smallest pair distance and obstacle gap
    over it, and whether the filter ever flagged a robot."""
    sep = nearest_robot_distance(task.pos, task.arena).min(axis=1)
    gap = obstacle_gaps(task, Ds)
    flagged = np.zeros(task.n_envs, dtype=bool)
    for _ in range(task.max_cycles):
        actions = (filt or policy).act(task.observe(), task)
        if filt is not None:
            flagged |= filt.last_infeasible.any(axis=1)
        task.step(actions)
        sep = np.minimum(sep, nearest_robot_distance(task.pos, task.arena).min(axis=1))
        gap = np.minimum(gap, obstacle_gaps(task, Ds))
    return sep, gap, flagged


SCENARIOS = [("centroid", 20), ("nearest", 8), ("random", 12)]


@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
@pytest.mark.parametrize("boundary", ["none", "torus", "walls"])
def test_filtered_robots_never_come_closer_than_the_safety_radius(boundary, continuous) -> None:
    for k, (kind, n) in enumerate(SCENARIOS):
        n = n if continuous else n + 3  # N = 8 .. 23 over the scenarios
        kwargs = dict(n_agents=n, boundary=boundary, continuous_actions=continuous, max_cycles=40)
        venv = swarmzoo.make_vec("navigation-v0", 6, **kwargs)
        seed = 100 * k + 7
        filt = CBFSafetyFilter(Adversary(kind, seed), DS, on_infeasible="raise")
        sep, _, flagged = rollout(safe_start(venv, seed), None, filt)
        assert not flagged.any()  # feasible from a safe start: never infeasible (raise is on)
        assert sep.min() >= DS - TOL, (kind, sep.min())
        assert filt.stats["interventions"] > 0 and filt.stats["infeasible"] == 0
        raw, _, _ = rollout(safe_start(venv, seed), Adversary(kind, seed))
        assert raw.min() < DS, (kind, raw.min())  # unfiltered they collide: the check can fail
        venv.close()


@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_obstacles_and_the_conditional_guarantee(continuous) -> None:
    """With obstacles robot centres stay obstacle_radius + Ds/2 from obstacle centres; from
    random (possibly unsafe) starts, copies never flagged stay safe."""
    kwargs = dict(n_agents=10, n_obstacles=4, boundary="none", continuous_actions=continuous, max_cycles=30)
    venv = swarmzoo.make_vec("navigation-v0", 6, **kwargs)
    filt = CBFSafetyFilter(Adversary("centroid"), DS, on_infeasible="raise")
    sep, gap, flagged = rollout(safe_start(venv, 3), None, filt)
    assert not flagged.any() and sep.min() >= DS - TOL and gap.min() >= -TOL
    raw_sep, raw_gap, _ = rollout(safe_start(venv, 3), Adversary("centroid"))
    assert raw_sep.min() < DS
    # Random starts: robots spawned closer than Ds are flagged (the guarantee cannot hold);
    # the copies never flagged keep every pair Ds apart.
    venv.reset(seed=11)
    filt = CBFSafetyFilter(Adversary("nearest"), DS, on_infeasible="ignore")
    task = venv.task
    unsafe_start = nearest_robot_distance(task.pos, task.arena).min(axis=1) < DS
    sep, gap, flagged = rollout(task, None, filt)
    assert unsafe_start.any() and flagged[unsafe_start].all()
    clean = ~flagged
    assert clean.any() and sep[clean].min() >= DS - TOL and gap[clean].min() >= -TOL


def test_osqp_solver_keeps_the_guarantee_too() -> None:
    venv = swarmzoo.make_vec(
        "navigation-v0", 4, n_agents=8, boundary="torus", continuous_actions=True, max_cycles=30
    )
    exact = CBFSafetyFilter(Adversary("centroid"), DS, on_infeasible="raise")
    osqp = CBFSafetyFilter(Adversary("centroid"), DS, solver="osqp", on_infeasible="raise")
    sep_osqp, _, _ = rollout(safe_start(venv, 5), None, osqp)
    sep_exact, _, _ = rollout(safe_start(venv, 5), None, exact)
    assert min(sep_osqp.min(), sep_exact.min()) >= DS - TOL
    assert osqp.stats["interventions"] > 0 and osqp.stats["infeasible"] == 0


def test_closed_form_projection_matches_a_qp_solver() -> None:
    qpsolvers = pytest.importorskip("qpsolvers")
    rng = np.random.default_rng(0)
    K, rows_each = 40, 5
    inner = rng.uniform(-0.5, 0.5, size=(K, 2))  # a point every robot's rows admit
    owner = np.repeat(np.arange(K), rows_each)
    coef = rng.normal(size=(K * rows_each, 2))
    coef /= np.linalg.norm(coef, axis=1, keepdims=True)
    rhs = np.einsum("rd,rd->r", coef, inner[owner]) - rng.uniform(0, 0.3, size=K * rows_each)
    target = rng.uniform(-1, 1, size=(K, 2))
    found, best = project_box_polygon(target, owner, coef, rhs)
    assert found.all()
    for k in range(K):
        rows = owner == k
        x = qpsolvers.solve_qp(
            sp.eye(2, format="csc"),
            -target[k],
            sp.csc_matrix(-coef[rows]),
            -rhs[rows],
            lb=-np.ones(2),
            ub=np.ones(2),
            solver="osqp",
            eps_abs=1e-10,
            eps_rel=1e-10,
            polishing=True,
            raise_error=False,
        )
        np.testing.assert_allclose(best[k], x, atol=1e-6)


@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_head_on_too_fast_is_flagged_warns_and_raises(continuous) -> None:
    """Two robots 0.7 apart closing at 3 per second: their next positions are 0.4 apart, and
    full braking still leaves them 0.275 apart after that (< Ds)."""
    venv = swarmzoo.make_vec("navigation-v0", 1, n_agents=2, boundary="none", continuous_actions=continuous)
    venv.reset(seed=0)
    task = venv.task
    task.pos[...] = [[[-0.35, 0.0], [0.35, 0.0]]]
    task.vel[...] = [[[1.5, 0.0], [-1.5, 0.0]]]
    nominal = Adversary("nearest")
    filt = CBFSafetyFilter(nominal, DS)
    with pytest.warns(SafetyFilterWarning, match=r"2 robot\(s\) in env copy 0 .*guarantee does not hold"):
        actions = filt.act(task.observe(), task)
    assert filt.last_infeasible.all() and filt.stats["infeasible"] == 2
    # What the filter does is the best it can: full braking.
    np.testing.assert_allclose(filt._unit_forces(actions, task)[0, :, 0], [-1, 1])
    with pytest.raises(RuntimeError, match="cannot be kept 0.3 apart"):
        CBFSafetyFilter(nominal, DS, on_infeasible="raise").act(task.observe(), task)
    assert isinstance(InfeasibleError("x"), RuntimeError)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CBFSafetyFilter(nominal, DS, on_infeasible="ignore").act(task.observe(), task)


LAYOUTS = {
    "discrete": ({}, DS),
    "continuous": ({"continuous_actions": True}, DS),
    "mpe_spread": ({"preset": "mpe_spread", "continuous_actions": True}, 0.4),  # robot_radius 0.15
}


class Fixed:
    """A policy that returns the actions it is given."""

    def __init__(self, actions) -> None:
        self.actions = actions

    def act(self, obs, task):
        return self.actions


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_safe_actions_pass_unchanged(layout) -> None:
    from swarmzoo.agents.policies import RandomPolicy

    kwargs, Ds = LAYOUTS[layout]
    venv = swarmzoo.make_vec("navigation-v0", 3, n_agents=3, **{"boundary": "none", **kwargs})
    venv.reset(seed=1)
    task = venv.task
    task.pos[...] = np.array([[-6.0, 0.0], [0.0, 6.0], [6.0, 0.0]])[None]  # far apart, at rest
    random = RandomPolicy(seed=2)
    for _ in range(3):
        nominal = random.act(task.observe(), task)
        filt = CBFSafetyFilter(Fixed(nominal.copy()), Ds)
        got = filt.act(task.observe(), task)
        np.testing.assert_array_equal(got, nominal)
        assert got.dtype == nominal.dtype and not filt.last_modified.any()
        assert filt.stats["interventions"] == 0 and filt.stats["robot_steps"] == 9


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_actions_stay_in_the_action_space(layout) -> None:
    kwargs, Ds = LAYOUTS[layout]
    venv = swarmzoo.make_vec("navigation-v0", 4, n_agents=6, **{"max_cycles": 25, **kwargs})
    task = safe_start(venv, 0, Ds)
    space = task.action_space
    for kind in ("centroid", "random"):
        filt = CBFSafetyFilter(Adversary(kind), Ds, on_infeasible="raise")
        for _ in range(25):
            actions = filt.act(task.observe(), task)
            if layout == "discrete":
                assert actions.dtype.kind == "i" and actions.min() >= 0 and actions.max() < 5
            else:
                assert all(space.contains(a) for a in actions.reshape(-1, *space.shape))
            task.step(actions)  # the env validates them too
        assert filt.stats["interventions"] > 0
    assert nearest_robot_distance(task.pos, task.arena).min() >= Ds - TOL


def test_wraps_a_trained_mappo_policy_file() -> None:
    """assets/policies/navigation-v0.pt (MAPPO, discrete, walls): evaluated with and without
    the filter, and from safe starts it keeps the robots Ds apart."""
    plain = evaluate("navigation-v0", make_policy("pretrained", "navigation-v0"), episodes=4)
    filt = CBFSafetyFilter(make_policy("pretrained", "navigation-v0"), DS, on_infeasible="ignore")
    safe = evaluate("navigation-v0", filt, episodes=4)
    assert np.isfinite(plain["mean_return"]) and np.isfinite(safe["mean_return"])
    assert filt.stats["robot_steps"] == 4 * 3 * 50 and filt.stats["interventions"] > 0
    venv = swarmzoo.make_vec("navigation-v0", 8)
    filt = CBFSafetyFilter(make_policy("pretrained", "navigation-v0"), DS, on_infeasible="raise")
    sep, _, flagged = rollout(safe_start(venv, 0), None, filt)
    assert not flagged.any() and sep.min() >= DS - TOL


@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_a_thousand_robots_run(continuous) -> None:
    venv = swarmzoo.make_vec(
        "navigation-v0", 1, n_agents=1000, boundary="torus", continuous_actions=continuous
    )
    venv.reset(seed=0)
    task = venv.task
    filt = CBFSafetyFilter(Adversary("random"), DS, on_infeasible="ignore")
    for _ in range(3):
        task.step(filt.act(task.observe(), task))
    assert filt.stats["robot_steps"] == 3000 and filt.stats["interventions"] > 0
    # Random spawns put some robots closer than Ds: those are flagged, honestly.
    assert filt.stats["infeasible"] > 0


def test_the_env_safety_radius_is_the_default() -> None:
    venv = swarmzoo.make_vec("navigation-v0", 2, safety_radius=0.35)
    task = safe_start(venv, 0, 0.35)
    filt = CBFSafetyFilter(Adversary("centroid"), on_infeasible="raise")
    sep, _, _ = rollout(task, None, filt, 0.35)
    assert sep.min() >= 0.35 - TOL and filt.report()["safety_radius"] == 0.35


def test_bad_arguments_are_clear_errors() -> None:
    policy = Adversary("random")
    for radius in (-0.3, 0.0, float("nan"), "0.3"):
        with pytest.raises(ValueError, match="safety_radius"):
            CBFSafetyFilter(policy, radius)
    with pytest.raises(ValueError, match="unknown or uninstalled QP solver 'nope'"):
        CBFSafetyFilter(policy, DS, solver="nope")
    with pytest.raises(ValueError, match="on_infeasible must be one of"):
        CBFSafetyFilter(policy, DS, on_infeasible="shout")
    with pytest.raises(ValueError, match="horizon"):
        CBFSafetyFilter(policy, DS, horizon=0)
    venv = swarmzoo.make_vec("navigation-v0", 1)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="needs a safety radius"):
        CBFSafetyFilter(policy).act(venv.task.observe(), venv.task)
    coverage = swarmzoo.make_vec("coverage-v0", 1)
    coverage.reset(seed=0)
    with pytest.raises(ValueError, match="not coverage-v0"):
        CBFSafetyFilter(policy, DS).act(coverage.task.observe(), coverage.task)
    with pytest.raises(ValueError, match="not 'flocking-v0'"):
        make_safety_filter("cbf", policy, "flocking-v0", DS)
    with pytest.raises(ValueError, match="unknown safety filter"):
        make_safety_filter("barrier", policy, "navigation-v0", DS)
    with pytest.raises(ValueError, match="--safety-radius needs --safety-filter"):
        make_safety_filter(None, policy, "navigation-v0", DS)
    assert make_safety_filter(None, policy, "navigation-v0") is None


def test_cli_evaluate_and_render_take_the_filter(capsys, tmp_path) -> None:
    from swarmzoo.cli import main

    argv = ["evaluate", "--env", "navigation-v0", "--policy", "heuristic", "--safety-filter", "cbf"]
    main([*argv, "--safety-radius", "0.3", "--episodes", "2", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    report = out["safety_filter"]
    assert report["name"] == "cbf" and report["safety_radius"] == 0.3
    assert report["robot_steps"] == 2 * 3 * 50 and report["interventions"] > 0 and "infeasible" in report
    main(
        ["render", "navigation-v0", "--out", str(tmp_path / "safe.gif"), "--env-kwargs", "max_cycles=4"]
        + ["--safety-filter", "cbf", "--safety-radius", "0.3"]
    )
    assert (tmp_path / "safe.gif").is_file() and "CBF safety filter" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not 'flocking-v0'"):
        main(["evaluate", "--env", "flocking-v0", "--safety-filter", "cbf", "--safety-radius", "0.3"])
