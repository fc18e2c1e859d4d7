"""Training the MAD-PINN-style pair safety value (the controller is
:class:`swarmzoo.agents.mad_pinn.MADPINNController`).

The reduced system is one robot pair's relative state ``x = (dp, dv)`` under
:class:`~swarmzoo.agents.mad_pinn.PairDynamics`. Its avoid value
``V(x, tau) = max_u min_{s <= tau} l(x(s))``, ``l(x) = |dp| - Ds``, is the viscosity solution of the
Hamilton-Jacobi variational inequality (time to go ``tau``)::

    min{ l(x) - V(x, tau),  H(x, grad_x V) - dV/dtau } = 0,   V(x, 0) = l(x),
    H(x, p) = max_u p . f(x, u)   (closed form: PairDynamics.hamiltonian)

A :class:`~swarmzoo.agents.mad_pinn.ValueNetwork` (``V = l(x) + (tau / T) NN(x, tau)``, which
meets ``V(x, 0) = l(x)`` by construction: DeepReach's exact boundary condition) is trained to make
that residual zero on sampled states and times, with autograd gradients: the physics-informed (HJ)
loss of the paper's summary, on a two-robot reduced system. Half of each batch is drawn near the
obstacle (where the value is not simply ``l``), half uniformly from the training box; the time
range grows linearly over the first ``curriculum`` fraction of the iterations (DeepReach's curriculum).

:func:`ground_truth` gives a reference to check it against: the best of many open-loop controls
(constant controls on the control set's boundary, then piecewise-constant ones refined by gradient
ascent), each rolled out exactly; its value is a lower bound of the true ``V``, so "safe" under it
is certain. :func:`validate` reports the sign agreement ``V_net >= 0 iff V_ref >= 0``.

Run ``python -m swarmzoo.algorithms.mad_pinn --out PATH`` (``--help`` lists the arguments); the
defaults reproduce the shipped ``assets/policies/navigation-v0-mad-pinn-value.pt``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from swarmzoo.agents.files import atomic_torch_save
from swarmzoo.agents.mad_pinn import PairDynamics, ValueNetwork, value_payload
from swarmzoo.agents.policies import Policy


@dataclass
class Args:
    """Arguments of the value training (defaults: navigation-v0's default dynamics, Ds = 0.3)."""

    out: Path = Path("runs/mad-pinn-value.pt")
    """Where to write the value file."""
    accel: float = 5.0
    """Env force of a full action (navigation-v0 Config.accel)."""
    dt: float = 0.1
    """Env time step."""
    damping: float = 0.25
    """Env fraction of velocity lost per step."""
    mass: float = 1.0
    """Env robot mass."""
    control_set: Literal["diamond", "box"] = "diamond"
    """Per-robot control set: diamond (hull of the discrete actions; also safe for continuous ones)
    or box (continuous actions only)."""
    safety_radius: float = 0.3
    """Ds: the minimum allowed centre distance, l(x) = |dp| - Ds."""
    horizon: float = 1.0
    """Longest time to go T (s) the value is trained for (deployed at T)."""
    pos_range: float = 3.0
    """Training box half-width of each relative position component."""
    vel_range: float = 4.4
    """Training box half-width of each relative velocity component (2.2 x the terminal speed)."""
    near_fraction: float = 0.5
    """Fraction of each batch drawn near the obstacle (|dp| uniform in [0, Ds + near_radius], the
    velocity uniform in its box), where the value is not simply l; the rest is uniform."""
    near_radius: float = 1.5
    """See near_fraction."""
    hidden: tuple[int, ...] = (64, 64, 64)
    """Hidden layer widths of the MLP."""
    iterations: int = 12_000
    """Gradient steps."""
    batch: int = 2048
    """States per step."""
    lr: float = 2e-3
    """Adam learning rate (cosine-decayed to 2 % of it)."""
    curriculum: float = 0.5
    """Fraction of the iterations over which the time range grows from 0 to the horizon."""
    seed: int = 0
    """Seed of torch (initialisation, sampled states) and of the validation states."""
    validation_states: int = 2000
    """Held-out states per validation set (0: skip validation)."""
    reference_refine_steps: int = 150
    """Gradient steps refining the reference's piecewise-constant controls (0: constant ones only)."""
    threads: int = 1
    """torch CPU threads (1 is kind to shared machines)."""
    progress: bool = True
    """Print the loss now and then."""
    log_every: int = 1000
    """Iterations between progress lines."""

    def dynamics(self) -> PairDynamics:
        return PairDynamics(self.accel, self.dt, self.damping, self.mass, self.control_set)


def hj_residual(net: ValueNetwork, dyn: PairDynamics, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """``min{l - V, H(x, grad V) - dV/dtau}`` at states ``x (B, 4)``, times ``tau (B,)``."""
    x = x.requires_grad_(True)
    tau = tau.requires_grad_(True)
    v = net(x, tau)
    gx, gt = torch.autograd.grad(v.sum(), (x, tau), create_graph=True)
    ham = dyn.hamiltonian(x[:, 2:], gx[:, :2], gx[:, 2:])
    return torch.minimum(net.margin(x) - v, ham - gt)


def sample_states(n: int, args: Args) -> torch.Tensor:
    """``n`` relative states: ``near_fraction`` of them near the obstacle, the rest uniform in the
    training box."""
    scale = torch.tensor([args.pos_range, args.pos_range, args.vel_range, args.vel_range])
    x = (2.0 * torch.rand(n, 4) - 1.0) * scale
    near = int(round(args.near_fraction * n))
    if near:
        r = torch.rand(near) * (args.safety_radius + args.near_radius)
        a = torch.rand(near) * (2 * math.pi)
        x[:near, 0], x[:near, 1] = r * torch.cos(a), r * torch.sin(a)
    return x


def train_value(args: Args) -> Path:
    """Train the value network and write it to ``args.out`` (returned); validation numbers go in
    the file's ``validation`` entry."""
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return _train(args)
    finally:
        torch.set_num_threads(threads)


def _train(args: Args) -> Path:
    dyn = args.dynamics()
    torch.manual_seed(args.seed)
    net = ValueNetwork(args.hidden, args.safety_radius, args.horizon, args.pos_range, args.vel_range)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(args.iterations, 1), eta_min=0.02 * args.lr)
    ramp = max(1, int(args.curriculum * args.iterations))
    start, recent = time.perf_counter(), []
    for it in range(args.iterations):
        x = sample_states(args.batch, args)
        tau = torch.rand(args.batch) * args.horizon * min(1.0, (it + 1) / ramp)
        loss = hj_residual(net, dyn, x, tau).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        recent.append(loss.item())
        if args.progress and (it + 1) % args.log_every == 0:
            print(f"iter {it + 1:6d}  residual^2 {np.mean(recent):.3e}  {time.perf_counter() - start:6.1f}s")
            recent = []
    seconds = time.perf_counter() - start
    net.eval()
    validation = (
        validate(net, dyn, args.validation_states, args.seed, args.reference_refine_steps)
        if args.validation_states
        else {}
    )
    if args.progress and validation:
        print("validation:", validation)
    train_args = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(args).items()}
    train_args["hidden"] = list(args.hidden)
    atomic_torch_save(
        value_payload(
            net,
            dyn,
            pos_range=args.pos_range,
            vel_range=args.vel_range,
            train_args=train_args,
            train_seconds=seconds,
            validation=validation,
        ),
        args.out,
    )
    return Path(args.out)


