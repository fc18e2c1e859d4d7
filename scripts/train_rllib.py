"""Train swarmzoo envs with RLlib, on this machine or on a Ray cluster.

    # one machine: Ray starts here
    python scripts/train_rllib.py --env navigation-v0 --env-kwargs n_agents=5 --stop-iters 50

    # a cluster: `ray start --head` on one node, `ray start --address=HEAD:6379` on the others,
    # then from any machine:
    ray job submit --address http://HEAD:8265 --working-dir . -- \\
        python scripts/train_rllib.py --address auto --num-env-runners 32 --num-learners 2 ...

RLlib's env runners (sampling) and learners (updates) are Ray actors, so ``--num-env-runners``
and ``--num-learners`` spread over every node of the cluster; nothing here is specific to one
machine. Policies: ``--policies shared`` (one for all agents), ``per-group`` (``robot`` vs
``byzantine``) or ``independent``.

The run folder (``--checkpoint-dir``) holds ``progress.csv`` and TensorBoard logs with swarmzoo's
metric names (``charts/episode_return`` is the mean per-agent episode return, as in
``swarmzoo train``, so ``swarmzoo plot`` compares RLlib runs with the built-in trainers),
``config.json``, RLlib checkpoints in ``checkpoint/`` (every ``--checkpoint-every`` iterations and
at the end; restore with ``--resume``; RLlib's checkpoint format pickles parts of its state, so
restore only checkpoints you made) and, with ``--capture-video``, ``videos/iter_<K>.mp4``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import tyro

import swarmzoo
from swarmzoo.algorithms.common.vector import parse_env_kwargs

# Written beside each RLlib checkpoint: where the run was when it was saved.
PROGRESS = "swarmzoo_progress.json"


@dataclass
class Args:
    env: str = "navigation-v0"
    """swarmzoo env id (see `swarmzoo list`)."""
    env_kwargs: list[str] = field(default_factory=list)
    """Env arguments as KEY=VALUE, e.g. n_agents=5 byzantine_agents=True."""
    algo: str = "PPO"
    """RLlib algorithm with multi-agent support on the new API stack (PPO, APPO, ...)."""
    policies: Literal["shared", "per-group", "independent"] = "shared"
    """shared: one policy for all agents; per-group: one per name prefix (robot, byzantine);
    independent: one per agent."""
    address: str | None = None
    """Ray cluster to join (`auto`, or HEAD_IP:6379); default: start Ray on this machine."""
    num_cpus: int | None = None
    """CPUs for a local Ray (default: all); ignored with --address."""
    num_env_runners: int = 1
    """Remote sampling actors (spread over the cluster); 0 samples in the driver."""
    num_envs_per_env_runner: int = 1
    """Env copies per env runner."""
    num_learners: int = 0
    """Remote learner actors; 0 learns in the driver."""
    train_batch_size: int = 4000
    """Env steps per training iteration (per learner)."""
    minibatch_size: int = 500
    """SGD minibatch size."""
    lr: float = 3e-4
    """Learning rate."""
    gamma: float = 0.99
    """Discount."""
    seed: int = 0
    """Seed of the algorithm and its envs."""
    stop_iters: int = 100
    """Stop after this many training iterations."""
    stop_timesteps: int | None = None
    """Stop after this many env steps sampled."""
    stop_reward: float | None = None
    """Stop once the mean per-agent episode return reaches this."""
    checkpoint_dir: Path = Path("runs/rllib")
    """Run folder: progress.csv, TensorBoard logs, config.json, checkpoint/, videos/."""
    checkpoint_every: int = 10
    """Iterations between checkpoints (one is always written at the end)."""
    resume: bool = False
    """Restore the algorithm from CHECKPOINT_DIR/checkpoint and continue."""
    capture_video: bool = False
    """Record one episode of the current policies at every checkpoint to videos/."""

    def __post_init__(self) -> None:
        for name in ("stop_iters", "checkpoint_every", "train_batch_size", "minibatch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        for name in ("num_env_runners", "num_learners"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        if self.num_envs_per_env_runner < 1:
            raise ValueError(f"--num-envs-per-env-runner must be >= 1, got {self.num_envs_per_env_runner}")
        if self.stop_timesteps is not None and self.stop_timesteps < 1:
            raise ValueError(f"--stop-timesteps must be >= 1, got {self.stop_timesteps}")
        if self.num_cpus is not None and self.num_cpus < 1:
            raise ValueError(f"--num-cpus must be >= 1, got {self.num_cpus}")
        if not self.lr > 0:
            raise ValueError(f"--lr must be > 0, got {self.lr}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"--gamma must be in [0, 1], got {self.gamma}")


def _scalars(result: dict) -> dict[str, float]:
    """swarmzoo's metric names from one RLlib result (NaN until the first episode ends)."""
    runners = result.get("env_runners", {})
    per_agent = runners.get("agent_episode_returns_mean") or {}
    nan = float("nan")
    return {
        "charts/episode_return": float(np.mean(list(per_agent.values()))) if per_agent else nan,
        "charts/episode_return_sum": float(runners.get("episode_return_mean", nan)),
        "charts/episode_length": float(runners.get("episode_len_mean", nan)),
        "charts/iteration": float(result["training_iteration"]),
        "charts/env_steps_per_second": float(
            runners.get("num_env_steps_sampled", nan) / max(result.get("time_this_iter_s", nan), 1e-9)
        ),
    }


