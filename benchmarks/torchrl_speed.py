"""TorchRL env speed: TorchRL's ``PettingZooWrapper`` against swarmzoo's native ``SwarmVecEnv``
and the raw vector face it runs on, in one run on one machine.

* ``PettingZooWrapper``: :func:`swarmzoo.integrations.torchrl.make_torchrl_env` (one env copy;
  TorchRL loops over the agents in Python).
* ``SwarmVecEnv``: :func:`swarmzoo.integrations.torchrl.make_torchrl_vec_env` with ``num_envs``
  = 1, 16, 64 (arrays over all copies and agents at once).
* Raw vector face: ``swarmzoo.make_vec`` with the same ``num_envs``, numpy in and out.

Envs: ``navigation-v0`` with 3 robots and ``flocking-v0`` with 100, discrete actions, default
episode lengths (resets are timed). Actions are sampled before timing (64 batches, cycled); the
TorchRL envs are stepped with ``step_and_maybe_reset``, as ``rollout`` and the collectors do.
Throughput is env steps/s (one step of one copy) and agent-steps/s (times the robots), the best of
``--repeats`` timed runs of ``--seconds`` each.

Usage::

    python benchmarks/torchrl_speed.py                       # the table, printed
    python benchmarks/torchrl_speed.py --seconds 0.5 --repeats 1   # a quick look
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import tyro

import swarmzoo
from swarmzoo.integrations.torchrl import make_torchrl_env, make_torchrl_vec_env

CASES = (("navigation-v0", 3), ("flocking-v0", 100))
NUM_ENVS = (1, 16, 64)
N_ACTION_BATCHES = 64


@dataclass
class Args:
    """Benchmark the TorchRL faces of swarmzoo's envs."""

    seconds: float = 1.0
    """Target wall time of one timed repeat."""
    repeats: int = 2
    """Timed repeats per measurement; the best is reported."""
    threads: int = 1
    """torch threads (1: the envs are small, and the numpy work is single-threaded anyway)."""
    out: Path | None = Path("benchmarks/RESULTS.md")
    """RESULTS.md to update (section torchrl_speed); none to only print."""


def best_rate(step: Callable[[int], None], seconds: float, repeats: int) -> float:
    """Steps per second of ``step(i)``: the best of ``repeats`` runs of about ``seconds`` each."""
    for i in range(3):  # warm-up
        step(i)
    best = 0.0
    for _ in range(repeats):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(8):
                step(n)
                n += 1
        best = max(best, n / elapsed)
    return best


def torchrl_rate(env, seconds: float, repeats: int) -> float:
    actions = [env.full_action_spec.rand() for _ in range(N_ACTION_BATCHES)]
    state = {"td": env.reset()}

    def step(i: int) -> None:
        td = state["td"].update(actions[i % N_ACTION_BATCHES])
        _, state["td"] = env.step_and_maybe_reset(td)

    return best_rate(step, seconds, repeats)


def vector_rate(venv, seconds: float, repeats: int) -> float:
    rng = np.random.default_rng(0)
    n = venv.single_action_space.n
    actions = [rng.integers(0, n, (venv.num_envs, venv.n_agents)) for _ in range(N_ACTION_BATCHES)]
    venv.reset(seed=0)
    return best_rate(lambda i: venv.step(actions[i % N_ACTION_BATCHES]), seconds, repeats)


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message="PettingZoo in TorchRL is tested")
    rows = []
    for env_id, n in CASES:
        kw = {"n_agents": n}
        rate = torchrl_rate(make_torchrl_env(env_id, seed=0, **kw), args.seconds, args.repeats)
        rows.append((env_id, n, "PettingZooWrapper", 1, rate))
        for num_envs in NUM_ENVS:
            env = make_torchrl_vec_env(env_id, num_envs, seed=0, **kw)
            rate = torchrl_rate(env, args.seconds, args.repeats) * num_envs
            rows.append((env_id, n, "SwarmVecEnv", num_envs, rate))
        for num_envs in NUM_ENVS:
            venv = swarmzoo.make_vec(env_id, num_envs, **kw)
            rate = vector_rate(venv, args.seconds, args.repeats) * num_envs
            rows.append((env_id, n, "raw vector face", num_envs, rate))
        print(f"done: {env_id} N={n}", flush=True)

    lines = [
        "| env | N | env face | num_envs | env steps/s | agent-steps/s | vs PettingZooWrapper |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    base = {}
    for env_id, n, face, num_envs, rate in rows:
        base.setdefault((env_id, n), rate)
        ratio = rate / base[env_id, n]
        lines.append(
            f"| {env_id} | {n} | {face} | {num_envs} | {rate:,.0f} | {rate * n:,.0f} | {ratio:,.1f}x |"
        )
    body = "\n".join(lines)
    print()
    print(body)
    if args.out is not None:
        from swarmzoo.bench import cpu_model, write_results_section

        write_results_section(
            args.out,
            "torchrl_speed",
            "## TorchRL: PettingZooWrapper vs the native batched env\n\n"
            f"Random actions, `step_and_maybe_reset`, best of {args.repeats} x {args.seconds:g} s, "
            f"torch threads {args.threads}; CPU: {cpu_model()} (shared: compare ratios within the table)."
            "\n\n" + body + "\n\nCommand: `python benchmarks/torchrl_speed.py`",
        )


if __name__ == "__main__":
    main(tyro.cli(Args))
