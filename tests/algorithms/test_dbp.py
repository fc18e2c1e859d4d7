"""DBP's blocklist: the matching bound, order independence, agreement after flooding, the case a
plain matching leaves open, authentication, and input errors."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarmzoo.algorithms.dbp import accusation_edges, blocklist, blocklist_mask
from swarmzoo.envs.core.byzantine.messages import KeyRing, accusation_payload


@st.composite
def attacked_swarm(draw):
    """A random comm graph, a Byzantine set and accusations from *correct* local checks: every
    accusation has a Byzantine endpoint (cooperative robots accuse only Byzantine neighbours;
    Byzantine robots accuse anyone)."""
    n = draw(st.integers(2, 24))
    byz = set(draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n - 1)))
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    links = draw(st.lists(st.sampled_from(pairs), max_size=60))
    accusations = [(a, b) for a, b in links if a in byz or b in byz]
    return n, byz, accusations


@given(attacked_swarm(), st.randoms(use_true_random=False))
def test_never_more_cooperative_than_byzantine_blocked(swarm, rnd) -> None:
    n, byz, accusations = swarm
    blocked = blocklist(accusations, n)
    assert len(blocked - byz) <= len(blocked & byz)
    # The matching is maximum: as many blocked pairs as networkx's maximum matching has edges.
    graph = nx.Graph(accusation_edges(accusations, n))
    assert len(blocked) == 2 * len(nx.max_weight_matching(graph, maxcardinality=True))
    # Order, direction and repeats do not matter.
    shuffled = [(b, a) if rnd.random() < 0.5 else (a, b) for a, b in accusations] * 2
    rnd.shuffle(shuffled)
    assert blocklist(shuffled, n) == blocked


@given(attacked_swarm(), st.integers(0, 2**31))
def test_cooperative_robots_agree_after_flooding(swarm, seed) -> None:
    """Gossip in random orders over a random connected graph; Byzantine relays drop everything
    and hand their own accusations to a random subset of neighbours. Once nothing changes, every
    cooperative robot of a connected cooperative component holds the same set, hence the same
    blocklist."""
    n, byz, accusations = swarm
    rng = random.Random(seed)
    graph = nx.connected_watts_strogatz_graph(max(n, 3), 2, 0.5, seed=seed) if n >= 3 else nx.path_graph(n)
    graph = graph.subgraph(range(n)).copy()
    coop = [v for v in range(n) if v not in byz]
    known = {v: set() for v in range(n)}
    for a, b in accusations:  # the accuser knows its accusation first
        if a in byz:
            for nb in graph.neighbors(a):
                if rng.random() < 0.5:
                    known[nb].add((a, b))
        else:
            known[a].add((a, b))
    links = [(u, v) for u, v in graph.edges()] + [(v, u) for u, v in graph.edges()]
    changed = True
    while changed:
        changed = False
        rng.shuffle(links)
        for u, v in links:
            if u in byz:
                continue  # Byzantine relays drop
            new = known[u] - known[v]
            if new:
                known[v] |= new
                changed = True
    coop_graph = graph.subgraph(coop)
    for component in nx.connected_components(coop_graph):
        lists = {frozenset(blocklist(known[v], n)) for v in component}
        assert len(lists) == 1


def test_star_with_a_byzantine_centre_costs_one_cooperative_robot() -> None:
    # Byzantine 0 falsely accuses 1, 2, 3; they accuse it back.
    accusations = [(0, 1), (0, 2), (0, 3), (1, 0), (2, 0), (3, 0)]
    blocked = blocklist(accusations, 4)
    assert 0 in blocked and len(blocked) == 2


def test_the_case_a_plain_matching_leaves_open_is_closed_by_a_second_accuser() -> None:
    """Byzantine 1 and 2, both accused only by cooperative 0: the path 1 - 0 - 2 blocks 0 and
    one of them (the bound forbids more: the same graph arises with a Byzantine centre). A second
    cooperative robot (3) that sees the other misbehave adds an augmenting path, and the next
    blocklist holds both Byzantine robots."""
    first = blocklist([(0, 1), (0, 2)], 4)
    assert len(first) == 2 and 0 in first and len(first & {1, 2}) == 1
    left = ({1, 2} - first).pop()
    second = blocklist([(0, 1), (0, 2), (3, left)], 4)
    assert {1, 2} <= second and len(second - {1, 2}) <= 2


def test_empty_and_mask() -> None:
    assert blocklist([], 5) == set()
    assert blocklist_mask([(3, 1)], 5).tolist() == [False, True, False, True, False]


@pytest.mark.parametrize(
    ("accusations", "n", "match"),
    [
        ([(1, 1)], 3, "cannot accuse itself"),
        ([(0, 3)], 3, r"0 \.\. 2"),
        ([(0, -1)], 3, r"0 \.\. 2"),
        ([(0, 1.0)], 3, "integers"),
        ([(0, 1, 2)], 3, "pair"),
        ([5], 3, "pair"),
        ([], 0, "n_robots"),
    ],
)
def test_bad_accusations_are_refused(accusations, n, match) -> None:
    with pytest.raises(ValueError, match=match):
        blocklist(accusations, n)


def test_forged_tags_do_not_verify() -> None:
    keys = KeyRing(4, b"secret" * 4)
    payload = accusation_payload(b"nonce", 1, 2)
    assert keys.verify(1, payload, keys.sign(1, payload))
    # Robot 3 (Byzantine) signs an accusation in robot 1's name with its own key.
    assert not keys.verify(1, payload, keys.sign(3, payload))
    # A tag is bound to its content.
    assert not keys.verify(1, accusation_payload(b"nonce", 1, 0), keys.sign(1, payload))
    # Another episode's keys differ.
    assert not KeyRing(4, b"other" * 4).verify(1, payload, keys.sign(1, payload))


def test_matching_is_fast_enough_for_a_thousand_robots() -> None:
    """Not a timing test: a large random correct accusation graph (both component kinds) goes
    through and keeps the bound."""
    rng = np.random.default_rng(0)
    n = 1000
    byz = set(rng.choice(n, 100, replace=False).tolist())
    accusations = [
        (int(a), int(b)) for a, b in rng.integers(0, n, (3000, 2)) if a != b and (a in byz or b in byz)
    ]
    blocked = blocklist(accusations, n)
    assert len(blocked - byz) <= len(blocked & byz)
