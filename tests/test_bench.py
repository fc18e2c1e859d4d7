"""The helpers every benchmark table is written with (``swarmzoo.bench``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from swarmzoo.bench import mean_ci95, plot_mean_ci, with_thread_env, write_results_section


def test_mean_ci95_matches_the_student_t_interval():
    x = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    mean, half = mean_ci95(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert mean == pytest.approx(5.0)
    assert half == pytest.approx((hi - lo) / 2)
    # Five seeds: t(0.975, 4) = 2.776, so the half-width is 2.776 standard errors.
    assert half == pytest.approx(2.7764 * x.std(ddof=1) / math.sqrt(5), rel=1e-4)


def test_mean_ci95_single_value_has_no_interval_and_empty_is_refused():
    mean, half = mean_ci95([3.5])
    assert mean == 3.5 and math.isnan(half)
    with pytest.raises(ValueError, match="at least one value"):
        mean_ci95([])


def test_mean_ci95_identical_values_give_zero_width():
    assert mean_ci95([0.25] * 6) == (0.25, 0.0)


def test_write_results_section_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "RESULTS.md"
    write_results_section(path, "a", "first")
    write_results_section(path, "b", "other")
    write_results_section(path, "a", "second")
    text = path.read_text()
    assert "second" in text and "first" not in text and "other" in text
    assert text.count("<!-- a:begin -->") == 1


def test_plot_mean_ci_draws_the_mean_and_its_interval():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ys = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 6.0], [1.0, 2.0, 4.0]])
    line = plot_mean_ci(ax, [0, 1, 2], ys, "runs")
    assert line.get_label() == "runs" and np.allclose(line.get_ydata(), [1.0, 2.0, 4.0])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    half = [mean_ci95(col)[1] for col in ys.T]
    assert np.isclose(band.max(), 4.0 + half[2]) and np.isclose(band.min(), 1.0 - half[0])
    plt.close(fig)


def test_with_thread_env_records_the_thread_count_only_when_set(monkeypatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert with_thread_env("python benchmarks/x.py") == "python benchmarks/x.py"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    cmd = "python benchmarks/x.py --jobs 1"
    assert with_thread_env(cmd) == f"OMP_NUM_THREADS=1 {cmd}"
