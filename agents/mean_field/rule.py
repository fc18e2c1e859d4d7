"""Fitting a mean-field decision rule (Dec-POMFC) to an env, before training.

A :class:`~swarmzoo.agents.mean_field.policy.RuleSpec` fixes what the rule reads and where its
RBF centres sit:

* **features** - the observation entries the rule reads, by name. Each env with a mean-field
  view names its observation entries (``observation_names(config)`` on its task, computed from
  the env's own layout) and the ones a rule reads by default (``mean_field_rule_features``);
  :func:`rule_feature_indices` turns names into indices.
* **centres** - ``M`` points placed by farthest-point sampling (:func:`farthest_points`) of the
  standardised features over a short warm-up rollout with random actions
  (:func:`warmup_features`), so they cover the observed region evenly (:func:`fit_rule`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from swarmzoo.agents.mean_field.policy import RuleSpec
from swarmzoo.agents.policies import RandomPolicy


def rule_feature_indices(
    task: Any, names: Sequence[str] | None = None, env: str | None = None
) -> tuple[int, ...]:
    """Indices of the observation entries a decision rule reads, from the task's own layout.

    Args:
        task: the env's task (``venv.task``), with ``observation_space`` and ``config``.
        names: entry names out of ``task.observation_names(task.config)``; None: the task's
            ``mean_field_rule_features``, or every entry for a task that declares none.
        env: the env id, for messages (default: the task's name).

    Raises:
        ValueError: a name the task's observation does not have (the message lists the valid
            names), or names for a task that does not name its observation entries.
    """
    obs_dim = int(task.observation_space.shape[0])
    label = env or getattr(task, "name", type(task).__name__)
    if names is None:
        names = getattr(task, "mean_field_rule_features", None)
        if names is None:
            return tuple(range(obs_dim))
    if not hasattr(task, "observation_names"):
        raise ValueError(
            f"{label} does not name its observation entries (task.observation_names): leave "
            "rule_features unset to read every entry"
        )
    layout = tuple(task.observation_names(task.config))
    if len(layout) != obs_dim:
        raise ValueError(f"{label} names {len(layout)} observation entries, its observations have {obs_dim}")
    index = {name: i for i, name in enumerate(layout)}
    unknown = [name for name in names if name not in index]
    if unknown:
        raise ValueError(
            f"unknown rule feature(s) {unknown} for {label}: the observation entries are {', '.join(layout)}"
        )
    return tuple(index[name] for name in names)


def warmup_features(venv, steps: int, seed: int, features: tuple[int, ...], keep: int = 20_000) -> np.ndarray:
    """The rule's observation features over a short rollout with uniform random actions (at most
    ``keep`` rows per step, subsampled), to place the rule's centres."""
    rng = np.random.default_rng(seed)
    random_policy = RandomPolicy(seed)
    obs, _ = venv.reset(seed=seed)
    seen = []
    for step in range(steps + 1):
        x = obs[..., list(features)].reshape(-1, len(features))
        seen.append(x if len(x) <= keep else x[rng.choice(len(x), keep, replace=False)])
        if step < steps:
            obs, *_ = venv.step(random_policy.act(obs, venv.task))
    return np.concatenate(seen)


def farthest_points(z: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` rows of ``z (B, d)`` chosen by farthest-point sampling: start at the row
    nearest the mean, then repeatedly add the row farthest from those chosen. The points cover
    the observed region evenly, rare corners included (k-means would follow the density)."""
    chosen = [int(np.argmin(((z - z.mean(axis=0)) ** 2).sum(-1)))]
    dist = ((z - z[chosen[0]]) ** 2).sum(-1)
    for _ in range(k - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, ((z - z[nxt]) ** 2).sum(-1))
    return np.asarray(chosen)


def fit_rule(
    x: np.ndarray,
    features: tuple[int, ...],
    obs_dim: int,
    n_centres: int,
    bandwidth: float,
    action_space: spaces.Space,
    seed: int,
) -> RuleSpec:
    """A :class:`RuleSpec` reading observation entries ``features`` (of ``obs_dim``), fitted to
    samples ``x (B, len(features))`` of them: features standardised by their mean and std over
    ``x``, ``n_centres`` centres by farthest-point sampling, RBF width ``bandwidth`` x the median
    distance from a centre to its nearest other one."""
    bad = [f for f in features if not 0 <= f < obs_dim]
    if bad or not features:
        raise ValueError(
            f"rule features {list(features)} must be a non-empty set of indices into observations of "
            f"size {obs_dim} (out of range: {bad})"
        )
    x = np.asarray(x, dtype=np.float64).reshape(-1, len(features))
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    z = np.unique(np.round((x - mean) / std, 6), axis=0)
    if len(z) < n_centres:
        raise ValueError(
            f"the warm-up rollout gave only {len(z)} distinct observations for {n_centres} "
            "rule centres: lower rule_centres or use more robots / steps"
        )
    rng = np.random.default_rng(seed)
    if len(z) > 20_000:
        z = z[rng.choice(len(z), 20_000, replace=False)]
    centres = z[farthest_points(z, n_centres)]
    d = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    spacing = float(np.median(d.min(axis=1)))
    if isinstance(action_space, spaces.Discrete):
        kind, dim, low, high = "discrete", int(action_space.n), (), ()
    elif isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
        kind, dim = "continuous", int(action_space.shape[0])
        low = tuple(float(v) for v in action_space.low)
        high = tuple(float(v) for v in action_space.high)
    else:
        raise ValueError(f"unsupported action space {action_space}: use Discrete or a 1-D Box")
    return RuleSpec(
        obs_dim=int(obs_dim),
        features=tuple(int(f) for f in features),
        centres=tuple(tuple(float(v) for v in row) for row in centres),
        feature_mean=tuple(float(v) for v in mean),
        feature_std=tuple(float(v) for v in std),
        bandwidth=bandwidth * max(spacing, 1e-3),
        action_kind=kind,
        action_dim=dim,
        action_low=low,
        action_high=high,
    )


def initial_rule_parameters(rule: RuleSpec) -> torch.Tensor:
    """``(M, P)`` offsets added to the upper level's output: zero logits (uniform actions), or a
    zero mean and a log-std of ``log(range / 4)`` for continuous actions."""
    xi = torch.zeros(rule.n_centres, rule.param_dim)
    if rule.action_kind == "continuous":
        span = torch.as_tensor(rule.action_high) - torch.as_tensor(rule.action_low)
        xi[:, rule.action_dim :] = torch.log(span / 4.0)
    return xi
