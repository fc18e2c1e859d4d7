"""Policies: the scripted baseline of every env (``HEURISTICS``, and further scripted
controllers in ``SCRIPTED``), random actions, the trained networks' policies (MAPPO/IPPO actors,
Bayesian-network and mean-field policies) and :func:`make_policy`, which builds any of them from
a name or a policy file."""

from __future__ import annotations

import importlib
import inspect
from importlib import resources
from pathlib import Path

from swarmzoo.agents.policies import Policy, RandomPolicy
from swarmzoo.agents.policy_files import load_policy

__all__ = [
    "HEURISTICS",
    "SCRIPTED",
    "Policy",
    "RandomPolicy",
    "make_policy",
    "policy_file",
    "pretrained_path",
]

# The scripted baseline of each env, as "module:class".
HEURISTICS: dict[str, str] = {
    "navigation-v0": "swarmzoo.agents.navigation:NavigationHeuristic",
    "flocking-v0": "swarmzoo.agents.swarming:VicsekRule",
    "kuramoto-v0": "swarmzoo.agents.swarming:KuramotoRule",
    "aggregation-v0": "swarmzoo.agents.swarming:LocalCentroidRule",
    "coverage-v0": "swarmzoo.agents.d2oc:D2OC",
    "coordination-v0": "swarmzoo.agents.coordination:AllZeros",
    "aloha-v0": "swarmzoo.agents.aloha:SlottedAloha",
    "byzantine-tracking-v0": "swarmzoo.agents.byzantine:ConsensusProtocol",
    "byzantine-timesync-v0": "swarmzoo.agents.byzantine:ConsensusProtocol",
    "byzantine-localization-v0": "swarmzoo.agents.byzantine:ConsensusProtocol",
}


# Further scripted controllers by name, per env ("--policy NAME"); "heuristic" is HEURISTICS' entry.
SCRIPTED: dict[str, dict[str, str]] = {
    "navigation-v0": {
        "orca": "swarmzoo.agents.orca:ORCA",
        "mad-pinn": "swarmzoo.agents.mad_pinn:MADPINNController",
    },
    "coverage-v0": {
        "d2oc": "swarmzoo.agents.d2oc:D2OC",
        "voronoi": "swarmzoo.agents.coverage:LloydVoronoi",
        "smc": "swarmzoo.agents.ergodic:SpectralMultiscaleCoverage",
    },
    "aloha-v0": {
        "aloha": "swarmzoo.agents.aloha:SlottedAloha",
        "scheduler": "swarmzoo.agents.aloha:CentralScheduler",
    },
}


def pretrained_path(env_id: str) -> Path:
    """Where the shipped pretrained policy of ``env_id`` lives (``assets/policies/<id>.pt``)."""
    return Path(resources.files("swarmzoo.assets")) / "policies" / f"{env_id}.pt"


def policy_file(path: str | Path) -> Path:
    """A run folder (its ``policy.pt``) or a policy file, as the file's path."""
    path = Path(path)
    return path / "policy.pt" if path.is_dir() else path


def make_policy(name: str, env_id: str, seed: int | None = None, sample: bool = False) -> Policy:
    """A policy by name: ``"random"``, ``"heuristic"`` (the env's scripted baseline),
    ``"pretrained"`` (the small policy shipped in ``assets/policies``), or the path of a run
    folder or policy file written by ``swarmzoo train``. Trained policies take their most likely
    action unless ``sample`` (then they draw from their distribution, seeded by ``seed``).

    Raises:
        ValueError: unknown name, no heuristic or pretrained policy for ``env_id``, a policy
            trained on another env, or a negative seed.
    """
    from swarmzoo.envs.core.rng import check_seed
    from swarmzoo.envs.registry import spec

    check_seed(seed)  # numpy's own error for a negative seed names nothing
    key = spec(env_id).id
    if name == "random":
        return RandomPolicy(seed)
    if name == "heuristic":
        if key not in HEURISTICS:
            raise ValueError(f"no heuristic for {env_id!r}; heuristics exist for {sorted(HEURISTICS)}")
        return _scripted(HEURISTICS[key], seed)
    if name in SCRIPTED.get(key, {}):
        return _scripted(SCRIPTED[key][name], seed)
    if name == "pretrained":
        path = pretrained_path(key)
        if not path.is_file():
            raise ValueError(f"no pretrained policy ships for {env_id!r}")
        return load_policy(path, deterministic=not sample, seed=seed)[0]
    path = policy_file(name)
    if path.suffix == ".pt" or path.exists():
        policy, meta = load_policy(path, deterministic=not sample, seed=seed)
        trained_on = meta.get("env_id")
        if trained_on is not None and ":" not in trained_on and spec(trained_on).id != key:
            raise ValueError(f"{name} was trained on {trained_on!r}, not {env_id!r}")
        return policy
    named = ", ".join(sorted(SCRIPTED.get(key, {})))
    raise ValueError(
        f"unknown policy {name!r}: use random, heuristic, pretrained, "
        + (f"{named}, " if named else "")
        + "or a run folder / policy file"
    )


def _scripted(target: str, seed: int | None) -> Policy:
    """A scripted controller from ``"module:Class"``; those that draw random numbers take ``seed``
    (for reproducible evaluations)."""
    module, cls = target.split(":")
    policy_cls = getattr(importlib.import_module(module), cls)
    if "seed" in inspect.signature(policy_cls).parameters:
        return policy_cls(seed=seed)
    return policy_cls()
