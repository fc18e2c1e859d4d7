"""Physics and task properties of ``navigation-v0``: boundaries, obstacles, spawning, rewards,
termination, the documented observation and state layouts, and rendering."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo
from swarmzoo.envs import navigation
from swarmzoo.envs.core import render as colors
from swarmzoo.envs.core.arena import min_image


def _vec(E: int = 4, **kwargs):
    venv = swarmzoo.make_vec("navigation-v0", E, **kwargs)
    venv.reset(seed=kwargs.pop("seed", 0))
    return venv


def _full_actions(venv, rng) -> np.ndarray:
    """Random full-magnitude actions (the hardest push into walls and each other)."""
    E, N = venv.num_envs, venv.n_agents
    if hasattr(venv.single_action_space, "n"):
        return rng.integers(0, 5, size=(E, N))
    angle = rng.uniform(0, 2 * np.pi, size=(E, N))
    a = np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    return (a / np.abs(a).max(axis=-1, keepdims=True)).astype(np.float32)


def _noop(space):
    return 0 if hasattr(space, "n") else np.zeros(space.shape, space.dtype)


def _hand_state(env, pos, goals=None, settle: bool = True) -> None:
    """Write robot (and goal) positions, at rest, into the PettingZoo env's task.

    The task keeps the contact forces of its last state for its next step, so after writing
    the arrays one no-op step (which cannot move robots at rest) lets it see the new layout;
    the velocities that step gave are then zeroed again. ``settle=False`` skips that step (for
    checks that only look at positions).
    """
    task = env.unwrapped.task
    task.pos[0] = pos
    task.vel[0] = 0.0
    if goals is not None:
        task.goals[0] = goals
    if settle:
        env.step({a: _noop(env.action_space(a)) for a in env.agents})
        np.testing.assert_allclose(task.pos[0], pos, atol=1e-12)
        task.vel[0] = 0.0


# -- boundaries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param(dict(n_agents=12, continuous_actions=True), id="crowded_continuous"),
        pytest.param(dict(n_agents=6, arena_width=4.0, arena_height=2.0), id="non_square"),
        pytest.param(dict(n_agents=5, n_obstacles=3, continuous_actions=True), id="obstacles"),
    ],
)
def test_robots_stay_inside_walls(kwargs) -> None:
    venv = _vec(**kwargs, max_cycles=1000)
    half = venv.task.arena.half
    r = venv.task.config.robot_radius
    rng = np.random.default_rng(0)
    for _ in range(150):
        venv.step(_full_actions(venv, rng))
        assert np.all(np.abs(venv.task.pos) <= half - r + 1e-12)
    # The robots did reach the walls.
    assert np.any(np.isclose(np.abs(venv.task.pos), half - r))


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param(dict(n_agents=8, boundary="torus", continuous_actions=True), id="square"),
        pytest.param(
            dict(n_agents=4, boundary="torus", arena_width=3.0, arena_height=1.0, n_obstacles=1),
            id="non_square",
        ),
    ],
)
def test_torus_positions_stay_wrapped(kwargs) -> None:
    venv = _vec(**kwargs, max_cycles=1000)
    half = venv.task.arena.half
    rng = np.random.default_rng(1)
    start = venv.task.pos.copy()
    travelled = np.zeros(venv.task.pos.shape[:2])
    for _ in range(150):
        before = venv.task.pos.copy()
        venv.step(_full_actions(venv, rng))
        pos = venv.task.pos
        assert np.all(pos >= -half) and np.all(pos < half)
        travelled += np.linalg.norm(min_image(pos - before, venv.task.arena), axis=-1)
    assert not np.array_equal(start, venv.task.pos)
    # Robots that travel farther than the arena must have crossed the seam.
    assert travelled.max() > venv.task.arena.width


def test_max_speed_cap_holds_in_the_env() -> None:
    venv = _vec(n_agents=10, max_speed=0.3, continuous_actions=True, max_cycles=1000)
    rng = np.random.default_rng(5)
    fastest = 0.0
    for _ in range(60):
        venv.step(_full_actions(venv, rng))
        speed = np.linalg.norm(venv.task.vel, axis=-1)
        assert np.all(speed <= 0.3 + 1e-12)
        fastest = max(fastest, speed.max())
    assert fastest > 0.29


def test_open_plane_has_no_walls() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=1, boundary="none", max_cycles=100)
    env.reset(seed=0)
    for _ in range(60):
        env.step({"robot_0": 2})
    assert env.unwrapped.task.pos[0, 0, 0] > env.unwrapped.task.arena.half[0] + 1.0


# -- obstacles --------------------------------------------------------------------------------


def _head_on(continuous: bool):
    env = swarmzoo.make(
        "navigation-v0",
        n_agents=1,
        n_obstacles=1,
        arena_width=4.0,
        max_cycles=100,
        continuous_actions=continuous,
    )
    env.reset(seed=0)
    task = env.unwrapped.task
    task.obstacles[0, 0] = [0.0, 0.0]
    _hand_state(env, [[-1.5, 0.0]], goals=[[1.5, 1.5]])
    push = np.array([1.0, 0.0], np.float32) if continuous else 2
    return env, push


@pytest.mark.parametrize("continuous", [False, True])
def test_obstacle_stops_a_robot_driven_straight_at_it(continuous) -> None:
    """A robot pushing at full force towards an obstacle's centre must not get its own centre
    inside the obstacle, let alone pass through to the other side."""
    env, push = _head_on(continuous)
    task = env.unwrapped.task
    R = task.config.obstacle_radius
    for t in range(40):
        env.step({"robot_0": push})
        x = task.pos[0, 0, 0]
        assert np.linalg.norm(task.pos[0, 0]) >= R, f"robot centre inside the obstacle at step {t}"
        assert x < 0.0, f"robot passed through the obstacle at step {t} (x={x:.3f})"


def test_robots_never_end_deep_inside_obstacles() -> None:
    """Random actions: no robot centre ever enters an obstacle's disc."""
    venv = _vec(E=4, n_agents=6, n_obstacles=3, max_cycles=1000)
    R = venv.task.config.obstacle_radius
    rng = np.random.default_rng(2)
    closest = np.inf
    for _ in range(100):
        venv.step(rng.integers(0, 5, size=(4, 6)))
        d = np.linalg.norm(venv.task.obstacles[:, None] - venv.task.pos[:, :, None], axis=-1)
        closest = min(closest, d.min())
    assert closest >= R, f"a robot centre came within {closest:.3f} of an obstacle centre (R={R})"


