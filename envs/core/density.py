"""Reference densities over a rectangular arena, and the Wasserstein-2 distance between them.

* **Density maps.** :func:`load_density` reads a shipped map (``MAPS``, the images under
  ``swarmzoo/assets/maps``) or any grayscale image file, :func:`gaussian_density` builds a
  Gaussian mixture; both check the field (finite, non-negative, not all zero, see
  :func:`normalise_density`) and return it summing to 1, on a grid of cells whose row 0 is the
  arena's top edge. :class:`DemandGrid` is that grid's geometry (cell centres, the cell of a
  position, the cells of a disk); :func:`egocentric_crops` samples grid fields around robots.
* **W2.** :func:`pool` sums a density onto a coarser grid, :func:`visit_counts` bins positions
  into one (a trajectory histogram), and :func:`wasserstein2` solves the exact transport problem
  between two such distributions with POT (``ot.emd2``, squared Euclidean cost between cell
  centres).

``coverage-v0`` is built on these; any task with a density over its arena can use them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from swarmzoo.envs.core.arena import Arena

MAPS = ("uniform", "two_hotspots", "ring", "disaster")


def map_path(name: str) -> Path:
    """The file of a shipped map (``assets/maps/<name>.png``) or ``name`` itself as a path."""
    if name in MAPS:
        return Path(resources.files("swarmzoo.assets")) / "maps" / f"{name}.png"
    return Path(name)


def load_density(name: str) -> np.ndarray:
    """A reference density ``(H, W)`` summing to 1 from a shipped map name or an image file.

    Colour images are averaged over their channels; an alpha channel is ignored.

    Raises:
        ValueError: unknown map, a file that is not an image, negative or all-zero values.
    """
    import imageio.v3 as iio

    path = map_path(name)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # a name too long for a path, or with a NUL byte
        is_file = False
    if not is_file:
        raise ValueError(f"map {name!r} is neither a shipped map {MAPS} nor an image file")
    if path.stat().st_size == 0:
        raise ValueError(f"map {name!r} is an empty file, not an image")
    try:
        image = np.asarray(iio.imread(path), dtype=np.float64)
    except Exception as err:  # imageio raises many types for unreadable files
        raise ValueError(f"map {name!r} is not a readable image: {err}") from err
    if image.ndim > 3 or (image.ndim == 3 and image.shape[-1] > 4):
        raise ValueError(
            f"map {name!r} has shape {image.shape}: not one grayscale, gray + alpha, RGB or RGBA "
            "image (a stack of frames, or more than 4 channels)"
        )
    if image.ndim == 3:
        # Gray + alpha (2 channels): the gray; RGB(A): the mean of R, G, B. Alpha is ignored.
        image = image[..., 0] if image.shape[-1] <= 2 else image[..., :3].mean(axis=-1)
    if image.ndim != 2 or min(image.shape) < 2:
        raise ValueError(
            f"map {name!r} must be a 2-D image of at least 2 x 2 pixels, got shape {image.shape}"
        )
    return normalise_density(image, f"map {name!r}")


def gaussian_density(gaussians: tuple, resolution: int, width: float, height: float) -> np.ndarray:
    """A density ``(H, W)`` from ``(x, y, sigma, weight)`` components, on a grid of ``resolution``
    cells along the longer arena side."""
    cols = max(2, int(round(resolution * width / max(width, height))))
    rows = max(2, int(round(resolution * height / max(width, height))))
    x = (np.arange(cols) + 0.5) / cols * width - width / 2
    y = height / 2 - (np.arange(rows) + 0.5) / rows * height
    gx, gy = np.meshgrid(x, y)
    field = np.zeros((rows, cols))
    try:
        components = [tuple(float(v) for v in g) for g in gaussians]
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"gaussians must be ((x, y, sigma, weight), ...) numbers, got {gaussians!r}"
        ) from err
    for g in components:
        if len(g) != 4:
            raise ValueError(f"gaussians: each Gaussian is (x, y, sigma, weight), got {g!r}")
        cx, cy, sigma, weight = g
        if not sigma > 0 or not weight >= 0:
            raise ValueError(f"gaussians: Gaussian {g!r} needs sigma > 0 and weight >= 0")
        field += weight * np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * sigma**2))
    return normalise_density(field, "gaussians")


def normalise_density(field: np.ndarray, what: str) -> np.ndarray:
    """``field / field.sum()`` after checking it is finite, non-negative and not all zero."""
    if not np.isfinite(field).all():
        raise ValueError(f"{what}: the density has NaN or inf values")
    if (field < 0).any():
        raise ValueError(f"{what}: the density has negative values (min {field.min():g})")
    total = field.sum()
    if total <= 0:
        raise ValueError(f"{what}: the density is zero everywhere; nothing to cover")
    return field / total


def pool(density: np.ndarray, resolution: int) -> np.ndarray:
    """Sum densities ``(..., H, W)`` into ``(..., r, r)`` grids (r = ``resolution``) over the same
    area (cell-centre assignment), keeping their totals."""
    H, W = density.shape[-2:]
    rows = np.minimum((np.arange(H) + 0.5) / H * resolution, resolution - 1).astype(np.int64)
    cols = np.minimum((np.arange(W) + 0.5) / W * resolution, resolution - 1).astype(np.int64)
    cell = (rows[:, None] * resolution + cols[None, :]).ravel()  # (H W,) target cell of each pixel
    flat = density.reshape(-1, H * W)
    keys = (np.arange(len(flat))[:, None] * resolution**2 + cell).ravel()
    out = np.bincount(keys, weights=flat.ravel(), minlength=len(flat) * resolution**2)
    return out.reshape(*density.shape[:-2], resolution, resolution)


class DemandGrid:
    """Geometry of a density grid over an arena: cell centres, and lookups from positions.

    Args:
        shape: ``(H, W)`` cells; row 0 is the arena's top edge.
        arena: the arena the grid covers.
    """

    def __init__(self, shape: tuple[int, int], arena: Arena) -> None:
        self.shape = shape
        self.arena = arena
        H, W = shape
        self.cell = np.array([arena.width / W, arena.height / H])
        x = (np.arange(W) + 0.5) * self.cell[0] - arena.width / 2
        y = arena.height / 2 - (np.arange(H) + 0.5) * self.cell[1]
        gx, gy = np.meshgrid(x, y)
        self.centres = np.stack([gx.ravel(), gy.ravel()], axis=-1)  # (H W, 2), row-major

    def rows_cols(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid row and column of ``points (..., 2)`` (may fall outside the grid)."""
        half = self.arena.half
        col = np.floor((points[..., 0] + half[0]) / self.cell[0]).astype(np.int64)
        row = np.floor((half[1] - points[..., 1]) / self.cell[1]).astype(np.int64)
        return row, col

    def disk_offsets(self, radius: float) -> np.ndarray:
        """``(K, 2)`` (row, col) offsets of the cells whose centres lie within ``radius`` of a
        cell's centre (at least the cell itself). A disk wider than the grid reaches every cell
        from every cell, so its reach is capped at the grid's size."""
        reach = np.minimum(np.ceil(radius / self.cell), self.shape[::-1]).astype(np.int64)
        dr, dc = np.meshgrid(
            np.arange(-reach[1], reach[1] + 1), np.arange(-reach[0], reach[0] + 1), indexing="ij"
        )
        inside = (dr * self.cell[1]) ** 2 + (dc * self.cell[0]) ** 2 <= radius**2
        return np.stack([dr[inside], dc[inside]], axis=-1)


