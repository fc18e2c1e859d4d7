"""Big batches take their temporaries from reused work memory (``envs/core/scratch.py``); the
results must be those of the plain path, and nothing handed out may be overwritten later.

``navigation-v0`` switches to the scratch path at ``E * N >= SCRATCH_MIN_ROBOTS``: copies of a
big vector env must replay PettingZoo envs (which run the plain path) step for step, and an
observation returned at one step must keep its values after the next steps.
"""

from __future__ import annotations

import numpy as np
import pytest

import swarmzoo
from swarmzoo.envs.navigation_task import SCRATCH_MIN_ROBOTS

N = 3
E = SCRATCH_MIN_ROBOTS // N + 8  # just past the threshold
SEED = 5
CHECKED = (0, 1, E // 2, E - 1)  # copies replayed through the PettingZoo face


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param(dict(preset="mpe_spread", max_cycles=6), id="mpe_spread"),
        pytest.param(dict(max_cycles=6), id="default"),
    ],
)
def test_big_batch_matches_the_plain_path_and_keeps_returned_arrays(kwargs) -> None:
    venv = swarmzoo.make_vec("navigation-v0", E, n_agents=N, **kwargs)
    envs = {i: swarmzoo.make("navigation-v0", n_agents=N, **kwargs) for i in CHECKED}
    agents = envs[0].possible_agents
    vobs, _ = venv.reset(seed=SEED)
    for i, env in envs.items():
        obs, _ = env.reset(seed=SEED + i)
        np.testing.assert_array_equal(vobs[i], np.stack([obs[a] for a in agents]))
    rng = np.random.default_rng(1)
    kept = []  # (observation as returned, a private copy of it)
    for _ in range(2 * kwargs["max_cycles"] + 2):
        acts = rng.integers(0, 5, size=(E, N))
        vobs, vrew, _, _, vinfos = venv.step(acts)
        kept.append((vobs, vobs.copy()))
        for i, env in envs.items():
            obs, rew, term, trunc, _ = env.step(dict(zip(agents, acts[i].tolist(), strict=True)))
            if all(term.values()) or all(trunc.values()):
                np.testing.assert_array_equal(vinfos["final_obs"][i], np.stack([obs[a] for a in agents]))
                obs, _ = env.reset()
            np.testing.assert_array_equal(vobs[i], np.stack([obs[a] for a in agents]))
            np.testing.assert_array_equal(vrew[i], [rew[a] for a in agents])
    assert vobs.flags.c_contiguous
    for returned, private in kept:
        np.testing.assert_array_equal(returned, private)
