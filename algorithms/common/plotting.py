"""Learning-curve figures from run folders (``progress.csv``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from swarmzoo.algorithms.common.logging import read_progress


def plot_runs(
    run_dirs: Sequence[str | Path],
    out: str | Path,
    metric: str = "charts/episode_return",
    labels: Sequence[str] | None = None,
    hline: tuple[float, str] | None = None,
) -> Path:
    """Two panels, ``metric`` vs environment steps and vs wall time, one line per run.

    Args:
        run_dirs: run folders with a ``progress.csv``.
        out: PNG path.
        metric: the column to plot.
        labels: legend labels (default: folder names).
        hline: optional ``(value, label)`` reference line, e.g. a heuristic's return.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_steps, ax_time) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    labels = list(labels) if labels is not None else [Path(d).name for d in run_dirs]
    for run_dir, label in zip(run_dirs, labels, strict=True):
        cols = read_progress(run_dir)
        if metric not in cols:
            raise ValueError(f"{run_dir} has no {metric!r} column; columns: {sorted(cols)}")
        y = np.asarray(cols[metric])
        ok = np.isfinite(y)
        ax_steps.plot(np.asarray(cols["global_step"])[ok], y[ok], label=label)
        ax_time.plot(np.asarray(cols["wall_time"])[ok], y[ok], label=label)
    for ax, xlabel in ((ax_steps, "environment steps"), (ax_time, "wall time (s)")):
        if hline is not None:
            ax.axhline(hline[0], color="gray", linestyle="--", label=hline[1])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric.split("/")[-1].replace("_", " "))
        ax.grid(alpha=0.3)
    ax_steps.legend(loc="lower right", fontsize=8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
