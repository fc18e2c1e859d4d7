"""What a simulated robot runs for the Decentralized Blocklist Protocol (DBP): the blocklist it
computes from the accusations it holds.

Both endpoints of every edge of a maximum matching of the undirected accusation graph are
blocked (the protocol, the bound it guarantees and the case the matching leaves open are described
in :mod:`swarmzoo.algorithms.dbp`, the public algorithm module, which re-exports these functions).

Determinism: the accusation set is canonicalised (each unordered pair once, sorted) before the
graph is built, so the result depends only on the set of pairs, never on their order or on
duplicates. Bipartite components (the usual case -- cooperative accusers on one side, Byzantine
robots on the other) are matched with Hopcroft-Karp (scipy), the rest with Edmonds' blossom
algorithm (networkx).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, maximum_bipartite_matching


def accusation_edges(accusations: Iterable[tuple[int, int]], n_robots: int) -> list[tuple[int, int]]:
    """The undirected accusation graph's edges ``(low, high)``, each once, sorted.

    Raises:
        ValueError: ``n_robots`` not a positive integer, an accusation that is not a pair of
            robot indices in ``0 .. n_robots - 1``, or a robot accusing itself.
    """
    if isinstance(n_robots, bool) or not isinstance(n_robots, (int, np.integer)) or n_robots < 1:
        raise ValueError(f"n_robots must be a positive integer, got {n_robots!r}")
    edges = set()
    for pair in accusations:
        try:
            accuser, accused = pair
        except (TypeError, ValueError):
            raise ValueError(f"an accusation is a pair (accuser, accused), got {pair!r}") from None
        for who in (accuser, accused):
            if isinstance(who, bool) or not isinstance(who, (int, np.integer)) or not 0 <= who < n_robots:
                raise ValueError(
                    f"accusation {pair!r}: robots are integers in 0 .. {n_robots - 1}, got {who!r}"
                )
        if accuser == accused:
            raise ValueError(f"accusation {pair!r}: a robot cannot accuse itself")
        a, b = int(accuser), int(accused)
        edges.add((a, b) if a < b else (b, a))
    return sorted(edges)


def _match(ends: np.ndarray) -> np.ndarray:
    """A maximum matching ``(M, 2)`` (each row ``low, high``) of the graph with edges ``ends``
    (``(E, 2)`` int, each undirected edge once, rows sorted); deterministic for given rows.

    Bipartite components (the usual case) go through scipy's Hopcroft-Karp in one call: a
    component is bipartite iff each of its robots and its copy fall in different components of
    the bipartite double cover, which also gives each robot its side. Components with an odd
    cycle are matched one by one with Edmonds' blossom algorithm (networkx).
    """
    if len(ends) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    # Robot ids index the graph directly (robots outside it are isolated nodes, unmatched).
    n = int(ends.max()) + 1
    u, v = ends[:, 0], ends[:, 1]
    cover = coo_matrix(
        (np.ones(2 * len(u)), (np.concatenate([u, v]), np.concatenate([v + n, u + n]))),
        shape=(2 * n, 2 * n),
    )
    _, side_label = connected_components(cover, directed=False)
    left = side_label[:n] < side_label[n:]  # a consistent side per bipartite component
    two_sided = (side_label[:n] != side_label[n:])[u]  # an edge's ends share a component
    found = []
    if two_sided.any():
        lu = np.where(left[u], u, v)[two_sided]
        ru = np.where(left[u], v, u)[two_sided]
        bi = csr_matrix((np.ones(len(lu), dtype=np.int8), (lu, ru)), shape=(n, n))
        mate = maximum_bipartite_matching(bi, perm_type="column")
        hit = np.flatnonzero(mate >= 0)
        found.append(np.stack([hit, mate[hit]], axis=1).astype(np.int64))
    if not two_sided.all():
        odd = [tuple(e) for e in ends[~two_sided].tolist()]
        graph = nx.Graph(odd)
        for comp in sorted(nx.connected_components(graph), key=min):
            sub = nx.Graph()
            sub.add_nodes_from(sorted(comp))
            sub.add_edges_from(e for e in odd if e[0] in comp)
            pairs = nx.max_weight_matching(sub, maxcardinality=True)
            found.append(np.asarray(sorted(pairs), dtype=np.int64).reshape(-1, 2))
    pairs = np.sort(np.concatenate(found), axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def maximum_matching(edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A maximum-cardinality matching of the graph with these (canonical, sorted) edges, as
    sorted pairs; deterministic for a given edge list (see :func:`_match`)."""
    return [(int(a), int(b)) for a, b in _match(np.asarray(edges, dtype=np.int64).reshape(-1, 2))]


def blocklist_masks(views: list[np.ndarray], n_robots: int) -> np.ndarray:
    """The blocklists ``(G, n_robots)`` of ``G`` accusation sets at once, each given as its
    canonical edges ``(E_g, 2)`` (as :func:`accusation_edges` returns them; not re-validated).

    One matching of the disjoint union of the ``G`` graphs, so one scipy call for all of them:
    each row is a maximum matching's endpoints, so every guarantee of :func:`blocklist` holds
    per row. Which maximum matching (not its size) a row gets may depend on the other rows of
    the call; the same set within one call always gets the same row.
    """
    masks = np.zeros((len(views), n_robots), dtype=bool)
    if not views:
        return masks
    offset = np.repeat(np.arange(len(views), dtype=np.int64) * n_robots, [len(e) for e in views])
    union = np.concatenate([np.asarray(e, dtype=np.int64).reshape(-1, 2) for e in views]) + offset[:, None]
    hit = _match(union).ravel()
    masks.reshape(-1)[hit] = True
    return masks


def blocklist(accusations: Iterable[tuple[int, int]], n_robots: int) -> set[int]:
    """The robots to block, given accusations ``(accuser, accused)`` among ``n_robots`` robots.

    Both endpoints of every edge of a maximum matching of the undirected accusation graph. The
    result depends only on the set of unordered pairs (not their order, direction or repeats).
    If every accusation has at least one Byzantine endpoint, the blocklist holds at least as
    many Byzantine robots as cooperative ones.

    Raises:
        ValueError: malformed accusations (see :func:`accusation_edges`).
    """
    edges = accusation_edges(accusations, n_robots)
    return {v for pair in maximum_matching(edges) for v in pair}


def blocklist_mask(accusations: Iterable[tuple[int, int]], n_robots: int) -> np.ndarray:
    """:func:`blocklist` as a boolean array ``(n_robots,)``."""
    mask = np.zeros(n_robots, dtype=bool)
    mask[sorted(blocklist(accusations, n_robots))] = True
    return mask
