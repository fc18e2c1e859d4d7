"""The MAD-PINN-style controller and its pair safety value: the value meets its boundary
condition and agrees in sign with a computed reference, the controller keeps the most critical
neighbours (not the nearest), is safer than the heuristic in a crowd, refuses dynamics it was not
trained for, runs on 1,000 robots, and the trainer writes a file that loads back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.agents.mad_pinn import MADPINNController, PairDynamics, load_value, time_to_collision
from swarmzoo.agents.navigation import NavigationHeuristic
from swarmzoo.algorithms import mad_pinn


@pytest.fixture(scope="module")
def value():
    return load_value()


def test_shipped_value_matches_navigation_defaults(value) -> None:
    cfg = swarmzoo.make_vec("navigation-v0", 1).task.config
    assert value.meta["dynamics"] == {
        "accel": cfg.accel,
        "dt": cfg.dt,
        "damping": cfg.damping,
        "mass": cfg.mass,
        "max_speed": cfg.max_speed,
    }
    assert value.safety_radius == 0.3 and value.dynamics.control_set == "diamond"


def test_boundary_condition_and_value_below_margin(value) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (500, 4)) * [3.0, 3.0, 4.4, 4.4]
    margin = np.linalg.norm(x[:, :2], axis=-1) - value.safety_radius
    np.testing.assert_allclose(value(x[:, :2], x[:, 2:], tau=0.0), margin, atol=1e-5)
    assert np.all(value(x[:, :2], x[:, 2:]) <= margin + 1e-5)


# (dp, dv) robot minus neighbour; head-on and oblique approaches at several distances and speeds,
# a resting pair and a receding one (whose value is exactly the margin).
FIXED_STATES = np.array(
    [
        [1.0, 0.0, -4.0, 0.0],
        [0.6, 0.0, -4.0, 0.0],
        [0.5, 0.0, -2.0, 0.0],
        [0.33, 0.0, -2.0, 0.0],
        [0.6, 0.05, -4.0, 0.0],
        [0.7, 0.7, -3.0, -3.0],
        [0.4, 0.4, -3.0, -3.0],
        [0.0, 1.2, 0.5, -4.0],
        [0.0, 0.8, 0.0, -4.0],
        [0.4, 0.0, 0.0, 0.0],
        [0.5, 0.0, 2.0, 0.0],
        [1.5, -1.0, -2.0, 2.0],
    ]
)


def test_value_sign_agrees_with_the_reference_on_fixed_states(value) -> None:
    ref = mad_pinn.ground_truth(
        FIXED_STATES, value.dynamics, value.safety_radius, value.horizon, refine_steps=30
    )
    assert (ref >= 0).any() and (ref < 0).any()  # both kinds are tested
    v = value(FIXED_STATES[:, :2], FIXED_STATES[:, 2:])
    decided = np.abs(ref) > 0.05
    assert decided.sum() >= 10
    assert np.array_equal(v[decided] >= 0, ref[decided] >= 0), np.c_[FIXED_STATES, ref, v]
    assert np.abs(v - ref).max() < 0.15, np.c_[FIXED_STATES, ref, v]


def test_value_sign_agreement_on_closing_states(value) -> None:
    x = mad_pinn.critical_states(200, value.network, seed=123)
    ref = mad_pinn.ground_truth(x, value.dynamics, value.safety_radius, value.horizon, refine_steps=0)
    assert 0.1 < np.mean(ref >= 0) < 0.9  # both kinds
    v = value(x[:, :2], x[:, 2:])
    assert np.mean((v >= 0) == (ref >= 0)) >= 0.95
    assert np.mean((v >= 0) & (ref < 0)) <= 0.05
    # The file's verified level (from other held-out states) holds here too.
    level = value.meta["validation"]["critical_safe_level"]
    assert 0.0 < level < 0.1 and not np.any((v >= level) & (ref < 0))


def test_time_to_collision() -> None:
    dp = np.array([[1.0, 0.0], [1.0, 0.0], [0.2, 0.0], [1.0, 0.0]])
    dv = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, -1.0]])
    np.testing.assert_allclose(time_to_collision(dp, dv, 0.3), [0.7, np.inf, 0.0, np.inf])


def _set_state(venv, pos, vel, goals) -> np.ndarray:
    task = venv.task
    task.pos[...] = pos
    task.vel[...] = vel
    task.goals[...] = goals
    task._contacts()
    return task.observe()


@pytest.mark.parametrize("ranking, expected", [("value", 2), ("ttc", 2), ("nearest", 1)])
def test_keeps_the_most_critical_neighbour_not_the_nearest(ranking: str, expected: int) -> None:
    venv = swarmzoo.make_vec("navigation-v0", 1, n_agents=3, arena_width=6.0)
    venv.reset(seed=0)
    # Robot 1 is near (0.5) but moving away; robot 2 is farther (1.0) and closing fast.
    pos = [[[0.0, 0.0], [0.5, 0.0], [-1.0, 0.0]]]  # the arena is centred: [-3, 3]^2
    vel = [[[0.0, 0.0], [2.0, 0.0], [3.0, 0.0]]]
    obs = _set_state(venv, pos, vel, [[[0.0, 2.0], [2.5, 0.0], [0.0, -2.0]]])
    policy = MADPINNController(k=1, ranking=ranking)
    policy.act(obs, venv.task)
    assert policy.last_kept[0, 0, 0] == expected


@pytest.mark.parametrize("continuous", [False, True])
def test_goes_round_a_robot_the_heuristic_runs_into(continuous: bool) -> None:
    """Robot 1 rests on its goal, just off robot 0's straight path to its own goal."""

    def run(policy) -> tuple[float, float]:
        venv = swarmzoo.make_vec(
            "navigation-v0", 1, n_agents=2, arena_width=6.0, continuous_actions=continuous
        )
        venv.reset(seed=0)
        goals = [[[2.0, 0.0], [0.0, 0.05]]]  # the arena is centred: [-3, 3]^2
        obs = _set_state(venv, [[[-2.0, 0.0], [0.0, 0.05]]], np.zeros((1, 2, 2)), goals)
        closest = np.inf
        for _ in range(30):
            obs, *_ = venv.step(policy.act(obs, venv.task))
            closest = min(closest, float(np.linalg.norm(venv.task.pos[0, 0] - venv.task.pos[0, 1])))
        return closest, float(np.linalg.norm(venv.task.pos[0, 0] - goals[0][0]))

    closest, _ = run(NavigationHeuristic())
    assert closest < 0.2  # contact (and robot 0 then stays pressed against robot 1)
    closest, to_goal = run(MADPINNController())
    assert closest > 0.25 and to_goal < 0.3  # round it, and on to its goal


