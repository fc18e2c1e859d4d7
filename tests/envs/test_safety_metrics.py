"""Safety metrics (``safety_radius``: cost, near misses, separations), the vector face's
``episode_cost``, evaluate's safety summary, and heterogeneous speed caps (``max_speed`` per
robot)."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.envs.core.arena import Arena, min_image
from swarmzoo.envs.core.safety import nearest_robot_distance, obstacles_within, robots_within
from swarmzoo.evaluation import evaluate


def brute_distances(pos: np.ndarray, arena: Arena) -> np.ndarray:
    d = np.linalg.norm(min_image(pos[:, :, None] - pos[:, None], arena), axis=-1)
    idx = np.arange(pos.shape[1])
    d[:, idx, idx] = np.inf
    return d


@pytest.mark.parametrize("boundary", ["walls", "torus"])
@pytest.mark.parametrize("n", [1, 2, 7, 200])  # 200 > DENSE_MAX: the k-d tree paths
def test_separation_functions_match_brute_force(boundary, n):
    arena = Arena(width=3.0, height=2.0, boundary=boundary)
    rng = np.random.default_rng(n)
    pos = rng.uniform(-1.0, 1.0, (3, n, 2)) * [1.5, 1.0]
    d = brute_distances(pos, arena)
    np.testing.assert_allclose(nearest_robot_distance(pos, arena), d.min(axis=2))
    radius = 0.4 if n < 100 else 0.1
    np.testing.assert_array_equal(robots_within(pos, radius, arena), (d < radius).sum(axis=2))
    obstacles = rng.uniform(-1.0, 1.0, (3, 4, 2))
    radii = rng.uniform(0.05, 0.2, (3, 4))
    od = np.linalg.norm(min_image(pos[:, :, None] - obstacles[:, None], arena), axis=-1)
    np.testing.assert_array_equal(
        obstacles_within(pos, obstacles, radii, 0.15, arena), (od < radii[:, None] + 0.15).sum(axis=2)
    )


def rollout(env_id: str, steps: int, n_envs: int = 3, seed: int = 0, policy: str = "random", **kwargs):
    venv = swarmzoo.make_vec(env_id, n_envs, **kwargs)
    obs, _ = venv.reset(seed=seed)
    pi = make_policy(policy, env_id, seed=seed)
    out = []
    for _ in range(steps):
        actions = pi.act(obs, venv.task)
        obs, rewards, term, trunc, infos = venv.step(actions)
        # The state the step's infos describe (before any auto-reset, where a copy is unfinished).
        infos["_obstacles"] = getattr(venv.task, "obstacles", np.zeros((n_envs, 0, 2))).copy()
        out.append((obs.copy(), rewards.copy(), venv.task.pos.copy(), infos))
    return venv, out


def test_navigation_safety_infos_are_what_they_say():
    radius = 0.45
    kwargs = dict(n_agents=8, n_obstacles=2, arena_width=2.0, safety_radius=radius, max_cycles=30)
    venv, steps = rollout("navigation-v0", 60, policy="heuristic", **kwargs)
    cfg, arena = venv.task.config, venv.task.arena
    seen_violation = False
    cost_sum = np.zeros((3, 8))
    for _, _, pos, infos in steps:
        finished = infos["_episode"]
        # Infos describe the step's state before an auto-reset: rebuild it for unfinished copies.
        keep = ~finished
        d = brute_distances(pos, arena)
        od = np.linalg.norm(min_image(pos[:, :, None] - infos["_obstacles"][:, None], arena), axis=-1)
        inside = (d < radius).sum(axis=2) + (od < cfg.obstacle_radius + radius / 2).sum(axis=2)
        np.testing.assert_array_equal(infos["cost"][keep], inside[keep])
        np.testing.assert_allclose(infos["min_separation"][keep], d.min(axis=(1, 2))[keep])
        np.testing.assert_allclose(infos["nearest_robot_distance"][keep], d.min(axis=2)[keep])
        np.testing.assert_array_equal(infos["near_misses"], infos["cost"] - infos["collisions"])
        assert (infos["near_misses"] >= 0).all()
        seen_violation |= bool(infos["near_misses"].any())
        cost_sum += infos["cost"]
        if finished.any():
            np.testing.assert_allclose(infos["episode_cost"][finished], cost_sum[finished])
            cost_sum[finished] = 0.0
    assert seen_violation  # a crowded arena: the test checks something


def test_safety_radius_changes_nothing_but_the_infos():
    base = dict(n_agents=5, n_obstacles=1, max_cycles=20)
    _, plain = rollout("navigation-v0", 45, **base)
    _, safe = rollout("navigation-v0", 45, safety_radius=0.3, **base)
    for (o1, r1, p1, i1), (o2, r2, p2, i2) in zip(plain, safe):
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(p1, p2)
        assert "cost" not in i1 and "episode_cost" not in i1 and "cost" in i2


def test_pettingzoo_face_reports_cost_per_robot():
    kwargs = dict(n_agents=4, safety_radius=0.5, arena_width=1.2)
    env = swarmzoo.make("navigation-v0", **kwargs)
    env.reset(seed=1)
    _, _, _, _, infos = env.step({a: 0 for a in env.agents})
    venv = swarmzoo.make_vec("navigation-v0", 1, **kwargs)
    venv.reset(seed=1)
    *_, vinfos = venv.step(np.zeros((1, 4), np.int64))
    for i, agent in enumerate(env.agents):
        assert set(infos[agent]) >= {"cost", "near_misses", "min_separation", "nearest_robot_distance"}
        assert infos[agent]["cost"] == vinfos["cost"][0, i]
    assert sum(infos[a]["cost"] for a in env.agents) > 0  # four robots in a 1.2 x 1.2 arena


def test_coverage_safety_infos():
    venv, steps = rollout("coverage-v0", 5, safety_radius=0.2, n_agents=6)
    for _, _, pos, infos in steps:
        d = brute_distances(pos, venv.task.arena)
        np.testing.assert_array_equal(infos["cost"], (d < 0.2).sum(axis=2))
        np.testing.assert_array_equal(
            infos["collisions"], (d < 2 * venv.task.config.robot_radius).sum(axis=2)
        )


@pytest.mark.parametrize("env_id", ["navigation-v0", "coverage-v0"])
def test_safety_radius_must_exceed_the_bodies(env_id):
    with pytest.raises(ValueError, match="safety_radius"):
        swarmzoo.make_vec(env_id, 1, safety_radius=0.05)
    with pytest.raises(ValueError, match="safety_radius"):
        swarmzoo.make_vec(env_id, 1, safety_radius=-1.0)


def test_evaluate_reports_safety_metrics_that_match_the_infos():
    kwargs = dict(n_agents=6, arena_width=1.6, safety_radius=0.3, terminate_on_success=False, max_cycles=25)
    result = evaluate(
        "navigation-v0", make_policy("heuristic", "navigation-v0"), episodes=4, num_envs=4, **kwargs
    )
    venv, steps = rollout("navigation-v0", 25, n_envs=4, policy="heuristic", **kwargs)
    collisions = sum(infos["collisions"].sum() for *_, infos in steps)
    near = sum(infos["near_misses"].sum() for *_, infos in steps)
    seps = np.min([infos["min_separation"] for *_, infos in steps], axis=0)
    robot_hours = 4 * 6 * 25 * venv.task.config.dt / 3600
    assert result["collisions_per_robot_hour"] == pytest.approx(collisions / robot_hours)
    assert result["near_misses_per_robot_hour"] == pytest.approx(near / robot_hours)
    assert result["min_separation"] == pytest.approx(seps.mean())
    assert result["min_separation_worst"] == pytest.approx(seps.min())
    first = []
    for e in range(4):
        hit = [t + 1 for t, (*_, infos) in enumerate(steps) if infos["success"][e]]
        if hit:
            first.append(hit[0])
    if first:
        assert result["time_to_goal_steps"] == pytest.approx(np.mean(first))
    else:
        assert np.isnan(result["time_to_goal_steps"])


def test_evaluate_without_safety_radius_still_reports_separation():
    result = evaluate("navigation-v0", make_policy("random", "navigation-v0", seed=0), episodes=2)
    assert {"collisions_per_robot_hour", "min_separation", "time_to_goal"} <= set(result)
    assert "near_misses_per_robot_hour" not in result
    assert 0 < result["min_separation_worst"] <= result["min_separation"]


# -- heterogeneous robots ------------------------------------------------------------------


def test_per_robot_speed_caps_hold_and_differ():
    caps = (0.2, 0.2, 1.5, 1.5)
    venv = swarmzoo.make_vec("navigation-v0", 2, n_agents=4, max_speed=caps, continuous_actions=True)
    venv.reset(seed=0)
    top = np.zeros(4)
    for _ in range(20):
        venv.step(np.ones((2, 4, 2), np.float32))
        speed = np.linalg.norm(venv.task.vel, axis=-1)
        assert (speed <= np.asarray(caps) + 1e-9).all()
        top = np.maximum(top, speed.max(axis=0))
    assert top[:2] == pytest.approx(0.2) and top[2:].max() > 1.0
    assert venv.task.state().shape[1] == venv.task.state_space.shape[0] == 4 * 4 + 2 * 4 + 4
    np.testing.assert_allclose(venv.task.state()[:, -4:], np.broadcast_to(caps, (2, 4)))


def test_equal_per_robot_caps_match_one_cap():
    common = dict(n_agents=3, continuous_actions=True)
    _, one = rollout("navigation-v0", 30, max_speed=0.4, **common)
    _, each = rollout("navigation-v0", 30, max_speed=(0.4, 0.4, 0.4), **common)
    for (_, r1, p1, _), (_, r2, p2, _) in zip(one, each):
        np.testing.assert_array_equal(p1, p2)
        np.testing.assert_array_equal(r1, r2)


def test_max_speed_forms_and_errors():
    assert swarmzoo.make_vec("navigation-v0", 1, n_agents=2, max_speed="0.5,1").task.config.max_speed == (
        0.5,
        1.0,
    )
    assert swarmzoo.make_vec("navigation-v0", 1, n_agents=2, max_speed=[0.5, 1]).task.config.max_speed == (
        0.5,
        1.0,
    )
    with pytest.raises(ValueError, match="n_agents=3"):
        swarmzoo.make_vec("navigation-v0", 1, n_agents=3, max_speed=(0.5, 1.0))
    with pytest.raises(ValueError, match=r"max_speed\[1\]"):
        swarmzoo.make_vec("navigation-v0", 1, n_agents=2, max_speed=(0.5, -1.0))
    with pytest.raises(ValueError, match="max_speed"):
        swarmzoo.make_vec("navigation-v0", 1, n_agents=2, max_speed="fast")


def test_heuristic_respects_per_robot_caps():
    """The scripted baseline plans with each robot's own cap (slow robots still get there)."""
    result = evaluate(
        "navigation-v0",
        make_policy("heuristic", "navigation-v0"),
        episodes=4,
        n_agents=4,
        max_speed=(0.3, 0.3, 1.0, 1.0),
        max_cycles=80,
    )
    assert result["success_rate"] > 0.5


