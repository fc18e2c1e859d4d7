"""What runs on a robot in mean-field control (Dec-POMFC): the decision rule it applies.

The trainer is :mod:`swarmzoo.algorithms.mean_field`; the rest of the policy side (embeddings,
fitting, the upper level) is in the other modules of :mod:`swarmzoo.agents.mean_field`.

**The decision rule.** A rule ``pi(u | y)`` maps a robot's local observation ``y`` to a
distribution over its actions. It is parameterised by ``xi``, one parameter vector per **RBF
centre** in observation space (``M`` centres), interpolated with normalised Gaussian RBF weights
of the robot's observation::

    z      = (y[features] - mean) / std                  the observation features the rule reads
    w_m(y) = exp(-|z - c_m|^2 / 2 s^2) / sum_m' exp(-|z - c_m'|^2 / 2 s^2)
    theta(y) = sum_m w_m(y) xi_m                         logits (discrete actions), or the mean
                                                          and log-std of a Gaussian (continuous)

so the rule is Lipschitz in ``y`` (as the paper's theory needs) and the same ``xi`` means the same
rule for every robot, at any swarm size.

**What a robot needs at execution** (:class:`MeanFieldPolicy`): its own observation, a clock
(the step index ``t`` of the episode, shared by all robots: a synchronised clock), and the
**time-indexed schedule** ``xi_0, ..., xi_{T-1}`` of rules, computed once before deployment by
the trainer from the upper-level policy on the deterministic mean-field trajectory (the swarm's
distribution is deterministic in the limit, so the rule at time ``t`` needs no live global
information; in practice the schedule is one rollout of a 1,000-robot swarm, which approximates
that limit). Past ``T`` the last rule is kept. Nothing else is read: not the other robots'
states, not the swarm's distribution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch.distributions import Categorical, Normal

from swarmzoo.agents.networks import ActionHead

LOG_STD_RANGE = (-5.0, 2.0)
"""Bounds of a continuous rule's log-std (keeps the interpolated Gaussian proper)."""


