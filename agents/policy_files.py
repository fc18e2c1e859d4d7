"""Policy files of every trainer: :func:`save_policy` writes the CTDE actor's; :func:`load_policy`
reads any of them (CTDE, mean-field, Bayesian-network, HAMMER), through
:func:`~swarmzoo.agents.files.safe_load`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from swarmzoo.agents.files import POLICY_FORMAT, atomic_torch_save, safe_load
from swarmzoo.agents.networks import Actor, ActorPolicy, ActorSpec, RecurrentActor, make_actor


def save_policy(
    path: str | Path,
    actor: Actor | RecurrentActor,
    env_id: str,
    env_kwargs: dict[str, Any],
    obs_norm: Any = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a self-contained policy file: actor weights, its spec and the env it was trained on."""
    atomic_torch_save(
        {
            "format": POLICY_FORMAT,
            "actor_spec": asdict(actor.spec),
            "actor": actor.state_dict(),
            "obs_norm": None if obs_norm is None else obs_norm.state_dict(),
            "env_id": env_id,
            "env_kwargs": dict(env_kwargs),
            **(extra or {}),
        },
        path,
    )


def load_policy(
    path: str | Path, deterministic: bool = True, seed: int | None = None
) -> tuple[Any, dict[str, Any]]:
    """A policy file (or a CTDE training checkpoint) as ``(policy, metadata)``: an
    :class:`ActorPolicy` (CTDE), a :class:`~swarmzoo.agents.mean_field.MeanFieldPolicy`
    (``algo == "mean_field"``) or a :class:`~swarmzoo.agents.bayes_net.BayesNetPolicy`
    (``algo == "bayes_net"``) or a :class:`~swarmzoo.agents.hammer.HammerPolicy`
    (``algo == "hammer"``; its training checkpoints load too). ``deterministic`` takes the most
    likely action instead of sampling; ``seed`` seeds the sampling."""
    data = safe_load(path)
    if data.get("algo") == "mean_field":
        from swarmzoo.agents.mean_field import load_mean_field_policy

        meta = {k: v for k, v in data.items() if k not in ("schedule", "model", "optimizer")}
        return load_mean_field_policy(data, deterministic=deterministic, seed=seed), meta
    if data.get("algo") == "bayes_net":
        from swarmzoo.agents.bayes_net import load_bayes_net_policy

        meta = {k: v for k, v in data.items() if k != "actor"}
        return load_bayes_net_policy(data, deterministic=deterministic, seed=seed), meta
    if data.get("algo") == "hammer":
        from swarmzoo.agents.hammer import load_hammer_policy

        meta = {k: v for k, v in data.items() if k not in ("actor", "central", "model", "optimizer")}
        return load_hammer_policy(data, deterministic=deterministic, seed=seed), meta
    if data.get("algo") == "mo_mix":
        raise ValueError(
            f"{path} is an MO-MIX policy, one network for every preference: evaluate it at "
            "preferences with swarmzoo.algorithms.mo_mix.pareto_front (the run's front.json has the "
            "front it reached)"
        )
    if data.get("algo") in ("mean_field_checkpoint", "bayes_net_checkpoint"):
        raise ValueError(
            f"{path} is a {data['algo'].removesuffix('_checkpoint')} training checkpoint, not a policy: use "
            "the run's policy.pt (written when training ends; resume with --resume to finish it)"
        )
    spec_dict = dict(data["actor_spec"])
    for key in ("action_low", "action_high", "hidden"):
        spec_dict[key] = tuple(spec_dict[key])
    actor = make_actor(ActorSpec(**spec_dict))
    actor.load_state_dict(data["actor"])
    obs_norm = None
    if data.get("obs_norm") is not None:
        from swarmzoo.agents.normalization import RunningMeanStd

        obs_norm = RunningMeanStd((actor.spec.obs_dim,))
        obs_norm.load_state_dict(data["obs_norm"])
    meta = {k: v for k, v in data.items() if k not in ("actor", "obs_norm")}
    return ActorPolicy(actor, deterministic, obs_norm, seed), meta
