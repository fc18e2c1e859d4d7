"""Env speed of swarmzoo against its peers, in one run on one machine.

* PettingZoo face: ``navigation-v0`` with the ``mpe_spread`` preset against mpe2's
  ``simple_spread_v3.parallel_env(N=N)``, discrete random actions, N = 3, 10, 30, 100.
* Vector face: ``swarmzoo.make_vec("navigation-v0", E, n_agents=N)`` (default arguments, discrete
  actions, auto-reset every 50 steps) against VMAS's ``navigation`` scenario on CPU (discrete
  actions, reset every 50 steps), E = 1, 64, 1024 and N = 3, 10.
* Scale: 1,000 robots with k-nearest sensing in one env, through both faces.

Actions are sampled before timing and the same way for both sides; resets at episode ends are
timed (see :mod:`swarmzoo.bench`). Every measurement runs in a fresh Python process, so what one
measurement leaves in memory (allocator state, caches) cannot speed up or slow down the next.
Throughput is agent-steps per second, the best of ``--repeats`` timed runs of ``--seconds`` each.

Usage::

    python benchmarks/env_speed.py                 # full run, updates benchmarks/RESULTS.md
    python benchmarks/env_speed.py --quick         # smoke run: a few sizes, short timings
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro

from swarmzoo.bench import (
    Timing,
    calibrate_steps,
    cpu_model,
    measure_parallel,
    measure_vector,
    random_dict_actions,
    time_loop,
    time_parallel_env,
    write_results_section,
)

MAX_CYCLES_VECTOR = 50  # navigation-v0's default episode length, used for VMAS's resets too


@dataclass
class Args:
    """Benchmark swarmzoo's env faces against mpe2 and VMAS."""

    quick: bool = False
    """A smoke run: few sizes, short timings (numbers are rough)."""
    out: Path | None = Path("benchmarks/RESULTS.md")
    """Markdown file whose env-speed section is written (created if missing); None to skip."""
    seconds: float = 1.0
    """Target wall time of one timed repeat."""
    repeats: int = 3
    """Timed repeats per measurement (the best is reported)."""
    peers: bool = True
    """Also measure mpe2 and VMAS (without them only swarmzoo's columns are filled)."""
    worker: str | None = None
    """Internal: run one measurement given as JSON and print its result as JSON."""


# -- measurements (each runs in its own process) -----------------------------------------------


def measure_mpe2(n_agents: int, seconds: float, repeats: int) -> Timing:
    """mpe2's ``simple_spread_v3`` ParallelEnv, discrete actions, default episode length (25)."""
    from mpe2 import simple_spread_v3

    env = simple_spread_v3.parallel_env(N=n_agents)
    env.reset(seed=0)

    def step(a: dict[str, Any]) -> None:
        env.step(a)
        if not env.agents:
            env.reset()

    steps = calibrate_steps(
        step, lambda s: random_dict_actions(env, s, 1), seconds, min_steps=5, max_steps=200_000
    )
    return time_parallel_env(env, random_dict_actions(env, steps), repeats)


def measure_vmas(
    n_envs: int, n_agents: int, seconds: float, repeats: int, torch_threads: int | None = None
) -> Timing:
    """VMAS ``navigation`` on CPU with discrete actions, reset every ``MAX_CYCLES_VECTOR``
    steps (all copies end together), like swarmzoo's vector face. ``torch_threads`` None keeps
    torch's default (one per core)."""
    import torch
    import vmas

    if torch_threads is not None:
        torch.set_num_threads(torch_threads)

    env = vmas.make_env(
        "navigation",
        num_envs=n_envs,
        device="cpu",
        continuous_actions=False,
        n_agents=n_agents,
        seed=0,
        max_steps=MAX_CYCLES_VECTOR,
    )
    env.reset()
    n_actions = int(env.action_space[0].n)
    counter = [0]

    def step(actions: list) -> None:
        env.step(actions)
        counter[0] += 1
        if counter[0] % MAX_CYCLES_VECTOR == 0:
            env.reset()

    def sample(steps: int) -> list[list]:
        gen = torch.Generator().manual_seed(1)
        a = torch.randint(0, n_actions, (steps, n_agents, n_envs, 1), generator=gen)
        return [list(a[t]) for t in range(steps)]

    steps = calibrate_steps(step, sample, seconds, min_steps=5, max_steps=100_000)
    actions = sample(steps)
    env.reset()
    counter[0] = 0
    times = time_loop(step, actions, repeats)
    return Timing(steps, n_envs, n_agents, min(times), float(np.median(times)))