def test_obstacle_pushes_an_overlapping_robot_out() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=1, n_obstacles=1, max_cycles=100)
    env.reset(seed=0)
    task = env.unwrapped.task
    task.obstacles[0, 0] = [0.0, 0.0]
    R, r = task.config.obstacle_radius, task.config.robot_radius
    _hand_state(env, [[R * 0.8, 0.1]], goals=[[0.8, 0.8]])
    start = np.linalg.norm(task.pos[0, 0])
    _, _, _, _, infos = env.step({"robot_0": 0})
    assert infos["robot_0"]["collisions"] == 1
    for _ in range(30):
        _, _, _, _, infos = env.step({"robot_0": 0})
    dist = np.linalg.norm(task.pos[0, 0])
    assert dist > start
    assert dist >= R + r - 0.01, f"still {R + r - dist:.3f} inside the obstacle"
    assert infos["robot_0"]["collisions"] == 0
    # Pushed straight away from the centre.
    np.testing.assert_allclose(
        task.pos[0, 0] / dist, np.array([0.8 * R, 0.1]) / np.linalg.norm([0.8 * R, 0.1]), atol=1e-6
    )


# -- spawning ---------------------------------------------------------------------------------


@pytest.mark.parametrize("boundary", ["walls", "torus", "none"])
def test_spawn_respects_walls_and_obstacle_clearance(boundary) -> None:
    """Obstacles keep a robot-wide gap between them; robots and goals spawn clear of obstacles.
    On a torus distances are measured through the seam (minimum image)."""
    cfg = dict(n_agents=5, n_obstacles=6, obstacle_radius=0.15, boundary=boundary)
    venv = swarmzoo.make_vec("navigation-v0", 16, **cfg)
    task = venv.task
    arena, R, r = task.arena, 0.15, task.config.robot_radius
    problems = []
    for seed in range(0, 64, 16):
        venv.reset(seed=seed)
        obs = task.obstacles
        gap = np.linalg.norm(min_image(obs[:, :, None] - obs[:, None], arena), axis=-1)
        gap[:, np.arange(6), np.arange(6)] = np.inf
        if gap.min() < 2 * R + 2 * r - 1e-12:
            problems.append(f"seed {seed}: obstacle centres {gap.min():.3f} apart")
        for name, pts in (("robot", task.pos), ("goal", task.goals)):
            d = np.linalg.norm(min_image(pts[:, :, None] - obs[:, None], arena), axis=-1)
            if d.min() < R + r - 1e-12:
                problems.append(f"seed {seed}: a {name} {d.min():.3f} from an obstacle centre")
        if boundary == "walls":
            assert np.all(np.abs(task.pos) <= arena.half - r)
            assert np.all(np.abs(task.goals) <= arena.half - r)
            assert np.all(np.abs(obs) <= arena.half - R)
        np.testing.assert_array_equal(task.vel, 0.0)
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize(
    ("kwargs", "seeds"),
    [
        pytest.param(dict(n_agents=3, n_obstacles=2, obstacle_radius=0.4), range(12, 20), id="2x0.4"),
        pytest.param(dict(n_agents=10, n_obstacles=5, obstacle_radius=0.5), range(4), id="5x0.5"),
    ],
)
def test_accepted_configs_always_reset(kwargs, seeds) -> None:
    """A config that passes validation must reset for every seed (no RuntimeError at reset)."""
    env = swarmzoo.make("navigation-v0", **kwargs)
    for seed in seeds:
        env.reset(seed=seed)


