"""Evaluate a policy on the vector face, and record a rollout to GIF/MP4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import swarmzoo
from swarmzoo.agents.policies import Policy
from swarmzoo.agents.rollout import record, record_run_video

__all__ = ["coverage_comparison", "coverage_w2_curve", "evaluate", "record", "record_run_video"]


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
        ``returns`` (per episode) and, when the env reports it, ``success_rate``. An env made
        with ``objectives`` gives, instead of ``mean_return`` / ``std_return``, ``objectives``,
        ``mean_returns`` and ``std_returns`` (one per objective), and ``returns`` of shape
        ``(episodes, K)``.
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
    out: dict[str, Any] = {"env_id": env_id, "episodes": episodes}
    if venv.objectives:
        table = np.asarray(returns)  # (episodes, K)
        out["objectives"] = list(venv.objectives)
        out["mean_returns"] = table.mean(axis=0).tolist()
        out["std_returns"] = table.std(axis=0).tolist()
    else:
        out["mean_return"] = float(np.mean(returns))
        out["std_return"] = float(np.std(returns))
    out["returns"] = returns
    if successes:
        out["success_rate"] = float(np.mean(successes[:episodes]))
    return out


def coverage_w2_curve(
    policy_name: str, map_name: str, seeds: int = 3, every: int = 10, **env_kwargs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """W2 of ``coverage-v0`` over one episode of a named policy on a map, for ``seeds`` episodes at
    once (vector env copies seeded ``0 .. seeds - 1``): ``steps (K,)`` and ``w2 (K, seeds)``."""
    from swarmzoo.agents import make_policy

    venv = swarmzoo.make_vec("coverage-v0", seeds, map=map_name, w2_every=every, **env_kwargs)
    policy = make_policy(policy_name, "coverage-v0", seed=0)
    obs, _ = venv.reset(seed=0)
    steps, values = [0], [np.full(seeds, np.nan)]
    values[0] = venv.task.coverage_w2()  # the start: where the robots were dropped
    for t in range(1, venv.max_cycles + 1):
        obs, _, _, _, infos = venv.step(policy.act(obs, venv.task))
        if "w2" in infos:
            steps.append(t)
            values.append(infos["w2"])
    return np.array(steps), np.array(values)


def coverage_comparison(
    out: str | Path,
    policies: list[str],
    maps: list[str],
    seeds: int = 3,
    every: int = 10,
    **env_kwargs: Any,
) -> Path:
    """A PNG with one panel per map: mean W2 over time (band: min to max over seeds) of each
    policy on ``coverage-v0``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    fig, axes = plt.subplots(1, len(maps), figsize=(4.2 * len(maps), 3.6), squeeze=False)
    for ax, map_name in zip(axes[0], maps):
        for name in policies:
            steps, w2 = coverage_w2_curve(name, map_name, seeds, every, **env_kwargs)
            line = ax.plot(steps, w2.mean(axis=1), label=name)[0]
            ax.fill_between(steps, w2.min(axis=1), w2.max(axis=1), color=line.get_color(), alpha=0.2)
        ax.set_title(map_name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("W2 to the reference density (lower is better)")
    axes[0, -1].legend()
    fig.suptitle(f"coverage-v0: W2 over time ({seeds} seeds)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
