"""Memory and coordination at once: recurrent (GRU) MAPPO and BN-MAPPO on the memory variant of
``coordination-v0``, at equal env-step budgets.

The task (``cue_steps=1, observe="own"``): every episode draws which bit pays 3 (the other bit's
majority pays 2), every robot is told only in its first observation, and afterwards it sees only
its own bit (a fading memory: it flips with probability ``noise`` each step). A memoryless policy
can do no better than one fixed convention (right in about half the episodes, about 0.85 of the
optimum); a policy that remembers the cue can earn the optimum. This is the measurement the
recurrent Bayesian-network actor (``--recurrent H``) lacked: the paper's partially observed runs
use recurrent actors, and this task needs both the memory and the shared convention.

Per method ``--seeds`` runs of ``--total-steps`` env steps (default trainer arguments otherwise);
each final policy plays ``--episodes`` evaluation episodes, greedy (BN: argmax graph) and
sampled, on the same seeds as the references: the cue follower (the optimum, scripted), one fixed
convention (all zeros, the best memoryless rule) and random. Returns are per robot over the
optimum; mean and 95% Student-t interval over seeds. Writes the ``bayes_net_memory`` section of
``benchmarks/RESULTS.md`` and ``benchmarks/bayes_net_memory.png``.

    python benchmarks/bayes_net_memory.py                  # ~20-35 min on 2 cores
    python benchmarks/bayes_net_memory.py --seeds 2 --total-steps 6400 --no-write   # smoke
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

from swarmzoo.bench import cpu_model, mean_ci95, plot_mean_ci, with_thread_env, write_results_section  # noqa: E402

ENV = "coordination-v0"
METHODS = (
    "mappo",
    "mappo (GRU 64)",
    "bn-mappo (feed-forward)",
    "bn-mappo (GRU 64)",
    "bn-mappo (GRU 64, no annealing)",
)


@dataclass
class Args:
    n_agents: int = 5
    seeds: int = 5
    total_steps: int = 100_000
    """Env steps per run (summed over env copies), the same for every method."""
    methods: tuple[str, ...] = METHODS
    episodes: int = 32
    """Evaluation episodes per final policy and mode."""
    jobs: int = 2
    runs: Path = Path("runs/bayes_net_memory")
    write: bool = True
    plot: Path = field(default_factory=lambda: ROOT / "benchmarks" / "bayes_net_memory.png")

    def __post_init__(self) -> None:
        unknown = set(self.methods) - set(METHODS)
        if unknown:
            raise ValueError(f"unknown methods {sorted(unknown)}; known: {list(METHODS)}")


def env_kwargs(args: Args) -> dict:
    return {"n_agents": args.n_agents, "cue_steps": 1, "observe": "own"}


def optimum(args: Args) -> float:
    from swarmzoo.envs.coordination import Config, optimal_step_reward

    cfg = Config(**env_kwargs(args))
    return cfg.max_cycles * optimal_step_reward(cfg)


def eval_seed(seed: int) -> int:
    return 50_000 + 1000 * seed  # 1000 apart: the copies' episode seeds never overlap


def train_job(job: tuple[str, int, Args]) -> dict:
    from swarmzoo.agents import make_policy
    from swarmzoo.algorithms import bayes_net, ctde
    from swarmzoo.algorithms.common.logging import read_progress
    from swarmzoo.evaluation import evaluate

    method, seed, args = job
    common = dict(
        env=ENV,
        env_kwargs=tuple(f"{k}={v}" for k, v in env_kwargs(args).items()),
        total_steps=args.total_steps,
        seed=seed,
        out=args.runs
        / f"{method.replace(' ', '_').replace(',', '').replace('(', '').replace(')', '')}__{seed}",
        progress=False,
        tensorboard=False,
        recurrent=64 if "GRU" in method else 0,
    )
    start = time.perf_counter()
    if method.startswith("bn-mappo"):
        result = bayes_net.train(bayes_net.Args(**common, anneal="no annealing" not in method))
    else:
        result = ctde.train(ctde.Args(**common, critic="central"))
    wall = time.perf_counter() - start
    best = optimum(args)
    final = {
        mode: evaluate(
            ENV,
            make_policy(str(result.run_dir), ENV, seed=seed, sample=mode == "sampled"),
            episodes=args.episodes,
            seed=eval_seed(seed),
            **env_kwargs(args),
        )["mean_return"]
        / best
        for mode in ("greedy", "sampled")
    }
    density = read_progress(result.run_dir).get("charts/edge_density_argmax", [])
    return {
        "method": method,
        "seed": seed,
        "wall": wall,
        **final,
        "curve": [(step, ret / best) for step, _, ret in result.curve],
        "density": float(density[-1]) if len(density) else 0.0,
    }


def reference_job(job: tuple[str, int, Args]) -> dict:
    from swarmzoo.agents import make_policy
    from swarmzoo.evaluation import evaluate

    label, seed, args = job
    policy = {
        "cue follower (the optimum)": lambda: make_policy("heuristic", ENV),
        "fixed convention (all zeros)": lambda: FixedZeros(),
        "random": lambda: make_policy("random", ENV, seed=seed),
    }[label]()
    res = evaluate(ENV, policy, episodes=args.episodes, seed=eval_seed(seed), **env_kwargs(args))
    return {"method": label, "seed": seed, "greedy": res["mean_return"] / optimum(args)}


class FixedZeros:
    """Every robot always chooses 0: one fixed convention, the best a memoryless robot can do."""

    def act(self, obs: np.ndarray, task) -> np.ndarray:
        return np.zeros(obs.shape[:2], dtype=np.int64)


REFERENCES = ("cue follower (the optimum)", "fixed convention (all zeros)", "random")


def at(curve: list[tuple[int, float]], step: float) -> float:
    steps, values = zip(*curve)
    return float(np.interp(step, steps, values))


def fmt(x) -> str:
    mean, half = mean_ci95(x)
    return f"{mean:.3f} ± {half:.3f}"


def main(args: Args) -> None:
    started = time.perf_counter()
    with mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
        results = []
        for r in pool.imap_unordered(
            train_job, [(m, s, args) for m in args.methods for s in range(args.seeds)]
        ):
            print(
                f"{r['method']} seed {r['seed']}: greedy {r['greedy']:.3f}, sampled {r['sampled']:.3f} "
                f"of the optimum ({r['wall']:.0f} s)",
                flush=True,
            )
            results.append(r)
        refs = pool.map(reference_job, [(label, s, args) for label in REFERENCES for s in range(args.seeds)])
    T = args.total_steps
    rows = []
    for m in args.methods:
        rs = [r for r in results if r["method"] == m]
        density = np.mean([r["density"] for r in rs])
        passes = "1" if not m.startswith("bn") or density == 0 else "up to N"
        rows.append(
            f"| {m} | {fmt([at(r['curve'], T / 4) for r in rs])} | "
            f"{fmt([at(r['curve'], T / 2) for r in rs])} | "
            f"{fmt([r['greedy'] for r in rs])} | {fmt([r['sampled'] for r in rs])} | "
            f"{sum(r['greedy'] >= 0.95 for r in rs)}/{len(rs)} | {density:.2f} | {passes} | "
            f"{np.mean([r['wall'] for r in rs]):.0f} |"
        )
    for label in REFERENCES:
        rows.append(
            f"| {label} | | | {fmt([r['greedy'] for r in refs if r['method'] == label])} | | | | 1 | |"
        )
    print("\n".join(rows))
    if not args.write:
        return
    cmd = "python benchmarks/bayes_net_memory.py"
    changed = [
        k for k in ("n_agents", "seeds", "total_steps", "jobs") if getattr(args, k) != getattr(Args(), k)
    ]
    cmd += "".join(f" --{k.replace('_', '-')} {getattr(args, k)}" for k in changed)
    cmd = with_thread_env(cmd)
    body = "\n".join(
        [
            "## bayes_net_memory",
            "",
            f"`{cmd}` ({cpu_model()}, {args.jobs} runs side by side, "
            f"{(time.perf_counter() - started) / 60:.0f} min)",
            "",
            f'`coordination-v0` with `n_agents={args.n_agents}, cue_steps=1, observe="own"` (the memory '
            "variant: each episode draws which bit pays 3, shown only in the first observation; "
            "afterwards each robot "
            f"sees only its own bit and id; noise 0.1, 50-step episodes). {T:,} env steps per run for every "
            f"method, {args.seeds} seeds, default trainer arguments (32 env copies, 64-64 MLPs, parameter "
            "sharing with robot ids, centralised critic on the state, which holds the convention); GRU 64: "
            "`--recurrent 64`. Return per robot over the optimum (the cue follower's expectation); training "
            f"columns from the training curve (stochastic policy); final: {args.episodes} evaluation "
            "episodes per seed, greedy (BN: argmax graph) and sampled, on the same seeds as the "
            "references; mean ± 95% interval over seeds. Edge density: the argmax DAG's at the end; "
            "passes: sequential policy passes per step at execution. Figure: "
            "`benchmarks/bayes_net_memory.png`.",
            "",
            "| method | return at 25% of steps | at 50% | final (greedy) | final (sampled) "
            "| runs >= 95% (greedy) | edge density at the end | passes | s per run |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", "bayes_net_memory", body)
    plot(results, refs, args)
    print(f"wrote the bayes_net_memory section and {args.plot}")


def plot(results: list[dict], refs: list[dict], args: Args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0, args.total_steps, 60)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for m in args.methods:
        ys = np.array([[at(r["curve"], g) for g in grid] for r in results if r["method"] == m])
        plot_mean_ci(ax, grid, ys, m)
    for label, style in zip(REFERENCES[:2], (":", "--"), strict=True):
        level = np.mean([r["greedy"] for r in refs if r["method"] == label])
        ax.axhline(level, color="k", lw=0.9, ls=style, label=label)
    ax.set_xlabel("env steps")
    ax.set_ylabel("training return / optimum")
    ax.set_title(f"coordination-v0 memory variant, N = {args.n_agents} (mean ± 95% CI, {args.seeds} seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(tyro.cli(Args))
