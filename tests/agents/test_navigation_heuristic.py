"""The scripted navigation baseline clearly beats random on every navigation config."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo
from swarmzoo.agents import RandomPolicy, make_policy
from swarmzoo.agents.navigation import NavigationHeuristic
from swarmzoo.evaluation import evaluate

CONFIGS = [
    {},
    {"preset": "mpe_spread"},
    {"preset": "mpe_spread", "continuous_actions": True},
    {"continuous_actions": True},
    {"n_agents": 1},
    {"n_agents": 2},
    {"n_agents": 17},
    {"n_agents": 10, "n_obstacles": 4},
    {"n_agents": 6, "n_goals": 4},
    {"n_agents": 4, "n_goals": 7},
    {"n_agents": 6, "arena_width": 5.0, "arena_height": 2.0},
    {"n_agents": 9, "boundary": "torus"},
    {"n_agents": 5, "sensing_radius": 0.8, "max_speed": 1.0},
]


def _config_id(kwargs: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items()) or "default"


@pytest.mark.parametrize("kwargs", CONFIGS, ids=_config_id)
def test_heuristic_beats_random(kwargs: dict) -> None:
    heuristic = evaluate(
        "navigation-v0", make_policy("heuristic", "navigation-v0"), episodes=12, seed=1, **kwargs
    )
    random = evaluate("navigation-v0", RandomPolicy(seed=1), episodes=12, seed=1, **kwargs)
    gap = heuristic["mean_return"] - random["mean_return"]
    assert gap > 0.4 * abs(random["mean_return"]), (heuristic, random)


def test_heuristic_occupies_every_goal_on_default_config() -> None:
    result = evaluate("navigation-v0", make_policy("heuristic", "navigation-v0"), episodes=16, seed=2)
    assert result["success_rate"] >= 0.9


def test_heuristic_is_batched_and_reassigns_after_auto_reset() -> None:
    venv = swarmzoo.make_vec("navigation-v0", 5, n_agents=4, max_cycles=10)
    policy = NavigationHeuristic()
    obs, _ = venv.reset(seed=0)
    first_targets = None
    for t in range(11):
        actions = policy.act(obs, venv.task)
        assert actions.shape == (5, 4) and actions.dtype.kind == "i"
        if t == 0:
            first_targets = policy._targets.copy()
        obs, *_ = venv.step(actions)
    # After the auto-reset at step 10 the goals moved, and so did the assignment.
    policy.act(obs, venv.task)
    assert not np.allclose(policy._targets, first_targets)
    # Every robot is matched to a distinct goal of its own copy.
    for e in range(5):
        assert len({tuple(g) for g in policy._targets[e]}) == 4
        assert all(any(np.allclose(g, goal) for goal in venv.task.goals[e]) for g in policy._targets[e])


def test_make_policy_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown policy 'clever'"):
        make_policy("clever", "navigation-v0")
    with pytest.raises(ValueError, match="unknown env id"):
        make_policy("heuristic", "no-such-env-v0")
