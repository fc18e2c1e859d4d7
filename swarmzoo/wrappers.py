"""Video recording for any PettingZoo ``ParallelEnv``: :class:`RecordVideo` (see
:mod:`swarmzoo.envs.wrappers`, where it lives beside the envs)."""

from swarmzoo.envs.wrappers import RecordVideo, capped_cubic_trigger, write_video

__all__ = ["RecordVideo", "capped_cubic_trigger", "write_video"]
