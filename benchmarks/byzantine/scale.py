"""The Byzantine case studies at swarm scale (issue 17): accuracy, blocking and the matching bound.

Sections (each writes a table to ``benchmarks/RESULTS.md`` and a figure beside this file):

* ``byzantine_scale``: cooperative error and blocked robots (Byzantine / cooperative) for N in
  {100, 300, 1000, 3000}, 10% Byzantine, constant density, the three case studies, every attack
  (at N = 3000: bias, collude and equivocate, 3 seeds),
  LCP / W-MSR / DBP, on the ideal message layer; and how often the matching bound failed (steps
  where the main blocklist, or any cooperative robot's own view, held more cooperative robots
  than Byzantine ones).
* ``byzantine_scale_radio``: the same over the lossy multi-hop radio network (accusations one hop
  per round, 10% link loss plus up to 20% at the longest links, one round of value delay),
  the bias lie and jamming, N <= 1000 (3 seeds at 1000); message counts
  per round.
* ``byzantine_f_sweep``: time sync on Harary graphs H(k, 30) at fixed connectivity k = F + 1 and
  k = 2F + 1, F = 1 .. 4 (bias attack): DBP vs W-MSR with the true F, an under-estimate F - 1 and
  an over-estimate F + 1, vs LCP.
* ``byzantine_tolerance``: DBP's check tolerance at N = 1000, the evidence check (default) vs the
  value check of swarmzoo < 0.4.

Intervals are 95% Student-t intervals over seeds (env copies, one episode each).

Usage::

    python benchmarks/byzantine/scale.py                             # everything (~30 min on 2 cores)
    python benchmarks/byzantine/scale.py --sections byzantine_f_sweep
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from swarmzoo.agents.byzantine import ConsensusProtocol  # noqa: E402
from swarmzoo.bench import cpu_model, mean_ci95, write_results_section  # noqa: E402

HERE = Path(__file__).resolve().parent
ENVS = ("timesync", "localization", "tracking")
PROTOCOLS = ("lcp", "wmsr", "dbp")
IDEAL_ATTACKS = (
    "bias",
    "collude",
    "drift",
    "random",
    "sleeper",
    "equivocate",
    "false_accusation",
    "accuse_all",
    "accusation_flood",
    "forge",
    "replay",
)
RADIO_ATTACKS = ("bias", "jam")
RADIO = dict(flood_hops=1, link_loss=0.1, distance_loss=0.2, delay=1)
STEPS = 40
HEAVY_ATTACKS = ("bias", "collude", "equivocate")  # the attacks run at N = 3000


def write_section(name: str, text: str, command: str) -> None:
    body = f"## {name}\n\n`{command}` ({cpu_model()})\n\n{text}"
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", name, body)


def fmt(x: np.ndarray, digits: int = 3) -> str:
    mean, half = mean_ci95(x)
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def episode(env: str, seeds: int, steps: int, **kwargs) -> dict[str, np.ndarray]:
    """One episode of ``seeds`` env copies under the consensus protocol: per-step infos
    ``(T, seeds)`` and the median step time (s)."""
    mod = importlib.import_module(f"swarmzoo.envs.byzantine_{env}")
    venv = mod.vector_env(seeds, max_cycles=steps, **kwargs)
    obs, _ = venv.reset(seed=0)
    policy, infos, times = ConsensusProtocol(), [], []
    for _ in range(steps):
        actions = policy.act(obs, venv.task)
        t0 = time.perf_counter()
        obs, _, _, _, info = venv.step(actions)
        times.append(time.perf_counter() - t0)
        infos.append(info)
    keys = ("error", "blocked_byzantine", "blocked_cooperative", "views_over_bound")
    keys += ("value_messages", "lost_messages", "accusation_messages", "equivocations_caught")
    out = {k: np.array([i[k] for i in infos]) for k in keys}
    out["step_s"] = np.array(np.median(times))
    out["degree"] = np.array(venv.task.degree.mean())
    return out


def swarm(n: int) -> dict:
    """Constant density (the arena grows with sqrt(N)); F = N / 10."""
    return dict(n_robots=n, arena_size=2.0 * np.sqrt(n / 50))


def final_error(info: dict) -> np.ndarray:
    return info["error"][-10:].mean(axis=0)


def violations(info: dict) -> tuple[int, int, int]:
    """(seed, step) pairs where the main blocklist held more cooperative than Byzantine robots;
    (seed, step) pairs where some cooperative robot's own view did; all pairs."""
    coop, byz = info["blocked_cooperative"], info["blocked_byzantine"]
    return int((coop > byz).sum()), int((info["views_over_bound"] > 0).sum()), coop.size


