"""Scripted channel access for ``aloha-v0``: slotted ALOHA (decentralised) and the centralised
scheduler (the optimum)."""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.aloha import Aloha


class SlottedAloha:
    """Slotted ALOHA over ``K`` channels: a robot holding a packet transmits with probability
    ``persistence`` on a channel drawn uniformly, else stays silent.

    It reads only the robot's own queue (obs slot 0). The default persistence ``K / N`` is the
    throughput-optimal one when every robot is backlogged (each channel then succeeds with
    probability about ``1 / e``); ``persistence=1`` is pure contention.
    """

    def __init__(self, persistence: float | None = None, seed: int | None = None) -> None:
        if persistence is not None and not 0.0 < persistence <= 1.0:
            raise ValueError(f"persistence must be in (0, 1], got {persistence}")
        self.persistence = persistence
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, task: Aloha) -> np.ndarray:
        """Actions ``(E, N)``: 0 silent, ``k`` channel k."""
        E, N = obs.shape[:2]
        K = task.n_channels
        q = min(1.0, K / N) if self.persistence is None else self.persistence
        holding = obs[..., 0] > 0
        talk = holding & (self.rng.random((E, N)) < q)
        channel = self.rng.integers(1, K + 1, size=(E, N))
        return np.where(talk, channel, 0).astype(np.int64)


class CentralScheduler:
    """The centralised optimum: the backlogged robots, in a rotating order, take channels
    1 .. K; nobody else transmits. It delivers ``min(backlogged robots, K)`` packets every step,
    the most any policy can, but it reads every robot's queue (``task.queue``): it is the
    reference a correlated policy can reach by sequential choice (each robot seeing which
    channels its predecessors took), not a decentralised protocol.
    """

    def act(self, obs: np.ndarray, task: Aloha) -> np.ndarray:
        """Actions ``(E, N)``."""
        E, N = task.queue.shape
        # rotate the priority each step so no robot starves (the throughput is the same)
        shift = task.steps[:, None] % N
        order = (np.arange(N)[None, :] + shift) % N  # (E, N): robot at each priority rank
        holding = np.take_along_axis(task.queue > 0, order, axis=1)
        rank = np.cumsum(holding, axis=1)  # 1-based rank among backlogged robots
        channel = np.where(holding & (rank <= task.n_channels), rank, 0)
        actions = np.zeros((E, N), dtype=np.int64)
        np.put_along_axis(actions, order, channel, axis=1)
        return actions
