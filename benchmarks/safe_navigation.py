"""Safety and performance of navigation controllers as the swarm grows (issue 20's table).

Every controller runs on ``navigation-v0`` (continuous actions, the default arena, whose side
grows with sqrt(N) so the robot density stays that of 3 robots in 2 x 2) at N = 3, 10, 100 and
1,000 robots, with ``safety_radius = Ds`` for the safety metrics. Learners (MAPPO, HAMMER) are
trained once per seed at N = 3 with equal env-step budgets and deployed unchanged on every N
(their policies take no agent ids); scripted controllers are evaluated on the same seeded
episodes. Per cell: success (every goal occupied at the last step), the fraction of goals
occupied at the last step, collisions per robot-hour, the minimum separation, and the
controller's compute per env step (the time of ``policy.act`` for the whole swarm, one env copy).
Writes a section of ``benchmarks/RESULTS.md`` and ``benchmarks/safe_navigation.png``.

    python benchmarks/safe_navigation.py            # ~40 min on 2 cores
    python benchmarks/safe_navigation.py --quick    # smoke run (writes no results)
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tyro

import swarmzoo
from swarmzoo.bench import cpu_model, mean_ci95, write_results_section

METHODS = ("heuristic", "heuristic+cbf", "orca", "mad-pinn", "mappo", "mappo+cbf", "hammer")
LEARNERS = ("mappo", "hammer")


@dataclass
class Args:
    ns: tuple[int, ...] = (3, 10, 100, 1000)
    seeds: tuple[int, ...] = (0, 1, 2)
    methods: tuple[str, ...] = METHODS
    total_steps: int = 500_000
    """Env steps per learner run (at N = 3)."""
    safety_radius: float = 0.3
    """Ds: minimum allowed centre distance (robot radius 0.1, so 0.1 of clearance); robots also
    spawn this far apart (:func:`env_kwargs`)."""
    episodes: dict[int, int] = field(default_factory=lambda: {3: 16, 10: 8, 100: 2, 1000: 1})
    """Evaluation episodes per seed and N."""
    jobs: int = 2
    runs: Path = Path("runs/safe_navigation")
    reuse: bool = True
    """Reuse trained runs and evaluated cells already in ``runs`` made with the same settings
    (an interrupted or extended run picks up where it stopped); --no-reuse recomputes all."""
    out: Path | None = Path("benchmarks/RESULTS.md")
    plot: Path | None = Path("benchmarks/safe_navigation.png")
    quick: bool = False


def env_kwargs(args: Args) -> tuple[str, ...]:
    """Continuous actions; robots start Ds apart (spawn_separation), so every controller starts
    safe and the CBF filter's guarantee applies from the first step."""
    return ("continuous_actions=True", f"spawn_separation={args.safety_radius}")


class TimedPolicy:
    """A policy whose ``act`` calls are timed."""

    def __init__(self, policy: Any) -> None:
        self.policy, self.seconds, self.calls = policy, 0.0, 0

    def act(self, obs: np.ndarray, task: Any) -> np.ndarray:
        start = time.perf_counter()
        actions = self.policy.act(obs, task)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return actions


def train_job(job: tuple[str, int, Args]) -> tuple[str, int, str, float, bool]:
    method, seed, args = job
    run_dir = args.runs / f"{method}__{seed}"
    done = run_dir / "trained.json"
    if args.reuse and done.is_file():  # a finished run of the same budget: keep it
        info = json.loads(done.read_text())
        if info["total_steps"] == args.total_steps and info["env_kwargs"] == list(env_kwargs(args)):
            return method, seed, str(run_dir), info["wall_time"], True
    import torch

    torch.set_num_threads(1)
    common = dict(
        env="navigation-v0",
        env_kwargs=env_kwargs(args),
        total_steps=args.total_steps,
        seed=seed,
        out=args.runs / f"{method}__{seed}",
        progress=False,
        tensorboard=False,
    )
    if method == "hammer":
        from swarmzoo.algorithms import hammer

        result = hammer.train(hammer.Args(**common))
    else:
        from swarmzoo.algorithms import ctde

        result = ctde.train(ctde.Args(**common))
    done.write_text(
        json.dumps(
            {
                "total_steps": args.total_steps,
                "env_kwargs": list(env_kwargs(args)),
                "wall_time": result.wall_time,
            }
        )
    )
    return method, seed, str(result.run_dir), result.wall_time, False


