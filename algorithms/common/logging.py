"""Run folders, metric logging (TensorBoard + CSV) and checkpoints shared by the trainers.

A run folder holds::

    config.json              the resolved arguments (written at start)
    progress.csv             one row per update: global_step, wall_time, charts/*, losses/*
    events.out.tfevents.*    the same scalars for TensorBoard
    checkpoints/latest.pt    the last complete checkpoint (atomic)
    policy.pt                the final policy (actor only), for evaluate / render

Crash safety: checkpoints, policy files and ``config.json`` are written to a temporary file and
renamed over the old one, so a killed run leaves complete files only; a ``progress.csv`` row is
appended with one write. A resumed run (``RunLogger(..., resume_step=S)``) drops the rows the
killed run logged after its last checkpoint (step ``S``; they are recomputed, identically) and a
torn last line, purges the same steps from TensorBoard, and removes leftover temporary files.

Metric names follow CleanRL's namespaces: ``charts/episode_return``, ``losses/value_loss``, ...
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


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


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk and rename it over
    ``path``: readers (and a run killed mid-write) see the old content or the new, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# Temporary files of atomic_write_text / atomic_torch_save (tempfile.mkstemp's 8 random characters).
_PARTIAL = re.compile(r"^\..+\.(pt|json|csv)\.[a-z0-9_]{8}$")


def remove_partial_files(run_dir: str | Path) -> list[Path]:
    """Delete the temporary files a killed run left in ``run_dir`` and ``run_dir/checkpoints``
    (never read: the complete files beside them are); returns what was removed."""
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / "checkpoints"):
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file() and _PARTIAL.match(path.name):
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return removed


def _complete_lines(text: str) -> list[str]:
    """The lines of a CSV file, without a torn last line (one not ended by a newline)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    return lines


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")  # a damaged cell: the row is dropped


class RunLogger:
    """Writes scalars to TensorBoard and to ``progress.csv`` in ``run_dir``.

    Args:
        run_dir: the run folder (created).
        config: resolved arguments, saved to ``config.json``.
        append: keep an existing ``progress.csv`` (resuming) instead of starting a new one.
        tensorboard: also write TensorBoard event files.
        resume_step: resuming from a checkpoint at this environment step: drop the rows (and
            TensorBoard events) after it, which the resumed run logs again.
    """

    def __init__(
        self,
        run_dir: Path,
        config: Any,
        append: bool = False,
        tensorboard: bool = True,
        resume_step: int | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if append:
            remove_partial_files(self.run_dir)
        atomic_write_text(self.run_dir / "config.json", json.dumps(to_jsonable(config), indent=2))
        self.csv_path = self.run_dir / "progress.csv"
        self._fields: list[str] | None = None
        if append and self.csv_path.exists():
            self._fields = self._keep_rows_until(resume_step)
        elif self.csv_path.exists():
            self.csv_path.unlink()
        self._writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge = None if resume_step is None or not append else resume_step + 1
            self._writer = SummaryWriter(str(self.run_dir), purge_step=purge)

    def _keep_rows_until(self, step: int | None) -> list[str] | None:
        """Rewrite ``progress.csv`` without a torn last line and without rows after ``step``;
        return its columns (None if it has no header)."""
        with self.csv_path.open(newline="") as f:
            text = f.read()
        lines = _complete_lines(text)
        if not lines:
            self.csv_path.unlink()
            return None
        fields = next(csv.reader(lines[:1]))
        kept = lines[:1]
        for line in lines[1:]:
            row = next(csv.reader([line]), [])
            if len(row) == len(fields) and (step is None or _number(row[0]) <= step):
                kept.append(line)
        if "".join(kept) != text:
            atomic_write_text(self.csv_path, "".join(kept))
        return fields

    def log(self, step: int, wall_time: float, scalars: dict[str, float]) -> None:
        """One row: ``scalars`` at environment step ``step`` after ``wall_time`` seconds."""
        if self._writer is not None:
            for key, value in scalars.items():
                self._writer.add_scalar(key, value, step)
        row = {"global_step": step, "wall_time": round(wall_time, 4), **scalars}
        if self._fields is None:
            self._fields = list(row)
            buf = io.StringIO()
            csv.DictWriter(buf, self._fields).writeheader()
            atomic_write_text(self.csv_path, buf.getvalue())
        new = [k for k in row if k not in self._fields]
        if new:  # a metric that first appears later (e.g. the return once an episode ends)
            self._fields += new
            self._rewrite()
        buf = io.StringIO()
        csv.DictWriter(buf, self._fields).writerow(row)
        with self.csv_path.open("a", newline="") as f:
            f.write(buf.getvalue())  # one write: a kill leaves the whole row or none of it

    def _rewrite(self) -> None:
        """Rewrite ``progress.csv`` with the current columns (earlier rows get empty cells)."""
        with self.csv_path.open(newline="") as f:
            rows = list(csv.DictReader(_complete_lines(f.read())))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, self._fields)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.csv_path, buf.getvalue())

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def read_progress(run_dir: str | Path) -> dict[str, list[float]]:
    """``progress.csv`` as columns of floats (empty cells become NaN). A torn last line (a run
    killed or still writing) is skipped."""
    path = Path(run_dir) / "progress.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no progress.csv in {run_dir}: is it a swarmzoo run folder?")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(_complete_lines(f.read())))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(float(value) if value not in ("", None) else float("nan"))
    return columns