# -- separated spawns ------------------------------------------------------------------------


@pytest.mark.parametrize("n,boundary", [(3, "walls"), (30, "torus"), (300, "walls")])
def test_spawn_separation_holds_every_episode(n, boundary):
    venv = swarmzoo.make_vec(
        "navigation-v0", 2, n_agents=n, n_obstacles=2, boundary=boundary, spawn_separation=0.3, max_cycles=2
    )
    venv.reset(seed=3)
    plain = swarmzoo.make_vec("navigation-v0", 2, n_agents=n, n_obstacles=2, boundary=boundary, max_cycles=2)
    plain.reset(seed=3)
    if n >= 30:  # independent drops do overlap: the test can fail
        assert nearest_robot_distance(plain.task.pos, plain.task.arena).min() < 0.3
    for _ in range(3):  # the first episode and two auto-resets
        assert nearest_robot_distance(venv.task.pos, venv.task.arena).min() >= 0.3
        gaps = np.linalg.norm(
            min_image(venv.task.pos[:, :, None] - venv.task.obstacles[:, None], venv.task.arena), axis=-1
        )
        assert gaps.min() >= venv.task.config.obstacle_radius + venv.task.config.robot_radius
        for _ in range(2):
            venv.step(np.zeros((2, n), np.int64))


