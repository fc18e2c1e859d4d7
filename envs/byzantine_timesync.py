"""# Byzantine-resilient time synchronisation (``byzantine-timesync-v0``)

Every robot's hardware clock runs at its own rate (within ``1 +- clock_drift``); each robot keeps
a logical clock (its estimate of the true time) and the swarm must keep the logical clocks on
true time. A few reference robots (``n_references``, cooperative) have a time source (GPS) at
every step; every other robot gets a fix with probability ``fix_rate`` per step (noise bounded
by ``measurement_noise``). Some robots are Byzantine and lie about their clocks. The second case
study of Wardega et al. (AAMAS 2023); the message layer, attacks and protocols are described in
:mod:`swarmzoo.envs.core.byzantine`.

| Import              | ``swarmzoo.make("byzantine-timesync-v0")``                                      |
|---------------------|---------------------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{C-1}`` (``byzantine_i`` too with ``byzantine_agents``)      |
| Actions             | ``Box(-1, 1, (1,))``: clock correction, in units of ``max_correction``           |
| Observation         | ``Box(-inf, inf, (6 + 2 k_slots,), float32)``                                    |
| State               | ``Box(-inf, inf, (4 n_robots,), float32)``                                       |

## Dynamics

One step is one unit of true time. A robot's logical clock advances by its hardware rate each
step, plus its action. Logical clocks start within ``initial_error`` of true time.

## Observation (index slices, d = 1)

``[0]`` fix flag, ``[1]`` fix minus own clock, ``[2]`` accepted messages / ``k_slots``, ``[3]`` the
protocol's consensus step, ``[4]`` rejected messages / ``k_slots``, ``[5]`` blocklisted flag,
``[6:]`` ``k_slots`` messages (clock minus own clock, accepted flag); times over ``max_correction``.

## Local check (DBP)

Every broadcast clock reading carries a claim radius: how far the sender's own evidence (its last
fix, carried forward by its hardware clock, so widened by ``clock_drift`` per step) lets it be
from true time. A robot with a fix accuses a neighbour whose reading misses the fix by more than
the claim, the fix's noise bound and ``check_tolerance`` (``check="evidence"``, the default: an
honest robot pulled off by liars still keeps its claim, so it is never accused). ``check="value"``
is the check of swarmzoo < 0.4: reading against fix by ``check_tolerance`` alone.

## Reward, termination, infos

Minus the cooperative robots' mean clock error (``"global"``) or the robot's own (``"local"``),
over ``max_correction``. Infos as in ``byzantine-tracking-v0``.

## Objectives (vector rewards)

``objectives=("error", "messages")`` makes every robot's reward a float32 array (MOMAland's API;
``reward_space(agent)`` is a ``Box (K,)``, the vector face returns ``(E, N, K)``): ``error`` is
the scalar reward above, ``messages`` minus the value and accusation messages the copy sent this
step per robot (the radio cost of the protocol). The default ``()`` keeps the scalar reward.

## Version history

* v0: initial release.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from swarmzoo.envs.core.byzantine import ByzantineConfig, ByzantineTask
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.task import check_number, check_positive_int
from swarmzoo.envs.registry import register


@dataclass(frozen=True)
class Config(ByzantineConfig):
    """Arguments of ``byzantine-timesync-v0``: those of
    :class:`~swarmzoo.envs.core.byzantine.ByzantineConfig` and

    Attributes:
        clock_drift: hardware clock rates are uniform in ``1 +- clock_drift`` (>= 0).
        n_references: cooperative robots with a time fix at every step (>= 0).
        fix_rate: probability per step that any other robot gets a fix (0 .. 1).
        initial_error: bound of the logical clocks' initial error (>= 0).
        max_correction: the largest clock correction per step (an action of 1; clocks are slewed,
            not stepped, as NTP does), also the unit of observations and rewards (> 0).
    """

    measurement_noise: float = 0.01
    check_tolerance: float = 0.4
    clock_drift: float = 0.01
    n_references: int = 2
    fix_rate: float = 0.05
    initial_error: float = 0.05
    max_correction: float = 0.05

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("clock_drift", self.clock_drift, low=0.0)
        check_number("fix_rate", self.fix_rate, low=0.0, high=1.0)
        check_number("initial_error", self.initial_error, low=0.0)
        check_number("max_correction", self.max_correction, low=0.0, low_open=True)
        check_positive_int("n_references", self.n_references, minimum=0)
        if self.n_references > self.n_robots - self.n_byzantine_robots:
            raise ValueError(
                f"n_references={self.n_references} exceeds the "
                f"{self.n_robots - self.n_byzantine_robots} cooperative robots (n_robots={self.n_robots} "
                f"less {self.n_byzantine_robots} Byzantine)"
            )


class ByzantineTimeSync(ByzantineTask):
    """Logical clocks ``estimate (E, R, 1)`` tracking true time ``clock (E,)``."""

    name = "byzantine_timesync_v0"
    Config = Config
    value_dim = 1

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        self.clock = np.zeros(n_envs)
        self.rate = np.ones((n_envs, config.n_robots))
        self.reference = np.zeros((n_envs, config.n_robots), dtype=bool)
        super().__init__(config, n_envs)

    def value_scale(self) -> float:
        return self.config.max_correction

    def truth(self) -> np.ndarray:
        return np.broadcast_to(self.clock[:, None, None], self.estimate.shape)

    def evidence_growth(self) -> float:
        return self.config.clock_drift

    def truth_rate(self) -> float:
        return 1.0

    def _advance_evidence(self) -> None:
        # A robot measures elapsed time with its own hardware clock: off by at most the drift.
        self.ev_center += self.rate[..., None]
        self.ev_radius += self.config.clock_drift

    def _reset_world(self, env_ids: np.ndarray) -> None:
        cfg, R = self.config, self.n_robots
        self.place_robots(env_ids)
        self.clock[env_ids] = 0.0
        self.rate[env_ids] = 1.0 + self.rng.uniform(env_ids, (R,), -cfg.clock_drift, cfg.clock_drift)
        self.estimate[env_ids] = self.rng.uniform(env_ids, (R, 1), -cfg.initial_error, cfg.initial_error)
        for e in env_ids:
            coop = np.flatnonzero(~self.byzantine[e])
            self.reference[e] = False
            self.reference[e, self.rng.generators[int(e)].choice(coop, cfg.n_references, replace=False)] = (
                True
            )

    def _advance_world(self) -> None:
        self.clock += 1.0
        self.estimate += self.rate[..., None]

    def _sense(self) -> None:
        cfg = self.config
        ids = np.arange(self.n_envs)
        fix = self.rng.uniform(ids, (self.n_robots,)) < cfg.fix_rate
        self.checker = fix | self.reference
        noise = self.rng.uniform(ids, (self.n_robots, 1), -1.0, 1.0) * cfg.measurement_noise
        self.sensed = np.where(self.checker[..., None], self.clock[:, None, None] + noise, 0.0)

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        return [f"true time {self.clock[env_index]:.0f}", *super().hud(env_index, history)]

    def draw_world(self, renderer, env_index: int, history: RenderHistory) -> None:
        e = env_index
        # Each robot's clock error as a hand: straight up is on time, a quarter turn is one scale.
        err = (self.estimate[e, :, 0] - self.clock[e]) / self.scale
        angle = np.pi / 2 - np.clip(err, -2, 2) * np.pi / 2
        length = 0.3 * self.arena.width / np.sqrt(max(self.n_robots, 4))
        renderer.arrows(self.pos[e], angle, length, (20, 20, 20), width=2)
        if self.reference[e].any():
            renderer.crosses(self.pos[e, self.reference[e]], length * 0.8, (40, 160, 80))


parallel_env, raw_env, env, vector_env = make_factories(ByzantineTimeSync)
register(
    "byzantine-timesync-v0",
    __name__,
    "Byzantine time synchronisation: drifting clocks agree on true time despite lying robots",
)
