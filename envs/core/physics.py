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

from swarmzoo.envs.core.arena import Arena, apply_walls, min_image, wrap
from swarmzoo.envs.core.neighbors import (
    DENSE_MAX,
    PairTable,
    env_last,
    min_image_t,
    pair_table,
    pairwise_delta,
    radius_pairs,
    squared_norm,
)
from swarmzoo.envs.core.scratch import Scratch, empty, scratch_out

# Unit direction of each discrete action of the 2-D motion tasks: no-op, -x, +x, -y, +y
# (MPE's order). Navigation scales it to a force, coverage to an acceleration, aggregation to a
# velocity.
DISCRETE_DIRECTIONS = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.float64)

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
        max_speed: speed cap, one for every robot or a tuple of one per robot (heterogeneous
            robots), or None for no cap.
        contact_force: stiffness of the soft contact, >= 0.
        contact_margin: softness length of the contact, > 0.
    """

    dt: float = 0.1
    damping: float = 0.25
    mass: float = 1.0
    max_speed: float | tuple[float, ...] | None = None
    contact_force: float = 100.0
    contact_margin: float = 1e-3

    def __post_init__(self) -> None:
        checks = {
            "dt": self.dt > 0,
            "damping": 0 <= self.damping < 1,
            "mass": self.mass > 0,
            "max_speed": self.max_speed is None or bool(np.all(np.asarray(self.max_speed) > 0)),
            "contact_force": self.contact_force >= 0,
            "contact_margin": self.contact_margin > 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"PointMassParams.{name} is invalid: {getattr(self, name)!r}")


# logaddexp(0, x) is exactly 0.0 below this (exp(x) underflows to 0), so such pairs need no
# evaluation; worth the masking only from this many pairs on.
_SOFTPLUS_ZERO_BELOW = -800.0
_SOFTPLUS_MASK_MIN = 256


def _softplus_penetration(
    dist: np.ndarray, dist_min: np.ndarray | float, margin: float, out: np.ndarray | None = None
) -> np.ndarray:
    """``margin * logaddexp(0, -(dist - dist_min) / margin)``, MPE's soft penetration depth.

    ``dist_min - dist`` is ``-(dist - dist_min)`` up to the sign of a zero, which logaddexp
    ignores. For many pairs, logaddexp (the costliest op of a step) is evaluated only where its
    value is not exactly zero.
    """
    x = np.subtract(dist_min, dist)
    x /= margin
    if x.size < _SOFTPLUS_MASK_MIN:
        pen = np.logaddexp(0.0, x, out=out)
    else:
        pen = np.zeros_like(x) if out is None else out
        if out is not None:
            pen[...] = 0.0
        np.logaddexp(0.0, x, out=pen, where=x > _SOFTPLUS_ZERO_BELOW)
    pen *= margin
    return pen


@dataclass(slots=True)
class PairForces:
    """Dense contact forces: one force per unordered robot pair (``N <= DENSE_MAX``).

    Attributes:
        force: ``(2, P, E)`` force on robot ``pairs.first[p]`` from robot ``pairs.second[p]``
            (the reaction on the second is its negation), env axis last (see
            :func:`~swarmzoo.envs.core.neighbors.env_last`).
        pairs: the :class:`~swarmzoo.envs.core.neighbors.PairTable` of the ``N`` robots.
    """

    force: np.ndarray
    pairs: PairTable

    def added_to(self, base: np.ndarray, scratch: Scratch | None = None) -> np.ndarray:
        """``base (E, N, 2)`` plus each robot's contact forces, one partner at a time in
        ascending partner order, as MPE's pair loop adds them (so rollouts match MPE bit for bit
        even through long stiff contacts, where summation-order rounding would be amplified).
        The result is laid out env-last in memory, like the state.
        """
        pairs = self.pairs
        S, N = pairs.partner.shape
        E = self.force.shape[-1]
        terms = empty(scratch, "terms", (S + 1, 2, N, E))  # (slot, 2, N, E)
        terms[0] = base.T
        partner_force = self.force.take(
            pairs.partner_pair, axis=1, out=scratch_out(scratch, "partner_force", (2, S, N, E))
        )
        np.multiply(partner_force.transpose(1, 0, 2, 3), pairs.partner_sign[:, None, :, None], out=terms[1:])
        # The slot axis is the outermost of a C-contiguous array, so numpy adds whole slots in
        # order (pairwise summation only ever runs along the innermost axis).
        return np.add.reduce(terms, axis=0).T


def robot_contacts(
    pos: np.ndarray,
    radius: float,
    params: PointMassParams,
    arena: Arena,
    scratch: Scratch | None = None,
) -> tuple[PairForces | np.ndarray, np.ndarray]:
    """Contact forces between robots and how many robots each one overlaps.

    Args:
        pos: ``(E, N, 2)`` positions.
        radius: robot radius (all robots alike).
        scratch: work memory (dense path); the returned :class:`PairForces` lives in it, valid
            until the next call with the same scratch.

    Returns:
        ``forces`` and ``overlaps (E, N)`` (number of other robots closer than ``2 * radius``,
        centre to centre). For N <= ``DENSE_MAX`` ``forces`` is a :class:`PairForces`, so
        :func:`total_force` can add them in MPE's order; for larger N it is the summed
        ``(E, N, 2)``.
    """
    E, N = pos.shape[:2]
    dist_min = 2.0 * radius
    if N <= DENSE_MAX:
        pairs = pair_table(N)
        P = len(pairs.first)
        p = env_last(pos)  # (2, N, E)
        delta = p.take(pairs.first, axis=1, out=scratch_out(scratch, "delta", (2, P, E)))
        delta -= p.take(pairs.second, axis=1, out=scratch_out(scratch, "second", (2, P, E)))
        delta = min_image_t(delta, arena)  # (2, P, E): first - second
        dist = squared_norm(delta, scratch_out(scratch, "dist", (P, E)))
        np.sqrt(dist, out=dist)
        pen = _softplus_penetration(
            dist, dist_min, params.contact_margin, scratch_out(scratch, "pen", (P, E))
        )
        # MPE's evaluation order, ((C * d) / |d|) * pen, so the preset matches it bit for bit.
        force = np.multiply(params.contact_force, delta, out=scratch_out(scratch, "force", (2, P, E)))
        if np.logical_and.reduce(dist, axis=None):  # no coincident robots
            force /= dist
            force *= pen
        else:  # coincident robots push each other nowhere
            with np.errstate(invalid="ignore", divide="ignore"):
                force[...] = np.where(dist > 0, force / dist * pen, 0.0)
        hit = dist < dist_min
        overlaps = np.add.reduce(hit[pairs.partner_pair], axis=0)  # (N, E)
        return PairForces(force, pairs), overlaps.T
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
    # C order keeps einsum's summation over obstacles the same whatever the state's layout.
    pos, obstacle_pos = np.ascontiguousarray(pos), np.ascontiguousarray(obstacle_pos)
    obstacle_radius = np.ascontiguousarray(obstacle_radius)
    delta = pairwise_delta(pos, obstacle_pos, arena)  # obstacle - robot, (E, N, O, 2)
    dist = np.sqrt(np.einsum("eiod,eiod->eio", delta, delta))
    dist_min = radius + obstacle_radius[:, None, :]
    pen = _softplus_penetration(dist, dist_min, params.contact_margin)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(dist > 0, params.contact_force * pen / dist, 0.0)
    forces = -np.einsum("eio,eiod->eid", scale, delta)
    return forces, (dist < dist_min).sum(axis=2)


def total_force(
    action_force: np.ndarray, *contact_forces: PairForces | np.ndarray, scratch: Scratch | None = None
) -> np.ndarray:
    """Add contact forces (:class:`PairForces` or ``(E, N, 2)`` arrays) to the action forces
    ``(E, N, 2)``, in argument order; pair forces are added as :meth:`PairForces.added_to`
    describes (with ``scratch`` as its work memory)."""
    total = action_force
    for f in contact_forces:
        total = f.added_to(total, scratch) if isinstance(f, PairForces) else total + f
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
        pos: ``(E, N, 2)`` positions.
        vel: ``(E, N, 2)`` velocities.
        force: ``(E, N, 2)`` total forces (actions plus contacts).
        params: integration parameters.
        arena: the boundary to apply after the step.
        radius: robot body radius (walls stop the body, not its centre).

    Returns:
        New ``(pos, vel)`` (fresh arrays; the inputs are not modified).
    """
    pos = pos + vel * params.dt
    if params.mass != 1.0:  # x / 1.0 == x exactly: skip the division
        force = force / params.mass
    vel = vel * (1.0 - params.damping) + force * params.dt
    if params.max_speed is not None:
        speed = np.sqrt(np.einsum("end,end->en", vel, vel))
        cap = params.max_speed
        if not isinstance(cap, (int, float)):  # one cap per robot: (N,) against speeds (E, N)
            cap = np.broadcast_to(np.asarray(cap, dtype=np.float64), speed.shape)
        too_fast = speed > cap
        if too_fast.any():
            limit = cap if isinstance(cap, (int, float)) else cap[too_fast]
            vel[too_fast] *= (limit / speed[too_fast])[:, None]
    return apply_walls(pos, vel, radius, arena)


