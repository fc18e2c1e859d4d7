"""PettingZoo's SuperSuit + Stable-Baselines3 recipe, as docs/guides/sb3.md gives it
(``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1`` + SB3 PPO, one policy shared by all
robots), on every swarmzoo env in each action kind it has: a few hundred env steps each.

The guide's SuperSuit 3.11 caveats (``PPO(seed=)`` fails, ``black_death_v3`` never ends an episode)
are tested in tests/test_sb3.py; here the seeding workaround the guide gives is used.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import swarmzoo
from tests.integrations.clients import env_cases, one_torch_thread, small_kwargs  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("one_torch_thread")]

COPIES = 2


def _learn(env_id: str, kwargs: dict):
    import supersuit as ss
    from stable_baselines3 import PPO
    from stable_baselines3.common.utils import set_random_seed
    from stable_baselines3.common.vec_env import VecMonitor

    seed = 0
    set_random_seed(seed)
    env = swarmzoo.make(env_id, **kwargs)
    n = len(env.possible_agents)
    venv = ss.pettingzoo_env_to_vec_env_v1(env)  # one slot per robot
    venv = ss.concat_vec_envs_v1(venv, COPIES, num_cpus=1, base_class="stable_baselines3")
    venv.venv.reset(seed=seed)  # seeds copy i with seed + i (the guide's workaround)
    assert venv.num_envs == COPIES * n
    model = PPO(
        "MlpPolicy", VecMonitor(venv), n_steps=32, batch_size=64, n_epochs=1, policy_kwargs={"net_arch": [16]}
    )
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(300)
    return model, before, n


def _assert_learned(model, before, n: int) -> None:
    # 300 robot-steps round up to whole rollouts of 32 steps per slot.
    assert model.num_timesteps == 32 * COPIES * n * -(-300 // (32 * COPIES * n))
    # Every slot saw 16-step episodes end (32 steps per slot): VecMonitor logged them.
    episodes = list(model.ep_info_buffer)
    assert len(episodes) >= COPIES * n
    assert all(e["l"] == 16 and np.isfinite(e["r"]) for e in episodes)
    after = model.policy.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in after), "PPO updated nothing"


@pytest.mark.parametrize(("env_id", "continuous"), env_cases())
def test_supersuit_ppo_on_every_env(env_id: str, continuous: bool) -> None:
    _assert_learned(*_learn(env_id, small_kwargs(env_id, continuous)))


def test_supersuit_ppo_with_byzantine_attackers_as_agents() -> None:
    # Robots and Byzantine attackers share observation and action spaces, so SuperSuit stacks
    # them into one policy's slots (one shared policy: attackers and defenders alike).
    kwargs = small_kwargs("byzantine-tracking-v0", True, n_byzantine=1, byzantine_agents=True)
    model, before, n = _learn("byzantine-tracking-v0", kwargs)
    assert n == 6
    _assert_learned(model, before, n)
