"""swarmzoo's environments: one task per module, all on the batched core in ``core/``.

Importing this package registers every env (see :mod:`swarmzoo.envs.registry`).
"""

# The registry first: every env module registers itself with it on import.
from swarmzoo.envs import registry  # noqa: I001
from swarmzoo.envs import (
    aggregation,
    aloha,
    byzantine_localization,
    byzantine_timesync,
    byzantine_tracking,
    coordination,
    coverage,
    flocking,
    kuramoto,
    navigation,
)

__all__ = [
    "aggregation",
    "aloha",
    "byzantine_localization",
    "byzantine_timesync",
    "byzantine_tracking",
    "coordination",
    "coverage",
    "flocking",
    "kuramoto",
    "navigation",
    "registry",
]
