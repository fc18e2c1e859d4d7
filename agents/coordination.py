"""The scripted baseline of ``coordination-v0``."""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.coordination import Coordination


class AllZeros:
    """The optimal joint action of ``coordination-v0`` in every state: every robot chooses 0.

    It needs no communication because the optimum is a fixed convention; what learners must
    discover is that convention, against the all-ones one that independent learners can settle
    on. Its return is the env's optimum (:func:`~swarmzoo.envs.coordination.optimal_step_reward`
    per step in expectation).
    """

    def act(self, obs: np.ndarray, task: Coordination) -> np.ndarray:
        """Actions ``(E, N)``: all zeros."""
        return np.zeros(obs.shape[:2], dtype=np.int64)
