"""Bayesian-network actor-critic (BN-MAPPO, density annealed to 0) vs MAPPO at equal env steps,
and the tabular climbing game.

Per env (navigation-v0; coverage-v0 with discrete actions) both learners train with the same
number of env steps for each seed, then their final policies are evaluated (BN-MAPPO with its
argmax graph, which annealing has emptied: decentralised execution). Writes a section of
``benchmarks/RESULTS.md`` and ``benchmarks/bayes_net_comparison.png`` (learning curves and the
BN edge density over training).

    python benchmarks/bayes_net_comparison.py            # ~15 min on 2 cores (5 seeds)
    python benchmarks/bayes_net_comparison.py --quick    # smoke run (writes no results)
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

from swarmzoo.algorithms import bayes_net, ctde
from swarmzoo.algorithms.common.logging import read_progress
from swarmzoo.algorithms.common.vector import parse_env_kwargs
from swarmzoo.algorithms.coordination_game import CLIMBING, train_tabular
from swarmzoo.bench import cpu_model, mean_ci95, plot_mean_ci, write_results_section

ENVS = {
    "navigation-v0": (),
    "coverage-v0": ("continuous_actions=False", "n_agents=4", "max_cycles=100"),
}


@dataclass
class Args:
    envs: tuple[str, ...] = ("navigation-v0", "coverage-v0")
    total_steps: int = 200_000
    """Env steps (summed over env copies) per run."""
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    episodes: int = 32
    """Evaluation episodes per final policy."""
    jobs: int = 2
    runs: Path = Path("runs/bayes_net_comparison")
    out: Path | None = Path("benchmarks/RESULTS.md")
    plot: Path | None = Path("benchmarks/bayes_net_comparison.png")
    quick: bool = False


def train_job(job: tuple[str, str, int, Args]) -> dict:
    env, method, seed, args = job
    common = dict(
        env=env,
        env_kwargs=ENVS[env],
        total_steps=args.total_steps,
        seed=seed,
        out=args.runs / f"{env}__{method}__{seed}",
        progress=False,
        tensorboard=False,
    )
    if method == "bn-mappo":
        result = bayes_net.train(bayes_net.Args(**common))
    else:
        result = ctde.train(ctde.Args(**common))
    from swarmzoo.agents import make_policy
    from swarmzoo.evaluation import evaluate

    policy = make_policy(str(result.run_dir), env)
    kwargs = parse_env_kwargs(ENVS[env])
    final = evaluate(env, policy, episodes=args.episodes, seed=50_000 + seed, **kwargs)
    progress = read_progress(result.run_dir)
    return {
        "env": env,
        "method": method,
        "seed": seed,
        "wall_time": result.wall_time,
        "final": final["mean_return"],
        "curve": result.curve,
        "density": list(zip(progress["global_step"], progress.get("charts/edge_density", []))),
        "argmax_density": list(zip(progress["global_step"], progress.get("charts/edge_density_argmax", []))),
    }


def main(args: Args) -> None:
    if args.quick:
        args.total_steps, args.seeds, args.episodes = 3_200, (0,), 2
    started = time.perf_counter()
    games = {p: [train_tabular(CLIMBING, p, seed=s) for s in range(5)] for p in ("bayes_net", "independent")}
    jobs = [(env, m, s, args) for env in args.envs for m in ("bn-mappo", "mappo") for s in args.seeds]
    with mp.get_context("fork").Pool(args.jobs, maxtasksperchild=1) as pool:
        results = pool.map(train_job, jobs, chunksize=1)
    lines = [
        "**Climbing game** (2 agents, 3 actions, optimum 11; exact tabular softmax policy gradient, "
        "2,000 steps, 5 seeds of small random initial logits)",
        "",
        "| policy | final expected payoff per seed | joint action reached |",
        "|---|---|---|",
    ]
    for p, runs in games.items():
        lines.append(
            f"| {p} | {', '.join(f'{r.expected_payoff:.2f}' for r in runs)} | "
            f"{', '.join(str(r.best_joint_action) for r in runs)} |"
        )
    lines += [
        "",
        f"**Swarm envs** ({args.total_steps:,} env steps per run, evaluation over {args.episodes} episodes)",
        "",
    ]
    lines += [
        "| env | method | final return per seed | mean ± 95% CI | train time per seed "
        "| final argmax-graph density |",
        "|---|---|---|---|---|---|",
    ]
    for env in args.envs:
        for method in ("bn-mappo", "mappo"):
            rs = [r for r in results if r["env"] == env and r["method"] == method]
            dens = [r["argmax_density"][-1][1] for r in rs if r["argmax_density"]]
            finals = ", ".join(f"{r['final']:.2f}" for r in rs)
            times = ", ".join(f"{r['wall_time']:.0f} s" for r in rs)
            density = ", ".join(f"{d:.3f}" for d in dens) if dens else "—"
            mean, half = mean_ci95([r["final"] for r in rs])
            lines.append(f"| {env} | {method} | {finals} | {mean:.2f} ± {half:.2f} | {times} | {density} |")
    body = "\n".join(lines)
    print(body)
    if args.quick:
        return
    if args.plot is not None:
        make_plot(args, results, args.plot)
    command = " ".join(["python", "benchmarks/bayes_net_comparison.py", *sys.argv[1:]])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    elapsed = time.perf_counter() - started
    section = "\n".join(
        [
            "## Bayesian-network actor-critic vs MAPPO (`benchmarks/bayes_net_comparison.py`)",
            "",
            f"Command: `{command}`  ",
            f"Date: {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}; "
            f"run time {elapsed / 60:.1f} min  ",
            f"Machine: {cpu_model()}, {os.cpu_count()} cores; {args.jobs} runs side by side; "
            f"load average at the end {load}",
            "",
            "Method: BN-MAPPO with default arguments (joint-observation context, density held at 1 "
            "for 40% of training, annealed to 0 by 70%, then alpha raised) and MAPPO, same env steps "
            "and seeds; final policies evaluated with their most likely actions (BN: argmax graph). "
            "coverage-v0 runs with discrete actions, 4 robots, 100-step episodes.",
            "",
            body,
            "",
            f"![learning curves and edge density]({args.plot.name})" if args.plot is not None else "",
        ]
    )
    if args.out is not None:
        write_results_section(args.out, "bayes_net_comparison", section)
        print(f"wrote {args.out}")


def make_plot(args: Args, results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(args.envs), figsize=(6 * len(args.envs), 7), squeeze=False)
    colors = {"bn-mappo": "tab:blue", "mappo": "tab:orange"}
    for col, env in enumerate(args.envs):
        ax = axes[0, col]
        grid = np.linspace(0, args.total_steps, 60)
        for method in colors:
            curves = [r["curve"] for r in results if r["env"] == env and r["method"] == method and r["curve"]]
            ys = np.array([np.interp(grid, *zip(*[(st, v) for st, _, v in c])) for c in curves])
            if len(ys):
                plot_mean_ci(ax, grid, ys, f"{method} (mean ± 95% CI, {len(ys)} seeds)")
        ax.set_title(f"{env}: training return")
        ax.set_xlabel("env steps")
        ax.legend(fontsize=7)
        ax = axes[1, col]
        for r in results:
            if r["env"] == env and r["method"] == "bn-mappo" and r["density"]:
                steps, dens = zip(*r["density"])
                ax.plot(steps, dens, color="tab:blue", alpha=0.8, label=f"sampled, seed {r['seed']}")
                steps, dens = zip(*r["argmax_density"])
                ax.plot(steps, dens, color="tab:red", ls="--", alpha=0.8, label=f"argmax, seed {r['seed']}")
        ax.set_title(f"{env}: BN edge density (fraction of allowed edges)")
        ax.set_xlabel("env steps")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(tyro.cli(Args))
