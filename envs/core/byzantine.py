"""The shared core of the Byzantine case studies: robots, Byzantine strategies, the message layer
and the three protocols (LCP, W-MSR, DBP) as the filter between messages and agents.

A case study is a distributed estimation task. Every robot keeps an estimate of a quantity
(``value_dim`` numbers: the target's position, the time, its own position) and broadcasts it
each step over the communication graph, signed (:mod:`swarmzoo.envs.core.messages`). Some
robots, the *checkers*, also sense the quantity first-hand this step (a robot in range of the
target, a robot with a GPS time fix, an anchor that knows its position); the rest learn it only
from their neighbours.

Each step of every env copy::

    1. agents' actions move their estimates (Byzantine robots' honest estimates follow the
       protocol's step; exposed as agents, they choose their lie instead)
    2. the world advances (target motion, clock drift) and checkers sense
    3. broadcast: cooperative robots send their estimates, Byzantine robots what their strategy
       says; every message is tagged and verified against this episode and round, so forgeries
       and replays of old messages are dropped
    4. DBP only: checkers compare each neighbour's message with what they sense; a deviation
       beyond ``check_tolerance`` is a signed accusation, flooded over the cooperative graph
       (Byzantine robots may add false accusations in their own name; accusations between
       robots that are not neighbours are refused, repeats change nothing); each cooperative
       component computes its blocklist with :func:`swarmzoo.algorithms.dbp.blocklist`
    5. the filter: ``protocol="lcp"`` accepts every verified message, ``"wmsr"`` trims the
       ``wmsr_f`` most extreme values on each side (per coordinate), ``"dbp"`` drops messages of
       blocklisted robots and of robots the receiver accused itself
    6. observations show each agent its own sensing, the accepted messages and the protocol's
       consensus step (LCP mean of the accepted values, minus its own estimate)

The scripted consensus protocol (the env's heuristic policy) is: a checker moves to what it
senses, everyone else takes the consensus step.

Robots are the PettingZoo agents ``robot_0 .. robot_{C-1}`` (the C cooperative robots, in index
order; which robots are Byzantine is drawn per episode unless ``byzantine_ids`` fixes it). With
``byzantine_agents=True`` the F Byzantine robots are agents too (``byzantine_0 ..``): their
action is the lie added to their honest estimate, their reward the cooperative robots' error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

import numpy as np
from gymnasium import spaces

from swarmzoo.algorithms.wmsr import trimmed_mean, wmsr_keep
from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.collective import neighbourhood
from swarmzoo.envs.core.messages import (
    AccusationLedger,
    KeyRing,
    accusation_payload,
    cooperative_components,
    value_payload,
    verify_accusation,
    verify_value,
)
from swarmzoo.envs.core.network import AccusationFlood, loss_probability
from swarmzoo.envs.core.task import (
    SwarmTask,
    check_bool,
    check_choice,
    check_links,
    check_number,
    check_positive_int,
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
            the radio network of :mod:`swarmzoo.envs.core.network`, accusations travelling k
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

    def __post_init__(self) -> None:
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


class ByzantineTask(SwarmTask):
    """Base of the Byzantine case studies. Subclasses set ``value_dim`` and ``scale`` and
    implement the world: ``_reset_world``, ``_advance_world``, ``_sense``, ``truth`` and
    ``draw_world``; they may refine ``_residuals`` and ``_consensus_step``."""

    value_dim: ClassVar[int] = 2
    checker_name: ClassVar[str] = "checker"
    fixed_actions = "continuous"  # the robots' corrections

    @classmethod
    def memory_estimate(cls, config: ByzantineConfig, n_envs: int) -> int:
        # The radius graph's edge list and the padded neighbour lists (E, R, K) of ids, masks and
        # received values, K the largest degree: half the mean degree of uniformly placed robots
        # (without the arena's edge effects) bounds it from below.
        R = int(config.n_robots)
        if config.graph == "radius":
            degree = 0.5 * (R - 1) * min(np.pi * config.comm_radius**2 / config.arena_size**2, 1.0)
        elif config.graph == "harary":
            degree = config.connectivity
        else:
            degree = 2 * len(config.edges) / R
        slot_bytes = 56 + 8 * cls.value_dim
        return super().memory_estimate(config, n_envs) + int(n_envs * R * degree * slot_bytes)

    def __init__(self, config: ByzantineConfig, n_envs: int = 1) -> None:
        super().__init__(config, n_envs)
        cfg = config
        E, R, d = self.n_envs, cfg.n_robots, self.value_dim
        self.n_robots, self.n_byz = R, cfg.n_byzantine_robots
        self.n_coop = R - self.n_byz
        self.arena = Arena(cfg.arena_size, cfg.arena_size, "walls")
        self.scale = self.value_scale()
        self.pos = np.zeros((E, R, 2))
        self.byzantine = np.zeros((E, R), dtype=bool)
        self.agent_robot = np.zeros((E, self.n_agents), dtype=np.int64)
        self.estimate = np.zeros((E, R, d))
        self.sent = np.zeros((E, R, d))
        self.checker = np.zeros((E, R), dtype=bool)
        self.sensed = np.zeros((E, R, d))
        self.attack_dir = np.zeros((E, R, d))
        self.lie = np.zeros((E, R, d))  # Byzantine agents' chosen lies
        self.blocked = np.zeros((E, R), dtype=bool)  # blocklisted (in the view of most robots)
        self.accepted = np.zeros((E, R, 0), dtype=bool)
        self.step_suggested = np.zeros((E, R, d))
        self.rejected_count = np.zeros((E, R))
        self.forgeries_dropped = np.zeros(E, dtype=np.int64)
        self.replays_dropped = np.zeros(E, dtype=np.int64)
        self.accusations_refused = np.zeros(E, dtype=np.int64)
        # The "replay" attack's memory: the broadcasts of the last replay_lag rounds (a ring
        # indexed by round).
        lag = cfg.replay_lag if cfg.attack == "replay" else 0
        self._sent_log = np.zeros((lag, E, R, d))
        self._sent_log_step = np.full((lag, E), -1, dtype=np.int64)
        self._adjacent: list[set[tuple[int, int]]] = [set() for _ in range(E)]
        self.error_trace: list[float] = []
        self.keyrings: list[KeyRing | None] = [None] * E
        self.nonces: list[bytes] = [b""] * E
        self.ledgers: list[AccusationLedger | None] = [None] * E
        self._spoofed: np.ndarray | None = None
        self._spoof_value: np.ndarray | None = None
        self._own_accused: list[set[tuple[int, int]]] = [set() for _ in range(E)]
        # First-hand evidence: a ball (centre, radius) that surely holds the truth, and each
        # broadcast's claim radius (|value - truth| <= claim for every honest sender).
        self.ev_center = np.zeros((E, R, d))
        self.ev_radius = np.zeros((E, R))
        self.claim = np.zeros((E, R))
        # The radio network (flood_hops) and the lossy / delayed value channel.
        self.radio = cfg.flood_hops is not None
        self.online = np.ones((E, R), dtype=bool)
        self.heard = np.zeros((E, R, 0), dtype=bool)
        self.floods: list[AccusationFlood | None] = [None] * E
        self._history = np.zeros((cfg.delay + 1, E, R, d))  # sent values, ring by round
        self._claim_history = np.zeros((cfg.delay + 1, E, R))
        self._link_loss: np.ndarray | None = None
        self.sybil = np.zeros((E, R), dtype=bool)
        self.sybil_owner = np.full((E, R), -1, dtype=np.int64)
        self.counters = {
            name: np.zeros(E, dtype=np.int64)
            for name in (
                "value_messages",
                "lost_messages",
                "accusation_messages",
                "sybil_dropped",
                "equivocations_caught",
            )
        }
        self._equivocal: np.ndarray | None = None
        self.views_over_bound = np.zeros(E, dtype=np.int64)
        self._static_graph = cfg.graph != "radius"
        self._build_static_graph()
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.obs_dim(),), np.float32)
        self.state_space = spaces.Box(-np.inf, np.inf, (R * (d + 3),), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (d,), np.float32)

    # -- what a case study provides ---------------------------------------------------------

    def value_scale(self) -> float:
        """Units of observations, actions (an action of 1 moves the estimate this much) and
        rewards."""
        return self.config.arena_size / 2.0

    def value_range(self) -> tuple[float, float]:
        """The ``"random"`` attack's values, relative to the truth."""
        B = self.config.attack_magnitude
        return -B, B

    def sensing_bound(self) -> float:
        """Euclidean bound of a first-hand measurement's error (``measurement_noise`` per
        coordinate)."""
        return self.config.measurement_noise * np.sqrt(self.value_dim)

    def initial_bound(self) -> float:
        """Bound of the initial estimates' error (the hand-off): ``initial_error`` per coordinate."""
        return self.config.initial_error * np.sqrt(self.value_dim)

    def evidence_growth(self) -> float:
        """How much the truth may move per step unseen (the evidence radius grows by it)."""
        return 0.0

    def truth_rate(self) -> float:
        """How much the truth advances per step in every coordinate, known to all (time: 1)."""
        return 0.0

    def _advance_evidence(self) -> None:
        """Carry the evidence through one step of the known dynamics (before sensing)."""
        self.ev_center += self.truth_rate()
        self.ev_radius += self.evidence_growth()

    def _reset_world(self, env_ids: np.ndarray) -> None:
        raise NotImplementedError

    def _advance_world(self) -> None:
        raise NotImplementedError

    def _sense(self) -> None:
        """Set ``self.checker (E, R)`` and ``self.sensed (E, R, d)`` (first-hand values)."""
        raise NotImplementedError

    def truth(self) -> np.ndarray:
        """The true value each robot estimates, ``(E, R, d)``."""
        raise NotImplementedError

    def draw_world(self, renderer: Any, env_index: int) -> None:
        """Draw task-specific things (targets, clocks) after the robots."""

    def slot_dim(self) -> int:
        return self.value_dim + 1

    def _slot_features(self) -> np.ndarray:
        """Per received message ``(E, R, K, slot_dim)``: its value relative to the receiver's
        estimate (over ``scale``) and whether the filter accepted it."""
        rel = (self._nbr_values() - self.estimate[:, :, None, :]) / self.scale
        return np.concatenate([rel, self.accepted[..., None].astype(float)], axis=-1)

    def _residuals(self) -> np.ndarray:
        """``check="value"``: how far each received message ``(E, R, K)`` is from what its
        receiver senses (only read where the receiver is a checker): the largest coordinate
        difference."""
        return np.abs(self._nbr_values() - self.sensed[:, :, None, :]).max(axis=-1)

    def _evidence_residuals(self) -> np.ndarray:
        """``check="evidence"``: by how much each received claim ``(E, R, K)`` misses what its
        receiver senses (only read where the receiver is a checker): the distance from the
        measurement to the claimed value, less the claim radius and the sensing bound. Positive
        only if the sender's claim is false: ``|v - truth| <= claim`` fails."""
        dist = np.linalg.norm(self._nbr_values() - self.sensed[:, :, None, :], axis=-1)
        return dist - self._nbr_claims() - self.sensing_bound()

    def _check_residuals(self) -> np.ndarray:
        if self.config.check == "evidence":
            return self._evidence_residuals()
        return self._residuals()

    def _consensus_step(self, keep: np.ndarray) -> np.ndarray:
        """The protocol's step ``(E, R, d)`` from the kept messages ``(E, R, K, d)``: the mean of
        the robot's estimate and the kept values, minus its estimate."""
        E, R, K, d = keep.shape
        own = self.estimate.reshape(E * R, d)
        new = trimmed_mean(own, self._nbr_values().reshape(E * R, K, d), keep.reshape(E * R, K, d))
        return new.reshape(E, R, d) - self.estimate

    def _wmsr_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """What W-MSR trims: the robot's own value ``(E, R, c)`` and the received ones
        ``(E, R, K, c)`` (default: estimates, coordinate by coordinate)."""
        return self.estimate, self._nbr_values()

    # -- graph ----------------------------------------------------------------------------------

    def _build_static_graph(self) -> None:
        cfg = self.config
        if cfg.graph == "harary":
            links = harary_edges(cfg.connectivity, cfg.n_robots)
        elif cfg.graph == "given":
            links = sorted({(min(i, j), max(i, j)) for i, j in cfg.edges})
        else:  # radius: built at each reset; no links until then
            none = np.zeros(0, dtype=np.int64)
            self._set_links(none, none, none)
            return
        i, j = (np.array([e[k] for e in links], dtype=np.int64) for k in (0, 1))
        src, dst = np.concatenate([i, j]), np.concatenate([j, i])
        self._set_links(
            np.repeat(np.arange(self.n_envs), len(src)), np.tile(src, self.n_envs), np.tile(dst, self.n_envs)
        )

    def place_robots(self, env_ids: np.ndarray) -> None:
        """Static robot positions: uniform in the arena (radius graph) or on a circle."""
        if self.config.graph == "radius":
            half = self.arena.half
            self.pos[env_ids] = self.rng.uniform(env_ids, (self.n_robots, 2), -half, half)
            for e in env_ids:  # a Sybil identity is its owner's radio: same place, same links
                ids = np.flatnonzero(self.sybil[e])
                self.pos[e, ids] = self.pos[e, self.sybil_owner[e, ids]]
        else:
            self.pos[env_ids] = self.circle_positions()

    def circle_positions(self) -> np.ndarray:
        """Robots on a circle (index order), for the harary and given graphs: ``(R, 2)``."""
        R = self.n_robots
        angle = 2 * np.pi * np.arange(R) / R
        return 0.8 * self.arena.half[0] * np.stack([np.cos(angle), np.sin(angle)], axis=-1)

    def _set_links(self, env: np.ndarray, src: np.ndarray, dst: np.ndarray) -> None:
        """Padded neighbour lists ``nbr (E, R, K)`` (``-1`` padding), ``nbr_ok`` from links."""
        E, R = self.n_envs, self.n_robots
        order = np.lexsort((src, dst, env))
        env, src, dst = env[order], src[order], dst[order]
        recv = env * R + dst
        counts = np.bincount(recv, minlength=E * R)
        K = max(int(counts.max()) if counts.size else 0, 1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(len(recv)) - starts[recv]
        nbr = np.full((E * R, K), -1, dtype=np.int64)
        nbr[recv, slot] = src
        self.nbr = nbr.reshape(E, R, K)
        self.nbr_ok = self.nbr >= 0
        self._nbr_safe = np.where(self.nbr_ok, self.nbr, 0)
        self.degree = counts.reshape(E, R)
        self.links = (env, src, dst)

    def _arrived(self) -> tuple[np.ndarray, np.ndarray]:
        """The broadcasts arriving this round ``(E, R, d)`` and their claims ``(E, R)``: sent
        ``delay`` rounds ago (the first round's at the start of an episode) and aged by the
        receivers through the known dynamics."""
        delay = self.config.delay
        if delay == 0:
            return self.sent, self.claim
        rows = np.arange(self.n_envs)
        age = np.minimum(self.steps, delay)
        slot = (self.steps - age) % (delay + 1)
        values = self._history[slot, rows] + (age * self.truth_rate())[:, None, None]
        claims = self._claim_history[slot, rows] + (age * self.evidence_growth())[:, None]
        return values, claims

    def _nbr_values(self) -> np.ndarray:
        """Received values ``(E, R, K, d)`` (forged ones where they got through; equivocating
        senders' lies to the receivers they lie to)."""
        sent, _ = self._arrived()
        vals = np.take_along_axis(sent[:, None, :, :], self._nbr_safe[..., None], axis=2)
        if self._spoofed is not None:
            vals = np.where(self._spoofed[..., None], self._spoof_value, vals)
        if self._equivocal is not None:
            lie = np.take_along_axis(
                (self.config.attack_magnitude * self.attack_dir)[:, None], self._nbr_safe[..., None], axis=2
            )
            vals = vals + np.where(self._equivocal[..., None], lie, 0.0)
        return vals

    def _nbr_claims(self) -> np.ndarray:
        """Received claim radii ``(E, R, K)``."""
        _, claims = self._arrived()
        return np.take_along_axis(claims[:, None, :], self._nbr_safe, axis=2)

    # -- episode --------------------------------------------------------------------------------

    def _reset(self, env_ids: np.ndarray) -> None:
        cfg = self.config
        R, F, d = self.n_robots, self.n_byz, self.value_dim
        self._spoofed = None
        for e in env_ids:
            e = int(e)
            gen = self.rng.generators[e]
            byz = np.zeros(R, dtype=bool)
            if cfg.byzantine_ids is not None:
                byz[list(cfg.byzantine_ids)] = True
            elif F:
                byz[gen.choice(R, size=F, replace=False)] = True
            self.byzantine[e] = byz
            coop_ids, byz_ids = np.flatnonzero(~byz), np.flatnonzero(byz)
            # The last sybil_ids Byzantine identities are Sybils of the others (round-robin).
            self.sybil[e] = False
            self.sybil_owner[e] = -1
            if cfg.sybil_ids:
                physical, fake = byz_ids[: -cfg.sybil_ids], byz_ids[-cfg.sybil_ids :]
                self.sybil[e, fake] = True
                self.sybil_owner[e, fake] = physical[np.arange(len(fake)) % len(physical)]
            self.agent_robot[e] = np.concatenate([coop_ids, byz_ids]) if cfg.byzantine_agents else coop_ids
            secret = gen.bytes(32)
            self.keyrings[e] = KeyRing(R, secret) if cfg.authenticate else None
            self.nonces[e] = gen.bytes(8)
            self._own_accused[e] = set()
            direction = gen.normal(size=(R, d))
            self.attack_dir[e] = direction / np.linalg.norm(direction, axis=-1, keepdims=True)
        self.lie[env_ids] = 0.0
        self.forgeries_dropped[env_ids] = 0
        self.replays_dropped[env_ids] = 0
        self.accusations_refused[env_ids] = 0
        for counter in self.counters.values():
            counter[env_ids] = 0
        self.online[env_ids] = True
        self._equivocal = None
        self._sent_log_step[:, env_ids] = -1
        self._reset_world(env_ids)
        self.ev_center[env_ids] = self.estimate[env_ids]
        self.ev_radius[env_ids] = self.initial_bound()
        if not self._static_graph:
            graph = neighbourhood(self.pos, cfg.comm_radius, self.arena, "auto", None)
            self._set_links(graph.env, graph.src, graph.dst)
        self.accepted = np.zeros(self.nbr.shape, dtype=bool)
        # Who each robot accused itself, per neighbour slot (slots may have moved: rebuild).
        self._own_mask = np.zeros(self.nbr.shape, dtype=bool)
        for e, pairs in enumerate(self._own_accused):
            for accuser, accused in pairs:
                self._own_mask[e, accuser] |= self.nbr[e, accuser] == accused
        for e in env_ids:
            e = int(e)
            env, src, dst = self.links
            sel = env == e
            comps = cooperative_components(R, src[sel], dst[sel], self.byzantine[e])
            self.ledgers[e] = AccusationLedger(R, comps)
            self.floods[e] = AccusationFlood(R, cfg.accusation_ttl) if self.radio else None
            self._adjacent[e] = set(zip(src[sel].tolist(), dst[sel].tolist()))
        self._reset_link_loss(env_ids)
        self.blocked[env_ids] = False
        self._sense()
        self._update_evidence(env_ids)
        self._exchange(env_ids)
        if 0 in env_ids:
            self.error_trace = [float(self._errors()[0][0])]

    def _step(self, actions: np.ndarray):
        cfg = self.config
        E = self.n_envs
        rows = np.arange(E)[:, None]
        delta = actions.astype(np.float64) * self.scale
        C = self.n_coop
        coop_agents = self.agent_robot[:, :C]
        self.estimate[rows, coop_agents] += delta[:, :C]
        # Byzantine robots keep an honest estimate with the protocol (it makes their lies plausible).
        honest = np.where(self.checker[..., None], self.sensed - self.estimate, self.step_suggested)
        byz = self.byzantine[..., None]
        self.estimate = np.where(byz, self.estimate + np.clip(honest, -self.scale, self.scale), self.estimate)
        if cfg.byzantine_agents:
            self.lie[rows, self.agent_robot[:, C:]] = delta[:, C:] / self.scale * cfg.attack_magnitude
        self._advance_world()
        self._advance_evidence()
        self._sense()
        self._update_evidence(np.arange(E))
        self._update_online()
        self._exchange(np.arange(E))
        err, per_robot = self._errors()
        coop_err = np.take_along_axis(per_robot, coop_agents, axis=1)
        if cfg.reward == "global":
            rewards = np.repeat(-err[:, None] / self.scale, self.n_agents, axis=1)
        else:
            rewards = np.concatenate([-coop_err / self.scale, np.zeros((E, self.n_agents - C))], axis=1)
        if cfg.byzantine_agents:
            rewards[:, C:] = err[:, None] / self.scale
        self.error_trace.append(float(err[0]))
        terminated = np.zeros((E, self.n_agents), dtype=bool)
        infos = self._metrics(err, per_robot)
        return rewards, terminated, infos

    def reset_infos(self) -> dict[str, np.ndarray]:
        """The step infos' metrics after the fresh episodes' first exchange round (counters from
        that round only): reset and step report the same keys, as RL libraries that build their
        info specs from ``reset`` expect."""
        return self._metrics(*self._errors())

    def _metrics(self, err: np.ndarray, per_robot: np.ndarray) -> dict[str, np.ndarray]:
        """Every copy's metrics (the infos) from the cooperative error ``(E,)`` and the robots'
        errors ``(E, R)``."""
        blocked_byz = (self.blocked & self.byzantine).sum(axis=1)
        blocked_coop = (self.blocked & ~self.byzantine).sum(axis=1)
        pairs = [self.accusation_pairs(e) for e in range(self.n_envs)]
        n_acc = np.array([len(p) for p in pairs])
        false_acc = np.array(
            [
                sum(1 for a, b in p if not (self.byzantine[e, a] or self.byzantine[e, b]))
                for e, p in enumerate(pairs)
            ]
        )
        agent_err = np.take_along_axis(per_robot, self.agent_robot, axis=1)
        return {
            "error": err,
            "max_error": np.where(~self.byzantine, per_robot, -np.inf).max(axis=1),
            "blocked_byzantine": blocked_byz,
            "blocked_cooperative": blocked_coop,
            "accusations": n_acc,
            "false_accusations": false_acc,
            "forgeries_dropped": self.forgeries_dropped.copy(),
            "replays_dropped": self.replays_dropped.copy(),
            "accusations_refused": self.accusations_refused.copy(),
            "views_over_bound": self.views_over_bound.copy(),
            "blocked_sybil": (self.blocked & self.sybil).sum(axis=1),
            "robots_offline": (~self.online).sum(axis=1),
            **{name: counter.copy() for name, counter in self.counters.items()},
            "robot_error": agent_err,
            "robot_blocked": np.take_along_axis(self.blocked, self.agent_robot, axis=1),
        }

    def _errors(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean cooperative error ``(E,)`` and every robot's error ``(E, R)`` (Euclidean)."""
        per_robot = np.linalg.norm(self.estimate - self.truth(), axis=-1)
        coop = ~self.byzantine
        return (per_robot * coop).sum(axis=1) / coop.sum(axis=1), per_robot

    # -- the message layer and the protocols ----------------------------------------------------

    def _attack_active(self) -> np.ndarray:
        """``(E,)``: whether the Byzantine robots misbehave this step."""
        cfg = self.config
        t = self.steps - cfg.attack_start
        active = t >= 0
        if cfg.attack == "sleeper":
            active &= (t % (cfg.sleeper_on + cfg.sleeper_off)) < cfg.sleeper_on
        return active

    def _byzantine_values(self) -> np.ndarray:
        """What every robot sends if it is Byzantine, ``(E, R, d)``."""
        cfg = self.config
        est, B = self.estimate, cfg.attack_magnitude
        if cfg.byzantine_agents:
            return est + self.lie
        active = self._attack_active()[:, None, None]
        if cfg.attack in ("bias", "sleeper", "replay", "accuse_all", "jam"):
            lie = est + B * self.attack_dir
        elif cfg.attack == "collude":
            lie = self.truth() + B * self.attack_dir[:, :1, :]  # every robot of a copy: one direction
        elif cfg.attack == "drift":
            grown = np.minimum(cfg.drift_rate * np.maximum(self.steps - cfg.attack_start, 0), B)
            lie = est + grown[:, None, None] * self.attack_dir
        elif cfg.attack == "random":
            low, high = self.value_range()
            lie = self.truth() + self.rng.uniform(np.arange(self.n_envs), est.shape[1:], low, high)
        else:  # none, false_accusation, forge, accusation_flood, equivocate: honest values
            return est
        return np.where(active, lie, est)

    def _exchange(self, env_ids: np.ndarray) -> None:
        """Broadcast, verify, check, accuse, flood, block and filter (steps 3-6 of a round)."""
        cfg = self.config
        self.sent = np.where(self.byzantine[..., None], self._byzantine_values(), self.estimate)
        # Every robot claims what its own evidence guarantees about its honest estimate.
        self.claim = np.linalg.norm(self.estimate - self.ev_center, axis=-1) + self.ev_radius
        if cfg.delay:
            rows = np.arange(self.n_envs)
            slot = self.steps % (cfg.delay + 1)
            self._history[slot, rows] = self.sent
            self._claim_history[slot, rows] = self.claim
        self._spoofed = None
        self._spoof_value = None
        self._equivocal = self._equivocation()
        self._listen(env_ids)
        if cfg.attack == "forge":
            self._forge(env_ids)
        elif cfg.attack == "replay":
            self._replay(env_ids)
        if cfg.protocol == "dbp":
            self._accuse(env_ids)
            if self.radio:
                self._spread(env_ids)
        self._filter()

    def _update_evidence(self, env_ids: np.ndarray) -> None:
        """A robot that senses first-hand this round holds new evidence: its measurement,
        within the sensing bound of the truth."""
        fresh = np.zeros(self.n_envs, dtype=bool)
        fresh[env_ids] = True
        now = self.checker & fresh[:, None]
        self.ev_center = np.where(now[..., None], self.sensed, self.ev_center)
        self.ev_radius = np.where(now, self.sensing_bound(), self.ev_radius)

    def _update_online(self) -> None:
        """Robots drop out and rejoin (radio network only)."""
        cfg = self.config
        if not (cfg.dropout_rate or cfg.rejoin_rate):
            return
        u = self.rng.uniform(np.arange(self.n_envs), (self.n_robots,))
        self.online = np.where(self.online, u >= cfg.dropout_rate, u < cfg.rejoin_rate)

    def _reset_link_loss(self, env_ids: np.ndarray) -> None:
        """Per-link packet loss of the copies' (static) graphs."""
        cfg = self.config
        if not (cfg.link_loss or cfg.distance_loss):
            return
        nbr_pos = np.take_along_axis(self.pos[:, None, :, :], self._nbr_safe[..., None], axis=2)
        length = np.where(self.nbr_ok, np.linalg.norm(nbr_pos - self.pos[:, :, None, :], axis=-1), 0.0)
        if self._link_loss is None or self._link_loss.shape != self.nbr.shape:
            self._link_loss = np.zeros(self.nbr.shape)
        for e in env_ids:
            self._link_loss[e] = loss_probability(
                cfg.link_loss, cfg.distance_loss, length[e], length[e].max()
            )

    def _draw_heard(self, e: int) -> np.ndarray:
        """Which neighbours' packets copy ``e``'s robots receive in one exchange ``(R, K)``."""
        heard = self.nbr_ok[e] & self.online[e][:, None] & self.online[e][self._nbr_safe[e]]
        if self._link_loss is not None:
            # Draws for the copy's own widest neighbour list (face parity, as in localization).
            width = int(self.degree[e].max(initial=0))
            u = np.ones(self.nbr.shape[1:])
            u[:, :width] = self.rng.uniform(np.array([e]), (self.n_robots, width))[0]
            lost = heard & (u < self._link_loss[e])
            self.counters["lost_messages"][e] += int(lost.sum())
            heard &= ~lost
        return heard

    def _listen(self, env_ids: np.ndarray) -> None:
        """This round's value packets: who hears whom (``heard (E, R, K)``). With
        ``authenticate``, Sybil identities' messages fail verification and are dropped."""
        cfg = self.config
        if self.heard.shape != self.nbr.shape:
            self.heard = self.nbr_ok.copy()
        for e in env_ids:
            e = int(e)
            heard = self._draw_heard(e)
            if cfg.sybil_ids and cfg.authenticate:
                fake = heard & self.sybil[e][self._nbr_safe[e]]
                self.counters["sybil_dropped"][e] += int(fake.sum())
                heard &= ~fake
            self.heard[e] = heard
            self.counters["value_messages"][e] += int(self.online[e].sum())

    def _equivocation(self) -> np.ndarray | None:
        """``(E, R, K)``: where a receiver gets an equivocating sender's lie instead of the value
        it sent its checking neighbours (``"equivocate"`` only)."""
        cfg = self.config
        if cfg.attack != "equivocate" or cfg.byzantine_agents:
            return None
        lied_to = self.byzantine[np.arange(self.n_envs)[:, None, None], self._nbr_safe] & self.nbr_ok
        lied_to &= ~self.checker[..., None] & self._attack_active()[:, None, None]
        return lied_to if lied_to.any() else None

    def _echo_pairs(self, e: int) -> list[tuple[int, int]]:
        """DBP's echo check: robots relay, in their next packet, the values they received (one
        signed value per sender and round). A cooperative robot that hears a common neighbour
        relay a value of sender ``b`` other than the one ``b`` sent it holds two conflicting
        values signed by ``b`` for one round -- proof, not suspicion -- and accuses ``b``.
        Honest senders send one value to everyone, so only equivocating senders can be caught
        (the check runs only on them; the outcome is the same)."""
        if self._equivocal is None or not self.config.authenticate:
            return []
        pairs = []
        nbr, heard, coop = self.nbr[e], self.heard[e], ~self.byzantine[e] & self.online[e]
        for b in np.flatnonzero(self.byzantine[e] & self.online[e]):
            # Receivers of b's packet, and which of b's two values each got (1 lie, 2 honest).
            got = np.zeros(self.n_robots, dtype=np.int8)
            rows, slots = np.nonzero((nbr == b) & heard)
            rows_coop = coop[rows]
            rows, slots = rows[rows_coop], slots[rows_coop]
            got[rows] = np.where(self._equivocal[e, rows, slots], 1, 2)
            for r in rows:
                echoes = nbr[r][heard[r]]
                if ((got[echoes] > 0) & (got[echoes] != got[r])).any():
                    pairs.append((int(r), int(b)))
        return pairs

    def _spread(self, env_ids: np.ndarray) -> None:
        """Radio network: ``flood_hops`` packet exchanges of accusations this round (the first
        rides on the value packet; each further one is a new exchange with its own losses)."""
        cfg = self.config
        jam = cfg.attack == "jam" and not cfg.byzantine_agents
        active = self._attack_active()
        for e in env_ids:
            e = int(e)
            relays = self.online[e].copy()
            if cfg.authenticate:
                relays &= ~self.sybil[e]
            held_back = self.byzantine[e] & bool(jam and active[e])
            for hop in range(cfg.flood_hops):
                heard = self.heard[e] if hop == 0 else self._draw_heard(e)
                self.counters["accusation_messages"][e] += self.floods[e].spread(
                    self.nbr[e], heard, relays, held_back, int(self.steps[e]), cfg.bandwidth, cfg.jam_delay
                )

    def accusation_pairs(self, e: int) -> list[tuple[int, int]]:
        """Every verified accusation of copy ``e`` so far ``(accuser, accused)``."""
        if self.radio:
            return list(self.floods[e].pairs)
        return list(self.ledgers[e].reach)

    def _forge(self, env_ids: np.ndarray) -> None:
        """The ``"forge"`` attack: each Byzantine robot sends a value in the name of its first
        cooperative neighbour to its other neighbours, and an accusation between two cooperative
        neighbours in their name. Without the victim's key the tags are wrong."""
        cfg = self.config
        E, R, K = self.nbr.shape
        active = self._attack_active()
        spoofed = np.zeros((E, R, K), dtype=bool)
        value = np.zeros((E, R, self.value_dim))
        for e in env_ids:
            e = int(e)
            if not active[e]:
                continue
            keys = self.keyrings[e]
            for b in np.flatnonzero(self.byzantine[e]):
                nb = self.nbr[e, b][self.nbr_ok[e, b]]
                victims = nb[~self.byzantine[e, nb]]
                if len(victims) == 0:
                    continue
                victim = int(victims[0])
                fake = self.truth()[e, victim] + cfg.attack_magnitude * self.attack_dir[e, b]
                payload = value_payload(self.nonces[e], int(self.steps[e]), victim, fake)
                # The forger signs with its own key: that is the best it can do.
                tag = keys.sign(int(b), payload) if keys is not None else b""
                if keys is not None and not keys.verify(victim, payload, tag):
                    self.forgeries_dropped[e] += 1
                else:  # unauthenticated: receivers that hear both take the forged one
                    for r in nb:
                        hit = self.nbr_ok[e, r] & (self.nbr[e, r] == victim)
                        spoofed[e, r] |= hit
                        value[e, r] = fake
                if len(victims) >= 2 and cfg.protocol == "dbp":
                    accuser, accused = int(victims[0]), int(victims[1])
                    payload = accusation_payload(self.nonces[e], accuser, accused)
                    tag = keys.sign(int(b), payload) if keys is not None else b""
                    if keys is not None and not keys.verify(accuser, payload, tag):
                        self.forgeries_dropped[e] += 1
                    else:
                        self._flood(e, accuser, accused, origin=int(b))
        if spoofed.any():
            self._spoofed, self._spoof_value = spoofed, value[:, :, None, :]

    def _replay(self, env_ids: np.ndarray) -> None:
        """The ``"replay"`` attack: each Byzantine robot rebroadcasts, in their names, every
        cooperative neighbour's value from ``replay_lag`` rounds earlier with the genuine tag it
        heard then, and (DBP) an accusation of each cooperative neighbour ``c`` by ``c``'s first
        cooperative neighbour, genuinely signed in an earlier episode. Receivers verify tags
        against this round and episode, so with ``authenticate`` every replay is dropped;
        without, a replayed value replaces the victim's current one where it is heard and a
        replayed accusation is flooded (an accusation between two cooperative robots)."""
        cfg = self.config
        E, R, K = self.nbr.shape
        active = self._attack_active()
        slot = self.steps % cfg.replay_lag
        spoofed = np.zeros((E, R, K), dtype=bool)
        value = np.zeros((E, R, K, self.value_dim))
        for e in env_ids:
            e = int(e)
            if not active[e]:
                continue
            keys, nonce, step = self.keyrings[e], self.nonces[e], int(self.steps[e])
            old = step - cfg.replay_lag
            if old >= 0 and self._sent_log_step[slot[e], e] == old:
                old_sent = self._sent_log[slot[e], e]
                for b in np.flatnonzero(self.byzantine[e]):
                    nb = self.nbr[e, b][self.nbr_ok[e, b]]
                    for victim in nb[~self.byzantine[e, nb]].tolist():
                        if keys is not None:
                            tag = keys.sign(victim, value_payload(nonce, old, victim, old_sent[victim]))
                            if not verify_value(keys, nonce, step, victim, old_sent[victim], tag):
                                self.replays_dropped[e] += 1
                                continue
                        hit = self.nbr_ok[e, nb] & (self.nbr[e, nb] == victim)
                        spoofed[e, nb] |= hit
                        value[e, nb] = np.where(hit[..., None], old_sent[victim], value[e, nb])
            if cfg.protocol != "dbp":
                continue
            # An earlier episode's nonce (any other nonce does: the replay is refused on it).
            old_nonce = hashlib.sha256(b"earlier episode" + nonce).digest()[: len(nonce)]
            for b in np.flatnonzero(self.byzantine[e]):
                nb = self.nbr[e, b][self.nbr_ok[e, b]]
                for accused in nb[~self.byzantine[e, nb]].tolist():
                    others = self.nbr[e, accused][self.nbr_ok[e, accused]]
                    others = others[~self.byzantine[e, others]]
                    if len(others) == 0:
                        continue
                    accuser = int(others[0])
                    if keys is not None:
                        # Keys are redrawn every episode here; signing with today's key models
                        # keys that outlive episodes, so that only the nonce refuses the replay.
                        tag = keys.sign(accuser, accusation_payload(old_nonce, accuser, accused))
                        if not verify_accusation(keys, nonce, accuser, accused, tag):
                            self.replays_dropped[e] += 1
                            continue
                    self._flood(e, accuser, accused, origin=int(b))
        # Log this round's broadcasts, after reading: round ``t - replay_lag`` shares t's slot.
        self._sent_log[slot[env_ids], env_ids] = self.sent[env_ids]
        self._sent_log_step[slot[env_ids], env_ids] = self.steps[env_ids]
        if spoofed.any():
            self._spoofed, self._spoof_value = spoofed, value

    def _flood(self, e: int, accuser: int, accused: int, origin: int) -> bool:
        """A verified accusation enters the network at ``origin`` and floods every cooperative
        component ``origin`` touches (its own, or its cooperative neighbours' if Byzantine).
        Receivers refuse it unless the accuser and the accused are neighbours (the graph is fixed
        for an episode and known): nobody can check a robot it does not hear. Returns whether it
        was accepted; refusals are counted in ``accusations_refused``."""
        if (accuser, accused) not in self._adjacent[e]:
            self.accusations_refused[e] += 1
            return False
        if self.radio:  # it enters at its origin and travels hop by hop (see _spread)
            self.floods[e].add(accuser, accused, origin, int(self.steps[e]))
            return True
        ledger = self.ledgers[e]
        if not self.byzantine[e, origin]:
            comps = {int(ledger.components[origin])}
        else:
            nb = self.nbr[e, origin][self.nbr_ok[e, origin]]
            comps = {int(c) for c in ledger.components[nb] if c >= 0}
        before = set(ledger.reach.get((accuser, accused), ()))
        if ledger.add(accuser, accused, comps):  # every member of a newly reached component relays it once
            self.counters["accusation_messages"][e] += int(
                np.isin(ledger.components, list(comps - before)).sum()
            )
        return True

    def _accuse(self, env_ids: np.ndarray) -> None:
        """DBP's local checks, signed accusations, flooding and blocklists."""
        cfg = self.config
        checking = self.checker & ~self.byzantine & self.online
        bad = checking[..., None] & self.heard & (self._check_residuals() > cfg.check_tolerance)
        accusing = cfg.attack in ("false_accusation", "accusation_flood", "accuse_all")
        accusing &= not cfg.byzantine_agents
        active = self._attack_active()
        for e in env_ids:
            e = int(e)
            pairs = [(int(r), int(self.nbr[e, r, k])) for r, k in zip(*np.nonzero(bad[e]))]
            echo = self._echo_pairs(e)
            self.counters["equivocations_caught"][e] += sum(p not in self._own_accused[e] for p in echo)
            pairs += echo
            if accusing and active[e]:
                coop = np.flatnonzero(~self.byzantine[e])
                for b in np.flatnonzero(self.byzantine[e]):
                    if cfg.attack == "accusation_flood":  # every cooperative robot, twice
                        targets = np.concatenate([coop, coop])
                    else:  # every cooperative neighbour
                        nb = self.nbr[e, b][self.nbr_ok[e, b]]
                        targets = nb[~self.byzantine[e, nb]]
                    pairs += [(int(b), int(c)) for c in targets]
            for accuser, accused in pairs:
                if (accuser, accused) in self._own_accused[e]:
                    continue  # flooded before: signed once per episode, a repeat changes nothing
                if cfg.authenticate and self.sybil[e, accuser]:
                    self.counters["sybil_dropped"][e] += 1  # no key was issued to that id
                    continue
                if not self._flood(e, accuser, accused, origin=accuser):
                    continue
                self._own_accused[e].add((accuser, accused))
                self._own_mask[e, accuser] |= self.nbr[e, accuser] == accused

    def _filter(self) -> None:
        """Which messages each robot accepts, and the protocol's consensus step."""
        cfg = self.config
        E, R, K = self.nbr.shape
        d = self.value_dim
        ok = self.heard.copy()
        self.views_over_bound = np.zeros(E, dtype=np.int64)
        if cfg.protocol == "dbp":
            for e in range(E):
                if self.ledgers[e] is None:
                    continue
                if self.radio:
                    views, comp = self.floods[e].groups()
                else:
                    ledger = self.ledgers[e]
                    views = ledger.views()
                    comp = np.where(ledger.components >= 0, ledger.components, views.shape[0] - 1)
                coop = ~self.byzantine[e]
                # The blocklist most cooperative robots hold (in the ideal layer: the largest
                # cooperative component's).
                main = np.bincount(comp[coop]).argmax()
                self.blocked[e] = views[main]
                # Cooperative robots whose own view blocks more cooperative robots than Byzantine.
                over = (views & coop).sum(axis=1) > (views & ~coop).sum(axis=1)
                self.views_over_bound[e] = int(over[comp[coop]].sum())
                blocked_view = views[comp[:, None], self._nbr_safe[e]]
                ok[e] &= ~blocked_view & ~self._own_mask[e]
        if cfg.protocol == "wmsr":
            own, vals = self._wmsr_inputs()
            c = own.shape[-1]
            keep = wmsr_keep(
                own.reshape(E * R, c), vals.reshape(E * R, K, c), ok.reshape(E * R, K), cfg.f_wmsr
            ).reshape(E, R, K, c)
            self.accepted = keep.all(axis=-1) & ok
            keep = np.broadcast_to(self.accepted[..., None], (E, R, K, d)) if c != d else keep
        else:
            keep = np.broadcast_to(ok[..., None], (E, R, K, d))
            self.accepted = ok
        self.step_suggested = self._consensus_step(keep)
        self.rejected_count = (self.heard & ~self.accepted).sum(axis=-1)

    # -- views ----------------------------------------------------------------------------------

    def obs_dim(self) -> int:
        d = self.value_dim
        return 4 + 2 * d + self.config.k_slots * self.slot_dim()

    def _robot_obs(self) -> np.ndarray:
        """Every robot's observation ``(E, R, D)``."""
        cfg = self.config
        d = self.value_dim
        E, R, K = self.nbr.shape
        checker = self.checker[..., None].astype(float)
        rel_sensed = checker * (self.sensed - self.estimate) / self.scale
        count = self.accepted.sum(axis=-1, keepdims=True) / max(cfg.k_slots, 1)
        parts = [
            checker,
            rel_sensed,
            count,
            self.step_suggested / self.scale,
            self.rejected_count[..., None] / max(cfg.k_slots, 1),
            self.blocked[..., None].astype(float),
        ]
        if cfg.k_slots:
            feats = self._slot_features()
            slots = np.zeros((E, R, cfg.k_slots, self.slot_dim()))
            k = min(K, cfg.k_slots)
            slots[:, :, :k] = np.where(self.nbr_ok[:, :, :k, None], feats[:, :, :k], 0.0)
            parts.append(slots.reshape(E, R, -1))
        assert sum(p.shape[-1] for p in parts) == 4 + 2 * d + cfg.k_slots * self.slot_dim()
        return np.concatenate(parts, axis=-1)

    def observe(self) -> np.ndarray:
        obs = self._robot_obs()
        return np.take_along_axis(obs, self.agent_robot[..., None], axis=1).astype(np.float32)

    def state(self) -> np.ndarray:
        err = (self.estimate - self.truth()) / self.scale
        parts = [err, self.checker[..., None], self.blocked[..., None], self.byzantine[..., None]]
        return np.concatenate(parts, axis=-1).reshape(self.n_envs, -1).astype(np.float32)

    def agent_names(self) -> list[str]:
        names = [f"robot_{i}" for i in range(self.n_coop)]
        if self.config.byzantine_agents:
            names += [f"byzantine_{i}" for i in range(self.n_byz)]
        return names

    def hud(self, env_index: int) -> list[str]:
        e = env_index
        byz, blk = self.byzantine[e], self.blocked[e]
        return [
            f"protocol {self.config.protocol}, attack {self.config.attack}",
            f"error {self._errors()[0][e]:.3f}",
            f"blocked {int((blk & byz).sum())}/{int(byz.sum())} Byzantine, "
            f"{int((blk & ~byz).sum())} cooperative",
        ]

    def draw(self, renderer: Any, env_index: int) -> None:
        e = env_index
        renderer.begin()
        env, src, dst = self.links
        sel = (env == e) & (src < dst)
        renderer.segments(self.pos[e, src[sel]], self.pos[e, dst[sel]], (200, 200, 210), width=1)
        accused = self.accusation_pairs(e) if self.ledgers[e] is not None else []
        if accused:
            pairs = np.array(sorted(accused), dtype=np.int64)
            renderer.segments(self.pos[e, pairs[:, 0]], self.pos[e, pairs[:, 1]], (240, 140, 30), width=2)
        radius = 0.35 * self.arena.width / np.sqrt(max(self.n_robots, 4)) / 2
        colors = np.where(self.byzantine[e][:, None], [[210, 50, 50]], [[60, 110, 200]])
        renderer.circles(self.pos[e], radius, colors, outline=(20, 20, 20))
        if self.checker[e].any():
            renderer.circles(self.pos[e, self.checker[e]], radius * 1.6, (40, 160, 80), width=2)
        if self.blocked[e].any():
            renderer.crosses(self.pos[e, self.blocked[e]], radius * 2.2, (30, 30, 30))
        self.draw_world(renderer, e)
        if e == 0 and self.error_trace:
            top = max(max(self.error_trace), 1e-6)
            renderer.curve(self.error_trace, "mean error", 0.0, top, length=self.max_cycles + 1)
