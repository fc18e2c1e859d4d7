"""VDN: value decomposition by a sum, ``Q_tot = sum_i Q_i`` (Sunehag et al., AAMAS 2018).

The QMIX trainer (:mod:`swarmzoo.algorithms.qmix`) with ``mixer="vdn"`` as the default, so that
``swarmzoo train vdn --env navigation-v0 ...`` trains VDN; every argument and the loss are
QMIX's, documented there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from swarmzoo.algorithms.qmix import Args as QMixArgs
from swarmzoo.algorithms.qmix import policy_of, train

__all__ = ["Args", "policy_of", "train"]


@dataclass
class Args(QMixArgs):
    """VDN (QMIX's trainer with the sum mixer) on a swarmzoo env with discrete actions."""

    mixer: Literal["qmix", "vdn"] = "vdn"
    """'vdn': the sum; 'qmix': the monotonic hypernetwork mixer."""
