"""The ``swarmzoo`` command: list envs, train, evaluate, render, plot, benchmark.

Examples::

    swarmzoo list
    swarmzoo train ctde --env navigation-v0 --total-steps 300000 --seed 0 --out runs/nav
    swarmzoo train mean-field --env flocking-v0 --env-kwargs n_agents=100 --out runs/flock-mf
    swarmzoo train bayes-net --env navigation-v0 --total-steps 200000 --out runs/nav-bn
    swarmzoo evaluate runs/nav --episodes 20 --json
    swarmzoo evaluate --env navigation-v0 --policy heuristic --episodes 20 --json
    swarmzoo render navigation-v0 --policy runs/nav --out run.gif   # or heuristic/random/pretrained
    swarmzoo plot runs/nav runs/nav-ippo --out curves.png
    swarmzoo bench --quick
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import tyro

import swarmzoo
from swarmzoo.algorithms.common.vector import parse_env_kwargs


def config_fields(env_id: str) -> list[tuple[str, Any, str]]:
    """``(name, default, description)`` of every argument of ``env_id``."""
    module = swarmzoo.spec(env_id).load()
    config_cls = module.Config
    docs = dict(
        re.findall(
            r"^\s{8}(\w+): (.+?)(?=\n\s{8}\w+: |\n\s*$|\Z)", config_cls.__doc__ or "", flags=re.M | re.S
        )
    )
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
    """heuristic (the env's scripted baseline), random, pretrained (shipped with swarmzoo), or a
    run folder / policy file from `swarmzoo train`."""
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
    sample: bool = False
    """Trained policies: draw actions from the policy's distribution instead of taking the most
    likely one."""
    map: str | None = None
    """coverage-v0's density map: uniform, two_hotspots, ring, disaster or an image file
    (the same as --env-kwargs map=NAME)."""


@dataclass
class CoverageFigure:
    """Plot W2 over time of scripted coverage controllers on each shipped map to a PNG."""

    out: Path = Path("coverage_w2.png")
    """Output PNG."""
    policies: list[str] = field(default_factory=lambda: ["d2oc", "voronoi", "random"])
    """Policies to compare (coverage-v0 names, heuristic, random or a run folder)."""
    maps: list[str] = field(default_factory=lambda: ["two_hotspots", "ring", "disaster", "uniform"])
    """Density maps (one panel each)."""
    seeds: int = 3
    """Episodes per policy and map (env copies seeded 0 .. seeds - 1)."""
    every: int = 10
    """Steps between W2 evaluations."""
    env_kwargs: list[str] = field(default_factory=list)
    """Further coverage-v0 arguments as KEY=VALUE."""


@dataclass
class Evaluate:
    """Evaluate a trained run (RUN_DIR) or a built-in policy (--env, --policy) over whole episodes."""

    run_dir: Annotated[Path | None, tyro.conf.Positional, tyro.conf.arg(metavar="[RUN_DIR]")] = None
    """Run folder (or policy file) from `swarmzoo train`; its env and arguments are reused."""
    env: str | None = None
    """Env id (required without RUN_DIR)."""
    policy: str = "heuristic"
    """Without RUN_DIR: heuristic, random or pretrained."""
    episodes: int = 10
    """Number of episodes."""
    n_agents: int | None = None
    """Evaluate on a different swarm size (a policy without agent ids runs on any N)."""
    seed: int = 0
    """Seed of the vector env (copy i gets seed + i)."""
    json: bool = False
    """Print one JSON line (mean_return, std_return, ...) instead of a sentence."""
    env_kwargs: list[str] = field(default_factory=list)
    """Env arguments as KEY=VALUE (on top of the run's own)."""
    sample: bool = False
    """Trained policies: draw actions from the policy's distribution (seeded by --seed) instead
    of taking the most likely one."""


@dataclass
class Plot:
    """Plot learning curves (return vs environment steps and vs wall time) of runs to a PNG."""

    run_dirs: Annotated[list[Path], tyro.conf.Positional, tyro.conf.arg(metavar="RUN_DIR")]
    """One or more run folders."""
    out: Path = Path("curves.png")
    """Output PNG."""


@dataclass
class Train:
    """Train: `swarmzoo train ALGO --env ENV --total-steps N --seed S --out RUN_DIR [options]`,
    ALGO = ctde (MAPPO; --critic local gives IPPO), mean-field (Dec-POMFC) or bayes-net
    (Bayesian-network actor-critic). `swarmzoo train ALGO --help` lists options."""

    algo: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="ALGO")] = "ctde"


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

    policy = make_policy(cmd.policy, cmd.env_id, seed=cmd.seed, sample=cmd.sample)
    kwargs = {**_trained_env_kwargs(cmd.policy), **parse_env_kwargs(cmd.env_kwargs)}
    if cmd.map is not None:
        kwargs["map"] = cmd.map
    if swarmzoo.spec(cmd.env_id).id == "coverage-v0":
        kwargs.setdefault("w2_every", 10)  # for the W2 curve in the frames
    path = record(cmd.env_id, policy, cmd.out, episodes=cmd.episodes, seed=cmd.seed, fps=cmd.fps, **kwargs)
    print(f"wrote {path}")


