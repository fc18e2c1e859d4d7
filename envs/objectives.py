"""Scalarising vector rewards: a weighted sum of the objectives, for learners that want one reward.

An env made with ``objectives=(...)`` returns one reward per objective (MOMAland's API; see
:meth:`~swarmzoo.envs.core.task.SwarmTask.objective_rewards`). :class:`LinearizeReward` turns the
PettingZoo face back into a scalar-reward env, as MOMAland's ``LinearizeReward`` does;
:class:`LinearizeVectorReward` does the same for the vector face, so every scalar trainer runs on
a preference ``w``::

    env = swarmzoo.make("navigation-v0", objectives=("goals", "energy"))
    env = LinearizeReward(env, [0.8, 0.2])          # rewards are w . r, Python floats

    venv = swarmzoo.make_vec("navigation-v0", 32, objectives=("goals", "energy"))
    venv = LinearizeVectorReward(venv, [0.8, 0.2])  # rewards (E, N); episode_return too

Weights are not normalised or clipped: they must be finite and of the objectives' length.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pettingzoo.utils.wrappers import BaseParallelWrapper


def check_weights(weights: Any, objectives: tuple[str, ...], shape: tuple[int, ...] = ()) -> np.ndarray:
    """``weights`` as a float64 array of shape ``(*shape, K)``, ``(K,)`` broadcast if given so.

    Raises:
        ValueError: the env has no objectives, or the weights are not finite numbers of the
            objectives' length (naming the objectives and the shape given).
    """
    if not objectives:
        raise ValueError("the env has scalar rewards: make it with objectives=(...) to weight them")
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"weights must be numbers, one per objective {objectives}, got {weights!r}"
        ) from None
    k = len(objectives)
    if w.shape not in ((k,), (*shape, k)):
        want = f"({k},)" + (f" or {(*shape, k)}" if shape else "")
        raise ValueError(f"weights must have shape {want} for the objectives {objectives}, got {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError(f"weights must be finite, got {w.tolist()}")
    return np.broadcast_to(w, (*shape, k)) if shape else w


class LinearizeReward(BaseParallelWrapper):
    """A multi-objective PettingZoo ``ParallelEnv`` with rewards ``w_agent . r`` (floats).

    Args:
        env: a swarmzoo ``ParallelEnv`` made with ``objectives``.
        weights: one ``(K,)`` preference for every agent, or ``{agent: (K,)}`` for each.
    """

    def __init__(self, env: Any, weights: Any) -> None:
        super().__init__(env)
        objectives = tuple(getattr(env.unwrapped, "objectives", ()))
        if isinstance(weights, dict):
            missing = [a for a in env.possible_agents if a not in weights]
            unknown = [a for a in weights if a not in env.possible_agents]
            if missing or unknown:
                raise ValueError(f"weights: agents without weights {missing}, unknown agents {unknown}")
            self.weights = {a: check_weights(weights[a], objectives) for a in env.possible_agents}
        else:
            w = check_weights(weights, objectives)
            self.weights = dict.fromkeys(env.possible_agents, w)

    def step(self, actions: dict[str, Any]):
        obs, rewards, terminations, truncations, infos = self.env.step(actions)
        scalar = {a: float(np.dot(self.weights[a], r)) for a, r in rewards.items()}
        return obs, scalar, terminations, truncations, infos


class LinearizeVectorReward:
    """A multi-objective vector env with rewards ``(E, N) = r (E, N, K) . w``.

    ``infos["episode_return"]`` is weighted the same way; the objectives' own returns stay in
    ``infos["episode_return_objectives"] (E, N, K)``. Everything else is the wrapped env's.

    Args:
        venv: a swarmzoo vector env made with ``objectives``.
        weights: ``(K,)`` for every robot or ``(N, K)``, one preference per robot.
    """

    def __init__(self, venv: Any, weights: Any) -> None:
        self.venv = venv
        self.weights = check_weights(weights, tuple(getattr(venv, "objectives", ())), (venv.n_agents,))
        self.objectives = ()
        self.single_reward_space = None

    def __getattr__(self, name: str) -> Any:
        if name == "venv":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.venv, name)

    def step(self, actions: np.ndarray):
        obs, rewards, terminations, truncations, infos = self.venv.step(actions)
        if "episode_return" in infos:
            infos = dict(infos)
            infos["episode_return_objectives"] = infos["episode_return"]
            infos["episode_return"] = np.einsum("enk,nk->en", infos["episode_return"], self.weights)
        return obs, np.einsum("enk,nk->en", rewards, self.weights), terminations, truncations, infos
