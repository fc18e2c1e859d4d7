"""Render history: kept by the faces only while rendering, restarted with copy 0's episodes,
trails capped, picklable; tasks without history hooks still draw."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import swarmzoo
from swarmzoo.envs.core.history import RenderHistory, draw_copy


@pytest.fixture(autouse=True)
def _headless_display(monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


def _step_parallel(env) -> None:
    env.step({a: env.action_space(a).sample() for a in env.agents})


# -- the class ------------------------------------------------------------------------------------


def test_history_records_restarts_and_caps() -> None:
    h = RenderHistory({"trail": 3})
    assert h.get("curve") == [] and len(h) == 0
    h.restart({"curve": 0.5, "trail": np.zeros(2)})
    for t in range(1, 6):
        h.record({"curve": float(t), "trail": np.full(2, t)})
    assert h.get("curve") == [0.5, 1.0, 2.0, 3.0, 4.0, 5.0]  # curves keep the episode
    assert [int(p[0]) for p in h.series["trail"]] == [3, 4, 5]  # trails keep the last K
    h.record({"sparse": 1.0})  # a name left out of a sample adds nothing that time
    assert h.get("sparse") == [1.0] and len(h.get("curve")) == 6
    h.restart({"curve": 9.0})
    assert h.series == {"curve": [9.0]}  # names not in the restart sample start empty


def test_history_copies_arrays() -> None:
    state = np.zeros(2)
    h = RenderHistory()
    h.restart({"p": state})
    state += 1.0  # a view of the task's state handed over: the history holds its own copy
    assert h.get("p")[0].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_history_refuses_bad_lengths(bad) -> None:
    with pytest.raises(ValueError, match="history length of 'trail'"):
        RenderHistory({"trail": bad})


# -- the faces ------------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", swarmzoo.list_envs())
def test_headless_faces_record_nothing(env_id) -> None:
    env = swarmzoo.make(env_id, max_cycles=4)
    env.reset(seed=0)
    _step_parallel(env)
    assert env.render_history is None
    venv = swarmzoo.make_vec(env_id, 2, max_cycles=4)
    venv.reset(seed=0)
    venv.step(venv.action_space.sample())
    assert venv.render_history is None
    # ... and the tasks keep no render traces of their own.
    for task in (env.task, venv.task):
        assert not [k for k in vars(task) if k.endswith("_trace") or k == "trail"]


def test_headless_faces_never_sample(monkeypatch) -> None:
    from swarmzoo.envs.flocking import Flocking

    def fail(self):
        raise AssertionError("history_sample called without a render_mode")

    monkeypatch.setattr(Flocking, "history_sample", fail)
    env = swarmzoo.make("flocking-v0", max_cycles=3)
    env.reset(seed=1)
    while env.agents:
        _step_parallel(env)
    venv = swarmzoo.make_vec("flocking-v0", 2, max_cycles=3)
    venv.reset(seed=1)
    for _ in range(5):
        venv.step(venv.action_space.sample())
    venv.reset_copies([0])


def test_parallel_history_restarts_at_reset() -> None:
    env = swarmzoo.make("flocking-v0", render_mode="rgb_array", max_cycles=5)
    env.reset(seed=2)
    for a in env.possible_agents:
        env.action_space(a).seed(0)
    order = env.render_history.get("order")
    assert len(order) == 1
    while env.agents:
        _step_parallel(env)
    order = env.render_history.get("order")
    assert len(order) == 6  # the reset and 5 steps
    assert order[-1] == pytest.approx(env.task.history_sample()["order"])
    env.render()
    env.reset(seed=3)
    assert len(env.render_history.get("order")) == 1


def test_vector_history_restarts_at_copy_0s_auto_reset() -> None:
    venv = swarmzoo.make_vec("kuramoto-v0", 2, render_mode="rgb_array", max_cycles=4)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    lengths = []
    for _ in range(6):
        _, _, _, _, infos = venv.step(venv.action_space.sample())
        lengths.append(len(venv.render_history.get("order")))
        if infos["_final_obs"][0]:
            # the new episode's first value, the same as the task reports now
            assert venv.render_history.get("order") == [venv.task.history_sample()["order"]]
    assert lengths == [2, 3, 4, 1, 2, 3]
    venv.reset_copies([1])  # another copy's reset leaves copy 0's history alone
    assert len(venv.render_history.get("order")) == 3
    venv.reset_copies([0, 1])
    assert len(venv.render_history.get("order")) == 1
    venv.reset(seed=1)
    assert len(venv.render_history.get("order")) == 1
    assert venv.render().ndim == 3


def test_vector_history_follows_copy_0_only() -> None:
    """Copy 1 ending early does not restart copy 0's history."""
    venv = swarmzoo.make_vec("byzantine-tracking-v0", 2, render_mode="rgb_array", max_cycles=6)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    venv.step(venv.action_space.sample())
    venv.reset_copies([1])
    venv.step(venv.action_space.sample())
    errors = venv.render_history.get("error")
    assert len(errors) == 3 and len(venv.render_history.get("target")) == 3


def test_trail_is_capped() -> None:
    env = swarmzoo.make("byzantine-tracking-v0", render_mode="rgb_array", max_cycles=80)
    env.reset(seed=0)
    for a in env.possible_agents:
        env.action_space(a).seed(0)
    for _ in range(70):
        _step_parallel(env)
    trail = env.render_history.get("target")
    assert env.task.history_lengths == {"target": 60}
    assert len(trail) == 60
    np.testing.assert_array_equal(trail[-1], env.task.target[0])
    assert len(env.render_history.get("error")) == 71  # the curve keeps the whole episode
    assert env.render().shape[2] == 3


@pytest.mark.parametrize("face", ["parallel", "vector"])
def test_rendering_env_pickles_with_its_history(face) -> None:
    if face == "parallel":
        env = swarmzoo.make("aggregation-v0", render_mode="rgb_array", max_cycles=10)
        env.reset(seed=4)
        for _ in range(3):
            _step_parallel(env)
    else:
        env = swarmzoo.make_vec("aggregation-v0", 2, render_mode="rgb_array", max_cycles=10)
        env.reset(seed=4)
        for _ in range(3):
            env.step(env.action_space.sample())
    frame = env.render()
    copy = pickle.loads(pickle.dumps(env))
    assert copy.render_history.series == env.render_history.series
    assert copy.render_history is not env.render_history
    np.testing.assert_array_equal(copy.render(), frame)
    copy.close()
    env.close()


def test_draw_copy_calls_tasks_without_history_hooks() -> None:
    """A task written before render history (draw(renderer, env_index), hud(env_index))."""
    calls = []

    class Legacy:
        def draw(self, renderer, env_index):
            calls.append(("draw", env_index))

        def hud(self, env_index):
            return [f"legacy {env_index}"]

    class Current:
        def draw(self, renderer, env_index, history):
            calls.append(("draw", env_index, history.get("x")))

        def hud(self, env_index, history):
            return [f"x {history.get('x')}"]

    h = RenderHistory()
    h.restart({"x": 1.0})
    assert draw_copy(Legacy(), None, 0, h) == ["legacy 0"]
    assert draw_copy(Current(), None, 0, h) == ["x [1.0]"]
    assert calls == [("draw", 0), ("draw", 0, [1.0])]
