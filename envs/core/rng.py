"""Per-env random streams for a batch of env copies.

Every env copy owns one numpy ``Generator``. Copy ``i`` of a vector env reset with ``seed`` gets
``seed + i``, so it replays exactly what a single (PettingZoo) env reset with ``seed + i`` does.
Draws are made once per env copy and per call (never per agent), so a reset of E copies costs E
small generator calls and the per-agent work stays vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium.utils import seeding


def check_seed(seed: object) -> None:
    """Raise ``TypeError`` / ``ValueError`` naming ``seed`` unless it is None or an int >= 0 (a
    Python or numpy integer; not a bool, float or string)."""
    if seed is None:
        return
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")


class BatchRNG:
    """``E`` independent generators, addressed by env index.

    Args:
        n_envs: number of env copies ``E``.
    """

    def __init__(self, n_envs: int) -> None:
        self.generators: list[np.random.Generator] = [seeding.np_random(None)[0] for _ in range(n_envs)]

    def seed(self, seeds: Sequence[int | None]) -> None:
        """Re-seed the generators; ``seeds[i]`` of ``None`` leaves copy ``i``'s stream as it is."""
        if len(seeds) != len(self.generators):
            raise ValueError(f"expected {len(self.generators)} seeds, got {len(seeds)}")
        for s in seeds:
            check_seed(s)
        for i, s in enumerate(seeds):
            if s is not None:
                self.generators[i] = seeding.np_random(int(s))[0]

    def uniform(self, env_ids: np.ndarray, shape: tuple[int, ...], low=0.0, high=1.0) -> np.ndarray:
        """Uniform draws ``(len(env_ids), *shape)``; ``low``/``high`` broadcast against ``shape``."""
        u = np.empty((len(env_ids), *shape))
        for row, e in zip(u, env_ids, strict=True):
            self.generators[e].random(out=row)
        return low + (np.asarray(high) - np.asarray(low)) * u

    def normal(self, env_ids: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Standard normal draws ``(len(env_ids), *shape)``."""
        if not len(env_ids):
            return np.zeros((0, *shape))
        return np.stack([self.generators[e].standard_normal(shape) for e in env_ids])

    def generator(self, env_id: int) -> np.random.Generator:
        """The generator of one env copy (for rejection sampling that needs a loop)."""
        return self.generators[env_id]
