"""MAPPO with and without a GRU actor (``--recurrent``), at equal env-step budgets.

The MAPPO paper's policies are recurrent; ours are feed-forward by default. Each (task, method)
trains ``--seeds`` times; every final policy is evaluated over ``--episodes`` episodes greedy
(most likely actions) and sampled (the stochastic policy), beside the task's references on the
same evaluation episodes. Tasks: ``aloha-v0`` (6 robots, 2 channels: the channel feedback of the
last step is observed, older history only through memory) and ``navigation-v0`` (3 robots: the
observation is already complete, memory should not matter). Per-robot episode returns; mean and
95% Student-t interval over seeds. Writes the ``recurrent_mappo`` section of
``benchmarks/RESULTS.md`` and ``benchmarks/recurrent_mappo.png``.

    python benchmarks/recurrent_mappo.py                       # ~11 min on 2 cores
    python benchmarks/recurrent_mappo.py --seeds 2 --steps 3200 3200 --no-write
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

TASKS = {
    "aloha-v0": {
        "kwargs": {"n_agents": 6, "n_channels": 2},
        "references": ("scheduler", "heuristic", "random"),
    },
    "navigation-v0": {"kwargs": {"n_agents": 3}, "references": ("heuristic", "random")},
}
REFERENCE_NAMES = {
    ("aloha-v0", "scheduler"): "central scheduler (the optimum)",
    ("aloha-v0", "heuristic"): "slotted ALOHA",
    ("navigation-v0", "heuristic"): "Hungarian heuristic",
}
METHODS = {"mappo": 0, "mappo (GRU 64)": 64}


@dataclass
class Args:
    tasks: tuple[str, ...] = tuple(TASKS)
    steps: tuple[int, ...] = (120_000, 150_000)
    """Env steps per run for each task (same order as --tasks), the same for both methods."""
    seeds: int = 5
    episodes: int = 32
    jobs: int = 2
    runs: Path = Path("runs/recurrent_mappo")
    write: bool = True
    plot: Path = field(default_factory=lambda: ROOT / "benchmarks" / "recurrent_mappo.png")


def eval_seed(seed: int) -> int:
    return 70_000 + 1_000 * seed


def evaluate_policy(env_id: str, policy, args: Args, seed: int) -> float:
    from swarmzoo.evaluation import evaluate

    kw = TASKS[env_id]["kwargs"]
    return evaluate(env_id, policy, episodes=args.episodes, seed=eval_seed(seed), **kw)["mean_return"]


def reference_job(job: tuple[str, str, int, Args]) -> dict:
    from swarmzoo.agents import make_policy

    env_id, name, seed, args = job
    value = evaluate_policy(env_id, make_policy(name, env_id, seed=seed), args, seed)
    return {"env": env_id, "name": name, "seed": seed, "value": value}


def train_job(job: tuple[str, str, int, int, Args]) -> dict:
    from swarmzoo.agents import make_policy
    from swarmzoo.algorithms import ctde

    env_id, method, steps, seed, args = job
    start = time.perf_counter()
    result = ctde.train(
        ctde.Args(
            env=env_id,
            env_kwargs=tuple(f"{k}={v}" for k, v in TASKS[env_id]["kwargs"].items()),
            total_steps=steps,
            seed=seed,
            recurrent=METHODS[method],
            out=args.runs / f"{env_id}__{method.split()[-1].strip('()')}__{seed}",
            progress=False,
            tensorboard=False,
        )
    )
    wall = time.perf_counter() - start
    finals = {
        mode: evaluate_policy(
            env_id, make_policy(str(result.run_dir), env_id, seed=seed, sample=mode == "sampled"), args, seed
        )
        for mode in ("greedy", "sampled")
    }
    return {"env": env_id, "method": method, "seed": seed, "wall": wall, "curve": result.curve, **finals}


def fmt(x) -> str:
    return "{:.2f} ± {:.2f}".format(*mean_ci95(x))


def main(args: Args) -> None:
    if len(args.steps) != len(args.tasks):
        raise SystemExit(f"--steps needs one budget per task ({len(args.tasks)}), got {len(args.steps)}")
    started = time.perf_counter()
    budget = dict(zip(args.tasks, args.steps))
    refs = [(t, r, s, args) for t in args.tasks for r in TASKS[t]["references"] for s in range(args.seeds)]
    jobs = [(t, m, budget[t], s, args) for t in args.tasks for m in METHODS for s in range(args.seeds)]
    with mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
        ref_rows = pool.map(reference_job, refs)
        results = []
        for r in pool.imap_unordered(train_job, jobs):
            print(
                f"{r['env']} {r['method']} seed {r['seed']}: greedy {r['greedy']:.2f}, "
                f"sampled {r['sampled']:.2f} ({r['wall']:.0f} s)"
            )
            results.append(r)
    rows = []
    for t in args.tasks:
        for m in METHODS:
            rs = sorted((r for r in results if r["env"] == t and r["method"] == m), key=lambda r: r["seed"])
            rows.append(
                f"| {t} | {m} | {fmt([r['greedy'] for r in rs])} | {fmt([r['sampled'] for r in rs])} | "
                f"{np.mean([r['wall'] for r in rs]):.0f} |"
            )
        for name in TASKS[t]["references"]:
            x = [
                r["value"]
                for r in sorted(ref_rows, key=lambda r: r["seed"])
                if r["env"] == t and r["name"] == name
            ]
            rows.append(f"| {t} | {REFERENCE_NAMES.get((t, name), name)} | {fmt(x)} | | |")
    print("\n".join(rows))
    if not args.write:
        return
    setting = ", ".join(
        f"`{t}` ({', '.join(f'{k}={v}' for k, v in TASKS[t]['kwargs'].items())}; {budget[t]:,} env steps)"
        for t in args.tasks
    )
    body = "\n".join(
        [
            "## recurrent_mappo",
            "",
            f"`python benchmarks/recurrent_mappo.py` ({cpu_model()}, {args.jobs} runs side by side, "
            f"{(time.perf_counter() - started) / 60:.0f} min)",
            "",
            f"MAPPO (default arguments: 32 env copies, 50-step rollouts, 64-64 MLPs) with the feed-forward "
            f"actor and with `--recurrent 64` (a GRU of 64 after the MLP), on {setting}; the same env steps "
            f"for both, {args.seeds} seeds. Per-robot episode return over {args.episodes} evaluation "
            "episodes per seed, greedy and sampled; references on the same episodes; mean ± 95% interval "
            "over seeds. Figure: `benchmarks/recurrent_mappo.png`.",
            "",
            "| task | method | final (greedy) | final (sampled) | s per run |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", "recurrent_mappo", body)
    plot(results, args, budget)
    print(f"wrote the recurrent_mappo section and {args.plot}")


def plot(results: list[dict], args: Args, budget: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(args.tasks), figsize=(5.5 * len(args.tasks), 3.8), squeeze=False)
    for ax, t in zip(axes[0], args.tasks):
        grid = np.linspace(0, budget[t], 60)
        for m in METHODS:
            rs = [r for r in results if r["env"] == t and r["method"] == m and r["curve"]]
            ys = np.array([np.interp(grid, *zip(*[(s, v) for s, _, v in r["curve"]])) for r in rs])
            plot_mean_ci(ax, grid, ys, m)
        ax.set_title(t)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("training episode return")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(f"MAPPO with and without a GRU actor (mean ± 95% CI, {args.seeds} seeds)")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(tyro.cli(Args))
