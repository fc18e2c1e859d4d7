"""A control-barrier-function (CBF) safety filter that wraps any policy on ``navigation-v0``.

``CBFSafetyFilter(policy, safety_radius=Ds)`` is itself a policy: each step it asks ``policy``
for its (nominal) actions and changes, as little as it can, the actions of the robots that could
otherwise come closer than ``Ds`` (centre to centre) to another robot, or enter an obstacle's or
a wall's safety margin::

    from swarmzoo.agents import make_policy
    from swarmzoo.agents.safety import CBFSafetyFilter

    safe = CBFSafetyFilter(make_policy("pretrained", "navigation-v0"), safety_radius=0.3)
    actions = safe.act(obs, task)  # same shape, dtype and action space as the policy's

On the command line: ``swarmzoo evaluate ... --safety-filter cbf --safety-radius 0.3`` (and
``swarmzoo render``).

References:
    * A. D. Ames, X. Xu, J. W. Grizzle, P. Tabuada, "Control barrier function based quadratic
      programs for safety critical systems", IEEE TAC 62(8), 2017; A. D. Ames, S. Coogan,
      M. Egerstedt et al., "Control barrier functions: theory and applications", ECC 2019.
    * L. Wang, A. D. Ames, M. Egerstedt, "Safety barrier certificates for collisions-free
      multirobot systems", IEEE T-RO 33(3), 2017: the reciprocal (decentralised) split of each
      pair's constraint, half to each robot.

## Construction (discrete time, exactly the env's integrator)

Each robot is the env's damped double integrator (:func:`swarmzoo.envs.core.physics.integrate`):
with state ``(p, v)`` at step ``t``, action force ``f`` and contact force ``c`` (known: the env
computes it from the current positions), ``p_{t+1} = p + v dt`` (no control) and
``v_{t+1} = (1 - d) v + (f + c) dt / m``. Coasting afterwards (no force) gives
``p_{t+1+k} = p_{t+1} + dt v_{t+1} S_k`` with ``S_k = sum_{m<k} (1 - d)^m`` (``S_1 = 1``,
``S_inf = 1 / d``). For a pair ``(i, j)`` let ``P = p_{i,t+1} - p_{j,t+1}`` (known, minimum image
on a torus) and ``n = P / |P|``. The constraints::

    n.P + dt S n.(v_{i,t+1} - v_{j,t+1}) >= Ds     for S in {1, S_H}

are linear in the two forces, and ``n.x >= Ds`` implies ``|x| >= Ds``: they keep the next
controllable position ``p_{t+2}`` (``S = 1``) and every coasting position (``S = S_H``, ``H`` =
``horizon``, infinite by default when ``d > 0``; all ``S_k`` between lie on the segment, which
stays in the half-plane) outside the safety radius; once ``|P| >= Ds`` the ``S = 1`` row is
implied by the coasting row (``p_{t+2}`` lies between ``p_{t+1}`` and the coasting end point),
so only the coasting row enters then. Each robot takes half of each pair's
constraint on its own force (the reciprocal split: a robot needs only its neighbours' relative
positions and velocities, and the two halves add up to the pair's constraint). Obstacles (robot
centre to obstacle centre ``>= obstacle_radius + Ds / 2``, the robot's full responsibility) and
walls (``p_{t+2}`` and the coasting end point inside the walls minus ``robot_radius``, so the
walls never clip a robot) are further linear constraints. Only pairs whose constraint can bind
for some action in the box enter (found with a k-d tree for big swarms, so N = 1,000 works).

*Continuous actions*: per robot, ``min |u - u_nom|^2`` over the normalised force ``u`` in the
action box subject to its half-constraints. With ``solver="exact"`` (the default) every robot's
2-variable QP is solved in closed form, batched in numpy (:func:`project_box_polygon`: the
nearest of the nominal, its projections onto the constraint lines and their crossings that
satisfies all rows). With a ``qpsolvers`` solver (``solver="osqp"``, or another one installed)
all robots of all env copies that need a change are one sparse block-diagonal QP; a robot for
which coasting violates its rows gets a heavily penalised slack variable (so one infeasible robot
does not make the whole problem infeasible). Either way the rows are tightened by a tiny margin
(``TIGHTEN``) and the actions, as the env will read them (float32 rounding included), are
checked again in numpy against the exact rows; a robot whose check fails falls back to coasting
(zero force) when that is safe, else it is flagged infeasible. (OSQP is the slower choice:
compressed swarms give it degenerate problems with a dozen active rows per robot, on which it
can need its iteration limit; see the guide.) *Discrete actions*: of the 5 actions, the nominal
one if it satisfies the robot's constraints, else the satisfying action whose force is closest
to the nominal force (ties: the largest margin), else the least-violating one (flagged
infeasible); batched numpy, no QP.

## The guarantee

By induction: if every pair starts at least ``Ds`` apart and every step's constraints hold, no
two robots are ever closer than ``Ds``, at every step and along the straight path between steps.
With the infinite horizon the constraints are also *recursively feasible*: zero force (the no-op)
satisfies them again at the next step (the coasting end point is unchanged and, seen from any
point of the segment towards it, its projection only grows), so in the filter's model a robot
that starts safe is never infeasible. This holds for the filter's model of the env:

* no speed cap binds (``max_speed`` unset, or never reached; a robot whose filtered velocity
  would exceed its cap is flagged, since the cap changes its path);
* contact forces are those of the current step (included exactly) and negligible afterwards,
  true when ``Ds`` exceeds ``2 * robot_radius`` by more than a few ``contact_margin``;
* boundary ``"none"`` or ``"torus"`` (distances by minimum image; the arena much larger than
  ``Ds``), or ``"walls"`` with ``walls=True``; obstacles with ``obstacles=True``.

It does *not* cover: a start with robots already closer than ``Ds`` (they are flagged until they
are apart), ``obstacles=False`` / ``walls=False`` where those exist (the env's obstacle blocking
and wall clipping then change the motion), a finite ``horizon`` (less conservative, but
feasibility is no longer guaranteed), robots that another controller moves, and other envs.

Infeasibility is said clearly: ``last_infeasible (E, N)`` marks the robots for which the
guarantee does not hold this step (no action satisfies their constraints, they are already
inside a safety radius, or a speed cap binds), and ``on_infeasible`` warns (default,
:class:`SafetyFilterWarning`, naming how many robots in which env copies), raises
:class:`InfeasibleError` or ignores it. ``stats`` keeps running totals.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from gymnasium import spaces

from swarmzoo.agents.policies import Policy
from swarmzoo.envs.core.arena import min_image
from swarmzoo.envs.core.neighbors import radius_pairs
from swarmzoo.envs.core.physics import DISCRETE_DIRECTIONS, obstacle_contacts, robot_contacts, total_force
from swarmzoo.envs.core.task import validate_actions
from swarmzoo.envs.navigation_mpe import MPESpread
from swarmzoo.envs.navigation_mpe import action_forces as mpe_action_forces
from swarmzoo.envs.navigation_task import NavigationTask, action_forces

__all__ = [
    "FILTERS",
    "SUPPORTED_ENVS",
    "CBFSafetyFilter",
    "InfeasibleError",
    "SafetyFilterWarning",
    "check_env",
    "make_safety_filter",
    "project_box_polygon",
]

SUPPORTED_ENVS = ("navigation-v0",)
"""Env ids the filter supports (point masses under :func:`~swarmzoo.envs.core.physics.integrate`)."""

FILTERS = ("cbf",)
"""Names of the safety filters (the CLI's ``--safety-filter``)."""

ON_INFEASIBLE = ("warn", "raise", "ignore")

# A constraint row (normalised force units) counts as satisfied up to this violation.
ROW_TOL = 1e-11
# A pair (or robot and obstacle / wall) counts as already inside its safety radius below
# ``Ds - DIST_TOL``.
DIST_TOL = 1e-10
# The QP's rows are tightened by this much (normalised force units, about 1e-8 of a distance with
# the default physics), so solver tolerance and float32 actions cannot break the numpy check.
TIGHTEN = 1e-6
# The penalty ``SLACK_QUADRATIC * s^2`` of a robot's slack in the QP.
SLACK_QUADRATIC = 1e4
# OSQP's settings (solver="osqp"): tight tolerances and solution polishing.
OSQP_SETTINGS = {"eps_abs": 1e-9, "eps_rel": 1e-9, "polishing": True, "max_iter": 20000, "verbose": False}


class SafetyFilterWarning(UserWarning):
    """The safety filter could not keep some robots safe this step (see ``last_infeasible``)."""


class InfeasibleError(RuntimeError):
    """Raised by a filter with ``on_infeasible="raise"`` when some robot is infeasible."""


def check_env(env_id: str) -> None:
    """Raise ``ValueError`` unless the safety filter supports ``env_id``."""
    from swarmzoo.envs.registry import spec

    key = spec(env_id).id
    if key not in SUPPORTED_ENVS:
        raise ValueError(
            f"the CBF safety filter supports {', '.join(SUPPORTED_ENVS)} (damped point masses), "
            f"not {env_id!r}"
        )


def make_safety_filter(
    name: str | None, policy: Policy, env_id: str, safety_radius: float | None = None, **options: Any
) -> CBFSafetyFilter | None:
    """The safety filter called ``name`` (``"cbf"``; None: no filter) around ``policy`` for
    ``env_id``: what the CLI's ``--safety-filter NAME --safety-radius R`` builds.

    Raises:
        ValueError: an unknown filter name, an env the filter does not support, or a radius
            without a filter.
    """
    if name is None or name == "none":
        if safety_radius is not None:
            raise ValueError(
                "--safety-radius needs --safety-filter cbf (the env's own safety metrics take "
                "--env-kwargs safety_radius=R)"
            )
        return None
    if name not in FILTERS:
        raise ValueError(f"unknown safety filter {name!r}; choose from {', '.join(FILTERS)}")
    check_env(env_id)
    return CBFSafetyFilter(policy, safety_radius, **options)


def coast_weight(damping: float, horizon: int | None) -> float:
    """``1 / S_H``, the weight of the coasting constraint (``d`` for the infinite horizon)."""
    if horizon is None:
        return damping
    s = horizon if damping == 0 else (1.0 - (1.0 - damping) ** horizon) / damping
    return 1.0 / s


# Default coasting horizon (steps) without damping, where the infinite horizon would constrain
# every pair that is approaching, however far apart.
UNDAMPED_HORIZON = 20


@dataclass
class _Rows:
    """Linear constraints ``coef . u >= rhs`` on robots' normalised forces, sorted by robot."""

    robot: np.ndarray  # (R,) flat robot index e * N + i
    coef: np.ndarray  # (R, 2)
    rhs: np.ndarray  # (R,)
    owners: np.ndarray  # (U,) robots with rows, ascending
    starts: np.ndarray  # (U,) their first row
    owner_of_row: np.ndarray  # (R,) index into owners

    @classmethod
    def build(cls, robot: list, coef: list, rhs: list) -> _Rows:
        robot_a = np.concatenate(robot) if robot else np.zeros(0, np.int64)
        coef_a = np.concatenate(coef) if coef else np.zeros((0, 2))
        rhs_a = np.concatenate(rhs) if rhs else np.zeros(0)
        order = np.argsort(robot_a, kind="stable")
        robot_a, coef_a, rhs_a = robot_a[order], coef_a[order], rhs_a[order]
        owners, starts, counts = np.unique(robot_a, return_index=True, return_counts=True)
        owner_of_row = np.repeat(np.arange(len(owners)), counts)
        return cls(robot_a, coef_a, rhs_a, owners, starts, owner_of_row)

    def worst(self, u_rows: np.ndarray) -> np.ndarray:
        """Each owner's largest violation ``rhs - coef . u`` (``> 0``: violated), ``(U, ...)``,
        for forces given per row: ``(R, 2)`` or ``(R, K, 2)`` (K candidates)."""
        if u_rows.ndim == 3:
            viol = self.rhs[:, None] - np.einsum("rd,rkd->rk", self.coef, u_rows)
        else:
            viol = self.rhs - np.einsum("rd,rd->r", self.coef, u_rows)
        if not len(self.starts):
            return viol[:0]
        return np.maximum.reduceat(viol, self.starts, axis=0)


class CBFSafetyFilter:
    """Wrap ``policy`` so that no two robots come closer than ``safety_radius`` (see the module
    docstring for the construction and exactly what is guaranteed).

    Args:
        policy: any :class:`~swarmzoo.agents.policies.Policy` (scripted, random, a trained
            policy from :func:`~swarmzoo.agents.make_policy`).
        safety_radius: minimum allowed centre-to-centre distance ``Ds`` between robots (> 0);
            None: the env's own ``safety_radius`` (``swarmzoo.make(..., safety_radius=Ds)``).
        obstacles: also keep robot centres ``obstacle_radius + Ds / 2`` from obstacle centres.
        walls: in a walled arena, also keep robots off the walls (so the walls never clip them).
        horizon: coasting steps the constraints look ahead (>= 1); None: infinite when the env
            has damping (the recursively feasible choice), else ``UNDAMPED_HORIZON``.
        solver: how continuous actions solve their QPs: ``"exact"`` (default: every robot's
            2-variable QP in closed form, batched numpy, exact up to rounding) or a
            ``qpsolvers`` solver (``"osqp"``, others if installed), which solves all robots of
            all env copies as one sparse block-diagonal QP.
        on_infeasible: ``"warn"`` (a :class:`SafetyFilterWarning`), ``"raise"``
            (:class:`InfeasibleError`) or ``"ignore"``, when the guarantee does not hold for some
            robot in a step.
        solver_options: keyword arguments for the solver (override ``OSQP_SETTINGS``).

    Attributes:
        last_infeasible: ``(E, N)`` bool, the last step's robots the guarantee did not hold for.
        last_modified: ``(E, N)`` bool, the last step's robots whose action the filter changed.
        stats: running totals ``steps``, ``robot_steps``, ``interventions`` (robot-steps changed)
            and ``infeasible`` (robot-steps flagged); :meth:`reset_stats` zeroes them.

    Raises:
        ValueError: a non-positive radius or horizon, an unknown solver or ``on_infeasible``.
        ImportError: ``qpsolvers`` is missing (``pip install swarmzoo[safety]``).
    """

    def __init__(
        self,
        policy: Policy,
        safety_radius: float | None = None,
        obstacles: bool = True,
        walls: bool = True,
        horizon: int | None = None,
        solver: str = "exact",
        on_infeasible: str = "warn",
        solver_options: dict[str, Any] | None = None,
    ) -> None:
        if safety_radius is not None:
            _check_radius(safety_radius)
        if horizon is not None and (
            isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1
        ):
            raise ValueError(f"horizon must be an integer >= 1 or None, got {horizon!r}")
        if on_infeasible not in ON_INFEASIBLE:
            raise ValueError(f"on_infeasible must be one of {ON_INFEASIBLE}, got {on_infeasible!r}")
        for name, value in (("obstacles", obstacles), ("walls", walls)):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        if not isinstance(solver, str):
            raise ValueError(f"solver must be a name, got {solver!r}")
        if solver != "exact":
            try:
                import qpsolvers
            except ImportError as err:  # pragma: no cover - the [safety] extra installs it
                raise ImportError(
                    f"solver={solver!r} needs qpsolvers: pip install 'swarmzoo[safety]' "
                    "(or use solver='exact')"
                ) from err
            if solver not in qpsolvers.available_solvers:
                raise ValueError(
                    f"unknown or uninstalled QP solver {solver!r}: use 'exact' or one of "
                    f"{sorted(qpsolvers.available_solvers)} (qpsolvers)"
                )
        self.policy = policy
        self.safety_radius = None if safety_radius is None else float(safety_radius)
        self.obstacles = bool(obstacles)
        self.walls = bool(walls)
        self.horizon = None if horizon is None else int(horizon)
        self.solver = solver
        self.on_infeasible = on_infeasible
        base = dict(OSQP_SETTINGS) if solver == "osqp" else {}
        self.solver_options = base | dict(solver_options or {})
        self.last_radius: float | None = self.safety_radius
        self.last_infeasible: np.ndarray | None = None
        self.last_modified: np.ndarray | None = None
        self.stats: dict[str, int] = {}
        self.reset_stats()
        self._warned: set[str] = set()

    def reset_stats(self) -> None:
        """Zero the running totals of :attr:`stats`."""
        self.stats = {"steps": 0, "robot_steps": 0, "interventions": 0, "infeasible": 0}

    def __repr__(self) -> str:
        return (
            f"CBFSafetyFilter({self.policy!r}, safety_radius={self.safety_radius}, "
            f"horizon={self.horizon}, solver={self.solver!r})"
        )

    # -- the policy contract ----------------------------------------------------------------

    def act(self, obs: np.ndarray, task: Any) -> np.ndarray:
        """The wrapped policy's actions for ``obs (E, N, D)``, filtered for ``task``'s state."""
        self._check_task(task)
        return self.filter(self.policy.act(obs, task), task)

    def filter(self, actions: Any, task: Any) -> np.ndarray:
        """Filter a batch of actions ``(E, N)`` or ``(E, N, A)`` for ``task``'s current state:
        a valid batch in the same action space, unchanged where already safe.

        Raises:
            ValueError: an unsupported env, no safety radius, or actions the env would refuse.
            InfeasibleError: with ``on_infeasible="raise"``, when the guarantee does not hold
                for some robot this step.
        """
        self._check_task(task)
        Ds = self.radius(task)
        E, N = task.pos.shape[:2]
        space = task.action_space
        nominal = validate_actions(actions, space, E, N)
        discrete = isinstance(space, spaces.Discrete)
        dtype = nominal.dtype if discrete else np.result_type(nominal.dtype, np.float32)
        out = np.array(nominal, dtype=dtype, order="C")  # C order: the flat views below write into it
        model = _Model(task, self.horizon)
        rows, inside = self._constraints(task, model, Ds)
        u_nom = self._unit_forces(out, task).reshape(E * N, 2)
        infeasible = inside.copy()
        modified = np.zeros(E * N, dtype=bool)
        if len(rows.owners):
            if discrete:
                self._filter_discrete(out.reshape(E * N), u_nom, rows, modified, infeasible)
            else:
                self._filter_continuous(out.reshape(E * N, -1), u_nom, rows, task, modified, infeasible)
        if model.caps is not None:  # a speed cap that binds changes the path the model predicts
            u = self._unit_forces(out, task).reshape(E * N, 2)
            v1 = model.v0.reshape(E * N, 2) + model.k_v * u
            speed = np.sqrt(np.einsum("md,md->m", v1, v1))
            infeasible |= speed > model.caps.reshape(E * N) * (1 + 1e-12)
        self.last_modified = modified.reshape(E, N)
        self.last_infeasible = infeasible.reshape(E, N)
        self.stats["steps"] += 1
        self.stats["robot_steps"] += E * N
        self.stats["interventions"] += int(modified.sum())
        self.stats["infeasible"] += int(infeasible.sum())
        if infeasible.any():
            self._report(self.last_infeasible, Ds)
        return out

    def report(self) -> dict[str, Any]:
        """The running totals of :attr:`stats` with the filter's name, radius and rates (what
        ``swarmzoo evaluate --json`` prints as ``safety_filter``)."""
        steps = max(self.stats["robot_steps"], 1)
        return {
            "name": "cbf",
            "safety_radius": self.last_radius if self.safety_radius is None else self.safety_radius,
            **self.stats,
            "intervention_rate": self.stats["interventions"] / steps,
            "infeasible_rate": self.stats["infeasible"] / steps,
        }

    def radius(self, task: Any) -> float:
        """The safety radius for ``task``: the filter's own, else the env's ``safety_radius``."""
        if self.safety_radius is not None:
            return self.safety_radius
        env_radius = getattr(task.config, "safety_radius", None)
        if env_radius is None:
            raise ValueError(
                "the CBF safety filter needs a safety radius: pass safety_radius=Ds (CLI: "
                "--safety-radius Ds) or make the env with safety_radius=Ds"
            )
        _check_radius(env_radius)
        self.last_radius = float(env_radius)
        return self.last_radius

    # -- checks and reports -----------------------------------------------------------------

    def _check_task(self, task: Any) -> None:
        if not isinstance(task, NavigationTask):
            name = str(getattr(task, "name", type(task).__name__)).replace("_", "-")
            raise ValueError(
                f"the CBF safety filter supports {', '.join(SUPPORTED_ENVS)} (damped point masses "
                f"under the core integrator), not {name}: its dynamics differ"
            )
        cfg = task.config
        Ds = self.radius(task)
        if Ds <= 2 * cfg.robot_radius:
            self._warn_once(
                "touch",
                f"safety_radius={Ds:g} is not above 2 * robot_radius = {2 * cfg.robot_radius:g}: "
                "robots kept that far apart may still touch",
            )
        if cfg.boundary == "walls" and not self.walls:
            self._warn_once(
                "walls", "walls=False in a walled arena: the guarantee does not cover wall contacts"
            )
        if cfg.n_obstacles and not self.obstacles:
            self._warn_once(
                "obstacles", "obstacles=False with obstacles: the guarantee does not cover obstacle contacts"
            )

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(f"CBF safety filter: {message}", SafetyFilterWarning, stacklevel=4)

    def _report(self, infeasible: np.ndarray, Ds: float) -> None:
        if self.on_infeasible == "ignore":
            return
        copies = np.flatnonzero(infeasible.any(axis=1)).tolist()
        shown = ", ".join(map(str, copies[:10])) + (", ..." if len(copies) > 10 else "")
        message = (
            f"CBF safety filter: {int(infeasible.sum())} robot(s) in env cop"
            f"{'y' if len(copies) == 1 else 'ies'} {shown} cannot be kept {Ds:g} apart this step "
            "(no action satisfies their safety constraints, they are already inside a safety "
            "radius, or a speed cap binds): the no-collision guarantee does not hold for them "
            "this step (see last_infeasible)"
        )
        if self.on_infeasible == "raise":
            raise InfeasibleError(message)
        warnings.warn(message, SafetyFilterWarning, stacklevel=3)

    # -- the constraints ------------------------------------------------------------------------

    def _constraints(self, task: Any, model: _Model, Ds: float) -> tuple[_Rows, np.ndarray]:
        """Every robot's half-constraints ``coef . u >= rhs`` (normalised forces ``u`` in the
        box ``[-1, 1]^2``) that can bind, and ``(E N,)`` the robots already inside a radius."""
        cfg = task.config
        E, N = model.p1.shape[:2]
        robot, coef, rhs = [], [], []
        inside = np.zeros(E * N, dtype=bool)
        kk, dt, weights = model.kk, model.dt, model.weights
        p1, v0, arena = model.p1, model.v0, task.arena

        def add(who: np.ndarray, n: np.ndarray, h: np.ndarray, w: float, unsafe: np.ndarray) -> None:
            # A row can bind only if its right side exceeds the smallest n . u over the box. The
            # next step's row (w = 1) is implied by the coasting row (its position lies between
            # the known p_{t+1} and the coasting end point) unless p_{t+1} is itself unsafe.
            keep = h > -(np.abs(n[:, 0]) + np.abs(n[:, 1]))
            if w == 1.0 and len(weights) > 1:
                keep &= unsafe
            robot.append(who[keep])
            coef.append(n[keep])
            rhs.append(h[keep])

        if N > 1:
            speed = np.sqrt(np.einsum("end,end->en", v0, v0)).max()
            reach = Ds + (2 * math.sqrt(2) * kk + 2 * dt * speed) / min(weights) * (1 + 1e-9) + 1e-12
            env, i, j = radius_pairs(p1, reach, arena)
            delta = min_image(p1[env, i] - p1[env, j], arena)
            dist = np.sqrt(np.einsum("pd,pd->p", delta, delta))
            n = np.where(dist[:, None] > 0, delta / np.maximum(dist, 1e-300)[:, None], [1.0, 0.0])
            dv = np.einsum("pd,pd->p", n, v0[env, i] - v0[env, j])
            gi, gj = env * N + i, env * N + j
            close = dist < Ds - DIST_TOL
            inside[gi[close]] = inside[gj[close]] = True
            for w in weights:
                h = (w * (Ds - dist) - dt * dv) / (2 * kk)
                add(gi, n, h, w, dist < Ds)
                add(gj, -n, h, w, dist < Ds)
        if self.obstacles and cfg.n_obstacles:
            delta = min_image(p1[:, :, None] - task.obstacles[:, None], arena)  # (E, N, O, 2)
            dist = np.sqrt(np.einsum("enod,enod->eno", delta, delta))
            n = np.where(dist[..., None] > 0, delta / np.maximum(dist, 1e-300)[..., None], [1.0, 0.0])
            reach = task.obstacle_radius[:, None, :] + Ds / 2
            dv = np.einsum("enod,end->eno", n, v0)
            who = np.broadcast_to(np.arange(E * N).reshape(E, N, 1), dist.shape).reshape(-1)
            inside |= (dist < reach - DIST_TOL).any(axis=2).reshape(-1)
            for w in weights:
                h = (w * (reach - dist) - dt * dv) / kk
                add(who, n.reshape(-1, 2), h.reshape(-1), w, (dist < reach).reshape(-1))
        if self.walls and cfg.boundary == "walls":
            limit = arena.half - cfg.robot_radius  # (2,)
            who = np.arange(E * N)
            p, v = p1.reshape(-1, 2), v0.reshape(-1, 2)
            inside |= (np.abs(p) > limit + DIST_TOL).any(axis=1)
            for axis in range(2):
                e_axis = np.zeros((E * N, 2))
                e_axis[:, axis] = 1.0
                out_now = np.abs(p[:, axis]) > limit[axis]
                for w in weights:
                    ahead = w * p[:, axis] + dt * v[:, axis]
                    add(who, -e_axis, (ahead - w * limit[axis]) / kk, w, out_now)  # below +limit
                    add(who, e_axis, (-w * limit[axis] - ahead) / kk, w, out_now)  # above -limit
        return _Rows.build(robot, coef, rhs), inside

    # -- actions and forces -------------------------------------------------------------------

    @staticmethod
    def _unit_forces(actions: np.ndarray, task: Any) -> np.ndarray:
        """The action forces the env will apply, divided by ``accel``: ``(E, N, 2)``."""
        cfg = task.config
        to_forces = mpe_action_forces if isinstance(task, MPESpread) else action_forces
        forces = to_forces(actions, cfg)
        return np.ascontiguousarray(forces) / cfg.accel

    @staticmethod
    def _encode(u: np.ndarray, rows_out: np.ndarray, task: Any) -> None:
        """Write normalised forces ``u (K, 2)`` as continuous actions into ``rows_out (K, A)``."""
        u = np.clip(u, -1.0, 1.0)
        if isinstance(task, MPESpread):  # Box(0, 1, (5,)): force accel * (a2 - a1, a4 - a3)
            rows_out[:, 1] = np.maximum(-u[:, 0], 0.0)
            rows_out[:, 2] = np.maximum(u[:, 0], 0.0)
            rows_out[:, 3] = np.maximum(-u[:, 1], 0.0)
            rows_out[:, 4] = np.maximum(u[:, 1], 0.0)
        else:
            rows_out[:, :] = u

    def _filter_discrete(
        self, out: np.ndarray, u_nom: np.ndarray, rows: _Rows, modified: np.ndarray, infeasible: np.ndarray
    ) -> None:
        owners = rows.owners
        candidates = np.broadcast_to(DISCRETE_DIRECTIONS, (len(rows.robot), 5, 2))
        viol = rows.worst(candidates)  # (U, 5)
        ok = viol <= ROW_TOL
        nominal = out[owners]
        keep = ok[np.arange(len(owners)), nominal]
        distance = ((DISCRETE_DIRECTIONS[None] - u_nom[owners][:, None]) ** 2).sum(axis=-1)  # (U, 5)
        cost = np.where(ok, distance, np.inf)
        best = cost.min(axis=1, keepdims=True)
        # Among the closest satisfying actions, the one with the largest margin.
        choice = np.where(cost == best, viol, np.inf).argmin(axis=1)
        none_ok = ~ok.any(axis=1)
        choice[none_ok] = viol[none_ok].argmin(axis=1)
        change = ~keep
        out[owners[change]] = choice[change]
        modified[owners[change]] = True
        infeasible[owners[none_ok]] = True

    def _filter_continuous(
        self,
        out: np.ndarray,
        u_nom: np.ndarray,
        rows: _Rows,
        task: Any,
        modified: np.ndarray,
        infeasible: np.ndarray,
    ) -> None:
        owners = rows.owners
        need = rows.worst(u_nom[rows.robot]) > ROW_TOL  # (U,)
        if not need.any():
            return
        robots = owners[need]
        u = self._solve_exact(u_nom, rows, need) if self.solver == "exact" else self._solve(u_nom, rows, need)
        block = out[robots]
        self._encode(u, block, task)
        out[robots] = block
        modified[robots] = True
        # Check what the env will apply (float32 actions included) against the exact rows.
        u_act = self._unit_forces(out.reshape(task.pos.shape[:2] + out.shape[1:]), task).reshape(-1, 2)
        viol = rows.worst(u_act[rows.robot])[need]
        bad = viol > ROW_TOL
        if bad.any():  # coasting is safe whenever the last step was (recursive feasibility)
            zero_viol = rows.worst(np.zeros((len(rows.robot), 2)))[need]
            coast = bad & (zero_viol <= ROW_TOL)
            block = out[robots[coast]]
            self._encode(np.zeros((int(coast.sum()), 2)), block, task)
            out[robots[coast]] = block
            infeasible[robots[bad & ~coast]] = True

    @staticmethod
    def _solve_exact(u_nom: np.ndarray, rows: _Rows, need: np.ndarray) -> np.ndarray:
        """Every robot's QP in closed form: ``(K, 2)`` normalised forces for the owners ``need``
        selects. First with the rows tightened by ``TIGHTEN`` (a margin for float32 actions),
        then, for robots where that has no solution, untightened; robots with neither get the
        candidate of least violation (the numpy check then flags them)."""
        K = int(need.sum())
        index = np.full(len(need), -1)
        index[need] = np.arange(K)
        sel = need[rows.owner_of_row]
        k = index[rows.owner_of_row[sel]]
        coef, rhs = rows.coef[sel], rows.rhs[sel]
        target = u_nom[rows.owners[need]]
        u = target.copy()
        todo = np.ones(K, dtype=bool)
        for margin in (TIGHTEN, 0.0, None):
            robots = np.flatnonzero(todo)
            if not len(robots):
                break
            pick = todo[k]
            remap = np.full(K, -1)
            remap[robots] = np.arange(len(robots))
            extra = 0.0 if margin is None else margin
            found, best = project_box_polygon(target[robots], remap[k[pick]], coef[pick], rhs[pick] + extra)
            take = found if margin is not None else np.ones(len(robots), dtype=bool)
            u[robots[take]] = best[take]
            todo[robots[take]] = False
        return u

    def _solve(self, u_nom: np.ndarray, rows: _Rows, need: np.ndarray) -> np.ndarray:
        """One sparse block-diagonal QP over the owners ``need`` selects: ``(K, 2)`` normalised
        forces, each robot's as close to its nominal as its rows and the box allow.

        Rows are tightened by ``TIGHTEN``, but never past zero where coasting (``u = 0``)
        satisfies them, so the problem of a robot for which coasting is safe stays feasible with
        hard constraints. Only robots for which coasting is not safe get a slack variable
        (``s >= 0`` added to all of their rows, penalised by ``SLACK_QUADRATIC s^2``): their
        solution is then the one of least violation, and the numpy check decides.
        """
        import qpsolvers

        K = int(need.sum())
        index = np.full(len(need), -1)
        index[need] = np.arange(K)
        sel = need[rows.owner_of_row]
        k = index[rows.owner_of_row[sel]]  # (R,) the row's robot in the QP
        coef, rhs = rows.coef[sel], rows.rhs[sel]
        R = len(k)
        soft = np.zeros(K, dtype=bool)
        np.logical_or.at(soft, k, rhs > ROW_TOL)  # coasting violates one of its rows
        S = int(soft.sum())
        slack_of = np.full(K, -1)
        slack_of[soft] = 2 * K + np.arange(S)
        tight = np.where(rhs > 0, rhs + TIGHTEN, np.minimum(rhs + TIGHTEN, 0.0))
        tight = np.where(soft[k], rhs + TIGHTEN, tight)
        has_slack = soft[k]
        r = np.concatenate([np.arange(R), np.arange(R), np.flatnonzero(has_slack)])
        c = np.concatenate([2 * k, 2 * k + 1, slack_of[k[has_slack]]])
        data = np.concatenate([-coef[:, 0], -coef[:, 1], -np.ones(int(has_slack.sum()))])
        n_var = 2 * K + S
        G = sp.csc_matrix((data, (r, c)), shape=(R, n_var))
        P = sp.diags(np.concatenate([np.ones(2 * K), np.full(S, SLACK_QUADRATIC)]), format="csc")
        target = u_nom[rows.owners[need]]
        q = np.concatenate([-target.reshape(-1), np.zeros(S)])
        lb = np.concatenate([np.full(2 * K, -1.0), np.zeros(S)])
        ub = np.concatenate([np.full(2 * K, 1.0), np.full(S, np.inf)])
        problem = qpsolvers.Problem(P, q, G, -tight, lb=lb, ub=ub)
        with warnings.catch_warnings():  # a failed solve is caught by the numpy check
            warnings.simplefilter("ignore")
            try:
                x = qpsolvers.solve_problem(problem, solver=self.solver, **self.solver_options).x
            except Exception:  # noqa: BLE001 - any solver failure: the numpy check decides
                x = None
        if x is None or not np.all(np.isfinite(x)):
            return target
        return x[: 2 * K].reshape(K, 2)


# Work memory (elements) per batch of the closed-form projection.
PROJECTION_BATCH = 2_000_000
_BOX = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])


