"""pygame rendering shared by every task: a world-to-screen camera and a few drawing verbs.

pygame is imported lazily, on the first frame. ``rgb_array`` needs no display (it draws on an
off-screen surface); ``human`` opens a window. Both work headless with ``SDL_VIDEODRIVER=dummy``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swarmzoo.envs.core.arena import Arena

BACKGROUND = (250, 250, 247)
WALL = (40, 40, 40)
GRID = (228, 228, 222)
TEXT = (30, 30, 30)
ROBOT = (60, 90, 200)
GOAL = (235, 140, 30)
GOAL_DONE = (40, 170, 80)
OBSTACLE = (110, 110, 110)
COLLISION = (215, 50, 50)


def _pygame():
    try:
        import pygame
    except ImportError as err:  # pragma: no cover - pygame is a core dependency
        raise ImportError("rendering needs pygame: pip install pygame") from err
    return pygame


class Renderer:
    """Draws one env copy per frame.

    Args:
        arena: the arena to frame.
        render_mode: ``"human"`` or ``"rgb_array"``.
        width: frame width in pixels; the height follows the arena's aspect ratio (clamped to
            1:4 .. 4:1).
        fps: frame rate of the ``human`` window.
        title: window caption.
    """

    def __init__(
        self, arena: Arena, render_mode: str, width: int = 640, fps: int = 10, title: str = "swarmzoo"
    ) -> None:
        if render_mode not in ("human", "rgb_array"):
            raise ValueError(f"render_mode must be 'human' or 'rgb_array', got {render_mode!r}")
        self.arena = arena
        self.render_mode = render_mode
        self.fps = fps
        self.title = title
        self.width = int(width)
        # The frame follows the arena's aspect ratio within 1:4 .. 4:1 (a thinner arena is framed
        # with margins): a 1e-3 x 1e9 arena must not ask for a 640 x 6.4e14 pixel surface.
        self.height = int(round(width * min(max(arena.height / arena.width, 0.25), 4.0)))
        self.view_half = arena.half * 1.08
        self._pg: Any = None
        self._surface: Any = None
        self._window: Any = None
        self._clock: Any = None
        self._font: Any = None

    # -- setup --------------------------------------------------------------------------------

    def _ensure(self) -> None:
        if self._pg is not None:
            return
        pg = _pygame()
        self._pg = pg
        if self.render_mode == "human":
            pg.display.init()
            self._window = pg.display.set_mode((self.width, self.height))
            pg.display.set_caption(self.title)
            self._clock = pg.time.Clock()
        pg.font.init()
        self._font = pg.font.Font(None, 20)
        self._surface = pg.Surface((self.width, self.height))

    def begin(self, extent: np.ndarray | None = None) -> None:
        """Start a frame: clear, set the camera, draw the grid and the arena.

        Args:
            extent: optional ``(2,)`` half extents to frame (for unbounded arenas whose robots
                leave the spawn rectangle); defaults to the arena plus a small margin.
        """
        self._ensure()
        half = self.arena.half * 1.08
        if extent is not None:
            half = np.maximum(half, np.asarray(extent) * 1.05)
        # Keep the aspect ratio of the frame.
        aspect = self.width / self.height
        half = np.array([max(half[0], half[1] * aspect), max(half[1], half[0] / aspect)])
        self.view_half = half
        self._surface.fill(BACKGROUND)
        step = 10 ** np.floor(np.log10(max(half[0], 1e-9)))
        for x in np.arange(-np.floor(half[0] / step) * step, half[0], step):
            self._pg.draw.line(self._surface, GRID, self.to_px((x, -half[1])), self.to_px((x, half[1])))
        for y in np.arange(-np.floor(half[1] / step) * step, half[1], step):
            self._pg.draw.line(self._surface, GRID, self.to_px((-half[0], y)), self.to_px((half[0], y)))
        a = self.arena.half
        corners = [(-a[0], -a[1]), (a[0], -a[1]), (a[0], a[1]), (-a[0], a[1])]
        style = {"walls": 3, "torus": 1, "none": 1}[self.arena.boundary]
        self._pg.draw.lines(self._surface, WALL, True, [self.to_px(c) for c in corners], style)

    # -- coordinates --------------------------------------------------------------------------

    @property
    def scale(self) -> float:
        """Pixels per world unit."""
        return self.width / (2.0 * self.view_half[0])

    def to_px(self, xy) -> tuple[int, int]:
        """World ``(2,)`` -> pixel (y up in the world, down on screen)."""
        s = self.scale
        return (int(round(self.width / 2 + xy[0] * s)), int(round(self.height / 2 - xy[1] * s)))

    def _px_many(self, pos: np.ndarray) -> np.ndarray:
        s = self.scale
        px = np.empty((len(pos), 2), dtype=np.int64)
        px[:, 0] = np.round(self.width / 2 + pos[:, 0] * s)
        px[:, 1] = np.round(self.height / 2 - pos[:, 1] * s)
        return px

    # -- drawing verbs ------------------------------------------------------------------------

    def circles(self, pos: np.ndarray, radius, color, width: int = 0, outline=None) -> None:
        """Filled (``width=0``) or ring circles ``pos (M, 2)``; ``radius`` scalar or ``(M,)``;
        ``color`` one RGB or ``(M, 3)``."""
        pos = np.asarray(pos, dtype=float).reshape(-1, 2)
        radii = np.broadcast_to(np.asarray(radius, dtype=float), (len(pos),)) * self.scale
        colors = np.broadcast_to(np.asarray(color), (len(pos), 3))
        for (x, y), r, c in zip(self._px_many(pos), radii, colors):
            r = max(int(round(r)), 1)
            self._pg.draw.circle(self._surface, tuple(int(v) for v in c), (int(x), int(y)), r, width)
            if outline is not None and width == 0:
                self._pg.draw.circle(self._surface, outline, (int(x), int(y)), r, 1)

    def crosses(self, pos: np.ndarray, size: float, color) -> None:
        """``x`` marks at ``pos (M, 2)``, ``size`` world units across; ``color`` RGB or (M, 3)."""
        pos = np.asarray(pos, dtype=float).reshape(-1, 2)
        colors = np.broadcast_to(np.asarray(color), (len(pos), 3))
        h = max(size * self.scale / 2, 3)
        for (x, y), c in zip(self._px_many(pos), colors):
            c = tuple(int(v) for v in c)
            self._pg.draw.line(self._surface, c, (x - h, y - h), (x + h, y + h), 3)
            self._pg.draw.line(self._surface, c, (x - h, y + h), (x + h, y - h), 3)

    def segments(self, start: np.ndarray, end: np.ndarray, color, width: int = 1) -> None:
        """Line segments from ``start (M, 2)`` to ``end (M, 2)``."""
        start = self._px_many(np.asarray(start, dtype=float).reshape(-1, 2))
        end = self._px_many(np.asarray(end, dtype=float).reshape(-1, 2))
        colors = np.broadcast_to(np.asarray(color), (len(start), 3))
        for a, b, c in zip(start, end, colors):
            self._pg.draw.line(self._surface, tuple(int(v) for v in c), a, b, width)

    def robots(
        self, pos: np.ndarray, vel: np.ndarray, radius: float, color=ROBOT, heading_scale: float = 0.5
    ) -> None:
        """Robots as outlined discs with a velocity tick ``heading_scale * vel`` long (world)."""
        self.circles(pos, radius, color, outline=(20, 20, 20))
        speed = np.linalg.norm(vel, axis=-1, keepdims=True)
        # Tick at least one radius long so a slow robot's direction stays visible.
        length = np.maximum(speed * heading_scale, radius * 1.3)
        with np.errstate(invalid="ignore", divide="ignore"):
            direction = np.where(speed > 1e-9, vel / speed, 0.0)
        moving = speed[:, 0] > 1e-9
        self.segments(pos[moving], pos[moving] + direction[moving] * length[moving], (20, 20, 20), 2)

    def arrows(self, pos: np.ndarray, angle: np.ndarray, length: float, color, width: int = 2) -> None:
        """Arrows ``length`` world units long from ``pos (M, 2)`` along ``angle (M,)`` (radians),
        with a small head; ``color`` one RGB or ``(M, 3)``."""
        pos = np.asarray(pos, dtype=float).reshape(-1, 2)
        angle = np.asarray(angle, dtype=float).ravel()
        direction = np.stack([np.cos(angle), np.sin(angle)], axis=-1)
        tip = pos + direction * length
        colors = np.broadcast_to(np.asarray(color), (len(pos), 3))
        head = max(length * self.scale * 0.35, 3.0)
        for a, b, d, c in zip(self._px_many(pos), self._px_many(tip), direction, colors):
            c = tuple(int(v) for v in c)
            self._pg.draw.line(self._surface, c, a, b, width)
            # Screen y points down: the world direction (dx, dy) is (dx, -dy) on screen.
            ang = np.arctan2(-d[1], d[0])
            left = (b[0] - head * np.cos(ang - 0.5), b[1] - head * np.sin(ang - 0.5))
            right = (b[0] - head * np.cos(ang + 0.5), b[1] - head * np.sin(ang + 0.5))
            self._pg.draw.polygon(self._surface, c, [tuple(b), left, right])

    def curve(
        self,
        values,
        label: str,
        low: float = 0.0,
        high: float = 1.0,
        length: int | None = None,
        slot: int = 0,
        xs=None,
    ) -> None:
        """A small line plot of ``values`` in the top-right corner (e.g. an order parameter over
        the episode), ``low``..``high`` on the y axis, ``length`` points wide (default: as many
        as there are values); ``slot`` 1, 2, ... stacks further plots below the first; ``xs``
        places the values at those x positions (in points, default 0, 1, 2, ...)."""
        values = np.asarray(values, dtype=float).ravel()
        w, h = max(self.width // 4, 80), max(self.height // 7, 48)
        x0, y0 = self.width - w - 8, 8 + slot * (h + 6)
        pg = self._pg
        pg.draw.rect(self._surface, BACKGROUND, (x0, y0, w, h))
        pg.draw.rect(self._surface, GRID, (x0, y0, w, h), 1)
        n = max(length or len(values), 2)
        if len(values) >= 2:
            at = np.arange(len(values)) if xs is None else np.asarray(xs, dtype=float)
            xs = x0 + at * (w - 1) / (n - 1)
            frac = np.clip((values - low) / (high - low), 0.0, 1.0)
            ys = y0 + h - 1 - frac * (h - 1)
            pg.draw.lines(self._surface, ROBOT, False, list(zip(xs.tolist(), ys.tolist())), 2)
        text = f"{label} {values[-1]:.2f}" if len(values) else label
        self._surface.blit(self._font.render(text, True, TEXT), (x0 + 4, y0 + 3))

    def heatmap(self, values: np.ndarray, color=(235, 120, 40)) -> None:
        """A field ``values (H, W)`` in ``[0, 1]`` over the arena (row 0 at the top edge), blended
        from the background (0) to ``color`` (1)."""
        pg = self._pg
        v = np.clip(np.asarray(values, dtype=float), 0.0, 1.0)[..., None]
        rgb = (np.asarray(BACKGROUND) * (1 - v) + np.asarray(color) * v).astype(np.uint8)
        cells = pg.surfarray.make_surface(np.ascontiguousarray(rgb.transpose(1, 0, 2)))
        a = self.arena.half
        left, top = self.to_px((-a[0], a[1]))
        right, bottom = self.to_px((a[0], -a[1]))
        self._surface.blit(pg.transform.smoothscale(cells, (right - left, bottom - top)), (left, top))

    def hud(self, lines: list[str]) -> None:
        """Text lines in the top-left corner."""
        y = 6
        for line in lines:
            img = self._font.render(line, True, TEXT)
            self._surface.blit(img, (8, y))
            y += img.get_height() + 2

    def finish(self) -> np.ndarray | None:
        """End the frame: return an ``(H, W, 3)`` uint8 array, or show it in the window."""
        pg = self._pg
        if self.render_mode == "rgb_array":
            return np.ascontiguousarray(np.transpose(pg.surfarray.array3d(self._surface), (1, 0, 2)))
        self._window.blit(self._surface, (0, 0))
        pg.event.pump()
        pg.display.flip()
        self._clock.tick(self.fps)
        return None

    def close(self) -> None:
        """Close the window (if any). Safe to call more than once."""
        if self._pg is not None and self._window is not None:
            self._pg.display.quit()
        self._window = None
        self._pg = None
