"""Run folders, metric logging (TensorBoard + CSV) and checkpoints shared by the trainers.

A run folder holds::

    config.json              the resolved arguments (written at start)
    progress.csv             one row per update: global_step, wall_time, charts/*, losses/*
    events.out.tfevents.*    the same scalars for TensorBoard
    checkpoints/latest.pt    the last complete checkpoint (atomic), plus step_<N>.pt snapshots
    policy.pt                the final policy (actor only), for evaluate / render

Metric names follow CleanRL's namespaces: ``charts/episode_return``, ``losses/value_loss``, ...
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any


def default_run_dir(env: str, algo: str, seed: int) -> Path:
    """``runs/<env>__<algo>__<seed>__<unix time>``."""
    name = env.replace("/", "_").replace(":", "_")
    return Path("runs") / f"{name}__{algo}__{seed}__{int(time.time())}"


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, paths and tuples as plain JSON values."""
    if is_dataclass(obj):
        obj = asdict(obj)
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


class RunLogger:
    """Writes scalars to TensorBoard and to ``progress.csv`` in ``run_dir``.

    Args:
        run_dir: the run folder (created).
        config: resolved arguments, saved to ``config.json``.
        append: keep an existing ``progress.csv`` (resuming) instead of starting a new one.
        tensorboard: also write TensorBoard event files.
    """

    def __init__(self, run_dir: Path, config: Any, append: bool = False, tensorboard: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(json.dumps(to_jsonable(config), indent=2))
        self.csv_path = self.run_dir / "progress.csv"
        self._fields: list[str] | None = None
        if append and self.csv_path.exists():
            with self.csv_path.open() as f:
                header = f.readline().strip()
            self._fields = header.split(",") if header else None
        elif self.csv_path.exists():
            self.csv_path.unlink()
        self._writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run_dir))

    def log(self, step: int, wall_time: float, scalars: dict[str, float]) -> None:
        """One row: ``scalars`` at environment step ``step`` after ``wall_time`` seconds."""
        if self._writer is not None:
            for key, value in scalars.items():
                self._writer.add_scalar(key, value, step)
        row = {"global_step": step, "wall_time": round(wall_time, 4), **scalars}
        if self._fields is None:
            self._fields = list(row)
            with self.csv_path.open("w", newline="") as f:
                csv.DictWriter(f, self._fields).writeheader()
        new = [k for k in row if k not in self._fields]
        if new:  # a metric that first appears later (e.g. the return once an episode ends)
            self._fields += new
            self._rewrite()
        with self.csv_path.open("a", newline="") as f:
            csv.DictWriter(f, self._fields).writerow(row)

    def _rewrite(self) -> None:
        """Rewrite ``progress.csv`` with the current columns (earlier rows get empty cells)."""
        with self.csv_path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        tmp = self.csv_path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, self._fields)
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(self.csv_path)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def read_progress(run_dir: str | Path) -> dict[str, list[float]]:
    """``progress.csv`` as columns of floats (empty cells become NaN)."""
    path = Path(run_dir) / "progress.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no progress.csv in {run_dir}: is it a swarmzoo run folder?")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(float(value) if value not in ("", None) else float("nan"))
    return columns
