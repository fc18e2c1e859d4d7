"""The ``mpe_spread`` preset reproduces mpe2's simple_spread_v3 from the same initial state."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo

simple_spread_v3 = pytest.importorskip("mpe2.simple_spread_v3", reason="mpe2 is installed by .ci/run")

STEPS = 150


def _copy_state_into_mpe(ours, theirs) -> None:
    task = ours.unwrapped.task
    world = theirs.unwrapped.world
    for i, agent in enumerate(world.agents):
        agent.state.p_pos = task.pos[0, i].copy()
        agent.state.p_vel = task.vel[0, i].copy()
    for j, landmark in enumerate(world.landmarks):
        landmark.state.p_pos = task.goals[0, j].copy()


@pytest.mark.parametrize("n_agents", [1, 3, 6])
@pytest.mark.parametrize("continuous", [False, True])
def test_mpe_spread_matches_mpe2(n_agents: int, continuous: bool) -> None:
    ours = swarmzoo.make(
        "navigation-v0",
        preset="mpe_spread",
        n_agents=n_agents,
        max_cycles=STEPS,
        continuous_actions=continuous,
    )
    theirs = simple_spread_v3.parallel_env(N=n_agents, max_cycles=STEPS, continuous_actions=continuous)
    obs, _ = ours.reset(seed=3)
    theirs.reset(seed=3)
    _copy_state_into_mpe(ours, theirs)
    assert ours.possible_agents == [f"robot_{i}" for i in range(n_agents)]
    mpe_names = theirs.possible_agents
    for a, m in zip(ours.possible_agents, mpe_names):
        np.testing.assert_allclose(obs[a], theirs.unwrapped.observe(m), atol=1e-6)
        assert ours.observation_space(a).shape == theirs.observation_space(m).shape
        assert ours.action_space(a) == theirs.action_space(m)
    np.testing.assert_allclose(ours.state(), theirs.state(), atol=1e-6)

    rng = np.random.default_rng(0)
    collisions_seen = 0
    for t in range(STEPS):
        # Half the time each robot heads for the origin, so robots meet and contacts are exercised.
        pos = ours.unwrapped.task.pos[0]
        toward = np.where(
            np.abs(pos[:, 0]) > np.abs(pos[:, 1]),
            np.where(pos[:, 0] > 0, 1, 2),
            np.where(pos[:, 1] > 0, 3, 4),
        )
        if continuous:
            acts = rng.uniform(0, 1, size=(n_agents, 5)).astype(np.float32)
            homing = rng.random(n_agents) < 0.5
            acts[homing] = 0.0
            acts[homing, toward[homing]] = 1.0
        else:
            acts = np.where(rng.random(n_agents) < 0.5, toward, rng.integers(0, 5, size=n_agents))
        o1, r1, te1, tr1, i1 = ours.step(dict(zip(ours.possible_agents, acts)))
        o2, r2, te2, tr2, _ = theirs.step(dict(zip(mpe_names, acts)))
        for a, m in zip(ours.possible_agents, mpe_names):
            np.testing.assert_allclose(o1[a], o2[m], atol=1e-5, err_msg=f"obs step {t}")
            assert r1[a] == pytest.approx(r2[m], abs=1e-5), f"reward step {t}"
            assert te1[a] == te2[m] and tr1[a] == tr2[m]
        collisions_seen += sum(i["collisions"] for i in i1.values())
    assert not ours.agents and not theirs.agents
    if n_agents > 1:
        assert collisions_seen > 0, "the rollout never exercised contacts"
