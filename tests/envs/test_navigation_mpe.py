"""How ``navigation-v0`` picks its task class: MPE's layouts (:class:`NavigationMPE`, on
``navigation_mpe.MPESpread``) for ``mpe_compat`` (the ``mpe_spread`` preset), the default
layouts otherwise. Parity with mpe2 is ``test_navigation_mpe_parity.py``."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import swarmzoo
from swarmzoo.envs.core.factories import build_config
from swarmzoo.envs.navigation import Config, Navigation, NavigationMPE, task_class
from swarmzoo.envs.navigation_mpe import MPESpread


def test_task_class_follows_mpe_compat() -> None:
    assert task_class(Config()) is Navigation
    assert task_class(Config(mpe_compat=True)) is NavigationMPE
    assert issubclass(NavigationMPE, Navigation) and issubclass(NavigationMPE, MPESpread)


@pytest.mark.parametrize(
    "kwargs",
    [dict(preset="mpe_spread"), dict(mpe_compat=True, boundary="none", n_agents=4)],
    ids=["preset", "kwarg"],
)
def test_the_factories_and_navigation_build_the_mpe_task(kwargs) -> None:
    assert type(swarmzoo.make("navigation-v0", **kwargs).unwrapped.task) is NavigationMPE
    assert type(swarmzoo.make_vec("navigation-v0", 2, **kwargs).task) is NavigationMPE
    config = build_config(Navigation, kwargs)
    task = Navigation(config, n_envs=2)
    assert type(task) is NavigationMPE and task.n_envs == 2
    assert task.observation_space.shape == (Navigation.observation_size(config),)
    assert Navigation.observation_size(config) == 4 + 2 * config.goals + 4 * (config.n_agents - 1)
    assert type(Navigation(Config(), n_envs=2)) is Navigation


def test_mpe_task_copies_and_pickles_as_itself() -> None:
    task = Navigation(Config(mpe_compat=True, boundary="none"), n_envs=2)
    task.reset()
    for other in (copy.deepcopy(task), pickle.loads(pickle.dumps(task))):
        assert type(other) is NavigationMPE
        np.testing.assert_array_equal(other.observe(), task.observe())


def test_mpe_layouts_need_mpe_compat() -> None:
    with pytest.raises(ValueError, match="need mpe_compat=True"):
        NavigationMPE(Config())
    with pytest.raises(ValueError, match="need mpe_compat=True"):
        MPESpread(Config())
