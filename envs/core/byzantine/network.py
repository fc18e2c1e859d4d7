"""A lossy, delayed, multi-hop radio network for the Byzantine case studies (opt-in).

By default (``flood_hops=None``) the case studies use the idealised layer of
:mod:`swarmzoo.envs.core.byzantine.messages`: every value broadcast arrives, and an accusation reaches its
whole cooperative component within the round. This module is the realistic alternative, after
the disrupted peer-to-peer setting of disaster-response swarms:

* **packets**: each round every online robot broadcasts one packet: its value (with its claim,
  see :mod:`swarmzoo.envs.core.byzantine`) and up to ``bandwidth`` accusations it knows;
* **loss**: each receiver misses each neighbour's packet with probability
  ``link_loss + distance_loss * (d / d_max)**2`` (``d`` the link's length, ``d_max`` the longest
  link of the copy): links at the edge of range fail most;
* **delay**: a value arrives ``delay`` rounds after it was sent (the receiver ages it through the
  task's known dynamics, e.g. a clock reading gains ``delay`` seconds);
* **drop-out**: an online robot drops out with probability ``dropout_rate`` per round (battery,
  failure) and an offline one rejoins with ``rejoin_rate``; offline robots neither send, receive
  nor relay;
* **multi-hop flooding**: an accusation travels ``flood_hops`` hops per round (one packet
  exchange per hop), at most ``accusation_ttl`` hops from the robot that made it. Robots keep
  re-sending what they know (anti-entropy), least-sent first when the bandwidth is capped, so a
  lost packet is made up later. Byzantine relays forward like everyone else unless their attack
  is ``"jam"``: then they drop (``jam_delay=0``) or hold back by ``jam_delay`` rounds every
  accusation they relay.

Each robot computes the blocklist from the accusations *it* holds, so robots may disagree while
accusations travel; :class:`AccusationFlood` groups robots holding the same set and matches each
distinct set once (new sets of a round together, in one scipy Hopcroft-Karp call; known
ones from a cache), which keeps a round at N = 1,000 well below a second.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy.sparse import csr_matrix

from swarmzoo.envs.core.byzantine.dbp import blocklist_masks

UNKNOWN = -1
# Distinct accusation sets whose blocklists are kept between rounds, per env copy.
VIEW_CACHE = 4096


def loss_probability(
    link_loss: float, distance_loss: float, length: np.ndarray, longest: float
) -> np.ndarray:
    """Per-link packet loss ``link_loss + distance_loss * (length / longest)**2``."""
    if distance_loss == 0.0 or longest <= 0.0:
        return np.full(length.shape, link_loss)
    return link_loss + distance_loss * (length / longest) ** 2


class AccusationFlood:
    """One env copy's accusations, flooded hop by hop; who holds which, and their blocklists.

    Args:
        n_robots: robots of the copy.
        ttl: hops an accusation travels from its origin (``None``: unlimited).
    """

    def __init__(self, n_robots: int, ttl: int | None) -> None:
        self.n_robots = n_robots
        self.ttl = ttl
        self.pairs: list[tuple[int, int]] = []
        self.index: dict[tuple[int, int], int] = {}
        # Undirected edges of the accusation graph: (a, b) and (b, a) are one edge.
        self.edges: list[tuple[int, int]] = []
        self.edge_index: dict[tuple[int, int], int] = {}
        self.edge_of = np.zeros(0, dtype=np.int64)  # pair -> edge
        self.known = np.zeros((n_robots, 0), dtype=bool)
        self.hop = np.zeros((n_robots, 0), dtype=np.int32)
        self.since = np.zeros((n_robots, 0), dtype=np.int32)  # round it was learned
        self.sent = np.zeros((n_robots, 0), dtype=np.int32)  # times each robot sent it
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._groups: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def reach(self) -> dict[tuple[int, int], int]:
        """Every accusation made so far, with how many robots hold it."""
        held = self.known.sum(axis=0)
        return {p: int(held[i]) for i, p in enumerate(self.pairs)}

    def _grow(self) -> None:
        extra = max(16, self.known.shape[1])
        pad = ((0, 0), (0, extra))
        self.known = np.pad(self.known, pad)
        self.hop = np.pad(self.hop, pad, constant_values=UNKNOWN)
        self.since = np.pad(self.since, pad, constant_values=UNKNOWN)
        self.sent = np.pad(self.sent, pad)

    def add(self, accuser: int, accused: int, origin: int, round_: int) -> bool:
        """``origin`` makes (or injects) the accusation; True if it is new to ``origin``."""
        key = (int(accuser), int(accused))
        a = self.index.get(key)
        if a is None:
            a = len(self.pairs)
            if a == self.known.shape[1]:
                self._grow()
            self.pairs.append(key)
            self.index[key] = a
            edge = (min(key), max(key))
            e = self.edge_index.get(edge)
            if e is None:
                e = len(self.edges)
                self.edges.append(edge)
                self.edge_index[edge] = e
            self.edge_of = np.append(self.edge_of, e)
        if self.known[origin, a]:
            return False
        self.known[origin, a] = True
        self.hop[origin, a] = 0
        self.since[origin, a] = round_
        self._groups = None
        return True

    def spread(
        self,
        nbr: np.ndarray,
        heard: np.ndarray,
        relays: np.ndarray,
        held_back: np.ndarray,
        round_: int,
        bandwidth: int | None,
        hold: int,
    ) -> int:
        """One packet exchange: every robot sends what it may, receivers learn it at one more hop.

        Args:
            nbr: ``(R, K)`` neighbour ids (``-1`` padding).
            heard: ``(R, K)`` whether each receiver got the packet from each neighbour.
            relays: ``(R,)`` robots that send packets at all (online).
            held_back: ``(R,)`` jamming robots: they forward only their own accusations and
                relayed ones they learned ``hold`` rounds ago or earlier (``hold = 0``: none).
            round_: the current round (for ``since`` and the jammers' hold).
            bandwidth: accusations per packet (``None``: all).

        Returns:
            The accusation messages sent (one per accusation per packet).
        """
        A = len(self.pairs)
        if A == 0:
            return 0
        known, hop = self.known[:, :A], self.hop[:, :A]
        may = known & relays[:, None]
        if self.ttl is not None:
            may &= hop < self.ttl
        if held_back.any():
            own = hop == 0
            late = (self.since[:, :A] <= round_ - hold) if hold > 0 else np.zeros_like(own)
            may[held_back] &= (own | late)[held_back]
        if bandwidth is not None:
            counts = np.where(may, self.sent[:, :A], np.iinfo(np.int32).max)
            busy = may.sum(axis=1) > bandwidth
            if busy.any():
                # The least-sent accusations first, ties by age (lowest index).
                order = np.argsort(counts[busy], axis=1, kind="stable")[:, :bandwidth]
                keep = np.zeros((int(busy.sum()), A), dtype=bool)
                np.put_along_axis(keep, order, True, axis=1)
                may[busy] &= keep
        n_sent = int(may.sum())
        if n_sent == 0:
            return 0
        self.sent[:, :A] += may
        R, K = nbr.shape
        rows, slots = np.nonzero(heard)
        senders = nbr[rows, slots]
        link = csr_matrix((np.ones(len(rows)), (rows, senders)), shape=(R, R))
        news = (link @ may.astype(np.float64)) > 0
        news &= ~known
        if not news.any():
            return n_sent
        # Hop count of what is new: one more than the nearest sender's.
        r_new = np.flatnonzero(news.any(axis=1))
        a_new = np.flatnonzero(news.any(axis=0))
        best = np.full((len(r_new), len(a_new)), np.iinfo(np.int32).max, dtype=np.int64)
        for k in range(K):
            s = nbr[r_new, k]
            ok = heard[r_new, k] & (s >= 0)
            s = np.where(ok, s, 0)
            from_s = may[np.ix_(s, a_new)] & ok[:, None]
            best = np.where(from_s, np.minimum(best, hop[np.ix_(s, a_new)] + 1), best)
        sub = news[np.ix_(r_new, a_new)]
        self.known[np.ix_(r_new, a_new)] |= sub
        self.hop[np.ix_(r_new, a_new)] = np.where(sub, best, self.hop[np.ix_(r_new, a_new)])
        self.since[np.ix_(r_new, a_new)] = np.where(sub, round_, self.since[np.ix_(r_new, a_new)])
        self._groups = None
        return n_sent

    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """``(views (G, R), group (R,))``: the distinct blocklists and which one each robot
        computes from the accusations it holds.

        Sets seen in earlier rounds come from the cache; the new ones are matched together in
        one :func:`~swarmzoo.algorithms.dbp.blocklist_masks` call.
        """
        if self._groups is None:
            A = len(self.pairs)
            packed = np.packbits(self.known[:, :A], axis=1) if A else np.zeros((self.n_robots, 0), np.uint8)
            # Rows as opaque byte strings: numpy sorts those with memcmp, far faster than
            # np.unique(axis=0).
            rows_as_bytes = np.ascontiguousarray(packed).view(np.dtype((np.void, max(packed.shape[1], 1))))
            if packed.shape[1] == 0:
                rows_as_bytes = np.zeros(self.n_robots, dtype=np.dtype((np.void, 1)))
            keys, first, group = np.unique(rows_as_bytes.ravel(), return_index=True, return_inverse=True)
            views = np.zeros((len(keys), self.n_robots), dtype=bool)
            blobs = [key.tobytes() for key in keys]
            fresh = [g for g, blob in enumerate(blobs) if blob not in self._cache]
            if fresh:
                rows, cols = np.nonzero(self.known[first[fresh], :A])
                has_edge = np.zeros((len(fresh), len(self.edges)), dtype=bool)
                has_edge[rows, self.edge_of[cols]] = True  # (a, b) and (b, a): one edge
                rows, e = np.nonzero(has_edge)
                ends = np.asarray(self.edges, dtype=np.int64)[e]
                held = np.split(ends, np.searchsorted(rows, np.arange(1, len(fresh))))
                views[fresh] = blocklist_masks(held, self.n_robots)
            for g, blob in enumerate(blobs):
                if blob in self._cache:
                    self._cache.move_to_end(blob)
                    views[g] = self._cache[blob]
                else:
                    self._cache[blob] = views[g].copy()
            while len(self._cache) > VIEW_CACHE:
                self._cache.popitem(last=False)
            self._groups = (views, np.asarray(group).reshape(-1))
        return self._groups
