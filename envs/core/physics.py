"""Holonomic point-mass dynamics with soft contacts, batched over env copies and robots.

The contact model and integration order are MPE's (so the ``mpe_spread`` preset matches it to
float precision): a contact between bodies whose surfaces are ``gap`` apart pushes them apart with
``contact_force * margin * softplus(-gap / margin)`` along the line of centres; each step
``pos += vel * dt``, then ``vel *= 1 - damping``, ``vel += force / mass * dt`` and the speed is
capped at ``max_speed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from swarmzoo.envs.core.arena import Arena, apply_walls, min_image
from swarmzoo.envs.core.neighbors import DENSE_MAX, pairwise_delta, radius_pairs

# Beyond this many margins of separation the softplus contact force is below 1e-17 of its scale:
# pairs farther apart are skipped by the sparse (large-N) path.
CONTACT_CUTOFF_MARGINS = 40.0


@dataclass(frozen=True)
class PointMassParams:
    """Integration and contact parameters (MPE's defaults).

    Attributes:
        dt: time step (s), > 0.
        damping: fraction of velocity lost per step, in [0, 1).
        mass: robot mass, > 0.
        max_speed: speed cap, or None for no cap.
        contact_force: stiffness of the soft contact, >= 0.
        contact_margin: softness length of the contact, > 0.
    """

    dt: float = 0.1
    damping: float = 0.25
    mass: float = 1.0
    max_speed: float | None = None
    contact_force: float = 100.0
    contact_margin: float = 1e-3

    def __post_init__(self) -> None:
        checks = {
            "dt": self.dt > 0,
            "damping": 0 <= self.damping < 1,
            "mass": self.mass > 0,
            "max_speed": self.max_speed is None or self.max_speed > 0,
            "contact_force": self.contact_force >= 0,
            "contact_margin": self.contact_margin > 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"PointMassParams.{name} is invalid: {getattr(self, name)!r}")


def _softplus_penetration(dist: np.ndarray, dist_min: np.ndarray | float, margin: float) -> np.ndarray:
    return np.logaddexp(0.0, -(dist - dist_min) / margin) * margin


def robot_contacts(
    pos: np.ndarray, radius: float, params: PointMassParams, arena: Arena
) -> tuple[np.ndarray, np.ndarray]:
    """Contact forces between robots and how many robots each one overlaps.

    Args:
        pos: ``(E, N, 2)`` positions.
        radius: robot radius (all robots alike).

    Returns:
        ``forces`` and ``overlaps (E, N)`` (number of other robots closer than ``2 * radius``,
        centre to centre). For N <= ``DENSE_MAX`` ``forces`` is ``(E, N, N, 2)``, the force of
        each robot ``j`` on robot ``i``, so :func:`total_force` can add them in MPE's order; for
        larger N it is the summed ``(E, N, 2)``.
    """
    E, N = pos.shape[:2]
    dist_min = 2.0 * radius
    if N <= DENSE_MAX:
        delta = pairwise_delta(pos, pos, arena)  # (E, N, N, 2): pos[j] - pos[i]
        dist = np.sqrt(np.square(delta).sum(axis=-1))
        eye = np.eye(N, dtype=bool)
        pen = _softplus_penetration(dist, dist_min, params.contact_margin)
        with np.errstate(invalid="ignore", divide="ignore"):
            # MPE's evaluation order, ((C * d) / |d|) * pen, so the preset matches it bit for bit.
            pair_force = np.where(
                (dist > 0)[..., None], (params.contact_force * -delta) / dist[..., None] * pen[..., None], 0.0
            )
        pair_force[:, eye] = 0.0
        overlaps = ((dist < dist_min) & ~eye).sum(axis=2)
        return pair_force, overlaps
    cutoff = dist_min + CONTACT_CUTOFF_MARGINS * params.contact_margin
    env, i, j = radius_pairs(pos, cutoff, arena, method="tree")
    delta = min_image(pos[env, j] - pos[env, i], arena)
    dist = np.sqrt(np.einsum("pd,pd->p", delta, delta))
    pen = _softplus_penetration(dist, dist_min, params.contact_margin)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(dist > 0, params.contact_force * pen / dist, 0.0)[:, None] * delta
    flat_i = env * N + i
    flat_j = env * N + j
    forces = np.zeros((E * N, 2))
    for d in range(2):
        forces[:, d] = np.bincount(flat_j, f[:, d], E * N) - np.bincount(flat_i, f[:, d], E * N)
    hit = dist < dist_min
    overlaps = np.bincount(flat_i[hit], minlength=E * N) + np.bincount(flat_j[hit], minlength=E * N)
    return forces.reshape(E, N, 2), overlaps.reshape(E, N)


def obstacle_contacts(
    pos: np.ndarray,
    radius: float,
    obstacle_pos: np.ndarray,
    obstacle_radius: np.ndarray,
    params: PointMassParams,
    arena: Arena,
) -> tuple[np.ndarray, np.ndarray]:
    """Contact forces from immovable circular obstacles on robots.

    Args:
        pos: ``(E, N, 2)`` robot positions.
        obstacle_pos: ``(E, O, 2)`` obstacle centres.
        obstacle_radius: ``(E, O)`` obstacle radii.

    Returns:
        ``forces (E, N, 2)`` on the robots and ``overlaps (E, N)`` obstacles each robot touches.
    """
    E, N = pos.shape[:2]
    if obstacle_pos.shape[1] == 0:
        return np.zeros((E, N, 2)), np.zeros((E, N), dtype=np.int64)
    delta = pairwise_delta(pos, obstacle_pos, arena)  # obstacle - robot, (E, N, O, 2)
    dist = np.sqrt(np.einsum("eiod,eiod->eio", delta, delta))
    dist_min = radius + obstacle_radius[:, None, :]
    pen = _softplus_penetration(dist, dist_min, params.contact_margin)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(dist > 0, params.contact_force * pen / dist, 0.0)
    forces = -np.einsum("eio,eiod->eid", scale, delta)
    return forces, (dist < dist_min).sum(axis=2)


def total_force(action_force: np.ndarray, *contact_forces: np.ndarray) -> np.ndarray:
    """Add contact forces to the action forces ``(E, N, 2)``.

    Pairwise ``(E, N, N, 2)`` contributions are accumulated sequentially in partner order (as
    MPE's pair loop does), so rollouts match MPE bit for bit even through long stiff contacts,
    where summation-order rounding would otherwise be amplified.
    """
    total = action_force
    for f in contact_forces:
        if f.ndim == 4:
            stacked = np.concatenate([total[:, :, None, :], f], axis=2)
            total = np.cumsum(stacked, axis=2)[:, :, -1, :]
        else:
            total = total + f
    return total


def integrate(
    pos: np.ndarray,
    vel: np.ndarray,
    force: np.ndarray,
    params: PointMassParams,
    arena: Arena,
    radius: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One semi-implicit step of damped point masses, then the arena's boundary.

    Args:
        pos, vel, force: ``(E, N, 2)``.

    Returns:
        New ``(pos, vel)`` (fresh arrays; the inputs are not modified).
    """
    pos = pos + vel * params.dt
    vel = vel * (1.0 - params.damping) + (force / params.mass) * params.dt
    if params.max_speed is not None:
        speed = np.sqrt(np.einsum("end,end->en", vel, vel))
        too_fast = speed > params.max_speed
        if too_fast.any():
            vel[too_fast] *= (params.max_speed / speed[too_fast])[:, None]
    return apply_walls(pos, vel, radius, arena)
