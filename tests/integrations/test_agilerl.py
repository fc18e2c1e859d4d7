"""AgileRL trains IPPO on every swarmzoo env through its own PettingZoo path: AgileRL's
``AsyncPettingZooVecEnv`` (subprocess copies of the parallel env) and its
``train_multi_agent_on_policy`` loop, with evaluation. Short runs (256 env steps per env).

agilerl is imported inside the tests, so the default run (which deselects ``integration``)
collects this file without it installed. AgileRL 2.58 is installed without its dependencies (see
the Makefile: it pins pettingzoo < 1.27 and tensordict 0.13, which would break swarmzoo's
pettingzoo and TorchRL/BenchMARL); what it imports comes with the ``[clients]`` extra.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

import swarmzoo
from tests.integrations.clients import env_cases, one_torch_thread, small_kwargs  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("one_torch_thread")]


def _train_ippo(env_id: str, kwargs: dict):
    from agilerl.algorithms import IPPO
    from agilerl.training.train_multi_agent_on_policy import train_multi_agent_on_policy
    from agilerl.vector import AsyncPettingZooVecEnv

    torch.manual_seed(0)
    venv = AsyncPettingZooVecEnv([functools.partial(swarmzoo.make, env_id, **kwargs) for _ in range(2)])
    try:
        ids = list(venv.possible_agents)
        agent = IPPO(
            observation_spaces=[venv.single_observation_space(a) for a in ids],
            action_spaces=[venv.single_action_space(a) for a in ids],
            agent_ids=ids,
            learn_step=64,
            batch_size=32,
            update_epochs=1,
            net_config={"encoder_config": {"hidden_size": [16]}, "head_config": {"hidden_size": [16]}},
        )
        before = {k: v.clone() for k, v in agent.actors.state_dict().items()}
        # The loop hands each rollout's finished-episode returns to add_scores, and clears them
        # after reporting: keep a copy.
        agent.seen_scores = []
        add_scores = agent.add_scores
        agent.add_scores = lambda scores: (agent.seen_scores.extend(scores), add_scores(scores))
        # 2 evolution steps of 128 env steps (2 copies x 64), one IPPO update per 64, an
        # evaluation episode of AgileRL's own test() after each.
        _, fitnesses = train_multi_agent_on_policy(
            venv, env_id, "IPPO", [agent], max_steps=256, evo_steps=128, eval_steps=16, verbose=False
        )
    finally:
        venv.close()
    return agent, before, fitnesses


@pytest.mark.parametrize(("env_id", "continuous"), env_cases())
def test_ippo_trains_on_every_env(env_id: str, continuous: bool) -> None:
    agent, before, fitnesses = _train_ippo(env_id, small_kwargs(env_id, continuous))
    assert agent.steps == 256
    # 16-step episodes end inside every 64-step rollout: AgileRL logged their (team) returns.
    assert len(agent.seen_scores) >= 2 and all(map(math.isfinite, agent.seen_scores))
    assert len(fitnesses) == 1 and math.isfinite(fitnesses[0])
    # All robots share one network: AgileRL groups agents by the name before "_" (robot_0, ...).
    assert set(agent.actors.keys()) == {"robot"}
    after = agent.actors.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in after), "IPPO updated nothing"


def test_ippo_trains_robots_and_byzantine_attackers_as_two_groups() -> None:
    kwargs = small_kwargs("byzantine-tracking-v0", True, n_byzantine=1, byzantine_agents=True)
    agent, before, fitnesses = _train_ippo("byzantine-tracking-v0", kwargs)
    assert set(agent.actors.keys()) == {"robot", "byzantine"}
    assert len(agent.agent_ids) == 6 and "byzantine_0" in agent.agent_ids
    after = agent.actors.state_dict()
    for group in ("robot", "byzantine"):
        changed = [not torch.equal(before[k], after[k]) for k in after if k.startswith(group)]
        assert changed and any(changed), group
    assert np.isfinite(fitnesses).all()
