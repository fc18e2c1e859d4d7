"""Slow learning tests for Dec-POMFC (run with `pytest -m slow`).

On flocking-v0 (reward: the swarm's polar order parameter each step, 100 steps) the episode
return / 100 is the mean order parameter of the episode.
"""

from __future__ import annotations

import pytest

from swarmzoo.agents import RandomPolicy, make_policy
from swarmzoo.algorithms.mean_field import Args, train
from swarmzoo.evaluation import evaluate

pytestmark = pytest.mark.slow


def _order(policy, n_agents: int, episodes: int) -> float:
    return (
        evaluate("flocking-v0", policy, episodes=episodes, seed=12345, n_agents=n_agents)["mean_return"] / 100
    )


def test_flocking_policy_beats_random_and_keeps_its_order_at_ten_times_the_swarm(tmp_path) -> None:
    result = train(
        Args(
            env="flocking-v0",
            env_kwargs=("n_agents=50",),
            total_steps=48_000,
            seed=0,
            out=tmp_path / "run",
            progress=False,
            tensorboard=False,
        )
    )
    policy = make_policy(str(result.run_dir), "flocking-v0")
    trained, large = _order(policy, 50, 16), _order(policy, 500, 4)
    random = _order(RandomPolicy(seed=0), 50, 16)
    info = {"order N=50": trained, "order N=500": large, "random N=50": random}
    print(info)
    assert trained >= random + 0.5 and trained >= 3 * random, info
    assert abs(large - trained) <= 0.1 * trained, info


def test_kuramoto_policy_beats_random(tmp_path) -> None:
    result = train(
        Args(
            env="kuramoto-v0",
            env_kwargs=("n_agents=50",),
            total_steps=48_000,
            seed=0,
            out=tmp_path / "run",
            progress=False,
            tensorboard=False,
        )
    )
    policy = make_policy(str(result.run_dir), "kuramoto-v0")
    kw = dict(episodes=16, seed=12345, n_agents=50)
    trained = evaluate("kuramoto-v0", policy, **kw)["mean_return"]
    random = evaluate("kuramoto-v0", RandomPolicy(seed=0), **kw)["mean_return"]
    info = {"trained": trained, "random": random}
    print(info)
    assert trained >= 1.5 * random, info
