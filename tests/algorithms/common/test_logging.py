"""progress.csv keeps every metric, including one that first appears after the first row."""

from __future__ import annotations

import math

from swarmzoo.algorithms.common.logging import RunLogger, read_progress


def test_a_metric_first_logged_later_gets_a_column(tmp_path) -> None:
    logger = RunLogger(tmp_path, {"a": 1}, tensorboard=False)
    logger.log(100, 1.0, {"losses/value_loss": 0.5})
    logger.log(200, 2.0, {"losses/value_loss": 0.4, "charts/episode_return": -3.0})
    logger.log(300, 3.0, {"losses/value_loss": 0.3})
    logger.close()
    cols = read_progress(tmp_path)
    assert cols["global_step"] == [100, 200, 300]
    assert cols["losses/value_loss"] == [0.5, 0.4, 0.3]
    ret = cols["charts/episode_return"]
    assert math.isnan(ret[0]) and ret[1] == -3.0 and math.isnan(ret[2])


def test_resumed_logger_appends_under_the_existing_header(tmp_path) -> None:
    first = RunLogger(tmp_path, {}, tensorboard=False)
    first.log(1, 0.1, {"x": 1.0})
    first.close()
    second = RunLogger(tmp_path, {}, append=True, tensorboard=False)
    second.log(2, 0.2, {"x": 2.0, "y": 5.0})
    second.close()
    cols = read_progress(tmp_path)
    assert cols["x"] == [1.0, 2.0] and math.isnan(cols["y"][0]) and cols["y"][1] == 5.0
