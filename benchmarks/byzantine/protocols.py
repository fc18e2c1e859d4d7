"""Reproduce the DBP paper's claims on swarmzoo's Byzantine case studies.

Sections (each writes a table to ``benchmarks/RESULTS.md`` and a figure beside this file):

* ``byzantine_attacks``: mean cooperative error over an episode for LCP, W-MSR and DBP under each
  attack, on the three case studies (defaults: 50 robots, 5 Byzantine, radius graph), and the
  error over time under the bias attack (figure).
* ``byzantine_connectivity``: time synchronisation on Harary graphs H(k, 30) with F = 2 Byzantine
  robots (bias attack), k = 2 .. 6: DBP needs the cooperative graph connected (k >= F + 1 = 3);
  W-MSR with F = 2 needs each robot to keep F + 1 values on a side (k >= 2F + 2 = 6 here).
* ``byzantine_one_observer``: one reference robot, no other time fixes, Byzantine robots silent:
  does the reference's time spread (W-MSR with F = 2 vs DBP / LCP) on H(k, 30)?
* ``byzantine_round_time``: wall time of one protocol round (broadcast with HMAC tags, checks,
  accusation flooding, matching, filtering and the consensus step) against N, time-sync with
  10% Byzantine robots under the bias attack, after the blocklist has formed.
* ``byzantine_hardening``: attacks on the protocol itself (forged and replayed messages,
  accusation floods, accusing every cooperative neighbour) and the lies they go with, on the
  three case studies: cooperative and Byzantine robots blocked, steps where the matching bound
  failed, final error under LCP / W-MSR / DBP, messages the protocol dropped; forge and replay
  also without tags, to show what the tags stop.

Usage::

    python benchmarks/byzantine/protocols.py                  # everything (~8 min on 2 cores)
    python benchmarks/byzantine/protocols.py --sections byzantine_round_time
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
from swarmzoo.bench import cpu_model, write_results_section  # noqa: E402

HERE = Path(__file__).resolve().parent
ENVS = ("tracking", "timesync", "localization")
ATTACKS = ("none", "bias", "collude", "drift", "random", "sleeper", "false_accusation", "forge")
PROTOCOLS = ("lcp", "wmsr", "dbp")


def write_section(name: str, text: str, command: str) -> None:
    body = f"## {name}\n\n`{command}` ({cpu_model()})\n\n{text}"
    write_results_section(ROOT / "benchmarks" / "RESULTS.md", name, body)


def rollout(env: str, seeds: int, **kwargs) -> tuple[np.ndarray, dict]:
    """Errors ``(T, seeds)`` of the consensus protocol and the last infos."""
    mod = importlib.import_module(f"swarmzoo.envs.byzantine_{env}")
    venv = mod.vector_env(seeds, **kwargs)
    obs, _ = venv.reset(seed=0)
    policy, errors = ConsensusProtocol(), []
    for _ in range(venv.max_cycles):
        obs, _, _, _, info = venv.step(policy.act(obs, venv.task))
        errors.append(info["error"])
    return np.array(errors), info


def attacks(seeds: int) -> None:
    import matplotlib.pyplot as plt

    rows = [
        "| env | attack | LCP | W-MSR | DBP | DBP blocked Byzantine / cooperative | DBP false accusations |",
        "|---|---|---|---|---|---|---|",
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, env in zip(axes, ENVS):
        steps = 200 if env == "tracking" else 100
        for attack in ATTACKS:
            means, last = {}, None
            for proto in PROTOCOLS:
                err, info = rollout(env, seeds, protocol=proto, attack=attack, max_cycles=steps)
                means[proto] = err.mean()
                if proto == "dbp":
                    last = info
                if attack == "bias":
                    ax.plot(err.mean(axis=1), label=proto.upper().replace("WMSR", "W-MSR"))
            rows.append(
                f"| {env} | {attack} | {means['lcp']:.3f} | {means['wmsr']:.3f} | {means['dbp']:.3f} | "
                f"{last['blocked_byzantine'].mean():.1f} / {last['blocked_cooperative'].mean():.1f} | "
                f"{last['false_accusations'].mean():.1f} |"
            )
            print(rows[-1], flush=True)
        ax.set_title(f"{env}: bias attack")
        ax.set_xlabel("step")
        ax.set_yscale("log")
    axes[0].set_ylabel("mean cooperative error")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(HERE / "attacks.png", dpi=110)
    text = (
        f"Mean cooperative error over the episode (tracking 200 steps, others 100), {seeds} seeds, "
        "50 robots, 5 Byzantine, radius graph, defaults otherwise; blocklist at the end. "
        "Figure: benchmarks/byzantine/attacks.png.\n\n" + "\n".join(rows)
    )
    write_section(
        "byzantine_attacks", text, "python benchmarks/byzantine/protocols.py --sections byzantine_attacks"
    )


def connectivity(seeds: int) -> None:
    rows = [
        "| fix rate | k | LCP | W-MSR (F = 2) | DBP | DBP blocked Byz / coop | DBP false accusations |",
        "|---|---|---|---|---|---|---|",
    ]
    for fix_rate, k in [(f, k) for f in (0.05, 0.1) for k in range(2, 7)]:
        kw = dict(
            n_robots=30,
            graph="harary",
            connectivity=k,
            n_byzantine=2,
            attack="bias",
            max_cycles=150,
            fix_rate=fix_rate,
        )
        res = {}
        for proto in PROTOCOLS:
            err, info = rollout("timesync", seeds, protocol=proto, **kw)
            res[proto] = (err[-30:].mean(), info)
        info = res["dbp"][1]
        rows.append(
            f"| {fix_rate} | {k} | {res['lcp'][0]:.3f} | {res['wmsr'][0]:.3f} | {res['dbp'][0]:.3f} | "
            f"{info['blocked_byzantine'].mean():.1f} / {info['blocked_cooperative'].mean():.1f} | "
            f"{info['false_accusations'].mean():.1f} |"
        )
        print(rows[-1], flush=True)
    text = (
        f"Time sync on Harary graphs H(k, 30) (k-connected), F = 2 Byzantine robots with a bias of 1, "
        "every robot gets a time fix with the given probability per step (default 0.05), "
        f"mean cooperative clock error over the last 30 of 150 steps, {seeds} seeds.\n\n" + "\n".join(rows)
    )
    write_section(
        "byzantine_connectivity",
        text,
        "python benchmarks/byzantine/protocols.py --sections byzantine_connectivity",
    )


def one_observer(seeds: int) -> None:
    rows = ["| k | LCP | W-MSR (F = 2) | DBP |", "|---|---|---|---|"]
    for k in (4, 6):
        kw = dict(
            n_robots=30,
            graph="harary",
            connectivity=k,
            n_byzantine=2,
            attack="none",
            n_references=1,
            fix_rate=0.0,
            max_cycles=200,
        )
        res = {p: rollout("timesync", seeds, protocol=p, **kw)[0][-30:].mean() for p in PROTOCOLS}
        rows.append(f"| {k} | {res['lcp']:.3f} | {res['wmsr']:.3f} | {res['dbp']:.3f} |")
        print(rows[-1], flush=True)
    text = (
        "One reference robot knows the time, nobody else gets a fix, 2 Byzantine robots stay silent; "
        f"mean cooperative clock error over the last 30 of 200 steps on H(k, 30), {seeds} seeds.\n\n"
        + "\n".join(rows)
    )
    write_section(
        "byzantine_one_observer",
        text,
        "python benchmarks/byzantine/protocols.py --sections byzantine_one_observer",
    )


def round_time(sizes: list[int]) -> None:
    from swarmzoo.envs import byzantine_timesync

    radio = dict(flood_hops=1, link_loss=0.1, distance_loss=0.2, delay=1)
    runs = {"dbp": dict(protocol="dbp"), "lcp": dict(protocol="lcp"), "radio": dict(protocol="dbp", **radio)}
    rows = [
        "| N | mean degree | ms per round: DBP | LCP | DBP, radio | DBP "
        "blocked Byz / coop | radio: blocked Byz / coop "
        "| radio msgs per round: packets / lost / accusations |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        out = {}
        for name, kw in runs.items():
            # Constant density: the arena grows with sqrt(N).
            side = 2.0 * np.sqrt(n / 50)
            venv = byzantine_timesync.vector_env(
                1, n_robots=n, attack="bias", arena_size=side, max_cycles=10_000, **kw
            )
            obs, _ = venv.reset(seed=0)
            policy = ConsensusProtocol()
            for _ in range(20):  # the blocklist forms
                obs, *_, before = venv.step(policy.act(obs, venv.task))
            times = []
            for _ in range(10):
                actions = policy.act(obs, venv.task)
                t0 = time.perf_counter()
                obs, *_, info = venv.step(actions)
                times.append(time.perf_counter() - t0)
            msgs = [
                (info[k][0] - before[k][0]) / 10
                for k in ("value_messages", "lost_messages", "accusation_messages")
            ]
            out[name] = (1000 * np.median(times), info, venv.task.degree.mean(), msgs)
        dbp, rad = out["dbp"][1], out["radio"][1]
        rows.append(
            f"| {n} | {out['dbp'][2]:.1f} | {out['dbp'][0]:.1f} | "
            f"{out['lcp'][0]:.1f} | {out['radio'][0]:.1f} | "
            f"{dbp['blocked_byzantine'][0]} / {dbp['blocked_cooperative'][0]} | "
            f"{rad['blocked_byzantine'][0]} / {rad['blocked_cooperative'][0]} | "
            + " / ".join(f"{m:.0f}" for m in out["radio"][3])
            + " |"
        )
        print(rows[-1], flush=True)
    text = (
        "Median wall time of one env step = one protocol round (HMAC-tagged broadcasts, local checks, "
        "signed accusations, maximum matching, filtering, consensus step) for time sync with 10% Byzantine "
        "robots (bias), constant density, over 10 steps after 20 warm-up steps. DBP: the ideal message layer "
        "(accusations reach the cooperative component in the round); DBP, radio: the radio network "
        "(`flood_hops=1, link_loss=0.1, distance_loss=0.2, delay=1`; every robot matches the accusations it "
        "holds, the distinct sets of a round in one scipy Hopcroft-Karp call). Messages per round: value "
        "packets sent, receptions lost, accusation messages (one per accusation per packet; anti-entropy "
        "re-sends everything a robot knows, so this grows with the accusations made).\n\n" + "\n".join(rows)
    )
    write_section(
        "byzantine_round_time",
        text,
        "python benchmarks/byzantine/protocols.py --sections byzantine_round_time",
    )


HARDENING_ATTACKS = (
    "none",
    "forge",
    "replay",
    "accusation_flood",
    "accuse_all",
    "false_accusation",
    "bias",
    "collude",
    "sleeper",
)


def rollout_infos(env: str, seeds: int, **kwargs) -> dict[str, np.ndarray]:
    """Per-step infos ``(T, seeds)`` of the consensus protocol over one episode."""
    mod = importlib.import_module(f"swarmzoo.envs.byzantine_{env}")
    venv = mod.vector_env(seeds, **kwargs)
    obs, _ = venv.reset(seed=0)
    policy, infos = ConsensusProtocol(), []
    for _ in range(venv.max_cycles):
        obs, _, _, _, info = venv.step(policy.act(obs, venv.task))
        infos.append(info)
    keys = ("error", "blocked_byzantine", "blocked_cooperative", "false_accusations")
    keys += ("forgeries_dropped", "replays_dropped", "accusations_refused")
    return {k: np.array([i[k] for i in infos]) for k in keys}


def hardening(seeds: int) -> None:
    rows = [
        "| env | attack | robots | Byzantine | coop blocked mean / max | Byz blocked | steps coop > Byz "
        "| false acc. | final error LCP | W-MSR | DBP | dropped: forged / replayed / refused acc. |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    cases = [(a, True) for a in HARDENING_ATTACKS] + [("forge", False), ("replay", False)]
    for env in ENVS:
        steps = 200 if env == "tracking" else 100
        for attack, tags in cases:
            final, dbp = {}, None
            for proto in PROTOCOLS:
                info = rollout_infos(
                    env, seeds, protocol=proto, attack=attack, authenticate=tags, max_cycles=steps
                )
                final[proto] = info["error"][-10:].mean()
                if proto == "dbp":
                    dbp = info
            coop, byz = dbp["blocked_cooperative"], dbp["blocked_byzantine"]
            name = attack if tags else f"{attack} (no tags)"
            dropped = " / ".join(
                f"{dbp[k][-1].mean():.0f}"
                for k in ("forgeries_dropped", "replays_dropped", "accusations_refused")
            )
            rows.append(
                f"| {env} | {name} | 50 | 5 | {coop[-1].mean():.1f} / {coop.max()} | {byz[-1].mean():.1f} | "
                f"{int((coop > byz).sum())} / {coop.size} | {dbp['false_accusations'][-1].mean():.1f} | "
                f"{final['lcp']:.3f} | {final['wmsr']:.3f} | {final['dbp']:.3f} | {dropped} |"
            )
            print(rows[-1], flush=True)
    text = (
        f"Attacks on DBP itself, {seeds} seeds (env copies) per row, 50 robots of which 5 Byzantine, "
        "radius graph, case-study defaults (tracking 200 steps, others 100). `forge`: values and "
        "accusations in cooperative neighbours' names with the forger's own tags; `replay`: the bias lie "
        "plus every cooperative neighbour's genuinely signed value from 10 rounds before and genuinely "
        "signed accusations from another episode; `accusation_flood`: honest values, every cooperative "
        "robot of the swarm accused twice a round, neighbour or not; `accuse_all`: the bias lie plus "
        "accusations of every cooperative neighbour every round; `false_accusation`: honest values, "
        "every cooperative neighbour accused. Blocked robots at the episode's end (coop: mean over "
        "seeds / max over seeds and steps); steps coop > Byz: (seed, step) pairs where the DBP blocklist "
        "held more cooperative than Byzantine robots, which only false accusations (accusations "
        "between cooperative robots; the evidence check makes none unless tags are off and "
        "forged or replayed messages are taken at face value; at the end, mean) allow; "
        "final error: mean cooperative error over the last 10 steps; dropped: "
        "per episode under DBP, messages whose tags failed (forged, replayed: another round or "
        "episode) and accusations refused because accuser and accused are not neighbours. "
        "`(no tags)`: `authenticate=False`.\n\n" + "\n".join(rows)
    )
    write_section(
        "byzantine_hardening", text, "python benchmarks/byzantine/protocols.py --sections byzantine_hardening"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections",
        nargs="+",
        default=[
            "byzantine_attacks",
            "byzantine_connectivity",
            "byzantine_one_observer",
            "byzantine_round_time",
            "byzantine_hardening",
        ],
    )
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000])
    args = parser.parse_args()
    for section in args.sections:
        {
            "byzantine_attacks": lambda: attacks(args.seeds),
            "byzantine_connectivity": lambda: connectivity(args.seeds),
            "byzantine_one_observer": lambda: one_observer(args.seeds),
            "byzantine_round_time": lambda: round_time(args.sizes),
            "byzantine_hardening": lambda: hardening(args.seeds),
        }[section]()


if __name__ == "__main__":
    main()
