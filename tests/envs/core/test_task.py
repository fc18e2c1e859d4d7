"""Unit tests of the task contract: action validation and the argument checkers."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from swarmzoo.envs.core.task import check_number, check_positive_int, validate_actions

DISCRETE = spaces.Discrete(5)
BOX = spaces.Box(-1.0, 1.0, (2,), np.float32)


def test_valid_discrete_actions_pass_unchanged() -> None:
    a = np.array([[0, 4, 2], [1, 3, 0]])
    out = validate_actions(a, DISCRETE, 2, 3)
    np.testing.assert_array_equal(out, a)
    out = validate_actions([[0, 4, 2], [1, 3, 0]], DISCRETE, 2, 3)
    np.testing.assert_array_equal(out, a)
    validate_actions(a.astype(np.uint8), DISCRETE, 2, 3)


@pytest.mark.parametrize(
    ("actions", "error", "match"),
    [
        (np.zeros((2, 2), dtype=int), ValueError, r"shape \(E, N\) = \(2, 3\), got \(2, 2\)"),
        (np.zeros((2, 3, 1), dtype=int), ValueError, "shape"),
        (np.zeros((2, 3)), TypeError, "integers, got dtype float64"),
        (np.zeros((2, 3), dtype=np.float32), TypeError, "integers"),
        (np.zeros((2, 3), dtype=bool), TypeError, "integers"),
        (np.full((2, 3), "a"), TypeError, "integers"),
        (np.array([[0, 1, 5], [0, 0, 0]]), ValueError, r"discrete action 5 out of range \[0, 4\]"),
        (np.array([[0, 1, 2], [-1, 0, 0]]), ValueError, r"discrete action -1 out of range"),
    ],
)
def test_bad_discrete_actions(actions, error, match) -> None:
    with pytest.raises(error, match=match):
        validate_actions(actions, DISCRETE, 2, 3)


def test_discrete_space_with_start() -> None:
    space = spaces.Discrete(3, start=1)
    validate_actions(np.array([[1, 2, 3]]), space, 1, 3)
    with pytest.raises(ValueError, match=r"out of range \[1, 3\]"):
        validate_actions(np.array([[0, 2, 3]]), space, 1, 3)


def test_valid_continuous_actions_pass_unclipped() -> None:
    a = np.array([[[1.0, -1.0], [0.25, 0.0]]], dtype=np.float32)
    out = validate_actions(a, BOX, 1, 2)
    np.testing.assert_array_equal(out, a)
    validate_actions(np.array([[[1, -1], [0, 0]]]), BOX, 1, 2)  # integers are numbers too
    validate_actions(a.astype(np.float64), BOX, 1, 2)


@pytest.mark.parametrize(
    ("actions", "error", "match"),
    [
        (np.zeros((1, 2)), ValueError, r"shape \(E, N, A\) = \(1, 2, 2\), got \(1, 2\)"),
        (np.zeros((1, 2, 3)), ValueError, "shape"),
        (np.array([[[0.0, np.nan], [0.0, 0.0]]]), ValueError, "NaN or inf"),
        (np.array([[[0.0, 0.0], [np.inf, 0.0]]]), ValueError, "NaN or inf"),
        (np.array([[[0.0, 0.0], [-np.inf, 0.0]]]), ValueError, "NaN or inf"),
        (np.array([[[1.001, 0.0], [0.0, 0.0]]]), ValueError, "out of bounds"),
        (np.array([[[0.0, 0.0], [0.0, -1.5]]]), ValueError, "out of bounds"),
        (np.full((1, 2, 2), "x"), TypeError, "numbers"),
        (np.zeros((1, 2, 2), dtype=complex), TypeError, "numbers"),
    ],
)
def test_bad_continuous_actions(actions, error, match) -> None:
    with pytest.raises(error, match=match):
        validate_actions(actions, BOX, 1, 2)


def test_unsupported_space() -> None:
    with pytest.raises(TypeError, match="unsupported action space"):
        validate_actions(np.zeros((1, 1)), spaces.MultiBinary(2), 1, 1)


def test_check_positive_int() -> None:
    check_positive_int("n", 3)
    check_positive_int("n", np.int64(0), minimum=0)
    for bad in (0, -1, 2.0, True, "3", None):
        with pytest.raises(ValueError, match="n_things must be an integer >= 1"):
            check_positive_int("n_things", bad)


def test_check_number() -> None:
    check_number("x", 0.5, 0.0, 1.0)
    check_number("x", None, allow_none=True)
    check_number("x", 1, low=0.0, low_open=True)
    for bad in (np.nan, np.inf, -0.1, 1.1):
        with pytest.raises(ValueError, match="speed must be a finite number in"):
            check_number("speed", bad, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"speed must be a finite number in \(0.0"):
        check_number("speed", 0.0, low=0.0, low_open=True)
    for bad in ("1", True, None):
        with pytest.raises(ValueError, match="speed must be a number"):
            check_number("speed", bad)
