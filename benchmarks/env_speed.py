"""Env speed of swarmzoo against its peers, in one run on one machine.

* PettingZoo face: ``navigation-v0`` with the ``mpe_spread`` preset against mpe2's
  ``simple_spread_v3.parallel_env(N=N)``, discrete random actions, N = 3, 10, 30, 100.
* Vector face: ``swarmzoo.make_vec("navigation-v0", E, n_agents=N)`` (default arguments, discrete
  actions, auto-reset every 50 steps) against VMAS's ``navigation`` scenario on CPU (discrete
  actions, reset every 50 steps), E = 1, 64, 1024 and N = 3, 10.
* Vector face against JaxMARL 0.2's jitted ``MPE_simple_spread_v3`` (jax on CPU, ``vmap`` over
  copies; a jitted ``lax.scan`` loop and a Python loop of jitted steps, compile time apart), E =
  1, 64, 1024, 4096 and N = 3, 10; swarmzoo with the ``mpe_spread`` preset (the same task) and
  with its defaults.
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
    jaxmarl: bool = True
    """Also measure JaxMARL's jitted MPE (needs ``pip install jaxmarl==0.2.0 "jax[cpu]"``)."""
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


def measure_jaxmarl(n_envs: int, n_agents: int, seconds: float, repeats: int, mode: str) -> dict[str, Any]:
    """JaxMARL 0.2's ``MPE_simple_spread_v3`` on jax's CPU backend, ``jax.vmap`` over ``n_envs``
    copies, discrete actions, its own auto-reset. ``mode="scan"``: ``T`` steps inside one jitted
    ``lax.scan`` (the way JaxMARL's training loops run); ``mode="loop"``: a Python loop calling
    the jitted vmapped step (the way a Python RL library would drive it). Actions are sampled
    before timing. The first call (tracing and XLA compilation) is timed apart as
    ``compile_s``; ``episode_length`` is measured by stepping until copy 0 reports done."""
    import time

    import jax
    import jax.numpy as jnp
    from jaxmarl import make

    env = make("MPE_simple_spread_v3", num_agents=n_agents, num_landmarks=n_agents)
    agents = env.agents
    n_actions = int(env.action_space(agents[0]).n)
    reset = jax.jit(jax.vmap(env.reset))
    vstep = jax.vmap(env.step)

    def sample(steps: int, seed: int = 1) -> jnp.ndarray:
        return jax.random.randint(jax.random.PRNGKey(seed), (steps, len(agents), n_envs), 0, n_actions)

    def one_step(carry, acts):
        key, state = carry
        key, sub = jax.random.split(key)
        obs, state, rewards, dones, _ = vstep(
            jax.random.split(sub, n_envs), state, {a: acts[i] for i, a in enumerate(agents)}
        )
        return (key, state), dones["__all__"]

    _, state0 = reset(jax.random.split(jax.random.PRNGKey(0), n_envs))
    jit_step = jax.jit(one_step)
    # Episode length: step copy 0 until its first done.
    carry, length = (jax.random.PRNGKey(2), state0), 0
    for t in range(1, 200):
        carry, done = jit_step(carry, sample(1, seed=t)[0])
        if bool(done[0]):
            length = t
            break

    if mode == "scan":

        def run(carry, actions):
            return jax.lax.scan(one_step, carry, actions)

        runner = jax.jit(run)

        def go(carry, actions):
            out = runner(carry, actions)
            jax.block_until_ready(out)
            return out[0]
    else:

        def go(carry, actions):
            for t in range(actions.shape[0]):
                carry, done = jit_step(carry, actions[t])
            jax.block_until_ready(carry)
            return carry

    # Calibrate: double T until one run takes ``seconds`` (a new T recompiles the scan: not timed).
    steps, carry = 8, (jax.random.PRNGKey(3), state0)
    start = time.perf_counter()
    carry = go(carry, sample(steps))
    compile_s = time.perf_counter() - start  # includes the first steps themselves (negligible)
    while True:
        actions = sample(steps)
        go(carry, actions)  # compile (scan) / warm up this T
        start = time.perf_counter()
        carry = go(carry, actions)
        if time.perf_counter() - start >= seconds or steps >= 1_000_000:
            break
        steps *= 2
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        carry = go(carry, actions)
        times.append(time.perf_counter() - start)
    best, median = min(times), float(np.median(times))
    agent_steps = steps * n_envs * n_agents
    return {
        "steps": steps,
        "agent_steps_per_s": agent_steps / best,
        "env_steps_per_s": agent_steps / best / n_agents,
        "median_agent_steps_per_s": agent_steps / median,
        "compile_s": compile_s,
        "episode_length": length,
    }


