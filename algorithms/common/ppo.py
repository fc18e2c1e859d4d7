"""The PPO pieces both trainers (CTDE and mean-field) share: bootstrap values, the clipped
policy and value losses, and what ``train`` returns.

Shapes: losses take matching tensors of log-probabilities / values over a minibatch (any shape;
the advantage broadcasts against the log-probabilities, e.g. one advantage per swarm step and one
log-probability per robot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from swarmzoo.algorithms.common.logging import RunLogger


@dataclass
class TrainResult:
    """What a trainer's ``train`` returns."""

    run_dir: Path
    global_step: int
    wall_time: float
    final_return: float
    """Mean per-robot episode return over the last 10 updates' finished episodes."""
    curve: list[tuple[int, float, float]] = field(default_factory=list)
    """(environment step, wall time, mean per-robot episode return) per update with episodes."""


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


def episode_seed(seed: int, update: int) -> int:
    """Seed of the env copies' fresh episodes at ``update`` (each checkpoint): a hash of
    ``(seed, update)``, so a run resumed from a checkpoint sees the episodes the uninterrupted run
    sees (the env's own state is not checkpointed), and seeds 0 and 1 do not share E - 1 of their
    E copies as ``seed + i`` would make them."""
    return int(np.random.SeedSequence([seed, update]).generate_state(1)[0])


def next_values(
    values: torch.Tensor, last_value: torch.Tensor, final_values: torch.Tensor, dones: torch.Tensor
) -> torch.Tensor:
    """``(T, ...)`` bootstrap values for :func:`~swarmzoo.algorithms.common.gae.compute_gae`:
    ``V(o_{t+1})`` within an episode (``values[t + 1]``, or ``last_value`` after the rollout), and
    ``final_values[t]`` (V of the episode's final observation) where the copy reset at ``t``."""
    within = torch.cat([values[1:], last_value[None]])
    return torch.where(dones.bool(), final_values, within)


def clipped_policy_loss(
    logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, clip: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO's ``-mean(min(r A, clip(r, 1 - eps, 1 + eps) A))`` with ``r = exp(logp - old_logp)``,
    and the diagnostics ``approx_kl`` (the unbiased ``(r - 1) - log r`` estimator) and
    ``clipfrac``."""
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    loss = -torch.min(ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages).mean()
    with torch.no_grad():
        stats = {
            "approx_kl": ((ratio - 1) - log_ratio).mean().item(),
            "clipfrac": ((ratio - 1).abs() > clip).float().mean().item(),
        }
    return loss, stats


def clipped_value_loss(
    v: torch.Tensor, target: torch.Tensor, v_old: torch.Tensor, clip: float
) -> torch.Tensor:
    """``mean(max((v - R)^2, (v_old + clip(v - v_old, -c, c) - R)^2)) / 2``; plain squared error
    when ``clip`` is 0."""
    loss = (v - target) ** 2
    if clip > 0:
        clipped = v_old + (v - v_old).clamp(-clip, clip)
        loss = torch.max(loss, (clipped - target) ** 2)
    return 0.5 * loss.mean()


def normalize_advantages(adv: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit std over a minibatch (unchanged for a single sample)."""
    return (adv - adv.mean()) / (adv.std() + 1e-8) if adv.numel() > 1 else adv


LOSS_KEYS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac")


class UpdateLog:
    """Per-update bookkeeping the trainers share: loss statistics, the learning curve, the last
    returns, ``progress.csv`` / TensorBoard rows (through a
    :class:`~swarmzoo.algorithms.common.logging.RunLogger`) and an optional tqdm bar.

    Per update: :meth:`add_losses` after each gradient step, then :meth:`finish_update`.
    """

    def __init__(self, logger, progress: bool, total_steps: int, initial_step: int, desc: str) -> None:
        self.logger = logger
        self.curve: list[tuple[int, float, float]] = []
        self.recent: list[float] = []
        self.stats: dict[str, list[float]] = {k: [] for k in LOSS_KEYS}
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total_steps, initial=initial_step, unit="step", dynamic_ncols=True, desc=desc
            )

    def add_losses(
        self, policy_loss: torch.Tensor, value_loss: torch.Tensor, entropy: torch.Tensor, ratio_stats: dict
    ) -> None:
        self.stats["policy_loss"].append(policy_loss.item())
        self.stats["value_loss"].append(value_loss.item())
        self.stats["entropy"].append(entropy.item())
        for key, value in ratio_stats.items():
            self.stats[key].append(value)

    def finish_update(
        self,
        global_step: int,
        wall: float,
        lr: float,
        episode_returns: list[float],
        steps_done: int,
        extra: dict[str, float] | None = None,
    ) -> None:
        """Log one row (mean losses, learning rate, speed, the mean return of the episodes that
        ended in this update, and ``extra`` scalars) and advance the bar by ``steps_done``."""
        scalars = {f"losses/{k}": sum(v) / len(v) for k, v in self.stats.items() if v}
        scalars.update(extra or {})
        scalars["charts/learning_rate"] = lr
        scalars["charts/steps_per_second"] = global_step / max(wall, 1e-9)
        if episode_returns:
            mean_ret = sum(episode_returns) / len(episode_returns)
            scalars["charts/episode_return"] = mean_ret
            scalars["charts/episodes"] = len(episode_returns)
            self.curve.append((global_step, wall, mean_ret))
            self.recent = (self.recent + [mean_ret])[-10:]
        self.logger.log(global_step, wall, scalars)
        self.stats = {k: [] for k in LOSS_KEYS}
        if self.bar is not None:
            self.bar.update(steps_done)
            if self.recent:
                self.bar.set_postfix(ret=f"{self.recent[-1]:.3f}")

    @property
    def final_return(self) -> float:
        """Mean of the last (up to 10) updates' mean returns; NaN before any episode ended."""
        return sum(self.recent) / len(self.recent) if self.recent else float("nan")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.logger.close()


def check_resume(data: dict, args, algo: str, structural: tuple[str, ...]) -> None:
    """Refuse to resume from a checkpoint of another trainer (``data["algo"] != algo``) or one
    whose ``structural`` arguments (those that fix the networks' shapes or the rollout) differ
    from ``args``; the error names every changed argument."""
    from swarmzoo.algorithms.common.logging import to_jsonable

    if data.get("algo") != algo:
        raise ValueError(f"the checkpoint to resume is a {data.get('algo')!r} checkpoint, not {algo!r}")
    if "args" not in data or "optimizer" not in data:
        raise ValueError("the file to resume from is a policy file, not a training checkpoint")
    saved, now = data["args"], to_jsonable(args)
    changed = [k for k in structural if saved.get(k) != now.get(k)]
    if changed:
        diffs = ", ".join(f"{k}: {saved.get(k)!r} -> {now.get(k)!r}" for k in changed)
        raise ValueError(f"resume with the checkpoint's own arguments; changed: {diffs}")


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
