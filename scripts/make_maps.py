"""Write the density maps shipped in ``assets/maps/`` (64 x 64 grayscale PNGs; white = demand).

    python scripts/make_maps.py

Each map is a non-negative field over the arena, scaled so its maximum is 255. The coverage env
(``coverage-v0``) reads any grayscale image the same way: pixel value = relative demand, row 0 at
the top (the arena's +y edge).
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

SIZE = 64
OUT = Path(__file__).resolve().parent.parent / "assets" / "maps"


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre coordinates in [-1, 1], x to the right, y up (row 0 is the top)."""
    c = (np.arange(SIZE) + 0.5) / SIZE * 2 - 1
    x, y = np.meshgrid(c, -c)
    return x, y


def _blob(x, y, cx, cy, sigma) -> np.ndarray:
    return np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2))


def maps() -> dict[str, np.ndarray]:
    x, y = _grid()
    r = np.hypot(x, y)
    rng = np.random.default_rng(7)
    # A disaster area: a collapsed district (large irregular blob), a few scattered sites, a
    # diagonal road of debris, nothing in a lake; irregular edges from smoothed noise.
    noise = rng.random((SIZE, SIZE))
    for _ in range(6):  # cheap smoothing: average with the 4 neighbours
        noise = (
            noise
            + np.roll(noise, 1, 0)
            + np.roll(noise, -1, 0)
            + np.roll(noise, 1, 1)
            + np.roll(noise, -1, 1)
        ) / 5
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    district = _blob(x, y, -0.35, 0.3, 0.32) * (0.6 + 0.8 * noise)
    sites = sum(
        _blob(x, y, cx, cy, 0.08) for cx, cy in ((0.55, 0.55), (0.6, -0.45), (-0.5, -0.6), (0.1, -0.15))
    )
    road = np.exp(-(((x + y) / np.sqrt(2) - 0.1) ** 2) / (2 * 0.05**2)) * 0.35 * (x > -0.2)
    lake = _blob(x, y, 0.45, 0.05, 0.18) > 0.5
    disaster = np.where(lake, 0.0, district + 0.9 * sites + road)
    return {
        "uniform": np.ones((SIZE, SIZE)),
        "two_hotspots": _blob(x, y, -0.45, 0.4, 0.18) + 0.7 * _blob(x, y, 0.5, -0.35, 0.22),
        "ring": np.exp(-((r - 0.6) ** 2) / (2 * 0.1**2)),
        "disaster": disaster,
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, field in maps().items():
        image = np.round(255 * field / field.max()).astype(np.uint8)
        iio.imwrite(OUT / f"{name}.png", image)
        print(f"wrote {OUT / name}.png")


if __name__ == "__main__":
    main()
