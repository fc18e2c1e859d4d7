"""How the swarming envs scale with the number of robots N, against VMAS, in one run on one machine.

For each of ``flocking-v0``, ``kuramoto-v0`` (default radius coupling graph) and ``aggregation-v0``
(default arguments, discrete actions, radius-neighbour sensing) and each N of a log-spaced sweep:

* env-steps/s of the vector face with one env copy (``make_vec(id, 1, n_agents=N)``) and of the
  PettingZoo face (``make(id, n_agents=N)``, dict actions), the env alone: every robot takes the
  same no-op-like action (flocking: straight on; kuramoto: zero control; aggregation: stay),
  prepared outside the timed loop;
* the realistic loop at a few N: the vector face driven by the env's scripted heuristic
  (``swarmzoo.agents.make_policy("heuristic", id)``), the policy's time included;
* memory: the tracemalloc peak over construction + ``reset`` + a few steps of the vector face
  (numpy's allocations; scipy's k-d trees live outside Python's allocator), the memory the env
  still holds after them, and the growth of the process's peak resident set (everything), each
  also per robot, so linear growth shows as a constant bytes/robot;
* log-log slopes of time per step and of peak memory against N over the large-N part of the
  sweep (``--fit-from``): 1 is linear, 2 would be an N x N matrix;
* VMAS's ``flocking`` scenario (CPU, one env, discrete no-op actions, its default settings, reset
  every 100 steps like swarmzoo's episodes) at the same N until one step takes longer than
  ``--vmas-max-step-s``; larger N are skipped. The scenarios differ in physics (see below), so the
  ratio compares the cost of "a flocking env with N robots", not the same computation.

Targets (the issue): at least 100 env-steps/s at N = 1,000 and at least 10 at N = 10,000 on 2
cores, memory growing about linearly with N. Resets at episode ends (every 100 steps) are timed,
as in :mod:`swarmzoo.bench`, whose helpers do the timing: a short warm-up calibrates the steps
that fill ``--seconds``, then ``--repeats`` timed runs; the median is reported (best in
parentheses). Every measurement runs in a fresh Python process under an address-space limit
(``--max-memory-gb``) and a wall-clock limit (``--timeout-s``), so a measurement that runs out of
memory or hangs is reported as failed instead of taking the machine down.

Writes the ``swarm_scaling`` section of ``benchmarks/RESULTS.md`` and the plot
``benchmarks/swarm_scaling.png`` (time per step and bytes per robot against N).

Usage::

    python benchmarks/swarm_scaling.py          # full sweep N = 10 .. 30,000 (about 10 minutes)
    python benchmarks/swarm_scaling.py --quick  # dry run: N = 10, 100, 1,000, short timings
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro

from swarmzoo.bench import (
    Timing,
    calibrate_steps,
    cpu_model,
    run_isolated,
    time_loop,
    time_parallel_env,
    time_vector_env,
    write_results_section,
)

ENV_IDS = ("flocking-v0", "kuramoto-v0", "aggregation-v0")
SIZES = (10, 30, 100, 300, 1000, 3000, 10000, 30000)
QUICK_SIZES = (10, 100, 1000)
TARGETS = {1000: 100.0, 10000: 10.0}  # N -> env-steps/s to reach
LINEAR_SLOPE_MAX = 1.2  # memory "about linear": log-log slope at most this
EPISODE = 100  # swarmzoo's default max_cycles of the three envs; VMAS is reset as often
SECTION = "swarm_scaling"


@dataclass
class Args:
    """Scaling of the swarming envs with the number of robots, against VMAS flocking."""

    quick: bool = False
    """Dry run: N = 10, 100, 1,000 (unless --sizes is given), heuristic at 1,000, short timings."""
    sizes: tuple[int, ...] = SIZES
    """Robot counts N of the sweep."""
    envs: tuple[str, ...] = ENV_IDS
    """Env ids to measure."""
    heuristic_sizes: tuple[int, ...] = (1000, 10000)
    """N at which the vector face is also timed with the heuristic policy's actions."""
    seconds: float = 1.0
    """Target wall time of one timed repeat."""
    repeats: int = 3
    """Timed repeats per measurement (the median is reported, the best beside it)."""
    memory_steps: int = 3
    """Steps after reset over which peak memory is taken."""
    fit_from: int = 1000
    """Smallest N of the log-log slope fits (below it fixed per-step costs dominate)."""
    peers: bool = True
    """Also measure VMAS's flocking scenario."""
    vmas_max_step_s: float = 1.0
    """Time box: VMAS is not run at the next N once one step there would take longer than this
    (seconds), projected linearly from the last measured N."""
    timeout_s: float = 600.0
    """Wall-clock limit of one measurement process (seconds)."""
    max_memory_gb: float = 8.0
    """Address-space limit of one measurement process (GiB); beyond it the measurement fails."""
    out: Path | None = Path("benchmarks/RESULTS.md")
    """Markdown file whose swarm_scaling section is written; None to skip."""
    plot: Path | None = Path("benchmarks/swarm_scaling.png")
    """Where the scaling plot goes; None to skip."""
    worker: str | None = None
    """Internal: run one measurement given as JSON and print its result as JSON."""


