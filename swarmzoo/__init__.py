"""swarmzoo: PettingZoo environments and algorithms for robot swarms.

The front door::

    import swarmzoo
    swarmzoo.list_envs()                                   # ['navigation-v0', ...]
    env = swarmzoo.make("navigation-v0", n_agents=5)       # PettingZoo ParallelEnv
    venv = swarmzoo.make_vec("navigation-v0", 64)          # vector env, arrays (E, N, ...)
"""

from __future__ import annotations

# Importing the envs registers them (here and in PettingZoo's registry, where it has one), so
# `pettingzoo.make("parallel", "swarmzoo/navigation-v0")` works right after `import swarmzoo`.
from swarmzoo import envs as _envs  # noqa: F401
from swarmzoo.envs.registry import list_envs, make, make_aec, make_vec, spec

__all__ = ["list_envs", "make", "make_aec", "make_vec", "spec"]
__version__ = "0.1.0"
