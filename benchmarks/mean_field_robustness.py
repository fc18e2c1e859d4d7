"""Mean-field control off the nominal conditions: kernel vs histogram representation, and how the
open-loop schedule holds up when the robots' clocks drift, the swarm starts from another
distribution, or robots fail.

Dec-POMFC (default finite-agent gradient) trains ``--seeds`` times per representation on
``flocking-v0`` with ``compass=False`` (rotation-invariant observations) at ``--train-agents``
robots, equal env steps. Every policy is then evaluated open loop (the decentralised execution:
own observation, own clock, the stored rule schedule) and closed loop (the rule recomputed each
step from the live mean field: centralised), beside the Vicsek rule and random actions, under:

* ``nominal``: the training conditions; ``10x``: ``10 x --train-agents`` robots at the same density;
* ``clock +-s``: each robot's clock is off by a fixed integer drawn uniformly from ``[-s, s]``
  for the episode (clamped at 0); policies without a clock are not affected (not run);
* ``aligned`` / ``opposed`` start (``flocking-v0``'s ``initial_headings``): the schedule was
  computed from the uniform start;
* ``failed f``: a fraction ``f`` of the robots (drawn per episode) take random actions; they still
  count in the order parameter.

Return: per-robot episode return (the global polar order summed over 100 steps); per seed the
mean of ``--episodes`` episodes; mean ± 95% interval over seeds. Writes the
``mean_field_robustness`` section of ``benchmarks/RESULTS.md`` and
``benchmarks/mean_field_robustness.png``.

    python benchmarks/mean_field_robustness.py            # ~15 min on 2 cores
    python benchmarks/mean_field_robustness.py --seeds 2 --total-steps 3200 --train-agents 20 --no-write
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tyro

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swarmzoo.bench import cpu_model, mean_ci95, write_results_section  # noqa: E402

REPRESENTATIONS = ("kernel", "histogram")


@dataclass
class Args:
    representations: tuple[str, ...] = REPRESENTATIONS
    seeds: int = 5
    train_agents: int = 50
    """Swarm size every policy trains at (and the nominal evaluation size)."""
    total_steps: int = 48_000
    """Env steps (summed over env copies) per run, the same for both representations."""
    episodes: int = 4
    """Evaluation episodes per (policy, condition) and seed."""
    skews: tuple[int, ...] = (5, 20)
    """Clock drifts to test: each robot's clock off by up to this many steps."""
    failed: tuple[float, ...] = (0.2,)
    """Fractions of robots that fail (random actions)."""
    jobs: int = 2
    runs: Path = Path("runs/mean_field_robustness")
    write: bool = True
    plot: Path = field(default_factory=lambda: ROOT / "benchmarks" / "mean_field_robustness.png")


def conditions(args: Args) -> list[tuple[str, dict]]:
    """(label, settings) of every evaluation condition."""
    out = [("nominal", {}), ("10x", {"n": 10 * args.train_agents})]
    out += [(f"clock ±{s}", {"skew": s}) for s in args.skews]
    out += [("aligned start", {"initial": "aligned"}), ("opposed start", {"initial": "opposed"})]
    out += [(f"{f:.0%} failed", {"failed": f}) for f in args.failed]
    return out


def train_job(job: tuple[str, int, Args]) -> dict:
    from swarmzoo.algorithms import mean_field

    representation, seed, args = job
    result = mean_field.train(
        mean_field.Args(
            env="flocking-v0",
            env_kwargs=(f"n_agents={args.train_agents}", "compass=False"),
            total_steps=args.total_steps,
            seed=seed,
            representation=representation,
            out=args.runs / f"{representation}__{seed}",
            progress=False,
            tensorboard=False,
        )
    )
    return {
        "representation": representation,
        "seed": seed,
        "wall": result.wall_time,
        "run_dir": str(result.run_dir),
    }


def make(kind: str, source: str, seed: int):
    from swarmzoo.agents import make_policy
    from swarmzoo.agents.mean_field import ClosedLoopPolicy

    if kind == "closed":
        return ClosedLoopPolicy(source)
    return make_policy(source, "flocking-v0", seed=seed)


def rollout(policy, settings: dict, args: Args, seed: int) -> float:
    """Mean per-robot episode return over ``args.episodes`` copies under ``settings``."""
    import swarmzoo

    n = settings.get("n", args.train_agents)
    venv = swarmzoo.make_vec(
        "flocking-v0",
        args.episodes,
        n_agents=n,
        compass=False,
        initial_headings=settings.get("initial", "uniform"),
    )
    obs, _ = venv.reset(seed=20_000 + 1_000 * seed)
    rng = np.random.default_rng(seed)
    E = args.episodes
    skew = rng.integers(-settings["skew"], settings["skew"] + 1, (E, n)) if "skew" in settings else None
    failed = rng.random((E, n)) < settings.get("failed", 0.0)
    n_actions = venv.single_action_space.n
    total = np.zeros(E)
    for _ in range(venv.task.max_cycles):
        if skew is None:
            actions = policy.act(obs, venv.task)
        else:
            actions = policy.act_at_clocks(obs, np.maximum(venv.task.steps[:, None] + skew, 0))
        actions = np.where(failed, rng.integers(0, n_actions, (E, n)), actions)
        obs, rewards, *_ = venv.step(actions)
        total += rewards.mean(axis=1)
    venv.close()
    return float(total.mean())


