"""The native batched TorchRL env over swarmzoo's vector face: :class:`SwarmVecEnv`.

Made by :func:`swarmzoo.integrations.torchrl.make_torchrl_vec_env` (and re-exported there); this
module imports torch and torchrl, the rest of :mod:`swarmzoo.integrations.torchrl` does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite, OneHot, Unbounded
from torchrl.envs import EnvBase

from swarmzoo.integrations import group_map

__all__ = ["SwarmVecEnv"]

_DONE_KEYS = ("done", "terminated", "truncated")

# Outputs are built from fresh tensors of the right shapes and device: skip TensorDict's checks.
_new_td = getattr(TensorDict, "_new_unsafe", TensorDict)


def _box_spec(space: spaces.Box, shape: tuple[int, ...], device: Any) -> Any:
    """``Bounded`` where the space's bounds are finite, else ``Unbounded`` (float32)."""
    low, high = np.broadcast_to(space.low, space.shape), np.broadcast_to(space.high, space.shape)
    dtype = torch.float32
    if np.isfinite(low).all() and np.isfinite(high).all():
        lead = shape[: len(shape) - len(space.shape)]
        low_t = torch.as_tensor(np.broadcast_to(low, (*lead, *space.shape)).copy(), dtype=dtype)
        high_t = torch.as_tensor(np.broadcast_to(high, (*lead, *space.shape)).copy(), dtype=dtype)
        return Bounded(low=low_t, high=high_t, shape=shape, dtype=dtype, device=device)
    return Unbounded(shape=shape, dtype=dtype, device=device)


# What the vector face's infos hold beside the metrics: episode ends and their bookkeeping.
_FACE_KEYS = ("final_obs", "final_state", "episode_return", "episode_length")


def _info_keys(venv: Any) -> tuple[str, ...]:
    """The metric keys of a vector env's infos (reset and a step, on a deep copy, and those the
    task reports at some steps only), those of shape (E,) or (E, N), in first-seen order."""
    import copy

    probe = copy.deepcopy(venv)
    _, reset_infos = probe.reset(seed=0)
    act = probe.single_action_space
    actions = np.stack([act.sample() for _ in range(probe.num_envs * probe.n_agents)])
    step_infos = probe.step(actions.reshape(probe.num_envs, probe.n_agents, *act.shape))[4]
    probe.close()
    keys: dict[str, None] = {}
    occasional = {key: np.zeros(venv.num_envs) for key in probe.task.occasional_infos()}
    for infos in (reset_infos, step_infos, occasional):
        for key, value in infos.items():
            shape = np.shape(value)
            if (
                key.startswith("_")
                or key in _FACE_KEYS
                or shape not in ((venv.num_envs,), (venv.num_envs, venv.n_agents))
            ):
                continue
            keys[key] = None
    return tuple(keys)