# -- rewards ----------------------------------------------------------------------------------


def _expected_rewards(task) -> np.ndarray:
    cfg, arena = task.config, task.arena
    goal_d = np.linalg.norm(min_image(task.goals[:, :, None] - task.pos[:, None], arena), axis=-1)
    nearest = goal_d.min(axis=2)  # (E, G)
    shared = -(nearest.sum(1) if cfg.shared_reward == "sum" else nearest.mean(1))
    rr = np.linalg.norm(min_image(task.pos[:, :, None] - task.pos[:, None], arena), axis=-1)
    N = task.n_agents
    hits = ((rr < 2 * cfg.robot_radius) & ~np.eye(N, dtype=bool)).sum(2)
    if cfg.n_obstacles:
        ro = np.linalg.norm(min_image(task.pos[:, :, None] - task.obstacles[:, None], arena), axis=-1)
        hits = hits + (ro < cfg.robot_radius + cfg.obstacle_radius).sum(2)
    local = -cfg.collision_penalty * hits
    return (1 - cfg.local_ratio) * shared[:, None] + cfg.local_ratio * local, hits


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param(
            dict(n_agents=8, arena_width=1.2, n_obstacles=1, obstacle_radius=0.1), id="mean_crowded"
        ),
        pytest.param(
            dict(
                n_agents=6,
                n_goals=4,
                shared_reward="sum",
                local_ratio=0.3,
                collision_penalty=2.5,
                arena_width=1.2,
                boundary="torus",
            ),
            id="sum_torus",
        ),
        pytest.param(dict(preset="mpe_spread", n_agents=5), id="mpe_spread"),
    ],
)
def test_reward_formula(kwargs) -> None:
    venv = _vec(E=3, max_cycles=1000, **kwargs)
    rng = np.random.default_rng(3)
    hits_seen = 0
    for _ in range(40):
        acts = rng.integers(0, 5, size=(3, venv.n_agents))
        _, rewards, _, _, infos = venv.step(acts)
        expected, hits = _expected_rewards(venv.task)
        np.testing.assert_allclose(rewards, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(infos["collisions"], hits)
        hits_seen += hits.sum()
    assert hits_seen > 0, "the test should exercise collisions"


@pytest.mark.parametrize("shared_reward", ["mean", "sum"])
def test_shared_reward_by_hand(shared_reward) -> None:
    env = swarmzoo.make("navigation-v0", n_agents=2, n_goals=3, local_ratio=0.0, shared_reward=shared_reward)
    env.reset(seed=0)
    _hand_state(env, [[0.0, 0.0], [0.5, 0.0]], goals=[[0.0, 0.3], [0.9, 0.0], [-0.4, 0.0]])
    _, rew, _, _, infos = env.step({"robot_0": 0, "robot_1": 0})
    nearest = np.array([0.3, 0.4, 0.4])
    expect = -(nearest.sum() if shared_reward == "sum" else nearest.mean())
    assert rew["robot_0"] == pytest.approx(expect, abs=1e-12)
    assert rew["robot_1"] == pytest.approx(expect, abs=1e-12)
    assert infos["robot_0"]["nearest_goal_distance"] == pytest.approx(0.3, abs=1e-12)
    assert infos["robot_1"]["nearest_goal_distance"] == pytest.approx(0.4, abs=1e-12)
    assert infos["robot_0"]["goals_occupied"] == 0 and not infos["robot_0"]["success"]


def test_collision_penalty_by_hand() -> None:
    env = swarmzoo.make(
        "navigation-v0",
        n_agents=3,
        n_obstacles=1,
        local_ratio=0.5,
        collision_penalty=2.0,
        shared_reward="sum",
    )
    env.reset(seed=0)
    task = env.unwrapped.task
    task.obstacles[0, 0] = [0.6, 0.6]
    goals = [[0.0, 0.0], [0.15, 0.0], [0.6, 0.35]]
    # robot_0 and robot_1 overlap (0.15 < 2 r); robot_2 touches the obstacle (0.25 - eps).
    _hand_state(env, [[0.0, 0.0], [0.15, 0.0], [0.6, 0.36]], goals=goals)
    _, rew, _, _, infos = env.step({a: 0 for a in env.agents})
    shared = -0.01  # only goal 2 is 0.01 from its nearest robot
    assert [infos[a]["collisions"] for a in env.possible_agents] == [1, 1, 1]
    for a in env.possible_agents:
        assert rew[a] == pytest.approx(0.5 * shared + 0.5 * -2.0, abs=1e-12)
    assert infos["robot_0"]["goals_occupied"] == 3 and infos["robot_0"]["success"]


# -- termination and truncation ---------------------------------------------------------------


def test_terminate_on_success_when_every_goal_is_occupied() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=3, terminate_on_success=True, max_cycles=50)
    env.reset(seed=0)
    task = env.unwrapped.task
    goals = np.array([[-0.5, -0.5], [0.5, 0.5], [0.5, -0.5]])
    # Two of three goals occupied: not done.
    _hand_state(env, [[-0.5, -0.5], [0.5, 0.5], [0.0, 0.0]], goals=goals)
    _, _, term, trunc, infos = env.step({a: 0 for a in env.agents})
    assert not any(term.values()) and not any(trunc.values())
    assert infos["robot_0"]["goals_occupied"] == 2
    # Every goal occupied (within goal_radius): all robots terminate, none truncate.
    _hand_state(env, goals + [[0.05, 0.0], [0.0, -0.05], [0.0, 0.0]], goals=goals, settle=False)
    _, _, term, trunc, infos = env.step({a: 0 for a in env.agents})
    assert all(term.values()) and not any(trunc.values())
    assert infos["robot_2"]["success"] and infos["robot_2"]["goals_occupied"] == 3
    assert env.agents == []
    assert task.steps[0] == 3


