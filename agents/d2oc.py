"""D2OC: density-driven optimal control for non-uniform coverage (``coverage-v0``'s heuristic).

Seo & Lee, "Density-Driven Optimal Control for Non-Uniform Area Coverage in Decentralized
Multi-Agent Systems Using Optimal Transport" (IEEE TSMC 2025, arXiv 2511.12756); this follows the
authors' MATLAB code (kooktaelee/D2OC, ``Main_D2OC.m``, ``hamilton_optimal_control_Lin_Quad_R3.m``,
``update_weight_R2.m``). Batched over env copies E and robots N, with no per-robot Python loop.

The reference density is a cloud of S weighted sample points ``y (E, S, 2)`` with weights
``beta0 = 1/S``, drawn from ``task.density`` once per episode: a pixel with probability
proportional to its demand, then a uniform jitter inside the pixel (dense where demand is high).
Every robot-step carries the mass ``alpha = 1 / (max_cycles N)``, so the whole team transports
exactly the reference's unit mass over an episode. Each step, per robot, on its OWN remaining
weight map ``W (S,)``:

A. Target: order the positive-weight points by ``|y - p|^2 / W^2`` (near and still heavy first),
   take whole points until the next one would exceed ``alpha``, the last point the remainder;
   the target ``xg`` is the weighted barycentre of what was taken (the code's optimal-transport
   step). A finite-horizon LQ tracking problem toward ``xg`` on the env's own discrete dynamics
   gives ``u = Kx x + Kg xg`` (gains from a backward Riccati recursion, precomputed once; see
   :mod:`~swarmzoo.agents.lq_tracking`).
B. Consumption, after moving: the robot removes ``alpha`` from its nearest positive-weight points
   (plain distance, nearest first, spilling over). Here it is done at the start of the next
   :meth:`D2OC.act` from ``task.pos``, i.e. where the robot really arrived (walls and the speed
   cap included), which is what the code's "after moving" means. As in the code, robots consume
   in index order and a robot's record reaches the robots in its comm range before their turn,
   so two robots that hear each other never consume the same weight twice (batched as a fixed
   point, see :meth:`D2OC.consume`). A purely synchronous update, where neighbours all take from
   the same stale map, loses 10 - 30 % of the mass to double consumption on ``two_hotspots``
   (robots that meet then chase the same points as a pack) and doubles W2.
C. Sharing: robots closer than ``comm_range`` exchange per-originator cumulative consumption
   records with timestamps, newest wins (one hop per step; information travels multi-hop over
   steps). A robot's map is ``W = max(0, beta0 - sum of its records)``, which equals the code's
   incremental "add the old record back, subtract the new one, clamp at 0" updates.

What one robot needs, decentralised: its own position and velocity, the sample points of the
mission's density (the same for the whole team: a shared seed), ``alpha`` (team size and
mission length), and the records of its neighbours within ``comm_range`` (and, for the order of
B, their indices). It never reads the env's demand map, nor anything of robots out of range.
``centralised=True`` replaces C by one shared map per env copy that every robot's consumption
updates at once (the ideal all-to-all network, for comparison).

Differences from the code: the MATLAB plant is a linearised quadrotor, here the env's double
integrator; target selection and sharing are synchronous over robots (in the code robot n
selects its target after the robots before it have already moved this step, and records relay
over several hops within a step); the sample points are drawn from the env's density image (the
code loads point sets); the LQ weights (``param.mat``, binary, unknown) are chosen for this env's
scale (see :class:`D2OC`) from step responses (settling in 4-7 steps, < 1% overshoot), not by
tuning W2. Sensitivity (mean W2 at step 200, N = 8, two_hotspots / ring / disaster, 32 x 32 W2
grid): defaults 0.103 / 0.057 / 0.088; q_v = r = 0.1: 0.128 / 0.073 / 0.082; horizon 10: 0.105 /
0.065 / 0.093; horizon 2: 0.132 / 0.059 / 0.072; S = 1000: 0.138 / 0.083 / 0.106; S = 4000:
0.104 / 0.063 / 0.074; comm_range 0.4: 0.133 / 0.062 / 0.098 (3.0 equals centralised).
"""

