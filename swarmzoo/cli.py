"""The ``swarmzoo`` command: list envs, render rollouts, evaluate policies, benchmark.

Examples::

    swarmzoo list
    swarmzoo render navigation-v0 --policy heuristic --out run.gif --env-kwargs n_agents=8 n_obstacles=3
    swarmzoo evaluate --env navigation-v0 --policy heuristic --episodes 20 --json
    swarmzoo bench --quick
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import tyro

import swarmzoo


def parse_env_kwargs(pairs: list[str]) -> dict[str, Any]:
    """``["n_agents=5", "boundary=torus"]`` -> ``{"n_agents": 5, "boundary": "torus"}``.

    Values are Python literals (ints, floats, True/False/None, strings); anything else is kept
    as a string. Raises ``ValueError`` for an item without ``=``.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"env argument {pair!r} is not KEY=VALUE")
        try:
            out[key.strip()] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key.strip()] = raw
    return out


def config_fields(env_id: str) -> list[tuple[str, Any, str]]:
    """``(name, default, description)`` of every argument of ``env_id``."""
    module = swarmzoo.spec(env_id).load()
    config_cls = module.Config
    docs = dict(re.findall(r"^\s{8}(\w+): (.+?)(?=\n\s{8}\w+: |\n\s*$|\Z)", config_cls.__doc__ or "",
                           flags=re.M | re.S))
    rows = []
    for f in dataclasses.fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        rows.append((f.name, default, " ".join(docs.get(f.name, "").split())))
    return rows


@dataclass
class List:
    """List the registered envs and their arguments."""

    arguments: bool = True
    """Also list each env's arguments with their defaults."""


@dataclass
class Render:
    """Render a rollout of a policy to a GIF or MP4."""

    env_id: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="ENV_ID")]
    """Env id, e.g. navigation-v0 (see `swarmzoo list`)."""
    policy: str = "heuristic"
    """Policy to run: heuristic (the env's scripted baseline) or random."""
    out: Path = Path("run.gif")
    """Output file; .gif or .mp4."""
    episodes: int = 1
    """Episodes to record back to back."""
    seed: int = 0
    """Seed of the first episode (later episodes use seed + k)."""
    fps: int | None = None
    """Frames per second (default: the env's render_fps)."""
    env_kwargs: list[str] = field(default_factory=list)
    """Env arguments as KEY=VALUE, e.g. n_agents=8 n_obstacles=3 preset=mpe_spread."""


@dataclass
class Evaluate:
    """Evaluate a scripted or random policy over whole episodes."""

    env: str = "navigation-v0"
    """Env id."""
    policy: str = "heuristic"
    """heuristic or random."""
    episodes: int = 10
    """Number of episodes."""
    seed: int = 0
    """Seed of the vector env (copy i gets seed + i)."""
    json: bool = False
    """Print one JSON line (mean_return, std_return, ...) instead of a sentence."""
    env_kwargs: list[str] = field(default_factory=list)
    """Env arguments as KEY=VALUE."""


@dataclass
class Bench:
    """Measure swarmzoo's own env speed (agent-steps/s). Peer comparisons: benchmarks/env_speed.py."""

    quick: bool = False
    """Fewer sizes and steps, for a smoke run."""


def run_list(cmd: List) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for env_id in swarmzoo.list_envs():
        spec = swarmzoo.spec(env_id)
        console.print(f"[bold]{env_id}[/bold]  {spec.description}")
        if cmd.arguments:
            table = Table(show_header=True, header_style="dim", box=None, padding=(0, 2))
            table.add_column("argument")
            table.add_column("default")
            table.add_column("meaning")
            for name, default, doc in config_fields(env_id):
                table.add_row(name, repr(default), doc)
            console.print(table)


def run_render(cmd: Render) -> None:
    from swarmzoo.agents import make_policy
    from swarmzoo.evaluation import record

    policy = make_policy(cmd.policy, cmd.env_id, seed=cmd.seed)
    path = record(cmd.env_id, policy, cmd.out, episodes=cmd.episodes, seed=cmd.seed, fps=cmd.fps,
                  **parse_env_kwargs(cmd.env_kwargs))
    print(f"wrote {path}")


def run_evaluate(cmd: Evaluate) -> None:
    from swarmzoo.agents import make_policy
    from swarmzoo.evaluation import evaluate

    policy = make_policy(cmd.policy, cmd.env, seed=cmd.seed)
    result = evaluate(cmd.env, policy, episodes=cmd.episodes, seed=cmd.seed,
                      **parse_env_kwargs(cmd.env_kwargs))
    if cmd.json:
        print(json.dumps({k: v for k, v in result.items() if k != "returns"} | {"policy": cmd.policy}))
    else:
        extra = f", success rate {result['success_rate']:.0%}" if "success_rate" in result else ""
        print(f"{cmd.policy} on {cmd.env}: mean return {result['mean_return']:.3f} "
              f"+- {result['std_return']:.3f} over {cmd.episodes} episodes{extra}")


def run_bench(cmd: Bench) -> None:
    from swarmzoo.bench import run_self_benchmark

    for row in run_self_benchmark(quick=cmd.quick):
        print("  ".join(f"{k}={v:,.0f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))


COMMANDS = {"list": (List, run_list), "render": (Render, run_render),
            "evaluate": (Evaluate, run_evaluate), "bench": (Bench, run_bench)}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``swarmzoo`` console script."""
    cmd = tyro.extras.subcommand_cli_from_dict(
        {name: cls for name, (cls, _) in COMMANDS.items()},
        prog="swarmzoo",
        description="swarmzoo: PettingZoo environments for robot swarms.",
        args=sys.argv[1:] if argv is None else argv,
    )
    for cls, run in COMMANDS.values():
        if isinstance(cmd, cls):
            try:
                run(cmd)
            except ValueError as err:
                raise SystemExit(f"swarmzoo: error: {err}") from err
            return


if __name__ == "__main__":
    main()