# -- the reference ---------------------------------------------------------------------------


def _exact_step(p, v, u, h: float, c: float):
    """Exact ``(p, v)`` after ``h`` seconds of constant relative control ``u``."""
    if c == 0:
        return p + v * h + 0.5 * u * h * h, v + u * h
    e = math.exp(-c * h)
    g = (1.0 - e) / c
    return p + v * g + u * (h - g) / c, v * e + u * g


def _controls(theta: torch.Tensor, dyn: PairDynamics) -> torch.Tensor:
    """Relative controls in ``2 a`` times the control set from free parameters ``(..., 2)`` (box)
    or ``(..., 4)`` (diamond: convex weights of its four vertices)."""
    bound = 2.0 * dyn.force_bound
    if dyn.control_set == "box":
        return bound * torch.tanh(theta)
    vertices = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]], dtype=theta.dtype)
    return bound * torch.softmax(theta, -1) @ vertices


def _rollout_min(x: torch.Tensor, u: torch.Tensor, dyn: PairDynamics, Ds: float, h: float, soft: float = 0.0):
    """Minimum over the fine time grid of ``l`` along trajectories from ``x (B, 4)`` under controls
    ``u (B, S, 2)`` (one per fine step); ``soft > 0``: a soft minimum with that temperature."""
    p, v = x[:, :2], x[:, 2:]
    margins = [torch.linalg.norm(p, dim=-1) - Ds]
    for s in range(u.shape[1]):
        p, v = _exact_step(p, v, u[:, s], h, dyn.decay)
        margins.append(torch.sqrt((p * p).sum(-1) + 1e-12) - Ds)
    m = torch.stack(margins, -1)
    if soft > 0:
        return -soft * torch.logsumexp(-m / soft, -1)
    return m.min(-1).values


