"""Running a trained mean-field policy (Dec-POMFC): the upper level, its schedule, closed loop.

The **upper level** (:class:`UpperLevel`) maps the swarm's embedded distribution ``phi(mu_t)`` to
the rule ``xi_t`` every robot applies (and holds the critic ``V(phi(mu_t))`` and, for the lifted
gradient, a Gaussian over ``xi``); :class:`MeanFieldModel` adds the rule's base parameters and is
what checkpoints and policy files store.

**Open loop (decentralised).** :func:`compute_schedule` rolls the upper level out once on a
reference swarm (large, to approximate the deterministic mean-field trajectory) and keeps its
rules ``xi_0 .. xi_{T-1}``; a robot then needs only its own observation, the episode clock and
that schedule (:class:`~swarmzoo.agents.mean_field.policy.MeanFieldPolicy`).
**Closed loop (centralised, for comparison).** :class:`ClosedLoopPolicy` recomputes ``xi_t`` from
the live ``mu_t`` each step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.distributions import Normal

from swarmzoo.agents.files import safe_load
from swarmzoo.agents.mean_field.embedding import make_embedding
from swarmzoo.agents.mean_field.policy import LOG_STD_RANGE, DecisionRule, MeanFieldPolicy, RuleSpec
from swarmzoo.agents.mean_field.rule import initial_rule_parameters
from swarmzoo.agents.networks import mlp
from swarmzoo.agents.normalization import ValueNorm


class UpperLevel(nn.Module):
    """The upper-level policy ``phi(mu) -> xi`` (mean of a Gaussian over xi) and the critic
    ``V(phi(mu))``."""

    def __init__(self, embed_dim: int, rule: RuleSpec, hidden: tuple[int, ...], init_log_std: float) -> None:
        super().__init__()
        self.rule_shape = (rule.n_centres, rule.param_dim)
        self.actor = mlp(embed_dim, tuple(hidden), rule.n_centres * rule.param_dim, 0.01)
        self.critic = mlp(embed_dim, tuple(hidden), 1, 1.0)
        self.log_std = nn.Parameter(torch.full((rule.n_centres * rule.param_dim,), float(init_log_std)))
        self.value_norm = ValueNorm(())

    def rule_mean(self, emb: torch.Tensor) -> torch.Tensor:
        """``(B, K)`` embeddings -> ``(B, M, P)`` mean rule parameters."""
        return self.actor(emb).reshape(*emb.shape[:-1], *self.rule_shape)

    def xi_distribution(self, emb: torch.Tensor) -> Normal:
        """The Gaussian over flattened rule parameters (the 'lifted' upper-level action)."""
        mean = self.actor(emb)
        return Normal(mean, self.log_std.clamp(*LOG_STD_RANGE).exp().expand_as(mean))

    def value(self, emb: torch.Tensor) -> torch.Tensor:
        """Values in return units."""
        return self.value_norm.denormalize(self.critic(emb).squeeze(-1))


class MeanFieldModel(nn.Module):
    """Everything a checkpoint restores: the upper level and the rule's base parameters."""

    def __init__(
        self, embed_dim: int, rule: RuleSpec, hidden: tuple[int, ...], init_log_std: float = -0.5
    ) -> None:
        super().__init__()
        self.upper = UpperLevel(embed_dim, rule, tuple(hidden), init_log_std)
        self.register_buffer("xi_offset", initial_rule_parameters(rule))

    def rule_mean(self, emb: torch.Tensor) -> torch.Tensor:
        return self.upper.rule_mean(emb) + self.xi_offset


@torch.no_grad()
def compute_schedule(model: MeanFieldModel, decision: DecisionRule, embed, venv, seed: int) -> torch.Tensor:
    """``(T, M, P)`` rules ``xi_t`` along one episode of ``venv`` (one copy: the reference swarm,
    reset with ``seed``) driven by the upper level's mean rule, the robots taking its most likely
    actions (as :class:`MeanFieldPolicy` does by default): the time-indexed schedule robots
    execute. ``embed`` maps ``venv.mean_field()`` to the model's input."""
    obs, _ = venv.reset(seed=seed)
    rules = []
    for _ in range(venv.max_cycles):
        xi = model.rule_mean(torch.as_tensor(embed(venv.mean_field())))
        rules.append(xi[0])
        dist = decision.distribution(xi, decision.standardise(torch.as_tensor(obs, dtype=torch.float32)))
        obs, *_ = venv.step(decision.to_env(decision.mode(dist)))
    return torch.stack(rules)


class ClosedLoopPolicy:
    """Centralised execution, for comparison: each step ``xi_t`` is recomputed from the live
    ``mu_t`` (``task.mean_field()``), then every robot applies it to its own observation."""

    def __init__(self, path: str | Path, deterministic: bool = True, seed: int | None = None) -> None:
        path = Path(path)
        data = safe_load(path / "policy.pt" if path.is_dir() else path)
        if data.get("algo") != "mean_field":
            raise ValueError(f"{path} is not a mean-field policy file")
        rule = RuleSpec.from_dict(data["rule_spec"])
        self.embed = make_embedding(data["embedding"])
        self.model = MeanFieldModel(self.embed.size, rule, tuple(data["hidden"]))
        self.model.load_state_dict(data["model"])
        self.inner = MeanFieldPolicy(DecisionRule(rule), data["schedule"], deterministic, seed)

    @torch.no_grad()
    def act(self, obs: np.ndarray, task: Any) -> np.ndarray:
        xi = self.model.rule_mean(torch.as_tensor(self.embed(task.mean_field())))
        return self.inner.act_with_rules(obs, xi)
