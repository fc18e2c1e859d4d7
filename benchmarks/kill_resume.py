"""Kill-and-resume trials: SIGKILL real training processes at random moments, resume them, and
check that nothing is lost and the learning curve is the uninterrupted one, bit for bit.

Each trial starts ``swarmzoo train ALGO ... --out RUN`` in a new process (a tiny config, a
checkpoint every 3 updates), waits for its first checkpoint, kills it after a random delay,
checks the run folder (the checkpoint loads with ``safe_load``, ``progress.csv`` parses), resumes
it with ``--resume`` and compares the finished run with an uninterrupted run of the same seed:
every ``progress.csv`` row except the timing columns, and the final policy's tensors.

    python benchmarks/kill_resume.py                     # 10 ctde trials, table to /tmp/kill_resume.md
    python benchmarks/kill_resume.py --algos ctde mean-field bayes-net --trials 5

``tests/hardening/test_kill_resume.py`` runs a few of the same trials.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

CHECKPOINT_EVERY = 3
STEPS_PER_UPDATE = 20  # --num-envs 2 x --rollout-steps 10
N_UPDATES = 100
# Tiny configs: 10-40 ms per update.
CONFIGS: dict[str, list[str]] = {
    "ctde": [
        "--env", "navigation-v0", "--env-kwargs", "n_agents=3", "max_cycles=10",
        "--num-envs", "2", "--rollout-steps", "10", "--epochs", "1", "--minibatches", "2",
        "--hidden", "16", "16",
    ],
    "mean-field": [
        "--env", "flocking-v0", "--env-kwargs", "n_agents=8", "max_cycles=10",
        "--num-envs", "2", "--rollout-steps", "10", "--epochs", "1", "--minibatches", "2",
        "--hidden", "16", "16", "--rule-centres", "8", "--mf-centres", "64", "--schedule-agents", "20",
    ],
    "bayes-net": [
        "--env", "navigation-v0", "--env-kwargs", "n_agents=3", "max_cycles=10",
        "--num-envs", "2", "--rollout-steps", "10", "--epochs", "1", "--minibatches", "2",
        "--hidden", "16", "16",
    ],
}  # fmt: skip
TIMING_COLUMNS = ("wall_time", "charts/steps_per_second")


def train_argv(
    algo: str,
    out: Path,
    updates: int = N_UPDATES,
    seed: int = 0,
    resume: bool = False,
    tensorboard: bool = False,
) -> list[str]:
    """The ``swarmzoo train`` arguments of the tiny config of ``algo``, for ``updates`` updates."""
    argv = ["train", algo, *CONFIGS[algo], "--total-steps", str(updates * STEPS_PER_UPDATE)]
    argv += ["--seed", str(seed), "--out", str(out), "--no-progress"]
    argv += ["--checkpoint-every", str(CHECKPOINT_EVERY)]
    argv += ["--tensorboard" if tensorboard else "--no-tensorboard"]
    return argv + (["--resume"] if resume else [])


def run_cli(argv: list[str], in_process: bool = False) -> None:
    """``swarmzoo ARGV`` in a new Python process, or in this one (the same code path without the
    start-up)."""
    if in_process:
        from swarmzoo.cli import main

        main(argv)
        return
    subprocess.run([sys.executable, "-m", "swarmzoo.cli", *argv], check=True, capture_output=True, text=True)


def read_rows(run: Path) -> list[dict[str, str]]:
    with (run / "progress.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def count_rows(run: Path) -> int:
    """Complete rows of ``progress.csv`` so far (0 before it exists)."""
    try:
        return max(0, (run / "progress.csv").read_text().count("\n") - 1)
    except FileNotFoundError:
        return 0


def partial_files(run: Path) -> list[str]:
    """Temporary files of atomic writes (``.<name>.<random>``) in the run folder."""
    found = []
    for folder in (run, run / "checkpoints"):
        if folder.is_dir():
            found += [p.name for p in folder.iterdir() if p.name.startswith(".") and p.is_file()]
    return sorted(found)


def compare_runs(run: Path, reference: Path) -> list[str]:
    """Differences between two finished runs: their ``progress.csv`` rows (all columns but the
    timing ones, as written: floats in full precision) and their ``policy.pt`` tensors."""
    from swarmzoo.agents.files import safe_load

    problems = []
    rows, ref = read_rows(run), read_rows(reference)
    if [r["global_step"] for r in rows] != [r["global_step"] for r in ref]:
        problems.append(f"logged steps differ ({len(rows)} rows vs {len(ref)})")
    for a, b in zip(rows, ref, strict=False):
        diff = [k for k in b if k not in TIMING_COLUMNS and a.get(k) != b[k]]
        if diff:
            problems.append(f"step {a['global_step']}: {', '.join(diff)} differ")
            break
    pa, pb = safe_load(run / "policy.pt"), safe_load(reference / "policy.pt")
    for key in ("actor", "model", "schedule"):
        if key in pb:
            wa, wb = pa[key], pb[key]
            same = torch.equal(wa, wb) if torch.is_tensor(wb) else all(torch.equal(wa[k], wb[k]) for k in wb)
            if not same:
                problems.append(f"policy.pt[{key!r}] differs")
    return problems


@dataclass
class Trial:
    """What one kill-and-resume trial found."""

    algo: str
    kill_time: float
    """Seconds after the process started that it was killed."""
    killed: bool
    """False when the run finished before the kill (the trial then shows nothing)."""
    checkpoint_step: int
    """The step of the last complete checkpoint, read back with ``safe_load``."""
    last_logged_step: int
    """The last ``progress.csv`` row the killed run wrote."""
    partial_after_kill: list[str]
    resumed_first_step: int
    """The first step the resumed run logged."""
    rows_redone: int
    """Rows the killed run logged after its checkpoint (the resumed run recomputes them)."""
    rows_missing: int
    """Updates missing from, or logged twice in, the finished run's ``progress.csv``."""
    partial_after_resume: list[str]
    problems: list[str]
    """Differences from the uninterrupted run."""

    @property
    def resumed_from(self) -> int:
        return self.resumed_first_step - STEPS_PER_UPDATE

    @property
    def lost_beyond_interval(self) -> int:
        return self.rows_missing + max(0, self.rows_redone - CHECKPOINT_EVERY)

    @property
    def identical(self) -> bool:
        return not self.problems