def ground_truth(
    x: np.ndarray,
    dyn: PairDynamics,
    safety_radius: float,
    horizon: float,
    directions: int = 48,
    pieces: int = 10,
    refine_steps: int = 150,
    fine_dt: float = 0.01,
) -> np.ndarray:
    """A lower bound of the true ``V(x, horizon)`` for states ``x (B, 4)``: the best of
    ``directions`` constant controls on the control set's boundary (and no control), then
    ``pieces``-piece piecewise-constant controls started from the best of those and refined by
    ``refine_steps`` Adam steps on a soft minimum; every candidate is rolled out exactly on a
    ``fine_dt`` grid. States it calls safe (``>= 0``) are safe.

    The bound is tight where the optimal trajectory's closest approach happens at one time
    ``t*``: the position at ``t*`` is linear in the control with a nonnegative kernel
    (``(1 - exp(-c (t* - s))) / c``), so the best control pushes along one fixed direction
    (a constant vertex of the control set) until ``t*``, which the constant family contains. The
    piecewise-constant refinement (started from the best constant control) has not improved the
    sign of any held-out state of the shipped value's validation."""
    with torch.no_grad():
        xt = torch.as_tensor(x, dtype=torch.float64).reshape(-1, 4)
    B = xt.shape[0]
    steps = max(pieces, int(round(horizon / fine_dt / pieces)) * pieces)
    h = horizon / steps
    angle = torch.arange(directions, dtype=torch.float64) * (2 * math.pi / directions)
    d = torch.stack([torch.cos(angle), torch.sin(angle)], -1)
    norm = d.abs().amax(-1, keepdim=True) if dyn.control_set == "box" else d.abs().sum(-1, keepdim=True)
    const = torch.cat([torch.zeros(1, 2, dtype=torch.float64), 2.0 * dyn.force_bound * d / norm])  # (M, 2)
    with torch.no_grad():
        best, best_u = (
            torch.full((B,), -math.inf, dtype=torch.float64),
            torch.zeros(B, 2, dtype=torch.float64),
        )
        for u in const:
            m = _rollout_min(xt, u.expand(B, steps, 2), dyn, safety_radius, h)
            better = m > best
            best = torch.where(better, m, best)
            best_u[better] = u
    if refine_steps <= 0:
        return best.numpy()
    # Parameters reproducing (nearly) the best constant control in every piece.
    bound = 2.0 * dyn.force_bound
    if dyn.control_set == "box":
        init = torch.atanh((best_u / bound).clamp(-0.9, 0.9))
    else:
        ux, uy = best_u[:, 0], best_u[:, 1]
        w = torch.stack([ux.clamp(min=0), -ux.clamp(max=0), uy.clamp(min=0), -uy.clamp(max=0)], -1)
        w = 0.8 * w / bound + 0.05  # mostly best_u's vertex weights (unsaturated, so it can move)
        init = torch.log(w / w.sum(-1, keepdim=True))
    theta = init[:, None].repeat(1, pieces, 1).clone().requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=0.1)
    per = steps // pieces
    refined = best.clone()
    for _ in range(refine_steps):
        u = _controls(theta, dyn).repeat_interleave(per, dim=1)
        soft = _rollout_min(xt, u, dyn, safety_radius, h, soft=0.01)
        opt.zero_grad()
        (-soft.sum()).backward()
        opt.step()
    with torch.no_grad():
        u = _controls(theta, dyn).repeat_interleave(per, dim=1)
        refined = torch.maximum(refined, _rollout_min(xt, u, dyn, safety_radius, h))
    return refined.numpy()


