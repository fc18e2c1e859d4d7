"""The PettingZoo face's per-agent infos: the template-dict builder against a plain one."""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo


def plain_infos(info: dict, names: list[str], idx) -> dict:
    out = {a: {} for a in names}
    for key, arr in info.items():
        arr = np.asarray(arr)[0]
        for k, a in enumerate(names):
            if arr.ndim == 0:
                out[a][key] = arr.item()
            else:
                out[a][key] = (arr if idx is None else arr[idx])[k].tolist()
    return out


@pytest.mark.parametrize("env_id", ["flocking-v0", "aggregation-v0", "navigation-v0", "coordination-v0"])
def test_infos_match_a_plain_builder_in_values_and_key_order(env_id: str) -> None:
    env = swarmzoo.make(env_id, n_agents=7)
    env.reset(seed=0)
    acts = {a: env.action_space(a).sample() for a in env.agents}
    _, _, _, info = env.task.step(env._action_batch(acts))
    for names, idx in ((env.agents, None), (env.agents[2:5], np.arange(2, 5))):
        got = env._agent_infos(info, names, idx)
        want = plain_infos(info, names, idx)
        assert got == want
        assert all(list(got[a]) == list(info) for a in names)
        got[names[0]][next(iter(info))] = "changed"  # every agent holds its own dict
        assert got[names[1]] == want[names[1]]


def test_a_column_of_the_wrong_length_is_refused_by_name() -> None:
    env = swarmzoo.make("flocking-v0", n_agents=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="info 'bad' has 3 values for 4 agents"):
        env._agent_infos({"bad": np.zeros((1, 3))}, env.agents, None)
