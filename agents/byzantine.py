"""The scripted consensus protocol of the Byzantine case studies (their heuristic policy).

A robot that senses the quantity first-hand this step moves its estimate to what it senses;
every other robot takes the consensus step its observation carries (the env's protocol -- LCP,
W-MSR or DBP -- has already filtered the messages it is built from). Reads only the observation:
it runs on each robot. Steps beyond the action range (one ``scale`` per step) are clipped here,
in the policy; the env never clips.
"""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.core.byzantine import ByzantineTask


class ConsensusProtocol:
    """Observation layout of :class:`~swarmzoo.envs.core.byzantine.ByzantineTask`: ``[0]``
    checker flag, ``[1 : 1+d]`` sensed minus estimate, ``[2+d : 2+2d]`` the consensus step."""

    def act(self, obs: np.ndarray, task: ByzantineTask) -> np.ndarray:
        if not isinstance(task, ByzantineTask):
            raise TypeError(f"ConsensusProtocol drives the Byzantine case studies, not {type(task).__name__}")
        d = task.value_dim
        sensed = obs[..., 1 : 1 + d]
        step = obs[..., 2 + d : 2 + 2 * d]
        action = np.where(obs[..., :1] > 0.5, sensed, step)
        return np.clip(action, -1.0, 1.0).astype(np.float32)
