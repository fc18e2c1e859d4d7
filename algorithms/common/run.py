"""The run skeleton the PPO trainers share: the arguments every trainer takes (:class:`BaseArgs`)
and a :class:`Run` that opens or resumes the run folder, checkpoints it, writes the policy file
and finishes. A trainer keeps only its own arguments, networks, rollout and loss::

    run = Run(args, "ctde", STRUCTURAL, hooks=[on_checkpoint])   # seeds torch, loads a checkpoint
    venv = make_training_env(args.env, args.num_envs, run.env_kwargs)
    model, optimizer = ..., ...
    run.start(model, optimizer, n_updates, E * T, "ctde " + args.env,
              policy=write_policy_to, state=extra_checkpoint_entries)
    for update in run.updates():
        if run.new_episodes(update):
            obs = venv.reset(seed=run.episode_seed(update))
        run.anneal_lr(update)
        ...                                   # rollout: run.global_step += E per step
        ...                                   # update:  run.ppo_step(policy_loss, value_loss, ...)
        run.end_update(update, episode_returns)   # logs a row; checkpoints when due
    return run.finish(venv)

Checkpoints hold every random state (torch, the minibatch stream, the trainer's own via
``state``) and the env copies start fresh, seeded episodes at each one, so a run killed and
resumed continues exactly as the uninterrupted run does. Hooks (``on_checkpoint(run_dir,
step)``, e.g. recording a video with ``--capture-video`` or evaluating the policy) run after each
checkpoint with ``policy.pt`` written, inside a forked torch random stream, so they do not
change the run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from swarmzoo.agents.files import POLICY_FORMAT, atomic_torch_save, safe_load
from swarmzoo.agents.rollout import record_run_video
from swarmzoo.algorithms.common.logging import RunLogger, UpdateLog, default_run_dir, to_jsonable
from swarmzoo.algorithms.common.vector import parse_env_kwargs

CheckpointHook = Callable[[Path, int], None]
"""``hook(run_dir, global_step)``, called after each checkpoint."""


@dataclass
class BaseArgs:
    """What every PPO trainer takes: the env, the budget, the run folder and the PPO settings.
    A trainer's ``Args`` subclasses it, adds its own fields and may change defaults."""

    env: str = "navigation-v0"
    """A swarmzoo env id."""
    env_kwargs: tuple[str, ...] = ()
    """Env arguments as KEY=VALUE (e.g. n_agents=5 n_obstacles=2)."""
    reward_weights: tuple[float, ...] = ()
    """For an env made with objectives (--env-kwargs objectives=goals,energy): train on the
    weighted sum of its vector reward, one weight per objective (e.g. 0.8 0.2)."""
    total_steps: int = 300_000
    """Environment steps to train for, summed over env copies (robot-steps = this x N)."""
    seed: int = 0
    """Seed of torch, minibatch shuffling and the env copies (copy i gets env_seed + i, with
    env_seed hashed from (seed, update) at each checkpoint, so runs with neighbouring seeds share
    no episodes)."""
    out: Path | None = None
    """Run folder (default runs/<env>__<algo>__<seed>__<time>)."""
    num_envs: int = 32
    """Env copies stepped together."""
    rollout_steps: int = 50
    """Steps per env copy between updates (T)."""
    epochs: int = 10
    """Passes over each rollout."""
    minibatches: int = 4
    """Minibatches per epoch."""
    lr: float = 7e-4
    """Adam learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0."""
    gamma: float = 0.95
    """Discount (0.95 suits swarm tasks' dense per-step rewards over 25-100-step episodes; it
    reached the heuristic on navigation-v0 in half the steps 0.99 needed)."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip_coef: float = 0.2
    """PPO ratio clip."""
    value_clip: float = 0.2
    """Clip of the value update around the old value (0 turns it off)."""
    ent_coef: float = 0.01
    """Entropy bonus."""
    vf_coef: float = 1.0
    """Weight of the value loss."""
    max_grad_norm: float = 10.0
    """Gradient norm clip."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the networks."""
    checkpoint_every: int = 10
    """Updates between checkpoints. The env copies start fresh episodes at each checkpoint
    (re-seeded from (seed, update)), and the checkpoint holds every random state, so a run killed
    and resumed from it continues exactly as the uninterrupted run does."""
    capture_video: bool = False
    """Record one episode of the current policy at every checkpoint to RUN_DIR/videos/step_<N>.mp4
    (policy.pt is then written at every checkpoint too, not only at the end)."""
    resume: bool = False
    """Continue from <out>/checkpoints/latest.pt (the progress.csv rows logged after it are
    dropped and recomputed)."""
    progress: bool = True
    """Show a progress bar with the live return."""
    tensorboard: bool = True
    """Write TensorBoard event files beside progress.csv."""
    torch_threads: int = 1
    """torch intra-op threads (the env uses the other core)."""

    def __post_init__(self) -> None:
        """Every float finite; counts >= 1; step sizes and clips (``lr``, ``clip_coef``,
        ``max_grad_norm``) > 0; loss weights and the value clip >= 0; ``gamma`` and
        ``gae_lambda`` in [0, 1]; hidden layers of at least one unit; a seed >= 0.

        Raises:
            ValueError: naming the argument (NaN or inf would otherwise surface as a torch error
                deep inside the first update).
        """
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, got {value}")
        counts = ("total_steps", "num_envs", "rollout_steps", "epochs", "minibatches", "checkpoint_every")
        for name in (*counts, "torch_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name, positive in (
            ("lr", True),
            ("clip_coef", True),
            ("max_grad_norm", True),
            ("ent_coef", False),
            ("vf_coef", False),
            ("value_clip", False),
        ):
            value = getattr(self, name)
            if not (value > 0 if positive else value >= 0):
                raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got {value}")
        if not 0 <= self.gamma <= 1 or not 0 <= self.gae_lambda <= 1:
            raise ValueError("gamma and gae_lambda must lie in [0, 1]")
        if any(not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ValueError(f"hidden layer sizes must be integers >= 1, got {tuple(self.hidden)}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")


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


def episode_seed(seed: int, update: int) -> int:
    """Seed of the env copies' fresh episodes at ``update`` (each checkpoint): a hash of
    ``(seed, update)``, so a run resumed from a checkpoint sees the episodes the uninterrupted run
    sees (the env's own state is not checkpointed), and seeds 0 and 1 do not share E - 1 of their
    E copies as ``seed + i`` would make them."""
    return int(np.random.SeedSequence([seed, update]).generate_state(1)[0])


def step_tensors(
    rew: np.ndarray, term: np.ndarray, trunc: np.ndarray, active: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A vector-env step's ``(E, N)`` rewards (zero where ``active`` is 0: robots whose episode
    ended), terminations and dones (termination or truncation), as float tensors."""
    rewards = torch.as_tensor(rew, dtype=torch.float32) * active
    terminations = torch.as_tensor(np.asarray(term, dtype=np.float32))
    return rewards, terminations, torch.as_tensor(np.asarray(term | trunc, dtype=np.float32))


def check_resume(data: dict, args: BaseArgs, algo: str, structural: tuple[str, ...]) -> None:
    """Refuse to resume from a checkpoint of another trainer (``data["algo"] != algo``) or one
    whose ``structural`` arguments (those that fix the networks' shapes or the rollout) differ
    from ``args``; the error names every changed argument."""
    if data.get("algo") != algo:
        raise ValueError(f"the checkpoint to resume is a {data.get('algo')!r} checkpoint, not {algo!r}")
    if "args" not in data or "optimizer" not in data:
        raise ValueError("the file to resume from is a policy file, not a training checkpoint")
    saved, now = data["args"], to_jsonable(args)
    # An argument added after the checkpoint was written counts as its default there.
    defaults = {f.name: to_jsonable(f.default) for f in fields(args) if f.default is not MISSING}
    saved = {k: saved.get(k, defaults.get(k)) for k in structural}
    changed = [k for k in structural if saved.get(k) != now.get(k)]
    if changed:
        diffs = ", ".join(f"{k}: {saved.get(k)!r} -> {now.get(k)!r}" for k in changed)
        raise ValueError(f"resume with the checkpoint's own arguments; changed: {diffs}")


class Run:
    """One training run: its folder, counters, minibatch stream, log and checkpoints.

    Constructing it seeds torch (before the networks are built, so their initial weights follow
    the seed too), parses the env arguments and, with ``args.resume``, loads and checks the
    checkpoint (``checkpoint_algo`` names its kind, ``structural`` the arguments it must share
    with ``args``). :meth:`start` then restores the model and optimizer and opens the log.
    """

    def __init__(
        self,
        args: BaseArgs,
        algo: str,
        structural: tuple[str, ...],
        checkpoint_algo: str | None = None,
        hooks: Iterable[CheckpointHook | None] = (),
    ) -> None:
        torch.set_num_threads(args.torch_threads)
        torch.manual_seed(args.seed)
        self.args = args
        self.checkpoint_algo = checkpoint_algo or algo
        self.env_kwargs = parse_env_kwargs(args.env_kwargs)
        self.dir = Path(args.out) if args.out is not None else default_run_dir(args.env, algo, args.seed)
        self.ckpt_path = self.dir / "checkpoints" / "latest.pt"
        self.data: dict[str, Any] | None = None
        if args.resume:
            self.data = safe_load(self.ckpt_path)
            check_resume(self.data, args, self.checkpoint_algo, structural)
        self.hooks: list[CheckpointHook] = []
        if args.capture_video:  # one episode of the current policy, seeded with the run's seed
            self.hooks.append(lambda run_dir, step: record_run_video(run_dir, step, args.seed))
        self.hooks += [hook for hook in hooks if hook is not None]

    def start(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        n_updates: int,
        steps_per_update: int,
        desc: str,
        policy: Callable[[Path], None],
        state: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        """Restore ``model``, ``optimizer``, torch's RNG, the counters and the minibatch stream
        from the checkpoint (if resuming) and open the log (a resumed log drops the rows a killed
        run logged after the checkpoint; they are recomputed, identically).

        ``policy(path)`` writes the policy file; ``state()`` gives the trainer's own checkpoint
        entries (its extra random streams, its actor's description).
        """
        self.model, self.optimizer, self.n_updates = model, optimizer, n_updates
        self._policy, self._state = policy, state
        self.global_step, self.start_update, self.elapsed_before = 0, 0, 0.0
        data = self.data
        if data is not None:
            model.load_state_dict(data["model"])
            optimizer.load_state_dict(data["optimizer"])
            torch.set_rng_state(data["torch_rng"])
            self.global_step, self.start_update = data["global_step"], data["update"]
            self.elapsed_before = data["elapsed"]
        self.rng = np.random.default_rng([self.args.seed, self.start_update])
        if data is not None and "numpy_rng" in data:
            self.rng.bit_generator.state = data["numpy_rng"]
        resumed = self.args.resume
        logger = RunLogger(
            self.dir,
            self.args,
            append=resumed,
            tensorboard=self.args.tensorboard,
            resume_step=self.global_step if resumed else None,
        )
        self.log = UpdateLog(logger, self.args.progress, n_updates * steps_per_update, self.global_step, desc)
        if data is not None:
            self.log.recent = list(data.get("recent_returns", []))
        self._steps_per_update = steps_per_update
        self.t_start = time.time()

    def updates(self) -> range:
        """The updates left to run."""
        return range(self.start_update, self.n_updates)

    def new_episodes(self, update: int) -> bool:
        """Whether the env copies start fresh episodes before ``update`` (at the start and at
        each checkpoint)."""
        return update == self.start_update or update % self.args.checkpoint_every == 0

    def episode_seed(self, update: int) -> int:
        """The seed of the fresh episodes at ``update`` (:func:`episode_seed`)."""
        return episode_seed(self.args.seed, update)

    def anneal_lr(self, update: int) -> None:
        """With ``anneal_lr``: the learning rate ``lr * (1 - update / n_updates)``."""
        if self.args.anneal_lr:
            self.optimizer.param_groups[0]["lr"] = self.args.lr * (1.0 - update / self.n_updates)

    def ppo_step(
        self,
        policy_loss: torch.Tensor,
        value_loss: torch.Tensor,
        entropy: torch.Tensor,
        ratio_stats: dict[str, float],
        extra_loss: torch.Tensor | None = None,
    ) -> None:
        """One gradient step on ``L = L_pi + vf_coef * L_V - ent_coef * H (+ extra_loss)``,
        gradients clipped to ``max_grad_norm``; the terms go to the update's log row."""
        args = self.args
        loss = policy_loss + args.vf_coef * value_loss - args.ent_coef * entropy
        if extra_loss is not None:
            loss = loss + extra_loss
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), args.max_grad_norm)
        self.optimizer.step()
        self.log.add_losses(policy_loss, value_loss, entropy, ratio_stats)

    def wall(self) -> float:
        """Wall time of the run so far, earlier starts included."""
        return self.elapsed_before + time.time() - self.t_start

    def end_update(
        self, update: int, episode_returns: list[float], extra: dict[str, float] | None = None
    ) -> None:
        """Log the update's row (``extra``: the trainer's own scalars) and checkpoint when due
        (every ``checkpoint_every`` updates and after the last)."""
        wall = self.wall()
        lr = self.optimizer.param_groups[0]["lr"]
        self.log.finish_update(self.global_step, wall, lr, episode_returns, self._steps_per_update, extra)
        if (update + 1) % self.args.checkpoint_every == 0 or update + 1 == self.n_updates:
            self.checkpoint(update + 1, wall)

    def checkpoint(self, update: int, wall: float) -> None:
        """Write ``checkpoints/latest.pt`` (atomically) and run the hooks."""
        data = {
            "format": POLICY_FORMAT,
            "algo": self.checkpoint_algo,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "args": to_jsonable(self.args),
            "env_id": self.args.env,
            "env_kwargs": self.env_kwargs,
            "global_step": self.global_step,
            "update": update,
            "elapsed": wall,
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": self.rng.bit_generator.state,
            "recent_returns": list(self.log.recent),
            **self._state(),
        }
        atomic_torch_save(data, self.ckpt_path)
        if self.hooks:
            self.write_policy()
        for hook in self.hooks:
            with torch.random.fork_rng():
                hook(self.dir, self.global_step)

    def write_policy(self) -> None:
        """Write ``policy.pt``."""
        self._policy(self.dir / "policy.pt")

    def finish(self, venv: Any) -> TrainResult:
        """Close the log and the env, write the final policy and return the result."""
        self.log.close()
        venv.close()
        self.write_policy()
        return TrainResult(
            run_dir=self.dir,
            global_step=self.global_step,
            wall_time=self.wall(),
            final_return=self.log.final_return,
            curve=self.log.curve,
        )
