"""HAMMER vs MAPPO vs IPPO on navigation-v0: 3, 6 and 12 robots, and 6 heterogeneous robots.

Per setting every learner trains with the same env steps for each seed; its final policy is
evaluated greedily (HAMMER: the central agent's mean messages and the local agents' most likely
actions). Reported per setting: the mean over seeds of the per-robot episode return with its 95%
Student-t interval, the success rate (every goal occupied at the last step), the fraction of goals
occupied at the last step, and for HAMMER two message ablations (every robot told nothing, i.e.
zero messages; or told another robot's message). The heterogeneous swarm has three slow robots
(speed cap 0.3) and three fast ones (1.5; an uncapped robot's top speed is 2.0): only MAPPO's
critic (the state ends with the caps) and HAMMER's central agent know who is which. Writes a
section of ``benchmarks/RESULTS.md`` and ``benchmarks/hammer_navigation.png`` (learning curves).

    python benchmarks/hammer_navigation.py            # ~45 min on 2 shared cores (5 seeds)
    python benchmarks/hammer_navigation.py --quick    # smoke run (writes no results)
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import tyro

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.algorithms import ctde, hammer
from swarmzoo.algorithms.common.vector import parse_env_kwargs
from swarmzoo.bench import cpu_model, mean_ci95, plot_mean_ci, write_results_section

SLOW, FAST = 0.3, 1.5
SETTINGS: dict[str, tuple[str, ...]] = {
    "N=3": ("n_agents=3",),
    "N=6": ("n_agents=6",),
    "N=12": ("n_agents=12",),
    "N=6 heterogeneous": ("n_agents=6", f"max_speed={(SLOW,) * 3 + (FAST,) * 3}"),
}
METHODS = ("hammer", "mappo", "ippo")


@dataclass
class Args:
    settings: tuple[str, ...] = tuple(SETTINGS)
    total_steps: int = 64_000
    """Env steps (summed over env copies) per run, the same for every learner (runs stop at a
    whole number of 1,600-step updates)."""
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    episodes: int = 32
    """Greedy evaluation episodes per final policy."""
    jobs: int = 2
    """Runs side by side."""
    runs: Path = Path("runs/hammer_navigation")
    out: Path | None = Path("benchmarks/RESULTS.md")
    plot: Path | None = Path("benchmarks/hammer_navigation.png")
    quick: bool = False


def greedy_eval(
    policy: Any, env_kwargs: dict[str, Any], episodes: int, seed: int, messages: str = ""
) -> dict:
    """Per-robot return, success rate and occupied-goal fraction at the last step of ``episodes``
    episodes. ``messages`` (HAMMER only): "zero" sends every robot a zero message, "shuffled"
    sends robot i the message of robot i + 1 (of the same copy)."""
    venv = swarmzoo.make_vec("navigation-v0", min(episodes, 16), **env_kwargs)
    obs, _ = venv.reset(seed=seed)
    returns, success, occupied = [], [], []
    goals = venv.task.config.goals
    while len(returns) < episodes:
        if messages:
            msg = policy.messages(venv.task)
            msg = torch.zeros_like(msg) if messages == "zero" else msg.roll(-1, dims=1)
            actions = policy.local_actions(obs, msg)
        else:
            actions = policy.act(obs, venv.task)
        obs, _, _, _, infos = venv.step(actions)
        done = infos["_episode"]
        if done.any():
            returns += infos["episode_return"][done].mean(axis=1).tolist()
            success += infos["success"][done].astype(float).tolist()
            occupied += (infos["goals_occupied"][done] / goals).tolist()
    venv.close()
    return {
        "return": float(np.mean(returns[:episodes])),
        "success": float(np.mean(success[:episodes])),
        "occupied": float(np.mean(occupied[:episodes])),
    }


def train_job(job: tuple[str, str, int, Args]) -> dict:
    setting, method, seed, args = job
    common = dict(
        env="navigation-v0",
        env_kwargs=SETTINGS[setting],
        total_steps=args.total_steps,
        seed=seed,
        out=args.runs / f"{setting.replace(' ', '_').replace('=', '')}__{method}__{seed}",
        progress=False,
        tensorboard=False,
    )
    if method == "hammer":
        result = hammer.train(hammer.Args(**common))
    else:
        result = ctde.train(ctde.Args(critic="central" if method == "mappo" else "local", **common))
    policy = make_policy(str(result.run_dir), "navigation-v0")
    kwargs = parse_env_kwargs(SETTINGS[setting])
    eval_seed = 50_000 + seed
    out = {
        "setting": setting,
        "method": method,
        "seed": seed,
        "wall_time": result.wall_time,
        "steps": result.global_step,
        "curve": result.curve,
        **greedy_eval(policy, kwargs, args.episodes, eval_seed),
    }
    if method == "hammer":
        for ablation in ("zero", "shuffled"):
            out[ablation] = greedy_eval(policy, kwargs, args.episodes, eval_seed, messages=ablation)["return"]
        out.update(message_stats(policy, kwargs, eval_seed))
    return out


def message_stats(policy: Any, env_kwargs: dict[str, Any], seed: int) -> dict[str, float]:
    """How big the learned (mean) messages are, 10 steps into 16 greedy episodes: the mean of
    ``|m|``, the spread of the messages across one swarm's robots, and the noise the central
    agent's Gaussian added in training (its standard deviation)."""
    venv = swarmzoo.make_vec("navigation-v0", 16, **env_kwargs)
    obs, _ = venv.reset(seed=seed)
    for _ in range(10):
        obs, *_ = venv.step(policy.act(obs, venv.task))
    msg = policy.messages(venv.task)
    venv.close()
    return {
        "msg_abs": float(msg.abs().mean()),
        "msg_spread": float(msg.std(dim=1).mean()),
        "msg_noise": float(policy.central.log_std.exp().mean()),
    }


