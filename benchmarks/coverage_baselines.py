"""Coverage baselines on ``coverage-v0``: D2OC vs Spectral Multiscale Coverage (SMC, the ergodic
baseline D2OC's paper compares with) vs Lloyd / Voronoi vs random, on every shipped map.

Each seed is one env copy (its own initial positions; D2OC's sample points drawn from the
policy's seed stream), all policies see the same copies. The table gives W2 (exact optimal
transport between the time-averaged trajectory distribution and the reference, 16 x 16 grid)
at 25%, 50% and 100% of the episode as mean and 95% Student-t interval over seeds, the share of
seeds where the policy beats D2OC at the end, and the policy's own compute per env step
(``act`` only, one env copy, median over the episode's steps). Writes the
``coverage_baselines`` section of ``benchmarks/RESULTS.md`` and
``benchmarks/coverage_baselines.png`` (W2 over time, N = 8).

    python benchmarks/coverage_baselines.py                          # ~10 min on 2 cores
    python benchmarks/coverage_baselines.py --seeds 4 --maps ring --ns 8 --no-write   # smoke
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tyro

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import swarmzoo  # noqa: E402
from swarmzoo.agents import RandomPolicy  # noqa: E402
from swarmzoo.agents.coverage import LloydVoronoi  # noqa: E402
from swarmzoo.agents.d2oc import D2OC  # noqa: E402
from swarmzoo.agents.ergodic import SpectralMultiscaleCoverage  # noqa: E402
from swarmzoo.bench import cpu_model, mean_ci95, write_results_section  # noqa: E402

POLICIES = {
    "d2oc": lambda seed: D2OC(seed=seed),
    "d2oc (centralised)": lambda seed: D2OC(seed=seed, centralised=True),
    "smc": lambda seed: SpectralMultiscaleCoverage(),
    "lloyd": lambda seed: LloydVoronoi(),
    "random": lambda seed: RandomPolicy(seed=seed),
}


@dataclass
class Args:
    maps: tuple[str, ...] = ("two_hotspots", "ring", "disaster", "uniform")
    """Density maps."""
    ns: tuple[int, ...] = (8, 64)
    """Swarm sizes."""
    seeds: int = 16
    """Env copies (seeds 0 .. seeds - 1) per map and size."""
    policies: tuple[str, ...] = tuple(POLICIES)
    """Policies to compare."""
    every: int = 10
    """Steps between W2 evaluations (the curve of the figure)."""
    timing_steps: int = 50
    """Steps timed for the compute column (one env copy)."""
    write: bool = True
    """Write the RESULTS.md section and the figure."""
    plot: Path = field(default_factory=lambda: ROOT / "benchmarks" / "coverage_baselines.png")


def w2_curve(name: str, map_name: str, n: int, seeds: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps ``(T,)`` and W2 ``(T, seeds)`` of one policy over one episode of ``seeds`` copies."""
    venv = swarmzoo.make_vec("coverage-v0", seeds, map=map_name, n_agents=n, w2_every=every)
    policy = POLICIES[name](0)
    obs, _ = venv.reset(seed=0)
    steps, w2 = [], []
    for t in range(1, venv.max_cycles + 1):
        obs, _, _, _, infos = venv.step(policy.act(obs, venv.task))
        if "w2" in infos:
            steps.append(t)
            w2.append(infos["w2"])
    return np.array(steps), np.array(w2)


def act_ms(name: str, map_name: str, n: int, steps: int) -> float:
    """Median wall time of the policy's ``act`` per env step, one copy."""
    venv = swarmzoo.make_vec("coverage-v0", 1, map=map_name, n_agents=n, w2_every=None)
    policy = POLICIES[name](0)
    obs, _ = venv.reset(seed=0)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        actions = policy.act(obs, venv.task)
        times.append(time.perf_counter() - start)
        obs, *_ = venv.step(actions)
    return 1e3 * float(np.median(times[1:]))  # the first call sets the policy up