def kill_trial(
    algo: str,
    run: Path,
    reference: Path,
    delay: float = 0.0,
    after_rows: int = 0,
    updates: int = N_UPDATES,
    resume_in_process: bool = False,
    tensorboard: bool = False,
    before_resume: Callable[[Path], None] | None = None,
) -> Trial:
    """Start a run, SIGKILL it ``delay`` seconds after its first checkpoint (or after it logged
    ``after_rows`` rows, if later), check the folder, call ``before_resume(run)`` (to add damage),
    resume it and compare the finished run with the uninterrupted ``reference``."""
    from swarmzoo.agents.files import safe_load
    from swarmzoo.algorithms.common.logging import read_progress

    ckpt = run / "checkpoints" / "latest.pt"
    argv = train_argv(algo, run, updates, tensorboard=tensorboard)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarmzoo.cli", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    while proc.poll() is None and (not ckpt.exists() or count_rows(run) < after_rows):
        time.sleep(0.002)
    if proc.poll() is not None and not ckpt.exists():
        raise RuntimeError(f"training failed before its first checkpoint:\n{proc.stderr.read().decode()}")
    time.sleep(delay)
    kill_time = time.perf_counter() - start
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()

    step = int(safe_load(ckpt)["global_step"])  # the last complete checkpoint, whenever the kill came
    logged = read_progress(run)["global_step"]  # the killed run's log parses, as plotting reads it
    last = int(logged[-1]) if logged else 0
    partial_before = partial_files(run)
    if before_resume is not None:
        before_resume(run)

    run_cli(train_argv(algo, run, updates, resume=True, tensorboard=tensorboard), resume_in_process)
    steps = [int(r["global_step"]) for r in read_rows(run)]
    expected = {STEPS_PER_UPDATE * (k + 1) for k in range(updates)}
    return Trial(
        algo=algo,
        kill_time=kill_time,
        killed=killed,
        checkpoint_step=step,
        last_logged_step=last,
        partial_after_kill=partial_before,
        resumed_first_step=min((s for s in steps if s > step), default=step),
        rows_redone=(last - step) // STEPS_PER_UPDATE,
        rows_missing=len(expected - set(steps)) + len(steps) - len(set(steps)),
        partial_after_resume=partial_files(run),
        problems=compare_runs(run, reference),
    )


