"""Crash-safe training: SIGKILL a real training process at a seeded random moment, resume it with
``--resume``, and get the uninterrupted run back, bit for bit.

Each trial (``benchmarks/kill_resume.py``, which runs more of them) starts ``python -m
swarmzoo.cli train ALGO`` with a tiny config and a checkpoint every 3 updates, kills it once it
has checkpointed and logged a random number of rows, checks what the kill left (the checkpoint
loads with ``safe_load``, ``progress.csv`` parses), resumes in this process through the CLI and
compares with an uninterrupted run of the same seed: ``progress.csv`` rows (all but the timing
columns, floats as written) and the final ``policy.pt`` tensors must be identical. That holds
because the checkpoint stores every random state (torch, numpy, the Gumbel stream of bayes-net)
and the env copies start fresh episodes, seeded from (seed, update), at every checkpoint.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from swarmzoo.algorithms.common.logging import RunLogger, read_progress

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "kill_resume.py"
_spec = importlib.util.spec_from_file_location("benchmarks_kill_resume", _BENCH)
kr = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(kr)

UPDATES = 40  # per run: ~1 s of training for ctde


def _reference(algo: str, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp(f"{algo}-reference") / "run"
    kr.run_cli(kr.train_argv(algo, run, UPDATES), in_process=True)
    return run


def _check(trial, run: Path) -> None:
    interval = kr.CHECKPOINT_EVERY * kr.STEPS_PER_UPDATE
    assert trial.killed, "the run finished before the kill: the trial shows nothing"
    assert trial.checkpoint_step > 0 and trial.checkpoint_step % interval == 0
    # Lost work is bounded by the checkpoint interval, and the resumed run starts right after it.
    assert 0 <= trial.rows_redone <= kr.CHECKPOINT_EVERY, trial
    assert trial.resumed_first_step == trial.checkpoint_step + kr.STEPS_PER_UPDATE, trial
    assert trial.rows_missing == 0 and trial.lost_beyond_interval == 0, trial
    assert trial.partial_after_resume == [], trial
    assert len(read_progress(run)["global_step"]) == UPDATES
    assert trial.identical, trial.problems


def _tear(run: Path) -> None:
    """What a kill mid-write (or a power cut) could leave besides: a torn last CSV line and a
    half-written temporary checkpoint."""
    with (run / "progress.csv").open("a", newline="") as f:
        f.write("99999,1.25,-0.00")
    ckpt = run / "checkpoints" / "latest.pt"
    (ckpt.parent / ".latest.pt.k1ll3d0x").write_bytes(ckpt.read_bytes()[:1000])
    # Plotting still reads the run: the torn line is skipped.
    assert 99999 not in read_progress(run)["global_step"]


def test_ctde_kill_and_resume_replays_the_uninterrupted_run(tmp_path, tmp_path_factory) -> None:
    reference = _reference("ctde", tmp_path_factory)
    rng = np.random.default_rng(2024)
    rows = [int(r) for r in rng.integers(2, UPDATES - 6, size=3)]
    for i, after_rows in enumerate(rows):
        run = tmp_path / f"trial{i}"
        trial = kr.kill_trial(
            "ctde",
            run,
            reference,
            delay=float(rng.uniform(0.0, 0.03)),  # lands anywhere within an update
            after_rows=after_rows,
            updates=UPDATES,
            resume_in_process=True,
            before_resume=_tear if i == 0 else None,
        )
        _check(trial, run)


@pytest.mark.slow  # ~12 s of CPU each, mostly the killed process's start-up
@pytest.mark.parametrize("algo", ["mean-field", "bayes-net"])
def test_kill_and_resume_other_trainers(algo: str, tmp_path, tmp_path_factory) -> None:
    reference = _reference(algo, tmp_path_factory)
    run = tmp_path / "trial"
    trial = kr.kill_trial(
        algo, run, reference, delay=0.01, after_rows=17, updates=UPDATES, resume_in_process=True
    )
    _check(trial, run)


def test_resumed_logger_drops_rows_after_the_checkpoint_and_a_torn_line(tmp_path) -> None:
    logger = RunLogger(tmp_path, {"a": 1}, tensorboard=False)
    for step in (10, 20, 30):
        logger.log(step, 0.1, {"losses/x": step / 3})
    logger.close()
    with (tmp_path / "progress.csv").open("a") as f:
        f.write("40,0.1,13.3")  # torn: no newline
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / ".latest.pt.abcd_123").write_bytes(b"PK\x03\x04partial")
    (tmp_path / "notes.pt.txt").write_text("kept")  # not a temporary file of ours
    logger = RunLogger(tmp_path, {"a": 1}, append=True, tensorboard=False, resume_step=20)
    logger.log(30, 0.2, {"losses/x": 10.0})
    logger.close()
    assert read_progress(tmp_path)["global_step"] == [10, 20, 30]
    assert read_progress(tmp_path)["losses/x"][-1] == 10.0
    assert not (tmp_path / "checkpoints" / ".latest.pt.abcd_123").exists()
    assert (tmp_path / "notes.pt.txt").exists()


def test_resumed_tensorboard_log_has_no_duplicate_steps(tmp_path) -> None:
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    logger = RunLogger(tmp_path, {}, tensorboard=True)
    for step in (10, 20, 30, 40):  # the killed run, checkpointed at 20
        logger.log(step, 0.1, {"losses/x": 1.0})
    logger.close()
    logger = RunLogger(tmp_path, {}, append=True, tensorboard=True, resume_step=20)
    for step in (30, 40, 50):  # the resumed run
        logger.log(step, 0.2, {"losses/x": 2.0})
    logger.close()
    events = event_accumulator.EventAccumulator(str(tmp_path))
    events.Reload()
    scalars = [(e.step, e.value) for e in events.Scalars("losses/x")]
    assert scalars == [(10, 1.0), (20, 1.0), (30, 2.0), (40, 2.0), (50, 2.0)]