def reference(setting: str, args: Args) -> dict[str, dict]:
    """The random policy's and the scripted Hungarian heuristic's greedy evaluation."""
    kwargs = parse_env_kwargs(SETTINGS[setting])
    return {
        name: greedy_eval(make_policy(name, "navigation-v0", seed=0), kwargs, args.episodes, 50_000)
        for name in ("random", "heuristic")
    }


def diff_ci95(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean difference ``mean(a) - mean(b)`` and the half-width of its 95% Welch interval."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)) if va + vb > 0 else 1.0
    return float(a.mean() - b.mean()), float(stats.t.ppf(0.975, dof) * np.sqrt(va + vb))


def verdict(name: str, other: str, d: float, half: float) -> str:
    if not np.isfinite(half):
        return f"{name} - {other} = {d:+.2f} (one seed: no interval)"
    if d - half > 0:
        word = f"{name} better"
    elif d + half < 0:
        word = f"{name} worse"
    else:
        word = "no difference resolved"
    return f"{name} - {other} = {d:+.2f} ± {half:.2f} ({word})"


def conclusion(results: list[dict], settings: tuple[str, ...]) -> str:
    """A conclusion that says only what the intervals of the differences show."""

    def returns(s: str, m: str, key: str = "return") -> list[float]:
        return [r[key] for r in results if r["setting"] == s and r["method"] == m]

    def tally(other: str, key: str = "return") -> tuple[list[str], list[str]]:
        better, worse = [], []
        for s in settings:
            other_values = returns(s, "hammer", key) if other == "hammer" else returns(s, other)
            d, half = diff_ci95(returns(s, "hammer"), other_values)
            if np.isfinite(half) and d - half > 0:
                better.append(s)
            elif np.isfinite(half) and d + half < 0:
                worse.append(s)
        return better, worse

    def phrase(name: str, better: list[str], worse: list[str]) -> str:
        if not better and not worse:
            return f"HAMMER neither beats nor trails {name} in any setting (every interval holds 0)"
        parts = []
        if better:
            parts.append(f"beats {name} at {', '.join(better)}")
        if worse:
            parts.append(f"trails {name} at {', '.join(worse)}")
        return "HAMMER " + " and ".join(parts) + " (elsewhere no difference resolved)"

    text = [phrase("IPPO", *tally("ippo")), phrase("MAPPO", *tally("mappo"))]
    zero_better, zero_worse = tally("hammer", "zero")
    if zero_better or zero_worse:
        if zero_better:
            text.append(f"its learned messages measurably help at {', '.join(zero_better)}")
        if zero_worse:
            text.append(f"its learned messages measurably hurt at {', '.join(zero_worse)}")
    else:
        text.append(
            "zeroing its messages changes its return by no resolved amount in any setting: at this "
            "budget the central agent's messages carry no measurable benefit"
        )
    return "Conclusion: " + "; ".join(text) + "."


def main(args: Args) -> None:
    if args.quick:
        args.total_steps, args.seeds, args.episodes = 3_200, (0,), 4
    started = time.perf_counter()
    # the biggest swarms first, so the two workers finish together
    order = sorted(args.settings, key=lambda s: -int(SETTINGS[s][0].split("=")[1]))
    jobs = [(s, m, seed, args) for s in order for seed in args.seeds for m in METHODS]
    with mp.get_context("fork").Pool(args.jobs, maxtasksperchild=1) as pool:
        results = pool.map(train_job, jobs, chunksize=1)
    args.runs.mkdir(parents=True, exist_ok=True)
    (args.runs / "results.json").write_text(json.dumps(results))  # per run: evaluation and curve
    refs = {s: reference(s, args) for s in args.settings}
    lines = [
        f"{results[0]['steps']:,} env steps per run, {len(args.seeds)} seeds, greedy evaluation over "
        f"{args.episodes} episodes per final policy; mean ± 95% interval over seeds (Student t).",
        "",
        "| setting | learner | return per robot | per seed | success | goals occupied at the end "
        "| train time per run |",
        "|---|---|---|---|---|---|---|",
    ]
    conclusions = []
    for s in args.settings:
        for m in METHODS:
            rs = [r for r in results if r["setting"] == s and r["method"] == m]
            mean, half = mean_ci95([r["return"] for r in rs])
            succ, succ_h = mean_ci95([r["success"] for r in rs])
            occ, occ_h = mean_ci95([r["occupied"] for r in rs])
            per_seed = ", ".join(f"{r['return']:.2f}" for r in rs)
            wall = np.mean([r["wall_time"] for r in rs])
            lines.append(
                f"| {s} | {m.upper()} | {mean:.2f} ± {half:.2f} | {per_seed} | {succ:.0%} ± {succ_h:.0%} "
                f"| {occ:.0%} ± {occ_h:.0%} | {wall:.0f} s |"
            )
        hm = [r for r in results if r["setting"] == s and r["method"] == "hammer"]
        for ablation, label in (("zero", "zero messages"), ("shuffled", "another robot's message")):
            mean, half = mean_ci95([r[ablation] for r in hm])
            per_seed = ", ".join(f"{r[ablation]:.2f}" for r in hm)
            lines.append(f"| {s} | HAMMER, {label} | {mean:.2f} ± {half:.2f} | {per_seed} | | | |")
        stats = {k: np.mean([r[k] for r in hm]) for k in ("msg_abs", "msg_spread", "msg_noise")}
        lines.append(
            f"| {s} | HAMMER messages | mean abs {stats['msg_abs']:.3f}, spread across robots "
            f"{stats['msg_spread']:.3f}, training noise std {stats['msg_noise']:.3f} | | | | |"
        )
        for name, ref in refs[s].items():
            lines.append(
                f"| {s} | {name} (reference) | {ref['return']:.2f} | | {ref['success']:.0%} "
                f"| {ref['occupied']:.0%} | |"
            )
        ret = {m: [r["return"] for r in results if r["setting"] == s and r["method"] == m] for m in METHODS}
        zero = [r["zero"] for r in hm]
        conclusions.append(
            f"* {s}: "
            + "; ".join(
                [
                    verdict("HAMMER", "IPPO", *diff_ci95(ret["hammer"], ret["ippo"])),
                    verdict("HAMMER", "MAPPO", *diff_ci95(ret["hammer"], ret["mappo"])),
                    verdict("HAMMER", "HAMMER with zero messages", *diff_ci95(ret["hammer"], zero)),
                ]
            )
        )
    body = "\n".join(lines)
    summary = conclusion(results, args.settings)
    print(body)
    print("\n".join(conclusions))
    print(summary)
    if args.quick:
        return
    if args.plot is not None:
        make_plot(args, results, args.plot)
    command = " ".join(["python", "benchmarks/hammer_navigation.py", *sys.argv[1:]])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    elapsed = time.perf_counter() - started
    section = "\n".join(
        [
            "## HAMMER vs MAPPO vs IPPO on navigation-v0 (`benchmarks/hammer_navigation.py`)",
            "",
            f"Command: `{command}`  ",
            f"Date: {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}; "
            f"run time {elapsed / 60:.1f} min  ",
            f"Machine: {cpu_model()}, {os.cpu_count()} cores; {args.jobs} runs side by side "
            f"(beside other jobs); load average at the end {load}",
            "",
            "Method: HAMMER (`swarmzoo train hammer`, default arguments: 4-number messages from a "
            "permutation-equivariant central agent, local agents with a local critic), MAPPO and "
            "IPPO (`swarmzoo train ctde`, defaults), the same env steps and seeds; navigation-v0 "
            "defaults otherwise (arena grows with N, 50-step episodes, discrete actions). "
            f"Heterogeneous: speed caps {SLOW} for robots 0-2 and {FAST} for robots 3-5. "
            "Train time is wall time with two runs side by side on a shared machine.",
            "",
            body,
            "",
            "Differences of the mean return per robot, with the 95% Welch interval of the "
            "difference (a verdict only where the interval excludes 0):",
            "",
            *conclusions,
            "",
            summary,
            "",
            f"![learning curves]({args.plot.name})" if args.plot is not None else "",
        ]
    )
    if args.out is not None:
        write_results_section(args.out, "hammer_navigation", section)
        print(f"wrote {args.out}")


def make_plot(args: Args, results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(args.settings), figsize=(4.5 * len(args.settings), 3.8), squeeze=False)
    grid = np.linspace(0, args.total_steps, 60)
    for ax, s in zip(axes[0], args.settings):
        for m in METHODS:
            curves = [r["curve"] for r in results if r["setting"] == s and r["method"] == m and r["curve"]]
            ys = np.array([np.interp(grid, *zip(*[(st, v) for st, _, v in c])) for c in curves])
            if len(ys):
                plot_mean_ci(ax, grid, ys, f"{m.upper()} ({len(ys)} seeds)")
        ax.set_title(f"navigation-v0, {s}", fontsize=9)
        ax.set_xlabel("env steps")
        ax.set_ylabel("training return per robot")
        ax.legend(fontsize=7)
    fig.suptitle("Training return (sampled actions), mean ± 95% CI over seeds", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(tyro.cli(Args))
