"""Build the vector env a trainer steps, from a swarmzoo id or any PettingZoo factory.

Shape contract of what it returns (swarmzoo's vector face, or the PettingZoo batch adapter):
``reset(seed) -> (obs (E, N, D), infos)``; ``step(actions (E, N[, A])) -> (obs, rewards (E, N),
terminations (E, N), truncations (E, N), infos)`` with auto-reset and ``infos["final_obs"]``,
``infos["final_state"]``, ``infos["episode_return"]`` valid where ``infos["_final_obs"]``;
``state() -> (E, S)``.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from typing import Any

from swarmzoo.envs.objectives import LinearizeVectorReward
from swarmzoo.envs.registry import make_vec


def parse_env_kwargs(pairs: Iterable[str] | dict[str, Any]) -> dict[str, Any]:
    """``["n_agents=5", "boundary=torus"]`` -> ``{"n_agents": 5, "boundary": "torus"}``.

    Values are Python literals (ints, floats, True/False/None, strings); anything else is kept
    as a string. A dict passes through. Raises ``ValueError`` for an item without ``=`` or a key
    given twice.
    """
    if isinstance(pairs, dict):
        return dict(pairs)
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"env argument {pair!r} is not KEY=VALUE")
        if key in out:
            raise ValueError(f"env argument {key!r} is given twice ({pair!r})")
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            # Not a literal (``{[1]: 2}`` raises TypeError, deep nesting a RecursionError).
            out[key] = raw
    return out


def make_training_env(
    env: str, num_envs: int, env_kwargs: dict[str, Any], reward_weights: tuple[float, ...] = ()
):
    """A swarmzoo vector env for a registered id, else the PettingZoo batch adapter for
    ``"module:factory"``. An env made with ``objectives`` is trained on ``reward_weights . r``
    (:class:`~swarmzoo.envs.objectives.LinearizeVectorReward`).

    Raises:
        ValueError: an env with objectives but no ``reward_weights``, or weights for an env
            with scalar rewards (or of the wrong length).
    """
    if ":" in env:
        from swarmzoo.envs.pettingzoo_vector import ParallelEnvBatch, load_factory

        if reward_weights:
            raise ValueError("--reward-weights needs a swarmzoo env made with objectives")
        factory = load_factory(env)
        return ParallelEnvBatch(functools.partial(factory, **env_kwargs), num_envs)
    venv = make_vec(env, num_envs, **env_kwargs)
    if venv.objectives and not reward_weights:
        raise ValueError(
            f"{env} has vector rewards (objectives {venv.objectives}): give --reward-weights, one "
            "weight per objective, to train on their weighted sum"
        )
    if reward_weights:
        return LinearizeVectorReward(venv, reward_weights)
    return venv
