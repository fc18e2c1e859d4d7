"""Stable-Baselines3 without SuperSuit: every robot of every env copy is one ``VecEnv`` slot.

Parameter sharing comes for free: SB3 sees ``E * N`` independent-looking envs with one robot's
observation and action space, so ``PPO("MlpPolicy", SB3VecEnv("navigation-v0", num_envs=8))``
trains one policy for all robots. Slot ``e * N + i`` is robot ``i`` of copy ``e``.

Episode ends follow SB3's conventions: ``dones`` is True for every slot of a copy that just
reset, ``infos[k]["terminal_observation"]`` holds that robot's last observation, and
``infos[k]["TimeLimit.truncated"]`` tells truncation from termination so SB3 bootstraps
correctly. ``infos[k]["episode"]`` carries ``{"r", "l", "t"}`` like SB3's ``Monitor``, so
``ep_rew_mean`` is logged and ``evaluate_policy`` works without extra wrappers.

:class:`SB3Policy` turns a trained SB3 model back into a swarmzoo policy (``act(obs (E, N, D),
task)``), so ``swarmzoo.evaluation.evaluate`` and ``record`` (videos) take it;
:class:`VideoCallback` records an episode of the current policy every ``every`` steps during
``learn``. ``scripts/train_sb3.py`` puts it together: PPO with parameter sharing, progress bar,
evaluation and checkpoint callbacks, optional videos.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

import swarmzoo
from swarmzoo.envs.core.vector import SwarmVectorEnv


class SB3VecEnv(VecEnv):
    """An SB3 ``VecEnv`` over a swarmzoo vector env.

    Args:
        env: an env id (then ``num_envs`` and ``env_kwargs`` build the vector env) or an existing
            :class:`~swarmzoo.envs.core.vector.SwarmVectorEnv`.
        num_envs: env copies ``E`` when ``env`` is an id.
        **env_kwargs: the env's arguments when ``env`` is an id.
    """

    def __init__(self, env: str | SwarmVectorEnv, num_envs: int = 1, **env_kwargs: Any) -> None:
        self.venv = swarmzoo.make_vec(env, num_envs, **env_kwargs) if isinstance(env, str) else env
        self.n_copies = self.venv.num_envs
        self.n_agents = self.venv.n_agents
        self.render_mode = self.venv.render_mode
        self._actions: np.ndarray | None = None
        self._start = time.time()
        super().__init__(
            self.n_copies * self.n_agents, self.venv.single_observation_space, self.venv.single_action_space
        )

    def _flat(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(self.num_envs, *x.shape[2:])

    def reset(self) -> np.ndarray:
        obs, _ = self.venv.reset(seed=self._seeds[0])
        self._reset_seeds()
        return self._flat(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.n_copies, self.n_agents, *self.action_space.shape)

    def step_wait(self):
        obs, rewards, term, trunc, infos = self.venv.step(self._actions)
        done_copies = infos["_episode"]
        dones = np.repeat(done_copies, self.n_agents)
        slot_infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done_copies.any():
            elapsed = round(time.time() - self._start, 6)
            final_obs = infos["final_obs"]
            returns = infos["episode_return"]
            lengths = infos["episode_length"]
            for e in np.flatnonzero(done_copies):
                truncated = trunc[e] & ~term[e]
                for i in range(self.n_agents):
                    slot_infos[e * self.n_agents + i] = {
                        "terminal_observation": final_obs[e, i],
                        "TimeLimit.truncated": bool(truncated[i]),
                        "episode": {"r": float(returns[e, i]), "l": int(lengths[e]), "t": elapsed},
                    }
        return self._flat(obs), self._flat(rewards).astype(np.float32), dones, slot_infos

    def close(self) -> None:
        self.venv.close()

    def _indices(self, indices: VecEnvIndices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return indices

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        # The slots report Monitor's episode statistics themselves (infos["episode"]).
        return [wrapper_class is Monitor for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        frame = self.venv.render()
        return [frame] + [None] * (self.num_envs - 1)


class SB3Policy:
    """A trained SB3 model as a swarmzoo policy: every robot's observation through ``predict``.

    Args:
        model: an SB3 algorithm trained on :class:`SB3VecEnv` (one robot per slot).
        deterministic: take the most likely action (``False``: sample).
    """

    def __init__(self, model: Any, deterministic: bool = True) -> None:
        self.model = model
        self.deterministic = deterministic

    def act(self, obs: np.ndarray, task: Any) -> np.ndarray:
        E, N, D = obs.shape
        actions, _ = self.model.predict(obs.reshape(E * N, D), deterministic=self.deterministic)
        return actions.reshape(E, N, *actions.shape[1:])


class VideoCallback(BaseCallback):
    """Record one episode of the current policy every ``every`` environment steps (and at the end).

    Videos go to ``folder/step_<N>.mp4``; the env is built with ``env_kwargs`` and seeded with
    ``seed`` so videos at different steps show the same initial state.
    """

    def __init__(
        self, env_id: str, folder: str | Path, every: int, seed: int = 0, verbose: int = 0, **env_kwargs: Any
    ) -> None:
        super().__init__(verbose)
        if every < 1:
            raise ValueError(f"video interval must be >= 1 step, got {every}")
        self.env_id = env_id
        self.folder = Path(folder)
        self.every = every
        self.seed = seed
        self.env_kwargs = env_kwargs
        self.paths: list[Path] = []
        self._next = 0

    def _record(self) -> None:
        from swarmzoo.evaluation import record

        path = self.folder / f"step_{self.num_timesteps}.mp4"
        self.paths.append(record(self.env_id, SB3Policy(self.model), path, seed=self.seed, **self.env_kwargs))
        self._next = self.num_timesteps + self.every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._record()
        return True

    def _on_training_end(self) -> None:
        if not self.paths or self.paths[-1].name != f"step_{self.num_timesteps}.mp4":
            self._record()