@dataclass(frozen=True)
class RuleSpec:
    """Everything needed to rebuild a decision rule (stored in policy files as plain values).

    Attributes:
        obs_dim: size D of the robot's observation.
        features: indices of the observation entries the rule reads.
        centres: ``(M, d)`` RBF centres in standardised feature units.
        feature_mean: ``(d,)`` mean used to standardise the features.
        feature_std: ``(d,)`` standard deviation used to standardise the features.
        bandwidth: RBF width ``s`` in standardised units.
        action_kind: ``"discrete"`` or ``"continuous"``.
        action_dim: number of discrete actions, or the continuous action size A.
        action_low: lower bounds of a continuous action (empty for discrete).
        action_high: upper bounds of a continuous action (empty for discrete).
    """

    obs_dim: int
    features: tuple[int, ...]
    centres: tuple[tuple[float, ...], ...]
    feature_mean: tuple[float, ...]
    feature_std: tuple[float, ...]
    bandwidth: float
    action_kind: str
    action_dim: int
    action_low: tuple[float, ...] = ()
    action_high: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        d = len(self.features)
        if d == 0:
            raise ValueError("a decision rule must read at least one observation feature")
        bad = [f for f in self.features if not 0 <= f < self.obs_dim]
        if bad:
            raise ValueError(
                f"observation features {bad} out of range for observations of size {self.obs_dim}"
            )
        if any(len(c) != d for c in self.centres) or not self.centres:
            raise ValueError(f"centres must be a non-empty (M, {d}) table")
        if len(self.feature_mean) != d or len(self.feature_std) != d or min(self.feature_std) <= 0:
            raise ValueError(f"feature_mean and feature_std must have {d} entries, std > 0")
        if not self.bandwidth > 0:
            raise ValueError(f"bandwidth must be > 0, got {self.bandwidth}")
        if self.action_kind not in ("discrete", "continuous"):
            raise ValueError(f"action_kind must be 'discrete' or 'continuous', got {self.action_kind!r}")

    @property
    def n_centres(self) -> int:
        return len(self.centres)

    @property
    def param_dim(self) -> int:
        """Parameters per centre: logits, or a Gaussian's mean and log-std per action entry."""
        return self.action_dim if self.action_kind == "discrete" else 2 * self.action_dim

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleSpec:
        data = dict(data)
        data["centres"] = tuple(tuple(float(v) for v in row) for row in data["centres"])
        for key in ("features",):
            data[key] = tuple(int(v) for v in data[key])
        for key in ("feature_mean", "feature_std", "action_low", "action_high"):
            data[key] = tuple(float(v) for v in data[key])
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DecisionRule(ActionHead):
    """The RBF-interpolated decision rule ``pi_xi(u | y)`` (see the module docstring).

    Shapes: ``obs (..., N, D)`` and ``xi (..., M, P)`` with the same leading shape give a
    distribution over ``(..., N)`` robots' actions.
    """

    def __init__(self, spec: RuleSpec) -> None:
        self.spec = spec
        self.features = torch.as_tensor(spec.features, dtype=torch.long)
        self.centres = torch.as_tensor(spec.centres, dtype=torch.float32)
        self.mean = torch.as_tensor(spec.feature_mean, dtype=torch.float32)
        self.std = torch.as_tensor(spec.feature_std, dtype=torch.float32)
        if spec.action_kind == "continuous":
            self.low = torch.as_tensor(spec.action_low, dtype=torch.float32)
            self.high = torch.as_tensor(spec.action_high, dtype=torch.float32)

    def standardise(self, obs: torch.Tensor) -> torch.Tensor:
        """``(..., D)`` observations -> ``(..., d)`` standardised features the rule reads."""
        if obs.shape[-1] != self.spec.obs_dim:
            raise ValueError(
                f"the rule expects observations of size {self.spec.obs_dim}, got {obs.shape[-1]}"
            )
        return (obs.index_select(-1, self.features) - self.mean) / self.std

    def weights(self, z: torch.Tensor) -> torch.Tensor:
        """``(..., d)`` standardised features -> ``(..., M)`` normalised RBF weights (sum to 1)."""
        sq = ((z[..., None, :] - self.centres) ** 2).sum(-1)
        return torch.softmax(-sq / (2.0 * self.spec.bandwidth**2), dim=-1)

    def parameters_at(self, xi: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Interpolated rule parameters ``(..., N, P)`` of robots with features ``z (..., N, d)``."""
        if xi.shape[-2:] != (self.spec.n_centres, self.spec.param_dim):
            raise ValueError(
                f"rule parameters must end in ({self.spec.n_centres}, {self.spec.param_dim}), "
                f"got {tuple(xi.shape)}"
            )
        return self.weights(z) @ xi

    def distribution(self, xi: torch.Tensor, z: torch.Tensor) -> torch.distributions.Distribution:
        theta = self.parameters_at(xi, z)
        if self.spec.action_kind == "discrete":
            return Categorical(logits=theta)
        A = self.spec.action_dim
        log_std = theta[..., A:].clamp(*LOG_STD_RANGE)
        return Normal(theta[..., :A], log_std.exp())


class MeanFieldPolicy:
    """Decentralised execution of a trained Dec-POMFC policy: ``act(obs (E, N, D), task)``.

    Robot ``i`` of copy ``e`` applies the rule ``schedule[min(t_e, T - 1)]`` to its own
    observation ``obs[e, i]``, where ``t_e = task.steps[e]`` is the episode's clock. ``task`` is
    read for that clock only (any object with a ``steps`` array works).

    Args:
        rule: the decision rule.
        schedule: ``(T, M, P)`` rule parameters per time step.
        deterministic: take the most likely action (discrete) or the mean (continuous), as
            the schedule's reference rollout did (and as CTDE policies are evaluated); False
            samples the stochastic rule that was trained.
        seed: seed of the sampling generator.
    """

    def __init__(
        self, rule: DecisionRule, schedule: torch.Tensor, deterministic: bool = True, seed: int | None = None
    ) -> None:
        schedule = torch.as_tensor(schedule, dtype=torch.float32)
        if schedule.ndim != 3 or schedule.shape[0] < 1:
            raise ValueError(
                f"schedule must be a non-empty (T, M, P) tensor, got shape {tuple(schedule.shape)}"
            )
        rule.parameters_at(schedule[0], torch.zeros(1, len(rule.spec.features)))  # shape check
        self.rule = rule
        self.schedule = schedule
        self.deterministic = deterministic
        self.generator = torch.Generator().manual_seed(0 if seed is None else int(seed))

    def rules_at(self, clock: np.ndarray) -> torch.Tensor:
        """``(E, M, P)`` rule parameters for each copy's clock ``(E,)``."""
        t = np.minimum(np.asarray(clock, dtype=np.int64), self.schedule.shape[0] - 1)
        if (t < 0).any():
            raise ValueError(f"clock must be >= 0, got {clock}")
        return self.schedule[torch.as_tensor(t)]

    @torch.no_grad()
    def distribution(self, obs: np.ndarray, clock: np.ndarray) -> torch.distributions.Distribution:
        """Each robot's action distribution ``(E, N)`` given only its observation and the clock."""
        z = self.rule.standardise(torch.as_tensor(np.asarray(obs), dtype=torch.float32))
        return self.rule.distribution(self.rules_at(clock), z)

    @torch.no_grad()
    def act(self, obs: np.ndarray, task: Any) -> np.ndarray:
        obs = np.asarray(obs)
        clock = np.broadcast_to(np.asarray(task.steps), obs.shape[:1])
        return self.act_with_rules(obs, self.rules_at(clock))

    @torch.no_grad()
    def act_at_clocks(self, obs: np.ndarray, clocks: np.ndarray) -> np.ndarray:
        """Actions ``(E, N[, A])`` when each robot reads its own clock ``clocks (E, N)`` (robots
        whose clocks drifted apart: robot ``(e, i)`` applies ``schedule[clocks[e, i]]``). With
        every clock equal to the episode's step it is :meth:`act`.

        Raises:
            ValueError: ``clocks`` not of shape ``(E, N)`` or negative.
        """
        obs = np.asarray(obs)
        clocks = np.asarray(clocks, dtype=np.int64)
        if clocks.shape != obs.shape[:2]:
            raise ValueError(f"clocks must have shape {obs.shape[:2]} (E, N), got {clocks.shape}")
        out = None
        for t in np.unique(clocks):
            xi = self.rules_at(np.full(obs.shape[0], t))
            actions = self.act_with_rules(obs, xi)
            if out is None:
                out = np.array(actions, copy=True)
            mine = clocks == t
            out[mine] = actions[mine]
        return out

    @torch.no_grad()
    def act_with_rules(self, obs: np.ndarray, xi: torch.Tensor) -> np.ndarray:
        """Actions ``(E, N[, A])`` of robots applying the rules ``xi (E, M, P)`` (copy ``e``'s
        robots apply ``xi[e]``) to their own observations."""
        z = self.rule.standardise(torch.as_tensor(np.asarray(obs), dtype=torch.float32))
        dist = self.rule.distribution(xi, z)
        action = self.rule.mode(dist) if self.deterministic else self.rule.sample(dist, self.generator)
        return self.rule.to_env(action)


def load_mean_field_policy(
    data: dict[str, Any], deterministic: bool = True, seed: int | None = None
) -> MeanFieldPolicy:
    """The decentralised policy of a mean-field policy file (already read with ``safe_load``)."""
    rule = DecisionRule(RuleSpec.from_dict(data["rule_spec"]))
    return MeanFieldPolicy(rule, data["schedule"], deterministic=deterministic, seed=seed)
