"""W-MSR trimming and LCP means on small hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest

from swarmzoo.algorithms.wmsr import lcp_mean, wmsr_keep, wmsr_mean


def one(own, values, f):
    vals = np.array(values, dtype=float)[None, :, None]
    keep = wmsr_keep(np.array([[own]], dtype=float), vals, np.ones(vals.shape[:2], bool), f)
    return keep[0, :, 0].tolist()


def test_trims_the_f_most_extreme_on_each_side() -> None:
    assert one(0.0, [5, -3, 1, -1, 9], 1) == [True, False, True, True, False]
    assert one(0.0, [5, -3, 1, -1, 9], 2) == [False, False, True, False, False]


def test_fewer_than_f_on_a_side_removes_all_of_them_and_ties_stay() -> None:
    assert one(0.0, [2, 0, 0, -7, -8, -9], 2) == [False, True, True, True, False, False]


def test_f_zero_is_lcp_and_padding_is_ignored() -> None:
    own = np.array([[1.0, 0.0]])
    vals = np.array([[[3.0, 2.0], [5.0, -4.0], [100.0, 100.0]]])
    valid = np.array([[True, True, False]])
    np.testing.assert_allclose(wmsr_mean(own, vals, valid, 0), lcp_mean(own, vals, valid))
    np.testing.assert_allclose(lcp_mean(own, vals, valid), [[3.0, -2.0 / 3.0]])


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="f must be"):
        wmsr_keep(np.zeros((1, 1)), np.zeros((1, 2, 1)), np.ones((1, 2), bool), -1)
    with pytest.raises(ValueError, match=r"\(R, d\)"):
        lcp_mean(np.zeros(3), np.zeros((1, 2, 1)), np.ones((1, 2), bool))
