"""The env registry: versioned ids (``navigation-v0``) mapped to env modules.

Each env module registers itself with one line, ``register(ID, __name__, description)``; importing
``swarmzoo.envs`` imports every env module. Ids may be written with the ``swarmzoo/`` namespace.
Where PettingZoo has a registry (1.27+), every env is also registered there as
``swarmzoo/<id>``, so ``pettingzoo.make("parallel", "swarmzoo/navigation-v0")`` works.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

NAMESPACE = "swarmzoo/"


@dataclass(frozen=True)
class EnvSpec:
    """One registered env: its id, the module that defines it, and a one-line description."""

    id: str
    module: str
    description: str

    def load(self) -> ModuleType:
        """The env module (with ``parallel_env``, ``env``, ``raw_env``, ``vector_env``)."""
        return importlib.import_module(self.module)


_REGISTRY: dict[str, EnvSpec] = {}


def register(env_id: str, module: str, description: str) -> None:
    """Register ``env_id`` (``name-vN``) as defined by ``module``."""
    if "-v" not in env_id or not env_id.rsplit("-v", 1)[1].isdigit():
        raise ValueError(f"env ids are versioned like 'name-v0', got {env_id!r}")
    _REGISTRY[env_id] = EnvSpec(env_id, module, description)
    _register_with_pettingzoo(env_id, module)


def _register_with_pettingzoo(env_id: str, module: str) -> None:
    try:
        import pettingzoo
    except ImportError:  # pragma: no cover - pettingzoo is a core dependency
        return
    if not hasattr(pettingzoo, "register"):
        return
    from pettingzoo.env_registry import registration

    pz_id = NAMESPACE + env_id
    for kind, attr in (("parallel", "parallel_env"), ("aec", "env")):
        # The public registries (pettingzoo.register warns when it overrides an entry).
        if pz_id not in getattr(registration, f"{kind}_registry", {}):
            pettingzoo.register(kind, pz_id, f"{module}:{attr}")


def _ensure_loaded() -> None:
    importlib.import_module("swarmzoo.envs")


def spec(env_id: str) -> EnvSpec:
    """The spec of ``env_id``; raises ``ValueError`` naming the known ids if it is unknown
    (``TypeError`` if it is not a string)."""
    _ensure_loaded()
    if not isinstance(env_id, str):
        raise TypeError(f"env id must be a string like 'navigation-v0', got {env_id!r}")
    key = env_id[len(NAMESPACE) :] if env_id.startswith(NAMESPACE) else env_id
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown env id {env_id!r}.{hint} Known ids: {sorted(_REGISTRY)}")
    return _REGISTRY[key]


def list_envs() -> list[str]:
    """All registered env ids, sorted."""
    _ensure_loaded()
    return sorted(_REGISTRY)


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
