"""Train a shared policy for every robot with Stable-Baselines3 PPO on a swarmzoo env.

Every robot of every env copy is one slot of SB3's ``VecEnv`` (:class:`SB3VecEnv`), so one
``MlpPolicy`` is shared by all robots. SB3's own machinery does the rest: the progress bar,
``EvalCallback`` (best model by mean return on separate evaluation envs), ``CheckpointCallback``
and ``evaluate_policy`` at the end; ``--capture-video`` records an episode of the current policy
to ``OUT/videos/step_<N>.mp4`` at every evaluation.

    python scripts/train_sb3.py --env navigation-v0 --total-timesteps 200000 --num-envs 8 \\
        --out runs/sb3-nav --env-kwargs n_agents=3 --capture-video

The run folder holds ``model.zip`` (SB3's format), ``policy_state.pt`` (the policy's weights
alone, loadable with ``torch.load(..., weights_only=True)``), ``best_model.zip``, ``evaluations.npz``,
``checkpoints/``, ``results.json`` and TensorBoard logs. Note that ``PPO.load`` of a ``.zip`` may
unpickle objects stored in it: load only files you made yourself, or rebuild the model and load
``policy_state.pt``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import tyro

import swarmzoo
from swarmzoo.algorithms.common.vector import parse_env_kwargs


@dataclass
class Args:
    env: str = "navigation-v0"
    """swarmzoo env id (see `swarmzoo list`)."""
    env_kwargs: list[str] = field(default_factory=list)
    """Env arguments as KEY=VALUE, e.g. n_agents=5 max_cycles=50."""
    total_timesteps: int = 200_000
    """SB3 timesteps to train for; one timestep is one robot's step (num_envs x n_agents per env step)."""
    num_envs: int = 8
    """Env copies for training (SB3 slots = num_envs x n_agents)."""
    seed: int = 0
    """Seed of the model and the envs."""
    out: Path = Path("runs/sb3")
    """Run folder."""
    n_steps: int = 128
    """Rollout length per slot per update."""
    batch_size: int = 1024
    """Minibatch size."""
    n_epochs: int = 10
    """Epochs per update."""
    learning_rate: float = 3e-4
    """Adam learning rate."""
    gamma: float = 0.99
    """Discount."""
    eval_every: int = 50_000
    """Timesteps between evaluations (EvalCallback) and checkpoints."""
    eval_episodes: int = 10
    """Episodes per evaluation and in the final evaluate_policy."""
    capture_video: bool = False
    """Record an episode of the current policy at every evaluation to OUT/videos."""
    progress_bar: bool = True
    """SB3's progress bar (tqdm + rich)."""

    def __post_init__(self) -> None:
        for name in ("total_timesteps", "num_envs", "n_steps", "batch_size", "n_epochs", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.eval_episodes < 1:
            raise ValueError(f"--eval-episodes must be >= 1, got {self.eval_episodes}")
        if not self.learning_rate > 0:
            raise ValueError(f"--learning-rate must be > 0, got {self.learning_rate}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"--gamma must be in [0, 1], got {self.gamma}")


def train(args: Args) -> dict:
    """Train, evaluate and save; returns the final evaluation (also written to results.json)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import CheckpointCallback, EvalCallback
    from stable_baselines3.common.evaluation import evaluate_policy

    from swarmzoo.integrations.sb3 import SB3VecEnv, VideoCallback

    env_id = swarmzoo.spec(args.env).id
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "config.json").write_text(json.dumps(asdict(args) | {"out": str(args.out)}, indent=2))

    venv = SB3VecEnv(env_id, num_envs=args.num_envs, **env_kwargs)
    venv.seed(args.seed)
    eval_env = SB3VecEnv(env_id, num_envs=1, **env_kwargs)
    eval_env.seed(args.seed + 10_000)
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        learning_rate=args.learning_rate,
        gamma=args.gamma,
        seed=args.seed,
        device="cpu",
        tensorboard_log=str(args.out / "tb"),
    )
    # SB3's callbacks count calls (one per vector step = venv.num_envs timesteps).
    every_call = max(1, args.eval_every // venv.num_envs)
    callbacks = [
        EvalCallback(
            eval_env,
            n_eval_episodes=args.eval_episodes,
            eval_freq=every_call,
            best_model_save_path=str(args.out),
            log_path=str(args.out),
            deterministic=True,
        ),
        CheckpointCallback(every_call, str(args.out / "checkpoints"), name_prefix="ppo"),
    ]
    if args.capture_video:
        callbacks.append(
            VideoCallback(env_id, args.out / "videos", every=args.eval_every, seed=args.seed, **env_kwargs)
        )
    start = time.time()
    model.learn(args.total_timesteps, callback=callbacks, progress_bar=args.progress_bar)
    model.save(args.out / "model.zip")
    torch.save(model.policy.state_dict(), args.out / "policy_state.pt")
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
    result = {
        "env": env_id,
        "env_kwargs": env_kwargs,
        "timesteps": int(model.num_timesteps),
        "train_seconds": round(time.time() - start, 2),
        "eval_episodes": args.eval_episodes,
        # evaluate_policy averages over slots: a robot's episode return, like `swarmzoo evaluate`.
        "mean_return": float(mean),
        "std_return": float(std),
    }
    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    venv.close()
    eval_env.close()
    return result


def main(argv: list[str] | None = None) -> None:
    try:
        args = tyro.cli(Args, args=argv, description=__doc__.split("\n\n")[0])
        result = train(args)
    except ValueError as err:
        raise SystemExit(f"train_sb3: error: {err}") from err
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
