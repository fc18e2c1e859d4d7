"""What the other-library integration tests share (AgileRL, skrl, Tianshou, SuperSuit + SB3):
small env arguments, the (env, action kind) cases of every registered env, one torch thread."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import swarmzoo


def config_fields(env_id: str) -> set[str]:
    return {f.name for f in dataclasses.fields(swarmzoo.make(env_id).unwrapped.task.config)}


def small_kwargs(env_id: str, continuous: bool, max_cycles: int = 16, **extra) -> dict:
    """A small swarm with short episodes: 3 robots, or 6 robots (one Byzantine, scripted) in the
    Byzantine envs, which count every robot in ``n_robots``."""
    kwargs = {"max_cycles": max_cycles, "continuous_actions": continuous}
    kwargs |= {"n_robots": 6} if "n_robots" in config_fields(env_id) else {"n_agents": 3}
    if env_id == "coverage-v0":
        kwargs["w2_every"] = None  # no exact-OT W2 at episode ends: seconds each, not needed here
    return kwargs | extra


def env_cases(kinds: tuple[bool, ...] = (False, True), with_kind: bool = True) -> list:
    """Every registered env in each action kind of ``kinds`` it has (False: discrete, True: Box;
    an env with one kind refuses the other by name, which is how the kinds are found), as
    ``pytest.param(env_id, continuous)`` (``with_kind``) or ``pytest.param(env_id)``."""
    cases = []
    for env_id in swarmzoo.list_envs():
        for continuous in kinds:
            try:
                swarmzoo.make(env_id, **small_kwargs(env_id, continuous))
            except ValueError as error:
                if "is not available" not in str(error):
                    raise
                continue
            values = (env_id, continuous) if with_kind else (env_id,)
            cases.append(pytest.param(*values, id=f"{env_id}-{'continuous' if continuous else 'discrete'}"))
    return cases


@pytest.fixture
def one_torch_thread():
    """Tiny networks: one torch thread is faster than two fighting over a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