# -- measurements (each runs in its own process) -----------------------------------------------


def noop_action(env_id: str, task: Any) -> int:
    """The discrete action that leaves a robot's motion alone: straight on, zero control, stay."""
    if env_id == "flocking-v0":
        return int(np.argmin(np.abs(task.config.turns)))
    if env_id == "kuramoto-v0":
        return int(np.argmin(np.abs(task.config.controls)))
    if env_id == "aggregation-v0":
        from swarmzoo.envs.aggregation import DISCRETE_DIRECTIONS

        return int(np.flatnonzero(~DISCRETE_DIRECTIONS.any(axis=1))[0])
    raise ValueError(f"no no-op action known for {env_id!r}")


def timing_result(t: Timing) -> dict[str, Any]:
    return {
        "steps": t.steps,
        "env_steps_per_s": t.steps / t.median_seconds,
        "best_env_steps_per_s": t.env_steps_per_s,
    }


def measure_vector(env_id: str, n: int, seconds: float, repeats: int) -> dict[str, Any]:
    """The vector face, one copy, every robot taking the no-op action."""
    import swarmzoo

    venv = swarmzoo.make_vec(env_id, 1, n_agents=n)
    venv.reset(seed=0)
    action = np.full((1, n), noop_action(env_id, venv.task))
    steps = calibrate_steps(venv.step, lambda s: [action] * s, seconds, min_steps=3, max_steps=100_000)
    return timing_result(time_vector_env(venv, [action] * steps, repeats))


def measure_parallel(env_id: str, n: int, seconds: float, repeats: int) -> dict[str, Any]:
    """The PettingZoo face: one dict with the no-op action of every robot, built before timing."""
    import swarmzoo

    env = swarmzoo.make(env_id, n_agents=n)
    env.reset(seed=0)
    actions = dict.fromkeys(env.possible_agents, noop_action(env_id, env.unwrapped.task))

    def step(a: dict[str, Any]) -> None:
        env.step(a)
        if not env.agents:
            env.reset()

    steps = calibrate_steps(step, lambda s: [actions] * s, seconds, min_steps=3, max_steps=100_000)
    return timing_result(time_parallel_env(env, [actions] * steps, repeats))


def measure_heuristic(env_id: str, n: int, seconds: float, repeats: int) -> dict[str, Any]:
    """The vector face driven by the env's scripted heuristic (policy time included)."""
    import swarmzoo
    from swarmzoo.agents import make_policy

    venv = swarmzoo.make_vec(env_id, 1, n_agents=n)
    policy = make_policy("heuristic", env_id, seed=0)
    obs = [venv.reset(seed=0)[0]]

    def step(_: Any) -> None:
        obs[0] = venv.step(policy.act(obs[0], venv.task))[0]

    steps = calibrate_steps(step, range, seconds, min_steps=3, max_steps=100_000)
    obs[0] = venv.reset(seed=0)[0]
    times = time_loop(step, range(steps), repeats)
    return timing_result(Timing(steps, 1, n, min(times), float(np.median(times))))