def table(trials: list[Trial]) -> str:
    """The trials as a markdown table."""
    lines = [
        "| trial | algo | kill time (s after start) | killed | last checkpoint step | last logged step "
        "| resumed from | rows redone | rows lost beyond interval | partial files after kill / resume "
        "| curves identical |",
        "|" + "---|" * 11,
    ]
    for i, t in enumerate(trials):
        lines.append(
            f"| {i} | {t.algo} | {t.kill_time:.2f} | {'yes' if t.killed else 'no (finished)'} "
            f"| {t.checkpoint_step} | {t.last_logged_step} | {t.resumed_from} | {t.rows_redone} "
            f"| {t.lost_beyond_interval} | {len(t.partial_after_kill)} / {len(t.partial_after_resume)} "
            f"| {'yes' if t.identical else 'NO: ' + '; '.join(t.problems)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="kill trials per algorithm")
    parser.add_argument("--algos", nargs="+", default=["ctde"], choices=sorted(CONFIGS))
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    parser.add_argument("--max-delay", type=float, default=1.5, help="latest kill, s after the 1st ckpt")
    parser.add_argument("--tensorboard", action="store_true", help="also write (and purge) TB events")
    parser.add_argument("--out", type=Path, default=Path("/tmp/kill_resume.md"))
    opts = parser.parse_args()
    rng = np.random.default_rng(opts.seed)
    trials: list[Trial] = []
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for algo in opts.algos:
            reference = Path(tmp) / f"{algo}-reference"
            run_cli(train_argv(algo, reference, tensorboard=opts.tensorboard))
            for i in range(opts.trials):
                delay = float(rng.uniform(0.0, opts.max_delay))
                run = Path(tmp) / f"{algo}-{i}"
                trials.append(kill_trial(algo, run, reference, delay, tensorboard=opts.tensorboard))
                print(table(trials).splitlines()[-1], flush=True)
    killed = [t for t in trials if t.killed]
    summary = (
        f"{len(trials)} trials, {len(killed)} killed before the end (kill drawn uniformly in "
        f"[0, {opts.max_delay}] s after the first checkpoint; {CHECKPOINT_EVERY} updates between "
        f"checkpoints, {N_UPDATES} updates of {STEPS_PER_UPDATE} env steps per run). Rows lost beyond "
        f"the checkpoint interval: {sum(t.lost_beyond_interval for t in trials)}. Resumed runs identical "
        f"to the uninterrupted run (progress.csv rows but timing, policy.pt tensors): "
        f"{sum(t.identical for t in trials)}/{len(trials)}. Total {time.perf_counter() - t_start:.0f} s."
    )
    command = " ".join(["python", "benchmarks/kill_resume.py", *sys.argv[1:]])
    opts.out.write_text(f"# Kill-and-resume trials\n\n`{command}`\n\n{table(trials)}\n\n{summary}\n")
    print(f"\n{table(trials)}\n\n{summary}\nwrote {opts.out}")


if __name__ == "__main__":
    main()
