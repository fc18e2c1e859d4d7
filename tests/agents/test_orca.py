"""ORCA (RVO2 through pyrvo) as navigation-v0's scripted collision-avoiding controller."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from gymnasium import spaces

import swarmzoo
from swarmzoo.agents import RandomPolicy, make_policy
from swarmzoo.agents.navigation import NavigationHeuristic
from swarmzoo.envs.core.arena import min_image, wrap
from swarmzoo.envs.navigation import Config

needs_pyrvo = pytest.mark.skipif(
    importlib.util.find_spec("pyrvo") is None, reason="pyrvo (swarmzoo[safety]) is not installed"
)


def _orca(**kwargs):
    from swarmzoo.agents.orca import ORCA

    return ORCA(**kwargs)


def _rollout(policy, seed: int, n_envs: int = 4, **env_kwargs) -> dict[str, float]:
    """One batch of whole episodes: robot and obstacle contacts (summed over steps, robots and
    copies), the final mean nearest-goal distance, and every action taken."""
    venv = swarmzoo.make_vec("navigation-v0", n_envs, **env_kwargs)
    obs, _ = venv.reset(seed=seed)
    task = venv.task
    contacts = obstacle_contacts = 0
    actions = []
    for _ in range(task.max_cycles):
        a = policy.act(obs, task)
        actions.append(np.array(a))
        obs, _, _, _, infos = venv.step(a)
        hits = int(infos["collisions"].sum())
        if task.config.n_obstacles:
            d = np.linalg.norm(min_image(task.pos[:, :, None] - task.obstacles[:, None], task.arena), axis=-1)
            touching = int((d < task.config.robot_radius + task.obstacle_radius[:, None]).sum())
            obstacle_contacts += touching
            hits -= touching
        contacts += hits
    venv.close()
    return {
        "contacts": contacts,
        "obstacle_contacts": obstacle_contacts,
        "goal_distance": float(infos["nearest_goal_distance"].mean()),
        "actions": np.stack(actions),
    }


def _summary(make, seeds=(0, 1, 2), **env_kwargs) -> dict[str, float]:
    runs = [_rollout(make(), seed, **env_kwargs) for seed in seeds]
    return {
        key: float(np.mean([r[key] for r in runs]))
        for key in ("contacts", "obstacle_contacts", "goal_distance")
    }


LAYOUTS = [
    {},
    {"continuous_actions": True},
    {"preset": "mpe_spread", "continuous_actions": True},
    {"preset": "mpe_spread"},
    {"n_agents": 7, "n_obstacles": 3, "continuous_actions": True},
    {"n_agents": 6, "boundary": "torus", "n_obstacles": 2},
    {"n_agents": 5, "boundary": "none", "n_goals": 3},
    {"n_agents": 4, "n_goals": 6, "max_speed": 0.8, "continuous_actions": True},
]


@needs_pyrvo
@pytest.mark.parametrize(
    "kwargs", LAYOUTS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default"
)
def test_actions_are_valid_in_every_layout(kwargs: dict) -> None:
    policy = make_policy("orca", "navigation-v0")
    venv = swarmzoo.make_vec("navigation-v0", 3, max_cycles=20, **kwargs)
    obs, _ = venv.reset(seed=3)
    space = venv.task.action_space
    for _ in range(25):  # across an auto-reset
        actions = policy.act(obs, venv.task)
        if isinstance(space, spaces.Discrete):
            assert actions.shape == (3, venv.task.config.n_agents) and actions.dtype.kind == "i"
            assert actions.min() >= 0 and actions.max() < space.n
        else:
            assert actions.shape == (3, venv.task.config.n_agents, *space.shape)
            assert actions.dtype == space.dtype
            assert (actions >= space.low).all() and (actions <= space.high).all()
        obs, *_ = venv.step(actions)  # the env itself refuses out-of-range actions


@needs_pyrvo
def test_make_policy_builds_orca() -> None:
    from swarmzoo.agents.orca import ORCA

    assert isinstance(make_policy("orca", "navigation-v0", seed=4), ORCA)


@needs_pyrvo
def test_seeded_rollouts_are_reproducible() -> None:
    kwargs = {"n_agents": 6, "n_obstacles": 2, "continuous_actions": True}
    first = _rollout(_orca(), 5, **kwargs)
    second = _rollout(_orca(), 5, **kwargs)
    np.testing.assert_array_equal(first["actions"], second["actions"])
    assert first["contacts"] == second["contacts"]


@needs_pyrvo
def test_fewer_collisions_than_the_heuristic_in_a_crowd() -> None:
    crowded = {"n_agents": 8, "arena_width": 2.0}  # 8 robots where the default puts 3
    orca = _summary(_orca, **crowded)
    heuristic = _summary(NavigationHeuristic, **crowded)
    random = _summary(lambda: RandomPolicy(seed=0), **crowded)
    assert orca["contacts"] < 0.3 * heuristic["contacts"], (orca, heuristic)
    # ... while still reaching the goals: far closer to them at the end than random robots.
    assert orca["goal_distance"] < 0.4 * random["goal_distance"], (orca, random)


@needs_pyrvo
def test_obstacles_are_respected() -> None:
    kwargs = {"n_agents": 6, "n_obstacles": 6, "obstacle_radius": 0.25, "arena_width": 3.0}
    orca = _summary(_orca, **kwargs)
    heuristic = _summary(lambda: NavigationHeuristic(obstacle_margin=1e-3), **kwargs)
    assert orca["obstacle_contacts"] < 0.5 * heuristic["obstacle_contacts"], (orca, heuristic)
    assert orca["contacts"] < heuristic["contacts"], (orca, heuristic)


@needs_pyrvo
def test_torus_neighbours_are_seen_across_the_seam() -> None:
    """On a torus without obstacles ORCA is translation invariant only if robots across the seam
    see each other at their minimum images: shifting the whole scene must not change actions."""
    kwargs = {"n_agents": 6, "arena_width": 2.0, "boundary": "torus", "continuous_actions": True}
    shift = np.array([1.0, 0.7])
    here, there = (swarmzoo.make_vec("navigation-v0", 2, **kwargs) for _ in range(2))
    obs, _ = here.reset(seed=7)
    there.reset(seed=7)
    a, b = _orca(), _orca()
    for _ in range(30):
        there.task.pos[...] = wrap(here.task.pos + shift, there.task.arena)
        there.task.vel[...] = here.task.vel
        there.task.goals[...] = wrap(here.task.goals + shift, there.task.arena)
        there.task.steps[...] = here.task.steps
        actions = a.act(obs, here.task)
        np.testing.assert_allclose(b.act(obs, there.task), actions, atol=2e-3)
        obs, *_ = here.step(actions)


@needs_pyrvo
def test_simulators_are_rebuilt_for_new_episodes() -> None:
    policy = _orca()
    venv = swarmzoo.make_vec("navigation-v0", 2, n_agents=4, max_cycles=5, n_obstacles=1)
    obs, _ = venv.reset(seed=0)
    first = None
    for t in range(6):
        obs, *_ = venv.step(policy.act(obs, venv.task))
        if t == 0:
            first = [copy.sim for copy in policy._sims]
    policy.act(obs, venv.task)  # the copies auto-reset at step 5
    assert all(copy.sim is not old for copy, old in zip(policy._sims, first))


@needs_pyrvo
def test_thousand_robots_smoke() -> None:
    policy = _orca()
    venv = swarmzoo.make_vec("navigation-v0", 1, n_agents=1000)
    obs, _ = venv.reset(seed=0)
    for _ in range(3):
        actions = policy.act(obs, venv.task)
        assert actions.shape == (1, 1000)
        obs, *_ = venv.step(actions)


@needs_pyrvo
def test_parameters_follow_the_env() -> None:
    policy = _orca()
    task = swarmzoo.make_vec("navigation-v0", 1, n_agents=3, max_speed=1.5).task
    prm = policy.parameters(task)
    assert prm["radius"] == pytest.approx(0.13)  # robot_radius + 0.3 of it
    np.testing.assert_allclose(prm["speed"], 1.5)  # the cap, below the terminal speed of 2
    prm = policy.parameters(swarmzoo.make_vec("navigation-v0", 1).task)
    np.testing.assert_allclose(prm["speed"], 5.0 * 0.1 / 0.25)  # accel dt / (mass damping)
    if "safety_radius" in Config.__dataclass_fields__:
        task = swarmzoo.make_vec("navigation-v0", 1, safety_radius=0.5).task
        assert policy.parameters(task)["radius"] == pytest.approx(0.25)
    try:  # one speed cap per robot, where the env supports it
        task = swarmzoo.make_vec("navigation-v0", 1, n_agents=3, max_speed=(0.5, 1.0, 3.0)).task
    except (ValueError, TypeError):
        return
    np.testing.assert_allclose(policy.parameters(task)["speed"], [0.5, 1.0, 2.0])
    assert policy.act(task.observe(), task).shape == (1, 3)


@needs_pyrvo
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"time_horizon": 0.0}, "time_horizon"),
        ({"time_horizon_obst": -1.0}, "time_horizon_obst"),
        ({"neighbor_dist": 0.0}, "neighbor_dist"),
        ({"max_neighbors": 0}, "max_neighbors"),
        ({"max_neighbors": 2.5}, "max_neighbors"),
        ({"radius": -0.1}, "radius"),
        ({"margin": -0.01}, "margin"),
        ({"max_speed": float("inf")}, "max_speed"),
        ({"time_constant": 0.0}, "time_constant"),
        ({"deadband": 1.0}, "deadband"),
        ({"obstacle_sides": 2}, "obstacle_sides"),
        ({"lookahead": 1}, "lookahead"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _orca(**kwargs)


@needs_pyrvo
def test_env_problems_are_named() -> None:
    flocking = swarmzoo.make_vec("flocking-v0", 1)
    obs, _ = flocking.reset(seed=0)
    with pytest.raises(ValueError, match="navigation-v0 only"):
        _orca().act(obs, flocking.task)
    nav = swarmzoo.make_vec("navigation-v0", 1)
    obs, _ = nav.reset(seed=0)
    with pytest.raises(ValueError, match="below the robot radius"):
        _orca(radius=0.05).act(obs, nav.task)
    undamped = swarmzoo.make_vec("navigation-v0", 1, damping=0.0)
    obs, _ = undamped.reset(seed=0)
    with pytest.raises(ValueError, match="no top speed"):
        _orca().act(obs, undamped.task)
    assert _orca(max_speed=1.0).act(obs, undamped.task).shape == (1, 3)
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("orca", "flocking-v0")


def test_missing_pyrvo_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyrvo", None)  # makes `import pyrvo` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'swarmzoo\[safety\]'.*--no-deps pyrvo"):
        _orca()
    with pytest.raises(ImportError, match="pyrvo"):
        make_policy("orca", "navigation-v0")
