"""Slow learning tests: MAPPO and IPPO really learn navigation (run with `pytest -m slow`).

Returns are per-robot episode returns (see ``swarmzoo.evaluation.evaluate``). A policy's
*normalised score* is ``(R - R_random) / (R_heuristic - R_random)``: 0 is random, 1 is the scripted
Hungarian-assignment heuristic. "At least 90% of the heuristic's return" is read as a normalised
score >= 0.9 (returns are negative, so a plain ratio would reward doing worse).
"""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize("env_id", ["flocking-v0", "kuramoto-v0"])
def test_mappo_learns_collective_behaviour_and_transfers_to_a_larger_swarm(tmp_path, env_id) -> None:
    """MAPPO on 20 robots reaches at least the scripted rule's normalised score of 0.8 (returns
    are sums of order parameters), and the same policy, which sees only local summaries, keeps
    beating random by a wide margin on 100 robots."""
    result = train(
        Args(
            env=env_id,
            env_kwargs=("n_agents=20",),
            critic="central",
            total_steps=40_000,
            num_envs=16,
            seed=0,
            out=tmp_path / "run",
            progress=False,
            tensorboard=False,
        )
    )
    policy = policy_of(result)
    for n_agents, floor in ((20, 0.8), (100, 0.5)):
        eval_kw = dict(episodes=16, seed=12345, n_agents=n_agents)
        trained = evaluate(env_id, policy, **eval_kw)["mean_return"]
        heuristic = evaluate(env_id, make_policy("heuristic", env_id), **eval_kw)["mean_return"]
        random = evaluate(env_id, RandomPolicy(seed=0), **eval_kw)["mean_return"]
        info = {"n_agents": n_agents, "trained": trained, "heuristic": heuristic, "random": random}
        assert (trained - random) / (heuristic - random) >= floor, info


def test_recurrent_actor_remembers_what_a_memoryless_one_cannot(tmp_path, monkeypatch) -> None:
    """Cue recall (``cue_recall_env.py``): a cue seen at the first step must be named at the last.
    A memoryless policy earns 1/2 per episode at best; the GRU actor (``recurrent=32``) learns
    to earn about 1 within the same 10,000 env steps (training return, last 5 updates)."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))  # cue_recall_env.py
    final = {}
    for size in (0, 32):
        result = train(
            Args(
                env="cue_recall_env:parallel_env",
                critic="local",
                recurrent=size,
                total_steps=10_000,
                num_envs=16,
                rollout_steps=16,
                seed=0,
                out=tmp_path / f"gru{size}",
                progress=False,
                tensorboard=False,
            )
        )
        final[size] = sum(ret for _, _, ret in result.curve[-5:]) / 5
    assert final[32] >= 0.95, final
    assert final[0] <= 0.62, final
