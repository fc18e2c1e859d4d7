"""Policies: scripted controllers (one heuristic baseline per env) and, later, networks."""

from __future__ import annotations

import importlib
import inspect
from importlib import resources
from pathlib import Path

from swarmzoo.agents.networks import load_policy
from swarmzoo.agents.policies import Policy, RandomPolicy

__all__ = ["HEURISTICS", "Policy", "RandomPolicy", "make_policy", "policy_file", "pretrained_path"]

# The scripted baseline of each env, as "module:class".
HEURISTICS: dict[str, str] = {
    "navigation-v0": "swarmzoo.agents.navigation:NavigationHeuristic",
    "flocking-v0": "swarmzoo.agents.swarming:VicsekRule",
    "kuramoto-v0": "swarmzoo.agents.swarming:KuramotoRule",
    "aggregation-v0": "swarmzoo.agents.swarming:LocalCentroidRule",
}


def pretrained_path(env_id: str) -> Path:
    """Where the shipped pretrained policy of ``env_id`` lives (``assets/policies/<id>.pt``)."""
    return Path(resources.files("swarmzoo.assets")) / "policies" / f"{env_id}.pt"


def policy_file(path: str | Path) -> Path:
    """A run folder (its ``policy.pt``) or a policy file, as the file's path."""
    path = Path(path)
    return path / "policy.pt" if path.is_dir() else path


def make_policy(name: str, env_id: str, seed: int | None = None) -> Policy:
    """A policy by name: ``"random"``, ``"heuristic"`` (the env's scripted baseline),
    ``"pretrained"`` (the small policy shipped in ``assets/policies``), or the path of a run
    folder or policy file written by ``swarmzoo train``.

    Raises:
        ValueError: unknown name, no heuristic or pretrained policy for ``env_id``, or a policy
            trained on another env.
    """
    import swarmzoo

    key = swarmzoo.spec(env_id).id
    if name == "random":
        return RandomPolicy(seed)
    if name == "heuristic":
        if key not in HEURISTICS:
            raise ValueError(f"no heuristic for {env_id!r}; heuristics exist for {sorted(HEURISTICS)}")
        module, cls = HEURISTICS[key].split(":")
        policy_cls = getattr(importlib.import_module(module), cls)
        # Scripted rules that draw random numbers take the seed (for reproducible evaluations).
        if "seed" in inspect.signature(policy_cls).parameters:
            return policy_cls(seed=seed)
        return policy_cls()
    if name == "pretrained":
        path = pretrained_path(key)
        if not path.is_file():
            raise ValueError(f"no pretrained policy ships for {env_id!r}")
        return load_policy(path)[0]
    path = policy_file(name)
    if path.suffix == ".pt" or path.exists():
        policy, meta = load_policy(path)
        trained_on = meta.get("env_id")
        if trained_on is not None and ":" not in trained_on and swarmzoo.spec(trained_on).id != key:
            raise ValueError(f"{name} was trained on {trained_on!r}, not {env_id!r}")
        return policy
    raise ValueError(
        f"unknown policy {name!r}: use random, heuristic, pretrained, or a run folder / policy file"
    )
