"""Evaluate a policy on the vector face, and record a rollout to GIF/MP4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import swarmzoo
from swarmzoo.agents.policies import Policy


def evaluate(
    env_id: str,
    policy: Policy,
    episodes: int = 10,
    seed: int = 0,
    num_envs: int | None = None,
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Run ``episodes`` full episodes and summarise them.

    Returns:
        ``mean_return`` (each robot's episode return averaged over robots, then over episodes,
        so it is comparable across swarm sizes), ``std_return`` (over episodes), ``episodes``,
        ``returns`` (per episode) and, when the env reports it, ``success_rate``.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    num_envs = min(episodes, 16) if num_envs is None else num_envs
    venv = swarmzoo.make_vec(env_id, num_envs, **env_kwargs)
    obs, _ = venv.reset(seed=seed)
    returns: list[float] = []
    successes: list[float] = []
    while len(returns) < episodes:
        obs, _, _, _, infos = venv.step(policy.act(obs, venv.task))
        done = infos["_episode"]
        if done.any():
            returns.extend(infos["episode_return"][done].mean(axis=1).tolist())
            if "success" in infos:
                successes.extend(np.asarray(infos["success"])[done].astype(float).tolist())
    venv.close()
    returns = returns[:episodes]
    out: dict[str, Any] = {
        "env_id": env_id,
        "episodes": episodes,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "returns": returns,
    }
    if successes:
        out["success_rate"] = float(np.mean(successes[:episodes]))
    return out


def record(
    env_id: str,
    policy: Policy,
    out: str | Path,
    episodes: int = 1,
    seed: int = 0,
    fps: int | None = None,
    **env_kwargs: Any,
) -> Path:
    """Render ``episodes`` episodes of ``policy`` through the PettingZoo face to ``out``.

    The format follows the suffix: ``.gif`` (Pillow) or ``.mp4`` (ffmpeg, via imageio-ffmpeg).
    """
    import imageio.v3 as iio

    out = Path(out)
    if out.suffix.lower() not in (".gif", ".mp4"):
        raise ValueError(f"output must end in .gif or .mp4, got {out.name!r}")
    env = swarmzoo.make(env_id, render_mode="rgb_array", **env_kwargs)
    task = env.unwrapped.task
    frames = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        frames.append(env.render())
        while env.agents:
            batch = np.stack([obs[a] for a in env.possible_agents])[None]
            actions = policy.act(batch, task)[0]
            obs, *_ = env.step(dict(zip(env.agents, actions)))
            frames.append(env.render())
    env.close()
    fps = fps or env.metadata.get("render_fps", 10)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        iio.imwrite(out, np.stack(frames), extension=".gif", duration=1000 / fps, loop=0)
    else:
        iio.imwrite(out, np.stack(frames), extension=".mp4", fps=fps, codec="libx264", macro_block_size=1)
    return out
