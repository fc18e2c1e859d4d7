"""The Byzantine case studies' shared arguments (:class:`ByzantineConfig`), the names they
accept (attacks, protocols, graphs, local checks) and the Harary graph's links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from swarmzoo.envs.core.task import (
    check_bool,
    check_choice,
    check_links,
    check_number,
    check_positive_int,
    parse_objectives,
)

Attack = Literal[
    "none",
    "bias",
    "random",
    "drift",
    "collude",
    "false_accusation",
    "sleeper",
    "forge",
    "replay",
    "accusation_flood",
    "accuse_all",
    "equivocate",
    "jam",
]
ATTACKS: tuple[str, ...] = get_args(Attack)
PROTOCOLS = ("lcp", "wmsr", "dbp")
GRAPHS = ("radius", "harary", "given")
CHECKS = ("evidence", "value")
DEFAULT_BYZANTINE_FRACTION = 0.1


# Vector-reward objectives (``objectives=(...)``), each higher-is-better.
OBJECTIVES = {
    "error": "the scalar reward: minus the cooperative error (global or local, see reward), "
    "in units of the task's scale",
    "messages": "minus the value and accusation messages the copy sent this step, per robot "
    "(one value per copy)",
}


@dataclass(frozen=True)
class ByzantineConfig:
    """Arguments shared by the Byzantine case studies (each env adds its own and may change
    defaults).

    Attributes:
        n_robots: robots in the swarm, cooperative and Byzantine (>= 2).
        n_byzantine: number F of Byzantine robots (exclusive with ``byzantine_fraction``).
        byzantine_fraction: F as a fraction of ``n_robots`` (rounded to the nearest integer).
            With neither given, F is 10% of the swarm.
        byzantine_ids: fix which robots are Byzantine (then F is its length); by default they are
            drawn at random each episode.
        attack: the Byzantine strategy: ``"none"`` (behave), ``"bias"`` (a constant offset),
            ``"random"`` (uniform values over the task's range), ``"drift"`` (an offset growing by
            ``drift_rate`` per step up to ``attack_magnitude``: stealthy at first), ``"collude"``
            (all send the same false value), ``"false_accusation"`` (honest values, but accuse
            every cooperative neighbour), ``"sleeper"`` (bias for ``sleeper_on`` steps, then
            honest for ``sleeper_off``, repeating), ``"forge"`` (messages and accusations forged
            in cooperative neighbours' names: dropped when ``authenticate``), ``"replay"``
            (the ``"bias"`` lie, and each Byzantine robot rebroadcasts every cooperative neighbour's
            genuinely signed value from ``replay_lag`` rounds earlier in that neighbour's name,
            and, for each cooperative neighbour, a genuinely signed accusation of it by one of
            its own cooperative neighbours recorded in an earlier episode (as if keys outlived
            episodes): dropped when ``authenticate``, as tags cover the round and the episode
            nonce; counted in ``replays_dropped``),
            ``"accusation_flood"`` (honest values, but each Byzantine robot accuses every
            cooperative robot of the swarm, neighbour or not, twice every round: accusations
            between non-neighbours are refused, counted in ``accusations_refused``, and repeats
            change nothing, so it blocks what ``"false_accusation"`` blocks) or ``"accuse_all"``
            (the ``"bias"`` lie, and each Byzantine robot accuses every cooperative neighbour
            every round), ``"equivocate"`` (different values to different neighbours in one
            round: the honest value to neighbours that sense first-hand this round, who could
            check it, the ``"bias"`` lie to the others; with ``authenticate``, DBP's echo check
            catches it: two conflicting values signed by one sender in one round, relayed by a
            common neighbour, are proof) or ``"jam"`` (the ``"bias"`` lie, and Byzantine relays
            drop, or with ``jam_delay`` hold back, every accusation they relay: needs
            ``flood_hops``, as the ideal layer floods over cooperative robots only).
        attack_magnitude: size of the offsets (task units, > 0).
        attack_start: steps of honest behaviour before the attack starts (>= 0).
        drift_rate: growth of the ``"drift"`` offset per step (> 0).
        sleeper_on: steps of each biased phase of the sleeper's cycle (>= 1).
        sleeper_off: steps of each honest phase of the sleeper's cycle (>= 1).
        replay_lag: how many rounds old the values the ``"replay"`` attack rebroadcasts are
            (>= 1).
        jam_delay: rounds a ``"jam"`` relay holds back relayed accusations (0: drops them).
        sybil_ids: how many of the F Byzantine identities are Sybil identities claimed by the
            other, physical Byzantine robots (round-robin; each sits at its owner's position).
            The key authority issued keys to physical robots only, so with ``authenticate``
            every Sybil message and accusation fails verification (``sybil_dropped``); without,
            Sybils are liars like their owners (0 <= sybil_ids < F).
        protocol: ``"lcp"`` (no protection), ``"wmsr"`` or ``"dbp"``.
        wmsr_f: the F that W-MSR trims (default: the true number of Byzantine robots).
        graph: ``"radius"`` (robots closer than ``comm_radius``), ``"harary"`` (the Harary graph
            H(k, n): exactly ``connectivity``-connected with the fewest links, over robots placed
            on a circle) or ``"given"`` (``edges``).
        comm_radius: range of the radius graph (> 0).
        connectivity: k of the Harary graph (2 <= k < n_robots).
        edges: undirected links ``((i, j), ...)`` of the given graph.
        measurement_noise: bound of the first-hand sensing noise (uniform in ``[-b, b]`` per
            coordinate, so local checks can be exact), >= 0.
        check: DBP's local check. ``"evidence"`` (default): every broadcast carries a claim
            radius, the bound its sender can guarantee from its own first-hand evidence
            (``|value - truth| <= claim``: the distance of its estimate from its evidence, plus
            the evidence's own error bound, which grows with the task's known dynamics between
            measurements); a checker accuses a neighbour only if its first-hand measurement
            contradicts the claim by more than its sensing bound plus ``check_tolerance``. An
            honest robot's claim always holds, however far liars pulled its estimate, so a
            cooperative robot never accuses a cooperative one: the matching bound (blocked
            cooperative <= blocked Byzantine) holds at every step, at any N, over any network.
            ``"value"``: the check of swarmzoo < 0.4 (the broadcast value against the checker's
            measurement, by ``check_tolerance``): honest robots pulled past the tolerance are
            accused, so the bound breaks at scale (kept for comparison).
        check_tolerance: margin of the check (task units, > 0): with ``check="evidence"`` beyond
            the claim and the sensing bound, with ``"value"`` the whole threshold.
        authenticate: tag and verify messages and accusations; False shows what forgeries do.
        flood_hops: ``None`` (default): the ideal message layer (values always arrive,
            accusations reach the whole cooperative component within the round); ``k >= 1``:
            the radio network of :mod:`swarmzoo.envs.core.byzantine.network`, accusations travelling k
            hops per round. The network arguments below need it, except ``link_loss``,
            ``distance_loss`` and ``delay``, which also apply to value messages of the ideal
            layer.
        accusation_ttl: hops an accusation travels from its accuser (>= 1; ``None``: no limit).
        link_loss: probability that a receiver misses a neighbour's packet in a round (0 .. 1).
        distance_loss: extra loss at the longest link, ``distance_loss * (d / d_max)**2``
            (0 .. 1, with ``link_loss + distance_loss <= 1``).
        delay: rounds a value message takes to arrive (>= 0); receivers age it through the
            task's known dynamics (a clock reading gains ``delay``; the claim grows).
        bandwidth: accusations per packet (>= 1; ``None``: all a robot knows).
        dropout_rate: probability per round that an online robot drops out (0 .. 1).
        rejoin_rate: probability per round that an offline robot rejoins (0 .. 1).
        byzantine_agents: expose the Byzantine robots as agents ``byzantine_i`` (attackers to
            train) instead of scripting them.
        reward: ``"global"`` (every cooperative robot gets minus the mean error) or ``"local"``
            (minus its own error); in units of the task's scale.
        k_slots: neighbour messages shown individually in the observation (>= 0).
        arena_size: side of the square arena (> 0).
        max_cycles: steps per episode.
        objectives: vector-reward objectives in order, from ``error`` (the scalar reward) and
            ``messages`` (minus the value and accusation messages sent this step per robot);
            empty: the scalar reward.
    """

    n_robots: int = 50
    n_byzantine: int | None = None
    byzantine_fraction: float | None = None
    byzantine_ids: tuple[int, ...] | None = None
    attack: Attack = "bias"
    attack_magnitude: float = 1.0
    attack_start: int = 0
    drift_rate: float = 0.01
    sleeper_on: int = 10
    sleeper_off: int = 20
    replay_lag: int = 10
    jam_delay: int = 0
    sybil_ids: int = 0
    protocol: Literal["lcp", "wmsr", "dbp"] = "dbp"
    wmsr_f: int | None = None
    graph: Literal["radius", "harary", "given"] = "radius"
    comm_radius: float = 0.5
    connectivity: int = 4
    edges: tuple[tuple[int, int], ...] | None = None
    measurement_noise: float = 0.02
    check: Literal["evidence", "value"] = "evidence"
    check_tolerance: float = 0.15
    authenticate: bool = True
    flood_hops: int | None = None
    accusation_ttl: int | None = None
    link_loss: float = 0.0
    distance_loss: float = 0.0
    delay: int = 0
    bandwidth: int | None = None
    dropout_rate: float = 0.0
    rejoin_rate: float = 0.0
    byzantine_agents: bool = False
    reward: Literal["global", "local"] = "global"
    k_slots: int = 6
    arena_size: float = 2.0
    max_cycles: int = 100
    objectives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", parse_objectives(self.objectives, OBJECTIVES))
        check_positive_int("n_robots", self.n_robots, minimum=2)
        check_positive_int("max_cycles", self.max_cycles)
        check_positive_int("k_slots", self.k_slots, minimum=0)
        check_positive_int("attack_start", self.attack_start, minimum=0)
        check_positive_int("sleeper_on", self.sleeper_on)
        check_positive_int("sleeper_off", self.sleeper_off)
        check_positive_int("replay_lag", self.replay_lag)
        for name in ("attack_magnitude", "drift_rate", "comm_radius", "check_tolerance", "arena_size"):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_number("measurement_noise", self.measurement_noise, low=0.0)
        for name, allowed in (
            ("attack", ATTACKS),
            ("protocol", PROTOCOLS),
            ("graph", GRAPHS),
            ("reward", ("global", "local")),
            ("check", CHECKS),
        ):
            check_choice(name, getattr(self, name), allowed)
        check_bool("authenticate", self.authenticate)
        check_bool("byzantine_agents", self.byzantine_agents)
        given = [
            n for n in ("n_byzantine", "byzantine_fraction", "byzantine_ids") if getattr(self, n) is not None
        ]
        if len(given) > 1:
            raise ValueError(
                f"give at most one of n_byzantine, byzantine_fraction, byzantine_ids; got {given}"
            )
        if self.n_byzantine is not None:
            check_positive_int("n_byzantine", self.n_byzantine, minimum=0)
        if self.byzantine_fraction is not None:
            check_number("byzantine_fraction", self.byzantine_fraction, low=0.0, high=1.0)
        if self.byzantine_ids is not None:
            ids = self.byzantine_ids
            if not isinstance(ids, (tuple, list, np.ndarray)) or not all(
                isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in ids
            ):
                raise ValueError(f"byzantine_ids must be robot indices, got {ids!r}")
            if len(set(ids)) != len(ids) or not all(0 <= i < self.n_robots for i in ids):
                raise ValueError(
                    f"byzantine_ids must be distinct robots in 0 .. {self.n_robots - 1}, got {ids!r}"
                )
        if self.n_byzantine_robots >= self.n_robots:
            raise ValueError(
                f"{self.n_byzantine_robots} Byzantine robots out of n_robots={self.n_robots}: "
                "at least one robot must be cooperative"
            )
        if self.wmsr_f is not None:
            check_positive_int("wmsr_f", self.wmsr_f, minimum=0)
        self._check_network()
        check_positive_int("jam_delay", self.jam_delay, minimum=0)
        check_positive_int("sybil_ids", self.sybil_ids, minimum=0)
        if self.sybil_ids and self.sybil_ids >= self.n_byzantine_robots:
            raise ValueError(
                f"sybil_ids={self.sybil_ids} needs more Byzantine identities than "
                f"{self.n_byzantine_robots}: at least one of them must be a physical robot that claims "
                "the Sybil ids"
            )
        if self.graph == "harary":
            check_positive_int("connectivity", self.connectivity, minimum=1)
            if self.connectivity >= self.n_robots:
                raise ValueError(
                    f"connectivity={self.connectivity} needs more robots than {self.n_robots} "
                    "(a k-connected graph has at least k + 1 vertices)"
                )
        if (self.graph == "given") != (self.edges is not None):
            raise ValueError("edges are given exactly when graph='given'")
        if self.edges is not None:
            check_links("edges", self.edges, self.n_robots)

    def _check_network(self) -> None:
        for name in ("flood_hops", "accusation_ttl", "bandwidth"):
            value = getattr(self, name)
            if value is not None:
                if value == 0 and name == "accusation_ttl":
                    raise ValueError("accusation_ttl must be >= 1 hop (0 would never leave its accuser)")
                check_positive_int(name, value)
        for name in ("link_loss", "distance_loss", "dropout_rate", "rejoin_rate"):
            check_number(name, getattr(self, name), low=0.0, high=1.0)
        if self.link_loss + self.distance_loss > 1.0:
            raise ValueError(
                f"link_loss + distance_loss = {self.link_loss + self.distance_loss:g} exceeds 1: "
                "a packet cannot be lost with probability above 1"
            )
        check_positive_int("delay", self.delay, minimum=0)
        if self.flood_hops is None:
            needs = [
                name
                for name, off in (
                    ("accusation_ttl", None),
                    ("bandwidth", None),
                    ("dropout_rate", 0.0),
                    ("rejoin_rate", 0.0),
                )
                if getattr(self, name) != off
            ]
            if self.attack == "jam":
                needs.append("attack='jam'")
            if needs:
                raise ValueError(
                    f"{', '.join(needs)} need the radio network: set flood_hops (hops per round, >= 1); "
                    "the ideal layer floods accusations over the cooperative robots within the round"
                )

    @property
    def n_byzantine_robots(self) -> int:
        """F, resolved from ``n_byzantine`` / ``byzantine_fraction`` / ``byzantine_ids``."""
        if self.byzantine_ids is not None:
            return len(self.byzantine_ids)
        if self.n_byzantine is not None:
            return int(self.n_byzantine)
        fraction = DEFAULT_BYZANTINE_FRACTION if self.byzantine_fraction is None else self.byzantine_fraction
        return int(round(fraction * self.n_robots))

    @property
    def n_agents(self) -> int:
        """The agents: every robot with ``byzantine_agents``, else the cooperative ones."""
        return self.n_robots if self.byzantine_agents else self.n_robots - self.n_byzantine_robots

    @property
    def f_wmsr(self) -> int:
        return self.n_byzantine_robots if self.wmsr_f is None else int(self.wmsr_f)


def harary_edges(k: int, n: int) -> list[tuple[int, int]]:
    """Links of the Harary graph H(k, n) (networkx's ``hkn_harary_graph``): k-connected, with
    the fewest links (ceil(k n / 2)); robot i's links reach its nearest ring neighbours."""
    import networkx as nx

    return sorted(tuple(sorted(e)) for e in nx.hkn_harary_graph(k, n).edges())
