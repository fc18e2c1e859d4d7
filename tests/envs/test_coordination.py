"""``coordination-v0``: the Markov coordination game as an env, against its exact tabular form."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.agents.coordination import AllZeros
from swarmzoo.algorithms.coordination_game import MarkovCoordinationGame
from swarmzoo.envs.coordination import Config, coordination_reward, optimal_step_reward
from swarmzoo.evaluation import evaluate


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_reward_and_margin_are_the_tabular_games(n: int) -> None:
    game = MarkovCoordinationGame(n)
    assert Config(n_agents=n).majority_margin == game.margin
    np.testing.assert_array_equal(coordination_reward(game.bits.sum(1), n, game.margin), game.reward)


def test_reward_table_by_hand() -> None:
    # n = 5, margin 2: 5-0 and 4-1 zeros pay 3, 0-5 and 1-4 pay 2; 3-2 zeros 0, 2-3 zeros 1
    assert coordination_reward(np.arange(6), 5, 2).tolist() == [3.0, 3.0, 0.0, 1.0, 2.0, 2.0]
    assert coordination_reward(np.arange(3), 2, 1).tolist() == [3.0, 0.0, 2.0]


def test_bits_follow_actions_with_the_configured_noise() -> None:
    venv = swarmzoo.make_vec("coordination-v0", 400, n_agents=5, noise=0.2)
    obs, _ = venv.reset(seed=0)
    rng = np.random.default_rng(1)
    flips = []
    for _ in range(10):
        actions = rng.integers(0, 2, (400, 5))
        obs, rewards, term, trunc, infos = venv.step(actions)
        flips.append(venv.task.bits != actions)
        ones = venv.task.bits.sum(1)
        np.testing.assert_array_equal(rewards, np.repeat(coordination_reward(ones, 5, 2)[:, None], 5, 1))
        np.testing.assert_allclose(infos["ones"], ones / 5)
    rate = np.mean(flips)
    assert abs(rate - 0.2) < 4 * np.sqrt(0.2 * 0.8 / np.size(flips))
    # zero noise: the bits are exactly the actions
    venv = swarmzoo.make_vec("coordination-v0", 4, n_agents=3, noise=0.0)
    venv.reset(seed=0)
    actions = np.array([[0, 1, 1], [1, 1, 1], [0, 0, 0], [1, 0, 1]])
    venv.step(actions)
    np.testing.assert_array_equal(venv.task.bits, actions)


def test_observation_puts_the_own_bit_first_and_names_the_robot() -> None:
    env = swarmzoo.make("coordination-v0", n_agents=3, noise=0.0)
    env.reset(seed=0)
    obs, *_ = env.step({"robot_0": 1, "robot_1": 0, "robot_2": 0})
    np.testing.assert_array_equal(obs["robot_0"], [1, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(obs["robot_1"], [0, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(obs["robot_2"], [0, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(env.state(), [1, 0, 0])


def test_all_zeros_earns_the_optimum_and_beats_all_ones_and_random() -> None:
    cfg = Config(n_agents=3)
    # all zeros: no flip pays 3, one flip (2-1, inside the margin) 0, two flips (1-2) 1, three 2
    assert optimal_step_reward(cfg) == pytest.approx(0.729 * 3 + 0.027 * 1 + 0.001 * 2)
    venv = swarmzoo.make_vec("coordination-v0", 200, n_agents=3)

    def mean_reward(policy) -> float:
        obs, _ = venv.reset(seed=0)
        total = 0.0
        for _ in range(50):
            obs, rewards, *_ = venv.step(policy(obs))
            total += rewards.mean()
        return total / 50

    zeros = mean_reward(lambda obs: AllZeros().act(obs, venv.task))
    ones = mean_reward(lambda obs: np.ones(obs.shape[:2], dtype=np.int64))
    rand = make_policy("random", "coordination-v0", seed=0)
    random = mean_reward(lambda obs: rand.act(obs, venv.task))
    assert zeros == pytest.approx(optimal_step_reward(cfg), abs=0.03)
    assert ones == pytest.approx(0.729 * 2 + 0.243 * 1 + 0.001 * 3, abs=0.03) and zeros > ones > random
    assert isinstance(make_policy("heuristic", "coordination-v0"), AllZeros)


def test_api_and_episode_length() -> None:
    parallel_api_test(swarmzoo.make("coordination-v0", n_agents=4), num_cycles=60)
    env = swarmzoo.make("coordination-v0", max_cycles=7)
    env.reset(seed=0)
    for t in range(7):
        _, _, term, trunc, _ = env.step({a: 0 for a in env.agents})
        assert not any(term.values()) and all(trunc.values()) == (t == 6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_agents": 1}, "n_agents"),
        ({"noise": 0.6}, "noise"),
        ({"noise": -0.1}, "noise"),
        ({"margin": 3}, "margin must be below n_agents=3"),
        ({"margin": -1}, "margin"),
        ({"margin": 1.5}, "margin"),
        ({"cue_steps": -1}, "cue_steps"),
        ({"observe": "others"}, "observe must be 'all' or 'own'"),
    ],
)
def test_bad_configs_are_refused_by_name(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        swarmzoo.make("coordination-v0", **kwargs)


def test_bad_actions_are_refused() -> None:
    venv = swarmzoo.make_vec("coordination-v0", 2, n_agents=3)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="out of range"):
        venv.step(np.full((2, 3), 2))


# -- the memory variant: a per-episode convention, shown only at the start --------------------


def test_cue_is_shown_only_during_the_first_cue_steps_and_the_state_holds_the_convention() -> None:
    venv = swarmzoo.make_vec("coordination-v0", 64, n_agents=3, cue_steps=2, observe="own", noise=0.0)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (64, 3, 1 + 3 + 2) and venv.observation_space.shape[-1] == 6
    conv = venv.task.convention.copy()
    assert 0 < conv.mean() < 1  # both conventions are drawn
    for t in range(4):
        cue = obs[:, :, -2:]
        if t < 2:  # one-hot over the paying bit, the same for every robot of a copy
            np.testing.assert_array_equal(cue.argmax(-1), np.repeat(conv[:, None], 3, 1))
            np.testing.assert_array_equal(cue.sum(-1), 1)
        else:
            np.testing.assert_array_equal(cue, 0)
        np.testing.assert_array_equal(venv.task.state()[:, -1], conv)
        actions = np.zeros((64, 3), dtype=np.int64)
        actions[:, 1] = 1
        obs, *_ = venv.step(actions)
        np.testing.assert_array_equal(obs[:, :, 0], actions)  # own bit only (no noise)
        np.testing.assert_array_equal(obs[:, :, 1:4], np.broadcast_to(np.eye(3), (64, 3, 3)))


def test_the_cued_convention_pays_3_and_the_other_2() -> None:
    venv = swarmzoo.make_vec("coordination-v0", 200, n_agents=5, cue_steps=1, noise=0.0)
    venv.reset(seed=1)
    conv = venv.task.convention.copy()
    for bit in (0, 1):
        _, rewards, _, _, infos = venv.step(np.full((200, 5), bit))
        np.testing.assert_array_equal(rewards[:, 0], np.where(conv == bit, 3.0, 2.0))
        np.testing.assert_array_equal(infos["convention_majority"], conv == bit)
        np.testing.assert_array_equal(infos["zeros_majority"], np.full(200, bit == 0))
        np.testing.assert_array_equal(infos["convention"], conv)
    # inside the margin (3-2): 1 if the bits against the convention lead, else 0
    _, rewards, *_ = venv.step(np.tile([0, 0, 0, 1, 1], (200, 1)))
    np.testing.assert_array_equal(rewards[:, 0], np.where(conv == 0, 0.0, 1.0))


def test_without_a_cue_zeros_pay_and_the_spaces_are_the_papers_game() -> None:
    plain = swarmzoo.make_vec("coordination-v0", 8, n_agents=4)
    cued = swarmzoo.make_vec("coordination-v0", 8, n_agents=4, cue_steps=1)
    a, _ = plain.reset(seed=3)
    b, _ = cued.reset(seed=3)
    assert a.shape == (8, 4, 8) and b.shape == (8, 4, 10)
    assert plain.state_space.shape == (4,) and cued.state_space.shape == (5,)
    rng = np.random.default_rng(0)
    for _ in range(5):
        _, rewards, _, _, infos = plain.step(rng.integers(0, 2, (8, 4)))
        assert not plain.task.convention.any() and "convention" not in infos
        np.testing.assert_array_equal(rewards[:, 0], coordination_reward(plain.task.bits.sum(1), 4, 1))


def test_the_heuristic_follows_the_cue_and_a_fixed_convention_loses_half_the_episodes() -> None:
    kwargs = dict(n_agents=5, cue_steps=1, observe="own")
    optimum = 50 * optimal_step_reward(Config(**kwargs))
    heuristic = evaluate(
        "coordination-v0", make_policy("heuristic", "coordination-v0"), episodes=32, seed=0, **kwargs
    )
    zeros = evaluate("coordination-v0", _FixedZeros(), episodes=32, seed=0, **kwargs)
    assert heuristic["mean_return"] == pytest.approx(optimum, rel=0.03)
    # zeros pay 3 in about half the episodes and 2 in the rest
    assert zeros["mean_return"] == pytest.approx(0.5 * optimum + 0.5 * 50 * 2 * 0.99, rel=0.05)


def test_the_heuristic_refuses_to_start_without_a_cue() -> None:
    venv = swarmzoo.make_vec("coordination-v0", 2, n_agents=3, cue_steps=1)
    obs, _ = venv.reset(seed=0)
    obs, *_ = venv.step(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="first observation"):
        AllZeros().act(obs, venv.task)


class _FixedZeros:
    def act(self, obs: np.ndarray, task) -> np.ndarray:
        return np.zeros(obs.shape[:2], dtype=np.int64)
