"""The arena: a rectangle centred on the origin, with walls, a torus, or no boundary.

Positions are ``(..., 2)`` arrays in world units. The arena spans ``[-width/2, width/2] x
[-height/2, height/2]``; non-square arenas are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Boundary = Literal["walls", "torus", "none"]
BOUNDARIES = ("walls", "torus", "none")


@dataclass(frozen=True)
class Arena:
    """A rectangular arena.

    Attributes:
        width: Extent along x (world units), > 0.
        height: Extent along y (world units), > 0.
        boundary: ``"walls"`` (robots stop at the edge), ``"torus"`` (positions wrap, distances
            use the minimum image) or ``"none"`` (unbounded plane; the rectangle is only the spawn
            region and the default camera, as in MPE).
    """

    width: float = 2.0
    height: float = 2.0
    boundary: Boundary = "walls"

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"Arena.{name} must be a positive finite number, got {value!r}")
        if self.boundary not in BOUNDARIES:
            raise ValueError(f"Arena.boundary must be one of {BOUNDARIES}, got {self.boundary!r}")

    @property
    def half(self) -> np.ndarray:
        """Half extents ``(2,)``."""
        return np.array([self.width / 2.0, self.height / 2.0])

    @property
    def size(self) -> np.ndarray:
        """Extents ``(2,)``."""
        return np.array([self.width, self.height])

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def periodic(self) -> bool:
        return self.boundary == "torus"


def min_image(delta: np.ndarray, arena: Arena) -> np.ndarray:
    """Displacements ``(..., 2)`` mapped to the shortest equivalent on a torus (no-op otherwise)."""
    if not arena.periodic:
        return delta
    size = arena.size
    return delta - size * np.round(delta / size)


def wrap(pos: np.ndarray, arena: Arena) -> np.ndarray:
    """Positions ``(..., 2)`` wrapped into ``[-half, half)`` on a torus (no-op otherwise)."""
    if not arena.periodic:
        return pos
    half, size = arena.half, arena.size
    shifted = np.mod(pos + half, size)
    # mod() of a tiny negative number rounds up to exactly `size`: keep the range half-open.
    return np.where(shifted >= size, shifted - size, shifted) - half


def apply_walls(
    pos: np.ndarray, vel: np.ndarray, radius: np.ndarray | float, arena: Arena
) -> tuple[np.ndarray, np.ndarray]:
    """Keep bodies of ``radius`` inside walled arenas; wrap on a torus.

    A body that crosses a wall is put back on it and loses the velocity component that points
    out of the arena (a perfectly inelastic wall).

    Args:
        pos: ``(E, N, 2)`` positions (modified in place and returned).
        vel: ``(E, N, 2)`` velocities (modified in place and returned).
        radius: scalar or ``(N,)`` body radii.
        arena: the arena.
    """
    if arena.boundary == "torus":
        pos[:] = wrap(pos, arena)
    elif arena.boundary == "walls":
        r = np.asarray(radius, dtype=pos.dtype)
        if r.ndim == 1:
            r = r[:, None]
        # A scalar limit in a square arena keeps numpy's loops long (no (2,) broadcast).
        half = arena.width / 2.0 if arena.width == arena.height else arena.half
        limit = half - r
        over = pos > limit
        under = pos < -limit
        np.clip(pos, -limit, limit, out=pos)
        np.copyto(vel, 0.0, where=(over & (vel > 0)) | (under & (vel < 0)))
    return pos, vel