LOSS_KEYS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac")


class UpdateLog:
    """Per-update bookkeeping the trainers share: loss statistics, the learning curve, the last
    returns, ``progress.csv`` / TensorBoard rows (through a
    :class:`~swarmzoo.algorithms.common.logging.RunLogger`) and an optional tqdm bar.

    Per update: :meth:`add_losses` after each gradient step, then :meth:`finish_update`.
    """

    def __init__(self, logger, progress: bool, total_steps: int, initial_step: int, desc: str) -> None:
        self.logger = logger
        self.curve: list[tuple[int, float, float]] = []
        self.recent: list[float] = []
        self.stats: dict[str, list[float]] = {k: [] for k in LOSS_KEYS}
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total_steps, initial=initial_step, unit="step", dynamic_ncols=True, desc=desc
            )

    def add_losses(
        self, policy_loss: torch.Tensor, value_loss: torch.Tensor, entropy: torch.Tensor, ratio_stats: dict
    ) -> None:
        self.stats["policy_loss"].append(policy_loss.item())
        self.stats["value_loss"].append(value_loss.item())
        self.stats["entropy"].append(entropy.item())
        for key, value in ratio_stats.items():
            self.stats[key].append(value)

    def finish_update(
        self,
        global_step: int,
        wall: float,
        lr: float,
        episode_returns: list[float],
        steps_done: int,
        extra: dict[str, float] | None = None,
    ) -> None:
        """Log one row (mean losses, learning rate, speed, the mean return of the episodes that
        ended in this update, and ``extra`` scalars) and advance the bar by ``steps_done``."""
        scalars = {f"losses/{k}": sum(v) / len(v) for k, v in self.stats.items() if v}
        scalars.update(extra or {})
        scalars["charts/learning_rate"] = lr
        scalars["charts/steps_per_second"] = global_step / max(wall, 1e-9)
        if episode_returns:
            mean_ret = sum(episode_returns) / len(episode_returns)
            scalars["charts/episode_return"] = mean_ret
            scalars["charts/episodes"] = len(episode_returns)
            self.curve.append((global_step, wall, mean_ret))
            self.recent = (self.recent + [mean_ret])[-10:]
        self.logger.log(global_step, wall, scalars)
        self.stats = {k: [] for k in LOSS_KEYS}
        if self.bar is not None:
            self.bar.update(steps_done)
            if self.recent:
                self.bar.set_postfix(ret=f"{self.recent[-1]:.3f}")

    @property
    def final_return(self) -> float:
        """Mean of the last (up to 10) updates' mean returns; NaN before any episode ended."""
        return sum(self.recent) / len(self.recent) if self.recent else float("nan")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.logger.close()