def fmt(x: np.ndarray) -> str:
    mean, half = mean_ci95(x)
    return f"{mean:.3f} ± {half:.3f}"


def main(args: Args) -> None:
    rows, curves = [], {}
    for n in args.ns:
        for map_name in args.maps:
            results = {}
            for name in args.policies:
                start = time.perf_counter()
                steps, w2 = w2_curve(name, map_name, n, args.seeds, args.every)
                curves[(n, map_name, name)] = (steps, w2)
                ms = act_ms(name, map_name, n, args.timing_steps)
                print(
                    f"N={n} {map_name} {name}: W2 end {fmt(w2[-1])}, act {ms:.2f} ms/step "
                    f"({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
                results[name] = (steps, w2, ms)
            ref = results.get("d2oc")
            for name, (steps, w2, ms) in results.items():
                quarter = np.searchsorted(steps, steps[-1] // 4)
                half = np.searchsorted(steps, steps[-1] // 2)
                wins = "" if ref is None or name == "d2oc" else f"{(w2[-1] < ref[1][-1]).mean():.0%}"
                rows.append(
                    f"| {n} | {map_name} | {name} | {fmt(w2[quarter])} | {fmt(w2[half])} | "
                    f"{fmt(w2[-1])} | {wins} | {ms:.2f} |"
                )
    if not args.write:
        return
    body = "\n".join(
        [
            "## coverage_baselines",
            "",
            f"`python benchmarks/coverage_baselines.py` ({cpu_model()})",
            "",
            f"`coverage-v0` defaults (2 x 2 walled arena, 200 steps, dt 0.1, max speed 0.5), {args.seeds} "
            "env copies per row (seeds 0 .. "
            f"{args.seeds - 1}: initial positions; the same copies for every policy). W2: exact optimal "
            "transport between the robots' time-averaged trajectory distribution and the reference "
            "density on the 16 x 16 grid, mean ± 95% interval over copies, at steps 50, 100 and 200. "
            "`d2oc`: decentralised (records shared within comm range 0.8); `d2oc (centralised)`: one "
            "shared weight map per copy; `smc`: Spectral Multiscale Coverage (Mathew & Mezić), "
            "first-order law tracked on the double integrator, K = 10 modes per axis, one shared "
            "coefficient sum per copy (centralised, as published; `swarmzoo.agents.ergodic`); `lloyd`: "
            "density-weighted Voronoi centroids. Beats D2OC: share of copies whose final W2 is below "
            "decentralised D2OC's on the same copy. ms per step: the policy's `act` for one copy "
            "(median of 49 steps; the env step itself is not included). Figure: "
            "`benchmarks/coverage_baselines.png` (N = 8).",
            "",
            "| N | map | policy | W2 at step 50 | W2 at step 100 | W2 at step 200 | beats D2OC "
            "| ms per step |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", "coverage_baselines", body)
    plot(curves, args)
    print(f"wrote the coverage_baselines section and {args.plot}")


def plot(curves: dict, args: Args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats

    n = args.ns[0]
    fig, axes = plt.subplots(1, len(args.maps), figsize=(4.2 * len(args.maps), 3.6), squeeze=False)
    for ax, map_name in zip(axes[0], args.maps):
        for name in args.policies:
            steps, w2 = curves[(n, map_name, name)]
            mean = w2.mean(axis=1)
            half = stats.t.ppf(0.975, w2.shape[1] - 1) * w2.std(axis=1, ddof=1) / np.sqrt(w2.shape[1])
            line = ax.plot(steps, mean, label=name)[0]
            ax.fill_between(steps, mean - half, mean + half, color=line.get_color(), alpha=0.2)
        ax.set_title(map_name)
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("W2 to the reference (lower is better)")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(f"coverage-v0, N = {n}: W2 over time (mean ± 95% CI, {args.seeds} seeds)")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(tyro.cli(Args))
