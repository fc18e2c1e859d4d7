"""Deep learners on ``coordination-v0`` (the Markov coordination game as an env): MAPPO, IPPO,
BN-MAPPO (edge density annealed to 0: decentralised execution) and BN-MAPPO never annealed (the
DAG stays free: correlated execution), at equal env-step budgets.

Per (N, method) ``--seeds`` runs; the final policy of each is evaluated greedily (BN: its argmax
graph) over 32 episodes. Returns are per robot and over the optimum (all zeros, 50 steps x
:func:`~swarmzoo.envs.coordination.optimal_step_reward`); mean and 95% Student-t interval over
seeds. Writes the ``bayes_net_coordination`` section of ``benchmarks/RESULTS.md`` and
``benchmarks/bayes_net_coordination.png`` (training curves, mean and interval over seeds).

    python benchmarks/bayes_net_coordination.py                      # ~20 min on 2 cores
    python benchmarks/bayes_net_coordination.py --ns 3 --seeds 2 --total-steps 6400 --no-write
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tyro

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swarmzoo.bench import cpu_model, mean_ci95, plot_mean_ci, write_results_section  # noqa: E402

METHODS = ("mappo", "ippo", "bn-mappo", "bn-mappo (no annealing)")


@dataclass
class Args:
    ns: tuple[int, ...] = (5, 10)
    """Swarm sizes."""
    seeds: int = 5
    """Seeds per (N, method)."""
    total_steps: int = 50_000
    """Env steps per run (summed over env copies), the same for every method."""
    methods: tuple[str, ...] = METHODS
    episodes: int = 32
    """Greedy evaluation episodes per final policy."""
    jobs: int = 2
    runs: Path = Path("runs/bayes_net_coordination")
    write: bool = True
    plot: Path = field(default_factory=lambda: ROOT / "benchmarks" / "bayes_net_coordination.png")


def train_job(job: tuple[int, str, int, Args]) -> dict:
    from swarmzoo.agents import make_policy
    from swarmzoo.algorithms import bayes_net, ctde
    from swarmzoo.algorithms.common.logging import read_progress
    from swarmzoo.envs.coordination import Config, optimal_step_reward
    from swarmzoo.evaluation import evaluate

    n, method, seed, args = job
    common = dict(
        env="coordination-v0",
        env_kwargs=(f"n_agents={n}",),
        total_steps=args.total_steps,
        seed=seed,
        out=args.runs / f"n{n}__{method.replace(' ', '_')}__{seed}",
        progress=False,
        tensorboard=False,
    )
    start = time.perf_counter()
    if method.startswith("bn-mappo"):
        result = bayes_net.train(bayes_net.Args(**common, anneal=method == "bn-mappo"))
    else:
        result = ctde.train(ctde.Args(**common, critic="central" if method == "mappo" else "local"))
    wall = time.perf_counter() - start
    policy = make_policy(str(result.run_dir), "coordination-v0")
    final = evaluate("coordination-v0", policy, episodes=args.episodes, seed=50_000 + seed, n_agents=n)
    cfg = Config(n_agents=n)
    optimum = cfg.max_cycles * optimal_step_reward(cfg)
    progress = read_progress(result.run_dir)
    density = progress.get("charts/edge_density_argmax", [])
    return {
        "n": n,
        "method": method,
        "seed": seed,
        "wall": wall,
        "final": final["mean_return"] / optimum,
        "curve": [(step, ret / optimum) for step, _, ret in result.curve],
        "density": float(density[-1]) if len(density) else 0.0,
    }


def at(curve: list[tuple[int, float]], step: float) -> float:
    """The training curve's value at ``step`` (linear interpolation)."""
    steps, values = zip(*curve)
    return float(np.interp(step, steps, values))


def first_reach(curve: list[tuple[int, float]], level: float) -> float:
    """The first env step at which the training curve reaches ``level`` (inf if never)."""
    return next((float(s) for s, v in curve if v >= level), float("inf"))


def fmt(x) -> str:
    mean, half = mean_ci95(x)
    return f"{mean:.3f} ± {half:.3f}"


