"""The multi-state Markov coordination game (Chen & Zhang, ICML 2023, tabular experiments):
exact policy gradient with tabular policies on fixed DAGs, Bayesian-network (line, full,
random with edge probability 0.5) vs independent.

For every ``n`` and DAG kind, ``--seeds`` runs of the same number of exact gradient steps from
N(0, 1) logits; the table gives ``J / J*`` (the share of the centralised optimum reached) and
the NE gap (how much one agent gains by deviating alone) as mean and 95% Student-t interval
over seeds, the share of seeds that end within 5% of the optimum, and the execution cost of the
DAG (sequential passes = its depth; parents' actions each agent must observe, mean). Writes
the ``markov_coordination_game`` section of ``benchmarks/RESULTS.md`` and
``benchmarks/coordination_game.png``.

    python benchmarks/coordination_game.py                    # n = 2, 3, 5, 10 (~40 min on 2 cores)
    python benchmarks/coordination_game.py --ns 2 3 --seeds 5 --iterations 300 --no-write   # smoke
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

from swarmzoo.algorithms.coordination_game import (  # noqa: E402
    DAG_KINDS,
    MarkovCoordinationGame,
    train_markov_game,
)
from swarmzoo.bench import cpu_model, mean_ci95, write_results_section  # noqa: E402


@dataclass
class Args:
    ns: tuple[int, ...] = (2, 3, 5, 10)
    """Numbers of agents."""
    seeds: int = 10
    """Seeds per (n, DAG) for n <= 5."""
    seeds_large: int = 5
    """Seeds per (n, DAG) for n > 5 (one exact step at n = 10 solves a 1024-state system)."""
    iterations: int = 2000
    """Exact gradient steps per run for n <= 5."""
    iterations_large: int = 300
    """Exact gradient steps per run for n > 5."""
    dags: tuple[str, ...] = DAG_KINDS
    """DAG kinds to compare."""
    jobs: int = 2
    """Worker processes."""
    write: bool = True
    """Write the RESULTS.md section and the figure."""
    plot: Path = field(default_factory=lambda: ROOT / "benchmarks" / "coordination_game.png")


def run(job: tuple[int, str, int, int]) -> dict:
    n, dag, seed, iterations = job
    t0 = time.perf_counter()
    game = MarkovCoordinationGame(n)
    result = train_markov_game(game, dag, iterations=iterations, seed=seed, evaluations=12)
    return dict(n=n, dag=dag, seed=seed, result=result, seconds=time.perf_counter() - t0)


def depth(parents: tuple[tuple[int, ...], ...]) -> int:
    """Longest chain of the DAG (agents in index order): the sequential passes one step needs."""
    level: list[int] = []
    for pa in parents:
        level.append(1 + max((level[j] for j in pa), default=0))
    return max(level)


def fmt(x) -> str:
    mean, half = mean_ci95(x)
    return f"{mean:.3f} ± {half:.3f}"


def main(args: Args) -> None:
    for n in args.ns:
        MarkovCoordinationGame(n)  # refuse a bad n before any work
    jobs = [
        (n, dag, s, args.iterations if n <= 5 else args.iterations_large)
        for n in sorted(args.ns, reverse=True)  # the long runs first
        for dag in args.dags
        for s in range(args.seeds if n <= 5 else args.seeds_large)
    ]
    with mp.get_context("fork").Pool(args.jobs) as pool:
        out = pool.map(run, jobs, chunksize=1)
    rows = [
        "| n | DAG | seeds | steps | J / J* at 10% of steps | J / J* at the end | NE gap at the end "
        "| seeds within 5% of J* | passes per step | parents observed (mean) | s per run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    curves = {}
    for n in sorted(args.ns):
        for dag in args.dags:
            runs = [o for o in out if o["n"] == n and o["dag"] == dag]
            res = [o["result"] for o in runs]
            its = np.array(res[0].iterations)
            ratio = np.array([r.ratio for r in res])
            gap = np.array([r.ne_gap for r in res])
            tenth = int(np.argmin(np.abs(its - its[-1] / 10)))
            curves[(n, dag)] = (its, ratio, gap)
            passes = [depth(r.parents) for r in res]
            parents = [np.mean([len(p) for p in r.parents]) for r in res]
            rows.append(
                f"| {n} | {dag} | {len(res)} | {its[-1]} | {fmt(ratio[:, tenth])} (step {its[tenth]}) | "
                f"{fmt(ratio[:, -1])} | {fmt(gap[:, -1])} | {np.mean(ratio[:, -1] >= 0.95):.0%} | "
                f"{np.mean(passes):.1f} | {np.mean(parents):.2f} | "
                f"{np.mean([o['seconds'] for o in runs]):.0f} |"
            )
            print(rows[-1], flush=True)
    if not args.write:
        return
    text = (
        "Binary actions, one state bit per agent that copies the agent's action with probability 0.9; "
        "reward 3 for a clear majority of zeros, 2 for ones, inside the margin round(n/3) 1 if ones lead "
        "else 0; discount 0.95, start uniform over the 2^n states (`swarmzoo.algorithms.coordination_game."
        "MarkovCoordinationGame`). Tabular softmax policies pi_i(a_i | s, a_parents(i)) on a fixed DAG in "
        "index order: `independent` (no edges), `line` (i-1 -> i), `full` (every earlier agent), `random` "
        "(each earlier agent with probability 0.5, drawn per seed); the same number of exact policy-gradient "
        "steps (autograd through the exact value; step 0.01 * 2^n / n) from N(0, 1) logits for every DAG. "
        "J / J*: expected return over the centralised optimum; NE gap: max over agents of the return a lone "
        "deviation (a deterministic rule of the agent's own inputs, state and parents' actions) gains; mean "
        "± 95% interval over seeds. Passes per step: the DAG's depth (robots that must act one after "
        "another); parents observed: the actions each robot must receive before it acts. Figure: "
        "`benchmarks/coordination_game.png`.\n\n" + "\n".join(rows)
    )
    write_results_section(
        ROOT / "benchmarks" / "RESULTS.md",
        "markov_coordination_game",
        f"## markov_coordination_game\n\n`python benchmarks/coordination_game.py` ({cpu_model()})\n\n{text}",
    )
    plot(curves, args)


def plot(curves: dict, args: Args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = sorted(args.ns)
    fig, axes = plt.subplots(2, len(ns), figsize=(4 * len(ns), 6.5), squeeze=False)
    for col, n in enumerate(ns):
        for dag in args.dags:
            its, ratio, gap = curves[(n, dag)]
            x = np.maximum(its, 1)
            for row, values in enumerate((ratio, gap)):
                stats = np.array([mean_ci95(values[:, k]) for k in range(values.shape[1])])
                ax = axes[row, col]
                ax.plot(x, stats[:, 0], marker=".", label=dag)
                ax.fill_between(x, stats[:, 0] - stats[:, 1], stats[:, 0] + stats[:, 1], alpha=0.2)
        axes[0, col].set_title(f"n = {n}")
        axes[0, col].set_ylabel("J / J*")
        axes[1, col].set_ylabel("NE gap")
        axes[1, col].set_yscale("log")
        for ax in axes[:, col]:
            ax.set_xscale("log")
            ax.set_xlabel("exact gradient steps")
            ax.grid(alpha=0.3)
    axes[0, 0].legend()
    fig.suptitle("Markov coordination game: Bayesian-network vs independent tabular policies (mean ± 95% CI)")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)


if __name__ == "__main__":
    main(tyro.cli(Args))
