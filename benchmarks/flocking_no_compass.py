"""Flocking without a compass: Dec-POMFC (mean-field PPO) vs MAPPO vs IPPO vs the Vicsek rule on
``flocking-v0`` with ``compass=False``, trained at one swarm size and evaluated at 10x.

With the compass every learner in ``benchmarks/mean_field_scaling.py`` found the shortcut of all
turning to one absolute heading. Here observations are rotation-invariant (neighbours' relative
headings and offsets only), so alignment must come from the neighbours. Each learner trains
``--seeds`` times with the same env steps at ``--train-agents`` robots; every final policy, the
Vicsek rule and random actions are evaluated at each of ``--sizes`` (constant density, so the
arena grows with N). Mean-field policies run decentralised (open loop: the rule schedule and
each robot's own observation). Return: per-robot episode return (the global polar order summed
over 100 steps, so 100 is perfect order from the first step); mean ± 95% interval over seeds
(each seed: the mean of ``--episodes`` evaluation episodes). Writes the ``flocking_no_compass``
section of ``benchmarks/RESULTS.md`` and ``benchmarks/flocking_no_compass.png``.

    python benchmarks/flocking_no_compass.py            # ~25 min on 2 cores
    python benchmarks/flocking_no_compass.py --train-agents 200 --total-steps 12000 \
        --num-envs-divisor 4 --sizes 200 2000 --section flocking_no_compass_n200  # trained at 200
    python benchmarks/flocking_no_compass.py --seeds 2 --total-steps 3200 --sizes 20 \
        --train-agents 20 --no-write   # smoke
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swarmzoo.bench import cpu_model, mean_ci95, write_results_section  # noqa: E402

LEARNERS = ("mean-field", "mappo", "ippo")


@dataclass
class Args:
    methods: tuple[str, ...] = LEARNERS
    seeds: int = 5
    train_agents: int = 50
    """Swarm size every learner trains at."""
    total_steps: int = 48_000
    """Env steps (summed over env copies) per run, the same for every learner."""
    sizes: tuple[int, ...] = (50, 500)
    """Swarm sizes to evaluate at."""
    episodes: int = 4
    compass: bool = False
    """flocking-v0's compass argument (False: rotation-invariant observations)."""
    num_envs_divisor: int = 1
    """Divide each trainer's default number of env copies by this (MAPPO/IPPO 32, mean-field 16):
    at 4x the robots, ``--num-envs-divisor 4 --total-steps`` / 4 keeps the robot-steps per update
    and the number of updates of the default table."""
    jobs: int = 2
    section: str = "flocking_no_compass"
    """The RESULTS.md section (and, unless --plot is given, the figure's and runs' name)."""
    runs: Path | None = None
    """Run folders; default ``runs/<section>``."""
    write: bool = True
    plot: Path | None = None
    """The figure; default ``benchmarks/<section>.png``."""

    def __post_init__(self) -> None:
        from swarmzoo.algorithms import ctde, mean_field

        for name, default in (("mappo", ctde.Args.num_envs), ("mean-field", mean_field.Args.num_envs)):
            if self.num_envs_divisor < 1 or default % self.num_envs_divisor:
                raise ValueError(
                    f"num_envs_divisor={self.num_envs_divisor} must divide {name}'s default "
                    f"num_envs={default}"
                )
        if self.runs is None:
            self.runs = Path("runs") / self.section
        if self.plot is None:
            self.plot = ROOT / "benchmarks" / f"{self.section}.png"


def env_kwargs(args: Args, n: int) -> dict:
    return {"n_agents": n, "compass": args.compass}


def train_job(job: tuple[str, int, Args]) -> dict:
    from swarmzoo.algorithms import ctde, mean_field

    method, seed, args = job
    common = dict(
        env="flocking-v0",
        env_kwargs=(f"n_agents={args.train_agents}", f"compass={args.compass}"),
        total_steps=args.total_steps,
        seed=seed,
        out=args.runs / f"{method}__{seed}",
        progress=False,
        tensorboard=False,
    )
    if method == "mean-field":
        num_envs = mean_field.Args.num_envs // args.num_envs_divisor
        result = mean_field.train(mean_field.Args(**common, num_envs=num_envs))
    else:
        num_envs = ctde.Args.num_envs // args.num_envs_divisor
        critic = "central" if method == "mappo" else "local"
        result = ctde.train(ctde.Args(**common, critic=critic, num_envs=num_envs))
    return {
        "method": method,
        "seed": seed,
        "wall": result.wall_time,
        "run_dir": str(result.run_dir),
        "curve": result.curve,
    }


def eval_job(job: tuple[str, str, int, int, Args]) -> dict:
    from swarmzoo.agents import make_policy
    from swarmzoo.evaluation import evaluate

    label, policy_name, seed, n, args = job
    policy = make_policy(policy_name, "flocking-v0", seed=seed)
    res = evaluate(
        "flocking-v0", policy, episodes=args.episodes, seed=10_000 + 100 * seed, **env_kwargs(args, n)
    )
    return {"label": label, "seed": seed, "n": n, "mean": res["mean_return"]}


