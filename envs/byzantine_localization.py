"""# Byzantine-resilient cooperative localisation (``byzantine-localization-v0``)

Every robot estimates its own position from noisy ranges to its neighbours (bounded noise
``measurement_noise``) and the positions its neighbours broadcast. A fraction of the cooperative
robots are anchors that know where they are. Some robots are Byzantine and broadcast false
positions. The third case study of Wardega et al. (AAMAS 2023); the message layer, attacks and
protocols are described in :mod:`swarmzoo.envs.core.byzantine`.

| Import              | ``swarmzoo.make("byzantine-localization-v0")``                                   |
|---------------------|----------------------------------------------------------------------------------|
| Agents              | ``robot_0 ... robot_{C-1}`` (``byzantine_i`` too with ``byzantine_agents``)       |
| Actions             | ``Box(-1, 1, (2,))``: move of the position estimate, in units of ``max_correction`` |
| Observation         | ``Box(-inf, inf, (8 + 4 k_slots,), float32)``                                     |
| State               | ``Box(-inf, inf, (5 n_robots,), float32)``                                        |

## Dynamics

Robots sit still; estimates start within ``initial_error`` (per coordinate) of the truth (a
rough prior, e.g. from deployment). Ranges are measured afresh each step.

## The protocol

Anchors move their estimate to their known position. Every other robot descends the squared
range residuals ``sum_j (|x_i - x_j| - d_ij)^2`` over its accepted neighbours: the consensus
step is ``-step_size * mean_j (|x_i - x_j| - d_ij) (x_i - x_j) / |x_i - x_j|``, at most
``max_correction`` per step. LCP accepts every message; W-MSR trims the ``wmsr_f`` most positive
and most negative residuals (W-MSR itself is defined for linear consensus only: this is its
natural analogue here); DBP drops blocklisted robots.

## Observation (index slices, d = 2)

``[0]`` anchor flag, ``[1:3]`` known position minus estimate (anchors), ``[3]`` accepted
messages / ``k_slots``, ``[4:6]`` the consensus step, ``[6]`` rejected / ``k_slots``, ``[7]``
blocklisted flag, ``[8:]`` ``k_slots`` messages (neighbour's position minus own estimate, range,
accepted flag); lengths over ``max_correction``.

## Local check (DBP)

An anchor accuses a neighbour whose broadcast position disagrees with the measured range by more
than the neighbour's claim radius (the bound its own evidence gives: the initial hand-off, or its
last GPS fix), the anchor's sensing bound, the range noise and ``check_tolerance``
(``check="evidence"``, the default). ``check="value"`` (swarmzoo < 0.4):
``| |p_anchor - x_j| - d_anchor,j | > check_tolerance``, which also accuses honest robots that
liars pulled away.

## Reward, termination, infos

Minus the cooperative robots' mean position error (``"global"``) or the robot's own
(``"local"``), over ``max_correction``. Infos as in ``byzantine-tracking-v0``.

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
from swarmzoo.envs.core.task import check_number
from swarmzoo.envs.registry import register


@dataclass(frozen=True)
class Config(ByzantineConfig):
    """Arguments of ``byzantine-localization-v0``: those of
    :class:`~swarmzoo.envs.core.byzantine.ByzantineConfig` and

    Attributes:
        anchor_fraction: fraction of the cooperative robots that know their position (0 .. 1).
        initial_error: bound of the initial estimates' error per coordinate (>= 0).
        step_size: gain of the range-residual descent (> 0).
        max_correction: largest move of an estimate per step (an action of 1), also the unit of
            observations and rewards (> 0).
    """

    check_tolerance: float = 0.4
    anchor_fraction: float = 0.2
    initial_error: float = 0.15
    step_size: float = 0.5
    max_correction: float = 0.05

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("anchor_fraction", self.anchor_fraction, low=0.0, high=1.0)
        check_number("initial_error", self.initial_error, low=0.0)
        for name in ("step_size", "max_correction"):
            check_number(name, getattr(self, name), low=0.0, low_open=True)


class ByzantineLocalization(ByzantineTask):
    """Static robots estimating their own positions ``pos (E, R, 2)``."""

    name = "byzantine_localization_v0"
    Config = Config
    value_dim = 2

    def __init__(self, config: Config, n_envs: int = 1) -> None:
        self.anchor = np.zeros((n_envs, config.n_robots), dtype=bool)
        super().__init__(config, n_envs)
        self.ranges = np.zeros(self.nbr.shape)

    def value_scale(self) -> float:
        return self.config.max_correction

    def truth(self) -> np.ndarray:
        return self.pos

    def _reset_world(self, env_ids: np.ndarray) -> None:
        cfg, R = self.config, self.n_robots
        self.place_robots(env_ids)
        noise = self.rng.uniform(env_ids, (R, 2), -cfg.initial_error, cfg.initial_error)
        self.estimate[env_ids] = self.pos[env_ids] + noise
        for e in env_ids:
            coop = np.flatnonzero(~self.byzantine[e])
            n = int(round(cfg.anchor_fraction * len(coop)))
            self.anchor[e] = False
            self.anchor[e, self.rng.generators[int(e)].choice(coop, n, replace=False)] = True

    def _advance_world(self) -> None:
        pass

    def _sense(self) -> None:
        cfg = self.config
        ids = np.arange(self.n_envs)
        self.checker = self.anchor.copy()
        noise = self.rng.uniform(ids, (self.n_robots, 2), -1.0, 1.0) * cfg.measurement_noise
        self.sensed = np.where(self.checker[..., None], self.pos + noise, 0.0)
        nbr_pos = np.take_along_axis(self.pos[:, None, :, :], self._nbr_safe[..., None], axis=2)
        true_range = np.linalg.norm(nbr_pos - self.pos[:, :, None, :], axis=-1)
        # Each copy draws noise for its own widest neighbour list (slots are left-aligned), not the
        # batch's padded width, so a copy's draws do not depend on the other copies (face parity).
        noise = np.zeros(self.nbr.shape)
        for e in ids:
            width = int(self.degree[e].max(initial=0))
            noise[e, :, :width] = self.rng.uniform(np.array([e]), (self.n_robots, width), -1.0, 1.0)[0]
        self.ranges = np.where(self.nbr_ok, true_range + noise * cfg.measurement_noise, 0.0)

    def _residuals(self) -> np.ndarray:
        """``| |sensed_i - x_j| - d_ij |``: an anchor's own position against a neighbour's claim."""
        rel = self._nbr_values() - self.sensed[:, :, None, :]
        return np.abs(np.linalg.norm(rel, axis=-1) - self.ranges)

    def _evidence_residuals(self) -> np.ndarray:
        """An anchor against a neighbour's claim: ``| |s_i - x_j| - d_ij |`` less the claim
        radius, the anchor's own sensing bound and the range noise bound (all three bound how
        far an honest claim can sit from the measured range)."""
        rel = self._nbr_values() - self.sensed[:, :, None, :]
        miss = np.abs(np.linalg.norm(rel, axis=-1) - self.ranges)
        return miss - self._nbr_claims() - self.sensing_bound() - self.config.measurement_noise

    def _range_residuals(self) -> tuple[np.ndarray, np.ndarray]:
        """Each robot's residuals ``|x_i - x_j| - d_ij`` ``(E, R, K)`` and unit vectors from
        ``x_j`` to ``x_i`` ``(E, R, K, 2)``."""
        diff = self.estimate[:, :, None, :] - self._nbr_values()
        dist = np.linalg.norm(diff, axis=-1)
        unit = diff / np.maximum(dist, 1e-9)[..., None]
        return dist - self.ranges, unit

    def _wmsr_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        residual, _ = self._range_residuals()
        return np.zeros((*residual.shape[:2], 1)), residual[..., None]

    def _consensus_step(self, keep: np.ndarray) -> np.ndarray:
        residual, unit = self._range_residuals()
        use = keep[..., 0]
        force = (np.where(use, residual, 0.0)[..., None] * unit).sum(axis=2)
        step = -self.config.step_size * force / np.maximum(use.sum(axis=-1), 1)[..., None]
        return step

    def slot_dim(self) -> int:
        return 4

    def _slot_features(self) -> np.ndarray:
        rel = (self._nbr_values() - self.estimate[:, :, None, :]) / self.scale
        rng = self.ranges[..., None] / self.scale
        return np.concatenate([rel, rng, self.accepted[..., None].astype(float)], axis=-1)

    def draw_world(self, renderer, env_index: int, history: RenderHistory) -> None:
        e = env_index
        coop = ~self.byzantine[e]
        renderer.segments(self.pos[e, coop], self.estimate[e, coop], (60, 110, 200), width=2)
        if self.anchor[e].any():
            renderer.crosses(self.pos[e, self.anchor[e]], 0.06, (40, 160, 80))


parallel_env, raw_env, env, vector_env = make_factories(ByzantineLocalization)
register(
    "byzantine-localization-v0",
    __name__,
    "Byzantine localisation: robots locate themselves from ranges despite robots lying about where they are",
)