def peak_rss_bytes() -> int:
    """The process's peak resident set so far (``ru_maxrss`` is in KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def measure_memory(env_id: str, n: int, steps: int) -> dict[str, Any]:
    """Memory of the vector face (one copy) over construction + reset + ``steps`` no-op steps.

    First without tracing, for the growth of the peak resident set; then again under
    tracemalloc, for the peak and the memory still held at the end.
    """
    import swarmzoo

    def run() -> Any:
        venv = swarmzoo.make_vec(env_id, 1, n_agents=n)
        venv.reset(seed=0)
        action = np.full((1, n), noop_action(env_id, venv.task))
        for _ in range(steps):
            venv.step(action)
        return venv

    rss_before = peak_rss_bytes()
    venv = run()
    rss_growth = peak_rss_bytes() - rss_before
    del venv
    gc.collect()
    tracemalloc.start()
    venv = run()
    held, peak = tracemalloc.get_traced_memory()  # held: what the live env keeps between steps
    tracemalloc.stop()
    del venv
    return {"traced_peak": peak, "traced_held": held, "rss_growth": rss_growth}


def measure_vmas(n: int, seconds: float, repeats: int) -> dict[str, Any]:
    """VMAS ``flocking`` on CPU, one env, discrete actions, every robot taking action 0 (VMAS's
    no-op), reset every ``EPISODE`` steps (timed), torch's default thread count."""
    import torch
    import vmas

    start = time.perf_counter()
    env = vmas.make_env("flocking", num_envs=1, device="cpu", continuous_actions=False, n_agents=n, seed=0)
    env.reset()
    setup_s = time.perf_counter() - start
    actions = [torch.zeros((1, 1), dtype=torch.long) for _ in range(n)]
    counter = [0]

    def step(a: list) -> None:
        env.step(a)
        counter[0] += 1
        if counter[0] % EPISODE == 0:
            env.reset()

    steps = calibrate_steps(step, lambda s: [actions] * s, seconds, min_steps=2, max_steps=100_000)
    env.reset()
    counter[0] = 0
    times = time_loop(step, [actions] * steps, repeats)
    result = timing_result(Timing(steps, 1, n, min(times), float(np.median(times))))
    result["setup_s"] = setup_s
    result["torch_threads"] = torch.get_num_threads()
    return result


