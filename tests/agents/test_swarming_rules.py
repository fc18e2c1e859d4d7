"""The swarming rules: decentralised (observation in, action out), scale-free, and better than random."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.agents.swarming import KuramotoRule, LocalCentroidRule, VicsekRule
from swarmzoo.evaluation import evaluate

RULES = {"flocking-v0": VicsekRule, "kuramoto-v0": KuramotoRule, "aggregation-v0": LocalCentroidRule}


@pytest.mark.parametrize("env_id", sorted(RULES))
def test_heuristic_name_resolves_to_the_rule(env_id):
    assert isinstance(make_policy("heuristic", env_id), RULES[env_id])


@pytest.mark.parametrize("env_id", sorted(RULES))
@pytest.mark.parametrize("continuous", [False, True])
def test_rules_read_only_the_observation(env_id, continuous):
    """Scrambling every state array after observing leaves the actions unchanged: the rules act on
    each robot's own observation (plus the config's action scaling) and nothing else."""
    venv = swarmzoo.make_vec(env_id, 2, n_agents=30, continuous_actions=continuous)
    obs, _ = venv.reset(seed=0)
    task = venv.task
    make = (lambda: RULES[env_id](seed=3)) if env_id == "aggregation-v0" else RULES[env_id]
    before = make().act(obs, task)
    rng = np.random.default_rng(1)
    for name in ("pos", "heading", "phase", "omega"):
        if hasattr(task, name):
            setattr(task, name, rng.permutation(getattr(task, name), axis=1) + 0.37)
    np.testing.assert_array_equal(make().act(obs, task), before)
    if env_id != "aggregation-v0":  # (the centroid rule's lone robots draw random directions)
        # Each robot's action depends on its own row only: permuting robots permutes actions.
        perm = rng.permutation(30)
        np.testing.assert_array_equal(make().act(obs[:, perm], task), before[:, perm])


@pytest.mark.parametrize("env_id", sorted(RULES))
def test_rules_beat_random_by_a_wide_margin(env_id):
    heuristic = evaluate(env_id, make_policy("heuristic", env_id, seed=0), episodes=4, num_envs=4)
    random = evaluate(env_id, make_policy("random", env_id, seed=0), episodes=4, num_envs=4)
    # Flocking and Kuramoto returns are sums of order parameters (>= 0), aggregation's are -spread.
    if env_id == "aggregation-v0":
        assert heuristic["mean_return"] > 0.6 * random["mean_return"]  # less than 60% of the spread
    else:
        assert heuristic["mean_return"] > 3.0 * random["mean_return"]


@pytest.mark.parametrize("n_agents", [10, 1000])
def test_vicsek_rule_runs_unchanged_at_any_swarm_size(n_agents):
    venv = swarmzoo.make_vec("flocking-v0", 1, n_agents=n_agents, heading_noise=0.0, max_cycles=500)
    obs, _ = venv.reset(seed=0)
    rule = VicsekRule()
    for _ in range(400):  # ordering spreads from local domains: slower in a bigger arena
        obs, _, _, _, info = venv.step(rule.act(obs, venv.task))
    # Local alignment from a disordered start: the flock ends much more ordered than 1/sqrt(N).
    assert info["order_parameter"][0] > 0.5