def run_measurement(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement described by ``spec`` (``what``, sizes, ``seconds``, ``repeats``)."""
    what, seconds, repeats = spec["what"], spec["seconds"], spec["repeats"]
    if what == "swarmzoo-parallel":
        t = measure_parallel(spec["n_agents"], seconds, repeats, **spec.get("kwargs", {}))
    elif what == "swarmzoo-vector":
        t = measure_vector(spec["n_envs"], spec["n_agents"], seconds, repeats, **spec.get("kwargs", {}))
    elif what == "mpe2":
        t = measure_mpe2(spec["n_agents"], seconds, repeats)
    elif what == "jaxmarl":
        return measure_jaxmarl(spec["n_envs"], spec["n_agents"], seconds, repeats, spec["mode"])
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
        **_jax_versions(),
        "OS": platform.platform(),
    }


def _jax_versions() -> dict[str, str]:
    try:
        from importlib.metadata import version

        return {"jax": version("jax"), "jaxmarl": version("jaxmarl")}
    except Exception:  # not installed: the JaxMARL columns are skipped
        return {}


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
    if results.get("jaxmarl"):
        first = results["jaxmarl"][0]
        lines += [
            "",
            "### Vector face vs JaxMARL `MPE_simple_spread_v3` (jax CPU, `vmap`), discrete actions "
            "(agent-steps/s)",
            "",
            f"JaxMARL's episodes last {first['scan']['episode_length']} steps (mpe2's: 25; "
            "`done = state.step >= max_steps` is computed before the counter moves). Compile: the "
            "first call's tracing and XLA compilation, in seconds (not in the rates).",
            "",
            "| E | N | swarmzoo `mpe_spread` | swarmzoo default | JaxMARL scan | JaxMARL loop "
            "| compile scan / loop (s) | ratio (mpe_spread / best JaxMARL) | target | result |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for r in results["jaxmarl"]:
            ours = r["preset"]["agent_steps_per_s"]
            best = max(r["scan"]["agent_steps_per_s"], r["loop"]["agent_steps_per_s"])
            need = ">= JaxMARL" + (" and >= 5,000,000" if (r["n_envs"], r["n_agents"]) == (1024, 3) else "")
            ok = ours >= best and ((r["n_envs"], r["n_agents"]) != (1024, 3) or ours >= 5e6)
            lines.append(
                f"| {r['n_envs']} | {r['n_agents']} | {fmt(ours)} | {fmt(r['default']['agent_steps_per_s'])} "
                f"| {fmt(r['scan']['agent_steps_per_s'])} | {fmt(r['loop']['agent_steps_per_s'])} "
                f"| {r['scan']['compile_s']:.1f} / {r['loop']['compile_s']:.1f} | {ratio(ours, best)} "
                f"| {need} | {verdict(ok)} |"
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
    if args.jaxmarl:
        jax_sizes = (
            ((64, 3), (1024, 3))
            if args.quick
            else tuple((e, n) for n in (3, 10) for e in (1, 64, 1024, 4096))
        )
        results["jaxmarl"] = []
        for e, n in jax_sizes:
            results["jaxmarl"].append(
                {
                    "n_envs": e,
                    "n_agents": n,
                    "preset": measure(
                        "swarmzoo-vector", n_envs=e, n_agents=n, kwargs={"preset": "mpe_spread"}
                    ),
                    "default": measure("swarmzoo-vector", n_envs=e, n_agents=n),
                    "scan": measure("jaxmarl", n_envs=e, n_agents=n, mode="scan"),
                    "loop": measure("jaxmarl", n_envs=e, n_agents=n, mode="loop"),
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