def scale_table(sizes: list[int], seeds: int, radio: bool, attacks: tuple[str, ...] = RADIO_ATTACKS) -> None:
    import matplotlib.pyplot as plt

    attacks = attacks if radio else IDEAL_ATTACKS
    net = RADIO if radio else {}
    head = (
        "| env | attack | N | seeds | LCP error | W-MSR error | DBP error | "
        "DBP blocked Byz / coop | bound failed (main / any view) |"
    )
    cols = "|---|---|---|---|---|---|---|---|---|"
    if radio:
        head += " per round: packets sent / receptions lost / accusation msgs | ms per round (DBP) |"
        cols += "---|---|"
    rows = [head, cols]
    curves: dict[tuple[str, str, str], list[tuple[int, float, float]]] = {}
    for env in ENVS:
        for attack in attacks:
            for n in sizes:
                # The heavy rows (N = 3000; radio DBP at N = 1000) run fewer seeds and attacks.
                k = seeds
                if n >= 3000:
                    k = 3
                    if radio or attack not in HEAVY_ATTACKS:
                        continue
                elif radio and n >= 1000:
                    k = 3
                errs, dbp = {}, None
                for proto in PROTOCOLS:
                    info = episode(env, k, STEPS, protocol=proto, attack=attack, **swarm(n), **net)
                    errs[proto] = final_error(info)
                    curves.setdefault((env, attack, proto), []).append((n, *mean_ci95(errs[proto])))
                    if proto == "dbp":
                        dbp = info
                main, anyv, total = violations(dbp)
                row = (
                    f"| {env} | {attack} | {n} | {k} | {fmt(errs['lcp'])} | {fmt(errs['wmsr'])} | "
                    f"{fmt(errs['dbp'])} | {dbp['blocked_byzantine'][-1].mean():.1f} / "
                    f"{dbp['blocked_cooperative'][-1].mean():.1f} | {main} / {anyv} of {total} |"
                )
                if radio:
                    per_round = [
                        np.diff(dbp[m], axis=0).mean()
                        for m in ("value_messages", "lost_messages", "accusation_messages")
                    ]
                    row += (
                        " "
                        + " / ".join(f"{x:.0f}" for x in per_round)
                        + f" | {1000 * float(dbp['step_s']) / k:.0f} |"
                    )
                rows.append(row)
                print(row, flush=True)
    fig_attacks = attacks if radio else ("bias", "equivocate", "collude")
    fig, axes = plt.subplots(len(fig_attacks), len(ENVS), figsize=(13, 3.2 * len(fig_attacks)), squeeze=False)
    for i, attack in enumerate(fig_attacks):
        for j, env in enumerate(ENVS):
            ax = axes[i, j]
            for proto in PROTOCOLS:
                pts = curves.get((env, attack, proto))
                if not pts:
                    continue
                ns, means, halves = (np.array(c) for c in zip(*pts))
                ax.errorbar(ns, means, yerr=halves, marker="o", capsize=3, label=proto.upper())
            ax.set_xscale("log")
            ax.set_title(f"{env}, {attack}")
            ax.set_xlabel("robots N (10% Byzantine)")
            ax.set_ylabel("cooperative error (last 10 steps)")
            ax.grid(alpha=0.3)
    axes[0, 0].legend()
    name = "byzantine_scale_radio" if radio else "byzantine_scale"
    fig.tight_layout()
    fig.savefig(HERE / f"{name}.png", dpi=110)
    plt.close(fig)
    layer = (
        "the radio network (`flood_hops=1, link_loss=0.1, distance_loss=0.2, delay=1`: accusations one hop "
        "per round, a receiver misses a packet with probability 0.1 + 0.2 (d / "
        "d_max)^2, values arrive a round "
        "late and are aged by the known dynamics)"
        if radio
        else (
            "the ideal message layer (values always arrive; accusations reach the "
            "cooperative component in the round)"
        )
    )
    text = (
        "N robots of which N/10 Byzantine, constant density (arena side 2 "
        f"sqrt(N/50)), radius graph, {STEPS} "
        f"steps, {layer}. Error: mean cooperative error over the last 10 steps, "
        "mean ± 95% interval over seeds "
        "(env copies). Blocked: DBP's main blocklist (the one most cooperative robots hold) at the end, mean "
        "over seeds. Bound failed: (seed, step) pairs where the main blocklist held more cooperative than "
        "Byzantine robots / where at least one cooperative robot's own view did, of all pairs. "
        + (
            "Per round (DBP, mean over rounds and seeds): value packets sent (one "
            "per online robot), receptions lost (per link), "
            "accusation messages (one per accusation per packet); ms per round: "
            "median DBP step per env copy. "
            if radio
            else ""
        )
        + f"Figure: `benchmarks/byzantine/{name}.png`.\n\n"
        + "\n".join(rows)
    )
    write_section(name, text, f"python benchmarks/byzantine/scale.py --sections {name}")