@pytest.mark.parametrize("continuous", [False, True])
def test_safer_than_the_heuristic_in_a_crowd(continuous: bool) -> None:
    kwargs = dict(n_agents=8, episodes=4, seed=3, arena_width=1.8, continuous_actions=continuous)
    heuristic = mad_pinn.navigation_safety(NavigationHeuristic(), **kwargs)
    ours = mad_pinn.navigation_safety(MADPINNController(), **kwargs)
    assert ours["collisions"] < 0.5 * heuristic["collisions"], (ours, heuristic)
    assert ours["min_separation"] > heuristic["min_separation"], (ours, heuristic)
    assert ours["final_goal_distance"] < 0.3, ours  # it still navigates


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"accel": 4.0}, r"accel=4\.0 \(value trained for 5\.0\)"),
        ({"damping": 0.3, "mass": 2.0}, r"damping=0\.3 .*mass=2\.0"),
        ({"max_speed": 1.0}, r"max_speed=1\.0"),
        ({"preset": "mpe_spread"}, "mpe_spread"),
    ],
)
def test_refuses_other_dynamics(kwargs: dict, match: str) -> None:
    venv = swarmzoo.make_vec("navigation-v0", 1, **kwargs)
    obs, _ = venv.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        MADPINNController().act(obs, venv.task)


def test_refuses_another_safety_radius() -> None:
    venv = swarmzoo.make_vec("navigation-v0", 1)
    obs, _ = venv.reset(seed=0)
    with pytest.raises(ValueError, match="safety_radius=0.4"):
        MADPINNController(safety_radius=0.4).act(obs, venv.task)


@pytest.mark.parametrize("continuous", [False, True])
def test_runs_on_a_thousand_robots(continuous: bool) -> None:
    venv = swarmzoo.make_vec("navigation-v0", 1, n_agents=1000, continuous_actions=continuous)
    obs, _ = venv.reset(seed=0)
    policy = make_policy("mad-pinn", "navigation-v0")
    assert isinstance(policy, MADPINNController)
    for _ in range(3):
        actions = policy.act(obs, venv.task)
        obs, *_ = venv.step(actions)
    if continuous:
        assert actions.shape == (1, 1000, 2) and np.abs(actions).max() <= 1.0
    else:
        assert actions.shape == (1, 1000) and actions.dtype.kind == "i"
    assert policy.last_kept.shape == (1, 1000, 4)


def test_train_value_end_to_end(tmp_path) -> None:
    args = mad_pinn.Args(
        out=tmp_path / "value.pt",
        iterations=30,
        batch=64,
        hidden=(8, 8),
        validation_states=16,
        reference_refine_steps=0,
        progress=False,
    )
    threads = torch.get_num_threads()
    path = mad_pinn.train_value(args)
    assert torch.get_num_threads() == threads
    value = load_value(path)
    assert value.dynamics == PairDynamics() and value.horizon == args.horizon
    assert set(value.meta["validation"]) >= {"uniform_sign_agreement", "critical_sign_agreement"}
    x = np.array([[0.5, 0.2, -1.0, 0.3]])
    np.testing.assert_allclose(value(x[:, :2], x[:, 2:], tau=0.0), [np.hypot(0.5, 0.2) - 0.3], atol=1e-6)
    venv = swarmzoo.make_vec("navigation-v0", 2, n_agents=4)
    obs, _ = venv.reset(seed=0)
    assert MADPINNController(path).act(obs, venv.task).shape == (2, 4)
    # A value trained for the box of continuous actions is refused on discrete ones.
    box = mad_pinn.train_value(
        mad_pinn.Args(
            out=tmp_path / "box.pt",
            control_set="box",
            iterations=2,
            batch=16,
            hidden=(4,),
            validation_states=0,
            progress=False,
        )
    )
    with pytest.raises(ValueError, match="control_set='diamond'"):
        MADPINNController(box).act(obs, venv.task)