def main(args: Args) -> None:
    jobs = [(n, m, s, args) for n in args.ns for m in args.methods for s in range(args.seeds)]
    started = time.perf_counter()
    with mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
        results = []
        for r in pool.imap_unordered(train_job, jobs):
            print(
                f"N={r['n']} {r['method']} seed {r['seed']}: {r['final']:.3f} of the optimum "
                f"({r['wall']:.0f} s)"
            )
            results.append(r)
    rows = []
    T = args.total_steps
    for n in args.ns:
        for m in args.methods:
            rs = sorted((r for r in results if r["n"] == n and r["method"] == m), key=lambda r: r["seed"])
            reach = [first_reach(r["curve"], 0.9) for r in rs]
            reached = [x for x in reach if np.isfinite(x)]
            reach_txt = (
                f"{np.median(reached):,.0f} ({len(reached)}/{len(rs)})" if reached else f"never (0/{len(rs)})"
            )
            density = np.mean([r["density"] for r in rs])
            passes = "1" if density == 0 else "up to N"  # the argmax DAG's depth
            rows.append(
                f"| {n} | {m} | {fmt([at(r['curve'], T / 4) for r in rs])} | "
                f"{fmt([at(r['curve'], T / 2) for r in rs])} | {fmt([r['final'] for r in rs])} | "
                f"{sum(r['final'] >= 0.95 for r in rs)}/{len(rs)} | {reach_txt} | "
                f"{density:.2f} | {passes} | {np.mean([r['wall'] for r in rs]):.0f} |"
            )
    # The optimal rule evaluated on the same episodes: what "final" can reach (evaluation noise)
    from swarmzoo.agents.coordination import AllZeros
    from swarmzoo.envs.coordination import Config, optimal_step_reward
    from swarmzoo.evaluation import evaluate

    for n in args.ns:
        cfg = Config(n_agents=n)
        optimum = cfg.max_cycles * optimal_step_reward(cfg)
        ref = [
            evaluate("coordination-v0", AllZeros(), episodes=args.episodes, seed=50_000 + s, n_agents=n)[
                "mean_return"
            ]
            / optimum
            for s in range(args.seeds)
        ]
        rows.append(f"| {n} | all zeros (the optimal rule) | | | {fmt(ref)} | | | | 1 | |")
    rows.sort(key=lambda row: int(row.split("|")[1]))  # stable: each N's rows stay together
    print("\n".join(rows))
    if not args.write:
        return
    body = "\n".join(
        [
            "## bayes_net_coordination",
            "",
            f"`python benchmarks/bayes_net_coordination.py` ({cpu_model()}, {args.jobs} runs side by side, "
            f"{(time.perf_counter() - started) / 60:.0f} min)",
            "",
            f"`coordination-v0` (noise 0.1, margin round(N/3), 50-step episodes), {T:,} env steps per run "
            f"for every method, {args.seeds} seeds, default trainer arguments (32 env copies, 64-64 MLPs, "
            "parameter sharing with robot ids). Return per robot over the optimum (all zeros); training "
            "columns from the training curve (stochastic policy), final from "
            f"{args.episodes} greedy evaluation episodes (BN: argmax graph); mean ± 95% interval over "
            "seeds. Steps to 90%: median first env step where the training curve reached 90% of the "
            "optimum (runs that did). `all zeros`: the optimal rule on the same evaluation episodes (a "
            "final above 1 is evaluation noise; the seeds' evaluation episodes overlap). Edge density: "
            "the argmax DAG's at the end (fraction of allowed "
            "edges); passes: sequential policy passes per step at execution. Figure: "
            "`benchmarks/bayes_net_coordination.png`.",
            "",
            "| N | method | return at 25% of steps | at 50% | final (greedy) | runs >= 95% | steps to 90% "
            "| edge density at the end | passes | s per run |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", "bayes_net_coordination", body)
    plot(results, args)
    print(f"wrote the bayes_net_coordination section and {args.plot}")


def plot(results: list[dict], args: Args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0, args.total_steps, 60)
    fig, axes = plt.subplots(1, len(args.ns), figsize=(5.5 * len(args.ns), 3.8), squeeze=False)
    for ax, n in zip(axes[0], args.ns):
        for m in args.methods:
            rs = [r for r in results if r["n"] == n and r["method"] == m and r["curve"]]
            ys = np.array([[at(r["curve"], g) for g in grid] for r in rs])
            plot_mean_ci(ax, grid, ys, m)
        ax.axhline(1.0, color="k", lw=0.8, ls=":")
        ax.set_title(f"coordination-v0, N = {n}")
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("training return / optimum")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(
        f"MAPPO, IPPO and BN-MAPPO on the Markov coordination game (mean ± 95% CI, {args.seeds} seeds)"
    )
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(tyro.cli(Args))
