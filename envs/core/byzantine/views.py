"""What the agents and the viewer see of a Byzantine case study: the observation layout (own
sensing, the protocol's step, the first ``k_slots`` messages), the global state, the agents'
names, the HUD and the drawing."""

from __future__ import annotations

from typing import Any

import numpy as np

from swarmzoo.envs.core.history import RenderHistory


class ViewMixin:
    """Observations, state and rendering of
    :class:`~swarmzoo.envs.core.byzantine.task.ByzantineTask` (mixed in). Case studies may
    refine ``slot_dim`` and ``_slot_features``."""

    def obs_dim(self) -> int:
        d = self.value_dim
        return 4 + 2 * d + self.config.k_slots * self.slot_dim()

    def slot_dim(self) -> int:
        return self.value_dim + 1

    def _slot_features(self) -> np.ndarray:
        """Per received message ``(E, R, K, slot_dim)``: its value relative to the receiver's
        estimate (over ``scale``) and whether the filter accepted it."""
        rel = (self._nbr_values() - self.estimate[:, :, None, :]) / self.scale
        return np.concatenate([rel, self.accepted[..., None].astype(float)], axis=-1)

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

    def history_sample(self) -> dict[str, Any]:
        # Copy 0's mean cooperative error over the episode (the curve).
        return {"error": float(self._errors()[0][0])}

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        e = env_index
        byz, blk = self.byzantine[e], self.blocked[e]
        return [
            f"protocol {self.config.protocol}, attack {self.config.attack}",
            f"error {self._errors()[0][e]:.3f}",
            f"blocked {int((blk & byz).sum())}/{int(byz.sum())} Byzantine, "
            f"{int((blk & ~byz).sum())} cooperative",
        ]

    def draw(self, renderer: Any, env_index: int, history: RenderHistory) -> None:
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
        self.draw_world(renderer, e, history)
        errors = history.get("error")
        if e == 0 and errors:
            top = max(max(errors), 1e-6)
            renderer.curve(errors, "mean error", 0.0, top, length=self.max_cycles + 1)