def eval_job(job: tuple[str, str, str, int, str, dict, Args]) -> dict:
    label, kind, source, seed, cond, settings, args = job
    return {
        "label": label,
        "seed": seed,
        "cond": cond,
        "value": rollout(make(kind, source, seed), settings, args, seed),
    }


def policies(trained: list[dict], args: Args) -> list[tuple[str, str, str, int]]:
    """(label, kind, source, seed) of every policy evaluated."""
    out = []
    for t in sorted(trained, key=lambda t: (args.representations.index(t["representation"]), t["seed"])):
        for kind in ("open", "closed"):
            label = f"mean-field {t['representation']}, {kind} loop"
            out.append((label, kind, t["run_dir"], t["seed"]))
    for name, label in (("heuristic", "Vicsek rule"), ("random", "random")):
        out += [(label, "scripted", name, s) for s in range(args.seeds)]
    return out


def main(args: Args) -> None:
    started = time.perf_counter()
    conds = conditions(args)
    with mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
        trained = []
        for t in pool.imap_unordered(
            train_job, [(r, s, args) for r in args.representations for s in range(args.seeds)]
        ):
            print(f"trained {t['representation']} seed {t['seed']}: {t['wall']:.0f} s", flush=True)
            trained.append(t)
        pols = policies(trained, args)
        jobs = [
            (label, kind, source, seed, cond, settings, args)
            for label, kind, source, seed in pols
            for cond, settings in conds
            if not ("skew" in settings and kind != "open")  # only open-loop policies read a clock
        ]
        evals = pool.map(eval_job, jobs, chunksize=4)
    labels = list(dict.fromkeys(p[0] for p in pols))
    table = {
        (label, cond): [
            e["value"]
            for e in sorted(evals, key=lambda e: e["seed"])
            if e["label"] == label and e["cond"] == cond
        ]
        for label in labels
        for cond, _ in conds
    }
    walls = {
        r: np.mean([t["wall"] for t in trained if t["representation"] == r]) for r in args.representations
    }
    rows = []
    for label in labels:
        cells = []
        for cond, _ in conds:
            x = table[(label, cond)]
            cells.append("—" if not x else "{:.1f} ± {:.1f}".format(*mean_ci95(x)))
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    print("\n".join(rows))
    if not args.write:
        return
    header = "| policy | " + " | ".join(
        f"{c} (N = {s.get('n', args.train_agents)})" if c in ("nominal", "10x") else c for c, s in conds
    )
    train_txt = ", ".join(f"{r} {w:.0f} s" for r, w in walls.items())
    body = "\n".join(
        [
            "## mean_field_robustness",
            "",
            f"`python benchmarks/mean_field_robustness.py` ({cpu_model()}, {args.jobs} runs side by side, "
            f"{(time.perf_counter() - started) / 60:.0f} min)",
            "",
            f"`flocking-v0` with `compass=False`; Dec-POMFC (default finite-agent gradient) trained at "
            f"N = {args.train_agents} with {args.total_steps:,} env steps per run, {args.seeds} seeds per "
            f"representation (train time per run: {train_txt}). Open loop: each robot applies the stored "
            "rule schedule to its own observation at its own clock (decentralised); closed loop: the rule "
            "recomputed each step from the live mean field (centralised). Clock ±s: every robot's clock "
            "off by a fixed integer uniform in [-s, s] (policies without a clock: —). Aligned / opposed "
            "start: `initial_headings`. Failed: that fraction of robots takes random actions (they count in "
            f"the order). Per-robot episode return (sum of the polar order over 100 steps), {args.episodes} "
            "episodes per seed, mean ± 95% interval over seeds. Figure: "
            "`benchmarks/mean_field_robustness.png`.",
            "",
            header + " |",
            "|---|" + "---|" * len(conds),
            *rows,
        ]
    )
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", "mean_field_robustness", body)
    plot(table, labels, conds, args)
    print(f"wrote the mean_field_robustness section and {args.plot}")


def plot(table: dict, labels: list[str], conds: list, args: Args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4))
    width = 0.8 / len(labels)
    x = np.arange(len(conds))
    for j, label in enumerate(labels):
        stats = [mean_ci95(table[(label, c)]) if table[(label, c)] else (np.nan, 0.0) for c, _ in conds]
        means, halves = zip(*stats)
        ax.bar(x + (j - (len(labels) - 1) / 2) * width, means, width, yerr=halves, capsize=2, label=label)
    ax.set_xticks(x, [c for c, _ in conds])
    ax.set_ylabel("episode return (mean ± 95% CI over seeds)")
    ax.set_title(
        f"Dec-POMFC on compass-free flocking, trained at N = {args.train_agents}: off-nominal evaluation"
    )
    ax.legend(fontsize=7, ncol=3)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(tyro.cli(Args))
