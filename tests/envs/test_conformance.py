"""Every registered env, over the configs of ``matrix.py``, passes PettingZoo's own test utilities
(parallel and AEC API, seeding, ``max_cycles``, render, state), renders ``rgb_array`` frames,
replays itself under a seed, survives pickling, and has a well-formed vector face.

Vector vs PettingZoo face parity over the registry lives in ``test_faces_parity.py``.
"""

from __future__ import annotations

import copy
import pickle
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

import swarmzoo
from tests.envs.matrix import (
    CASES,
    PARAMS,
    SMALL_PARAMS,
    Case,
    assert_same,
    parallel_rollout,
    random_actions,
    resolve,
    task_class,
    write_images,
)

# PettingZoo's checks warn about infinite observation / state bounds; those are by design here.
# Cases' own marks (applied last) turn some warnings back into errors.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> dict[str, str]:
    return write_images(tmp_path_factory.mktemp("matrix_maps"))


def _kwargs(case: Case, images: dict[str, str], **override) -> dict:
    return {**resolve(case.kwargs, images), **override}


def test_matrix_covers_every_registered_env() -> None:
    missing = set(swarmzoo.list_envs()) - {c.env_id for c in CASES}
    assert not missing, f"registered without matrix entries in tests/envs/matrix.py: {sorted(missing)}"
    unknown = {c.env_id for c in CASES} - set(swarmzoo.list_envs())
    assert not unknown, f"matrix entries for unregistered ids: {sorted(unknown)}"
    assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"


# -- PettingZoo's own test utilities -----------------------------------------------------------


@pytest.mark.parametrize("case", PARAMS)
def test_parallel_api(case: Case, images) -> None:
    parallel_api_test(swarmzoo.make(case.env_id, **_kwargs(case, images)), num_cycles=case.parallel_cycles)


@pytest.mark.parametrize("case", PARAMS)
def test_aec_api(case: Case, images) -> None:
    api_test(swarmzoo.make_aec(case.env_id, **_kwargs(case, images)), num_cycles=case.aec_cycles)


@pytest.mark.parametrize("case", PARAMS)
def test_seed(case: Case, images) -> None:
    kwargs = _kwargs(case, images)
    parallel_seed_test(partial(swarmzoo.make, case.env_id, **kwargs), num_cycles=case.seed_parallel_cycles)
    seed_test(partial(swarmzoo.make_aec, case.env_id, **kwargs), num_cycles=case.seed_aec_cycles)


@pytest.mark.parametrize("case", SMALL_PARAMS)
def test_max_cycles(case: Case, images) -> None:
    kwargs = {k: v for k, v in _kwargs(case, images).items() if k != "terminate_on_success"}
    shim = SimpleNamespace(
        env=partial(swarmzoo.make_aec, case.env_id, **kwargs),
        parallel_env=partial(swarmzoo.make, case.env_id, **kwargs),
    )
    max_cycles_test(shim)


@pytest.mark.parametrize("env_id", swarmzoo.list_envs())
def test_max_cycles_on_the_module_itself(env_id: str) -> None:
    max_cycles_test(swarmzoo.spec(env_id).load())


@pytest.mark.parametrize("case", SMALL_PARAMS)
def test_render(case: Case, images, monkeypatch) -> None:
    # The human window paces frames at render_fps; don't sleep through the test.
    monkeypatch.setattr(task_class(case.env_id), "render_fps", 10_000)
    render_test(partial(swarmzoo.make_aec, case.env_id, **_kwargs(case, images)))


@pytest.mark.parametrize("case", PARAMS)
def test_state(case: Case, images) -> None:
    kwargs = _kwargs(case, images)
    state_test(
        swarmzoo.make_aec(case.env_id, **kwargs),
        swarmzoo.make(case.env_id, **kwargs),
        num_cycles=case.state_cycles,
    )


# -- frames, determinism, pickling ---------------------------------------------------------------


@pytest.mark.parametrize("case", SMALL_PARAMS)
def test_rgb_array_frame(case: Case, images) -> None:
    env = swarmzoo.make(case.env_id, **_kwargs(case, images, render_mode="rgb_array", max_cycles=3))
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.shape[0] > 0 and frame.shape[1] > 0
    env.step(random_actions(env, np.random.default_rng(0)))
    assert env.render().shape == frame.shape
    env.close()


@pytest.mark.parametrize("case", SMALL_PARAMS)
def test_same_seed_same_episodes(case: Case, images) -> None:
    """Two episodes (reset(seed), then a plain reset) replay bit for bit, whatever the global
    random streams hold; another seed starts elsewhere."""
    make = partial(swarmzoo.make, case.env_id, **_kwargs(case, images, max_cycles=6))
    a = parallel_rollout(make, seed=42, disturb=1)
    b = parallel_rollout(make, seed=42, disturb=2)
    assert sum(1 for t in a if t[0] == "reset") == 2
    assert_same(a, b)


@pytest.mark.parametrize("case", SMALL_PARAMS)
def test_pickle_and_deepcopy(case: Case, images) -> None:
    env = swarmzoo.make(case.env_id, **_kwargs(case, images))
    env.reset(seed=3)
    clones = (pickle.loads(pickle.dumps(env)), copy.deepcopy(env))
    actions = random_actions(env, np.random.default_rng(0))
    out = env.step(actions)
    for clone in clones:
        assert clone.unwrapped is not env.unwrapped
        assert_same(clone.step(actions), out)
        np.testing.assert_array_equal(clone.state(), env.state())


# -- the vector face -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", PARAMS)
def test_vector_face_spaces(case: Case, images) -> None:
    E = 2
    venv = swarmzoo.make_vec(case.env_id, E, **_kwargs(case, images))
    env = swarmzoo.make(case.env_id, **_kwargs(case, images))
    n = venv.n_agents
    assert venv.agents == env.possible_agents and n == len(env.possible_agents)
    assert venv.single_observation_space == env.observation_space(env.possible_agents[0])
    assert venv.single_action_space == env.action_space(env.possible_agents[0])
    obs, infos = venv.reset(seed=0)
    assert isinstance(infos, dict)
    assert obs.shape == (E, n, *venv.single_observation_space.shape) and obs.dtype == np.float32
    assert venv.observation_space.contains(obs)
    venv.action_space.seed(0)
    for _ in range(3):
        obs, rew, term, trunc, infos = venv.step(venv.action_space.sample())
        assert obs.shape == (E, n, *venv.single_observation_space.shape)
        assert venv.observation_space.contains(obs)
        assert rew.shape == term.shape == trunc.shape == (E, n)
        assert term.dtype == trunc.dtype == bool
        assert np.isfinite(rew).all()
    state = venv.state()
    assert state.shape == (E, *venv.state_space.shape)
    assert all(venv.state_space.contains(s) for s in state)
