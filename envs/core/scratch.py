"""Work arrays that a task reuses from one step to the next.

numpy allocates every temporary afresh. With a thousand env copies the big ones are blocks of
100 KB and more, which glibc's malloc hands back to the OS when they are freed and page-faults
back in on the next step; on a small machine that churn costs more than the arithmetic. A task
therefore keeps one :class:`Scratch` per call site and passes it to the core functions, which take
their temporaries from it. Nothing taken from a scratch is ever returned to a task's caller.
"""

from __future__ import annotations

import numpy as np


class Scratch:
    """Named work arrays of one call site, reused while their shape and dtype stay the same.

    A function given a scratch must not hand out (return, cache) an array taken from it unless
    its caller owns the scratch and knows the array is overwritten by the next call.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def empty(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """An uninitialised array ``shape`` of ``dtype``, the same memory as the last call with
        this ``name`` when that one had the same shape and dtype."""
        return self.buffer(name, shape, dtype)[0]

    def buffer(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> tuple[np.ndarray, bool]:
        """As :meth:`empty`, and whether the array is new (else it holds what the last user of
        ``name`` left in it, which lets a caller skip rewriting parts that never change)."""
        arr = self._arrays.get(name)
        if arr is not None and arr.shape == shape and arr.dtype == dtype:
            return arr, False
        arr = self._arrays[name] = np.empty(shape, dtype=dtype)
        return arr, True


def empty(scratch: Scratch | None, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """``scratch.empty(name, shape, dtype)``, or a fresh ``np.empty`` without a scratch."""
    if scratch is None:
        return np.empty(shape, dtype=dtype)
    return scratch.empty(name, shape, dtype)


def scratch_out(
    scratch: Scratch | None, name: str, shape: tuple[int, ...], dtype: type = np.float64
) -> np.ndarray | None:
    """An ``out=`` argument: ``scratch.empty(name, shape, dtype)``, or None (numpy allocates)
    without a scratch."""
    return None if scratch is None else scratch.empty(name, shape, dtype)
