"""Speed measurement of env faces: the timing helpers behind ``swarmzoo bench`` and
``benchmarks/env_speed.py``.

Method (the same for swarmzoo and its peers):

* actions are sampled before timing (a list with one entry per step), so only ``reset`` and
  ``step`` are timed;
* the PettingZoo loop resets when an episode ends (no agents left) and that reset is timed too;
  swarmzoo's vector face resets finished copies itself inside ``step``;
* a short untimed warm-up calibrates how many steps fill ``seconds``, then the timed loop runs
  ``repeats`` times; the best (fastest) repeat is reported, as ``timeit`` advises, because on a
  shared machine other processes only ever make a run slower.

Throughput is counted in agent-steps per second (env copies x agents x steps / s).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENV_ID = "navigation-v0"


@dataclass(frozen=True)
class Timing:
    """One measurement.

    Attributes:
        steps: timed steps per repeat (each steps every env copy once).
        n_envs: env copies stepped per step (1 for a PettingZoo env).
        n_agents: agents per env copy.
        seconds: the best repeat's wall time.
        median_seconds: the median repeat's wall time.
    """

    steps: int
    n_envs: int
    n_agents: int
    seconds: float
    median_seconds: float

    @property
    def env_steps_per_s(self) -> float:
        """Env-copy steps per second (best repeat)."""
        return self.steps * self.n_envs / self.seconds

    @property
    def agent_steps_per_s(self) -> float:
        """Agent steps per second (best repeat)."""
        return self.env_steps_per_s * self.n_agents


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one), for benchmark reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def with_thread_env(command: str) -> str:
    """``command`` prefixed with ``OMP_NUM_THREADS=k`` when that is set: torch's thread count
    changes the last bits of training, so a learning table's command must carry it."""
    threads = os.environ.get("OMP_NUM_THREADS")
    return f"OMP_NUM_THREADS={threads} {command}" if threads else command


