"""Render history: what a rendered frame shows of the past (an order parameter's curve over the
episode, a target's trail), kept by the faces only while they render.

A task says what to keep with :meth:`~swarmzoo.envs.core.task.SwarmTask.history_sample` (copy
0's values after a reset or a step) and ``history_lengths`` (how many entries a series keeps);
the faces (:class:`~swarmzoo.envs.core.parallel.SwarmParallelEnv`,
:class:`~swarmzoo.envs.core.vector.SwarmVectorEnv`) build a :class:`RenderHistory` only when
``render_mode`` is set, restart it whenever copy 0 starts an episode, record after every step and
hand it to the task's ``draw`` and ``hud``. Headless, nothing is recorded.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import numpy as np


class RenderHistory:
    """Named series of one env copy's values over its episode (plain data: it pickles).

    Args:
        max_lengths: per series name, how many of its latest entries to keep (a trail of the
            last K positions); names not given keep the whole episode (a curve).

    Attributes:
        series: name -> list of recorded values, oldest first (read them, do not modify them).
    """

    def __init__(self, max_lengths: Mapping[str, int] | None = None) -> None:
        self.max_lengths = dict(max_lengths or {})
        for name, length in self.max_lengths.items():
            if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
                raise ValueError(f"history length of {name!r} must be an integer >= 1, got {length!r}")
        self.series: dict[str, list[Any]] = {}

    def restart(self, sample: Mapping[str, Any]) -> None:
        """Forget everything and start a new episode with ``sample`` (series not in it start
        empty)."""
        self.series = {}
        self.record(sample)

    def record(self, sample: Mapping[str, Any]) -> None:
        """Append ``sample``'s values (name -> value) to their series. Arrays are copied, so a
        sample may hand over views of the task's state."""
        for name, value in sample.items():
            values = self.series.setdefault(name, [])
            values.append(value.copy() if isinstance(value, np.ndarray) else value)
            cap = self.max_lengths.get(name)
            if cap is not None and len(values) > cap:
                del values[:-cap]

    def get(self, name: str) -> list[Any]:
        """The series ``name``, oldest first; empty if nothing was recorded under it."""
        return self.series.get(name, [])

    def __len__(self) -> int:
        """The number of non-empty series."""
        return sum(1 for values in self.series.values() if values)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {len(values)}" for name, values in self.series.items())
        return f"RenderHistory({{{sizes}}})"


def draw_copy(task: Any, renderer: Any, env_index: int, history: RenderHistory) -> list[str]:
    """Draw copy ``env_index`` of ``task`` with ``history`` and return its HUD lines (what the
    faces' ``render`` does). A task written before render history, with ``draw(renderer,
    env_index)`` or ``hud(env_index)``, is called without it."""
    if _takes_history(type(task).draw, 3):
        task.draw(renderer, env_index, history)
    else:
        task.draw(renderer, env_index)
    if _takes_history(type(task).hud, 2):
        return list(task.hud(env_index, history))
    return list(task.hud(env_index))


@cache
def _takes_history(method: Callable, n_args: int) -> bool:
    """Whether ``method`` (a function of the class: ``self`` first) accepts ``n_args``
    positional arguments after ``self``, the last being the history."""
    try:
        inspect.signature(method).bind(None, *range(n_args))
    except TypeError:
        return False
    return True
