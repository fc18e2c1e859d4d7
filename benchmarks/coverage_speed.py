"""Speed of ``coverage-v0``: how fast it steps, what one W2 evaluation costs next to a step, and
VMAS's coverage-like ``sampling`` scenario at the same sizes, in one run on one machine.

Measured:

* step speed with no episode end in the timed window (``max_cycles`` set out of reach, so no W2
  is computed): the PettingZoo face and the vector face with one env copy of ``--n-agents``
  robots (64), and the vector face with ``--num-envs`` copies (256) of ``--vec-agents`` robots
  (8); uniform random continuous actions sampled before timing (:mod:`swarmzoo.bench`'s
  helpers: a warm-up calibrates the steps that fill ``--seconds``, then ``--repeats`` timed runs;
  the median is reported, the best in parentheses);
* the cost of one W2 evaluation (``task.coverage_w2()``, exact optimal transport with POT) at the
  end of a default-length episode (``max_cycles`` = 200 steps of random actions, or of
  ``--w2-policy heuristic``), on every shipped map, for both robot counts; the support sizes
  (visited cells, cells with demand) set the size of the transport problem;
* complete default episodes (reset + 200 steps, W2 at the end included as the env computes it):
  the PettingZoo face at ``--n-agents``, and the vector face at ``--num-envs`` x ``--vec-agents``
  where every copy ends at the same step and so evaluates W2 ``E`` times at once; its share of
  the episode's time shows whether W2 dominates;
* peer: VMAS's ``sampling`` scenario (robots collecting samples of a Gaussian-mixture density
  field on a grid: the closest VMAS scenario to non-uniform coverage) on CPU at the same E and N,
  zero (no-op) continuous actions, reset every 200 steps; a measurement whose first step takes
  longer than ``--vmas-max-step-s`` is not timed further (time box). The scenarios differ in
  physics (VMAS: forces, collisions, lidar), so the ratio compares the cost of "a coverage env
  with N robots", not the same computation.

Every measurement runs in a fresh Python process under an address-space limit and a wall-clock
limit, so one that runs out of memory or hangs is reported as failed. Writes the
``coverage_speed`` section of ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/coverage_speed.py          # full run (a few minutes)
    python benchmarks/coverage_speed.py --quick  # dry run: short timings, two maps, small E for
                                                 # the complete-episode row of the vector face
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro

from swarmzoo.bench import (
    Timing,
    calibrate_steps,
    cpu_model,
    random_dict_actions,
    random_vector_actions,
    run_isolated,
    time_loop,
    time_parallel_env,
    time_vector_env,
    write_results_section,
)
from swarmzoo.envs.coverage import Config as CoverageConfig

W2_RES = CoverageConfig.__dataclass_fields__["w2_resolution"].default  # the metric's grid side

ENV_ID = "coverage-v0"
SECTION = "coverage_speed"
MAPS = ("uniform", "two_hotspots", "ring", "disaster")
QUICK_MAPS = ("two_hotspots", "uniform")
NEVER = 10**9  # max_cycles out of reach: no episode ends, so no W2, in the step-speed rows


@dataclass
class Args:
    """Speed of coverage-v0 (both faces), the cost of its W2 metric, and VMAS sampling."""

    quick: bool = False
    """Dry run: short timings, maps two_hotspots and uniform, one repeat, and the vector face's
    complete episode at E = --quick-episode-envs instead of --num-envs."""
    n_agents: int = 64
    """Robots of the one-env rows (both faces)."""
    num_envs: int = 256
    """Env copies of the vector-face row."""
    vec_agents: int = 8
    """Robots per copy in the vector-face row (coverage-v0's default)."""
    maps: tuple[str, ...] = MAPS
    """Maps on which one W2 evaluation is timed."""
    w2_policy: str = "random"
    """Actions of the episode before the W2 evaluation: random or heuristic (D2OC)."""
    seconds: float = 1.0
    """Target wall time of one timed repeat."""
    repeats: int = 3
    """Timed repeats per measurement (median reported, best beside it)."""
    episodes: int = 3
    """Complete episodes timed on the PettingZoo face (median reported)."""
    quick_episode_envs: int = 8
    """E of the vector face's complete-episode row under --quick."""
    peers: bool = True
    """Also measure VMAS's sampling scenario."""
    vmas_max_step_s: float = 5.0
    """Time box: a VMAS measurement whose first step takes longer than this (seconds) stops there."""
    timeout_s: float = 900.0
    """Wall-clock limit of one measurement process (seconds)."""
    max_memory_gb: float = 8.0
    """Address-space limit of one measurement process (GiB)."""
    out: Path | None = Path("benchmarks/RESULTS.md")
    """Markdown file whose coverage_speed section is written; None to skip."""
    worker: str | None = None
    """Internal: run one measurement given as JSON and print its result as JSON."""


# -- measurements (each runs in its own process) -----------------------------------------------


def timing_result(t: Timing) -> dict[str, Any]:
    return {
        "n_envs": t.n_envs,
        "n_agents": t.n_agents,
        "steps": t.steps,
        "env_steps_per_s": t.steps * t.n_envs / t.median_seconds,
        "best_env_steps_per_s": t.env_steps_per_s,
    }


def measure_parallel(n: int, seconds: float, repeats: int) -> dict[str, Any]:
    """The PettingZoo face, one env of ``n`` robots, no episode end in the timed window."""
    import swarmzoo

    env = swarmzoo.make(ENV_ID, n_agents=n, max_cycles=NEVER)
    env.reset(seed=0)
    steps = calibrate_steps(
        env.step, lambda s: random_dict_actions(env, s, 1), seconds, min_steps=5, max_steps=100_000
    )
    return timing_result(time_parallel_env(env, random_dict_actions(env, steps), repeats))


def measure_vector(e: int, n: int, seconds: float, repeats: int) -> dict[str, Any]:
    """The vector face, ``e`` copies of ``n`` robots, no episode end in the timed window."""
    import swarmzoo

    venv = swarmzoo.make_vec(ENV_ID, e, n_agents=n, max_cycles=NEVER)
    venv.reset(seed=0)
    steps = calibrate_steps(
        venv.step, lambda s: random_vector_actions(venv, s, 1), seconds, min_steps=3, max_steps=100_000
    )
    return timing_result(time_vector_env(venv, random_vector_actions(venv, steps), repeats))


def episode_actions(policy_name: str, venv: Any, obs: np.ndarray, rng: np.random.Generator, policy: Any):
    if policy_name == "heuristic":
        return policy.act(obs, venv.task)
    return rng.uniform(-1, 1, (venv.num_envs, venv.n_agents, 2)).astype(np.float32)


def measure_w2(map_name: str, n: int, policy_name: str, repeats: int) -> dict[str, Any]:
    """One W2 evaluation after a default-length episode of ``policy_name`` on ``map_name``."""
    import swarmzoo
    from swarmzoo.envs.coverage import Config

    episode = Config().max_cycles
    venv = swarmzoo.make_vec(ENV_ID, 1, n_agents=n, map=map_name, max_cycles=NEVER)
    obs, _ = venv.reset(seed=0)
    policy = None
    if policy_name == "heuristic":
        from swarmzoo.agents import make_policy

        policy = make_policy("heuristic", ENV_ID, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(episode):
        obs = venv.step(episode_actions(policy_name, venv, obs, rng, policy))[0]
    task = venv.task
    task.coverage_w2()  # untimed: imports POT
    times = time_loop(lambda _: task.coverage_w2(), [None], max(repeats, 3))
    return {
        "seconds": float(np.median(times)),
        "best_seconds": min(times),
        "w2": float(task.coverage_w2()[0]),
        "visited_cells": int((task.visits[0] > 0).sum()),
        "demand_cells": int((task.reference > 0).sum()),
        "episode": episode,
    }


def measure_episode(face: str, e: int, n: int, episodes: int) -> dict[str, Any]:
    """Complete default episodes (reset + max_cycles random-action steps, the env's own W2 at the
    end included) of the PettingZoo face (``e`` = 1) or the vector face."""
    import swarmzoo

    if face == "parallel":
        env = swarmzoo.make(ENV_ID, n_agents=n)
        env.reset(seed=0)
        env.unwrapped.task.coverage_w2()  # untimed: imports POT
        episode = env.max_cycles
        times = []
        for k in range(episodes):
            actions = random_dict_actions(env, episode, seed=k)
            start = time.perf_counter()
            env.reset()
            for a in actions:
                _, _, _, _, infos = env.step(a)
            times.append(time.perf_counter() - start)
            assert not env.agents and "w2" in infos[env.possible_agents[0]]
    else:
        venv = swarmzoo.make_vec(ENV_ID, e, n_agents=n)
        venv.reset(seed=0)
        venv.task.coverage_w2([0])  # untimed: imports POT
        episode = venv.max_cycles
        actions = random_vector_actions(venv, episode, seed=0)
        times = []
        for _ in range(episodes):
            start = time.perf_counter()
            venv.reset(seed=0)
            for a in actions:
                _, _, _, _, infos = venv.step(a)
            times.append(time.perf_counter() - start)
            assert infos["_episode"].all() and np.isfinite(infos["w2"]).all()
    return {
        "n_envs": e,
        "n_agents": n,
        "episode": episode,
        "seconds": float(np.median(times)),
        "env_steps_per_s": e * episode / float(np.median(times)),
    }


def measure_vmas(scenario: str, e: int, n: int, seconds: float, repeats: int, max_step_s: float) -> dict:
    """VMAS ``scenario`` on CPU, ``e`` envs of ``n`` robots, zero continuous actions (no-op),
    reset every 200 steps (timed), torch's default thread count."""
    import torch
    import vmas

    start = time.perf_counter()
    env = vmas.make_env(scenario, num_envs=e, device="cpu", continuous_actions=True, n_agents=n, seed=0)
    env.reset()
    setup_s = time.perf_counter() - start
    actions = [torch.zeros((e, 2)) for _ in range(n)]
    counter = [0]

    def step(a: list) -> None:
        env.step(a)
        counter[0] += 1
        if counter[0] % 200 == 0:
            env.reset()

    start = time.perf_counter()
    step(actions)
    first = time.perf_counter() - start
    base = {"setup_s": setup_s, "torch_threads": torch.get_num_threads(), "n_envs": e, "n_agents": n}
    if first > max_step_s:
        return {**base, "error": f"time box: the first step took {first:.1f} s > {max_step_s:g} s"}
    steps = calibrate_steps(step, lambda s: [actions] * s, seconds, min_steps=2, max_steps=100_000)
    env.reset()
    counter[0] = 0
    times = time_loop(step, [actions] * steps, repeats)
    return {**base, **timing_result(Timing(steps, e, n, min(times), float(np.median(times))))}


def run_measurement(spec: dict[str, Any]) -> dict[str, Any]:
    what = spec["what"]
    if what == "parallel":
        return measure_parallel(spec["n"], spec["seconds"], spec["repeats"])
    if what == "vector":
        return measure_vector(spec["e"], spec["n"], spec["seconds"], spec["repeats"])
    if what == "w2":
        return measure_w2(spec["map"], spec["n"], spec["policy"], spec["repeats"])
    if what == "episode":
        return measure_episode(spec["face"], spec["e"], spec["n"], spec["episodes"])
    if what == "vmas":
        return measure_vmas(
            spec["scenario"], spec["e"], spec["n"], spec["seconds"], spec["repeats"], spec["max_step_s"]
        )
    raise ValueError(f"unknown measurement {what!r}")


# -- the report --------------------------------------------------------------------------------


def ok(r: dict[str, Any] | None) -> bool:
    return r is not None and "error" not in r


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def fmt_ms(seconds: float) -> str:
    ms = 1000 * seconds
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.3g}"


def fmt_speed(r: dict[str, Any] | None) -> str:
    if r is None:
        return "-"
    if not ok(r):
        return f"failed: {r['error']}"
    return f"{fmt_rate(r['env_steps_per_s'])} ({fmt_rate(r['best_env_steps_per_s'])})"


def step_seconds(r: dict[str, Any]) -> float:
    """Wall time of one step of all copies (median)."""
    return r["n_envs"] / r["env_steps_per_s"]


def machine_info() -> dict[str, str]:
    import ot
    import scipy

    info = {
        "CPU": cpu_model(),
        "cores": f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} "
        f"usable of {os.cpu_count()}",
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "POT": ot.__version__,
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


def build_report(results: dict[str, Any], args: Args) -> tuple[str, list[str]]:
    """The markdown tables and the findings (one line each)."""
    steps = results["steps"]
    lines = [
        "### Step speed, no episode end in the timed window (so no W2)",
        "",
        "Uniform random continuous actions; env-steps/s = env copies x steps / s, median of the "
        "repeats (best in parentheses); agent-steps/s = env-steps/s x N.",
        "",
        "| face | E | N | env-steps/s | agent-steps/s | ms per step (all copies) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, r in steps.items():
        face, e, n = key.split("|")
        if ok(r):
            lines.append(
                f"| {face} | {int(e):,} | {n} | {fmt_speed(r)} | {fmt_rate(r['env_steps_per_s'] * int(n))} | "
                f"{fmt_ms(step_seconds(r))} |"
            )
        else:
            lines.append(f"| {face} | {int(e):,} | {n} | {fmt_speed(r)} | - | - |")

    vec_one = steps.get(f"vector|1|{args.n_agents}")
    lines += [
        "",
        f"### One W2 evaluation after a {results['episode']}-step episode ({args.w2_policy} actions)",
        "",
        "Exact optimal transport (POT `ot.emd2`) between the visited cells and the cells with "
        f"demand on the {W2_RES} x {W2_RES} W2 grid. 'Steps' is the W2 time in steps of the vector face "
        "with one "
        f"copy of the same N (N = {args.n_agents} measured above; N = {args.vec_agents} from its own "
        "one-copy step below); 'share' is W2's part of one default episode of that copy "
        f"({results['episode']} steps + 1 W2).",
        "",
        "| map | N | visited cells | cells with demand | W2 value | W2 ms (median) | = steps | share of "
        "an episode |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    findings = []
    step_of = {args.n_agents: vec_one, args.vec_agents: steps.get(f"vector|1|{args.vec_agents}")}
    shares = []
    for (map_name, n), r in results["w2"].items():
        if not ok(r):
            lines.append(f"| `{map_name}` | {n} | failed: {r['error']} | | | | | |")
            continue
        base = step_of.get(n)
        ratio, share = "-", "-"
        if ok(base):
            per_step = step_seconds(base)
            ratio = f"{r['seconds'] / per_step:,.0f}"
            frac = r["seconds"] / (r["seconds"] + results["episode"] * per_step)
            shares.append(frac)
            share = f"{frac:.0%}"
        lines.append(
            f"| `{map_name}` | {n} | {r['visited_cells']} | {r['demand_cells']} | {r['w2']:.3f} | "
            f"{fmt_ms(r['seconds'])} | {ratio} | {share} |"
        )
    if shares:
        findings.append(
            f"One W2 evaluation costs {min(shares):.0%} to {max(shares):.0%} of a default one-copy "
            f"episode's time ({results['episode']} steps + W2) across maps and N."
        )

    lines += [
        "",
        "### Complete default episodes (reset + steps + the env's own W2 at the end)",
        "",
        "The vector face's copies all truncate at the same step, so that step evaluates W2 once per "
        "copy. 'Step-only' is the matching row of the first table; 'W2 share' is the part of the "
        "episode's time not explained by stepping.",
        "",
        "| face | E | N | episode s (median) | env-steps/s incl. W2 | step-only env-steps/s | W2 share |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, r in results["episodes"].items():
        face, e, n = key.split("|")
        if not ok(r):
            lines.append(f"| {face} | {int(e):,} | {n} | failed: {r['error']} | | | |")
            continue
        only = steps.get(key) or steps.get(f"{face}|{e}|{n}")
        only_rate, share = "-", "-"
        if ok(only):
            only_rate = fmt_rate(only["env_steps_per_s"])
            stepping = r["episode"] * step_seconds(only)
            frac = max(0.0, 1 - stepping / r["seconds"])
            share = f"{frac:.0%}"
            findings.append(
                f"{face} face, E = {int(e):,}, N = {n}: W2 takes {frac:.0%} of a complete default "
                f"episode ({r['seconds']:.2f} s)."
            )
        lines.append(
            f"| {face} | {int(e):,} | {n} | {r['seconds']:.3g} | {fmt_rate(r['env_steps_per_s'])} | "
            f"{only_rate} | {share} |"
        )
    big = steps.get(f"vector|{args.num_envs}|{args.vec_agents}")
    w2_default = results["w2"].get(("two_hotspots", args.vec_agents))
    if ok(big) and ok(w2_default):
        stepping = results["episode"] * step_seconds(big)
        w2_total = args.num_envs * w2_default["seconds"]
        frac = w2_total / (w2_total + stepping)
        lines += [
            "",
            f"Projection for the vector face at E = {args.num_envs:,}, N = {args.vec_agents} "
            f"(`two_hotspots`): {results['episode']} steps take {stepping:.2f} s, the {args.num_envs} "
            f"W2 evaluations at the episode's end {w2_total:.1f} s: W2 is {frac:.0%} of the episode.",
        ]
        findings.append(
            f"Projected at E = {args.num_envs:,} x N = {args.vec_agents}: W2 is {frac:.0%} of a "
            "default episode."
        )

    if results["vmas"]:
        lines += [
            "",
            f"### Peer: VMAS `{results['vmas_scenario']}` on CPU vs `coverage-v0`'s vector face "
            "(env-steps/s)",
            "",
            "VMAS `sampling`: robots collect samples of a Gaussian-mixture density field on a grid "
            "(the closest VMAS scenario to non-uniform coverage), with forces, collisions and lidar; "
            "default scenario arguments, zero continuous actions, reset every 200 steps. swarmzoo: "
            "random continuous actions, no episode end in the window. Different physics: the ratio "
            "compares the cost of a coverage env with N robots, not the same computation.",
            "",
            "| E | N | swarmzoo vector face | VMAS | VMAS ms/step | VMAS make + reset (s) | "
            "ratio swarmzoo / VMAS |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for (e, n), v in results["vmas"].items():
            ours = steps.get(f"vector|{e}|{n}")
            ratio = f"{ours['env_steps_per_s'] / v['env_steps_per_s']:,.0f}x" if ok(v) and ok(ours) else "n/a"
            setup = f"{v['setup_s']:.2f}" if v and "setup_s" in v else "-"
            vms = fmt_ms(step_seconds(v)) if ok(v) else "-"
            lines.append(f"| {e:,} | {n} | {fmt_speed(ours)} | {fmt_speed(v)} | {vms} | {setup} | {ratio} |")
            if ok(v) and ok(ours):
                findings.append(f"E = {e:,}, N = {n}: swarmzoo {ratio} VMAS {results['vmas_scenario']}.")
    return "\n".join(lines), findings


def main(args: Args) -> None:
    if args.worker is not None:
        print(json.dumps(run_measurement(json.loads(args.worker))))
        return
    seconds, repeats, maps, episodes = args.seconds, args.repeats, args.maps, args.episodes
    episode_envs = args.num_envs
    if args.quick:
        seconds, repeats, episodes = 0.1, 1, 1
        maps = tuple(m for m in maps if m in QUICK_MAPS) or maps[:1]
        episode_envs = min(args.quick_episode_envs, args.num_envs)
    base = {"seconds": seconds, "repeats": repeats}

    def measure(label: str, what: str, **spec: Any) -> dict[str, Any]:
        start = time.perf_counter()
        r = run_isolated(__file__, {"what": what, **base, **spec}, args.timeout_s, args.max_memory_gb)
        took = time.perf_counter() - start
        if not ok(r):
            shown = f"failed: {r['error']}"
        elif "env_steps_per_s" in r:
            shown = f"{fmt_rate(r['env_steps_per_s'])} env-steps/s"
        else:
            shown = f"{fmt_ms(r['seconds'])} ms"
        print(f"  {label:48s} {shown}  [{took:.0f} s]", flush=True)
        return r

    started = time.perf_counter()
    from swarmzoo.envs.coverage import Config

    results: dict[str, Any] = {
        "steps": {},
        "w2": {},
        "episodes": {},
        "vmas": {},
        "vmas_scenario": "sampling",
        "episode": Config().max_cycles,
    }
    n, e, m = args.n_agents, args.num_envs, args.vec_agents
    results["steps"][f"parallel|1|{n}"] = measure(f"PettingZoo face E=1 N={n}", "parallel", n=n)
    for ee, nn in ((1, n), (1, m), (e, m)):
        results["steps"][f"vector|{ee}|{nn}"] = measure(f"vector face E={ee} N={nn}", "vector", e=ee, n=nn)
    for map_name in maps:
        for nn in (n, m):
            results["w2"][(map_name, nn)] = measure(
                f"W2 {map_name} N={nn}", "w2", map=map_name, n=nn, policy=args.w2_policy
            )
    results["episodes"][f"parallel|1|{n}"] = measure(
        f"episodes PettingZoo face E=1 N={n}", "episode", face="parallel", e=1, n=n, episodes=episodes
    )
    results["episodes"][f"vector|{episode_envs}|{m}"] = measure(
        f"episode vector face E={episode_envs} N={m}",
        "episode",
        face="vector",
        e=episode_envs,
        n=m,
        episodes=1,
    )
    if episode_envs != e and f"vector|{episode_envs}|{m}" not in results["steps"]:
        results["steps"][f"vector|{episode_envs}|{m}"] = measure(
            f"vector face E={episode_envs} N={m}", "vector", e=episode_envs, n=m
        )
    if args.peers:
        for ee, nn in ((1, n), (e, m)):
            results["vmas"][(ee, nn)] = measure(
                f"VMAS sampling E={ee} N={nn}",
                "vmas",
                scenario="sampling",
                e=ee,
                n=nn,
                max_step_s=args.vmas_max_step_s,
            )

    report, findings = build_report(results, args)
    elapsed = time.perf_counter() - started
    command = " ".join(["python", "benchmarks/coverage_speed.py", *sys.argv[1:]])
    info = machine_info()
    if hasattr(os, "getloadavg"):  # other work on the machine slows every measurement
        info["load average (1, 5, 15 min) at the end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    section = "\n".join(
        [
            "## Coverage speed: steps, the W2 metric, VMAS sampling (`benchmarks/coverage_speed.py`)",
            "",
            f"Command: `{command}`  ",
            f"Date: {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}; "
            f"run time {elapsed / 60:.1f} min  ",
            "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
            "",
            f"Method: default `coverage-v0` arguments (map `two_hotspots`, {results['episode']}-step "
            f"episodes, W2 on a {W2_RES} x {W2_RES} grid); actions prepared outside the timed loops; each "
            f"measurement in a fresh process (limits: {args.max_memory_gb:g} GiB, {args.timeout_s:g} s); "
            f"{repeats} repeat(s) of ~{seconds:g} s. swarmzoo runs on one core."
            + (" **Quick dry run: noisy, short timings.**" if args.quick else ""),
            "",
            "**Findings:**",
            "",
            *[f"- {f}" for f in findings],
            "",
            report,
        ]
    )
    print()
    print(report)
    print()
    print("\n".join(f"- {f}" for f in findings))
    if args.out is not None:
        write_results_section(args.out, SECTION, section)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main(tyro.cli(Args))
