"""Moved to :mod:`swarmzoo.agents.normalization` (temporary re-export)."""

from swarmzoo.agents.normalization import RunningMeanStd, ValueNorm

__all__ = ["RunningMeanStd", "ValueNorm"]
