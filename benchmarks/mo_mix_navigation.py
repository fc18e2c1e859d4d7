"""MO-MIX against independent scalarised MAPPO runs, one per preference, at equal env steps.

Task: ``navigation-v0`` with 3 robots and two objectives, ``goals`` (minus the goals' distance
to their nearest robot, per step) and ``energy`` (minus the control effort: 1 per step a robot
pushes). Robots glide (damping 0.25), so a few pushes can cover a goal: the two conflict, but not
completely.

Per seed, with a budget of ``--steps`` env steps:

* **MO-MIX**: one run of ``--steps`` (``swarmzoo train mo-mix``), then its greedy policy at each
  preference of ``weight_grid(2, 4)`` (5 preferences);
* **MAPPO x 5**: one MAPPO run per preference of the same grid on ``w . r``
  (``swarmzoo train ctde --reward-weights``), ``--steps / 5`` env steps each, greedy.

Every policy is evaluated on the same ``--episodes`` episodes (per-robot vector returns). Each
method's front is the non-dominated set of its 5 points; hypervolume is measured above a
reference fixed from two scripted policies on the same episodes: goals = the worse of the no-op
and uniform-random policies' goal returns minus 1, energy = -(max_cycles + 1) (below a robot that
pushes every step). Also sparsity (PGMORL) and Zitzler's coverage between the two methods' fronts.
Mean and 95% Student-t interval over seeds. Writes the ``mo_mix_navigation`` section of
``benchmarks/RESULTS.md`` and ``benchmarks/mo_mix_navigation.png``.

    python benchmarks/mo_mix_navigation.py                   # ~15 min on 2 cores
    python benchmarks/mo_mix_navigation.py --seeds 2 --steps 20000 --no-write
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

from swarmzoo.bench import cpu_model, mean_ci95, write_results_section  # noqa: E402

ENV = "navigation-v0"
KWARGS = {"n_agents": 3, "objectives": ("goals", "energy")}
MAX_CYCLES = 50  # navigation-v0's default


@dataclass
class Args:
    steps: int = 150_000
    """Env steps per seed and method (MAPPO: steps / 5 per preference)."""
    seeds: int = 5
    episodes: int = 32
    grid_steps: int = 4
    jobs: int = 2
    runs: Path = Path("runs/mo_mix_navigation")
    write: bool = True
    plot: Path = field(default_factory=lambda: ROOT / "benchmarks" / "mo_mix_navigation.png")


def eval_seed(seed: int) -> int:
    return 90_000 + 1_000 * seed


def env_kwargs_strings() -> tuple[str, ...]:
    return ("n_agents=3", "objectives=goals,energy")


def vector_return(policy, seed: int, episodes: int) -> list[float]:
    from swarmzoo.evaluation import evaluate

    return evaluate(ENV, policy, episodes=episodes, seed=eval_seed(seed), **KWARGS)["mean_returns"]


def scripted_job(job: tuple[str, int, Args]) -> dict:
    from swarmzoo.agents import make_policy

    name, seed, args = job
    if name == "noop":

        class NoOp:
            def act(self, obs, task):
                return np.zeros(obs.shape[:2], dtype=np.int64)

        policy = NoOp()
    else:
        policy = make_policy(name, ENV, seed=seed)
    return {"name": name, "seed": seed, "point": vector_return(policy, seed, args.episodes)}


def mo_mix_job(job: tuple[int, Args]) -> dict:
    from swarmzoo.algorithms import mo_mix
    from swarmzoo.algorithms.common.pareto import weight_grid

    seed, args = job
    start = time.perf_counter()
    result = mo_mix.train(
        mo_mix.Args(
            env=ENV,
            env_kwargs=env_kwargs_strings(),
            total_steps=args.steps,
            seed=seed,
            out=args.runs / f"mo_mix__{seed}",
            progress=False,
            tensorboard=False,
            eval_episodes=1,
        )
    )
    wall = time.perf_counter() - start
    weights = weight_grid(2, args.grid_steps)
    points = mo_mix.pareto_front(result.run_dir / "policy.pt", weights, args.episodes, eval_seed(seed))
    return {
        "method": "MO-MIX",
        "seed": seed,
        "wall": wall,
        "points": points.tolist(),
        "steps": result.global_step,
    }


def mappo_job(job: tuple[int, int, Args]) -> dict:
    from swarmzoo.agents import make_policy
    from swarmzoo.algorithms import ctde
    from swarmzoo.algorithms.common.pareto import weight_grid

    seed, index, args = job
    w = weight_grid(2, args.grid_steps)[index]
    n_prefs = len(weight_grid(2, args.grid_steps))
    start = time.perf_counter()
    result = ctde.train(
        ctde.Args(
            env=ENV,
            env_kwargs=env_kwargs_strings(),
            reward_weights=tuple(float(x) for x in w),
            total_steps=args.steps // n_prefs,
            seed=seed,
            out=args.runs / f"mappo__{seed}__w{index}",
            progress=False,
            tensorboard=False,
        )
    )
    wall = time.perf_counter() - start
    point = vector_return(make_policy(str(result.run_dir), ENV, seed=seed), seed, args.episodes)
    return {
        "method": "MAPPO",
        "seed": seed,
        "index": index,
        "wall": wall,
        "point": point,
        "steps": result.global_step,
    }


def fmt(x, digits: int = 2) -> str:
    mean, half = mean_ci95(x)
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def main(args: Args) -> None:
    from swarmzoo.algorithms.common.pareto import (
        hypervolume,
        non_dominated,
        set_coverage,
        sparsity,
        weight_grid,
    )

    started = time.perf_counter()
    weights = weight_grid(2, args.grid_steps)
    scripted = [(name, s, args) for name in ("noop", "random", "heuristic") for s in range(args.seeds)]
    with mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
        script_rows = pool.map(scripted_job, scripted)
        mo = pool.map_async(mo_mix_job, [(s, args) for s in range(args.seeds)])
        mappo_rows = pool.map(
            mappo_job, [(s, i, args) for s in range(args.seeds) for i in range(len(weights))]
        )
        mo_rows = mo.get()
    worst_goals = min(r["point"][0] for r in script_rows if r["name"] in ("noop", "random"))
    reference = np.array([worst_goals - 1.0, -(MAX_CYCLES + 1.0)])
    fronts: dict[str, list[np.ndarray]] = {"MO-MIX": [], "MAPPO x 5": []}
    walls: dict[str, list[float]] = {"MO-MIX": [], "MAPPO x 5": []}
    for s in range(args.seeds):
        fronts["MO-MIX"].append(np.array(next(r for r in mo_rows if r["seed"] == s)["points"]))
        walls["MO-MIX"].append(next(r for r in mo_rows if r["seed"] == s)["wall"])
        mine = sorted((r for r in mappo_rows if r["seed"] == s), key=lambda r: r["index"])
        fronts["MAPPO x 5"].append(np.array([r["point"] for r in mine]))
        walls["MAPPO x 5"].append(sum(r["wall"] for r in mine))
    hv = {m: [hypervolume(p, reference) for p in ps] for m, ps in fronts.items()}
    sp = {m: [sparsity(p) for p in ps] for m, ps in fronts.items()}
    size = {m: [len(non_dominated(p)) for p in ps] for m, ps in fronts.items()}
    cover = {
        "C(MO-MIX, MAPPO)": [set_coverage(a, b) for a, b in zip(fronts["MO-MIX"], fronts["MAPPO x 5"])],
        "C(MAPPO, MO-MIX)": [set_coverage(b, a) for a, b in zip(fronts["MO-MIX"], fronts["MAPPO x 5"])],
    }
    rows = [
        f"| {m} | {fmt(hv[m], 1)} | {fmt(sp[m], 1)} | {fmt(size[m], 1)} | {np.mean(walls[m]):.0f} |"
        for m in fronts
    ]
    point_rows = []
    for i, w in enumerate(weights):
        cells = []
        for m in fronts:
            pts = np.array([f[i] for f in fronts[m]])
            cells.append(f"{fmt(pts[:, 0])} / {fmt(pts[:, 1])}")
        point_rows.append(f"| ({w[0]:.2f}, {w[1]:.2f}) | " + " | ".join(cells) + " |")
    for name in ("noop", "random", "heuristic"):
        pts = np.array(
            [r["point"] for r in sorted(script_rows, key=lambda r: r["seed"]) if r["name"] == name]
        )
        point_rows.append(f"| {name} (scripted) | {fmt(pts[:, 0])} / {fmt(pts[:, 1])} | |")
    table = [
        "| method | hypervolume | sparsity | front size | s per seed |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Coverage: C(MO-MIX, MAPPO) = {fmt(cover['C(MO-MIX, MAPPO)'])}, "
        f"C(MAPPO, MO-MIX) = {fmt(cover['C(MAPPO, MO-MIX)'])} (the share of the other's front each "
        "weakly dominates).",
        "",
        "| preference (goals, energy) | MO-MIX goals / energy | MAPPO x 5 goals / energy |",
        "|---|---|---|",
        *point_rows,
    ]
    print("\n".join(table))
    print(f"reference point {reference.tolist()}")
    if not args.write:
        return
    body = "\n".join(
        [
            "## mo_mix_navigation",
            "",
            f"`python benchmarks/mo_mix_navigation.py` ({cpu_model()}, {args.jobs} runs side by side, "
            f"{(time.perf_counter() - started) / 60:.0f} min)",
            "",
            f"`{ENV}` with 3 robots and `objectives=goals,energy`. Per seed ({args.seeds} seeds), "
            f"{args.steps:,} env steps per method: one MO-MIX run (default arguments), or five MAPPO "
            f"runs of {args.steps // len(weights):,} steps, one per preference of `weight_grid(2, "
            f"{args.grid_steps})`, on `w . r` (`--reward-weights`). Greedy policies, {args.episodes} "
            "evaluation episodes per point (the same for every method), per-robot returns. Hypervolume "
            f"above the reference ({reference[0]:.2f}, {reference[1]:.0f}) (goals: the worse of the no-op "
            "and random policies minus 1; energy: -(max_cycles + 1)), with pymoo. Mean ± 95% interval over "
            "seeds. Figure: `benchmarks/mo_mix_navigation.png`.",
            "",
            *table,
        ]
    )
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", "mo_mix_navigation", body)
    plot(fronts, script_rows, reference, args)
    print(f"wrote the mo_mix_navigation section and {args.plot}")


def plot(
    fronts: dict[str, list[np.ndarray]], script_rows: list[dict], reference: np.ndarray, args: Args
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from swarmzoo.algorithms.common.pareto import non_dominated

    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    for (name, ps), colour in zip(fronts.items(), ("tab:blue", "tab:orange")):
        for i, p in enumerate(ps):
            ax.scatter(
                p[:, 0], p[:, 1], color=colour, alpha=0.35, s=18, label=f"{name} (points)" if i == 0 else None
            )
        mean = np.mean(np.stack(ps), axis=0)
        front = non_dominated(mean)
        ax.plot(front[:, 0], front[:, 1], "-o", color=colour, label=f"{name}: front of the seed-mean points")
    for name, marker in (("noop", "x"), ("random", "+"), ("heuristic", "*")):
        pts = np.array([r["point"] for r in script_rows if r["name"] == name])
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, color="black", label=name)
    ax.axvline(reference[0], color="grey", lw=0.8, ls=":")
    ax.axhline(reference[1], color="grey", lw=0.8, ls=":", label="HV reference")
    ax.set_xlabel("goals return (higher is better)")
    ax.set_ylabel("energy return (higher is better)")
    ax.set_title(f"navigation-v0, goals vs energy ({args.seeds} seeds, {args.steps:,} env steps each)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(tyro.cli(Args))
