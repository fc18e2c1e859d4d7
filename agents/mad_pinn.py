"""A MAD-PINN-style decentralised safe controller for ``navigation-v0``.

MAD-PINN ("decentralised safe optimal control for multi-agent navigation") is known here only
through the summary in the issue that asked for it; the paper's text was not consulted. The
summary says: each agent keeps only its safety-critical neighbours (a Hamilton-Jacobi (HJ)
reachability ranking), a value function trained with a physics-informed (HJ) residual on
reduced-agent systems is deployed on any number of agents, execution is receding-horizon, and
the method is judged by its safety/performance trade-off as N grows.

What follows that summary:

* a value function trained by a physics-informed loss, the residual of the HJ variational
  inequality, on a reduced system (two robots), then deployed decentralised on any N;
* neighbour selection by that value: each robot keeps the ``k`` neighbours of lowest value
  (most safety-critical), not the ``k`` nearest;
* receding-horizon execution: plan over a short horizon, apply the first action, re-plan.

Our choices (not from the paper):

* The reduced system is one robot pair's relative state ``x = (dp, dv)`` in R^4 and the value is
  a pure safety (avoid) value: ``V(x, tau) = max_u min_{s <= tau} l(x(s))``, ``l(x) = |dp| - Ds``,
  with both robots cooperating (relative force ``u_i - u_j``). Performance is not in the value;
  it is the nominal force of :class:`~swarmzoo.agents.navigation.NavigationHeuristic` (Hungarian
  goal assignment + proportional control), which the planner follows as closely as safety allows.
* Continuous-time dynamics matched to the env's velocity recursion
  (``vel = (1 - damping) vel + force / mass dt``): ``dv' = -c dv + u``, ``c = -ln(1 - damping) /
  dt``, per-robot force bound ``a = accel dt c / (damping mass)`` (the continuous force that
  gives the same velocity after one step), so the pair's relative control set is ``2 a`` times
  the per-robot set: the diamond ``|ux| + |uy| <= 1`` (the convex hull of the five discrete
  actions; valid, conservatively, for continuous actions too) or the box ``[-1, 1]^2``.
* DeepReach-style network ``V = l(x) + (tau / T) NN(x, tau)``: the boundary condition
  ``V(x, 0) = l(x)`` holds exactly; it is read as ``min(V, l)`` (every avoid value is at most
  ``l``). (A form with ``V <= l`` built in, ``l - (tau / T) softplus(NN)``, trained to a clearly
  worse, over-cautious value: 91 % sign agreement on closing states against 96 %.)
* Deployment: ``V(., T)`` at the trained horizon ``T = 1 s``, long enough for any pair to stop:
  the reference value is the same at 0.7 s and at 1 s, so it has converged to the
  infinite-horizon value. The env integrates positions with the previous
  step's velocity, an actuation delay the continuous model lacks: positions are led by
  ``lead * dv`` before the value is read (``lead`` defaults to 0.6 ``dt``, the lead that makes the
  model's and the env's braking distances agree, see ``docs/algorithms/mad_pinn.md``).
* Planning: candidate own forces (the five discrete actions, or a ``candidates x candidates``
  grid of the action box plus the nominal force), each held for ``horizon`` steps with the kept
  neighbours coasting (no force: the robot does not know their plans), predicted with the env's
  exact discrete update; a candidate is safe when ``V >= margin`` at every predicted step for
  every kept neighbour. The safe candidate closest to the nominal force wins; if none is safe,
  the one of largest worst-case value. A robot whose nominal force is unsafe prefers candidates
  to its right (``keep_right``: breaks head-on and blocked-goal deadlocks).
* Goals come from the heuristic's assignment (a matching per env copy at each episode start,
  the one centralised part); obstacles are left to the heuristic's nominal push. The time-to-
  collision ranking (``ranking="ttc"``) is the fallback ranking, and ``ranking="nearest"`` the
  baseline the issue contrasts with.

Everything a robot uses is its own state, its goal and its sensed neighbours' relative positions
and velocities, batched over env copies, robots, neighbours and candidates (no loop over robots),
so it runs on N = 1,000 (neighbours by :func:`~swarmzoo.envs.core.neighbors.knn`).

The value network ships as ``assets/policies/navigation-v0-mad-pinn-value.pt`` (trained by
:mod:`swarmzoo.algorithms.mad_pinn` for navigation-v0's default dynamics and ``Ds = 0.3``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from swarmzoo.agents.files import safe_load
from swarmzoo.agents.navigation import NavigationHeuristic
from swarmzoo.envs.core.neighbors import knn
from swarmzoo.envs.core.physics import DISCRETE_DIRECTIONS

VALUE_KIND = "mad-pinn-value"
"""The ``kind`` entry of a MAD-PINN value file."""

DYNAMICS_FIELDS = ("accel", "dt", "damping", "mass", "max_speed")
"""The env ``Config`` fields a value file is tied to: a different value of any is refused."""

ControlSet = Literal["diamond", "box"]


def default_value_path() -> Path:
    """The shipped value network (navigation-v0's default dynamics, ``Ds = 0.3``)."""
    return Path(resources.files("swarmzoo.assets")) / "policies" / "navigation-v0-mad-pinn-value.pt"


@dataclass(frozen=True)
class PairDynamics:
    """Continuous-time relative dynamics of a robot pair under the env's damped point masses.

    ``dp' = dv``, ``dv' = -c dv + u_i - u_j``, with each robot's acceleration ``u`` in
    ``force_bound`` times the ``control_set`` (``"diamond"``: ``|ux| + |uy| <= 1``, the convex hull
    of the discrete actions; ``"box"``: ``[-1, 1]^2``, the continuous actions).

    Attributes:
        accel, dt, damping, mass: the env's (``navigation-v0``'s ``Config`` fields).
        control_set: ``"diamond"`` or ``"box"``.
    """

    accel: float = 5.0
    dt: float = 0.1
    damping: float = 0.25
    mass: float = 1.0
    control_set: ControlSet = "diamond"

    def __post_init__(self) -> None:
        if self.control_set not in ("diamond", "box"):
            raise ValueError(f"control_set must be 'diamond' or 'box', got {self.control_set!r}")
        if not (self.accel > 0 and self.dt > 0 and self.mass > 0 and 0 <= self.damping < 1):
            raise ValueError(f"invalid dynamics {self}")

    @property
    def decay(self) -> float:
        """``c = -ln(1 - damping) / dt``: the env's per-step velocity decay as a rate."""
        return -math.log1p(-self.damping) / self.dt

    @property
    def force_bound(self) -> float:
        """Per-robot acceleration bound ``a`` of the continuous model: a constant ``a`` over one
        step changes the velocity as a full action does in the env (``accel dt / mass``)."""
        if self.damping == 0:
            return self.accel / self.mass
        return self.accel * self.dt * self.decay / (self.damping * self.mass)

    @property
    def top_speed(self) -> float:
        """Terminal speed along an axis under a full push (the env's and the model's)."""
        return self.accel * self.dt / (self.damping * self.mass) if self.damping else math.inf

    def hamiltonian(self, dv: torch.Tensor, grad_p: torch.Tensor, grad_v: torch.Tensor) -> torch.Tensor:
        """``max_u grad V . f(x, u)`` for the cooperative pair (relative control ``2 a`` times
        the control set): ``grad_p . dv - c grad_v . dv + 2 a ||grad_v||_*`` (the dual norm of
        the set: L1 for the box, L-infinity for the diamond)."""
        gv = grad_v.abs()
        dual = gv.sum(-1) if self.control_set == "box" else gv.amax(-1)
        drift = (grad_p * dv).sum(-1) - self.decay * (grad_v * dv).sum(-1)
        return drift + 2.0 * self.force_bound * dual

    def dynamics_of(self) -> dict[str, Any]:
        """The env fields this model stands for (``max_speed`` None: no speed cap)."""
        return {
            "accel": self.accel,
            "dt": self.dt,
            "damping": self.damping,
            "mass": self.mass,
            "max_speed": None,
        }


class ValueNetwork(nn.Module):
    """``V(x, tau)`` of a robot pair: ``l(x) + (tau / horizon) MLP(x, tau)`` (DeepReach's exact
    boundary condition: ``V(x, 0) = l(x) = |dp| - safety_radius``).

    ``x = (dp, dv)`` (``(..., 4)``, robot minus neighbour), ``tau`` (``(...)``) the time to go in
    seconds; inputs are scaled by the training box (``pos_range``, ``vel_range``, ``horizon``).
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (64, 64, 64),
        safety_radius: float = 0.3,
        horizon: float = 1.0,
        pos_range: float = 3.0,
        vel_range: float = 4.4,
    ) -> None:
        super().__init__()
        self.hidden = tuple(int(h) for h in hidden)
        self.safety_radius = float(safety_radius)
        self.horizon = float(horizon)
        self.pos_range = float(pos_range)
        self.vel_range = float(vel_range)
        layers: list[nn.Module] = []
        width = 5
        for h in self.hidden:
            layers += [nn.Linear(width, h), nn.Tanh()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def margin(self, x: torch.Tensor) -> torch.Tensor:
        """``l(x) = |dp| - safety_radius`` (smoothed at ``dp = 0``)."""
        return torch.sqrt((x[..., :2] ** 2).sum(-1) + 1e-12) - self.safety_radius

    def forward(self, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        s = tau / self.horizon
        z = torch.cat(
            [x[..., :2] / self.pos_range, x[..., 2:] / self.vel_range, (2.0 * s - 1.0)[..., None]], -1
        )
        return self.margin(x) + s * self.mlp(z).squeeze(-1)

    def deployed(self, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """``min(V, l)``: the network's value with the bound every avoid value meets (``V <= l``)
        imposed, as the controller and the validation read it."""
        return torch.minimum(self.forward(x, tau), self.margin(x))

    def spec(self) -> dict[str, Any]:
        """The constructor arguments (stored in the value file)."""
        return {
            "hidden": list(self.hidden),
            "safety_radius": self.safety_radius,
            "horizon": self.horizon,
            "pos_range": self.pos_range,
            "vel_range": self.vel_range,
        }


class SafetyValue:
    """A loaded value file: ``value(dp, dv)`` is ``V((dp, dv), horizon)`` as a numpy array.

    Attributes:
        network: the :class:`ValueNetwork`.
        dynamics: the :class:`PairDynamics` it was trained for.
        meta: the file's other entries (training arguments, validation numbers).
    """

    def __init__(self, network: ValueNetwork, dynamics: PairDynamics, meta: dict[str, Any] | None = None):
        self.network = network.eval()
        self.dynamics = dynamics
        self.meta = dict(meta or {})

    @property
    def safety_radius(self) -> float:
        return self.network.safety_radius

    @property
    def horizon(self) -> float:
        return self.network.horizon

    def __call__(self, dp: np.ndarray, dv: np.ndarray, tau: float | None = None) -> np.ndarray:
        """``V`` of relative states ``dp, dv (..., 2)`` at time to go ``tau`` (default: the
        trained horizon); inputs are clipped to the training box (outside it the network was
        never trained: positions that far are safe, speeds that high do not occur without
        contact pushes)."""
        net = self.network
        shape = dp.shape[:-1]
        x = np.empty((*shape, 4), np.float32)
        np.clip(dp, -net.pos_range, net.pos_range, out=x[..., :2], casting="unsafe")
        np.clip(dv, -net.vel_range, net.vel_range, out=x[..., 2:], casting="unsafe")
        t = net.horizon if tau is None else float(tau)
        with torch.no_grad():
            xt = torch.from_numpy(x.reshape(-1, 4))
            out = net.deployed(xt, torch.full((xt.shape[0],), t))
        return out.numpy().reshape(shape)


def value_payload(network: ValueNetwork, dynamics: PairDynamics, **meta: Any) -> dict[str, Any]:
    """The plain dict (tensors, numbers, strings) a value file holds; write it with
    :func:`~swarmzoo.agents.files.atomic_torch_save`."""
    from swarmzoo.agents.files import POLICY_FORMAT

    return {
        "format": POLICY_FORMAT,
        "kind": VALUE_KIND,
        "network": network.spec(),
        "state_dict": {k: v.detach().clone() for k, v in network.state_dict().items()},
        "dynamics": dynamics.dynamics_of(),
        "control_set": dynamics.control_set,
        "safety_radius": network.safety_radius,
        "horizon": network.horizon,
        **meta,
    }


def load_value(path: str | Path | None = None) -> SafetyValue:
    """Read a value file (default: the shipped one) through
    :func:`~swarmzoo.agents.files.safe_load`.

    Raises:
        ValueError: not a MAD-PINN value file (or damaged / unsafe, as ``safe_load`` reports).
    """
    path = default_value_path() if path is None else Path(path)
    data = safe_load(path)
    if data.get("kind") != VALUE_KIND:
        raise ValueError(f"{path} is not a MAD-PINN value file (kind {VALUE_KIND!r})")
    spec = dict(data["network"])
    network = ValueNetwork(tuple(spec.pop("hidden")), **spec)
    network.load_state_dict(data["state_dict"])
    dyn = data["dynamics"]
    dynamics = PairDynamics(
        accel=dyn["accel"],
        dt=dyn["dt"],
        damping=dyn["damping"],
        mass=dyn["mass"],
        control_set=data["control_set"],
    )
    meta = {k: v for k, v in data.items() if k not in ("state_dict", "network", "format", "kind")}
    return SafetyValue(network, dynamics, meta)


def time_to_collision(dp: np.ndarray, dv: np.ndarray, radius: float) -> np.ndarray:
    """Straight-line time until ``|dp + dv t| = radius`` (0 if already closer, ``inf`` if never),
    for ``dp, dv (..., 2)``."""
    a = np.einsum("...d,...d->...", dv, dv)
    b = np.einsum("...d,...d->...", dp, dv)
    c = np.einsum("...d,...d->...", dp, dp) - radius * radius
    disc = b * b - a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
    t = np.where((disc >= 0) & (b < 0) & (a > 0), t, np.inf)
    return np.where(c <= 0, 0.0, np.maximum(t, 0.0))


class _Nominal(NavigationHeuristic):
    """The heuristic, keeping the force it asked for (the planner's performance objective)."""

    force: np.ndarray | None = None

    def _to_actions(self, force: np.ndarray, task: Any) -> np.ndarray:
        self.force = np.asarray(force, dtype=np.float64)
        return super()._to_actions(force, task)


class MADPINNController:
    """Decentralised safe navigation: HJ-value neighbour ranking + receding-horizon safety filter
    around :class:`~swarmzoo.agents.navigation.NavigationHeuristic`'s nominal force.

    Args:
        value_path: the value file (default: the shipped one, for navigation-v0's default
            dynamics and ``Ds = 0.3``).
        k: safety-critical neighbours each robot keeps.
        horizon: steps each candidate force is held in the prediction (``>= 1``; the first is
            applied, then the robot re-plans).
        candidates: points per axis of the candidate grid over the continuous action box (plus
            the nominal force); discrete actions use their five actions.
        margin: a candidate is safe when ``V >= margin`` for every kept neighbour.
        lead: seconds of relative velocity added to positions before reading the value (the
            env's one-step actuation delay); default ``0.6 dt``.
        sensing_range: robots farther than this are not sensed (default: the value's training
            range minus the distance a pair closes in ``dt``; the env's ``sensing_radius`` if
            smaller).
        pool: nearest sensed robots among which the ``k`` most critical are chosen.
        ranking: ``"value"`` (HJ value, lowest first), ``"ttc"`` (time to collision, the
            fallback) or ``"nearest"`` (distance: the baseline).
        safety_radius: expected minimum centre distance; must be the value's (default: the env
            Config's ``safety_radius`` if it has one, else the value's).
        keep_right: when the nominal force is unsafe, weight of a bonus for candidates to its
            right (a traffic rule that breaks the filter's deadlocks: two robots meeting head-on
            both swerve right, a robot blocked by one sitting on its goal goes round it; 0
            disables it).
        prune: a kept neighbour whose coasting value is above ``margin + prune * horizon`` is not
            planned for: no candidate can bring it below ``margin``, since one step of a full push
            changes the relative velocity by at most ``accel dt sqrt 2 / mass`` (0.71) and the
            value's sensitivity to it is at most ``lead + 1 / c`` (0.41 s) for the exact value;
            ``inf`` plans for every kept neighbour.
        seed: unused (the controller is deterministic); accepted for ``make_policy``.

    Raises:
        ValueError: raised by :meth:`act` for an env whose dynamics differ from the value's
            (naming the fields), the ``mpe_spread`` preset, a discrete env with a box-trained
            value, or a safety radius other than the value's.
    """

    def __init__(
        self,
        value_path: str | Path | None = None,
        k: int = 4,
        horizon: int = 1,
        candidates: int = 5,
        margin: float = 0.0,
        lead: float | None = None,
        sensing_range: float | None = None,
        pool: int = 12,
        ranking: Literal["value", "ttc", "nearest"] = "value",
        safety_radius: float | None = None,
        keep_right: float = 1.5,
        prune: float = 0.5,
        seed: int | None = None,
    ) -> None:
        if k < 1 or pool < k:
            raise ValueError(f"need 1 <= k <= pool, got k={k}, pool={pool}")
        if horizon < 1 or candidates < 2:
            raise ValueError(f"need horizon >= 1 and candidates >= 2, got {horizon}, {candidates}")
        if ranking not in ("value", "ttc", "nearest"):
            raise ValueError(f"ranking must be 'value', 'ttc' or 'nearest', got {ranking!r}")
        self.value = load_value(value_path)
        self.k, self.horizon, self.candidates, self.margin = k, horizon, candidates, margin
        dyn = self.value.dynamics
        self.lead = 0.6 * dyn.dt if lead is None else float(lead)
        net = self.value.network
        default_range = net.pos_range - 2.0 * dyn.top_speed * dyn.dt
        self.sensing_range = default_range if sensing_range is None else float(sensing_range)
        self.pool, self.ranking = pool, ranking
        self.safety_radius = safety_radius
        self.keep_right = float(keep_right)
        self.prune = float(prune)
        self.nominal = _Nominal()
        self._checked: Any = None
        self.last_kept: np.ndarray | None = None  # (E, N, k) indices of the kept neighbours, -1: none

    # -- checks ----------------------------------------------------------------------------

    def check(self, task: Any) -> None:
        """Raise ``ValueError`` unless the value file fits ``task``'s config (see the class)."""
        cfg = task.config
        if cfg is self._checked:
            return
        if getattr(cfg, "mpe_compat", False):
            raise ValueError(
                "MADPINNController does not support the mpe_spread preset (mpe_compat=True: MPE's "
                "layouts and robot radius 0.15); use navigation-v0's default layouts"
            )
        trained = self.value.meta["dynamics"]
        wrong = [
            f"{f}={getattr(cfg, f)!r} (value trained for {trained[f]!r})"
            for f in DYNAMICS_FIELDS
            if getattr(cfg, f, None) != trained[f]
        ]
        if wrong:
            raise ValueError(
                "the MAD-PINN value was trained for other dynamics than this env's: "
                + ", ".join(wrong)
                + "; retrain it with python -m swarmzoo.algorithms.mad_pinn"
            )
        if not cfg.continuous_actions and self.value.dynamics.control_set == "box":
            raise ValueError(
                "this value was trained for continuous (box) actions; discrete actions reach only "
                "their convex hull (control_set='diamond'): retrain with --control-set diamond"
            )
        want = self.safety_radius if self.safety_radius is not None else getattr(cfg, "safety_radius", None)
        Ds = self.value.safety_radius
        if want is not None and not math.isclose(want, Ds):
            raise ValueError(f"safety_radius={want!r} but the value was trained for Ds={Ds!r}; retrain it")
        if Ds <= 2.0 * cfg.robot_radius:
            raise ValueError(
                f"the value's safety radius {Ds} does not exceed the contact distance 2 robot_radius = "
                f"{2 * cfg.robot_radius}"
            )
        self._checked = cfg

    # -- acting ----------------------------------------------------------------------------

    def act(self, obs: np.ndarray, task: Any) -> np.ndarray:
        """Actions ``(E, N)`` (discrete) or ``(E, N, 2)`` (continuous) for the task's state."""
        self.check(task)
        cfg = task.config
        nominal_action = self.nominal.act(obs, task)
        nominal_force = self.nominal.force  # (E, N, 2)
        pos, vel = np.ascontiguousarray(task.pos), np.ascontiguousarray(task.vel)
        E, N = pos.shape[:2]
        rng = self.sensing_range
        if cfg.sensing_radius is not None:
            rng = min(rng, cfg.sensing_radius)
        nb = knn(pos, pos, min(self.pool, N - 1), task.arena, radius=rng, exclude_self=True)
        if N == 1 or not nb.mask.any():
            self.last_kept = np.full((E, N, self.k), -1)
            return self._emit(nominal_action, nominal_force, None, cfg)
        valid = np.asarray(nb.mask)
        index = np.where(valid, nb.index, 0)
        dp0 = -np.asarray(nb.delta)  # robot minus neighbour, (E, N, P, 2)
        v_nb = np.take_along_axis(vel, index.reshape(E, -1)[..., None], axis=1).reshape(*index.shape, 2)
        dv0 = vel[:, :, None, :] - v_nb
        dt, keep = cfg.dt, 1.0 - cfg.damping
        # One step ahead with everybody coasting: positions then do not depend on this step's force.
        dp1, dv1 = dp0 + dv0 * dt, dv0 * keep
        kept, coast = self._rank(dp0, dv0, dp1, dv1, valid)  # (E, N, k) slots into the pool
        kvalid = np.take_along_axis(valid, kept, axis=2)
        dp1 = np.take_along_axis(dp1, kept[..., None], axis=2)
        dv1 = np.take_along_axis(dv1, kept[..., None], axis=2)
        self.last_kept = np.where(kvalid, np.take_along_axis(nb.index, kept, axis=2), -1)
        coast = (
            self.value(dp1 + self.lead * dv1, dv1) if coast is None else np.take_along_axis(coast, kept, 2)
        )
        # Only pairs a candidate could make unsafe are planned for (see `prune`).
        need = kvalid & (coast < self.margin + self.prune * self.horizon)
        forces = self._candidate_forces(nominal_force, cfg)  # (E, N, C, 2) or (C, 2)
        forces = np.broadcast_to(forces, (E, N, *forces.shape[-2:]))
        C = forces.shape[2]
        worst = np.full((E, N, self.k, C), np.inf, np.float32)
        at = np.nonzero(need)
        if len(at[0]):
            # Hold each candidate for `horizon` steps; neighbours coast. (M, C, 2)
            push = forces[at[0], at[1]] * (dt / cfg.mass)
            dp, dv = dp1[at][:, None], dv1[at][:, None] + push
            planned = None
            for h in range(self.horizon):
                if h:
                    dp = dp + dv * dt
                    dv = dv * keep + push
                dp = np.broadcast_to(dp, dv.shape)
                v = self.value(dp + self.lead * dv, dv)
                planned = v if planned is None else np.minimum(planned, v)
            worst[at] = planned
        worst = worst.min(axis=2)  # (E, N, C); inf where nothing is critical
        return self._emit(nominal_action, nominal_force, (forces, worst), cfg)

    def _rank(self, dp0, dv0, dp1, dv1, valid) -> tuple[np.ndarray, np.ndarray | None]:
        """The pool slots ``(E, N, k)`` of each robot's ``k`` most safety-critical neighbours, and
        (value ranking) the coasting values of the whole pool."""
        coast = None
        if self.ranking == "value":
            key = coast = self.value(dp1 + self.lead * dv1, dv1)
        elif self.ranking == "ttc":
            ttc = time_to_collision(dp0, dv0, self.value.safety_radius)
            key = ttc + 1e-3 * np.linalg.norm(dp0, axis=-1)  # never-colliding ones by distance
        else:
            key = np.linalg.norm(dp0, axis=-1)
        key = np.where(valid, key, np.inf)
        return np.argsort(key, axis=-1, kind="stable")[..., : self.k], coast  # fewer if the pool is smaller

    def _candidate_forces(self, nominal_force: np.ndarray, cfg: Any) -> np.ndarray:
        if not cfg.continuous_actions:
            return DISCRETE_DIRECTIONS * cfg.accel  # (5, 2)
        g = np.linspace(-1.0, 1.0, self.candidates)
        grid = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2) * cfg.accel
        E, N = nominal_force.shape[:2]
        nominal = np.clip(nominal_force, -cfg.accel, cfg.accel)[:, :, None]
        return np.concatenate([np.broadcast_to(grid, (E, N, *grid.shape)), nominal], axis=2)

    def _emit(self, nominal_action, nominal_force, planned, cfg) -> np.ndarray:
        if planned is None:
            return nominal_action
        forces, worst = planned
        nominal = np.clip(nominal_force, -cfg.accel, cfg.accel)
        score = -np.sum((forces - nominal[:, :, None]) ** 2, axis=-1) / cfg.accel**2  # (E, N, C)
        safe = worst >= self.margin
        if not cfg.continuous_actions:  # the heuristic's own action first (its deadband included)
            own = np.arange(5) == nominal_action[..., None]
            score = np.where(own, 1.0, score)
            blocked = ~(safe & own).any(axis=-1)
        else:
            blocked = ~safe[..., -1]
        if self.keep_right:  # a robot whose nominal force is unsafe prefers to turn right of it
            right = np.stack([nominal[..., 1], -nominal[..., 0]], -1)
            right /= np.maximum(np.linalg.norm(right, axis=-1, keepdims=True), 1e-9)
            bonus = np.einsum("encd,end->enc", forces, right) / cfg.accel
            score = score + self.keep_right * blocked[..., None] * bonus
        best_safe = np.where(safe, score, -np.inf).argmax(axis=-1)
        # No safe candidate: the largest worst-case value (ties: closest to the nominal force).
        safest = (worst + 1e-6 * score).argmax(axis=-1)
        choice = np.where(safe.any(axis=-1), best_safe, safest)  # (E, N)
        if not cfg.continuous_actions:
            return choice
        u = np.take_along_axis(forces, choice[..., None, None], axis=2)[:, :, 0] / cfg.accel
        return np.clip(u, -1.0, 1.0).astype(np.float32)