def make_controller(method: str, seed: int, runs: dict[tuple[str, int], str], radius: float) -> Any:
    from swarmzoo.agents import make_policy

    base, _, filt = method.partition("+")
    name = runs[(base, seed)] if base in LEARNERS else base
    policy = make_policy(name, "navigation-v0", seed=seed)
    if filt == "cbf":
        from swarmzoo.agents.safety import CBFSafetyFilter

        policy = CBFSafetyFilter(policy, safety_radius=radius, on_infeasible="ignore")
    return policy


def eval_job(job: tuple[str, int, int, dict, Args]) -> dict[str, Any]:
    """One controller, one swarm size, one seed: its episodes on one env copy."""
    method, n, seed, runs, args = job
    cache = args.runs / "cells" / f"{method}__{n}__{seed}.json"
    if args.reuse and cache.is_file():
        cached = json.loads(cache.read_text())
        if cached.get("key") == cell_key(args, n):
            return cached["result"] | {"reused": True}
    import torch

    torch.set_num_threads(1)
    from swarmzoo.algorithms.common.vector import parse_env_kwargs
    from swarmzoo.evaluation import SafetyTally

    episodes = args.episodes.get(n, 1)
    kwargs = parse_env_kwargs(env_kwargs(args)) | {"n_agents": n, "safety_radius": args.safety_radius}
    venv = swarmzoo.make_vec("navigation-v0", 1, **kwargs)
    policy = TimedPolicy(make_controller(method, seed, runs, args.safety_radius))
    obs, _ = venv.reset(seed=10_000 * seed + n)
    tally = SafetyTally(venv)
    occupied: list[float] = []
    successes: list[float] = []
    returns: list[float] = []
    while len(returns) < episodes:
        obs, _, _, _, infos = venv.step(policy.act(obs, venv.task))
        tally.step(infos)
        if infos["_episode"][0]:
            returns.append(float(infos["episode_return"][0].mean()))
            occupied.append(float(infos["goals_occupied"][0]) / venv.task.config.goals)
            successes.append(float(infos["success"][0]))
    infeasible = getattr(policy.policy, "stats", {}).get("infeasible", 0)
    summary = tally.summary(episodes)
    result = {
        "method": method,
        "n": n,
        "seed": seed,
        "return": float(np.mean(returns)),
        "success": float(np.mean(successes)),
        "occupied": float(np.mean(occupied)),
        "collisions": summary["collisions_per_robot_hour"],
        "near_misses": summary["near_misses_per_robot_hour"],
        "min_sep": summary["min_separation"],
        "ms_per_step": 1000 * policy.seconds / policy.calls,
        "infeasible": float(infeasible),
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": cell_key(args, n), "result": result}))
    return result


def cell_key(args: Args, n: int) -> dict[str, Any]:
    """What a cached cell depends on besides (method, N, seed)."""
    return {
        "episodes": args.episodes.get(n, 1),
        "safety_radius": args.safety_radius,
        "total_steps": args.total_steps,
        "env_kwargs": list(env_kwargs(args)),
    }


def main(args: Args) -> None:
    if args.quick:
        args.ns, args.seeds, args.total_steps = (3, 10), (0,), 3_200
        args.episodes = {3: 1, 10: 1}
        args.runs = args.runs.with_name(args.runs.name + "_quick")
    started = time.perf_counter()
    learners = [m for m in LEARNERS if any(x.partition("+")[0] == m for x in args.methods)]
    train_jobs = [(m, s, args) for m in learners for s in args.seeds]
    ctx = mp.get_context("fork")
    with ctx.Pool(args.jobs, maxtasksperchild=1) as pool:
        trained = pool.map(train_job, train_jobs, chunksize=1)
    runs = {(m, s): run for m, s, run, _, _ in trained}
    train_time = {m: [t for mm, _, _, t, _ in trained if mm == m] for m in learners}
    jobs = [
        (m, n, s, runs, args) for n in sorted(args.ns, reverse=True) for m in args.methods for s in args.seeds
    ]
    with ctx.Pool(args.jobs, maxtasksperchild=1) as pool:
        results = pool.map(eval_job, jobs, chunksize=1)
    reused = (sum(r.get("reused", False) for r in results), len(results))
    reused_runs = (sum(t[-1] for t in trained), len(trained))
    body = table(args, results, train_time)
    print(body)
    if args.quick:
        return
    if args.plot is not None:
        make_plot(args, results, args.plot)
    command = " ".join(["python", "benchmarks/safe_navigation.py", *sys.argv[1:]])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    section = "\n".join(
        [
            "## Safe navigation vs swarm size (`benchmarks/safe_navigation.py`)",
            "",
            f"Command: `{command}`  ",
            f"Date: {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}; "
            f"run time {(time.perf_counter() - started) / 60:.1f} min  ",
            f"Machine: {cpu_model()}, {os.cpu_count()} cores; {args.jobs} jobs side by side; "
            f"load average at the end {load}",
            f"Reused from earlier invocations of this command (`--reuse`, the default; same settings): "
            f"{reused_runs[0]} of {reused_runs[1]} trained runs and {reused[0]} of {reused[1]} evaluated "
            "cells; the run time above is this invocation's.",
            "",
            f"Method: navigation-v0, continuous actions, default arena (side 2 sqrt(N/3)), "
            f"50-step episodes, safety radius Ds = {args.safety_radius} (robot radius 0.1), robots "
            f"spawned at least Ds apart. MAPPO and "
            f"HAMMER trained at N = 3 for {args.total_steps:,} env steps per seed and deployed "
            "unchanged at every N; scripted controllers on the same seeded episodes "
            f"({', '.join(f'{args.episodes.get(n, 1)} at N = {n}' for n in args.ns)} episodes per "
            f"seed), {len(args.seeds)} seeds, mean ± 95% interval over seeds. Collisions: robot-steps "
            "in contact per robot-hour (dt = 0.1 s). Min separation: the closest pair's centre "
            "distance in an episode, averaged. Compute: `policy.act` time per env step for the "
            "whole swarm (one env copy). +cbf: wrapped in the CBF safety filter at Ds.",
            "",
            body,
            "",
            f"![safety vs N]({args.plot.name})" if args.plot is not None else "",
        ]
    )
    if args.out is not None:
        write_results_section(args.out, "safe_navigation", section)
        print(f"wrote {args.out}")


def cell(values: list[float], fmt: str) -> str:
    mean, half = mean_ci95(values)
    return f"{mean:{fmt}} ± {half:{fmt}}" if np.isfinite(half) else f"{mean:{fmt}}"


def table(args: Args, results: list[dict], train_time: dict[str, list[float]]) -> str:
    lines = [
        "| N | controller | success | goals occupied | collisions / robot-h | near misses / robot-h "
        "| min separation | compute ms / step | CBF infeasible robot-steps |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n in args.ns:
        for m in args.methods:
            rs = [r for r in results if r["method"] == m and r["n"] == n]
            if not rs:
                continue
            lines.append(
                f"| {n} | {m} | {cell([r['success'] for r in rs], '.2f')} "
                f"| {cell([r['occupied'] for r in rs], '.2f')} "
                f"| {cell([r['collisions'] for r in rs], ',.0f')} "
                f"| {cell([r['near_misses'] for r in rs], ',.0f')} "
                f"| {cell([r['min_sep'] for r in rs], '.3f')} "
                f"| {cell([r['ms_per_step'] for r in rs], '.2f')} "
                f"| {sum(r['infeasible'] for r in rs):.0f} |"
            )
    for m, times in train_time.items():
        lines.append("")
        lines.append(
            f"{m}: {args.total_steps:,} env steps per seed, {np.mean(times):.0f} s of training per seed."
        )
    return "\n".join(lines)


def make_plot(args: Args, results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("occupied", "goals occupied at the end"),
        ("collisions", "collisions per robot-hour"),
        ("min_sep", "min separation"),
        ("ms_per_step", "compute per env step (ms)"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4))
    for ax, (key, title) in zip(axes, panels):
        for m in args.methods:
            stats = [
                mean_ci95([r[key] for r in results if r["method"] == m and r["n"] == n]) for n in args.ns
            ]
            mean = np.array([s[0] for s in stats])
            half = np.nan_to_num(np.array([s[1] for s in stats]))
            ax.errorbar(args.ns, mean, yerr=half, marker="o", capsize=3, label=m)
        ax.set_xscale("log")
        if key in ("ms_per_step",):
            ax.set_yscale("log")
        if key == "min_sep":
            ax.axhline(args.safety_radius, color="k", ls=":", lw=1, label="Ds")
        ax.set_title(title)
        ax.set_xlabel("robots N")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(tyro.cli(Args))
