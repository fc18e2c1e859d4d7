"""Slow learning tests: MAPPO and IPPO really learn navigation (run with `pytest -m slow`).

Returns are per-robot episode returns (see ``swarmzoo.evaluation.evaluate``). A policy's
*normalised score* is ``(R - R_random) / (R_heuristic - R_random)``: 0 is random, 1 is the scripted
Hungarian-assignment heuristic. "At least 90% of the heuristic's return" is read as a normalised
score >= 0.9 (returns are negative, so a plain ratio would reward doing worse).
"""

from __future__ import annotations

import pytest

from swarmzoo.agents import RandomPolicy, make_policy
from swarmzoo.algorithms.ctde import Args, policy_of, train
from swarmzoo.evaluation import evaluate

pytestmark = pytest.mark.slow

EVAL = dict(episodes=48, seed=12345)


def _score(policy, **env_kwargs) -> tuple[float, dict]:
    trained = evaluate("navigation-v0", policy, **EVAL, **env_kwargs)["mean_return"]
    heuristic = evaluate("navigation-v0", make_policy("heuristic", "navigation-v0"), **EVAL, **env_kwargs)[
        "mean_return"
    ]
    random = evaluate("navigation-v0", RandomPolicy(seed=0), **EVAL, **env_kwargs)["mean_return"]
    info = {"trained": trained, "heuristic": heuristic, "random": random}
    return (trained - random) / (heuristic - random), info


def test_mappo_reaches_90_percent_of_the_heuristic_on_navigation(tmp_path) -> None:
    result = train(
        Args(
            critic="central",
            total_steps=1_000_000,
            seed=0,
            out=tmp_path / "mappo",
            progress=False,
            tensorboard=False,
        )
    )
    score, info = _score(policy_of(result))
    assert score >= 0.9, info


def test_ippo_beats_random_by_a_wide_margin_on_navigation(tmp_path) -> None:
    result = train(
        Args(
            critic="local",
            total_steps=300_000,
            seed=0,
            out=tmp_path / "ippo",
            progress=False,
            tensorboard=False,
        )
    )
    score, info = _score(policy_of(result))
    assert score >= 0.5, info


def test_mappo_beats_random_on_navigation_with_obstacles_continuous(tmp_path) -> None:
    kwargs = ("n_agents=4", "n_obstacles=2", "continuous_actions=True")
    result = train(
        Args(
            critic="central",
            total_steps=300_000,
            seed=0,
            env_kwargs=kwargs,
            out=tmp_path / "cont",
            progress=False,
            tensorboard=False,
        )
    )
    score, info = _score(policy_of(result), n_agents=4, n_obstacles=2, continuous_actions=True)
    assert score >= 0.5, info