def test_no_termination_without_the_flag() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=2, max_cycles=50)
    env.reset(seed=0)
    goals = np.array([[-0.5, -0.5], [0.5, 0.5]])
    _hand_state(env, goals, goals=goals)
    _, _, term, _, infos = env.step({a: 0 for a in env.agents})
    assert not any(term.values()) and infos["robot_0"]["success"]
    assert env.agents == env.possible_agents


def test_vector_face_resets_a_copy_that_succeeded() -> None:
    venv = _vec(E=2, n_agents=2, terminate_on_success=True, max_cycles=50)
    goals = venv.task.goals[0].copy()
    venv.task.pos[0] = goals
    venv.task.vel[0] = 0.0
    _, _, term, trunc, infos = venv.step(np.zeros((2, 2), dtype=int))
    assert term[0].all() and not term[1].any() and not trunc.any()
    np.testing.assert_array_equal(infos["_final_obs"], [True, False])
    np.testing.assert_allclose(infos["final_obs"][0, :, 2:4], goals)
    assert venv.task.steps.tolist() == [0, 1]


def test_truncation_exactly_at_max_cycles() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=3, max_cycles=7)
    env.reset(seed=0)
    for t in range(1, 8):
        _, _, term, trunc, _ = env.step({a: 1 for a in env.agents})
        assert not any(term.values())
        assert all(trunc.values()) == (t == 7) and any(trunc.values()) == (t == 7)
    assert env.agents == []


