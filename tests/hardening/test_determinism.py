"""Determinism: the same seed gives the same rollout in every process, and today's rollouts match
the golden ones stored under ``golden/``.

* **Across processes.** Every registered env is rolled out (vector face, 2 copies of 5 robots,
  episodes of 8 steps, so auto-resets happen) for 50 steps under a random policy seeded from the
  same seed, and under the env's scripted heuristic; actions, observations, rewards,
  terminations and truncations are hashed (sha256 of their bytes). Two fresh interpreters with
  different ``PYTHONHASHSEED`` values and this one must give the same hashes, bit for bit. (The
  faces' agreement, PettingZoo vs vector, is ``tests/envs/test_faces_parity.py``.)
* **Golden trajectories.** ``golden/trajectories.json`` holds, per env, the sha256 of the first 20
  steps (seed 0, random policy) and per-step sums of observations and rewards. Floats are hashed
  after rounding to 4 decimals: numpy picks its SIMD kernels (summation order, ``sin``/``exp``) by
  CPU at run time, so the last bits of float results can differ between machines (AVX2 vs
  AVX-512), and every env sums floats; rounding keeps the hash stable across them. Should a
  rounded value still flip on some machine, the per-step sums decide: within ``rtol=1e-5`` of the
  golden ones the difference is floating-point noise and the test passes; otherwise it fails and
  names the first step that changed.

When a change of trajectories is intended (new physics, a new observation entry), regenerate::

    python tests/hardening/test_determinism.py --regenerate-golden

and commit the JSON with the change, saying why in the commit message.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import swarmzoo

NUM_ENVS = 2
SWARM = 5
MAX_CYCLES = 8
STEPS = 50
GOLDEN_STEPS = 20
DECIMALS = 4
GOLDEN = Path(__file__).parent / "golden" / "trajectories.json"
REGENERATE = "python tests/hardening/test_determinism.py --regenerate-golden"


def env_kwargs(env_id: str) -> dict:
    """A small swarm with short episodes, whatever the env calls its swarm size."""
    fields = {f.name for f in dataclasses.fields(swarmzoo.spec(env_id).load().Config)}
    return {"n_agents" if "n_agents" in fields else "n_robots": SWARM, "max_cycles": MAX_CYCLES}


def random_actions(venv, rng: np.random.Generator) -> np.ndarray:
    space, shape = venv.single_action_space, (venv.num_envs, venv.n_agents)
    if hasattr(space, "n"):
        return rng.integers(space.start, space.start + space.n, size=shape)
    return rng.uniform(space.low, space.high, size=(*shape, *space.shape)).astype(space.dtype)


def _feed(h: hashlib._Hash, *arrays) -> None:
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())


def _rounded(a) -> np.ndarray:
    return np.round(np.asarray(a, dtype=np.float64), DECIMALS) + 0.0  # + 0.0: no -0.0


def rollout(env_id: str, seed: int = 0, policy: str = "random", steps: int = STEPS) -> dict:
    """Roll ``env_id`` out; returns ``exact`` (sha256 of every array's bytes), and for the first
    ``GOLDEN_STEPS`` steps ``golden`` (sha256 of rounded observations and rewards) and ``sums``
    (per step: sum of observations, sum of rewards, terminations, truncations)."""
    from swarmzoo.agents import make_policy

    venv = swarmzoo.make_vec(env_id, NUM_ENVS, **env_kwargs(env_id))
    rng = np.random.default_rng(seed)
    scripted = None if policy == "random" else make_policy(policy, env_id, seed=seed)
    obs, _ = venv.reset(seed=seed)
    exact, golden = hashlib.sha256(), hashlib.sha256()
    _feed(exact, obs)
    _feed(golden, _rounded(obs))
    out: dict = {"sums": []}
    for t in range(steps):
        acts = random_actions(venv, rng) if scripted is None else scripted.act(obs, venv.task)
        obs, rew, term, trunc, infos = venv.step(acts)
        _feed(exact, acts, obs, rew, term, trunc, infos["_final_obs"])
        if t < GOLDEN_STEPS:
            _feed(golden, _rounded(obs), _rounded(rew))
            out["sums"].append(
                [float(np.sum(obs, dtype=np.float64)), float(np.sum(rew)), int(term.sum()), int(trunc.sum())]
            )
            if t + 1 == GOLDEN_STEPS:
                out["golden"] = golden.hexdigest()
    venv.close()
    out["exact"] = exact.hexdigest()
    return out


def all_hashes() -> dict[str, dict[str, str]]:
    """``exact``: ``{"ENV/random": sha256, "ENV/heuristic": sha256}``, and ``golden``: ``{"ENV":
    sha256 of the rounded first steps}``, for every registered env."""
    out: dict[str, dict[str, str]] = {"exact": {}, "golden": {}}
    for env_id in swarmzoo.list_envs():
        for policy in ("random", "heuristic"):
            got = rollout(env_id, seed=0, policy=policy)
            out["exact"][f"{env_id}/{policy}"] = got["exact"]
            if policy == "random":
                out["golden"][env_id] = got["golden"]
    return out


def _baseline_simd() -> str:
    """``NPY_DISABLE_CPU_FEATURES`` value that turns off every SIMD target numpy dispatches to on
    this CPU (AVX2 / AVX-512 on x86), leaving the baseline kernels an older CPU would run."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # pragma: no cover - numpy < 2 or a build without dispatch
        return ""
    return " ".join(f for f in __cpu_dispatch__ if __cpu_features__.get(f))


def _hashes_in_new_process(**env_vars: str) -> dict[str, dict[str, str]]:
    env = dict(os.environ, **env_vars)
    done = subprocess.run(
        [sys.executable, __file__, "--hashes"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_same_seed_same_rollouts_across_processes() -> None:
    """Bit-identical in a fresh interpreter with another ``PYTHONHASHSEED``; and with numpy held to
    its baseline SIMD kernels (as on an older CPU: ``exp`` then differs in the last bits), the
    rounded golden hashes still agree."""
    here = all_hashes()
    assert set(here["exact"]) == {f"{e}/{p}" for e in swarmzoo.list_envs() for p in ("random", "heuristic")}
    there = _hashes_in_new_process(PYTHONHASHSEED="0")
    differ = sorted(k for k in here["exact"] if there["exact"].get(k) != here["exact"][k])
    assert not differ, f"rollouts differ in a process with PYTHONHASHSEED=0: {differ}"
    other_cpu = _hashes_in_new_process(PYTHONHASHSEED="4242", NPY_DISABLE_CPU_FEATURES=_baseline_simd())
    differ = sorted(k for k in here["golden"] if other_cpu["golden"].get(k) != here["golden"][k])
    assert not differ, f"rounded rollouts differ with numpy's baseline SIMD kernels: {differ}"


def test_different_seeds_differ() -> None:
    """The hashes are sensitive: another seed gives other rollouts, in every env."""
    same = [
        e for e in swarmzoo.list_envs() if rollout(e, 0, steps=5)["exact"] == rollout(e, 1, steps=5)["exact"]
    ]
    assert not same, same


def _load_golden() -> dict:
    if not GOLDEN.is_file():
        pytest.fail(f"no golden trajectories at {GOLDEN}; create them with `{REGENERATE}`")
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("env_id", swarmzoo.list_envs())
def test_golden_trajectory(env_id: str) -> None:
    golden = _load_golden()
    assert env_id in golden, f"{env_id} has no golden trajectory: run `{REGENERATE}` and commit the JSON"
    want = golden[env_id]
    assert want["kwargs"] == env_kwargs(env_id)
    got = rollout(env_id, seed=0, steps=GOLDEN_STEPS)
    if got["golden"] == want["sha256"]:
        return
    sums, ref = np.array(got["sums"]), np.array(want["sums"])
    close = np.isclose(sums, ref, rtol=1e-5, atol=1e-8).all(axis=1)
    if close.all():  # a rounded value flipped on this CPU; the trajectory is the same
        warnings.warn(f"{env_id}: golden hash differs by floating-point noise only", stacklevel=1)
        return
    step = int(np.argmin(close))
    pytest.fail(
        f"{env_id}'s seed-0 trajectory changed at step {step + 1} of {GOLDEN_STEPS}: (obs sum, reward "
        f"sum, terminations, truncations) = {sums[step].tolist()}, golden {ref[step].tolist()}. If "
        f"the change is intended, regenerate with `{REGENERATE}` and commit the JSON."
    )


def regenerate_golden() -> None:
    data: dict = {
        "_about": (
            f"seed 0, {NUM_ENVS} vector copies, random policy, {GOLDEN_STEPS} steps; sha256 of observations "
            f"and rewards rounded to {DECIMALS} decimals; sums per step: obs, reward, terminations, "
            f"truncations. Regenerate: {REGENERATE}"
        )
    }
    for env_id in swarmzoo.list_envs():
        got = rollout(env_id, seed=0, steps=GOLDEN_STEPS)
        data[env_id] = {"kwargs": env_kwargs(env_id), "sha256": got["golden"], "sums": got["sums"]}
    GOLDEN.parent.mkdir(exist_ok=True)
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in data.items()]
    GOLDEN.write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one env per line: readable diffs
    print(f"wrote {GOLDEN} ({len(data) - 1} envs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Rollout hashes of every registered env.")
    parser.add_argument("--hashes", action="store_true", help="print exact rollout hashes as JSON")
    parser.add_argument("--regenerate-golden", action="store_true", help=f"rewrite {GOLDEN.name}")
    opts = parser.parse_args()
    if opts.regenerate_golden:
        regenerate_golden()
    if opts.hashes:
        print(json.dumps(all_hashes()))
