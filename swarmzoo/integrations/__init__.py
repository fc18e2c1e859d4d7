"""Adapters to other RL libraries: Stable-Baselines3 (:mod:`~swarmzoo.integrations.sb3`), RLlib
(:mod:`~swarmzoo.integrations.rllib`), TorchRL and BenchMARL (:mod:`~swarmzoo.integrations.torchrl`,
:mod:`~swarmzoo.integrations.benchmarl`), and a vector face for any PettingZoo env."""

from __future__ import annotations


def agent_group(name: str) -> str:
    """The group of an agent: its name before the index (``robot_3`` -> ``robot``, ``byzantine_1``
    -> ``byzantine``); a name that is not ``<prefix>_<int>`` is a group of its own."""
    prefix, sep, index = name.rpartition("_")
    return prefix if sep and prefix and index.isdigit() else name
