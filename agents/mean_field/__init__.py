"""The policy side of mean-field control (Dec-POMFC): everything but the trainer.

Reference: Cui, Hauck, Fabian, Koeppl, "Learning Decentralized Partially Observable Mean Field
Control for Artificial Collective Behavior" (ICLR 2024). The trainer is
:mod:`swarmzoo.algorithms.mean_field`; this package holds:

* :mod:`~swarmzoo.agents.mean_field.policy` - what runs on a robot: the decision rule it applies
  to its own observation and the open-loop execution of a rule schedule
  (:class:`MeanFieldPolicy`, :func:`load_mean_field_policy`).
* :mod:`~swarmzoo.agents.mean_field.embedding` - the swarm's distribution as the upper level's
  input (:class:`KernelEmbedding`, :class:`HistogramEmbedding`).
* :mod:`~swarmzoo.agents.mean_field.rule` - fitting a rule to an env: the observation entries it
  reads, named by the env (:func:`rule_feature_indices`), and its RBF centres (:func:`fit_rule`).
* :mod:`~swarmzoo.agents.mean_field.execution` - the upper level (:class:`MeanFieldModel`), the
  schedule it gives (:func:`compute_schedule`) and closed-loop execution
  (:class:`ClosedLoopPolicy`).

Every name is importable from here (``from swarmzoo.agents.mean_field import MeanFieldPolicy``).
"""

from __future__ import annotations

from swarmzoo.agents.mean_field.embedding import (
    HistogramEmbedding,
    KernelEmbedding,
    embedding_config,
    grid_size,
    make_embedding,
)
from swarmzoo.agents.mean_field.execution import (
    ClosedLoopPolicy,
    MeanFieldModel,
    UpperLevel,
    compute_schedule,
)
from swarmzoo.agents.mean_field.policy import (
    LOG_STD_RANGE,
    DecisionRule,
    MeanFieldPolicy,
    RuleSpec,
    load_mean_field_policy,
)
from swarmzoo.agents.mean_field.rule import (
    farthest_points,
    fit_rule,
    initial_rule_parameters,
    rule_feature_indices,
    warmup_features,
)

__all__ = [
    "LOG_STD_RANGE",
    "ClosedLoopPolicy",
    "DecisionRule",
    "HistogramEmbedding",
    "KernelEmbedding",
    "MeanFieldModel",
    "MeanFieldPolicy",
    "RuleSpec",
    "UpperLevel",
    "compute_schedule",
    "embedding_config",
    "farthest_points",
    "fit_rule",
    "grid_size",
    "initial_rule_parameters",
    "load_mean_field_policy",
    "make_embedding",
    "rule_feature_indices",
    "warmup_features",
]
