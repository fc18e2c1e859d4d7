"""Transitional: what the mean-field trainer still imports from here until it moves onto
:mod:`swarmzoo.algorithms.common.run` (the rest lives in ``run``, ``losses``, ``gae`` and
``logging``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from swarmzoo.algorithms.common.gae import next_values
from swarmzoo.algorithms.common.logging import RunLogger, UpdateLog
from swarmzoo.algorithms.common.losses import clipped_policy_loss, clipped_value_loss, normalize_advantages
from swarmzoo.algorithms.common.run import TrainResult, check_resume, episode_seed

__all__ = [
    "RunStart",
    "TrainResult",
    "UpdateLog",
    "check_ppo_args",
    "check_resume",
    "clipped_policy_loss",
    "clipped_value_loss",
    "episode_seed",
    "next_values",
    "normalize_advantages",
    "start_run",
]


@dataclass
class RunStart:
    """Where a run starts: from scratch, or from a checkpoint (see :func:`start_run`)."""

    global_step: int
    start_update: int
    elapsed: float
    """Wall time the run had spent before this start (0 for a fresh run)."""
    rng: np.random.Generator
    """The minibatch-shuffling stream, continued from the checkpoint when resuming."""
    logger: RunLogger


def start_run(
    data: dict[str, Any] | None,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    args: Any,
    run_dir: Path,
) -> RunStart:
    """Restore ``model``, ``optimizer``, torch's RNG, the counters and the numpy stream from a
    checkpoint ``data`` (``None``: a fresh run) and open the run's logger; a resumed logger drops
    the rows a killed run logged after the checkpoint (they are recomputed, identically)."""
    global_step, start_update, elapsed = 0, 0, 0.0
    if data is not None:
        model.load_state_dict(data["model"])
        optimizer.load_state_dict(data["optimizer"])
        torch.set_rng_state(data["torch_rng"])
        global_step, start_update, elapsed = data["global_step"], data["update"], data["elapsed"]
    rng = np.random.default_rng([args.seed, start_update])
    if data is not None and "numpy_rng" in data:
        rng.bit_generator.state = data["numpy_rng"]
    logger = RunLogger(
        run_dir,
        args,
        append=args.resume,
        tensorboard=args.tensorboard,
        resume_step=global_step if args.resume else None,
    )
    return RunStart(global_step, start_update, elapsed, rng, logger)


def check_ppo_args(args) -> None:
    """The checks every PPO trainer's ``Args`` shares: every float finite, step sizes and clips
    (``lr``, ``clip_coef``, ``max_grad_norm``) > 0, loss weights and the value clip
    (``ent_coef``, ``vf_coef``, ``value_clip``) >= 0, hidden layers of at least one unit and a
    seed >= 0.

    Raises:
        ValueError: naming the argument (NaN or inf would otherwise surface as a torch error
            deep inside the first update).
    """
    import dataclasses
    import math

    for f in dataclasses.fields(args):
        value = getattr(args, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{f.name} must be a finite number, got {value}")
    for name, positive in (
        ("lr", True),
        ("clip_coef", True),
        ("max_grad_norm", True),
        ("ent_coef", False),
        ("vf_coef", False),
        ("value_clip", False),
    ):
        value = getattr(args, name, None)
        if value is not None and not (value > 0 if positive else value >= 0):
            raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got {value}")
    hidden = getattr(args, "hidden", ())
    if any(not isinstance(h, int) or h < 1 for h in hidden):
        raise ValueError(f"hidden layer sizes must be integers >= 1, got {tuple(hidden)}")
    if getattr(args, "seed", 0) < 0:
        raise ValueError(f"seed must be >= 0, got {args.seed}")
