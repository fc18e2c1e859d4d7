"""Soak test: millions of agent-steps per env family with memory sampled along the way.

Each env runs in its own fresh process (``swarmzoo.bench.run_isolated``, with an address-space
limit) on the vector face with random actions (auto-reset over many episodes), for
``--agent-steps`` agent-steps per family, split evenly over the family's envs. Every
``--samples``-th of the run the worker records its resident memory (VmRSS) and checks that
observations, rewards and infos' float arrays are finite. A second, shorter pass runs the
PettingZoo face (dicts, one env) to catch leaks in the per-step dict plumbing.

Memory is "flat" when the peak RSS of the last half of the run exceeds the peak of the first
half (after a 10 % warm-up) by less than ``--growth-limit-mb``: a leak of even a few bytes per
step would show as steady growth over millions of steps.

    python benchmarks/soak.py                       # 10 M agent-steps per family, writes RESULTS.md
    python benchmarks/soak.py --agent-steps 200000  # a quick look
"""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro

FAMILIES: dict[str, list[tuple[str, dict]]] = {
    "navigation": [("navigation-v0", {"n_agents": 8, "n_obstacles": 3})],
    "coverage": [("coverage-v0", {"n_agents": 32, "map": "two_hotspots"})],
    "swarming": [
        ("flocking-v0", {"n_agents": 64}),
        ("kuramoto-v0", {"n_agents": 64}),
        ("aggregation-v0", {"n_agents": 64}),
    ],
    "byzantine": [
        ("byzantine-timesync-v0", {"n_robots": 30, "n_byzantine": 3, "protocol": "dbp", "attack": "bias"}),
        ("byzantine-tracking-v0", {"n_robots": 30, "n_byzantine": 3, "protocol": "dbp", "attack": "random"}),
        ("byzantine-localization-v0", {"n_robots": 30, "n_byzantine": 3, "protocol": "wmsr"}),
    ],
}


@dataclass
class Args:
    agent_steps: int = 10_000_000
    """Agent-steps per env family (split over its envs), on the vector face."""
    pz_agent_steps: int = 1_000_000
    """Agent-steps per env family on the PettingZoo face."""
    num_envs: int = 32
    """Env copies of the vector face."""
    samples: int = 50
    """Memory / finiteness samples per run."""
    growth_limit_mb: float = 8.0
    """Flat memory: peak RSS growth from the first to the second half below this."""
    max_memory_gb: float = 4.0
    """Address-space limit of each worker."""
    timeout_s: float = 3600.0
    """Wall-clock limit of each worker."""
    families: tuple[str, ...] = tuple(FAMILIES)
    """Env families to run."""
    out: Path | None = Path("benchmarks/RESULTS.md")
    """RESULTS.md to update (section soak); none to only print."""


