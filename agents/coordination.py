"""The scripted baseline of ``coordination-v0``."""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.coordination import Coordination


class AllZeros:
    """The optimal joint action of ``coordination-v0`` in every state: every robot chooses the
    paying bit, 0 in the paper's game.

    It needs no communication because the optimum is a fixed convention; what learners must
    discover is that convention, against the all-ones one that independent learners can settle
    on. Its return is the env's optimum (:func:`~swarmzoo.envs.coordination.optimal_step_reward`
    per step in expectation).

    In the memory variant (``cue_steps > 0``) each robot chooses the bit the cue announced: the
    policy stores the cue of every copy whenever its robots see one (the first observation of
    every episode shows it), so it must see every step's observations in order, as ``evaluate``
    and the CLI give them. An observation without a cue before any cue was seen is an error.
    """

    def __init__(self) -> None:
        self._convention: np.ndarray | None = None

    def act(self, obs: np.ndarray, task: Coordination) -> np.ndarray:
        """Actions ``(E, N)``: every robot's copy's paying bit."""
        E, N = obs.shape[:2]
        if not task.config.cue_steps:
            return np.zeros((E, N), dtype=np.int64)
        cue = obs[:, 0, -2:]  # every robot of a copy sees the same cue
        shown = cue.sum(axis=1) > 0
        if self._convention is None or len(self._convention) != E:
            if not shown.all():
                raise ValueError(
                    "AllZeros needs each copy's first observation (it shows the cue) before "
                    "acting in the memory variant"
                )
            self._convention = np.zeros(E, dtype=np.int64)
        self._convention[shown] = np.argmax(cue[shown], axis=1)
        return np.repeat(self._convention[:, None], N, axis=1)