def egocentric_crops(
    field: np.ndarray, pos: np.ndarray, grid: DemandGrid, size: int, extent: float
) -> np.ndarray:
    """Egocentric crops ``(E, N, C, C)`` (C = ``size``) of per-copy fields ``(E, H W)`` on
    ``grid``: ``C x C`` samples over a square of side ``extent`` centred on each of the
    positions ``pos (E, N, 2)``, world-aligned, row 0 at the top (+y), in units of the uniform
    density (``H W`` times the cell's value), 0 outside the grid."""
    E, N = pos.shape[:2]
    H, W = grid.shape
    C = size
    ticks = (np.arange(C) - C // 2) * (extent / C)
    dx, dy = np.meshgrid(ticks, -ticks)  # row 0 of the crop is the top (+y)
    points = pos[:, :, None, :] + np.stack([dx.ravel(), dy.ravel()], axis=-1)  # (E, N, C C, 2)
    row, col = grid.rows_cols(points)
    inside = (row >= 0) & (row < H) & (col >= 0) & (col < W)
    flat = np.where(inside, row * W + col, 0)
    values = np.take_along_axis(field, flat.reshape(E, -1), axis=1).reshape(E, N, C * C)
    return np.where(inside, values * (H * W), 0.0).reshape(E, N, C, C)


def wasserstein2(visits: np.ndarray, reference: np.ndarray, centres: np.ndarray) -> float:
    """Exact W2 between two distributions on the same cells: ``visits`` and ``reference`` ``(M,)``
    weights (normalised here), ``centres (M, 2)``. Only cells with mass enter the transport
    problem."""
    import ot

    a_idx, b_idx = np.flatnonzero(visits > 0), np.flatnonzero(reference > 0)
    if len(a_idx) == 0:
        raise ValueError("no robot positions recorded yet")
    a = visits[a_idx] / visits[a_idx].sum()
    b = reference[b_idx] / reference[b_idx].sum()
    cost = ot.dist(centres[a_idx], centres[b_idx], metric="sqeuclidean")
    return float(np.sqrt(max(ot.emd2(a, b, cost, numItermax=1_000_000), 0.0)))


def visit_counts(grid: DemandGrid, points: np.ndarray) -> np.ndarray:
    """Histograms ``(B, H W)`` of ``points (B, P, 2)`` on ``grid`` (points outside it count in the
    nearest edge cell)."""
    H, W = grid.shape
    row, col = grid.rows_cols(points)
    cells = np.clip(row, 0, H - 1) * W + np.clip(col, 0, W - 1)
    B = len(points)
    keys = (np.arange(B)[:, None] * H * W + cells).ravel()
    return np.bincount(keys, minlength=B * H * W).reshape(B, -1)
