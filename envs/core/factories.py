"""Config building and the module-level factories every env file exposes.

Each env module ends with::

    parallel_env, raw_env, env, vector_env = make_factories(MyTask)

giving PettingZoo's ``parallel_env`` / ``raw_env`` / ``env`` trio plus ``vector_env(num_envs)``.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

import numpy as np
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from swarmzoo.envs.core.parallel import SwarmParallelEnv, VectorRewardAEC
from swarmzoo.envs.core.task import check_memory, check_positive_int
from swarmzoo.envs.core.vector import SwarmVectorEnv

# Names one env family uses for what another calls differently (suggested before near spellings).
ALIASES = {"n_agents": "n_robots", "n_robots": "n_agents"}


def build_config(task_cls: Any, kwargs: dict[str, Any]) -> Any:
    """``task_cls.Config`` from keyword arguments, after applying ``preset=`` if given.

    Raises:
        ValueError: unknown preset, or an argument the env does not take (with the valid names
            and the closest match).
    """
    kwargs = dict(kwargs)
    preset = kwargs.pop("preset", None)
    presets: dict[str, dict[str, Any]] = getattr(task_cls, "PRESETS", {})
    values: dict[str, Any] = {}
    if preset is not None:
        if not isinstance(preset, str) or preset not in presets:
            raise ValueError(f"unknown preset {preset!r} for {task_cls.name}; presets: {sorted(presets)}")
        values.update(presets[preset])
    fields = {f.name for f in dataclasses.fields(task_cls.Config)}
    fixed = task_cls.fixed_actions
    if "continuous_actions" in kwargs and "continuous_actions" not in fields and fixed is not None:
        wanted = kwargs.pop("continuous_actions")
        if not isinstance(wanted, (bool, np.bool_)):
            raise ValueError(f"continuous_actions must be True or False, got {wanted!r}")
        if bool(wanted) != (fixed == "continuous"):
            raise ValueError(
                f"{task_cls.name} has {fixed} actions only: "
                f"continuous_actions={bool(wanted)} is not available"
            )
    for key in kwargs:
        if key not in fields:
            alias = ALIASES.get(key)
            close = [alias] if alias in fields else difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{task_cls.name} has no argument {key!r}{hint}; arguments: {sorted(fields)}")
    values.update({key: _plain(value) for key, value in kwargs.items()})
    return task_cls.Config(**values)


def _plain(value: Any) -> Any:
    """numpy scalars as the Python numbers they hold (inside tuples and lists too), so a config
    never computes in a fixed-width dtype (``np.uint8(200) ** 2`` wraps around)."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def make_factories(task_cls: Any):
    """The ``parallel_env``, ``raw_env``, ``env`` and ``vector_env`` factories of a task class."""

    def parallel_env(render_mode: str | None = None, **kwargs: Any) -> SwarmParallelEnv:
        config = build_config(task_cls, kwargs)
        check_memory(task_cls, config, 1)  # before a task allocates anything
        return SwarmParallelEnv(task_cls(config, n_envs=1), render_mode)

    def raw_env(render_mode: str | None = None, **kwargs: Any):
        par = parallel_env(render_mode=render_mode, **kwargs)
        return VectorRewardAEC(par) if par.objectives else parallel_to_aec_wrapper(par)

    def env(render_mode: str | None = None, **kwargs: Any):
        return OrderEnforcingWrapper(raw_env(render_mode=render_mode, **kwargs))

    def vector_env(num_envs: int, render_mode: str | None = None, **kwargs: Any) -> SwarmVectorEnv:
        check_positive_int("num_envs", num_envs)
        config = build_config(task_cls, kwargs)
        check_memory(task_cls, config, num_envs)  # before a task allocates anything
        return SwarmVectorEnv(task_cls(config, n_envs=num_envs), render_mode)

    for fn, what in (
        (parallel_env, "PettingZoo ParallelEnv"),
        (raw_env, "AEC env, unwrapped"),
        (env, "AEC env (order-enforcing)"),
        (vector_env, "vector env"),
    ):
        fn.__doc__ = f"{task_cls.name}: the {what}. Keyword arguments are the env's Config fields."
        fn.__qualname__ = fn.__name__
    return parallel_env, raw_env, env, vector_env