from __future__ import annotations

import numpy as np

from swarmzoo.agents.lq_tracking import (
    LQTracker,
    check_lq_weights,
    double_integrator,
    feasible_action,
    lq_tracking_gains,
)
from swarmzoo.envs.core.neighbors import radius_pairs
from swarmzoo.envs.coverage import Coverage

# double_integrator, lq_tracking_gains and feasible_action: importable from here too, as before
# they moved to lq_tracking.
__all__ = [
    "D2OC",
    "ConsumptionLedger",
    "LQTracker",
    "check_lq_weights",
    "double_integrator",
    "feasible_action",
    "fill_in_order",
    "lq_tracking_gains",
    "sample_points",
    "select_targets",
]

# -- the reference as weighted sample points -----------------------------------------------------


def sample_points(task: Coverage, n_samples: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` independent sets of ``n_samples`` points ``(count, S, 2)`` drawn from the task's
    density: a cell with probability proportional to its demand, then uniform within the cell."""
    density = task.density.ravel()
    H, W = task.grid.shape
    cells = rng.choice(density.size, size=(count, n_samples), p=density / density.sum())
    row, col = np.divmod(cells, W)
    jitter = rng.random((count, n_samples, 2))
    half = task.arena.half
    x = (col + jitter[..., 0]) * task.grid.cell[0] - half[0]
    y = half[1] - (row + jitter[..., 1]) * task.grid.cell[1]
    return np.stack([x, y], axis=-1)


# -- the shared primitive of stages A.1 and B -----------------------------------------------------


def fill_in_order(
    key: np.ndarray, weight: np.ndarray, amount: float, k: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Take ``amount`` of mass from points in ascending ``key`` order: whole points while the
    amount left exceeds their weight, the last one the remainder (less if the row runs out).

    Batched: the ``k`` smallest keys by ``argpartition``; rows whose ``k`` points do not hold
    ``amount`` (and still have positive points left) are redone with 4 times as many.

    Args:
        key: ``(..., S)`` order keys, ``+inf`` for points that must not be taken.
        weight: ``(..., S)`` non-negative weights.
        amount: mass to take per row.
        k: candidates tried first.

    Returns:
        ``idx (..., K)`` point indices in key order and ``take (..., K)`` the mass taken from each
        (zero-padded), ``take.sum(-1) = min(amount, available)``.
    """
    lead, S = key.shape[:-1], key.shape[-1]
    key, weight = key.reshape(-1, S), weight.reshape(-1, S)
    idx, take = _fill_rows(key, weight, amount, min(k, S))
    return idx.reshape(*lead, -1), take.reshape(*lead, -1)


def _fill_rows(key: np.ndarray, weight: np.ndarray, amount: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    S = key.shape[-1]
    idx = np.argpartition(key, k - 1, axis=-1)[:, :k] if k < S else np.broadcast_to(np.arange(S), key.shape)
    order = np.argsort(np.take_along_axis(key, idx, axis=-1), axis=-1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=-1)
    sorted_key = np.take_along_axis(key, idx, axis=-1)
    w = np.where(np.isfinite(sorted_key), np.take_along_axis(weight, idx, axis=-1), 0.0)
    cum = np.cumsum(w, axis=-1)
    take = np.diff(np.minimum(cum, amount), axis=-1, prepend=0.0)
    short = (cum[:, -1] < amount) & np.isfinite(sorted_key[:, -1])
    if k < S and short.any():
        rows = np.flatnonzero(short)
        more_idx, more_take = _fill_rows(key[rows], weight[rows], amount, min(4 * k, S))
        width = more_idx.shape[1]
        idx = np.concatenate([idx, np.zeros((len(idx), width - k), dtype=idx.dtype)], axis=1)
        take = np.concatenate([take, np.zeros((len(take), width - k))], axis=1)
        idx[rows], take[rows] = more_idx, more_take
    return idx, take


def select_targets(
    points: np.ndarray, weights: np.ndarray, pos: np.ndarray, alpha: float, dist: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Stage A.1: each robot's target, the barycentre of the ``alpha`` of mass it takes in
    ``|y - p|^2 / W^2`` order.

    Args:
        points: ``(E, S, 2)`` sample points.
        weights: ``(E, N, S)`` each robot's remaining weights.
        pos: ``(E, N, 2)`` positions.
        alpha: mass per robot-step.
        dist: ``(E, N, S)`` squared distances from ``pos`` to ``points``, if already known.

    Returns:
        ``target (E, N, 2)`` (the robot's own position where it has no positive weight left) and
        ``has_target (E, N)`` bool.
    """
    key = _sq_dist(pos, points) if dist is None else dist.copy()
    positive = weights > 0
    np.divide(key, np.square(weights, where=positive, out=np.ones_like(weights)), out=key)
    key[~positive] = np.inf
    idx, take = fill_in_order(key, weights, alpha)
    E, N, K = idx.shape
    chosen = points[np.arange(E)[:, None, None], idx]  # (E, N, K, 2)
    mass = take.sum(axis=-1)
    has_target = mass > 0
    target = np.einsum("enk,enkd->end", take, chosen) / np.where(has_target, mass, 1.0)[..., None]
    return np.where(has_target[..., None], target, pos), has_target


def _widen(a: np.ndarray, width: int) -> np.ndarray:
    """``a (..., K)`` zero-padded to ``(..., width)``."""
    return a if a.shape[-1] == width else np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, width - a.shape[-1])])


def _reach(dist: np.ndarray, idx: np.ndarray, take: np.ndarray, alpha: float) -> np.ndarray:
    """``(E, N)`` squared distance of the farthest point a fill took from (``inf`` where it ran
    short of ``alpha``): the fill's result depends on no weight beyond it."""
    E, N = idx.shape[:2]
    farthest = np.where(take > 0, dist[np.arange(E)[:, None, None], np.arange(N)[:, None], idx], -np.inf).max(
        axis=-1, initial=-np.inf
    )
    return np.where(take.sum(axis=-1) < alpha * (1 - 1e-9), np.inf, farthest)


def _sq_dist(pos: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(E, N, S)`` squared distances from ``pos (E, N, 2)`` to ``points (E, S, 2)``."""
    return (
        np.einsum("end,end->en", pos, pos)[..., None]
        - 2.0 * np.einsum("end,esd->ens", pos, points)
        + np.einsum("esd,esd->es", points, points)[:, None, :]
    ).clip(min=0.0)


# -- stages B and C: consumption records -----------------------------------------------------------


class ConsumptionLedger:
    """Who consumed what, as each robot knows it (stage C), for E env copies of N robots.

    The spec's records ``rec (E, holder, originator, S)`` (holder's copy of the originator's
    cumulative consumption) with stamps ``stamp (E, holder, originator)`` take ``E N^2 S`` floats,
    too much for large N. Since an originator's record at stamp ``tau`` is the sum of its
    consumption events up to step ``tau``, a holder only needs the sum over originators,
    ``known (E, N, S)``, and the stamps: advancing ``stamp[h, o]`` from ``tau`` to ``tau'`` adds
    ``o``'s events of steps ``tau+1 .. tau'``, kept in a log ``(E, T, N, K)`` of the (few) points
    each robot-step consumed. This is exact (newest-wins replacement adds non-negative increments).

    Args:
        n_envs: E.
        n_agents: N.
        n_samples: S.
        max_steps: T, steps per episode.
        centralised: keep one shared map per env copy instead (every consumption is known to
            every robot at once; :meth:`share` does nothing).
    """

    def __init__(self, n_envs: int, n_agents: int, n_samples: int, max_steps: int, centralised: bool) -> None:
        E, N, S = n_envs, n_agents, n_samples
        self.centralised = centralised
        self.beta0 = np.zeros((E, S))
        self.consumed = np.zeros((E, S))  # everybody's consumption: the global truth
        self.known = None if centralised else np.zeros((E, N, S))
        self.stamp = np.zeros((E, N, N), dtype=np.int64)  # 0 = never heard
        self.log_idx = np.zeros((E, max_steps, N, 1), dtype=np.int64)
        self.log_take = np.zeros((E, max_steps, N, 1))

    def reset(self, env_ids: np.ndarray, beta0: np.ndarray) -> None:
        """Start episodes in ``env_ids`` with initial weights ``beta0 (len(env_ids), S)``."""
        self.beta0[env_ids] = beta0
        self.consumed[env_ids] = 0.0
        if self.known is not None:
            self.known[env_ids] = 0.0
        self.stamp[env_ids] = 0
        self.log_idx[env_ids] = 0
        self.log_take[env_ids] = 0.0

    def weights(self) -> np.ndarray:
        """Each robot's remaining weights ``W (E, N, S) = max(0, beta0 - known)`` (a read-only
        broadcast view when centralised)."""
        E, N = self.stamp.shape[:2]
        if self.known is None:
            return np.broadcast_to(self.true_weights()[:, None], (E, N, self.beta0.shape[1]))
        return np.maximum(self.beta0[:, None] - self.known, 0.0)

    def true_weights(self) -> np.ndarray:
        """The global truth ``(E, S) = max(0, beta0 - everybody's consumption)``."""
        return np.maximum(self.beta0 - self.consumed, 0.0)

    def record(self, env_ids: np.ndarray, steps: np.ndarray, idx: np.ndarray, take: np.ndarray) -> None:
        """Robots' own consumption in copies ``env_ids`` at their ``steps (len,)`` (>= 1):
        ``take (len, N, K)`` from points ``idx (len, N, K)``."""
        N, S = self.stamp.shape[1], self.beta0.shape[1]
        order = np.argsort(take <= 0, axis=-1, kind="stable")  # non-zero takes first
        idx, take = np.take_along_axis(idx, order, -1), np.take_along_axis(take, order, -1)
        width = max(int((take > 0).sum(axis=-1).max(initial=0)), 1)
        idx, take = idx[..., :width], take[..., :width]
        if width > self.log_idx.shape[-1]:
            pad = ((0, 0), (0, 0), (0, 0), (0, width - self.log_idx.shape[-1]))
            self.log_idx, self.log_take = np.pad(self.log_idx, pad), np.pad(self.log_take, pad)
        if steps.max(initial=0) > self.log_idx.shape[1]:
            pad = ((0, 0), (0, int(steps.max()) - self.log_idx.shape[1]), (0, 0), (0, 0))
            self.log_idx, self.log_take = np.pad(self.log_idx, pad), np.pad(self.log_take, pad)
        self.log_idx[env_ids, steps - 1, :, :width] = idx
        self.log_take[env_ids, steps - 1, :, :width] = take
        flat = env_ids[:, None, None] * S + idx
        np.add.at(self.consumed.reshape(-1), flat.ravel(), take.ravel())
        if self.known is not None:
            flat = (env_ids[:, None, None] * N + np.arange(N)[:, None]) * S + idx
            np.add.at(self.known.reshape(-1), flat.ravel(), take.ravel())
        self.stamp[env_ids[:, None], np.arange(N), np.arange(N)] = steps[:, None]

    def share(self, env: np.ndarray, i: np.ndarray, j: np.ndarray) -> None:
        """One synchronous gossip round over the links ``(env, i, j)`` (unordered pairs): every
        holder takes, per originator, the newest record among itself and its neighbours."""
        if self.known is None or not len(env):
            return
        N, S = self.stamp.shape[1], self.beta0.shape[1]
        old = self.stamp
        both, holder, source = np.concatenate([env, env]), np.concatenate([i, j]), np.concatenate([j, i])
        order = np.lexsort((holder, both))
        both, holder, source = both[order], holder[order], source[order]
        start = np.flatnonzero(np.diff(both * N + holder, prepend=-1))
        new = old.copy()
        new[both[start], holder[start]] = np.maximum(
            old[both[start], holder[start]], np.maximum.reduceat(old[both, source], start, axis=0)
        )
        e, h, o = np.nonzero(new > old)
        if not len(e):
            return
        lo, count = old[e, h, o], new[e, h, o] - old[e, h, o]
        rep = np.repeat(np.arange(len(e)), count)
        steps = lo[rep] + np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)  # 0-based
        idx = self.log_idx[e[rep], steps, o[rep]]  # (R, K)
        take = self.log_take[e[rep], steps, o[rep]]
        flat = (e[rep] * N + h[rep])[:, None] * S + idx
        np.add.at(self.known.reshape(-1), flat.ravel(), take.ravel())
        self.stamp = new


# -- the controller ----------------------------------------------------------------------------------


class D2OC:
    """Density-driven optimal control (see the module docstring), batched.

    Args:
        seed: seed of the per-episode sample points (reproducible runs).
        n_samples: S, sample points of the reference density.
        comm_range: robots closer than this share records. The default 0.8 is well below the
            default 2 x 2 arena's diagonal, so the communication graph matters (the code's
            default, 300 on a 50 x 50 map, reaches everyone).
        centralised: one shared weight map per env copy instead of decentralised sharing.
        horizon: LQ horizon H in steps (the Python port's ``hor_leng = 5``).
        q_v: speed weight of the LQ cost, relative to the squared tracking error.
        r: action weight of the LQ cost (action units). The code's weights live in a binary file
            and are unknown; with ``q_v = 0.01``, ``r = 0.001`` and the env's default ``dt = 0.1``,
            ``max_accel = 3``, a robot at rest settles (within 5 %) on a target 0.03 - 0.3 away in
            4 - 7 steps, overshooting by under 1 %; the spec's ``q_v = r = 0.1`` for a force input
            (``r = 0.9`` in action units here) takes 18 steps and overshoots by 26 %.
    """

    def __init__(
        self,
        seed: int | None = None,
        n_samples: int = 2000,
        comm_range: float = 0.8,
        centralised: bool = False,
        horizon: int = 5,
        q_v: float = 0.01,
        r: float = 0.001,
    ) -> None:
        check_lq_weights(horizon, q_v, r)
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
        if not np.isfinite(comm_range) or not comm_range > 0:
            raise ValueError(f"comm_range must be a positive finite number, got {comm_range!r}")
        self.rng = np.random.default_rng(seed)
        self.n_samples = n_samples
        self.comm_range = comm_range
        self.centralised = centralised
        self.horizon, self.q_v, self.r = horizon, q_v, r
        self.points: np.ndarray | None = None
        self.ledger: ConsumptionLedger | None = None
        self.tracker: LQTracker | None = None
        self._last_steps: np.ndarray | None = None
        self._task: Coverage | None = None

    def act(self, obs: np.ndarray, task: Coverage) -> np.ndarray:
        """Actions ``(E, N, 2)`` or ``(E, N)`` for the task's current state (``obs`` unused)."""
        if self._task is not task or self._last_steps is None:
            self._setup(task)
        steps = task.steps
        new = (steps < self._last_steps) | ((steps == 0) & (self._last_steps != 0))
        stepped = ~new & (steps > self._last_steps)
        self._last_steps = steps.copy()
        if new.any():
            ids = np.flatnonzero(new)
            self.points[ids] = sample_points(task, self.n_samples, len(ids), self.rng)
            self.ledger.reset(ids, np.full((len(ids), self.n_samples), 1.0 / self.n_samples))
        active = task.battery > 0
        dist = _sq_dist(task.pos, self.points)
        if stepped.any():
            ids = np.flatnonzero(stepped)
            self.consume(task, ids, dist[ids], active)
        self.share(task, active)
        target, _ = select_targets(self.points, self.ledger.weights(), task.pos, self.alpha, dist)
        return self.tracker.act(task.pos, task.vel, target)

    def _setup(self, task: Coverage) -> None:
        E, N = task.pos.shape[:2]
        self._task = task
        self.alpha = 1.0 / (task.max_cycles * N)
        self.points = np.zeros((E, self.n_samples, 2))
        self.ledger = ConsumptionLedger(E, N, self.n_samples, task.max_cycles, self.centralised)
        self.tracker = LQTracker(task, self.horizon, self.q_v, self.r)
        self._last_steps = np.full(E, np.iinfo(np.int64).max)  # every copy starts a new episode

    def consume(self, task: Coverage, env_ids: np.ndarray, dist: np.ndarray, active: np.ndarray) -> None:
        """Stage B: robots of copies ``env_ids`` (those with battery) take ``alpha`` from their
        nearest positive-weight points at their current positions (``dist (len, N, S)``, squared
        distances to the points).

        The code runs robots one after another, and a robot's record reaches the robots in its
        comm range before their turn, so two of them never consume the same weight. Batched, the
        same sequential result is the fixed point of "robot n consumes from its map minus what
        the robots q < n it hears (all q < n when centralised) consumed this step": robot n's
        take is final once those of the chain of robots before it are. Each round redoes only
        the robots that a changed take of a linked robot q < n touches within their own reach.
        """
        E, N = len(env_ids), task.n_agents
        base = self.ledger.weights()[env_ids]
        live = active[env_ids][..., None]
        if self.centralised:
            env, first, second = np.nonzero(np.triu(np.ones((E, N, N), dtype=bool), 1))
        else:
            env, first, second = radius_pairs(task.pos[env_ids], self.comm_range, task.arena)
        idx, take = fill_in_order(np.where(base > 0, dist, np.inf), base, self.alpha)
        take *= live
        touched = np.where(take > 0, idx, -1)  # points whose take changed in the last round
        changed = take.sum(axis=-1) > 0
        for _ in range(N - 1):
            hit = changed[env, first]
            pe, pq, pn = env[hit], first[hit], second[hit]
            points = touched[pe, pq]  # (P, K)
            reach = _reach(dist, idx, take, self.alpha)[pe, pn]
            near = (points >= 0) & (dist[pe[:, None], pn[:, None], points] <= reach[:, None])
            redo = np.zeros((E, N), dtype=bool)
            redo[pe[near.any(axis=1)], pn[near.any(axis=1)]] = True
            if not redo.any():
                break
            re_e, re_n = np.nonzero(redo)
            row = np.full((E, N), -1)
            row[re_e, re_n] = np.arange(len(re_e))
            heard = np.zeros((len(re_e), self.n_samples))
            into = redo[env, second]
            he, hq, hn = env[into], first[into], second[into]
            flat = row[he, hn][:, None] * self.n_samples + idx[he, hq]
            np.add.at(heard.reshape(-1), flat.ravel(), take[he, hq].ravel())
            weights = np.maximum(base[re_e, re_n] - heard, 0.0)
            new_idx, new_take = fill_in_order(
                np.where(weights > 0, dist[re_e, re_n], np.inf), weights, self.alpha
            )
            new_take *= live[re_e, re_n]
            width = max(idx.shape[-1], new_idx.shape[-1])
            idx, take, new_idx, new_take = (_widen(a, width) for a in (idx, take, new_idx, new_take))
            old_points = np.where(take[re_e, re_n] > 0, idx[re_e, re_n], -1)
            new_points = np.where(new_take > 0, new_idx, -1)
            differs = (old_points != new_points).any(axis=1) | (take[re_e, re_n] != new_take).any(axis=1)
            changed = np.zeros((E, N), dtype=bool)
            changed[re_e, re_n] = differs
            touched = np.full((E, N, 2 * width), -1)
            touched[re_e, re_n] = np.concatenate([old_points, new_points], axis=1)
            idx[re_e, re_n], take[re_e, re_n] = new_idx, new_take
        self.ledger.record(env_ids, task.steps[env_ids], idx, take)

    def share(self, task: Coverage, active: np.ndarray) -> None:
        """Stage C: one gossip round between robots (with battery) closer than ``comm_range``."""
        if self.centralised or task.n_agents < 2:
            return
        env, i, j = radius_pairs(task.pos, self.comm_range, task.arena)
        live = active[env, i] & active[env, j]
        self.ledger.share(env[live], i[live], j[live])