# -- actions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "direction"), [(0, (0, 0)), (1, (-1, 0)), (2, (1, 0)), (3, (0, -1)), (4, (0, 1))]
)
def test_discrete_action_directions(action, direction) -> None:
    env = swarmzoo.make("navigation-v0", n_agents=1, accel=3.0, dt=0.1, mass=2.0)
    env.reset(seed=0)
    _hand_state(env, [[0.0, 0.0]], goals=[[0.5, 0.5]])
    obs, *_ = env.step({"robot_0": action})
    np.testing.assert_allclose(obs["robot_0"][0:2], np.array(direction) * 3.0 / 2.0 * 0.1, atol=1e-7)
    np.testing.assert_allclose(obs["robot_0"][2:4], 0.0, atol=1e-7)  # moved by old velocity
    obs, *_ = env.step({"robot_0": 0})
    np.testing.assert_allclose(obs["robot_0"][2:4], np.array(direction) * 0.15 * 0.1, atol=1e-7)


def test_continuous_action_force() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=1, accel=4.0, continuous_actions=True)
    env.reset(seed=0)
    _hand_state(env, [[0.0, 0.0]], goals=[[0.5, 0.5]])
    obs, *_ = env.step({"robot_0": np.array([0.5, -0.25], np.float32)})
    np.testing.assert_allclose(obs["robot_0"][0:2], [0.2, -0.1], atol=1e-7)


# -- observation and state layout -------------------------------------------------------------


def _expected_obs(task) -> np.ndarray:
    """The documented layout, by brute force from the task's arrays."""
    cfg, arena = task.config, task.arena
    E, N = task.pos.shape[:2]
    rows = np.zeros((E, N, task.observation_space.shape[0]))
    radius = np.inf if cfg.sensing_radius is None else cfg.sensing_radius

    def slots(me, targets, k, extra, exclude=None):
        out = []
        d = min_image(targets - me, arena)
        dist = np.linalg.norm(d, axis=-1)
        order = [j for j in np.argsort(dist, kind="stable") if j != exclude and dist[j] <= radius]
        for j in order[:k]:
            out.append([*d[j], *extra, 1.0])
        out += [[0.0] * (3 + len(extra))] * (k - len(out[:k]))
        return np.ravel(out[:k]) if k else np.zeros(0)

    for e in range(E):
        for i in range(N):
            me = task.pos[e, i]
            rows[e, i] = np.concatenate(
                [
                    task.vel[e, i],
                    me,
                    slots(me, task.goals[e], cfg.k_goals, []),
                    slots(me, task.pos[e], cfg.k_robots, [], exclude=i),
                    slots(me, task.obstacles[e], cfg.k_obstacles, [cfg.obstacle_radius]),
                ]
            )
    return rows


