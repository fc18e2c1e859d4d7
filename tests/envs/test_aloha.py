"""``aloha-v0``: robots contending for K radio channels (slotted ALOHA)."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.agents.aloha import CentralScheduler, SlottedAloha
from swarmzoo.envs.aloha import channel_outcome


def test_channel_outcome_by_hand() -> None:
    # robots 0 and 2 on channel 1 collide, robot 1 alone on channel 2, robot 3 silent
    count, alone = channel_outcome(np.array([[1, 2, 1, 0]]), 2)
    assert count.tolist() == [[2, 1]]
    assert alone.tolist() == [[False, True, False, False]]
    count, alone = channel_outcome(np.array([[0, 0, 0]]), 3)
    assert count.tolist() == [[0, 0, 0]] and not alone.any()


def test_one_step_by_hand() -> None:
    venv = swarmzoo.make_vec("aloha-v0", 1, n_agents=4, n_channels=2, arrival=0.0, buffer=2)
    venv.reset(seed=0)
    venv.task.queue[:] = [[2, 1, 1, 0]]
    # robot 0 alone on channel 1 delivers; robots 1 and 2 collide on 2; robot 3 is silent
    obs, rewards, _, _, infos = venv.step(np.array([[1, 2, 2, 0]]))
    assert venv.task.queue.tolist() == [[1, 1, 1, 0]]
    assert rewards.tolist() == [[1.0] * 4]
    assert infos["delivered"][0] == 1 and infos["collisions"][0] == 1 and infos["idle"][0] == 0
    assert infos["offered"][0] == 3 and infos["backlog"][0] == 3 and infos["dropped"][0] == 0
    K, N = 2, 4
    # own queue / buffer, transmitted, acked; idle, success, collision per channel; one-hot id
    np.testing.assert_array_equal(obs[0, 0, :3], [0.5, 1, 1])
    np.testing.assert_array_equal(obs[0, 1, :3], [0.5, 1, 0])
    np.testing.assert_array_equal(obs[0, 3, :3], [0, 0, 0])
    feedback = obs[0, 0, 3 : 3 + 3 * K]
    np.testing.assert_array_equal(feedback, [0, 0, 1, 0, 0, 1])  # idle, success, collision
    np.testing.assert_array_equal(obs[0, :, 3 : 3 + 3 * K], np.tile(feedback, (N, 1)))
    np.testing.assert_array_equal(obs[0, :, 3 + 3 * K :], np.eye(N))
    np.testing.assert_array_equal(venv.task.state()[0], [0.5, 0.5, 0.5, 0, 0, 0, 1, 0, 0, 1])


def test_keying_up_without_a_packet_still_occupies_the_channel() -> None:
    venv = swarmzoo.make_vec("aloha-v0", 1, n_agents=3, n_channels=1, arrival=0.0)
    venv.reset(seed=0)
    venv.task.queue[:] = [[1, 0, 0]]
    _, rewards, _, _, infos = venv.step(np.array([[1, 1, 0]]))  # robot 1 has nothing to send
    assert rewards[0, 0] == 0 and infos["collisions"][0] == 1
    assert venv.task.queue.tolist() == [[1, 0, 0]]
    # alone without a packet: no delivery and no success reported
    obs, rewards, _, _, infos = venv.step(np.array([[0, 1, 0]]))
    assert rewards[0, 0] == 0 and infos["idle"][0] == 0 and infos["collisions"][0] == 0
    np.testing.assert_array_equal(obs[0, 1, :6], [0, 1, 0, 0, 0, 0])


def test_arrivals_buffer_and_drops_are_accounted() -> None:
    E, N = 300, 5
    venv = swarmzoo.make_vec("aloha-v0", E, n_agents=N, arrival=0.4, buffer=2)
    venv.reset(seed=3)
    rng = np.random.default_rng(0)
    arrivals = 0
    for _ in range(20):
        before = venv.task.queue.copy()
        actions = rng.integers(0, 3, (E, N))
        _, rewards, _, _, infos = venv.step(actions)
        after = venv.task.queue
        assert after.min() >= 0 and after.max() <= 2
        # packets in = packets out: held before + arrived = held after + delivered + dropped
        arrived = after.sum(1) + infos["delivered"] + infos["dropped"] - before.sum(1)
        assert arrived.min() >= 0 and (arrived <= N).all()
        arrivals += arrived.sum()
        np.testing.assert_array_equal(rewards[:, 0], infos["delivered"])
        assert (infos["delivered"] <= np.minimum(infos["offered"], 2)).all()
    rate = arrivals / (20 * E * N)
    assert abs(rate - 0.4) < 4 * np.sqrt(0.4 * 0.6 / (20 * E * N))


def mean_delivered(policy, **kwargs) -> float:
    venv = swarmzoo.make_vec("aloha-v0", 200, **kwargs)
    obs, _ = venv.reset(seed=0)
    total = 0.0
    for _ in range(50):
        obs, rewards, _, _, infos = venv.step(policy.act(obs, venv.task))
        if isinstance(policy, CentralScheduler):
            np.testing.assert_array_equal(
                infos["delivered"], np.minimum(infos["offered"], venv.task.n_channels)
            )
        total += rewards[:, 0].mean()
    return total / 50


def test_scheduler_is_optimal_and_aloha_matches_its_theory() -> None:
    # always backlogged: slotted ALOHA with persistence K/N succeeds on a channel with
    # probability N (q/K) (1 - q/K)^(N-1) = (5/6)^5 at N = 6, K = 2
    aloha = mean_delivered(SlottedAloha(seed=0), n_agents=6, n_channels=2, arrival=1.0)
    assert aloha == pytest.approx(2 * (5 / 6) ** 5, abs=0.04)
    scheduler = mean_delivered(CentralScheduler(), n_agents=6, n_channels=2, arrival=1.0)
    assert scheduler == 2.0
    # the default load: the scheduler (asserted optimal every step above) far ahead of ALOHA,
    # which beats uniform random actions
    kw = {"n_agents": 6, "n_channels": 2, "arrival": 0.3}
    best = mean_delivered(CentralScheduler(), **kw)
    aloha = mean_delivered(SlottedAloha(seed=0), **kw)
    random = mean_delivered(make_policy("random", "aloha-v0", seed=0), **kw)
    assert best > 1.4 and best > 1.8 * aloha and aloha > random


def test_scheduler_rotates_priority_so_no_robot_starves() -> None:
    venv = swarmzoo.make_vec("aloha-v0", 50, n_agents=6, n_channels=2, arrival=1.0)
    obs, _ = venv.reset(seed=0)
    sent = np.zeros(6)
    for _ in range(30):
        obs, _, _, _, _ = venv.step(CentralScheduler().act(obs, venv.task))
        sent += obs[..., 2].sum(0)  # acks
    assert sent.min() == sent.max() == 50 * 30 * 2 / 6


def test_policies_by_name() -> None:
    assert isinstance(make_policy("heuristic", "aloha-v0"), SlottedAloha)
    assert isinstance(make_policy("aloha", "aloha-v0"), SlottedAloha)
    assert isinstance(make_policy("scheduler", "aloha-v0"), CentralScheduler)
    with pytest.raises(ValueError, match="persistence"):
        SlottedAloha(persistence=0.0)


def test_api_infos_and_episode_length() -> None:
    parallel_api_test(swarmzoo.make("aloha-v0", n_agents=4, n_channels=3), num_cycles=60)
    env = swarmzoo.make("aloha-v0", max_cycles=5)
    _, reset_infos = env.reset(seed=0)
    for t in range(5):
        _, _, term, trunc, infos = env.step({a: 0 for a in env.agents})
        assert set(infos["robot_0"]) == set(reset_infos["robot_0"])
        assert not any(term.values()) and all(trunc.values()) == (t == 4)


def test_render_frame() -> None:
    env = swarmzoo.make("aloha-v0", n_agents=8, n_channels=3, render_mode="rgb_array")
    env.reset(seed=0)
    env.step({a: i % 4 for i, a in enumerate(env.agents)})
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.std() > 0
    env.close()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_agents": 1}, "n_agents"),
        ({"n_channels": 0}, "n_channels"),
        ({"n_agents": 3, "n_channels": 4}, "n_channels must be at most n_agents=3"),
        ({"arrival": 1.5}, "arrival"),
        ({"arrival": -0.1}, "arrival"),
        ({"buffer": 0}, "buffer"),
    ],
)
def test_bad_configs_are_refused_by_name(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        swarmzoo.make("aloha-v0", **kwargs)


def test_bad_actions_are_refused() -> None:
    venv = swarmzoo.make_vec("aloha-v0", 2, n_agents=3, n_channels=2)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="out of range"):
        venv.step(np.full((2, 3), 3))