def block_obstacles(
    prev_pos: np.ndarray,
    pos: np.ndarray,
    vel: np.ndarray,
    radius: float,
    obstacle_pos: np.ndarray,
    obstacle_radius: np.ndarray,
    arena: Arena,
) -> np.ndarray:
    """Stop robots at the surface of immovable obstacles instead of letting them pass through.

    The soft contact alone cannot stop a fast robot: a full push moves it about as far per step
    as a small obstacle is wide. So each robot's step from ``prev_pos`` to ``pos`` is swept
    against every obstacle disk grown by the robot's radius:

    * a robot that starts outside and whose path enters a disk stops at the first point of
      contact;
    * a robot that starts inside one (the soft contact's give) keeps only the part of its step
      that does not go deeper, so it can still slide along the obstacle;

    and in both cases loses the velocity component pointing into the obstacle.

    Args:
        prev_pos: ``(E, N, 2)`` positions before the step.
        pos: ``(E, N, 2)`` positions after it (modified in place).
        vel: ``(E, N, 2)`` velocities (modified in place).
        obstacle_pos: ``(E, O, 2)`` centres; ``obstacle_radius``: ``(E, O)`` radii.

    Returns:
        ``(E, N)`` bool, True where a robot was blocked.
    """
    E, N = pos.shape[:2]
    blocked = np.zeros((E, N), dtype=bool)
    if obstacle_pos.shape[1] == 0:
        return blocked
    step = min_image(pos - prev_pos, arena)  # (E, N, 2)
    start = min_image(prev_pos[:, :, None, :] - obstacle_pos[:, None, :, :], arena)  # (E, N, O, 2)
    reach = radius + obstacle_radius[:, None, :]  # (E, 1, O)
    # |start + t step|^2 = reach^2  <=>  a t^2 + b t + c = 0
    a = np.einsum("end,end->en", step, step)[:, :, None]
    b = 2.0 * np.einsum("enod,end->eno", start, step)
    c = np.einsum("enod,enod->eno", start, start) - reach**2
    disc = b * b - 4.0 * a * c
    inward = b < 0  # the step heads toward the obstacle's centre
    with np.errstate(invalid="ignore", divide="ignore"):
        t_hit = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a)
    enters = inward & (c > 0) & (disc >= 0) & (t_hit <= 1.0)
    inside = inward & (c <= 0)
    hit = enters | inside
    if not hit.any():
        return blocked
    # The obstacle met first along the step (those already overlapped count as t = 0).
    t = np.where(inside, 0.0, np.where(enters, t_hit, np.inf))
    first = t.argmin(axis=2)  # (E, N)
    e, n = np.nonzero(hit.any(axis=2))
    o = first[e, n]
    centre = obstacle_pos[e, o]
    s = step[e, n]
    new_pos = prev_pos[e, n] + np.clip(t[e, n, o], 0.0, 1.0)[:, None] * s
    normal = min_image(new_pos - centre, arena)
    normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-12)
    started_inside = inside[e, n, o]
    if started_inside.any():
        # Keep the tangential part of the step: slide along the obstacle, no deeper.
        s_in = s[started_inside]
        nrm = normal[started_inside]
        new_pos[started_inside] += s_in - np.minimum(np.einsum("kd,kd->k", s_in, nrm), 0.0)[:, None] * nrm
    pos[e, n] = wrap(new_pos, arena)
    v = vel[e, n]
    v_in = np.minimum(np.einsum("kd,kd->k", v, normal), 0.0)
    vel[e, n] = v - v_in[:, None] * normal
    blocked[e, n] = True
    return blocked