def run_measurement(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement described by ``spec`` (``what``, ``env_id``, ``n`` and its settings)."""
    what = spec["what"]
    if what == "vector":
        return measure_vector(spec["env_id"], spec["n"], spec["seconds"], spec["repeats"])
    if what == "parallel":
        return measure_parallel(spec["env_id"], spec["n"], spec["seconds"], spec["repeats"])
    if what == "heuristic":
        return measure_heuristic(spec["env_id"], spec["n"], spec["seconds"], spec["repeats"])
    if what == "memory":
        return measure_memory(spec["env_id"], spec["n"], spec["steps"])
    if what == "vmas":
        return measure_vmas(spec["n"], spec["seconds"], spec["repeats"])
    raise ValueError(f"unknown measurement {what!r}")


# -- analysis ----------------------------------------------------------------------------------


def loglog_slope(ns: list[int], values: list[float], fit_from: int) -> float | None:
    """Least-squares slope of ``log(value)`` against ``log(N)`` over ``N >= fit_from`` (None
    with fewer than two points)."""
    pts = [(n, v) for n, v in zip(ns, values, strict=True) if n >= fit_from and v and v > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def ok(r: dict[str, Any] | None) -> bool:
    return r is not None and "error" not in r


def series(rows: dict[int, dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """The N and ``key`` values of the successful measurements, ascending in N."""
    ns = sorted(n for n, r in rows.items() if ok(r))
    return ns, [rows[n][key] for n in ns]


# -- the report --------------------------------------------------------------------------------


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def fmt_speed(r: dict[str, Any] | None) -> str:
    if r is None:
        return "-"
    if not ok(r):
        return f"failed: {r['error']}"
    return f"{fmt_rate(r['env_steps_per_s'])} ({fmt_rate(r['best_env_steps_per_s'])})"


def fmt_ms(r: dict[str, Any] | None) -> str:
    if not ok(r):
        return "-"
    ms = 1000 / r["env_steps_per_s"]
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.3g}"


def fmt_bytes(x: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if x >= size:
            return f"{x / size:.3g} {unit}"
    return f"{x:.0f} B"


def fmt_slope(s: float | None) -> str:
    return "n/a" if s is None else f"{s:.2f}"


def verdict(passed: bool | None) -> str:
    return "n/a" if passed is None else ("PASS" if passed else "FAIL")


def machine_info() -> dict[str, str]:
    import scipy

    import swarmzoo

    info = {
        "CPU": cpu_model(),
        "cores": f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} "
        f"usable of {os.cpu_count()}",
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "swarmzoo": getattr(swarmzoo, "__version__", "?"),
    }
    try:
        import torch
        import vmas

        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
        info["vmas"] = vmas.__version__
    except ImportError:
        info["vmas"] = "not installed"
    info["OS"] = platform.platform()
    return info


def build_report(results: dict[str, Any], args: Args, fit_from: int) -> tuple[str, dict[str, Any]]:
    """The markdown tables and the verdicts."""
    from swarmzoo.agents import HEURISTICS

    envs, sizes = results["envs"], results["sizes"]
    lines = [
        "### Speed and memory (one env copy, every robot taking a no-op action)",
        "",
        "Env-steps/s: median of the repeats (best in parentheses); ms/step from the median. Memory of "
        "the vector face over construction + reset + "
        f"{args.memory_steps} steps: tracemalloc peak (numpy arrays) and per robot, memory still "
        "held after the steps, and growth of the process's peak resident set (everything, "
        "k-d trees included).",
        "",
        "| env | N | vector face env-steps/s | ms/step | PettingZoo face env-steps/s | ms/step | "
        "traced peak | bytes/robot | held after steps | peak RSS growth |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for env_id in envs:
        for n in sizes:
            vec, par, mem = (results[face][env_id].get(n) for face in ("vector", "parallel", "memory"))
            if ok(mem):
                memory = [
                    fmt_bytes(mem["traced_peak"]),
                    f"{mem['traced_peak'] / n:,.0f}",
                    fmt_bytes(mem["traced_held"]),
                    fmt_bytes(mem["rss_growth"]),
                ]
            else:
                memory = [f"failed: {mem['error']}" if mem else "-", "-", "-", "-"]
            lines.append(
                f"| `{env_id}` | {n:,} | {fmt_speed(vec)} | {fmt_ms(vec)} | {fmt_speed(par)} | "
                f"{fmt_ms(par)} | " + " | ".join(memory) + " |"
            )

    lines += [
        "",
        "### Targets: >= 100 env-steps/s at N = 1,000 and >= 10 at N = 10,000",
        "",
        "| env | face | N | target | env-steps/s (median) | result |",
        "|---|---|---:|---:|---:|---|",
    ]
    verdicts: dict[str, Any] = {}
    for env_id in envs:
        for face in ("vector", "parallel"):
            for n, need in TARGETS.items():
                if n not in sizes:
                    continue
                r = results[face][env_id].get(n)
                passed = ok(r) and r["env_steps_per_s"] >= need
                verdicts[f"{env_id} {face} N={n}"] = passed
                got = fmt_rate(r["env_steps_per_s"]) if ok(r) else f"failed: {r['error']}"
                name = "vector" if face == "vector" else "PettingZoo"
                lines.append(f"| `{env_id}` | {name} | {n:,} | {need:g} | {got} | {verdict(passed)} |")

    lines += [
        "",
        f"### Log-log slopes over N >= {fit_from:,} (1 = linear, 2 = an N x N matrix)",
        "",
        "| env | time/step, vector face | time/step, PettingZoo face | traced peak memory | "
        f"peak RSS growth | memory about linear (slope <= {LINEAR_SLOPE_MAX:g}) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    slopes: dict[str, Any] = {}
    for env_id in envs:
        time_slopes = []
        for face in ("vector", "parallel"):
            ns, rates = series(results[face][env_id], "env_steps_per_s")
            time_slopes.append(loglog_slope(ns, [1 / r for r in rates], fit_from))
        mem = results["memory"][env_id]
        ns, peaks = series(mem, "traced_peak")
        mem_slope = loglog_slope(ns, peaks, fit_from)
        ns_rss, rss = series(mem, "rss_growth")
        rss_slope = loglog_slope(ns_rss, rss, fit_from)
        failed = [n for n in sizes if n >= fit_from and not ok(mem.get(n))]
        linear = None if mem_slope is None else (mem_slope <= LINEAR_SLOPE_MAX and not failed)
        verdicts[f"{env_id} memory linear"] = linear
        slopes[env_id] = {"time": time_slopes, "memory": mem_slope}
        note = f" (failed at N = {', '.join(f'{n:,}' for n in failed)})" if failed else ""
        lines.append(
            f"| `{env_id}` | {fmt_slope(time_slopes[0])} | {fmt_slope(time_slopes[1])} | "
            f"{fmt_slope(mem_slope)} | {fmt_slope(rss_slope)} | {verdict(linear)}{note} |"
        )

    lines += [
        "",
        "### The realistic loop: vector face driven by the scripted heuristic (policy time included)",
        "",
        "| env | N | policy | env-steps/s with the policy | env-steps/s, env alone (no-op actions) | "
        "share of the step in the policy |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for env_id in envs:
        for n, r in sorted(results["heuristic"][env_id].items()):
            alone = results["vector"][env_id].get(n)
            share = "-"
            if ok(r) and ok(alone):
                share = f"{max(0.0, 1 - r['env_steps_per_s'] / alone['env_steps_per_s']):.0%}"
            policy = HEURISTICS.get(env_id, "?").split(":")[-1]
            lines.append(f"| `{env_id}` | {n:,} | {policy} | {fmt_speed(r)} | {fmt_speed(alone)} | {share} |")

    if results["vmas"] is not None:
        lines += [
            "",
            "### Peer: `flocking-v0` (vector face) vs VMAS `flocking` on CPU, one env (env-steps/s)",
            "",
            "The scenarios differ in physics: swarmzoo's is Vicsek kinematics (constant speed, heading "
            "turns, radius sensing through a k-d tree); VMAS's moves holonomic point masses with "
            "forces, collisions (5 substeps), 12-ray lidar, 5 obstacles and a scripted target robot, "
            "and its reward loops over robot pairs in Python. The ratio compares the cost of a "
            "flocking env with N robots, not the same computation. VMAS: default scenario "
            "arguments, discrete actions, action 0 (no-op) for every robot, reset every "
            f"{EPISODE} steps.",
            "",
            "| N | swarmzoo `flocking-v0` | VMAS `flocking` | VMAS ms/step | VMAS make + reset (s) | "
            "ratio swarmzoo / VMAS |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for n in sizes:
            v = results["vmas"].get(n)
            ours = results["vector"].get("flocking-v0", {}).get(n)
            if v is None:
                continue
            ratio = f"{ours['env_steps_per_s'] / v['env_steps_per_s']:,.0f}x" if ok(v) and ok(ours) else "n/a"
            setup = f"{v['setup_s']:.2f}" if ok(v) else "-"
            lines.append(f"| {n:,} | {fmt_speed(ours)} | {fmt_speed(v)} | {fmt_ms(v)} | {setup} | {ratio} |")
        if results["vmas_note"]:
            lines += ["", results["vmas_note"]]
        ns, rates = series(results["vmas"], "env_steps_per_s")
        vmas_slope = loglog_slope(ns, [1 / r for r in rates], min(ns) if ns else 0)
        lines += ["", f"VMAS time/step log-log slope over its measured N: {fmt_slope(vmas_slope)}."]
    return "\n".join(lines), verdicts


def make_plot(results: dict[str, Any], path: Path, title: str) -> None:
    """Time per step (left) and traced peak bytes per robot (right) against N, log-log. Flat
    bytes/robot is linear memory; failed measurements are left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.35, 1]})
    colors = dict(zip(results["envs"], ("tab:blue", "tab:orange", "tab:green", "tab:purple"), strict=False))
    for env_id in results["envs"]:
        c = colors[env_id]
        for face, style, marker in (("vector", "-", "o"), ("parallel", "--", "s")):
            ns, rates = series(results[face][env_id], "env_steps_per_s")
            label = f"{env_id} {'vector face' if face == 'vector' else 'PettingZoo face'}"
            ax_t.plot(ns, [1000 / r for r in rates], style, marker=marker, ms=4, color=c, label=label)
        ns, rates = series(results["heuristic"][env_id], "env_steps_per_s")
        if ns:
            ax_t.plot(
                ns, [1000 / r for r in rates], "x", ms=9, mew=2, color=c, label=f"{env_id} + heuristic policy"
            )
        ns, peaks = series(results["memory"][env_id], "traced_peak")
        ax_m.plot(ns, [p / n for n, p in zip(ns, peaks, strict=True)], "-o", ms=4, color=c, label=env_id)
    if results["vmas"]:
        ns, rates = series(results["vmas"], "env_steps_per_s")
        ax_t.plot(ns, [1000 / r for r in rates], "-^", color="black", ms=5, label="VMAS flocking (CPU)")
    for n, need in TARGETS.items():
        ms = 1000 / need
        ax_t.axhline(ms, color="red", lw=0.8, ls=":", alpha=0.5)
        ax_t.plot([n], [ms], "v", color="red", ms=11, zorder=5)
        ax_t.annotate(
            f"target: {need:g} steps/s at N = {n:,}",
            (n, ms),
            textcoords="offset points",
            xytext=(-8, 8),
            ha="right",
            color="red",
            fontsize=8,
        )
    ns, rates = series(results["vector"][results["envs"][0]], "env_steps_per_s")
    if len(ns) >= 2:  # slope 1 (time proportional to N) through the largest N, to read slopes against
        x = np.array([ns[0], ns[-1]], dtype=float)
        y = 1000 / rates[-1] * x / x[-1]
        ax_t.plot(x, y, color="grey", lw=0.8, ls=(0, (6, 4)), label="slope 1 (time ~ N)")
    for ax in (ax_t, ax_m):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("robots N (one env copy)")
        ax.grid(True, which="major", alpha=0.3)
    ax_t.set_ylabel("wall time per env step (ms)")
    ax_t.set_title("time per step (lower is better)")
    ax_t.legend(fontsize=7, loc="lower right")
    ax_m.set_ylabel("bytes per robot")
    ax_m.set_title("peak memory per robot (tracemalloc, make + reset + steps)")
    ax_m.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(args: Args) -> None:
    if args.worker is not None:
        print(json.dumps(run_measurement(json.loads(args.worker))))
        return
    sizes = tuple(sorted(set(args.sizes)))
    heuristic_sizes = tuple(sorted(set(args.heuristic_sizes)))
    seconds, repeats, fit_from = args.seconds, args.repeats, args.fit_from
    if args.quick:
        sizes = QUICK_SIZES if args.sizes == SIZES else sizes
        heuristic_sizes = tuple(n for n in heuristic_sizes if n <= max(sizes)) or (max(sizes),)
        seconds, repeats, fit_from = 0.2, 1, min(fit_from, 100)
    base = {"seconds": seconds, "repeats": repeats}

    def measure(what: str, **spec: Any) -> dict[str, Any]:
        start = time.perf_counter()
        r = run_isolated(__file__, {"what": what, **base, **spec}, args.timeout_s, args.max_memory_gb)
        took = time.perf_counter() - start
        if not ok(r):
            shown = f"failed: {r['error']}"
        elif what == "memory":
            shown = f"traced peak {fmt_bytes(r['traced_peak'])}, {r['traced_peak'] / spec['n']:,.0f} B/robot"
        else:
            shown = f"{fmt_rate(r['env_steps_per_s'])} env-steps/s"
        name = spec.get("env_id", "vmas flocking")
        print(f"  {what:9s} {name:15s} N={spec['n']:<6,} {shown}  [{took:.0f} s]", flush=True)
        return r

    results: dict[str, Any] = {
        "envs": list(args.envs),
        "sizes": list(sizes),
        **{face: {e: {} for e in args.envs} for face in ("vector", "parallel", "memory", "heuristic")},
        "vmas": None,
        "vmas_note": "",
    }
    started = time.perf_counter()
    for env_id in args.envs:
        for n in sizes:
            results["vector"][env_id][n] = measure("vector", env_id=env_id, n=n)
            results["parallel"][env_id][n] = measure("parallel", env_id=env_id, n=n)
            results["memory"][env_id][n] = measure("memory", env_id=env_id, n=n, steps=args.memory_steps)
        for n in heuristic_sizes:
            results["heuristic"][env_id][n] = measure("heuristic", env_id=env_id, n=n)
    if args.peers:
        results["vmas"] = {}
        for i, n in enumerate(sizes):
            r = measure("vmas", n=n)
            results["vmas"][n] = r
            rest = sizes[i + 1 :]
            # Stop before a size whose step would pass the limit even if VMAS scaled linearly
            # from here (it scales worse): each such measurement costs minutes.
            projected = 1 / r["env_steps_per_s"] * (rest[0] / n) if ok(r) and rest else 0.0
            if not ok(r) or projected > args.vmas_max_step_s:
                why = (
                    f"failed at N = {n:,} ({r['error']})"
                    if not ok(r)
                    else f"one step took {1 / r['env_steps_per_s']:.2f} s at N = {n:,} (at least "
                    f"{projected:.1f} s projected at N = {rest[0]:,})"
                )
                if rest:
                    results["vmas_note"] = (
                        f"VMAS time box: {why} (limit {args.vmas_max_step_s:g} s), so it was not run at "
                        f"N = {', '.join(f'{m:,}' for m in rest)}."
                    )
                break

    report, verdicts = build_report(results, args, fit_from)
    elapsed = time.perf_counter() - started
    command = " ".join(["python", "benchmarks/swarm_scaling.py", *sys.argv[1:]])
    info = machine_info()
    if hasattr(os, "getloadavg"):  # other work on the machine slows every measurement
        info["load average (1, 5, 15 min) at the end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    targets = [v for k, v in verdicts.items() if "memory" not in k]
    memory = [v for k, v in verdicts.items() if "memory" in k]
    summary = (
        f"**Speed targets met: {sum(bool(v) for v in targets)} of {len(targets)}; memory about linear "
        f"for {sum(bool(v) for v in memory)} of {len(memory)} envs.**"
    )
    section = "\n".join(
        [
            "## Swarm scaling: time per step and memory vs N (`benchmarks/swarm_scaling.py`)",
            "",
            f"Command: `{command}`  ",
            f"Date: {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}; "
            f"run time {elapsed / 60:.1f} min  ",
            "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
            "",
            "Method: default env arguments, discrete actions, radius-neighbour sensing (kuramoto: its "
            "default radius coupling graph); actions prepared outside the timed loops; resets at "
            f"episode ends ({EPISODE} steps) timed; each measurement in a fresh process (limits: "
            f"{args.max_memory_gb:g} GiB address space, {args.timeout_s:g} s); {repeats} repeat(s) "
            f"of ~{seconds:g} s. swarmzoo runs on one core.",
            "",
            summary,
            "",
            report,
            "",
            "![time per step and memory per robot vs N](swarm_scaling.png)",
        ]
    )
    print()
    print(report)
    print()
    print(summary)
    if args.plot is not None:
        make_plot(results, args.plot, f"swarmzoo swarming envs vs N — {info['CPU']}, {info['cores']} cores")
        print(f"wrote {args.plot}")
    if args.out is not None:
        write_results_section(args.out, SECTION, section)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main(tyro.cli(Args))