def run_measurement(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement described by ``spec`` (``what``, sizes, ``seconds``, ``repeats``)."""
    what, seconds, repeats = spec["what"], spec["seconds"], spec["repeats"]
    if what == "swarmzoo-parallel":
        t = measure_parallel(spec["n_agents"], seconds, repeats, **spec.get("kwargs", {}))
    elif what == "swarmzoo-vector":
        t = measure_vector(spec["n_envs"], spec["n_agents"], seconds, repeats)
    elif what == "mpe2":
        t = measure_mpe2(spec["n_agents"], seconds, repeats)
    elif what == "vmas":
        t = measure_vmas(spec["n_envs"], spec["n_agents"], seconds, repeats, spec.get("torch_threads"))
    else:
        raise ValueError(f"unknown measurement {what!r}")
    return {
        "steps": t.steps,
        "agent_steps_per_s": t.agent_steps_per_s,
        "env_steps_per_s": t.env_steps_per_s,
        "median_agent_steps_per_s": t.agent_steps_per_s * t.seconds / t.median_seconds,
    }


def in_subprocess(spec: dict[str, Any]) -> dict[str, Any]:
    """:func:`run_measurement` in a fresh Python process."""
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"measurement {spec} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the report --------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    import mpe2
    import pettingzoo
    import scipy
    import torch
    import vmas

    model = cpu_model()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": model,
        "cores": f"{usable} usable of {os.cpu_count()}",
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": f"{torch.__version__} ({torch.get_num_threads()} threads)",
        "pettingzoo": pettingzoo.__version__,
        "mpe2": getattr(mpe2, "__version__", "?"),
        "vmas": vmas.__version__,
        "OS": platform.platform(),
    }


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def ratio(ours: float, peer: float | None) -> str:
    return "n/a" if not peer else f"{ours / peer:,.1f}x"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def build_tables(results: dict[str, list[dict[str, Any]]]) -> str:
    lines = [
        "### PettingZoo face: `mpe_spread` preset vs mpe2 `simple_spread_v3` (agent-steps/s)",
        "",
        "| N | swarmzoo | mpe2 | ratio | target | result |",
        "|---:|---:|---:|---:|---|---|",
    ]
    for r in results["parallel"]:
        ours, peer = r["ours"]["agent_steps_per_s"], r["peer"] and r["peer"]["agent_steps_per_s"]
        need = {3: 4.0, 100: 100.0}.get(r["n_agents"])
        ok = None if need is None or not peer else ours / peer >= need
        target = f">= {need:g}x mpe2" if need else "-"
        lines.append(
            f"| {r['n_agents']} | {fmt(ours)} | {fmt(peer)} | {ratio(ours, peer)} | "
            f"{target} | {verdict(ok) if need else '-'} |"
        )
    lines += [
        "",
        '### Vector face: `make_vec("navigation-v0", E)` vs VMAS `navigation` on '
        "CPU, discrete actions (agent-steps/s)",
        "",
        "| E | N | swarmzoo | VMAS | ratio | target | result |",
        "|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results["vector"]:
        ours, peer = r["ours"]["agent_steps_per_s"], r["peer"] and r["peer"]["agent_steps_per_s"]
        if (r["n_envs"], r["n_agents"]) == (1024, 3):
            target = ">= 5,000,000 and >= 2x VMAS"
            ok = ours >= 5e6 and (not peer or ours >= 2 * peer)
        else:
            target, ok = ">= 2x VMAS", None if not peer else ours >= 2 * peer
        lines.append(
            f"| {r['n_envs']} | {r['n_agents']} | {fmt(ours)} | {fmt(peer)} | "
            f"{ratio(ours, peer)} | {target} | {verdict(ok)} |"
        )
    lines += [
        "",
        "### Scale: 1,000 robots, k-nearest sensing, one env (env-steps/s)",
        "",
        "| face | env-steps/s | agent-steps/s | target | result |",
        "|---|---:|---:|---|---|",
    ]
    for r in results["scale"]:
        ours = r["ours"]
        lines.append(
            f"| {r['face']} | {fmt(ours['env_steps_per_s'])} | "
            f"{fmt(ours['agent_steps_per_s'])} | >= 200 env-steps/s | "
            f"{verdict(ours['env_steps_per_s'] >= 200)} |"
        )
    return "\n".join(lines)


def main(args: Args) -> None:
    if args.worker is not None:
        print(json.dumps(run_measurement(json.loads(args.worker))))
        return
    seconds, repeats = (0.15, 1) if args.quick else (args.seconds, args.repeats)
    pz_sizes = (3, 100) if args.quick else (3, 10, 30, 100)
    vec_sizes = (
        ((64, 3), (1024, 3)) if args.quick else ((1, 3), (64, 3), (1024, 3), (1, 10), (64, 10), (1024, 10))
    )
    base = {"seconds": seconds, "repeats": repeats}

    def measure(what: str, **spec: Any) -> dict[str, Any]:
        result = in_subprocess({"what": what, **base, **spec})
        print(f"  {what:18s} {spec}: {result['agent_steps_per_s']:,.0f} agent-steps/s", flush=True)
        return result

    results: dict[str, list[dict[str, Any]]] = {"parallel": [], "vector": [], "scale": []}
    for n in pz_sizes:
        results["parallel"].append(
            {
                "n_agents": n,
                "ours": measure("swarmzoo-parallel", n_agents=n, kwargs={"preset": "mpe_spread"}),
                "peer": measure("mpe2", n_agents=n) if args.peers else None,
            }
        )
    for e, n in vec_sizes:
        peer = None
        if args.peers:  # VMAS's best of torch's default threads and one thread
            peer = max(
                (measure("vmas", n_envs=e, n_agents=n, torch_threads=threads) for threads in (None, 1)),
                key=lambda r: r["agent_steps_per_s"],
            )
        results["vector"].append(
            {
                "n_envs": e,
                "n_agents": n,
                "ours": measure("swarmzoo-vector", n_envs=e, n_agents=n),
                "peer": peer,
            }
        )
    results["scale"].append(
        {
            "face": "vector (`make_vec(..., 1, n_agents=1000)`)",
            "ours": measure("swarmzoo-vector", n_envs=1, n_agents=1000),
        }
    )
    results["scale"].append(
        {
            "face": "PettingZoo (`make(..., n_agents=1000)`)",
            "ours": measure("swarmzoo-parallel", n_agents=1000),
        }
    )

    tables = build_tables(results)
    command = " ".join(["python", "benchmarks/env_speed.py", *sys.argv[1:]])
    info = machine_info()
    if hasattr(os, "getloadavg"):  # other work on the machine slows every measurement
        info["load average (1, 5, 15 min) at the end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    section = "\n".join(
        [
            "## Env speed (`benchmarks/env_speed.py`)",
            "",
            f"Command: `{command}`  ",
            f"Date: {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}  ",
            "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
            "",
            f"Method: actions pre-sampled outside the timed loops; episode-end resets timed; each "
            f"measurement in a fresh process; best of {repeats} repeat(s) of ~{seconds:g} s "
            "(timeit's advice: on a shared machine noise only ever slows a run down). VMAS: the "
            "better of torch's default thread count and one thread. swarmzoo runs on one core.",
            "",
            tables,
        ]
    )
    print()
    print(tables)
    if args.out is not None:
        write_results_section(args.out, "env_speed", section)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main(tyro.cli(Args))