def f_sweep(seeds: int) -> None:
    import matplotlib.pyplot as plt

    rows = [
        "| F | k | LCP | W-MSR (F) | W-MSR (F - 1) | W-MSR (F + 1) | DBP | DBP blocked Byz / coop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    curves: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for rule in ("F+1", "2F+1"):
        for F in (1, 2, 3, 4):
            k = F + 1 if rule == "F+1" else 2 * F + 1
            base = dict(n_robots=30, n_byzantine=F, graph="harary", connectivity=k, attack="bias")
            runs = {
                "LCP": dict(protocol="lcp"),
                "W-MSR (F)": dict(protocol="wmsr", wmsr_f=F),
                "W-MSR (F - 1)": dict(protocol="wmsr", wmsr_f=F - 1),
                "W-MSR (F + 1)": dict(protocol="wmsr", wmsr_f=F + 1),
                "DBP": dict(protocol="dbp"),
            }
            errs, dbp = {}, None
            for label, kw in runs.items():
                info = episode("timesync", seeds, 100, **base, **kw)
                errs[label] = final_error(info)
                curves.setdefault((rule, label), []).append((F, *mean_ci95(errs[label])))
                if label == "DBP":
                    dbp = info
            cells = " | ".join(fmt(errs[label]) for label in runs)
            rows.append(
                f"| {F} | {k} | {cells} | {dbp['blocked_byzantine'][-1].mean():.1f} / "
                f"{dbp['blocked_cooperative'][-1].mean():.1f} |"
            )
            print(rows[-1], flush=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, rule in zip(axes, ("F+1", "2F+1"), strict=True):
        for label in ("LCP", "W-MSR (F)", "W-MSR (F - 1)", "W-MSR (F + 1)", "DBP"):
            fs, means, halves = (np.array(c) for c in zip(*curves[(rule, label)]))
            ax.errorbar(fs, means, yerr=halves, marker="o", capsize=3, label=label)
        ax.set_yscale("log")
        ax.set_title(f"Harary H(k, 30), k = {rule}")
        ax.set_xlabel("Byzantine robots F")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("cooperative clock error (last 10 steps)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "byzantine_f_sweep.png", dpi=110)
    plt.close(fig)
    text = (
        "Time sync, 30 robots on the Harary graph H(k, 30) (every robot k "
        "neighbours, vertex connectivity k), "
        "F Byzantine robots at random places under the bias attack, 100 steps, "
        f"{seeds} seeds; mean cooperative "
        "clock error over the last 10 steps, mean ± 95% interval. W-MSR trims the F' largest and smallest "
        "values (F' = F, F - 1 or F + 1); it is guaranteed for (2F'+1)-robust graphs, which needs more than "
        "2F' neighbours per robot. DBP needs only the cooperative graph connected (k >= F + 1). "
        "Figure: `benchmarks/byzantine/byzantine_f_sweep.png`.\n\n" + "\n".join(rows)
    )
    write_section(
        "byzantine_f_sweep", text, "python benchmarks/byzantine/scale.py --sections byzantine_f_sweep"
    )


def tolerance(seeds: int) -> None:
    import matplotlib.pyplot as plt

    tols = (0.15, 0.3, 0.6, 1.2)
    rows = [
        "| env | check | tolerance | DBP error | blocked Byz / coop | bound failed (main / any view) |",
        "|---|---|---|---|---|---|",
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    n = 1000
    for ax, env in zip(axes, ("timesync", "localization"), strict=True):
        for check in ("evidence", "value"):
            byz_c, coop_c = [], []
            for tol in tols:
                info = episode(
                    env,
                    seeds,
                    50,
                    protocol="dbp",
                    attack="bias",
                    check=check,
                    check_tolerance=tol,
                    **swarm(n),
                )
                main, anyv, total = violations(info)
                b, c = info["blocked_byzantine"][-1].mean(), info["blocked_cooperative"][-1].mean()
                byz_c.append(b)
                coop_c.append(c)
                rows.append(
                    f"| {env} | {check} | {tol} | {fmt(final_error(info))} | {b:.1f} / {c:.1f} | "
                    f"{main} / {anyv} of {total} |"
                )
                print(rows[-1], flush=True)
            style = "-" if check == "evidence" else "--"
            ax.plot(tols, byz_c, style + "o", label=f"{check}: Byzantine blocked")
            ax.plot(tols, coop_c, style + "s", label=f"{check}: cooperative blocked")
        ax.set_xscale("log")
        ax.set_title(f"{env}, N = {n}, 100 Byzantine (bias)")
        ax.set_xlabel("check_tolerance")
        ax.set_ylabel("robots blocked (end of episode)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "byzantine_tolerance.png", dpi=110)
    plt.close(fig)
    text = (
        f"DBP at N = {n} (100 Byzantine, bias attack, constant density), 50 "
        f"steps, {seeds} seeds. `evidence`: "
        "a checker accuses only when its measurement contradicts the sender's claim radius by more than its "
        "sensing bound plus the tolerance (the default); `value`: it accuses when the value differs from its "
        "measurement by more than the tolerance (swarmzoo < 0.4), which also accuses honest robots that "
        "liars dragged away. Error: mean ± 95% interval over seeds of the last 10 steps; blocked: mean over "
        "seeds at the end; bound failed as in `byzantine_scale`. "
        "Figure: `benchmarks/byzantine/byzantine_tolerance.png`.\n\n" + "\n".join(rows)
    )
    write_section(
        "byzantine_tolerance", text, "python benchmarks/byzantine/scale.py --sections byzantine_tolerance"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sections = ["byzantine_scale", "byzantine_scale_radio", "byzantine_f_sweep", "byzantine_tolerance"]
    parser.add_argument("--sections", nargs="+", default=sections, choices=sections)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tolerance-seeds", type=int, default=3)
    parser.add_argument("--radio-attacks", nargs="+", default=list(RADIO_ATTACKS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000])
    args = parser.parse_args()
    for section in args.sections:
        if section == "byzantine_scale":
            scale_table(args.sizes, args.seeds, radio=False)
        elif section == "byzantine_scale_radio":
            scale_table(args.sizes, args.seeds, radio=True, attacks=tuple(args.radio_attacks))
        elif section == "byzantine_f_sweep":
            f_sweep(args.seeds)
        else:
            tolerance(args.tolerance_seeds)


if __name__ == "__main__":
    main()
