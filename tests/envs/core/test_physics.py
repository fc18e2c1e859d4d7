"""Unit tests of the point-mass physics: contacts, obstacles, integration, the large-N path."""

from __future__ import annotations

import numpy as np
import pytest

from swarmzoo.envs.core import physics
from swarmzoo.envs.core.arena import Arena, min_image
from swarmzoo.envs.core.physics import (
    PointMassParams,
    integrate,
    obstacle_contacts,
    robot_contacts,
    total_force,
)

OPEN = Arena(width=2.0, height=2.0, boundary="none")
WALLS = Arena(width=2.0, height=2.0, boundary="walls")
TORUS = Arena(width=2.0, height=2.0, boundary="torus")
P = PointMassParams()


def _summed(forces, pos: np.ndarray) -> np.ndarray:
    """Net contact force per robot ``(E, N, 2)``, whatever layout ``robot_contacts`` returned
    (its public contract is that :func:`total_force` can add it)."""
    return total_force(np.zeros(pos.shape), forces)


def _reference_contacts(pos, radius, params, arena):
    """Brute-force net contact forces and overlap counts, one pair at a time."""
    E, N = pos.shape[:2]
    forces = np.zeros((E, N, 2))
    overlaps = np.zeros((E, N), dtype=int)
    for e in range(E):
        for i in range(N):
            for j in range(N):
                if i == j:
                    continue
                d = min_image(pos[e, j] - pos[e, i], arena)
                dist = np.linalg.norm(d)
                pen = np.logaddexp(0.0, -(dist - 2 * radius) / params.contact_margin)
                pen *= params.contact_margin
                if dist > 0:
                    forces[e, i] -= params.contact_force * pen * d / dist
                overlaps[e, i] += dist < 2 * radius
    return forces, overlaps


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dt", 0.0),
        ("damping", 1.0),
        ("damping", -0.1),
        ("mass", 0.0),
        ("max_speed", 0.0),
        ("contact_force", -1.0),
        ("contact_margin", 0.0),
    ],
)
def test_params_reject_invalid_values_naming_the_field(field, value) -> None:
    with pytest.raises(ValueError, match=rf"PointMassParams\.{field}"):
        PointMassParams(**{field: value})


def test_pair_contact_is_equal_opposite_and_along_the_line_of_centres() -> None:
    pos = np.array([[[0.0, 0.0], [0.12, 0.09]]])  # 0.15 apart, radius 0.1: overlapping
    forces, overlaps = robot_contacts(pos, 0.1, P, OPEN)
    net = _summed(forces, pos)
    np.testing.assert_allclose(net[0, 0], -net[0, 1], rtol=1e-12)
    direction = (pos[0, 1] - pos[0, 0]) / 0.15
    # Robot 0 is pushed away from robot 1.
    np.testing.assert_allclose(net[0, 0] / np.linalg.norm(net[0, 0]), -direction, atol=1e-12)
    pen = P.contact_margin * np.logaddexp(0.0, (0.2 - 0.15) / P.contact_margin)
    np.testing.assert_allclose(np.linalg.norm(net[0, 0]), P.contact_force * pen, rtol=1e-12)
    np.testing.assert_array_equal(overlaps, [[1, 1]])


