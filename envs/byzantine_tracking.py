"""# Byzantine-resilient target tracking (``byzantine-tracking-v0``)

A swarm of static robots must agree on the position of a moving target. Robots within
``sensing_radius`` of the target measure its position (noise bounded by ``measurement_noise``
per coordinate); the others learn it only from their neighbours' broadcasts. Some robots are
Byzantine and lie. The first case study of Wardega et al., "Byzantine Resilience at Swarm Scale:
A Decentralized Blocklist Protocol from Inter-robot Accusations" (AAMAS 2023); the message layer,
the attacks and the protocols are described in :mod:`swarmzoo.envs.core.byzantine`.

| Import              | ``swarmzoo.make("byzantine-tracking-v0")``                                       |
|---------------------|----------------------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{C-1}`` (``byzantine_i`` too with ``byzantine_agents``)       |
| Actions             | ``Box(-1, 1, (2,))``: change of the robot's estimate, in units of ``arena_size / 2`` |
| Observation         | ``Box(-inf, inf, (8 + 3 k_slots,), float32)``                                     |
| State               | ``Box(-inf, inf, (5 n_robots,), float32)``                                        |
| Vector face         | ``swarmzoo.make_vec("byzantine-tracking-v0", num_envs)``                          |

## Dynamics

Robots sit still (uniformly at random for ``graph="radius"``; on a circle for ``"harary"`` and
``"given"``). The target moves at ``target_speed`` per step with a heading that turns by
``N(0, target_turn^2)`` each step and reflects off the walls. Every robot's estimate starts within
``initial_error`` (per coordinate) of the target's start (a hand-off from whoever tracked it
before).

## Observation (index slices, d = 2)

| Slice              | Content                                                                  |
|--------------------|--------------------------------------------------------------------------|
| ``[0]``            | 1 if the robot measures the target this step                             |
| ``[1:3]``          | its measurement minus its estimate (0 if none), over ``arena_size / 2``  |
| ``[3]``            | accepted messages / ``k_slots``                                          |
| ``[4:6]``          | the protocol's consensus step (mean of own and accepted estimates, minus own) |
| ``[6]``            | rejected messages (blocklisted or trimmed) / ``k_slots``                 |
| ``[7]``            | 1 if the robot itself is blocklisted                                     |
| ``[8:]``           | ``k_slots`` messages: (value minus own estimate, accepted flag)          |

## Local check (DBP)

``check="evidence"`` (default): every broadcast estimate carries a claim radius, the bound the
sender's own evidence gives (its last measurement, widened by ``target_speed`` per step since);
a robot that measures the target this step accuses a neighbour whose estimate misses its
measurement by more than that claim, its sensing bound and ``check_tolerance``. Honest robots
never are. ``check="value"``: the replay check of swarmzoo < 0.4, below.

The protocol says a robot in range of the target moves its estimate towards its measurement (at
most ``arena_size / 2`` per coordinate and step). A robot that measured the target this step and
the last replays that move for each neighbour that surely measured it too (judging by the
neighbour's known position): from the neighbour's last broadcast and its own last measurement.
It accuses the neighbour if the broadcast deviates from the replay by more than
``check_tolerance`` (largest coordinate). Other neighbours may honestly lag behind the target and
are not checked: a Byzantine robot is caught once it lies while the target is in its range.

## Reward, termination, infos

Minus the cooperative robots' mean distance between estimate and target (``reward="global"``) or
the robot's own (``"local"``), over ``arena_size / 2``. No termination; truncation after
``max_cycles``. Infos: ``error``, ``max_error``, ``blocked_byzantine``, ``blocked_cooperative``,
``accusations``, ``false_accusations`` (accusations with no Byzantine endpoint),
``forgeries_dropped``, ``replays_dropped`` (messages tagged for another round or episode),
``accusations_refused`` (accusations between robots that are not neighbours); per robot
``robot_error``, ``robot_blocked``.

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
from typing import Any

import numpy as np

from swarmzoo.envs.core.byzantine import ByzantineConfig, ByzantineTask
from swarmzoo.envs.core.factories import make_factories
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.task import check_number
from swarmzoo.envs.registry import register


@dataclass(frozen=True)
class Config(ByzantineConfig):
    """Arguments of ``byzantine-tracking-v0``: those of
    :class:`~swarmzoo.envs.core.byzantine.ByzantineConfig` and

    Attributes:
        sensing_radius: robots this close to the target measure it (> 0).
        target_speed: distance the target moves per step (>= 0).
        target_turn: standard deviation of the heading change per step (rad, >= 0).
        initial_error: bound of the initial estimates' error per coordinate (>= 0).
    """

    sensing_radius: float = 0.6
    target_speed: float = 0.02
    target_turn: float = 0.3
    initial_error: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("sensing_radius", self.sensing_radius, low=0.0, low_open=True)
        for name in ("target_speed", "target_turn", "initial_error"):
            check_number(name, getattr(self, name), low=0.0)
        if self.target_speed > 0.95 * self.arena_size:
            raise ValueError(
                f"target_speed={self.target_speed} exceeds 0.95 * arena_size = {0.95 * self.arena_size:g}: "
                "the target would cross its arena in one step"
            )


class ByzantineTracking(ByzantineTask):
    """Static robots estimating a moving target's position ``target (E, 2)``."""

    name = "byzantine_tracking_v0"
    Config = Config
    value_dim = 2
    history_lengths = {"target": 60}  # the target's trail: its last 60 positions

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        self.target = np.zeros((n_envs, 2))
        self.heading = np.zeros(n_envs)
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        super().__init__(config, n_envs)

    def truth(self) -> np.ndarray:
        return np.broadcast_to(self.target[:, None, :], self.estimate.shape)

    def evidence_growth(self) -> float:
        return self.config.target_speed

    def _reset_world(self, env_ids: np.ndarray) -> None:
        cfg, R = self.config, self.n_robots
        half = self.arena.half
        self.place_robots(env_ids)
        if self._prev is not None:  # reset copies have no last broadcast to replay
            prev_sent, prev_sensed, prev_checker = self._prev
            prev_sent[env_ids] = np.nan
            prev_sensed[env_ids] = np.nan
            prev_checker[env_ids] = False
        self.target[env_ids] = self.rng.uniform(env_ids, (2,), -0.6 * half, 0.6 * half)
        self.heading[env_ids] = self.rng.uniform(env_ids, (1,), -np.pi, np.pi)[:, 0]
        noise = self.rng.uniform(env_ids, (R, 2), -cfg.initial_error, cfg.initial_error)
        self.estimate[env_ids] = self.target[env_ids][:, None, :] + noise

    def _advance_world(self) -> None:
        cfg = self.config
        E = self.n_envs
        if cfg.target_turn:
            self.heading += cfg.target_turn * self.rng.normal(np.arange(E), (1,))[:, 0]
        step = cfg.target_speed * np.stack([np.cos(self.heading), np.sin(self.heading)], axis=-1)
        new = self.target + step
        half = self.arena.half * 0.95
        # Reflect off the walls: mirror the position and the heading component.
        for axis in (0, 1):
            over = np.abs(new[:, axis]) > half[axis]
            new[over, axis] = np.sign(new[over, axis]) * (2 * half[axis] - np.abs(new[over, axis]))
            if axis == 0:
                self.heading[over] = np.pi - self.heading[over]
            else:
                self.heading[over] = -self.heading[over]
        self.target = new

    def _sense(self) -> None:
        cfg = self.config
        dist = np.linalg.norm(self.pos - self.target[:, None, :], axis=-1)
        self.checker = dist <= cfg.sensing_radius
        noise = (
            self.rng.uniform(np.arange(self.n_envs), (self.n_robots, 2), -1.0, 1.0) * cfg.measurement_noise
        )
        self.sensed = np.where(self.checker[..., None], self.target[:, None, :] + noise, 0.0)

    def _residuals(self) -> np.ndarray:
        """The protocol check. A robot in range of the target moves its estimate towards what it
        measures, by at most one ``scale`` per coordinate and step. A checker that measured the
        target last step can replay that move for a neighbour that surely measured it too
        (judging by its known position, with a margin for noise and target motion): from the
        neighbour's last broadcast and the checker's own last measurement (the two robots'
        measurements differ by at most ``2 * measurement_noise``). The deviation of the
        neighbour's broadcast from that replay is the residual; other neighbours (which may
        honestly lag behind the target) are not checked, and nobody is checked at a reset."""
        cfg = self.config
        if self._prev is None:
            return np.zeros(self.nbr.shape)
        prev_sent, prev_sensed, prev_checker = self._prev
        margin = 2 * (np.sqrt(2) * cfg.measurement_noise + cfg.target_speed)
        nbr_pos = np.take_along_axis(self.pos[:, None, :, :], self._nbr_safe[..., None], axis=2)
        sure = np.linalg.norm(nbr_pos - prev_sensed[:, :, None, :], axis=-1) <= cfg.sensing_radius - margin
        sure &= prev_checker[..., None] & self.checker[..., None]
        before = np.take_along_axis(prev_sent[:, None, :, :], self._nbr_safe[..., None], axis=2)
        replay = before + np.clip(prev_sensed[:, :, None, :] - before, -self.scale, self.scale)
        deviation = np.abs(self._nbr_values() - replay).max(axis=-1)
        return np.where(sure, deviation, 0.0)

    def _exchange(self, env_ids: np.ndarray) -> None:
        super()._exchange(env_ids)
        self._prev = (self.sent.copy(), self.sensed.copy(), self.checker.copy())

    def history_sample(self) -> dict[str, Any]:
        return {**super().history_sample(), "target": self.target[0]}

    def draw_world(self, renderer, env_index: int, history: RenderHistory) -> None:
        e = env_index
        trail = history.get("target")
        if e == 0 and len(trail) > 1:
            trace = np.array(trail)
            renderer.segments(trace[:-1], trace[1:], (120, 120, 120), width=1)
        renderer.circles(self.target[e : e + 1], self.config.sensing_radius, (40, 160, 80), width=1)
        renderer.circles(self.target[e : e + 1], 0.04, (250, 200, 0), outline=(20, 20, 20))
        # The cooperative robots' mean estimate.
        coop = ~self.byzantine[e]
        renderer.crosses(self.estimate[e, coop].mean(axis=0, keepdims=True), 0.08, (60, 110, 200))


parallel_env, raw_env, env, vector_env = make_factories(ByzantineTracking)
register(
    "byzantine-tracking-v0",
    __name__,
    "Byzantine target tracking: robots agree on a moving target's position despite lying robots",
)
