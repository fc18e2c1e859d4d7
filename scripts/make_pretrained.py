"""Train the small pretrained policies shipped in ``assets/policies/`` (reproducible).

    python scripts/make_pretrained.py                # every env that has a recipe
    python scripts/make_pretrained.py --env navigation-v0

Each recipe is a MAPPO run of ``swarmzoo.algorithms.ctde``; the final policy (actor only, tens of
KB) is copied to ``assets/policies/<env id>.pt`` and its evaluation against the heuristic and
random baselines is printed (and belongs in ``assets/policies/README.md``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tyro

from swarmzoo.agents import RandomPolicy, make_policy, pretrained_path
from swarmzoo.agents.policy_files import load_policy
from swarmzoo.algorithms.ctde import Args, train
from swarmzoo.evaluation import evaluate

RECIPES: dict[str, dict] = {
    "navigation-v0": dict(
        critic="central", total_steps=1_500_000, seed=0, num_envs=32, rollout_steps=50, gamma=0.95
    ),
}


@dataclass
class Cli:
    env: str | None = None
    """Only this env id (default: every recipe)."""
    episodes: int = 64
    """Evaluation episodes."""


def main(cli: Cli) -> None:
    for env_id, recipe in RECIPES.items():
        if cli.env not in (None, env_id):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            result = train(Args(env=env_id, out=Path(tmp) / "run", progress=False, **recipe))
            target = pretrained_path(env_id)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(result.run_dir / "policy.pt", target)
        report = {"env": env_id, "recipe": recipe, "train_seconds": round(result.wall_time, 1)}
        for name, policy in (
            ("pretrained", load_policy(target)[0]),
            ("heuristic", make_policy("heuristic", env_id)),
            ("random", RandomPolicy(seed=0)),
        ):
            report[name] = round(evaluate(env_id, policy, episodes=cli.episodes, seed=2024)["mean_return"], 3)
        report["size_kb"] = round(target.stat().st_size / 1024, 1)
        print(json.dumps(report))


if __name__ == "__main__":
    main(tyro.cli(Cli))
