"""LQ tracking on ``coverage-v0``'s dynamics: the low-level controller of the coverage baselines.

A finite-horizon LQ tracking problem on the env's own discrete double integrator (one axis,
:func:`double_integrator`) gives a first input linear in the state and the target,
``u = Kx x + Kg xg`` (:func:`lq_tracking_gains`, a backward Riccati recursion, precomputed once).
:class:`LQTracker` applies it to every robot toward its target, and :func:`feasible_action`
limits a command to what the robots can follow (the speed cap, the action box, the closest
discrete action). :class:`~swarmzoo.agents.d2oc.D2OC` (stage A.2 of its step),
:class:`~swarmzoo.agents.coverage.LloydVoronoi` and
:class:`~swarmzoo.agents.ergodic.SpectralMultiscaleCoverage` drive their robots with these.
"""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.core.physics import DISCRETE_DIRECTIONS
from swarmzoo.envs.coverage import Coverage


def double_integrator(dt: float, max_accel: float) -> tuple[np.ndarray, np.ndarray]:
    """One axis of ``coverage-v0``'s semi-implicit update as ``x' = A x + B u``, ``x = [p, v]``:
    ``v' = v + dt max_accel u``, ``p' = p + dt v'`` (``u`` the action in ``[-1, 1]``).

    Returns:
        ``A (2, 2)`` and ``B (2, 1)``.
    """
    A = np.array([[1.0, dt], [0.0, 1.0]])
    B = max_accel * np.array([[dt * dt], [dt]])
    return A, B


def lq_tracking_gains(
    A: np.ndarray, B: np.ndarray, C: np.ndarray, Q: np.ndarray, R: np.ndarray, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """First-step gains of the finite-horizon LQ tracking problem, by backward Riccati recursion.

    The problem (the MATLAB code's KKT system divided by ``alpha``), with ``xg`` held over the
    horizon and no terminal weight::

        min  sum_{k=1..H} |C x_k - xg|^2 + x_k' Q x_k  +  sum_{k=0..H-1} u_k' R u_k
        s.t. x_{k+1} = A x_k + B u_k

    Its optimal first input is linear, ``u_0 = Kx x_0 + Kg xg``.

    Args:
        A: ``(n, n)`` dynamics.
        B: ``(n, m)`` input matrix.
        C: ``(p, n)`` tracked output.
        Q: ``(n, n)`` state weight (positive semi-definite).
        R: ``(m, m)`` input weight (positive definite).
        horizon: H >= 1.

    Returns:
        ``Kx (m, n)`` and ``Kg (m, p)``.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    Qt = C.T @ C + Q
    P, Pg = Qt, -C.T  # cost-to-go x' P x + 2 x' Pg xg (+ const) at k = H
    for k in range(horizon - 1, -1, -1):
        S = R + B.T @ P @ B
        Kx = np.linalg.solve(S, B.T @ P @ A)
        Kg = np.linalg.solve(S, B.T @ Pg)
        if k == 0:
            break
        closed = A - B @ Kx
        P = Qt + A.T @ P @ closed
        Pg = -C.T + closed.T @ Pg
    return -Kx, -Kg


def check_lq_weights(horizon: int, q_v: float, r: float) -> None:
    """Raise ``ValueError`` naming the LQ weight that is out of range."""
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    if not np.isfinite(q_v) or q_v < 0:
        raise ValueError(f"q_v must be a finite number >= 0, got {q_v!r}")
    if not np.isfinite(r) or not r > 0:
        raise ValueError(f"r must be a positive finite number, got {r!r}")


class LQTracker:
    """Track per-robot targets with the LQ gains of ``coverage-v0``'s dynamics (both axes alike).

    The command ``u = Kx [p, v] + Kg xg`` (a PD law toward ``xg``: ``Kg = -Kx[0]``) is then limited
    so the next velocity stays within ``max_speed`` (the MATLAB code clips the speed after the
    step; the env would cap it too, but in the direction of the overshooting velocity, so the
    controller asks for the capped velocity itself), and clipped to the action box. Discrete
    action spaces get the closest discrete action.

    Args:
        task: the coverage task (its config gives ``dt``, ``max_accel``, ``max_speed``).
        horizon: LQ horizon H in steps.
        q_v: weight of the squared speed per step, relative to the squared tracking error.
        r: weight of the squared action per step (action units), relative to the squared
            tracking error (world units).
    """

    def __init__(self, task: Coverage, horizon: int, q_v: float, r: float) -> None:
        check_lq_weights(horizon, q_v, r)
        cfg = task.config
        A, B = double_integrator(cfg.dt, cfg.max_accel)
        Kx, Kg = lq_tracking_gains(
            A, B, np.array([[1.0, 0.0]]), np.diag([0.0, q_v]), np.array([[r]]), horizon
        )
        self.kp, self.kv, self.kg = float(Kx[0, 0]), float(Kx[0, 1]), float(Kg[0, 0])
        self.step_gain = cfg.dt * cfg.max_accel
        self.max_speed = cfg.max_speed
        self.continuous = cfg.continuous_actions

    def act(self, pos: np.ndarray, vel: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Actions ``(E, N, 2)`` float32 or ``(E, N)`` int toward ``target (E, N, 2)``."""
        u = self.kp * pos + self.kv * vel + self.kg * target
        return feasible_action(u, vel, self.step_gain, self.max_speed, self.continuous)


def feasible_action(
    u: np.ndarray, vel: np.ndarray, step_gain: float, max_speed: float, continuous: bool
) -> np.ndarray:
    """The action closest to the command ``u (E, N, 2)`` that the robots can follow.

    The next velocity ``vel + step_gain u`` is first limited to ``max_speed`` (the env would cap
    it too, but in the direction of the overshooting velocity, so the controller asks for the
    capped velocity itself), ``u`` is clipped to the action box, and if the box clip pushed the
    next velocity out of the ball again, ``u`` is shortened to the ball's edge along its own
    direction (``u = 0`` keeps the current, capped, velocity). Discrete action spaces get the
    closest of ``DISCRETE_DIRECTIONS``.

    Returns:
        ``(E, N, 2)`` float32 if ``continuous``, else ``(E, N)`` int.
    """
    v_next = vel + step_gain * u
    speed = np.linalg.norm(v_next, axis=-1, keepdims=True)
    v_next = np.where(speed > max_speed, v_next * (max_speed / np.maximum(speed, 1e-12)), v_next)
    u = np.clip((v_next - vel) / step_gain, -1.0, 1.0)
    dv = step_gain * u
    a, b = np.einsum("end,end->en", dv, dv), np.einsum("end,end->en", vel, dv)
    c = np.einsum("end,end->en", vel, vel) - max_speed**2
    over = a + 2 * b + c > 0
    root = (-b + np.sqrt(np.maximum(b * b - a * c, 0.0))) / np.where(over, a, 1.0)
    u = u * np.where(over, np.clip(root, 0.0, 1.0), 1.0)[..., None]
    if continuous:
        return u.astype(np.float32)
    gap = u[..., None, :] - DISCRETE_DIRECTIONS  # (E, N, 5, 2)
    return np.einsum("enad,enad->ena", gap, gap).argmin(axis=-1)