OBS_CONFIGS = [
    pytest.param(dict(n_agents=5), id="default"),
    pytest.param(dict(n_agents=2, k_robots=3, k_goals=4, n_goals=2), id="padding"),
    pytest.param(dict(n_agents=6, n_obstacles=3, boundary="torus", k_obstacles=4), id="torus"),
    pytest.param(dict(n_agents=9, n_obstacles=2, sensing_radius=0.5, k_robots=5), id="sensing"),
    pytest.param(dict(n_agents=4, n_goals=6, k_goals=0, k_robots=0, k_obstacles=0), id="k0"),
    pytest.param(dict(n_agents=160, sensing_radius=0.4, k_robots=6, n_goals=140), id="large_n"),
]


@pytest.mark.parametrize("kwargs", OBS_CONFIGS)
def test_observation_layout_matches_the_docs(kwargs) -> None:
    venv = _vec(E=2, max_cycles=100, **kwargs)
    cfg = venv.task.config
    D = 4 + 3 * cfg.k_goals + 3 * cfg.k_robots + 4 * cfg.k_obstacles
    assert venv.single_observation_space.shape == (D,)
    rng = np.random.default_rng(4)
    obs = venv.task.observe()
    for step in range(3):
        assert obs.shape == (2, cfg.n_agents, D) and obs.dtype == np.float32
        np.testing.assert_allclose(obs, _expected_obs(venv.task), atol=1e-6, err_msg=f"step {step}")
        obs, *_ = venv.step(rng.integers(0, 5, size=(2, cfg.n_agents)))


