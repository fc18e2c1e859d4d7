"""Correlated action where it pays: MAPPO, IPPO and BN-MAPPO on ``aloha-v0`` (robots contending
for K radio channels), at equal env-step budgets.

Who holds a packet changes every step and only that robot knows, so robots that choose their
channel independently collide or leave channels idle; a robot that sees which channels its DAG
parents took can take a free one. BN-MAPPO runs annealed (the paper's schedule: the DAG empties,
execution is decentralised) and never annealed (the DAG stays: correlated, sequential execution);
the random-DAG ablation (``--edge-prob p``: every allowed pair an edge with probability p, drawn
each step, no edge network) asks whether the learned, context-aware graph matters or any
correlation does (p=1: the complete DAG in robot order, every robot sees all earlier choices).
References on the same evaluation episodes: the centralised scheduler (the optimum, reads every
queue), slotted ALOHA (the classic decentralised protocol) and random actions.

Per (N, method) ``--seeds`` runs; every final policy is evaluated over ``--episodes`` episodes
both greedy (most likely actions; BN: the argmax graph) and sampled (the stochastic policy:
contention protocols need randomness, so greedy can be the worse of the two). Returns: packets
delivered per episode over the scheduler's on the same episodes; mean and 95% Student-t
interval over seeds. Writes the ``bayes_net_aloha`` section of ``benchmarks/RESULTS.md`` and
``benchmarks/bayes_net_aloha.png``.

    python benchmarks/bayes_net_aloha.py                 # ~30 min on 2 cores
    python benchmarks/bayes_net_aloha.py --sizes 4x2 --seeds 2 --total-steps 6400 --no-write
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

from bayes_net_coordination import at, fmt  # noqa: E402

from swarmzoo.bench import cpu_model, mean_ci95, plot_mean_ci, write_results_section  # noqa: E402

BN_VARIANTS = {
    "bn-mappo": dict(anneal=True),
    "bn-mappo (no annealing)": dict(anneal=False),
    "bn-mappo (random DAG, p=0.5)": dict(anneal=False, edge_prob=0.5),
    "bn-mappo (random DAG, p=1)": dict(anneal=False, edge_prob=1.0),
}
METHODS = ("mappo", "ippo", *BN_VARIANTS)
REFERENCES = ("scheduler", "aloha", "random")
REFERENCE_NAMES = {
    "scheduler": "central scheduler (the optimum)",
    "aloha": "slotted ALOHA",
    "random": "random",
}


@dataclass
class Args:
    sizes: tuple[str, ...] = ("6x2", "12x4")
    """Swarm sizes as ROBOTSxCHANNELS (``aloha-v0``'s n_agents and n_channels)."""
    seeds: int = 5
    """Seeds per (size, method)."""
    total_steps: int = 120_000
    """Env steps per run (summed over env copies), the same for every method."""
    methods: tuple[str, ...] = METHODS
    episodes: int = 32
    """Evaluation episodes per final policy (and per reference)."""
    jobs: int = 2
    runs: Path = Path("runs/bayes_net_aloha")
    write: bool = True
    plot: Path = field(default_factory=lambda: ROOT / "benchmarks" / "bayes_net_aloha.png")


def parse_size(size: str) -> tuple[int, int]:
    """``"6x2"`` -> (6, 2)."""
    try:
        n, k = (int(x) for x in size.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--sizes takes ROBOTSxCHANNELS such as 6x2, got {size!r}") from None
    return n, k


def eval_seed(seed: int) -> int:
    """First evaluation seed of training seed ``seed`` (apart, so seeds' episodes differ)."""
    return 50_000 + 1_000 * seed


def evaluate_returns(policy, n: int, k: int, args: Args, seed: int) -> float:
    from swarmzoo.evaluation import evaluate

    kw = {"n_agents": n, "n_channels": k}
    return evaluate("aloha-v0", policy, episodes=args.episodes, seed=eval_seed(seed), **kw)["mean_return"]


def reference_job(job: tuple[str, str, int, Args]) -> dict:
    from swarmzoo.agents import make_policy

    size, name, seed, args = job
    n, k = parse_size(size)
    policy = make_policy(name, "aloha-v0", seed=seed)
    return {"size": size, "name": name, "seed": seed, "return": evaluate_returns(policy, n, k, args, seed)}


def train_job(job: tuple[str, str, int, Args]) -> dict:
    from swarmzoo.agents import make_policy
    from swarmzoo.algorithms import bayes_net, ctde
    from swarmzoo.algorithms.common.logging import read_progress

    size, method, seed, args = job
    n, k = parse_size(size)
    common = dict(
        env="aloha-v0",
        env_kwargs=(f"n_agents={n}", f"n_channels={k}"),
        total_steps=args.total_steps,
        seed=seed,
        out=args.runs / f"{size}__{method.replace(' ', '_')}__{seed}",
        progress=False,
        tensorboard=False,
    )
    start = time.perf_counter()
    if method in BN_VARIANTS:
        result = bayes_net.train(bayes_net.Args(**common, **BN_VARIANTS[method]))
    else:
        result = ctde.train(ctde.Args(**common, critic="central" if method == "mappo" else "local"))
    wall = time.perf_counter() - start
    finals = {}
    for mode in ("greedy", "sampled"):
        policy = make_policy(str(result.run_dir), "aloha-v0", seed=seed, sample=mode == "sampled")
        finals[mode] = evaluate_returns(policy, n, k, args, seed)
    density = read_progress(result.run_dir).get("charts/edge_density_argmax", [])
    return {
        "size": size,
        "method": method,
        "seed": seed,
        "wall": wall,
        **finals,
        "curve": [(step, ret) for step, _, ret in result.curve],
        "density": float(density[-1]) if len(density) else 0.0,
    }


def main(args: Args) -> None:
    for size in args.sizes:
        parse_size(size)
    started = time.perf_counter()
    refs = [(sz, name, s, args) for sz in args.sizes for name in REFERENCES for s in range(args.seeds)]
    jobs = [(sz, m, s, args) for sz in args.sizes for m in args.methods for s in range(args.seeds)]
    with mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
        ref = {(r["size"], r["name"], r["seed"]): r["return"] for r in pool.map(reference_job, refs)}
        results = []
        for r in pool.imap_unordered(train_job, jobs):
            best = ref[(r["size"], "scheduler", r["seed"])]
            print(
                f"{r['size']} {r['method']} seed {r['seed']}: greedy {r['greedy'] / best:.3f}, "
                f"sampled {r['sampled'] / best:.3f} of the scheduler ({r['wall']:.0f} s)"
            )
            results.append(r)
    T = args.total_steps
    rows = []
    for size in args.sizes:
        optimum = {s: ref[(size, "scheduler", s)] for s in range(args.seeds)}
        scale = np.mean(list(optimum.values()))  # training curves: over the mean optimum
        for m in args.methods:
            rs = [r for r in results if r["size"] == size and r["method"] == m]
            rs.sort(key=lambda r: r["seed"])
            density = np.mean([r["density"] for r in rs])
            rows.append(
                f"| {size} | {m} | {fmt([at(r['curve'], T / 4) / scale for r in rs])} | "
                f"{fmt([at(r['curve'], T / 2) / scale for r in rs])} | "
                f"{fmt([r['greedy'] / optimum[r['seed']] for r in rs])} | "
                f"{fmt([r['sampled'] / optimum[r['seed']] for r in rs])} | "
                f"{density:.2f} | {'1' if density == 0 else 'up to N'} | "
                f"{np.mean([r['wall'] for r in rs]):.0f} |"
            )
        for name in REFERENCES:
            ratio = [ref[(size, name, s)] / optimum[s] for s in range(args.seeds)]
            passes = "central" if name == "scheduler" else "1"
            rows.append(f"| {size} | {REFERENCE_NAMES[name]} | | | {fmt(ratio)} | | | {passes} | |")
        per_episode = mean_ci95(list(optimum.values()))
        rows.append(
            f"| {size} | (scheduler: packets per episode) | | | {per_episode[0]:.1f} ± {per_episode[1]:.1f} "
            "| | | | |"
        )
    print("\n".join(rows))
    if not args.write:
        return
    body = "\n".join(
        [
            "## bayes_net_aloha",
            "",
            f"`python benchmarks/bayes_net_aloha.py` ({cpu_model()}, {args.jobs} runs side by side, "
            f"{(time.perf_counter() - started) / 60:.0f} min)",
            "",
            "`aloha-v0` (arrival 0.3 per robot and step, buffer 1, 50-step episodes; size = robots x "
            f"channels), {T:,} env steps per run for every method, {args.seeds} seeds, default trainer "
            "arguments (32 env copies, 64-64 MLPs, parameter sharing with robot ids). Return: packets "
            "delivered per episode over the central scheduler's on the same evaluation episodes (the "
            "optimum: min(backlogged, K) every step). Training columns: the training curve (stochastic "
            "policy) over the scheduler's mean; final: "
            f"{args.episodes} evaluation episodes per seed, greedy (most likely actions; BN: argmax "
            "graph, random DAG: a drawn one) and sampled (the stochastic policy; BN: a sampled graph); "
            "mean ± 95% interval over seeds. Random DAG p: no edge network, every allowed pair is an edge "
            "with probability p, drawn each step. Edge density: the argmax DAG's at the end (random "
            "DAG: the drawn ones'); passes: sequential policy passes per step at execution (central: one "
            "controller reads every queue). Figure: "
            "`benchmarks/bayes_net_aloha.png`.",
            "",
            "| size | method | return at 25% of steps | at 50% | final (greedy) | final (sampled) "
            "| edge density at the end | passes | s per run |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", "bayes_net_aloha", body)
    plot(results, ref, args)
    print(f"wrote the bayes_net_aloha section and {args.plot}")


def plot(results: list[dict], ref: dict, args: Args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0, args.total_steps, 60)
    fig, axes = plt.subplots(1, len(args.sizes), figsize=(5.5 * len(args.sizes), 3.8), squeeze=False)
    for ax, size in zip(axes[0], args.sizes):
        scale = np.mean([ref[(size, "scheduler", s)] for s in range(args.seeds)])
        for m in args.methods:
            rs = [r for r in results if r["size"] == size and r["method"] == m and r["curve"]]
            ys = np.array([[at(r["curve"], g) / scale for g in grid] for r in rs])
            plot_mean_ci(ax, grid, ys, m)
        aloha = np.mean([ref[(size, "aloha", s)] for s in range(args.seeds)]) / scale
        ax.axhline(1.0, color="k", lw=0.8, ls=":", label="central scheduler")
        ax.axhline(aloha, color="gray", lw=0.8, ls="--", label="slotted ALOHA")
        n, k = parse_size(size)
        ax.set_title(f"aloha-v0, {n} robots, {k} channels")
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("training return / scheduler's")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(f"Correlated channel access: MAPPO, IPPO, BN-MAPPO (mean ± 95% CI, {args.seeds} seeds)")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(tyro.cli(Args))