class SwarmVecEnv(EnvBase):
    """``E`` copies of a swarmzoo env as one batched TorchRL env, over the vector face.

    Keys follow TorchRL's MARL conventions (as ``VmasEnv`` and ``PettingZooWrapper``): agents
    are grouped by :func:`group_map` (``"robot"``, and ``"byzantine"`` where the Byzantine
    robots are agents), each group's entries stacked along an agent dimension:
    ``(group, "observation")`` ``(E, n, D)``, ``(group, "action")`` ``(E, n)`` (categorical),
    ``(E, n, K)`` (one-hot) or ``(E, n, A)`` (box), ``("next", group, "reward")`` ``(E, n, 1)``,
    ``(group, "done" | "terminated" | "truncated")`` ``(E, n, 1)``; at the root ``"done"``,
    ``"terminated"``, ``"truncated"`` ``(E, 1)`` and ``"state"`` ``(E, S)``.

    **Dones.** A robot's done flags stay True from the step it finished (coverage with a
    ``battery``) until its copy ends; its actions are then ignored and its rewards are 0. A copy
    is done when all its robots are: root ``"terminated"`` when every robot terminated, else
    root ``"truncated"``. TorchRL resets from the root flags only (as in ``VmasEnv``).

    **Resets.** The vector face resets a finished copy inside ``step``. This env keeps the
    true last observation and state of the episode in the ``"next"`` tensordict and holds the
    copy's first observation of the new episode back; the ``reset`` TorchRL calls with a
    ``"_reset"`` mask (``step_and_maybe_reset``, ``rollout``, collectors) then returns it
    without stepping or drawing again, so a rollout replays the vector face step for step.
    A ``"_reset"`` mask naming copies that have not finished (e.g. a ``StepCounter`` transform
    cut them) starts new episodes for them from their own random streams; a reset without a
    mask restarts every copy (seeded by ``seed`` / ``set_seed`` the first time after them).
    A copy stepped again without a reset continues in its new episode.

    **Metrics.** With ``return_info=True`` the vector face's per-step metrics come as
    ``(group, "info", key)`` ``(E, n)`` float32 (a copy-wide metric repeated for each robot), as
    TorchRL's ``PettingZooWrapper`` gives them (BenchMARL logs them). The keys are read once
    from a deep copy of the env (a reset and one step), so the env's own streams are untouched.
    A metric a step does not report (coverage's ``w2`` between its evaluations), and every
    metric of a reset the env does not report it for, is NaN: not measured, never 0.

    Args:
        venv: a swarmzoo vector env (``swarmzoo.make_vec``).
        device: the torch device of the tensors.
        seed: seed of the first reset.
        categorical_actions: discrete actions as indices (True) or one-hot vectors (False).
        return_state: add the global state as the root key ``"state"``.
        return_info: add the per-step metrics (see above).
    """

    def __init__(
        self,
        venv: Any,
        *,
        device: Any = "cpu",
        seed: int | None = None,
        categorical_actions: bool = True,
        return_state: bool = True,
        return_info: bool = False,
    ) -> None:
        E, N = venv.num_envs, venv.n_agents
        super().__init__(device=device, batch_size=torch.Size([E]))
        self.venv = venv
        self.num_envs, self.n_agents = E, N
        self.categorical_actions = categorical_actions
        self.return_state = return_state
        self.group_map = group_map(venv.agents)
        position = {a: i for i, a in enumerate(venv.agents)}
        # Each group's agents as a slice of the agent axis when contiguous (views, no copies),
        # else as an index array.
        self._index: dict[str, slice | np.ndarray] = {}
        for group, names in self.group_map.items():
            ids = np.array([position[a] for a in names])
            contiguous = (np.diff(ids) == 1).all()
            self._index[group] = slice(int(ids[0]), int(ids[-1]) + 1) if contiguous else ids
        self._single_group = len(self.group_map) == 1
        act = venv.single_action_space
        self._discrete = isinstance(act, spaces.Discrete)
        self._action_start = int(act.start) if self._discrete else 0
        self.info_keys: tuple[str, ...] = _info_keys(venv) if return_info else ()
        self._make_specs()
        self._cpu = self.device is None or self.device.type == "cpu"
        self._seed = seed
        self._obs: np.ndarray | None = None  # every copy's current observation (after auto-resets)
        self._state: np.ndarray | None = None
        self._term = np.zeros((E, N), dtype=bool)  # sticky per-robot flags of the running episodes
        self._trunc = np.zeros((E, N), dtype=bool)
        self._pending = np.zeros(E, dtype=bool)  # copies the vector face already reset in step

    # -- specs ------------------------------------------------------------------------------

    def _make_specs(self) -> None:
        E, dev, venv = self.num_envs, self.device, self.venv
        obs_space, act = venv.single_observation_space, venv.single_action_space
        obs, actions, rewards, dones = {}, {}, {}, {}
        for group, names in self.group_map.items():
            n = len(names)
            obs[group] = Composite(
                observation=_box_spec(obs_space, (E, n, *obs_space.shape), dev), shape=(E, n)
            )
            if self._discrete:
                if self.categorical_actions:
                    action = Categorical(act.n, shape=(E, n), dtype=torch.int64, device=dev)
                else:
                    action = OneHot(act.n, shape=(E, n, int(act.n)), dtype=torch.int64, device=dev)
            else:
                action = _box_spec(act, (E, n, *act.shape), dev)
            actions[group] = Composite(action=action, shape=(E, n))
            rewards[group] = Composite(
                reward=Unbounded(shape=(E, n, 1), dtype=torch.float32, device=dev), shape=(E, n)
            )
            dones[group] = Composite(
                {k: Categorical(2, shape=(E, n, 1), dtype=torch.bool, device=dev) for k in _DONE_KEYS},
                shape=(E, n),
            )
            if self.info_keys:
                obs[group]["info"] = Composite(
                    {k: Unbounded(shape=(E, n), dtype=torch.float32, device=dev) for k in self.info_keys},
                    shape=(E, n),
                )
        if self.return_state:
            obs["state"] = _box_spec(venv.state_space, (E, *venv.state_space.shape), dev)
        for k in _DONE_KEYS:
            dones[k] = Categorical(2, shape=(E, 1), dtype=torch.bool, device=dev)
        self.observation_spec = Composite(obs, shape=(E,), device=dev)
        self.full_action_spec = Composite(actions, shape=(E,), device=dev)
        self.full_reward_spec = Composite(rewards, shape=(E,), device=dev)
        self.full_done_spec = Composite(dones, shape=(E,), device=dev)

    # -- EnvBase ----------------------------------------------------------------------------

    def _set_seed(self, seed: int | None) -> None:
        self._seed = seed

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs: Any) -> TensorDictBase:
        mask = None if tensordict is None else tensordict.get("_reset", None)
        infos = None
        if mask is None or self._obs is None:
            infos = self._full_reset()
        else:
            mask = mask.reshape(self.num_envs).cpu().numpy()
            stale = mask & ~self._pending  # copies cut mid-episode: start them now
            if stale.all():
                self._full_reset()
            elif stale.any():
                self._reset_copies(np.flatnonzero(stale))
            self._pending &= ~mask
        return self._output(self._obs, self._state, infos=infos)

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        E = self.num_envs
        actions = self._read_actions(tensordict)
        obs, rewards, term, trunc, infos = self.venv.step(actions)
        state = self.venv.state() if self.return_state else None
        term = self._term | term
        trunc = (self._trunc | trunc) & ~term
        finished = infos["_episode"]
        self._obs, self._state = obs, state
        # Copies whose new episode is waiting for TorchRL's reset; a copy stepped on without one
        # has left that first observation behind, and a later reset starts it again.
        self._pending = finished.copy()
        if finished.any():
            ids = np.flatnonzero(finished)
            obs = obs.copy()
            obs[ids] = infos["final_obs"][ids]
            if state is not None:
                state = state.copy()
                state[ids] = infos["final_state"][ids]
            self._term, self._trunc = term.copy(), trunc.copy()
            self._term[ids] = False
            self._trunc[ids] = False
        else:
            self._term, self._trunc = term, trunc
        root_term = (finished & term.all(axis=1)).reshape(E, 1)
        root_done = finished.reshape(E, 1)
        root = {
            "done": root_done,
            "terminated": root_term,
            "truncated": root_done & ~root_term,
        }
        return self._output(obs, state, rewards.astype(np.float32, copy=False), term, trunc, root, infos)

    # -- helpers ----------------------------------------------------------------------------

    def _full_reset(self) -> dict[str, np.ndarray]:
        self._obs, infos = self.venv.reset(seed=self._seed)
        self._seed = None  # later full resets continue each copy's random stream
        self._state = self.venv.state() if self.return_state else None
        self._term[:] = False
        self._trunc[:] = False
        self._pending[:] = False
        return infos

    def _reset_copies(self, ids: np.ndarray) -> None:
        venv = self.venv
        self._obs = venv.reset_copies(ids)
        self._state = venv.state() if self.return_state else None
        self._term[ids] = False
        self._trunc[ids] = False

    def _read_actions(self, tensordict: TensorDictBase) -> np.ndarray:
        if self._single_group:
            (group,) = self.group_map
            actions = self._group_actions(tensordict.get((group, "action")))
        else:
            shape = (self.num_envs, self.n_agents, *self.venv.single_action_space.shape)
            actions = np.empty(shape, dtype=np.int64 if self._discrete else np.float32)
            for group, index in self._index.items():
                actions[:, index] = self._group_actions(tensordict.get((group, "action")))
        return actions

    def _group_actions(self, action: torch.Tensor) -> np.ndarray:
        if self._discrete and not self.categorical_actions:
            action = action.argmax(-1)
        a = action.detach().cpu().numpy()
        return a + self._action_start if self._action_start else a

    def _output(
        self,
        obs: np.ndarray,
        state: np.ndarray | None,
        rewards: np.ndarray | None = None,
        term: np.ndarray | None = None,
        trunc: np.ndarray | None = None,
        root: dict[str, np.ndarray] | None = None,
        infos: dict[str, np.ndarray] | None = None,
    ) -> TensorDictBase:
        E, dev = self.num_envs, self.device
        tensor = self._tensor
        source: dict[str, Any] = {}
        for group, index in self._index.items():
            sub = {"observation": tensor(obs[:, index])}
            if rewards is not None:
                t, tr = term[:, index, None], trunc[:, index, None]
                sub["reward"] = tensor(rewards[:, index, None])
                sub["terminated"] = tensor(t)
                sub["truncated"] = tensor(tr)
                sub["done"] = tensor(t | tr)
            n = len(self.group_map[group])
            if self.info_keys:
                sub["info"] = _new_td(
                    {k: tensor(self._metric(infos, k, index, n)) for k in self.info_keys},
                    batch_size=(E, n),
                    device=dev,
                )
            source[group] = _new_td(sub, batch_size=(E, n), device=dev)
        if state is not None:
            source["state"] = tensor(state)
        if root is not None:
            for key, value in root.items():
                source[key] = tensor(value)
        return _new_td(source, batch_size=(E,), device=dev)

    def _metric(self, infos: dict | None, key: str, index: slice | np.ndarray, n: int) -> np.ndarray:
        """Metric ``key`` of the group's robots ``(E, n)`` float32 (NaN where not reported)."""
        value = None if infos is None else infos.get(key)
        if value is None:
            return np.full((self.num_envs, n), np.nan, dtype=np.float32)
        value = np.asarray(value, dtype=np.float32)
        if value.ndim == 1:  # one value per copy, shared by its robots
            return np.repeat(value[:, None], n, axis=1)
        return value[:, index]

    def render(self) -> np.ndarray | None:
        """Copy 0's frame (the vector env's ``render_mode``), for evaluation videos."""
        return self.venv.render()

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(array))
        return t if self._cpu else t.to(self.device)

    def close(self, *, raise_if_closed: bool = True) -> None:
        venv = getattr(self, "venv", None)  # absent if __init__ failed
        if venv is not None:
            venv.close()
        super().close(raise_if_closed=raise_if_closed)
