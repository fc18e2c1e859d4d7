"""The communication graph of a Byzantine case study: static links (Harary, given), robot
placement, and the padded neighbour lists every other part reads (``nbr``, ``nbr_ok``)."""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.core.byzantine.config import harary_edges


class GraphMixin:
    """Graph building for :class:`~swarmzoo.envs.core.byzantine.task.ByzantineTask` (mixed in;
    the radius graph is rebuilt at each reset, in ``_reset``)."""

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