def test_spawn_separation_faces_agree_and_errors():
    env = swarmzoo.make("navigation-v0", n_agents=6, spawn_separation=0.4)
    env.reset(seed=5)
    venv = swarmzoo.make_vec("navigation-v0", 1, n_agents=6, spawn_separation=0.4)
    venv.reset(seed=5)
    np.testing.assert_array_equal(env.unwrapped.task.pos[0], venv.task.pos[0])
    with pytest.raises(ValueError, match="spawn_separation"):
        swarmzoo.make_vec("navigation-v0", 1, n_agents=10, arena_width=1.0, spawn_separation=0.5)


def test_cli_evaluate_prints_the_safety_metrics(capsys):
    from swarmzoo.cli import main

    main(["evaluate", "--env", "navigation-v0", "--policy", "random", "--episodes", "2"])
    out = capsys.readouterr().out
    assert "collisions per robot-hour" in out and "closest approach" in out
    main(
        [
            "evaluate",
            "--env",
            "navigation-v0",
            "--episodes",
            "2",
            "--json",
            "--env-kwargs",
            "safety_radius=0.3",
        ]
    )
    import json

    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"near_misses_per_robot_hour", "mean_episode_cost", "time_to_goal"} <= set(summary)


@pytest.mark.parametrize("env_id", swarmzoo.list_envs())
def test_evaluate_runs_on_every_env(env_id):
    """The safety summary appears exactly where robots have bodies and positions (aloha's
    per-copy channel "collisions" are not bodies)."""
    result = evaluate(env_id, make_policy("random", env_id, seed=0), episodes=1, num_envs=1, max_cycles=5)
    venv = swarmzoo.make_vec(env_id, 1, max_cycles=5)
    venv.reset(seed=0)
    *_, infos = venv.step(make_policy("random", env_id, seed=0).act(venv.task.observe(), venv.task))
    bodies = "collisions" in infos and np.ndim(infos["collisions"]) == 2 and hasattr(venv.task, "pos")
    assert ("collisions_per_robot_hour" in result or "collisions_per_robot_step" in result) == bodies


def test_top_speeds_are_the_terminal_speed_capped_per_robot():
    cfg = swarmzoo.make_vec("navigation-v0", 1, n_agents=3, mass=2.0, max_speed=(0.5, 5.0, 1.0)).task.config
    terminal = cfg.accel * cfg.dt / (cfg.mass * cfg.damping)  # 1.0 with these numbers
    np.testing.assert_allclose(cfg.top_speeds, [0.5, terminal, min(1.0, terminal)])
    kwargs = dict(n_agents=1, mass=2.0, continuous_actions=True, boundary="none", max_cycles=200)
    venv = swarmzoo.make_vec("navigation-v0", 1, **kwargs)
    venv.reset(seed=0)
    for _ in range(80):  # a full push converges to the terminal speed, which must include the mass
        venv.step(np.full((1, 1, 2), 1 / np.sqrt(2), np.float32))
    np.testing.assert_allclose(np.linalg.norm(venv.task.vel, axis=-1), terminal, rtol=1e-3)