def project_box_polygon(
    target: np.ndarray, owner: np.ndarray, coef: np.ndarray, rhs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The point of ``{u in [-1, 1]^2 : coef_r . u >= rhs_r for the rows r of robot k}`` nearest
    to ``target[k]``, for every robot ``k`` at once, by enumeration: the minimiser of a distance
    over a convex polygon is the target itself, its projection onto one edge's line or a vertex
    (two rows' lines crossing), whichever feasible candidate is nearest.

    Args:
        target: ``(K, 2)`` nominal points.
        owner: ``(R,)`` robot of each row, ascending; ``coef (R, 2)`` unit normals, ``rhs (R,)``.

    Returns:
        ``found (K,)``, True where the polygon is not empty, and ``best (K, 2)``: the nearest
        point, or where ``found`` is False the candidate with the smallest largest violation.
    """
    K = len(target)
    counts = np.bincount(owner, minlength=K)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(len(owner)) - starts[owner]
    order = np.argsort(counts, kind="stable")
    found = np.zeros(K, dtype=bool)
    best = target.copy()
    lo = 0
    while lo < K:
        m = int(counts[order[lo]]) + 4
        hi = lo + 1
        while hi < K:  # grow the batch while the widest one's work fits
            m_hi = int(counts[order[hi]]) + 4
            if (hi + 1 - lo) * (m_hi + m_hi * (m_hi - 1) // 2) * m_hi > PROJECTION_BATCH:
                break
            m, hi = m_hi, hi + 1
        robots = order[lo:hi]
        batch_of = np.full(K, -1)
        batch_of[robots] = np.arange(len(robots))
        mine = batch_of[owner] >= 0
        found[robots], best[robots] = _project_batch(
            target[robots], batch_of[owner[mine]], slot[mine], coef[mine], rhs[mine], m
        )
        lo = hi
    return found, best


def _project_batch(target, row_robot, row_slot, coef, rhs, m):
    """:func:`project_box_polygon` for one batch of ``B`` robots (``row_robot`` indexes
    ``target``), their rows padded to ``m`` (the 4 box rows first)."""
    B = len(target)
    A = np.zeros((B, m, 2))
    b = np.full((B, m), -1e30)  # padding rows: always satisfied, no lines
    A[:, :4], b[:, :4] = _BOX, -1.0
    A[row_robot, 4 + row_slot] = coef
    b[row_robot, 4 + row_slot] = rhs
    # Candidates: the target, its projection onto every line, every two lines' crossing.
    gap = b - np.einsum("bmd,bd->bm", A, target)
    edge = target[:, None] + gap[..., None] * A  # unit normals: the foot of the perpendicular
    ip, iq = np.triu_indices(m, k=1)
    Ap, Aq, bp, bq = A[:, ip], A[:, iq], b[:, ip], b[:, iq]
    det = Ap[..., 0] * Aq[..., 1] - Ap[..., 1] * Aq[..., 0]
    ok = np.abs(det) > 1e-12
    safe = np.where(ok, det, 1.0)
    vx = (bp * Aq[..., 1] - bq * Ap[..., 1]) / safe
    vy = (Ap[..., 0] * bq - Aq[..., 0] * bp) / safe
    vertex = np.stack([vx, vy], axis=-1)
    cand = np.concatenate([target[:, None], edge, vertex], axis=1)  # (B, C, 2)
    valid = np.concatenate(
        [np.ones((B, 1), bool), np.abs(b) < 1e29, ok & (np.abs(bp) < 1e29) & (np.abs(bq) < 1e29)], axis=1
    )
    worst = (b[:, None, :] - np.einsum("bcd,bmd->bcm", cand, A)).max(axis=2)  # (B, C)
    worst = np.where(valid, worst, np.inf)
    feasible = worst <= ROW_TOL
    dist = np.where(feasible, ((cand - target[:, None]) ** 2).sum(axis=-1), np.inf)
    nearest = dist.argmin(axis=1)
    least = worst.argmin(axis=1)
    found = feasible.any(axis=1)
    choice = np.where(found, nearest, least)
    return found, cand[np.arange(B), choice]


class _Model:
    """The filter's model of one step: next positions ``p1``, the force-free part ``v0`` of the
    next velocity, and the constants of the normalised-force constraints."""

    def __init__(self, task: Any, horizon: int | None) -> None:
        cfg = task.config
        pos = np.ascontiguousarray(task.pos)
        vel = np.ascontiguousarray(task.vel)
        E, N = pos.shape[:2]
        self.dt, d, m = cfg.dt, cfg.damping, cfg.mass
        if horizon is None and d == 0:
            horizon = UNDAMPED_HORIZON
        w_coast = coast_weight(d, horizon)
        self.weights = (1.0,) if w_coast >= 1.0 else (1.0, w_coast)
        contact, _ = robot_contacts(pos, cfg.robot_radius, cfg.physics, task.arena)
        forces = [contact]
        if cfg.n_obstacles:
            push, _ = obstacle_contacts(
                pos, cfg.robot_radius, task.obstacles, task.obstacle_radius, cfg.physics, task.arena
            )
            forces.append(push)
        c = np.ascontiguousarray(total_force(np.zeros((E, N, 2)), *forces))
        self.p1 = pos + vel * self.dt
        self.v0 = vel * (1.0 - d) + c * (self.dt / m)
        self.k_v = cfg.accel * self.dt / m  # velocity per unit normalised force
        self.kk = self.k_v * self.dt  # displacement after one step per unit normalised force
        cap = cfg.max_speed
        self.caps = None if cap is None else np.broadcast_to(np.asarray(cap, dtype=np.float64), (E, N))


def _check_radius(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"safety_radius must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"safety_radius must be a positive finite number, got {value!r}")