def critical_states(n: int, net: ValueNetwork, seed: int) -> np.ndarray:
    """``n`` closing states near the obstacle, where the sign of ``V`` is in doubt: ``|dp|``
    uniform in ``[Ds, Ds + 1]``, the relative velocity pointing inward (closing speed uniform up to
    ``vel_range``) plus a lateral part uniform in ``+-vel_range / 2``."""
    rng = np.random.default_rng(seed)
    r = rng.uniform(net.safety_radius, net.safety_radius + 1.0, n)
    a = rng.uniform(0, 2 * np.pi, n)
    radial = np.stack([np.cos(a), np.sin(a)], -1)
    lateral = np.stack([-radial[:, 1], radial[:, 0]], -1)
    closing = rng.uniform(0, net.vel_range, n)[:, None]
    side = rng.uniform(-0.5, 0.5, n)[:, None] * net.vel_range
    dv = np.clip(-closing * radial + side * lateral, -net.vel_range, net.vel_range)
    return np.concatenate([r[:, None] * radial, dv], -1)


def validate(
    net: ValueNetwork, dyn: PairDynamics, n: int, seed: int = 0, refine_steps: int = 150
) -> dict[str, float]:
    """Sign agreement of ``V_net(., T)`` with :func:`ground_truth` on ``n`` uniform states of the
    training box and ``n`` :func:`critical_states`, and the rates of the two errors:
    ``false_safe`` (network safe, reference unsafe: the reference is a lower bound, so these may
    be the reference's misses) and ``false_unsafe`` (network unsafe, reference safe: surely the
    network's, a conservative error)."""
    rng = np.random.default_rng(seed + 10_000)
    scale = np.array([net.pos_range, net.pos_range, net.vel_range, net.vel_range])
    sets = {"uniform": rng.uniform(-1, 1, (n, 4)) * scale, "critical": critical_states(n, net, seed + 20_000)}
    out: dict[str, float] = {}
    for name, x in sets.items():
        ref = ground_truth(x, dyn, net.safety_radius, net.horizon, refine_steps=refine_steps)
        with torch.no_grad():
            v = net.deployed(
                torch.as_tensor(x, dtype=torch.float32), torch.full((len(x),), net.horizon)
            ).numpy()
        safe_net, safe_ref = v >= 0, ref >= 0
        out[f"{name}_sign_agreement"] = float(np.mean(safe_net == safe_ref))
        out[f"{name}_false_safe"] = float(np.mean(safe_net & ~safe_ref))
        out[f"{name}_false_unsafe"] = float(np.mean(~safe_net & safe_ref))
        out[f"{name}_reference_safe"] = float(np.mean(safe_ref))
        out[f"{name}_mean_abs_error"] = float(np.mean(np.abs(v - ref)))
        # DeepReach-style verification: the level above which every held-out state is safe.
        out[f"{name}_safe_level"] = float(max(0.0, v[~safe_ref].max())) if (~safe_ref).any() else 0.0
    return out


# -- the safety / performance trade-off on navigation-v0 -----------------------------------------


