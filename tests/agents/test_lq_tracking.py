"""The LQ tracker moved to ``agents.lq_tracking``; its names stay importable from ``agents.d2oc``
(its behaviour is tested in ``test_d2oc.py``)."""

from __future__ import annotations

from swarmzoo.agents import d2oc, lq_tracking


def test_d2oc_reexports_the_lq_tracking_names() -> None:
    for name in (
        "LQTracker",
        "check_lq_weights",
        "double_integrator",
        "feasible_action",
        "lq_tracking_gains",
    ):
        assert getattr(d2oc, name) is getattr(lq_tracking, name), name
        assert name in d2oc.__all__
