"""Wrappers for swarmzoo and PettingZoo envs: video recording (:class:`RecordVideo`, for any
PettingZoo ``ParallelEnv``; see :mod:`swarmzoo.envs.wrappers`) and the weighted sum of a
multi-objective env's rewards (:class:`LinearizeReward`, :class:`LinearizeVectorReward`; see
:mod:`swarmzoo.envs.objectives`)."""

from swarmzoo.envs.objectives import LinearizeReward, LinearizeVectorReward
from swarmzoo.envs.wrappers import RecordVideo, capped_cubic_trigger, write_video

__all__ = ["LinearizeReward", "LinearizeVectorReward", "RecordVideo", "capped_cubic_trigger", "write_video"]