def navigation_safety(
    policy: Policy | str, n_agents: int = 3, episodes: int = 4, seed: int = 0, **env_kwargs: Any
) -> dict[str, float]:
    """Safety and performance of ``policy`` (a :class:`~swarmzoo.agents.policies.Policy` or a
    ``make_policy`` name) over ``episodes`` full ``navigation-v0`` episodes, run as that many env
    copies at once (seeded ``seed``).

    Returns:
        ``collisions``: robot pairs in contact (centres closer than ``2 robot_radius``), summed
        over the steps, per episode; ``late_collisions``: those from the third step on (robots
        may spawn overlapping, closer than anyone can separate them in two steps);
        ``spawn_separation``: the smallest centre distance at the reset, averaged over episodes;
        ``contact_fraction``: the fraction of robot-steps in contact; ``min_separation``: the
        smallest centre distance of each episode (after the first step), averaged over
        episodes, ``worst_separation`` its minimum and ``late_separation`` the mean from the
        third step on; ``below_safety_radius``: the fraction of
        robot-steps whose nearest robot is closer than ``safety_radius`` (default 0.3);
        ``final_goal_distance``: the goals' mean distance to their nearest robot at the end;
        ``success_rate``: episodes ending with every goal occupied; ``seconds_per_step``: the
        policy's mean time per ``act`` call.
    """
    from swarmzoo.agents import make_policy
    from swarmzoo.envs.core.neighbors import knn
    from swarmzoo.envs.registry import make_vec

    safety_radius = float(env_kwargs.pop("safety_radius", 0.3))
    steps = int(env_kwargs.pop("max_cycles", 50))
    # One step more than we run, so the copies never auto-reset and every state can be read.
    venv = make_vec("navigation-v0", episodes, n_agents=n_agents, max_cycles=steps + 1, **env_kwargs)
    if isinstance(policy, str):
        policy = make_policy(policy, "navigation-v0", seed=seed)
    obs, _ = venv.reset(seed=seed)
    task = venv.task
    E, N = task.pos.shape[:2]
    contact = 2.0 * task.config.robot_radius
    spawn = (
        knn(task.pos, task.pos, 1, task.arena, exclude_self=True).dist[..., 0].min(axis=1)
        if N > 1
        else np.inf
    )
    collisions, late = np.zeros(E), np.zeros(E)
    in_contact = below = 0.0
    min_sep, late_sep = np.full(E, np.inf), np.full(E, np.inf)
    act_seconds = 0.0
    for step in range(steps):
        t0 = time.perf_counter()
        actions = policy.act(obs, task)
        act_seconds += time.perf_counter() - t0
        obs, _, _, _, infos = venv.step(actions)
        if N > 1:
            nearest = knn(task.pos, task.pos, 1, task.arena, exclude_self=True).dist[..., 0]  # (E, N)
            min_sep = np.minimum(min_sep, nearest.min(axis=1))
            if step >= 2:
                late_sep = np.minimum(late_sep, nearest.min(axis=1))
            in_contact += float(np.mean(nearest < contact))
            below += float(np.mean(nearest < safety_radius))
            pairs = np.asarray(infos["collisions"]).sum(axis=1) / 2.0
            collisions += pairs
            late += pairs if step >= 2 else 0.0
    goal_dist = knn(task.goals, task.pos, 1, task.arena).dist[..., 0].mean(axis=1)
    success = np.asarray(infos["success"], dtype=float)
    venv.close()
    return {
        "n_agents": N,
        "episodes": E,
        "collisions": float(collisions.mean()),
        "late_collisions": float(late.mean()),
        "spawn_separation": float(np.mean(spawn)),
        "contact_fraction": in_contact / steps,
        "below_safety_radius": below / steps,
        "min_separation": float(min_sep.mean()),
        "worst_separation": float(min_sep.min()),
        "late_separation": float(late_sep.mean()),
        "final_goal_distance": float(goal_dist.mean()),
        "success_rate": float(success.mean()),
        "seconds_per_step": act_seconds / steps,
    }


def main(argv: list[str] | None = None) -> None:
    import tyro

    args = tyro.cli(Args, args=argv, prog="python -m swarmzoo.algorithms.mad_pinn", description=__doc__)
    print(f"wrote {train_value(args)}")


if __name__ == "__main__":
    main()
