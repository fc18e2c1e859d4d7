"""Spectral Multiscale Coverage (SMC) for ``coverage-v0``: the ergodic-coverage baseline of D2OC.

Mathew & Mezić, "Metrics for ergodicity and design of ergodic dynamics for multi-agent systems"
(Physica D 240, 2011; first as "Spectral multiscale coverage", CDC 2009). D2OC's paper compares
with it; this is the comparison on our envs (``benchmarks/coverage_baselines.py``).

What follows the published method (its abstract and the many public re-implementations of the
first-order law):

- The ergodic metric ``Phi(t) = sum_k Lambda_k |c_k(t) - mu_k|^2`` over the cosine (Neumann)
  basis ``f_k(x) = prod_i cos(k_i pi x_i / L_i) / h_k`` of the rectangular arena,
  ``k in {0, .., K - 1}^2``, normalised so that ``||f_k||_2 = 1``, with the Sobolev weights
  ``Lambda_k = (1 + |k|^2)^(-3/2)`` (``s = (d + 1) / 2`` for ``d = 2``), which weigh large
  scales first: the multiscale part.
- ``mu_k`` are the coefficients of the reference density, ``c_k(t)`` those of the whole team's
  time-averaged trajectory distribution; the feedback works on the un-normalised
  ``S_k(t) = sum_j int_0^t f_k(x_j(tau)) dtau - N t mu_k``.
- Each robot descends the metric's rate of change greedily: its direction is
  ``-B_j / |B_j|`` with ``B_j = sum_k Lambda_k S_k(t) grad f_k(x_j(t))``, at full speed (the
  first-order law ``u_j = -u_max B_j / |B_j|``).

Our choices: the integrals are sums over env steps (``dt``); ``coverage-v0``'s robots are double
integrators, so the first-order law gives a desired velocity (``max_speed`` along ``-B_j``) and
the robot takes the acceleration that reaches it in one step, within the action box and the
speed cap (:func:`~swarmzoo.agents.lq_tracking.feasible_action`, which also picks the closest discrete
action). The paper's own second-order law (damped, force-saturated) is not used: its exact form
could not be retrieved. ``mu_k`` is computed on the env's density grid (cell centres and
weights). ``S_k`` is one shared sum per env copy: SMC as published is centralised (every robot
needs every robot's trajectory coefficients, e.g. by all-to-all communication of ``K^2``
numbers per step); that is what this baseline models.
"""

from __future__ import annotations

import numpy as np

from swarmzoo.agents.lq_tracking import feasible_action
from swarmzoo.envs.coverage import Coverage


class SpectralMultiscaleCoverage:
    """SMC (see the module docstring), batched over env copies and robots.

    Args:
        n_modes: K, wave numbers per axis (``K^2`` basis functions). The default 10 resolves
            features of about a tenth of the arena, finer than the 16 x 16 W2 grid's cells need.
    """

    def __init__(self, n_modes: int = 10) -> None:
        if isinstance(n_modes, bool) or not isinstance(n_modes, (int, np.integer)) or n_modes < 1:
            raise ValueError(f"n_modes must be an integer >= 1, got {n_modes!r}")
        self.n_modes = int(n_modes)
        self._task: Coverage | None = None
        self._last_steps: np.ndarray | None = None

    # -- the basis ---------------------------------------------------------------------------

    def basis(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``f_k`` and ``grad f_k`` at ``pos (..., 2)`` (world coordinates of the task's arena):
        ``(..., K^2)`` and ``(..., K^2, 2)``; ``k = (k_x, k_y)`` flattened row-major."""
        x = pos + self._half  # arena -> [0, L]
        phase = x[..., :, None] * self._omega  # (..., 2, K)
        cos, sin = np.cos(phase), np.sin(phase)
        cx, cy = cos[..., 0, :], cos[..., 1, :]
        dx, dy = -self._omega[0] * sin[..., 0, :], -self._omega[1] * sin[..., 1, :]
        f = (cx[..., :, None] * cy[..., None, :]).reshape(*pos.shape[:-1], -1) / self._h
        grad = (
            np.stack(
                [
                    (dx[..., :, None] * cy[..., None, :]).reshape(*pos.shape[:-1], -1),
                    (cx[..., :, None] * dy[..., None, :]).reshape(*pos.shape[:-1], -1),
                ],
                axis=-1,
            )
            / self._h[:, None]
        )
        return f, grad

    def _setup(self, task: Coverage) -> None:
        self._task = task
        K = self.n_modes
        size = np.array([task.arena.width, task.arena.height])
        self._half = size / 2
        self._omega = np.arange(K)[None, :] * np.pi / size[:, None]  # (2, K)
        kx, ky = np.meshgrid(np.arange(K), np.arange(K), indexing="ij")
        kx, ky = kx.ravel(), ky.ravel()
        # ||prod cos(k_i pi x_i / L_i)||^2 = prod (L_i if k_i = 0 else L_i / 2)
        self._h = np.sqrt(np.where(kx == 0, size[0], size[0] / 2) * np.where(ky == 0, size[1], size[1] / 2))
        self.weights = (1.0 + kx**2 + ky**2) ** -1.5  # Lambda_k
        f, _ = self.basis(task.grid.centres)  # (M, K^2)
        self.mu = task.density.ravel() @ f  # (K^2,)
        self.S = np.zeros((task.n_envs, K * K))
        self._last_steps = np.full(task.n_envs, -1)
        cfg = task.config
        self.dt, self.max_speed = cfg.dt, cfg.max_speed
        self.step_gain = cfg.dt * cfg.max_accel

    def metric(self, task: Coverage) -> np.ndarray:
        """The ergodic metric ``Phi = sum_k Lambda_k (c_k - mu_k)^2`` of each copy ``(E,)`` at the
        last :meth:`act` (``c_k = mu_k + S_k / (N t)``)."""
        if self._task is not task:
            raise ValueError("metric() needs the task this policy last acted on")
        elapsed = np.maximum(task.n_agents * self.dt * (self._last_steps + 1), 1e-12)
        return ((self.S / elapsed[:, None]) ** 2 * self.weights).sum(axis=1)

    # -- the controller ----------------------------------------------------------------------

    def act(self, obs: np.ndarray, task: Coverage) -> np.ndarray:
        """Actions ``(E, N, 2)`` or ``(E, N)`` for the task's current state (``obs`` unused)."""
        if self._task is not task:
            self._setup(task)
        steps = task.steps
        new = (steps < self._last_steps) | ((steps == 0) & (self._last_steps != 0))
        self.S[new] = 0.0
        fresh = new | (steps > self._last_steps)  # a position not yet added to S
        self._last_steps = steps.copy()
        f, grad = self.basis(task.pos)  # (E, N, K^2), (E, N, K^2, 2)
        # every robot's position counts, as in the env's W2 histogram (a spent robot stays put)
        self.S[fresh] += self.dt * (f[fresh].sum(axis=1) - task.n_agents * self.mu)
        B = np.einsum("ek,k,enkd->end", self.S, self.weights, grad)
        norm = np.linalg.norm(B, axis=-1, keepdims=True)
        v_star = np.where(norm > 1e-12, -self.max_speed * B / np.maximum(norm, 1e-12), 0.0)
        u = (v_star - task.vel) / self.step_gain
        return feasible_action(u, task.vel, self.step_gain, self.max_speed, task.config.continuous_actions)
