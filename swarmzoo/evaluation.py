"""Evaluate a policy on the vector face, and record a rollout to GIF/MP4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import swarmzoo
from swarmzoo.agents.policies import Policy
from swarmzoo.agents.rollout import record, record_run_video

__all__ = [
    "SafetyTally",
    "coverage_comparison",
    "coverage_w2_curve",
    "evaluate",
    "record",
    "record_run_video",
    "safety_summary",
]


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
        ``(episodes, K)``. An env whose robots have bodies (its infos report ``collisions``,
        e.g. navigation-v0, or coverage-v0 with a ``safety_radius``) adds the safety metrics of
        :func:`safety_summary`.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    num_envs = min(episodes, 16) if num_envs is None else num_envs
    venv = swarmzoo.make_vec(env_id, num_envs, **env_kwargs)
    obs, _ = venv.reset(seed=seed)
    returns: list[float] = []
    successes: list[float] = []
    safety = SafetyTally(venv)
    while len(returns) < episodes:
        obs, _, _, _, infos = venv.step(policy.act(obs, venv.task))
        safety.step(infos)
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
    out.update(safety.summary(episodes))
    return out


class SafetyTally:
    """Per-episode safety records of a vector env, fed each step's infos (see
    :func:`safety_summary`). Active only for envs whose infos report per-robot ``collisions``
    and whose task has positions; the minimum
    separation comes from the infos' ``min_separation`` (a ``safety_radius``) or, without one,
    from the task's positions."""

    def __init__(self, venv: Any) -> None:
        self.venv = venv
        E = venv.num_envs
        self.active: bool | None = None
        self.collisions = np.zeros(E)
        self.near_misses = np.zeros(E)
        self.min_sep = np.full(E, np.inf)
        self.first_success = np.full(E, -1)
        self.has_success = False
        self.records: list[dict[str, float]] = []

    def step(self, infos: dict[str, Any]) -> None:
        if self.active is None:  # robots with bodies: per-robot contacts and positions (aloha's
            # "collisions" are per-copy channel collisions, not bodies)
            self.active = (
                "collisions" in infos and np.ndim(infos["collisions"]) == 2 and hasattr(self.venv.task, "pos")
            )
        if not self.active:
            return
        from swarmzoo.envs.core.safety import nearest_robot_distance

        task = self.venv.task
        self.collisions += np.asarray(infos["collisions"]).sum(axis=1)
        if "near_misses" in infos:
            self.near_misses += np.asarray(infos["near_misses"]).sum(axis=1)
        if "min_separation" in infos:
            sep = np.asarray(infos["min_separation"])
        else:  # the state before an auto-reset: final positions are not kept, so the copies
            # that just finished contribute the separation they had one step earlier
            sep = nearest_robot_distance(task.pos, task.arena).min(axis=1)
            sep = np.where(infos["_episode"], np.inf, sep)
        self.min_sep = np.minimum(self.min_sep, sep)
        self.has_success = "success" in infos
        if self.has_success:
            steps = np.where(infos["_episode"], infos.get("episode_length", task.steps), task.steps)
            newly = np.asarray(infos["success"], dtype=bool) & (self.first_success < 0)
            self.first_success = np.where(newly, steps, self.first_success)
        for e in np.flatnonzero(infos["_episode"]):
            self.records.append(
                {
                    "length": float(infos["episode_length"][e]),
                    "collisions": float(self.collisions[e]),
                    "near_misses": float(self.near_misses[e]),
                    "min_separation": float(self.min_sep[e]),
                    "first_success": float(self.first_success[e]) if self.has_success else np.nan,
                    "cost": float(infos["episode_cost"][e].mean()) if "episode_cost" in infos else np.nan,
                }
            )
            self.collisions[e] = self.near_misses[e] = 0.0
            self.min_sep[e] = np.inf
            self.first_success[e] = -1

    def summary(self, episodes: int) -> dict[str, float]:
        if not self.active:
            return {}
        return safety_summary(
            self.records[:episodes],
            n_agents=self.venv.task.n_agents,
            dt=getattr(self.venv.task.config, "dt", None),
        )


def safety_summary(records: list[dict[str, float]], n_agents: int, dt: float | None) -> dict[str, float]:
    """Safety metrics over episodes:

    * ``collisions_per_robot_hour``: robot-steps in contact (a robot touching two others counts
      twice) per hour of robot time (``n_agents x steps x dt``); without ``dt``,
      ``collisions_per_robot_step``;
    * ``near_misses_per_robot_hour`` (with a ``safety_radius``): robot-steps with another robot
      or an obstacle inside the personal space but not touching;
    * ``min_separation``: the closest two robots came in an episode (centre to centre), averaged
      over episodes, and ``min_separation_worst``, the smallest over all of them;
    * ``mean_episode_cost`` (with a ``safety_radius``): the per-robot episode cost;
    * ``time_to_goal`` (envs with ``success``): seconds (steps x dt) until the first step with
      every goal occupied, over the episodes that got there (NaN if none did), and
      ``time_to_goal_steps``.
    """
    steps = np.array([r["length"] for r in records])
    robot_time = n_agents * steps.sum() * (dt if dt is not None else 1.0)
    per = "hour" if dt is not None else "step"
    scale = 3600.0 if dt is not None else 1.0
    out: dict[str, float] = {
        f"collisions_per_robot_{per}": float(sum(r["collisions"] for r in records) / robot_time * scale),
    }
    if any(not np.isnan(r["cost"]) for r in records):
        out[f"near_misses_per_robot_{per}"] = float(
            sum(r["near_misses"] for r in records) / robot_time * scale
        )
        out["mean_episode_cost"] = float(np.mean([r["cost"] for r in records]))
    seps = np.array([r["min_separation"] for r in records])
    if np.isfinite(seps).any():
        out["min_separation"] = float(seps[np.isfinite(seps)].mean())
        out["min_separation_worst"] = float(seps.min())
    reached = np.array([r["first_success"] for r in records])
    if np.isnan(reached).all():  # no success signal
        return out
    reached = reached[reached >= 0]
    out["time_to_goal_steps"] = float(reached.mean()) if reached.size else float("nan")
    if dt is not None:
        out["time_to_goal"] = out["time_to_goal_steps"] * dt
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