def test_sensing_radius_masks_by_hand() -> None:
    env = swarmzoo.make(
        "navigation-v0",
        n_agents=3,
        n_goals=2,
        sensing_radius=0.5,
        k_goals=2,
        k_robots=2,
        n_obstacles=1,
        k_obstacles=1,
    )
    env.reset(seed=0)
    task = env.unwrapped.task
    task.obstacles[0, 0] = [0.35, 0.45]  # 0.57 from robot_0 (unseen), 0.45 from robot_1 (seen)
    _hand_state(env, [[0.0, 0.0], [0.3, 0.0], [-0.7, 0.0]], goals=[[0.0, -0.35], [0.75, 0.0]])
    obs, *_ = env.step({a: 0 for a in env.agents})
    o = obs["robot_0"]
    np.testing.assert_allclose(o[0:4], 0.0)  # at rest at the origin
    np.testing.assert_allclose(o[4:10], [0.0, -0.35, 1.0, 0.0, 0.0, 0.0], atol=1e-7)  # goals
    np.testing.assert_allclose(o[10:16], [0.3, 0.0, 1.0, 0.0, 0.0, 0.0], atol=1e-7)  # robots
    np.testing.assert_allclose(o[16:20], 0.0)  # obstacle unseen
    o = obs["robot_1"]
    np.testing.assert_allclose(o[0:4], [0.0, 0.0, 0.3, 0.0], atol=1e-7)
    # Nearest first: goal 1 (0.45 away), then goal 0 (0.46 away).
    np.testing.assert_allclose(o[4:10], [0.45, 0.0, 1.0, -0.3, -0.35, 1.0], atol=1e-7)
    np.testing.assert_allclose(o[10:16], [-0.3, 0.0, 1.0, 0.0, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(o[16:20], [0.05, 0.45, 0.15, 1.0], atol=1e-7)
    o = obs["robot_2"]  # nothing within 0.5
    np.testing.assert_allclose(o[4:], 0.0)


def test_torus_offsets_use_the_minimum_image() -> None:
    env = swarmzoo.make(
        "navigation-v0",
        n_agents=2,
        n_goals=1,
        boundary="torus",
        arena_width=2.0,
        k_goals=1,
        k_robots=1,
        k_obstacles=0,
    )
    env.reset(seed=0)
    _hand_state(env, [[0.95, 0.0], [-0.95, 0.9]], goals=[[-0.9, -0.95]])
    obs, *_ = env.step({a: 0 for a in env.agents})
    np.testing.assert_allclose(obs["robot_0"][4:7], [0.15, -0.95, 1.0], atol=1e-6)
    np.testing.assert_allclose(obs["robot_0"][7:10], [0.1, 0.9, 1.0], atol=1e-6)
    np.testing.assert_allclose(obs["robot_1"][4:7], [0.05, 0.15, 1.0], atol=1e-6)


def test_mpe_layout_dimensions() -> None:
    env = swarmzoo.make("navigation-v0", preset="mpe_spread", n_agents=4)
    obs, _ = env.reset(seed=0)
    assert obs["robot_0"].shape == (4 + 2 * 4 + 4 * 3,)
    np.testing.assert_array_equal(obs["robot_0"][-6:], 0.0)  # silent comm channel
    assert env.state().shape == (4 * (4 + 8 + 12),)
    np.testing.assert_array_equal(env.state(), np.concatenate([obs[a] for a in env.agents]))


@pytest.mark.parametrize("kwargs", [dict(n_agents=3), dict(n_agents=4, n_goals=2, n_obstacles=2)])
def test_state_layout(kwargs) -> None:
    env = swarmzoo.make("navigation-v0", **kwargs)
    env.reset(seed=0)
    env.step({a: 4 for a in env.agents})
    task = env.unwrapped.task
    N, G, n_obs = task.n_agents, task.goals.shape[1], task.obstacles.shape[1]
    s = env.state()
    assert s.shape == (4 * N + 2 * G + 3 * n_obs,) == env.state_space.shape
    assert s.dtype == np.float32
    expect = np.concatenate(
        [
            task.pos[0].ravel(),
            task.vel[0].ravel(),
            task.goals[0].ravel(),
            np.column_stack([task.obstacles[0], task.obstacle_radius[0]]).ravel(),
        ]
    )
    np.testing.assert_allclose(s, expect, atol=1e-6)


# -- rendering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        (dict(n_agents=4, n_obstacles=2), (640, 640, 3)),
        (dict(n_agents=3, arena_width=4.0, arena_height=2.0), (320, 640, 3)),
        (dict(n_agents=3, boundary="none", sensing_radius=0.4), (640, 640, 3)),
    ],
)
def test_rgb_array_render(kwargs, shape) -> None:
    env = swarmzoo.make("navigation-v0", render_mode="rgb_array", **kwargs)
    env.reset(seed=0)
    for _ in range(3):
        env.step({a: 2 for a in env.agents})
    frame = env.render()
    assert isinstance(frame, np.ndarray)
    assert frame.shape == shape and frame.dtype == np.uint8
    background = np.all(frame == colors.BACKGROUND, axis=-1)
    assert background.mean() > 0.3
    assert (~background).sum() > 1000
    robot_px = np.all(frame == colors.ROBOT, axis=-1) | np.all(frame == colors.COLLISION, axis=-1)
    assert robot_px.sum() > 50, "robots should be drawn"
    if kwargs.get("n_obstacles"):
        assert np.all(frame == colors.OBSTACLE, axis=-1).sum() > 100
    # A later frame shows the robots elsewhere.
    env.step({a: 4 for a in env.agents})
    env.step({a: 4 for a in env.agents})
    assert not np.array_equal(env.render(), frame)
    env.close()


def test_render_without_mode_warns_and_returns_none() -> None:
    env = swarmzoo.make("navigation-v0", n_agents=2)
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


def test_vector_render_shows_copy_zero() -> None:
    venv = swarmzoo.make_vec("navigation-v0", 2, n_agents=3, render_mode="rgb_array")
    venv.reset(seed=0)
    frame = venv.render()
    assert frame.shape == (640, 640, 3) and frame.dtype == np.uint8
    venv.close()


def test_module_factories_and_registration() -> None:
    assert navigation.Navigation.name == "navigation_v0"
    for factory in (navigation.parallel_env, navigation.env, navigation.raw_env):
        env = factory(n_agents=2, max_cycles=3, render_mode=None)
        env.reset(seed=0)
    assert "navigation-v0" in swarmzoo.list_envs()
