"""The Bayesian-network joint policy: acyclic graphs, parent masking, factor log-probabilities."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from swarmzoo.agents.bayes_net import BayesNetActor, allowed_edges, gumbel_edges, levels


def _actor(n: int = 3, d: int = 4, a: int = 3, order=None, seed: int = 0) -> BayesNetActor:
    torch.manual_seed(seed)
    actor = BayesNetActor(d, a, n, hidden=(16,), order=order)
    for p in actor.parameters():  # larger weights than the near-zero init, so factors differ
        torch.nn.init.normal_(p, std=0.7)
    return actor


@pytest.mark.parametrize("seed", range(5))
def test_sampled_graphs_are_acyclic_and_follow_the_order(seed: int) -> None:
    n = 6
    order = torch.as_tensor(np.random.default_rng(seed).permutation(n))
    actor = _actor(n=n, order=order, seed=seed)
    obs = torch.randn(32, n, 4)
    g = actor.sample_graph(obs, generator=torch.Generator().manual_seed(seed))
    assert set(g.unique().tolist()) <= {0.0, 1.0} and g.sum() > 0
    assert not (g.bool() & ~actor.allowed).any()
    level = levels(g)  # raises on a cycle
    j, i = torch.nonzero(g[0], as_tuple=True)
    assert (level[0, j] < level[0, i]).all()
    rank = torch.empty(n, dtype=torch.long)
    rank[order] = torch.arange(n)
    assert torch.equal(allowed_edges(n, order), rank[:, None] < rank[None, :])


def test_levels_reject_cycles_and_bad_orders() -> None:
    cyc = torch.zeros(1, 3, 3)
    cyc[0, 0, 1] = cyc[0, 1, 2] = cyc[0, 2, 0] = 1
    with pytest.raises(ValueError, match="cycle"):
        levels(cyc)
    with pytest.raises(ValueError, match="permutation"):
        allowed_edges(3, torch.tensor([0, 0, 2]))


def test_a_robot_reads_only_its_parents_actions() -> None:
    actor = _actor(n=4)
    obs = torch.randn(1, 4, 4)
    graph = torch.zeros(1, 4, 4)
    graph[0, 0, 2] = 1.0  # robot 0 is robot 2's only parent
    base = torch.tensor([[0, 1, 2, 0]])
    probs = actor.factors(obs, base, graph).probs[0, 2]
    for other in (1, 3):  # non-parents: any action leaves robot 2's factor unchanged
        for a in range(3):
            changed = base.clone()
            changed[0, other] = a
            torch.testing.assert_close(actor.factors(obs, changed, graph).probs[0, 2], probs)
    changed = base.clone()
    changed[0, 0] = 2  # the parent's action does change it
    assert not torch.allclose(actor.factors(obs, changed, graph).probs[0, 2], probs)


def test_an_empty_graph_is_an_independent_policy() -> None:
    actor = _actor(n=3)
    obs = torch.randn(5, 3, 4)
    empty = torch.zeros(5, 3, 3)
    actions = torch.randint(0, 3, (5, 3))
    independent = torch.cat([obs, torch.zeros(5, 3, 9)], dim=-1)
    expected = torch.distributions.Categorical(logits=actor.actor(independent)).log_prob(actions)
    torch.testing.assert_close(actor.log_prob(obs, actions, empty), expected)
    assert levels(empty).max() == 0
    greedy = torch.distributions.Categorical(logits=actor.actor(independent)).probs.argmax(-1)
    assert torch.equal(actor.act(obs, empty, deterministic=True), greedy)


def test_pairwise_edges_read_only_the_two_robots() -> None:
    torch.manual_seed(0)
    actor = BayesNetActor(4, 3, 5, hidden=(16,), context="pairwise")
    obs = torch.randn(2, 5, 4)
    logits = actor.edge_logits(obs)
    changed = obs.clone()
    changed[:, 4] = torch.randn(2, 4)  # robot 4's observation
    new = actor.edge_logits(changed)
    others = [0, 1, 2, 3]
    torch.testing.assert_close(new[:, others][:, :, others], logits[:, others][:, :, others])
    assert not torch.allclose(new[:, 4], logits[:, 4])
    with pytest.raises(ValueError, match="context"):
        BayesNetActor(4, 3, 5, context="global")


@pytest.mark.parametrize("edges", [((0, 1), (0, 2), (1, 2)), ((0, 2), (1, 2))])
def test_joint_log_probabilities_sum_to_one_and_match_sampling(edges) -> None:
    """Brute force on 3 robots: exp(sum of log-factors) over all 27 joint actions sums to 1, and
    the level-by-level sampler draws joint actions with those probabilities (a full chain: three
    levels; a collider: robots 0 and 1 drawn together in one level)."""
    actor = _actor(n=3)
    obs = torch.randn(1, 3, 4)
    graph = torch.zeros(1, 3, 3)
    for j, i in edges:
        graph[0, j, i] = 1.0
    joint = {}
    for combo in itertools.product(range(3), repeat=3):
        a = torch.tensor([combo])
        joint[combo] = actor.log_prob(obs, a, graph).sum().exp().item()
    assert sum(joint.values()) == pytest.approx(1.0, abs=1e-5)
    draws = 20_000
    sampled = actor.act(
        obs.expand(draws, -1, -1), graph.expand(draws, -1, -1), generator=torch.Generator().manual_seed(0)
    )
    counts: dict[tuple, int] = {}
    for row in sampled.tolist():
        counts[tuple(row)] = counts.get(tuple(row), 0) + 1
    for combo, p in joint.items():
        assert counts.get(combo, 0) / draws == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / draws) + 1e-3)


def test_straight_through_edges_pass_gradients_to_the_edge_network() -> None:
    actor = _actor(n=3)
    obs = torch.randn(8, 3, 4)
    graph = actor.sample_graph(obs, generator=torch.Generator().manual_seed(1))
    actions = actor.act(obs, graph.detach())
    (actor.log_prob(obs, actions, graph).sum() + actor.density(graph)).backward()
    assert actor.edge_net[0].weight.grad.abs().sum() > 0
    soft = gumbel_edges(torch.zeros(1000, 2), hard=False, generator=torch.Generator().manual_seed(0))
    assert 0.4 < soft.mean() < 0.6


def test_comm_mask_limits_parents_to_neighbours() -> None:
    actor = _actor(n=4)
    obs = torch.randn(16, 4, 4)
    comm = torch.zeros(16, 4, 4, dtype=torch.bool)
    comm[:, 0, 1] = comm[:, 1, 0] = True  # only robots 0 and 1 can talk
    g = actor.sample_graph(obs, comm_mask=comm)
    assert g.sum() == g[:, 0, 1].sum()


def test_learned_orders_are_total_orders_and_learn() -> None:
    """A Gumbel-Sinkhorn order: every draw allows each pair in exactly one direction (a total
    order, so every graph is acyclic), and the order logits receive gradients."""
    torch.manual_seed(0)
    actor = BayesNetActor(4, 3, 5, hidden=(16,), order="learned")
    for p in actor.edge_net.parameters():
        torch.nn.init.normal_(p, std=0.7)
    obs = torch.randn(16, 5, 4)
    graph, pairs = actor.sample_graph(obs, return_mask=True, order_noise=torch.rand(16, 5, 5))
    eye = torch.eye(5)
    torch.testing.assert_close(
        pairs.detach() + pairs.detach().transpose(-1, -2), (1 - eye).expand(16, -1, -1)
    )
    levels(graph)  # raises on a cycle
    assert len({tuple(m.flatten().tolist()) for m in pairs.detach()}) > 1  # orders differ between draws
    actor.density(graph, pairs).backward()
    assert actor.order_logits.grad is not None and actor.order_logits.grad.abs().sum() > 0
    fixed = actor.order_mask(3, deterministic=True)
    assert torch.equal(fixed[0], fixed[1])
    with pytest.raises(ValueError, match="learned"):
        BayesNetActor(4, 3, 5, order="random")


def test_random_dag_draws_each_allowed_edge_with_its_probability_and_replays() -> None:
    actor = BayesNetActor(
        obs_dim=4, n_actions=3, n_agents=5, hidden=(8,), order=torch.tensor([4, 2, 0, 1, 3]), edge_prob=0.3
    )
    assert actor.edge_net is None
    obs = torch.randn(4000, 5, 4)
    graph = actor.sample_graph(obs, generator=torch.Generator().manual_seed(0))
    allowed = actor.allowed.expand_as(graph)
    assert not graph[~allowed].any()  # never outside the order
    assert abs(float(graph[allowed].mean()) - 0.3) < 0.01
    levels(graph)  # raises on a cycle
    noise = torch.rand(7, 5, 5, 2)
    assert torch.equal(actor.sample_graph(obs[:7], noise=noise), actor.sample_graph(obs[:7], noise=noise))
    det = actor.sample_graph(obs[:2000], deterministic=True, generator=torch.Generator().manual_seed(1))
    assert 0.25 < float(det[allowed[:2000]].mean()) < 0.35  # drawn at execution too, not an argmax
    for p, expected in ((0.0, torch.zeros(5, 5, dtype=torch.bool)), (1.0, actor.allowed)):
        full = BayesNetActor(4, 3, 5, (8,), order=torch.tensor([4, 2, 0, 1, 3]), edge_prob=p)
        assert torch.equal(full.sample_graph(obs[:3]).bool(), expected.expand(3, 5, 5))
    with pytest.raises(ValueError, match="edge_prob must lie in"):
        BayesNetActor(4, 3, 5, edge_prob=1.5)
    with pytest.raises(ValueError, match="no edge network"):
        actor.edge_logits(obs[:1])


def test_recurrent_memory_unrolls_like_its_steps_and_restarts_with_episodes() -> None:
    torch.manual_seed(0)
    actor = BayesNetActor(obs_dim=4, n_actions=3, n_agents=3, hidden=(16,), recurrent=8)
    obs = torch.randn(5, 2, 3, 4)
    starts = torch.tensor([[1, 1], [0, 0], [0, 1], [0, 0], [1, 0]], dtype=torch.float32)
    h0 = torch.randn(2, 3, 8)
    h, stepped = h0, []
    for t in range(5):
        h = actor.memory(obs[t], h, starts[t])
        stepped.append(h)
    assert torch.allclose(actor.unroll_memory(obs, h0, starts), torch.stack(stepped))
    fresh = actor.memory(obs[0], torch.zeros(2, 3, 8))
    assert torch.allclose(stepped[0], fresh)  # a start zeroes the memory first
    # The factor depends on the past: same current observation, different histories.
    a = actor.memory(obs[1], actor.memory(obs[0], actor.initial_state(2)))
    b = actor.memory(obs[1], actor.memory(-obs[0], actor.initial_state(2)))
    graph, acts = torch.zeros(2, 3, 3), torch.zeros(2, 3, dtype=torch.long)
    assert not torch.allclose(
        actor.factors(obs[1], acts, graph, a).probs, actor.factors(obs[1], acts, graph, b).probs
    )
    with pytest.raises(ValueError, match="needs the robots' memory"):
        actor.factors(obs[1], acts, graph)
    with pytest.raises(ValueError, match="no memory"):
        BayesNetActor(4, 3, 3).memory(obs[0], h0)
    with pytest.raises(ValueError, match="recurrent must be >= 0"):
        BayesNetActor(4, 3, 3, recurrent=-1)
