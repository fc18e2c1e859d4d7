"""Policies: scripted controllers (one heuristic baseline per env) and, later, networks."""

from __future__ import annotations

import importlib

from swarmzoo.agents.policies import Policy, RandomPolicy

__all__ = ["HEURISTICS", "Policy", "RandomPolicy", "make_policy"]

# The scripted baseline of each env, as "module:class".
HEURISTICS: dict[str, str] = {
    "navigation-v0": "swarmzoo.agents.navigation:NavigationHeuristic",
}


def make_policy(name: str, env_id: str, seed: int | None = None) -> Policy:
    """A built-in policy by name: ``"random"`` or ``"heuristic"`` (the env's scripted baseline).

    Raises:
        ValueError: unknown name, or no heuristic for ``env_id``.
    """
    import swarmzoo

    key = swarmzoo.spec(env_id).id
    if name == "random":
        return RandomPolicy(seed)
    if name == "heuristic":
        if key not in HEURISTICS:
            raise ValueError(f"no heuristic for {env_id!r}; heuristics exist for {sorted(HEURISTICS)}")
        module, cls = HEURISTICS[key].split(":")
        return getattr(importlib.import_module(module), cls)()
    raise ValueError(f"unknown policy {name!r}: use 'random' or 'heuristic'")
