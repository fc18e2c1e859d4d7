"""The base task of the Byzantine case studies, :class:`ByzantineTask`: the arrays one round
works on, an episode's reset and step, the metrics, and the hooks a case study implements. The
round itself is composed from the other modules of :mod:`swarmzoo.envs.core.byzantine`, mixed in:
the graph (``graph.py``), the message traffic (``exchange.py``), the Byzantine strategies
(``attacks.py``), what robots execute (``protocols.py``) and the views (``views.py``)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.byzantine.attacks import AttackMixin
from swarmzoo.envs.core.byzantine.config import OBJECTIVES, ByzantineConfig
from swarmzoo.envs.core.byzantine.exchange import ExchangeMixin
from swarmzoo.envs.core.byzantine.graph import GraphMixin
from swarmzoo.envs.core.byzantine.messages import AccusationLedger, KeyRing, cooperative_components
from swarmzoo.envs.core.byzantine.network import AccusationFlood
from swarmzoo.envs.core.byzantine.protocols import ProtocolMixin
from swarmzoo.envs.core.byzantine.views import ViewMixin
from swarmzoo.envs.core.collective import neighbourhood
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.task import SwarmTask


class ByzantineTask(GraphMixin, ExchangeMixin, AttackMixin, ProtocolMixin, ViewMixin, SwarmTask):
    """Base of the Byzantine case studies. Subclasses set ``value_dim`` and ``scale`` and
    implement the world: ``_reset_world``, ``_advance_world``, ``_sense``, ``truth`` and
    ``draw_world``; they may refine ``_residuals`` and ``_consensus_step``."""

    value_dim: ClassVar[int] = 2
    checker_name: ClassVar[str] = "checker"
    fixed_actions = "continuous"  # the robots' corrections
    objectives_available = OBJECTIVES

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

    def draw_world(self, renderer: Any, env_index: int, history: RenderHistory) -> None:
        """Draw task-specific things (targets, clocks) after the robots (``history`` as in
        ``draw``)."""

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
            self._draw_sybils(e, byz_ids)
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

    def _step(self, actions: np.ndarray):
        cfg = self.config
        E = self.n_envs
        rows = np.arange(E)[:, None]
        delta = actions.astype(np.float64) * self.scale
        C = self.n_coop
        if self.objectives:
            self._messages_before = self._messages_sent()
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
        terminated = np.zeros((E, self.n_agents), dtype=bool)
        infos = self._metrics(err, per_robot)
        return rewards, terminated, infos

    def _messages_sent(self) -> np.ndarray:
        """Value and accusation messages each copy has sent this episode, ``(E,)``."""
        return self.counters["value_messages"] + self.counters["accusation_messages"]

    def objective_rewards(self, rewards: np.ndarray, infos: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The objectives of :data:`~swarmzoo.envs.core.byzantine.config.OBJECTIVES` for the
        step just taken."""
        sent = self._messages_sent() - self._messages_before
        return {"error": rewards, "messages": -sent / self.config.n_robots}

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
