"""swarmzoo: PettingZoo environments and algorithms for robot swarms.

The front door::

    import swarmzoo
    swarmzoo.list_envs()                                   # ['navigation-v0', ...]
    env = swarmzoo.make("navigation-v0", n_agents=5)       # PettingZoo ParallelEnv
    venv = swarmzoo.make_vec("navigation-v0", 64)          # vector env, arrays (E, N, ...)
"""

from __future__ import annotations

from typing import Any

from swarmzoo.registry import list_envs, spec

__all__ = ["list_envs", "make", "make_aec", "make_vec", "spec"]
__version__ = "0.1.0"

# Importing the envs registers them (here and in PettingZoo's registry, where it has one), so
# `pettingzoo.make("parallel", "swarmzoo/navigation-v0")` works right after `import swarmzoo`.
from swarmzoo import envs as _envs  # noqa: E402,F401


def make(env_id: str, **kwargs: Any):
    """A PettingZoo ``ParallelEnv`` for ``env_id``; ``kwargs`` are the env's arguments
    (``n_agents``, ``max_cycles``, ``render_mode``, ``continuous_actions``, ``preset``, ...)."""
    return spec(env_id).load().parallel_env(**kwargs)


def make_aec(env_id: str, **kwargs: Any):
    """The AEC form of :func:`make` (``pettingzoo.utils.parallel_to_aec``)."""
    return spec(env_id).load().env(**kwargs)


def make_vec(env_id: str, num_envs: int, **kwargs: Any):
    """A vector env of ``num_envs`` copies: ``reset(seed) -> (obs (E, N, D), infos)``,
    ``step(actions) -> (obs, rewards (E, N), terminations (E, N), truncations (E, N), infos)``."""
    return spec(env_id).load().vector_env(num_envs, **kwargs)