def mean_ci95(x: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the 95% Student-t interval of the mean (``nan`` half-width for
    fewer than two values): the interval every multi-seed table in ``benchmarks/`` reports."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise ValueError("mean_ci95 needs at least one value")
    if x.size < 2:
        return float(x.mean()), float("nan")
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(half)


def plot_mean_ci(
    ax: Any, x: Sequence[float] | np.ndarray, ys: Sequence[Sequence[float]] | np.ndarray, label: str
) -> Any:
    """Plot the mean over runs ``ys (runs, len(x))`` against ``x`` with its 95% interval
    (:func:`mean_ci95` per point) as a band of the line's colour; returns the line."""
    stats = np.array([mean_ci95(col) for col in np.asarray(ys, dtype=float).T])
    line = ax.plot(x, stats[:, 0], label=label)[0]
    ax.fill_between(
        x, stats[:, 0] - stats[:, 1], stats[:, 0] + stats[:, 1], color=line.get_color(), alpha=0.2
    )
    return line


def write_results_section(path: str | Path, name: str, body: str) -> None:
    """Write ``body`` between the markers ``<!-- name:begin -->`` and ``<!-- name:end -->`` of the
    markdown file ``path`` (``benchmarks/RESULTS.md``), replacing what was between them and
    keeping everything else; the section is appended when the markers are missing and the file is
    created when it is."""
    path = Path(path)
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def run_isolated(script: str, spec: dict[str, Any], timeout_s: float, max_memory_gb: float) -> dict[str, Any]:
    """Run ``python script --worker JSON(spec)`` in a fresh process with an address-space and a
    wall-clock limit; the worker prints its result as the last JSON line of stdout. Returns that
    result, or ``{"error": reason}`` (out of memory, timeout, crash)."""
    limit = int(max_memory_gb * 2**30)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    try:
        proc = subprocess.run(
            [sys.executable, script, "--worker", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout_s,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout_s:g} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        if "MemoryError" in proc.stderr or "bad_alloc" in proc.stderr:
            return {"error": f"out of memory (limit {max_memory_gb:g} GiB)"}
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        return {"error": tail[0][:200]}
    return json.loads(lines[-1])


def time_loop(step: Callable[[Any], Any], actions: Sequence[Any], repeats: int = 3) -> list[float]:
    """Wall times of ``repeats`` runs of ``step(a)`` over ``actions``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for a in actions:
            step(a)
        times.append(time.perf_counter() - start)
    return times


def calibrate_steps(
    step: Callable[[Any], Any],
    sample: Callable[[int], Sequence[Any]],
    seconds: float,
    min_steps: int,
    max_steps: int,
) -> int:
    """Steps that take about ``seconds``, from an untimed warm-up of ``min_steps`` steps."""
    warmup = sample(min_steps)
    start = time.perf_counter()
    for a in warmup:
        step(a)
    per_step = (time.perf_counter() - start) / min_steps
    return int(np.clip(seconds / max(per_step, 1e-9), min_steps, max_steps))


def random_dict_actions(env: Any, steps: int, seed: int = 0) -> list[dict[str, Any]]:
    """``steps`` dicts of uniform random actions for every possible agent of a ParallelEnv with
    ``Discrete`` or ``Box`` action spaces (sampled with numpy, outside any timing)."""
    rng = np.random.default_rng(seed)
    agents = list(env.possible_agents)
    space = env.action_space(agents[0])
    if hasattr(space, "n"):
        start = int(getattr(space, "start", 0))
        values = (start + rng.integers(0, int(space.n), size=(steps, len(agents)))).tolist()
    else:
        values = list(
            rng.uniform(space.low, space.high, size=(steps, len(agents), *space.shape)).astype(space.dtype)
        )
    return [dict(zip(agents, row, strict=True)) for row in values]


def time_parallel_env(env: Any, actions: Sequence[dict[str, Any]], repeats: int = 3, seed: int = 0) -> Timing:
    """Time a PettingZoo ``ParallelEnv`` stepping through pre-sampled ``actions``, resetting
    whenever an episode ends (the reset is timed). Dicts are passed as they are while every
    agent is live, else cut down to the live agents."""
    n_agents = len(env.possible_agents)
    env.reset(seed=seed)

    def step(a: dict[str, Any]) -> None:
        if len(env.agents) != n_agents:
            a = {agent: a[agent] for agent in env.agents}
        env.step(a)
        if not env.agents:
            env.reset()

    times = time_loop(step, actions, repeats)
    return Timing(len(actions), 1, n_agents, min(times), float(np.median(times)))


def random_vector_actions(venv: Any, steps: int, seed: int = 0) -> list[np.ndarray]:
    """``steps`` batches of uniform random actions ``(E, N)`` / ``(E, N, A)`` for a swarmzoo
    vector env."""
    rng = np.random.default_rng(seed)
    space = venv.single_action_space
    shape = (venv.num_envs, venv.n_agents)
    if hasattr(space, "n"):
        return list(int(space.start) + rng.integers(0, int(space.n), size=(steps, *shape)))
    return list(rng.uniform(space.low, space.high, size=(steps, *shape, *space.shape)).astype(space.dtype))


def time_vector_env(venv: Any, actions: Sequence[np.ndarray], repeats: int = 3, seed: int = 0) -> Timing:
    """Time a swarmzoo vector env stepping through pre-sampled ``actions`` (it auto-resets
    finished copies inside ``step``, so resets are timed)."""
    venv.reset(seed=seed)
    times = time_loop(venv.step, actions, repeats)
    return Timing(len(actions), venv.num_envs, venv.n_agents, min(times), float(np.median(times)))


def measure_parallel(n_agents: int, seconds: float, repeats: int, **kwargs: Any) -> Timing:
    """swarmzoo's PettingZoo face of ``navigation-v0`` (``kwargs`` are env arguments)."""
    import swarmzoo

    env = swarmzoo.make(ENV_ID, n_agents=n_agents, **kwargs)
    env.reset(seed=0)
    steps = calibrate_steps(
        lambda a: _step_or_reset(env, a),
        lambda s: random_dict_actions(env, s, 1),
        seconds,
        min_steps=10,
        max_steps=200_000,
    )
    return time_parallel_env(env, random_dict_actions(env, steps), repeats)


def measure_vector(n_envs: int, n_agents: int, seconds: float, repeats: int, **kwargs: Any) -> Timing:
    """swarmzoo's vector face of ``navigation-v0`` with ``n_envs`` copies."""
    import swarmzoo

    venv = swarmzoo.make_vec(ENV_ID, n_envs, n_agents=n_agents, **kwargs)
    venv.reset(seed=0)
    steps = calibrate_steps(
        venv.step, lambda s: random_vector_actions(venv, s, 1), seconds, min_steps=5, max_steps=100_000
    )
    return time_vector_env(venv, random_vector_actions(venv, steps), repeats)


def _step_or_reset(env: Any, actions: dict[str, Any]) -> None:
    env.step({a: actions[a] for a in env.agents})
    if not env.agents:
        env.reset()


def run_self_benchmark(quick: bool = False) -> list[dict]:
    """Benchmark swarmzoo's own faces of ``navigation-v0`` (no peers).

    PettingZoo face with the ``mpe_spread`` preset at N = 3, 10, 30, 100; vector face (default
    arguments, discrete actions) at E = 1, 64, 1024 copies of N = 3 and 10; and 1,000 robots with
    k-nearest sensing in one env through both faces. ``quick`` keeps a few sizes and short runs.

    Returns:
        One dict per measurement: ``face``, ``preset``, ``n_envs``, ``n_agents``, ``steps``,
        ``agent_steps_per_s``, ``env_steps_per_s``.
    """
    seconds, repeats = (0.05, 1) if quick else (0.5, 3)
    pz_sizes = (3, 30) if quick else (3, 10, 30, 100)
    vec_sizes = ((64, 3), (1024, 3)) if quick else ((1, 3), (64, 3), (1024, 3), (1, 10), (64, 10), (1024, 10))
    rows = []

    def row(face: str, preset: str, t: Timing) -> dict:
        return {
            "face": face,
            "preset": preset,
            "n_envs": t.n_envs,
            "n_agents": t.n_agents,
            "steps": t.steps,
            "agent_steps_per_s": t.agent_steps_per_s,
            "env_steps_per_s": t.env_steps_per_s,
        }

    for n in pz_sizes:
        rows.append(row("parallel", "mpe_spread", measure_parallel(n, seconds, repeats, preset="mpe_spread")))
    for e, n in vec_sizes:
        rows.append(row("vector", "default", measure_vector(e, n, seconds, repeats)))
    rows.append(row("vector", "default", measure_vector(1, 1000, seconds, repeats)))
    rows.append(row("parallel", "default", measure_parallel(1000, seconds, repeats)))
    return rows


__all__ = [
    "Timing",
    "calibrate_steps",
    "cpu_model",
    "measure_parallel",
    "measure_vector",
    "random_dict_actions",
    "run_isolated",
    "random_vector_actions",
    "run_self_benchmark",
    "time_loop",
    "time_parallel_env",
    "time_vector_env",
    "write_results_section",
]