def main(args: Args) -> None:
    started = time.perf_counter()
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.jobs, maxtasksperchild=1) as pool:
        trained = []
        for t in pool.imap_unordered(
            train_job, [(m, s, args) for m in args.methods for s in range(args.seeds)]
        ):
            print(f"trained {t['method']} seed {t['seed']}: {t['wall']:.0f} s", flush=True)
            trained.append(t)
        jobs = [(t["method"], t["run_dir"], t["seed"], n, args) for t in trained for n in args.sizes]
        jobs += [
            (label, label, s, n, args)
            for label in ("heuristic", "random")
            for s in range(args.seeds)
            for n in args.sizes
        ]
        evals = pool.map(eval_job, jobs, chunksize=1)
    labels = [*args.methods, "heuristic", "random"]
    names = {"heuristic": "Vicsek rule", "random": "random"}
    rows = []
    for label in labels:
        cells = []
        for n in args.sizes:
            x = [e["mean"] for e in evals if e["label"] == label and e["n"] == n]
            mean, half = mean_ci95(x)
            cells.append(f"{mean:.1f} ± {half:.1f}")
        walls = [t["wall"] for t in trained if t["method"] == label]
        wall = f"{np.mean(walls):.0f} s" if walls else ""
        rows.append(f"| {names.get(label, label)} | {wall} | " + " | ".join(cells) + " |")
    print("\n".join(rows))
    if not args.write:
        return
    header = "| policy | train time per run | " + " | ".join(f"N = {n:,}" for n in args.sizes) + " |"
    body = "\n".join(
        [
            f"## {args.section}",
            "",
            f"`{command(args)}` ({cpu_model()}, {args.jobs} runs side by side, "
            f"{(time.perf_counter() - started) / 60:.0f} min)",
            "",
            f"`flocking-v0` with `compass={args.compass}` (rotation-invariant observations), default "
            f"arguments otherwise (torus, density 2, heading noise 0.2, 100 steps). Learners trained at "
            f"N = {args.train_agents} with {args.total_steps:,} env steps each, {args.seeds} seeds "
            f"({copies(args)}); "
            "mean-field = Dec-POMFC with the default finite-agent gradient, open-loop execution. "
            f"Per-robot episode return (sum of the global polar order over 100 steps), {args.episodes} "
            "episodes per seed and size, mean ± 95% interval over seeds (the rule and random: over the "
            f"same evaluation seeds). Figure: `benchmarks/{args.plot.name}`.",
            "",
            header,
            "|" + "---|" * (len(args.sizes) + 2),
            *rows,
        ]
    )
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", args.section, body)
    plot(args, trained, evals)
    print(f"wrote the {args.section} section and {args.plot}")


def copies(args: Args) -> str:
    from swarmzoo.algorithms import ctde, mean_field

    d = args.num_envs_divisor
    return (
        f"env copies: MAPPO/IPPO {ctde.Args.num_envs // d} x {ctde.Args.rollout_steps} steps, "
        f"mean-field {mean_field.Args.num_envs // d} x {mean_field.Args.rollout_steps} steps per update"
    )


def command(args: Args) -> str:
    """The command line that reproduces this table (the defaults print as the bare command)."""
    default = Args()
    parts = ["python benchmarks/flocking_no_compass.py"]
    for flag, value, base in (
        ("--train-agents", args.train_agents, default.train_agents),
        ("--total-steps", args.total_steps, default.total_steps),
        ("--num-envs-divisor", args.num_envs_divisor, default.num_envs_divisor),
        ("--seeds", args.seeds, default.seeds),
        ("--sizes", " ".join(map(str, args.sizes)), " ".join(map(str, default.sizes))),
        ("--section", args.section, default.section),
    ):
        if value != base:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


def plot(args: Args, trained: list[dict], evals: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    grid = np.linspace(0, args.total_steps, 40)
    for m in args.methods:
        curves = [t["curve"] for t in trained if t["method"] == m and t["curve"]]
        ys = np.array([np.interp(grid, [c[0] for c in cur], [c[2] for c in cur]) for cur in curves])
        stats = np.array([mean_ci95(col) for col in ys.T])
        line = axes[0].plot(grid, stats[:, 0], label=m)[0]
        axes[0].fill_between(
            grid, stats[:, 0] - stats[:, 1], stats[:, 0] + stats[:, 1], color=line.get_color(), alpha=0.2
        )
    axes[0].set_title(f"training at N = {args.train_agents} (compass={args.compass})")
    axes[0].set_xlabel("env steps")
    axes[0].set_ylabel("training episode return")
    axes[0].legend(fontsize=8)
    labels = [*args.methods, "heuristic", "random"]
    width = 0.8 / len(args.sizes)
    for k, n in enumerate(args.sizes):
        stats = [
            mean_ci95([e["mean"] for e in evals if e["label"] == label and e["n"] == n]) for label in labels
        ]
        axes[1].bar(
            np.arange(len(labels)) + k * width,
            [s[0] for s in stats],
            width,
            yerr=[s[1] for s in stats],
            capsize=3,
            label=f"N = {n:,}",
        )
    axes[1].set_xticks(np.arange(len(labels)) + width * (len(args.sizes) - 1) / 2)
    axes[1].set_xticklabels([{"heuristic": "Vicsek rule"}.get(x, x) for x in labels])
    axes[1].set_ylabel("evaluation return (mean ± 95% CI over seeds)")
    axes[1].set_title("evaluated at the training size and at 10x")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(tyro.cli(Args))