def rss_mb() -> float:
    """Resident memory of this process in MiB (VmRSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _finite(*arrays) -> bool:
    return all(np.isfinite(a).all() for a in arrays if np.issubdtype(np.asarray(a).dtype, np.floating))


def worker(spec: dict) -> dict:
    import swarmzoo

    env_id, kwargs, agent_steps, face = spec["env_id"], spec["kwargs"], spec["agent_steps"], spec["face"]
    rng = np.random.default_rng(0)
    samples: list[tuple[int, float]] = []
    nonfinite = 0
    episodes = 0
    start = time.perf_counter()
    if face == "vector":
        venv = swarmzoo.make_vec(env_id, spec["num_envs"], **kwargs)
        obs, _ = venv.reset(seed=0)
        per_step = venv.num_envs * venv.n_agents
        steps = max(1, agent_steps // per_step)
        every = max(1, steps // spec["samples"])
        space = venv.action_space
        for t in range(steps):
            space.seed(int(rng.integers(2**31)))
            obs, rewards, term, trunc, infos = venv.step(space.sample())
            episodes += int(np.sum(infos["_episode"]))
            if t % every == 0 or t == steps - 1:
                floats = [v for v in infos.values() if isinstance(v, np.ndarray)]
                nonfinite += not _finite(obs, rewards, *floats)
                samples.append((t * per_step, rss_mb()))
        venv.close()
    else:
        env = swarmzoo.make(env_id, **kwargs)
        env.reset(seed=0)
        per_step = len(env.possible_agents)
        steps = max(1, agent_steps // per_step)
        every = max(1, steps // spec["samples"])
        for t in range(steps):
            if not env.agents:
                env.reset(seed=int(rng.integers(2**31)))
                episodes += 1
            obs, rewards, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
            if t % every == 0 or t == steps - 1:
                nonfinite += not _finite(*obs.values(), np.asarray(list(rewards.values()), float))
                samples.append((t * per_step, rss_mb()))
        env.close()
    seconds = time.perf_counter() - start
    rss = np.array([m for _, m in samples])
    warm = max(1, len(rss) // 10)
    half = warm + (len(rss) - warm) // 2
    return {
        "env_id": env_id,
        "face": face,
        "agent_steps": steps * per_step,
        "episodes": episodes,
        "seconds": round(seconds, 1),
        "rss_min_mb": round(float(rss.min()), 1),
        "rss_max_mb": round(float(rss.max()), 1),
        "growth_mb": round(float(rss[half:].max() - rss[warm:half].max()), 2),
        "nonfinite_samples": nonfinite,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(args: Args) -> list[dict]:
    from swarmzoo.bench import cpu_model, run_isolated, write_results_section

    rows = []
    for family in args.families:
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; choose from {list(FAMILIES)}")
        envs = FAMILIES[family]
        for face, budget in (("vector", args.agent_steps), ("parallel", args.pz_agent_steps)):
            for env_id, kwargs in envs:
                spec = {
                    "env_id": env_id,
                    "kwargs": kwargs,
                    "agent_steps": budget // len(envs),
                    "face": face,
                    "num_envs": args.num_envs,
                    "samples": args.samples,
                }
                row = {"family": family} | run_isolated(__file__, spec, args.timeout_s, args.max_memory_gb)
                row.setdefault("env_id", env_id)
                row.setdefault("face", face)
                rows.append(row)
                print(json.dumps(row), flush=True)
    lines = [
        f"Random actions, auto-reset; vector face {args.num_envs} copies; memory sampled {args.samples} "
        f"times per run; flat = growth of peak RSS from the first to the second half < "
        f"{args.growth_limit_mb:g} MB. CPU: {cpu_model()}.",
        "",
        "| family | env | face | agent-steps | episodes | s | RSS min MB | RSS max MB | growth MB | flat "
        "| NaN/inf |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['family']} | {r['env_id']} | {r['face']} | error: {r['error']} |||||||| ")
            continue
        flat = "yes" if r["growth_mb"] < args.growth_limit_mb else "**no**"
        lines.append(
            f"| {r['family']} | {r['env_id']} | {r['face']} | {r['agent_steps']:,} | {r['episodes']:,} | "
            f"{r['seconds']:g} | {r['rss_min_mb']:g} | {r['rss_max_mb']:g} | {r['growth_mb']:+g} | {flat} | "
            f"{r['nonfinite_samples']} |"
        )
    totals: dict[str, int] = {}
    for r in rows:
        if "error" not in r and r["face"] == "vector":
            totals[r["family"]] = totals.get(r["family"], 0) + r["agent_steps"]
    lines += ["", "Vector-face agent-steps per family: " + ", ".join(f"{k} {v:,}" for k, v in totals.items())]
    lines += ["", f"Command: `python benchmarks/soak.py --agent-steps {args.agent_steps}`"]
    body = "\n".join(lines)
    print(body)
    if args.out is not None:
        write_results_section(args.out, "soak", "## Soak: long runs, memory and NaN\n\n" + body)
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        print(json.dumps(worker(json.loads(sys.argv[2]))))
    else:
        main(tyro.cli(Args))