def _record(algo, env_id: str, env_kwargs: dict, mapping_fn, path: Path, seed: int) -> Path:
    from swarmzoo.evaluation import record
    from swarmzoo.integrations.rllib import RLlibPolicy

    agents = swarmzoo.make(env_id, **env_kwargs).possible_agents
    return record(env_id, RLlibPolicy(algo, agents, mapping_fn), path, seed=seed, **env_kwargs)


def train(args: Args) -> dict:
    """Run RLlib until a stop criterion; returns a summary (also in summary.json)."""
    import ray

    from swarmzoo.algorithms.common.logging import RunLogger, atomic_write_text
    from swarmzoo.integrations.rllib import build_config, make_env, policy_mapping

    env_id = swarmzoo.spec(args.env).id
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    probe = make_env(env_id, **env_kwargs)  # bad env arguments fail here, before Ray starts
    agents = probe.possible_agents
    probe.close()
    run_dir = args.checkpoint_dir
    ckpt = run_dir / "checkpoint"
    if args.resume and not ckpt.is_dir():
        raise ValueError(f"--resume: no RLlib checkpoint at {ckpt}")
    if args.address is not None:
        ray.init(address=args.address)
    elif not ray.is_initialized():
        ray.init(num_cpus=args.num_cpus, include_dashboard=False)
    config = build_config(
        env_id,
        algo=args.algo,
        env_kwargs=env_kwargs,
        policies=args.policies,
        num_env_runners=args.num_env_runners,
        num_envs_per_env_runner=args.num_envs_per_env_runner,
        num_learners=args.num_learners,
        train_batch_size=args.train_batch_size,
        minibatch_size=args.minibatch_size,
        lr=args.lr,
        gamma=args.gamma,
        seed=args.seed,
    )
    _, mapping_fn = policy_mapping(args.policies, agents)
    algo = config.build_algo()
    resume_step = None
    if args.resume:
        algo.restore_from_path(str(ckpt.resolve()))
        # Rows logged after this checkpoint (by a run killed later) are dropped and logged again.
        resume_step = (
            json.loads((ckpt / PROGRESS).read_text())["env_steps"] if (ckpt / PROGRESS).is_file() else None
        )
    logger = RunLogger(
        run_dir, asdict(args) | {"env_kwargs": env_kwargs}, append=args.resume, resume_step=resume_step
    )
    start = time.time()
    scalars: dict[str, float] = {}
    reason = "stop_iters"
    try:
        while True:
            result = algo.train()
            iteration = int(result["training_iteration"])
            steps = int(result.get("num_env_steps_sampled_lifetime", 0))
            scalars = _scalars(result)
            logger.log(steps, time.time() - start, scalars)
            print(
                f"iter {iteration}  env steps {steps:,}  "
                f"episode return (per agent) {scalars['charts/episode_return']:.3f}",
                flush=True,
            )
            done = iteration >= args.stop_iters
            if args.stop_timesteps is not None and steps >= args.stop_timesteps:
                done, reason = True, "stop_timesteps"
            ret = scalars["charts/episode_return"]
            if args.stop_reward is not None and np.isfinite(ret) and ret >= args.stop_reward:
                done, reason = True, "stop_reward"
            if done or iteration % args.checkpoint_every == 0:
                algo.save_to_path(str(ckpt.resolve()))
                atomic_write_text(ckpt / PROGRESS, json.dumps({"iteration": iteration, "env_steps": steps}))
                if args.capture_video:
                    video = run_dir / "videos" / f"iter_{iteration}.mp4"
                    _record(algo, env_id, env_kwargs, mapping_fn, video, args.seed)
            if done:
                break
    finally:
        logger.close()
        algo.stop()
    summary = {
        "env": env_id,
        "algo": args.algo,
        "policies": args.policies,
        "iterations": iteration,
        "env_steps": steps,
        "stopped_by": reason,
        "seconds": round(time.time() - start, 2),
        "episode_return": scalars.get("charts/episode_return"),
        "checkpoint": str(ckpt),
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> None:
    try:
        args = tyro.cli(Args, args=argv, description=__doc__.split("\n\n")[0])
        summary = train(args)
    except ValueError as err:
        raise SystemExit(f"train_rllib: error: {err}") from err
    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1:])
