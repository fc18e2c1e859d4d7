"""swarmzoo's environments: one task per module, all on the batched core in ``core/``.

Importing this package registers every env (see :mod:`swarmzoo.registry`).
"""

from swarmzoo.envs import aggregation, coverage, flocking, kuramoto, navigation

__all__ = ["aggregation", "coverage", "flocking", "kuramoto", "navigation"]