@pytest.mark.parametrize("arena", [OPEN, TORUS], ids=["open", "torus"])
def test_contacts_conserve_momentum_and_match_brute_force(arena) -> None:
    rng = np.random.default_rng(0)
    pos = rng.uniform(-0.6, 0.6, size=(2, 25, 2))
    if arena.periodic:
        pos = rng.uniform(-1.0, 1.0, size=(2, 25, 2))
    forces, overlaps = robot_contacts(pos, 0.1, P, arena)
    net = _summed(forces, pos)
    assert overlaps.sum() > 0
    np.testing.assert_allclose(net.sum(axis=1), 0.0, atol=1e-9)
    ref_f, ref_o = _reference_contacts(pos, 0.1, P, arena)
    np.testing.assert_allclose(net, ref_f, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(overlaps, ref_o)


def test_contact_is_zero_far_apart() -> None:
    pos = np.array([[[-0.8, -0.8], [0.8, 0.8], [0.8, -0.8]]])
    forces, overlaps = robot_contacts(pos, 0.1, P, OPEN)
    np.testing.assert_allclose(_summed(forces, pos), 0.0, atol=1e-300)
    np.testing.assert_array_equal(overlaps, 0)


def test_contact_acts_across_the_torus_seam() -> None:
    pos = np.array([[[-0.95, 0.0], [0.95, 0.0]]])  # 0.1 apart through the seam
    net = _summed(robot_contacts(pos, 0.1, P, TORUS)[0], pos)
    assert net[0, 0, 0] > 1.0 and net[0, 1, 0] < -1.0  # pushed apart, i.e. inward
    net_open = _summed(robot_contacts(pos, 0.1, P, OPEN)[0], pos)
    np.testing.assert_allclose(net_open, 0.0, atol=1e-300)


@pytest.mark.parametrize("arena", [WALLS, TORUS], ids=["walls", "torus"])
def test_sparse_large_n_path_agrees_with_dense(arena, monkeypatch) -> None:
    """N > DENSE_MAX takes the cKDTree path; it must give the dense path's summed forces."""
    n = physics.DENSE_MAX + 172
    rng = np.random.default_rng(1)
    pos = rng.uniform(-1.0, 1.0, size=(2, n, 2))
    sparse_f, sparse_o = robot_contacts(pos, 0.06, P, arena)
    sparse = _summed(sparse_f, pos)
    monkeypatch.setattr(physics, "DENSE_MAX", 10**9)  # force the dense path at this N
    dense_f, dense_o = robot_contacts(pos, 0.06, P, arena)
    dense = _summed(dense_f, pos)
    assert sparse_o.sum() > 10, "the test should exercise contacts"
    assert np.abs(sparse).max() > 1.0
    np.testing.assert_allclose(sparse, dense, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(sparse_o, dense_o)
    np.testing.assert_allclose(sparse.sum(axis=1), 0.0, atol=1e-8)


def test_sparse_path_matches_brute_force() -> None:
    n = physics.DENSE_MAX + 22
    pos = np.random.default_rng(5).uniform(-1.0, 1.0, size=(1, n, 2))
    forces, overlaps = robot_contacts(pos, 0.08, P, TORUS)
    ref_f, ref_o = _reference_contacts(pos, 0.08, P, TORUS)
    np.testing.assert_allclose(_summed(forces, pos), ref_f, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(overlaps, ref_o)


def test_total_force_adds_contributions() -> None:
    rng = np.random.default_rng(2)
    action = rng.normal(size=(2, 4, 2))
    a, b = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 2))
    np.testing.assert_allclose(total_force(action, a, b), action + a + b, rtol=1e-12)
    np.testing.assert_array_equal(total_force(action), action)
    pos = rng.uniform(-0.3, 0.3, size=(2, 4, 2))
    pair, _ = robot_contacts(pos, 0.1, P, OPEN)
    ref, _ = _reference_contacts(pos, 0.1, P, OPEN)
    np.testing.assert_allclose(total_force(action, pair, a), action + ref + a, rtol=1e-9, atol=1e-9)


def test_obstacle_pushes_robot_out_of_its_centre() -> None:
    pos = np.array([[[0.1, 0.05], [1.5, 1.5]]])
    obstacles = np.array([[[0.0, 0.0]]])
    radii = np.array([[0.3]])
    forces, overlaps = obstacle_contacts(pos, 0.1, obstacles, radii, P, OPEN)
    away = pos[0, 0] / np.linalg.norm(pos[0, 0])
    np.testing.assert_allclose(forces[0, 0] / np.linalg.norm(forces[0, 0]), away, atol=1e-12)
    dist = np.linalg.norm(pos[0, 0])
    pen = P.contact_margin * np.logaddexp(0.0, (0.4 - dist) / P.contact_margin)
    np.testing.assert_allclose(np.linalg.norm(forces[0, 0]), P.contact_force * pen, rtol=1e-12)
    np.testing.assert_allclose(forces[0, 1], 0.0, atol=1e-300)
    np.testing.assert_array_equal(overlaps, [[1, 0]])


def test_no_obstacles_no_force() -> None:
    pos = np.zeros((3, 4, 2))
    forces, overlaps = obstacle_contacts(pos, 0.1, np.zeros((3, 0, 2)), np.zeros((3, 0)), P, OPEN)
    assert forces.shape == (3, 4, 2) and overlaps.shape == (3, 4)
    assert not forces.any() and not overlaps.any()


def test_integrate_matches_hand_computation_and_leaves_inputs_alone() -> None:
    params = PointMassParams(dt=0.05, damping=0.2, mass=2.0)
    pos = np.array([[[0.1, -0.2], [0.0, 0.3]]])
    vel = np.array([[[1.0, 0.5], [-0.4, 0.0]]])
    force = np.array([[[2.0, -4.0], [0.0, 1.0]]])
    pos0, vel0, force0 = pos.copy(), vel.copy(), force.copy()
    new_pos, new_vel = integrate(pos, vel, force, params, OPEN, 0.1)
    np.testing.assert_allclose(new_pos, pos0 + vel0 * 0.05, rtol=1e-15)
    np.testing.assert_allclose(new_vel, vel0 * 0.8 + force0 / 2.0 * 0.05, rtol=1e-15)
    np.testing.assert_array_equal(pos, pos0)
    np.testing.assert_array_equal(vel, vel0)
    np.testing.assert_array_equal(force, force0)


def test_integrate_caps_speed_keeping_direction() -> None:
    params = PointMassParams(max_speed=0.5)
    rng = np.random.default_rng(3)
    vel = rng.normal(size=(2, 10, 2))
    force = rng.normal(scale=50.0, size=(2, 10, 2))
    _, new_vel = integrate(np.zeros((2, 10, 2)), vel, force, params, OPEN, 0.1)
    uncapped = vel * (1 - params.damping) + force * params.dt
    speed = np.linalg.norm(new_vel, axis=-1)
    assert np.all(speed <= 0.5 + 1e-12)
    fast = np.linalg.norm(uncapped, axis=-1) > 0.5
    assert fast.any() and (~fast).any()
    np.testing.assert_allclose(speed[fast], 0.5, rtol=1e-12)
    unit = uncapped / np.linalg.norm(uncapped, axis=-1, keepdims=True)
    np.testing.assert_allclose(new_vel[fast], 0.5 * unit[fast], rtol=1e-12)
    np.testing.assert_allclose(new_vel[~fast], uncapped[~fast], rtol=1e-12)


def test_integrate_applies_walls() -> None:
    pos = np.array([[[0.85, 0.0]]])
    vel = np.array([[[2.0, 0.3]]])
    new_pos, new_vel = integrate(pos, vel, np.zeros_like(pos), P, WALLS, 0.1)
    np.testing.assert_allclose(new_pos, [[[0.9, 0.03]]], rtol=1e-12)
    assert new_vel[0, 0, 0] == 0.0 and new_vel[0, 0, 1] > 0.0
