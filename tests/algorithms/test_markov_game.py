"""The multi-state Markov coordination game: dynamics and reward, the exact value, the NE gap
against brute force, errors; slow: Bayesian-network policies reach more of the optimum than
independent ones at equal gradient steps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from swarmzoo.algorithms.coordination_game import (
    DAG_KINDS,
    MarkovCoordinationGame,
    TabularDAGPolicy,
    dag_parents,
    train_markov_game,
)


def test_transition_is_the_product_of_per_agent_bit_flips() -> None:
    game = MarkovCoordinationGame(3, noise=0.2)
    flip = np.array([[0.8, 0.2], [0.2, 0.8]])
    T = np.kron(np.kron(flip, flip), flip)
    x = torch.rand(5, 8, dtype=torch.float64)
    np.testing.assert_allclose(game.transition(x).numpy(), x.numpy() @ T, atol=1e-14)
    np.testing.assert_allclose(T.sum(1), 1.0)


def test_reward_follows_the_majority_and_margin() -> None:
    game = MarkovCoordinationGame(5)  # margin 2
    assert game.margin == 2
    by_ones = {int(k): float(game.reward[game.bits.sum(1) == k][0]) for k in range(6)}
    # 5-0 and 4-1 for zeros: 3; 1-4 and 0-5: 2; 3-2 zeros: 0; 2-3: 1
    assert by_ones == {0: 3.0, 1: 3.0, 2: 0.0, 3: 1.0, 4: 2.0, 5: 2.0}
    assert [MarkovCoordinationGame(n).margin for n in (2, 3, 5, 10)] == [1, 1, 2, 3]


def test_the_optimum_is_all_zeros_and_the_exact_value_matches_a_rollout() -> None:
    game = MarkovCoordinationGame(3)
    zeros = torch.zeros(game.size, game.size, dtype=torch.float64)
    zeros[:, 0] = 1.0  # every state: joint action 0 (all zeros)
    V = game.values(zeros)
    assert float(torch.as_tensor(game.start) @ V) == pytest.approx(game.optimal_value(), rel=1e-9)
    # Monte Carlo check of the exact value of a random policy
    policy = TabularDAGPolicy(game, dag_parents("full", 3), seed=1)
    with torch.no_grad():
        joint = policy.joint().numpy()
        exact = game.values(policy.joint()).numpy()
    rng = np.random.default_rng(0)
    flip = np.array([[0.9, 0.1], [0.1, 0.9]])
    T = np.kron(np.kron(flip, flip), flip)
    episodes = 4000
    s = np.full(episodes, 5)
    returns, disc = np.zeros(episodes), 1.0
    for _ in range(120):  # all episodes at once: inverse-CDF sampling of action and next state
        returns += disc * game.reward[s]
        disc *= game.gamma
        a = np.minimum((rng.random((episodes, 1)) > np.cumsum(joint[s], axis=1)).sum(1), 7)
        s = np.minimum((rng.random((episodes, 1)) > np.cumsum(T[a], axis=1)).sum(1), 7)
    assert np.mean(returns) == pytest.approx(exact[5], abs=4 * np.std(returns) / np.sqrt(len(returns)) + 0.01)


@pytest.mark.parametrize("n,kind", [(2, "independent"), (2, "full"), (3, "line"), (3, "independent")])
def test_ne_gap_equals_the_best_of_all_deterministic_deviations(n: int, kind: str) -> None:
    game = MarkovCoordinationGame(n)
    policy = TabularDAGPolicy(game, dag_parents(kind, n), seed=3)
    mu = torch.as_tensor(game.start)
    with torch.no_grad():
        factors = policy.factors()
        joint = policy.joint()
        J = float(mu @ game.values(joint))
        best = -np.inf
        for i in range(n):
            others = torch.ones_like(joint)
            for j, f in enumerate(factors):
                if j != i:
                    others = others * f
            rows = 2 ** len(policy.parents[i])
            # every deterministic rule (state, parents' actions) -> own action, all at once
            rules = torch.tensor(list(itertools.product((0, 1), repeat=game.size * rows)))
            choose = rules.reshape(-1, game.size, rows)[:, :, policy._rows[i]] == policy._own[i]
            deviations = others * choose  # (rules, S, A)
            np.testing.assert_allclose(deviations.sum(-1).numpy(), 1.0)
            best = max(best, float((game.values(deviations) @ mu).max()))
    assert policy.ne_gap() == pytest.approx(best - J, abs=1e-9)
    assert best - J > 0


def test_training_raises_the_return_and_shrinks_the_gap() -> None:
    game = MarkovCoordinationGame(3)
    result = train_markov_game(game, "full", iterations=200, seed=0, evaluations=4)
    assert result.iterations[0] == 0 and result.iterations[-1] == 200
    assert result.ratio[-1] > result.ratio[0] + 0.2
    assert result.ne_gap[-1] < result.ne_gap[0] / 2
    assert all(g >= -1e-9 for g in result.ne_gap)


def test_dag_kinds() -> None:
    assert dag_parents("independent", 3) == ((), (), ())
    assert dag_parents("line", 3) == ((), (0,), (1,))
    assert dag_parents("full", 3) == ((), (0,), (0, 1))
    assert dag_parents("random", 6, edge_prob=0.0) == ((),) * 6
    assert dag_parents("random", 6, edge_prob=1.0) == dag_parents("full", 6)
    assert set(DAG_KINDS) == {"independent", "line", "full", "random"}


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: MarkovCoordinationGame(1), "n must be an integer in"),
        (lambda: MarkovCoordinationGame(13), "n must be an integer in"),
        (lambda: MarkovCoordinationGame(3, noise=0.7), "noise"),
        (lambda: MarkovCoordinationGame(3, gamma=1.0), "gamma"),
        (lambda: MarkovCoordinationGame(3, margin=-1), "margin"),
        (lambda: dag_parents("star", 3), "kind"),
        (lambda: dag_parents("random", 3, edge_prob=1.5), "edge_prob"),
        (lambda: TabularDAGPolicy(MarkovCoordinationGame(3), ((), (1,), ())), "earlier agents"),
        (lambda: train_markov_game(MarkovCoordinationGame(2), "full", iterations=0), "iterations"),
        (lambda: train_markov_game(MarkovCoordinationGame(2), "full", lr=-1.0), "lr"),
    ],
)
def test_bad_input_is_refused_by_name(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.slow
def test_bayes_net_policies_reach_more_of_the_optimum_than_independent_ones() -> None:
    """2 agents, 2,000 exact steps, 10 seeds (the `markov_coordination_game` table): the BN
    (leader-follower) policies end within 5% of J* from every seed, independent ones from only
    some (the rest settle on the all-ones convention in part of the states)."""
    game = MarkovCoordinationGame(2)
    bn = [train_markov_game(game, "full", seed=s, evaluations=1).ratio[-1] for s in range(10)]
    ind = [train_markov_game(game, "independent", seed=s, evaluations=1).ratio[-1] for s in range(10)]
    assert min(bn) > 0.95, bn
    assert np.mean(bn) > np.mean(ind) + 0.05, (bn, ind)
    assert sum(r < 0.95 for r in ind) >= 3, ind
