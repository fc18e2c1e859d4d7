"""Record a policy's rollouts to GIF/MP4 through the PettingZoo face: :func:`record`, and
:func:`record_run_video`, the trainers' ``--capture-video`` hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from swarmzoo.agents import make_policy
from swarmzoo.agents.files import safe_load
from swarmzoo.agents.policies import Policy
from swarmzoo.envs.registry import spec
from swarmzoo.envs.wrappers import RecordVideo


def record(
    env_id: str,
    policy: Policy,
    out: str | Path,
    episodes: int = 1,
    seed: int = 0,
    fps: int | None = None,
    **env_kwargs: Any,
) -> Path:
    """Render ``episodes`` episodes of ``policy`` back to back through the PettingZoo face
    (wrapped in :class:`~swarmzoo.envs.wrappers.RecordVideo`) to ``out``.

    The format follows the suffix: ``.gif`` (Pillow) or ``.mp4`` (ffmpeg, via imageio-ffmpeg).
    """
    out = Path(out)
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in ("gif", "mp4"):
        raise ValueError(f"output must end in .gif or .mp4, got {out.name!r}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env = spec(env_id).load().parallel_env(render_mode="rgb_array", **env_kwargs)
    task = env.unwrapped.task
    env = RecordVideo(
        env,
        out.parent,
        episode_trigger=lambda episode: episode == 0,
        episodes_per_video=episodes,
        name_prefix=f".{out.stem}.partial",
        fps=fps,
        format=suffix,
    )
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        while env.agents:
            # The task's full batch: robots that are done (say, an empty battery) keep their row.
            actions = policy.act(task.observe(), task)[0]
            live = set(env.agents)
            env.step({a: act for a, act in zip(env.possible_agents, actions) if a in live})
    env.close()
    return env.recorded_paths[0].replace(out)


def record_run_video(run_dir: str | Path, step: int, seed: int = 0) -> Path:
    """Record one episode of a run's current ``policy.pt`` (its own env and arguments) to
    ``run_dir/videos/step_<step>.mp4``: the trainers' ``--capture-video``.

    The trainer's torch random stream is forked, so recording does not change the run.
    """
    run_dir = Path(run_dir)
    meta = safe_load(run_dir / "policy.pt")
    env_id, env_kwargs = meta["env_id"], dict(meta.get("env_kwargs", {}))
    with torch.random.fork_rng():
        policy = make_policy(str(run_dir / "policy.pt"), env_id, seed=seed)
        return record(env_id, policy, run_dir / "videos" / f"step_{step}.mp4", seed=seed, **env_kwargs)
