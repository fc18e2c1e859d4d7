"""Dec-POMFC (mean-field PPO) vs MAPPO and IPPO: trained at one swarm size, evaluated at many.

For each swarming env (flocking, Kuramoto, aggregation) the three learners are trained with the
same number of env steps at ``--train-agents`` robots, then every trained policy, the env's
scripted rule and random actions are evaluated at each of ``--sizes`` (the arena grows with N at
constant density). Mean-field policies run decentralised (open loop: the time-indexed rule
schedule, each robot its own observation); the closed-loop variant (the rule recomputed from the
live mean field, centralised) is reported beside it.

Writes a section of ``benchmarks/RESULTS.md`` and ``benchmarks/mean_field_scaling.png`` (return
vs N per env, and the learning curves vs wall-clock time).

    python benchmarks/mean_field_scaling.py                # ~24 min on 2 cores
    python benchmarks/mean_field_scaling.py --quick        # smoke run, ~2 min
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro

from swarmzoo.agents.mean_field import ClosedLoopPolicy
from swarmzoo.algorithms import ctde, mean_field
from swarmzoo.bench import cpu_model, write_results_section

METHODS = ("mean-field", "mean-field-lifted", "mappo", "ippo")
"""'mean-field' uses the finite-agent gradient (the default), 'mean-field-lifted' PPO on the
lifted MDP (Gaussian over the rule parameters)."""


@dataclass
class Args:
    envs: tuple[str, ...] = ("flocking-v0", "kuramoto-v0", "aggregation-v0")
    methods: tuple[str, ...] = ("mean-field", "mappo", "ippo")
    """Learners, from METHODS."""
    closed_loop: bool = True
    """Also evaluate the 'mean-field' policy closed loop (rule from the live mean field)."""
    section: str = "mean_field_scaling"
    """Section of RESULTS.md to write."""
    train_agents: int = 100
    """Swarm size N every learner trains at."""
    total_steps: int = 48_000
    """Env steps (summed over env copies) each learner trains for."""
    sizes: tuple[int, ...] = (10, 100, 1_000, 10_000)
    """Swarm sizes to evaluate at."""
    episodes: int = 4
    """Evaluation episodes per size (2 above 1,000 robots)."""
    seed: int = 0
    jobs: int = 2
    """Processes (training and evaluation jobs run side by side; each uses one core)."""
    runs: Path = Path("runs/mean_field_scaling")
    out: Path | None = Path("benchmarks/RESULTS.md")
    plot: Path | None = Path("benchmarks/mean_field_scaling.png")
    quick: bool = False
    """Tiny budget and sizes, for a smoke run (writes no results)."""


def train_job(job: tuple[str, str, Args]) -> dict:
    env, method, args = job
    out = args.runs / f"{env}__{method}"
    common = dict(
        env=env,
        env_kwargs=(f"n_agents={args.train_agents}",),
        total_steps=args.total_steps,
        seed=args.seed,
        out=out,
        progress=False,
        tensorboard=False,
    )
    if method.startswith("mean-field"):
        gradient = "lifted" if method == "mean-field-lifted" else "agents"
        result = mean_field.train(mean_field.Args(**common, gradient=gradient))
    else:
        result = ctde.train(ctde.Args(**common, critic="central" if method == "mappo" else "local"))
    return {
        "env": env,
        "method": method,
        "wall_time": result.wall_time,
        "final_return": result.final_return,
        "curve": result.curve,
        "run_dir": str(result.run_dir),
    }


def eval_job(job: tuple[str, str, str, int, Args]) -> dict:
    from swarmzoo.agents import make_policy
    from swarmzoo.evaluation import evaluate

    env, label, policy_name, n, args = job
    if label == "mean-field (closed loop)":
        policy = ClosedLoopPolicy(policy_name)
    else:
        policy = make_policy(policy_name, env, seed=args.seed)
    episodes = args.episodes if n <= 1_000 else min(args.episodes, 2)
    t0 = time.perf_counter()
    res = evaluate(env, policy, episodes=episodes, seed=10_000 + args.seed, n_agents=n)
    return {
        "env": env,
        "label": label,
        "n": n,
        "mean": res["mean_return"],
        "std": res["std_return"],
        "episodes": episodes,
        "seconds": time.perf_counter() - t0,
    }


def report(args: Args, trained: list[dict], evals: list[dict]) -> str:
    lines = []
    for env in args.envs:
        lines += [f"**{env}** (trained at N = {args.train_agents}, {args.total_steps:,} env steps each)", ""]
        header = "| policy | train time | " + " | ".join(f"N = {n:,}" for n in args.sizes) + " |"
        lines += [header, "|" + "---|" * (len(args.sizes) + 2)]
        times = {t["method"]: t["wall_time"] for t in trained if t["env"] == env}
        labels = list(args.methods)
        if "mean-field" in labels and args.closed_loop:
            labels.insert(labels.index("mean-field") + 1, "mean-field (closed loop)")
        labels += ["heuristic", "random"]
        for label in labels:
            cells = []
            for n in args.sizes:
                hit = [e for e in evals if e["env"] == env and e["label"] == label and e["n"] == n]
                cells.append(f"{hit[0]['mean']:.1f} ± {hit[0]['std']:.1f}" if hit else "—")
            t = times.get(label)
            lines.append(f"| {label} | {'' if t is None else f'{t:.0f} s'} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def make_plot(args: Args, trained: list[dict], evals: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {
        "mean-field": "tab:blue",
        "mean-field (closed loop)": "tab:cyan",
        "mean-field-lifted": "tab:purple",
        "mappo": "tab:orange",
        "ippo": "tab:green",
        "heuristic": "black",
        "random": "tab:gray",
    }
    fig, axes = plt.subplots(2, len(args.envs), figsize=(5 * len(args.envs), 8), squeeze=False)
    for col, env in enumerate(args.envs):
        ax = axes[0, col]
        for label, color in colors.items():
            pts = sorted(
                (e["n"], e["mean"], e["std"]) for e in evals if e["env"] == env and e["label"] == label
            )
            if pts:
                n, m, s = map(np.array, zip(*pts))
                style = "--" if label in ("heuristic", "random") else "-"
                ax.errorbar(n, m, yerr=s, label=label, color=color, ls=style, marker="o", capsize=3)
        ax.axvline(args.train_agents, color="k", lw=0.5, ls=":")
        ax.set_xscale("log")
        ax.set_title(f"{env}: return vs N (trained at N = {args.train_agents})")
        ax.set_xlabel("robots N")
        ax.set_ylabel("mean per-robot episode return")
        ax = axes[1, col]
        for t in trained:
            if t["env"] == env and t["curve"]:
                _, wall, ret = zip(*t["curve"])
                ax.plot(wall, ret, label=t["method"], color=colors[t["method"]])
        ax.set_title(f"{env}: training at N = {args.train_agents}")
        ax.set_xlabel("wall-clock time (s)")
        ax.set_ylabel("episode return (training)")
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(args: Args) -> None:
    if args.quick:
        args.total_steps, args.sizes, args.episodes, args.train_agents = 3_200, (10, 100), 2, 20
    started = time.perf_counter()
    unknown = set(args.methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown methods {sorted(unknown)}; choose from {METHODS}")
    jobs = [(env, method, args) for env in args.envs for method in args.methods]
    ctx = mp.get_context("fork")
    with ctx.Pool(args.jobs, maxtasksperchild=1) as pool:
        trained = pool.map(train_job, jobs, chunksize=1)
        for t in trained:
            print(
                f"trained {t['method']:>10} on {t['env']}: {t['wall_time']:.0f} s, "
                f"final {t['final_return']:.2f}"
            )
        eval_jobs = []
        for env in args.envs:
            runs = {t["method"]: t["run_dir"] for t in trained if t["env"] == env}
            policies = [(m, runs[m]) for m in args.methods]
            if "mean-field" in runs and args.closed_loop:
                policies.append(("mean-field (closed loop)", runs["mean-field"]))
            policies += [("heuristic", "heuristic"), ("random", "random")]
            eval_jobs += [(env, label, name, n, args) for label, name in policies for n in args.sizes]
        # Largest swarms first, so the slow jobs do not come last.
        eval_jobs.sort(key=lambda j: -j[3])
        evals = pool.map(eval_job, eval_jobs, chunksize=1)
    body = report(args, trained, evals)
    elapsed = time.perf_counter() - started
    print(body)
    command = " ".join(["python", "benchmarks/mean_field_scaling.py", *sys.argv[1:]])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    section = "\n".join(
        [
            f"## Mean-field control (Dec-POMFC): {', '.join(args.methods)} across swarm sizes "
            "(`benchmarks/mean_field_scaling.py`)",
            "",
            f"Command: `{command}`  ",
            f"Date: {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}; "
            f"run time {elapsed / 60:.1f} min  ",
            f"Machine: {cpu_model()}, {os.cpu_count()} cores; {args.jobs} jobs side by side (one core each); "
            f"load average at the end {load}",
            "",
            f"Method: each learner trains once (seed {args.seed}) at N = {args.train_agents} for "
            f"{args.total_steps:,} env steps with its default hyper-parameters; every policy is then "
            "evaluated (most likely action) at each N, on fresh seeds, for "
            f"{args.episodes} episodes (2 above N = 1,000). Returns are per robot, averaged over robots "
            "(comparable across N); ± is the std over episodes. 'mean-field' is the decentralised "
            "open-loop execution (rule schedule + own observation); 'closed loop' recomputes the rule "
            "from the live mean field (centralised). Train time is wall-clock with the jobs sharing "
            "the machine.",
            "",
            body,
        ]
        + ([f"![return vs N and learning curves]({args.plot.name})"] if args.plot is not None else [])
    )
    if args.plot is not None and not args.quick:
        make_plot(args, trained, evals, args.plot)
        print(f"wrote {args.plot}")
    if args.out is not None and not args.quick:
        write_results_section(args.out, args.section, section)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main(tyro.cli(Args))
