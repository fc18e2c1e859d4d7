"""Unit tests of the arena: validation, minimum image, wrapping and walls."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from swarmzoo.envs.core.arena import Arena, apply_walls, min_image, wrap

TORUS = Arena(width=3.0, height=1.5, boundary="torus")
WALLS = Arena(width=3.0, height=1.5, boundary="walls")
OPEN = Arena(width=3.0, height=1.5, boundary="none")

finite = st.floats(-20.0, 20.0, allow_nan=False, allow_infinity=False)


def test_arena_properties() -> None:
    a = Arena(width=4.0, height=2.0)
    np.testing.assert_array_equal(a.half, [2.0, 1.0])
    np.testing.assert_array_equal(a.size, [4.0, 2.0])
    assert a.area == 8.0
    assert not a.periodic
    assert TORUS.periodic


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 0.0}, "Arena.width"),
        ({"width": -1.0}, "Arena.width"),
        ({"height": np.inf}, "Arena.height"),
        ({"height": np.nan}, "Arena.height"),
        ({"boundary": "periodic"}, "Arena.boundary"),
    ],
)
def test_arena_rejects_bad_values(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        Arena(**kwargs)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (5, 2), elements=finite))
def test_min_image_is_the_shortest_equivalent_displacement(delta) -> None:
    out = min_image(delta, TORUS)
    size = TORUS.size
    # Same point on the torus: differs by whole periods.
    periods = (out - delta) / size
    np.testing.assert_allclose(periods, np.round(periods), atol=1e-9)
    # Within half a period on each axis.
    assert np.all(np.abs(out) <= size / 2 + 1e-9)
    # No other image is shorter.
    best = np.full(len(delta), np.inf)
    for sx, sy in itertools.product(range(-16, 17), repeat=2):
        best = np.minimum(best, np.linalg.norm(delta + np.array([sx, sy]) * size, axis=-1))
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), best, atol=1e-9)


def test_min_image_crosses_the_seam() -> None:
    # Two points 0.2 apart across the x seam of a width-3 torus.
    delta = np.array([[-1.4 - 1.4, 0.0]])  # from x=1.4 to x=-1.4
    np.testing.assert_allclose(min_image(delta, TORUS), [[0.2, 0.0]], atol=1e-12)


@pytest.mark.parametrize("arena", [WALLS, OPEN])
def test_min_image_and_wrap_are_identity_without_torus(arena) -> None:
    x = np.random.default_rng(0).normal(scale=5.0, size=(2, 4, 2))
    np.testing.assert_array_equal(min_image(x, arena), x)
    np.testing.assert_array_equal(wrap(x, arena), x)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (2, 3, 2), elements=finite))
def test_wrap_lands_in_half_open_box_on_same_point(pos) -> None:
    out = wrap(pos, TORUS)
    half = TORUS.half
    assert np.all(out >= -half) and np.all(out < half)
    periods = (out - pos) / TORUS.size
    np.testing.assert_allclose(periods, np.round(periods), atol=1e-9)
    np.testing.assert_allclose(wrap(out, TORUS), out, atol=1e-12)


def test_wrap_just_below_the_lower_edge_stays_half_open() -> None:
    """One ulp below ``-half`` wraps to (just below) ``+half``, never onto ``+half`` itself:
    the documented range is ``[-half, half)``."""
    pos = np.array([[[np.nextafter(-1.5, -2.0), np.nextafter(-0.75, -1.0)]]])
    out = wrap(pos, TORUS)
    assert np.all(out >= -TORUS.half) and np.all(out < TORUS.half), out


def test_wrap_examples() -> None:
    pos = np.array([[[1.6, 0.0], [-1.6, 0.8], [1.5, -0.75], [0.1, 0.2]]])
    expect = np.array([[[-1.4, 0.0], [1.4, -0.7], [-1.5, -0.75], [0.1, 0.2]]])
    np.testing.assert_allclose(wrap(pos, TORUS), expect, atol=1e-12)


def test_apply_walls_keeps_bodies_inside_and_kills_outward_velocity() -> None:
    rng = np.random.default_rng(1)
    E, N, r = 3, 50, 0.1
    pos = rng.uniform(-3.0, 3.0, size=(E, N, 2))
    vel = rng.normal(size=(E, N, 2))
    pos0, vel0 = pos.copy(), vel.copy()
    limit = WALLS.half - r
    out_pos, out_vel = apply_walls(pos, vel, r, WALLS)
    assert np.all(np.abs(out_pos) <= limit + 1e-12)
    over = pos0 > limit
    under = pos0 < -limit
    inside = ~(over | under)
    # Positions inside are untouched, outside ones are put on the wall.
    np.testing.assert_array_equal(out_pos[inside], pos0[inside])
    np.testing.assert_array_equal(out_pos[over], np.broadcast_to(limit, pos0.shape)[over])
    np.testing.assert_array_equal(out_pos[under], -np.broadcast_to(limit, pos0.shape)[under])
    # Outward velocity components of clamped bodies vanish; all others are kept.
    assert np.all(out_vel[over] <= 0.0)
    assert np.all(out_vel[under] >= 0.0)
    killed = (over & (vel0 > 0)) | (under & (vel0 < 0))
    assert killed.any()
    np.testing.assert_array_equal(out_vel[killed], 0.0)
    np.testing.assert_array_equal(out_vel[~killed], vel0[~killed])


def test_apply_walls_per_body_radius() -> None:
    pos = np.array([[[5.0, 5.0], [5.0, 5.0]]])
    vel = np.zeros_like(pos)
    radius = np.array([0.1, 0.5])
    out, _ = apply_walls(pos, vel, radius, WALLS)
    np.testing.assert_allclose(out[0, 0], WALLS.half - 0.1)
    np.testing.assert_allclose(out[0, 1], WALLS.half - 0.5)


def test_apply_walls_wraps_on_torus_and_ignores_open_plane() -> None:
    pos = np.array([[[1.6, 0.9], [0.0, 0.0]]])
    vel = np.array([[[1.0, 1.0], [2.0, -2.0]]])
    p, v = apply_walls(pos.copy(), vel.copy(), 0.1, TORUS)
    np.testing.assert_allclose(p, wrap(pos, TORUS))
    np.testing.assert_array_equal(v, vel)
    p, v = apply_walls(pos.copy(), vel.copy(), 0.1, OPEN)
    np.testing.assert_array_equal(p, pos)
    np.testing.assert_array_equal(v, vel)
