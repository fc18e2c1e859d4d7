"""Adapters to other RL libraries: Stable-Baselines3 (:mod:`~swarmzoo.integrations.sb3`), RLlib
(:mod:`~swarmzoo.integrations.rllib`), TorchRL and BenchMARL (:mod:`~swarmzoo.integrations.torchrl`,
:mod:`~swarmzoo.integrations.benchmarl`)."""

from __future__ import annotations

from collections.abc import Iterable


def agent_group(name: str) -> str:
    """The group of an agent: its name before the index (``robot_3`` -> ``robot``, ``byzantine_1``
    -> ``byzantine``); a name that is not ``<prefix>_<int>`` is a group of its own."""
    prefix, sep, index = name.rpartition("_")
    return prefix if sep and prefix and index.isdigit() else name


def group_map(agent_names: Iterable[str]) -> dict[str, list[str]]:
    """Group agents by the name before their index, in order of first appearance.

    ``robot_0, robot_1, byzantine_0`` gives ``{"robot": ["robot_0", "robot_1"], "byzantine":
    ["byzantine_0"]}``. A name that is not ``<prefix>_<int>`` is a group of its own, as in
    TorchRL's default grouping for PettingZoo envs.

    Args:
        agent_names: the agents, e.g. a PettingZoo env's ``possible_agents``.

    Returns:
        Group name -> the agents in it, each list in the order of ``agent_names``.

    Raises:
        ValueError: an agent name given twice.
    """
    groups: dict[str, list[str]] = {}
    seen: set[str] = set()
    for name in agent_names:
        if name in seen:
            raise ValueError(f"agent {name!r} appears twice")
        seen.add(name)
        groups.setdefault(agent_group(name), []).append(name)
    return groups