def _trained_env_kwargs(policy: str) -> dict[str, Any]:
    """The env arguments a run folder / policy file was trained with (empty for built-ins)."""
    from swarmzoo.agents import policy_file

    path = policy_file(policy)
    if policy in ("heuristic", "random") or not path.is_file():
        return {}
    from swarmzoo.agents.networks import safe_load

    return dict(safe_load(path).get("env_kwargs", {}))


def run_evaluate(cmd: Evaluate) -> None:
    from swarmzoo.agents import make_policy, policy_file
    from swarmzoo.agents.networks import safe_load
    from swarmzoo.evaluation import evaluate

    env_kwargs: dict[str, Any] = {}
    if cmd.run_dir is not None:
        path = policy_file(cmd.run_dir)
        meta = safe_load(path)
        env_id = cmd.env or meta["env_id"]
        env_kwargs = dict(meta.get("env_kwargs", {}))
        policy_name, label = str(path), str(cmd.run_dir)
    else:
        if cmd.env is None:
            raise ValueError("give a RUN_DIR or --env ENV_ID")
        env_id, policy_name, label = cmd.env, cmd.policy, cmd.policy
    env_kwargs.update(parse_env_kwargs(cmd.env_kwargs))
    if cmd.n_agents is not None:
        env_kwargs["n_agents"] = cmd.n_agents
    policy = make_policy(policy_name, env_id, seed=cmd.seed, sample=cmd.sample)
    result = evaluate(env_id, policy, episodes=cmd.episodes, seed=cmd.seed, **env_kwargs)
    if cmd.json:
        summary = {k: v for k, v in result.items() if k != "returns"}
        print(json.dumps(summary | {"policy": label, "sample": cmd.sample, "env_kwargs": env_kwargs}))
    else:
        extra = f", success rate {result['success_rate']:.0%}" if "success_rate" in result else ""
        print(
            f"{label} on {env_id}: mean return {result['mean_return']:.3f} "
            f"+- {result['std_return']:.3f} over {cmd.episodes} episodes{extra}"
        )


def run_coverage_figure(cmd: CoverageFigure) -> None:
    from swarmzoo.evaluation import coverage_comparison

    path = coverage_comparison(
        cmd.out, cmd.policies, cmd.maps, seeds=cmd.seeds, every=cmd.every, **parse_env_kwargs(cmd.env_kwargs)
    )
    print(f"wrote {path}")


def run_plot(cmd: Plot) -> None:
    from swarmzoo.algorithms.common.plotting import plot_runs

    print(f"wrote {plot_runs(cmd.run_dirs, cmd.out)}")


def run_bench(cmd: Bench) -> None:
    from swarmzoo.bench import run_self_benchmark

    for row in run_self_benchmark(quick=cmd.quick):
        print("  ".join(f"{k}={v:,.0f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))


TRAINERS = {
    "ctde": "swarmzoo.algorithms.ctde",
    "mean-field": "swarmzoo.algorithms.mean_field",
    "bayes-net": "swarmzoo.algorithms.bayes_net",
}

COMMANDS = {
    "list": (List, run_list),
    "train": (Train, None),
    "evaluate": (Evaluate, run_evaluate),
    "render": (Render, run_render),
    "plot": (Plot, run_plot),
    "coverage-figure": (CoverageFigure, run_coverage_figure),
    "bench": (Bench, run_bench),
}


def run_train(argv: list[str]) -> None:
    """``swarmzoo train ALGO [options]``: hand the options to the algorithm's own typed CLI."""
    if not argv or argv[0] in ("-h", "--help"):
        print(Train.__doc__.replace("\n    ", " "))
        print(f"algorithms: {', '.join(TRAINERS)}")
        return
    algo, rest = argv[0], argv[1:]
    if algo not in TRAINERS:
        raise SystemExit(f"swarmzoo: error: unknown algorithm {algo!r}; choose from {sorted(TRAINERS)}")
    importlib.import_module(TRAINERS[algo]).main(rest)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``swarmzoo`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "train":
        try:
            run_train(argv[1:])
        except (ValueError, FileNotFoundError) as err:
            raise SystemExit(f"swarmzoo: error: {err}") from err
        return
    cmd = tyro.extras.subcommand_cli_from_dict(
        {name: cls for name, (cls, _) in COMMANDS.items()},
        prog="swarmzoo",
        description="swarmzoo: PettingZoo environments for robot swarms.",
        args=argv,
    )
    for cls, run in COMMANDS.values():
        if isinstance(cmd, cls) and run is not None:
            try:
                run(cmd)
            except (ValueError, FileNotFoundError) as err:
                raise SystemExit(f"swarmzoo: error: {err}") from err
            return


if __name__ == "__main__":
    main()
