"""TorchRL: every swarmzoo env as a TorchRL env, through TorchRL's own ``PettingZooWrapper``.

Install with ``pip install 'swarmzoo[torchrl]'``. Then::

    from swarmzoo.integrations.torchrl import make_torchrl_env

    env = make_torchrl_env("byzantine-tracking-v0", n_robots=8, byzantine_agents=True, seed=0)
    env.group_map            # {"robot": ["robot_0", ...], "byzantine": ["byzantine_0"]}
    td = env.rollout(10)     # td["next", "robot", "reward"]: (10, n_robots, 1); td["state"]: global state

Agents are grouped by the name before their index (:func:`group_map`): ``robot_3`` is in group
``"robot"``, ``byzantine_1`` in ``"byzantine"``, so TorchRL's MARL stack (and BenchMARL, see
:mod:`swarmzoo.integrations.benchmarl`) sees one group of cooperative robots and, in the Byzantine
envs with ``byzantine_agents=True``, one group of attackers. Each group's data is stacked along an
agent dimension: ``(group, "observation")`` is ``(n_group, D)``. The env's global ``state()`` is
the root key ``"state"`` (for centralised critics).

Two things swarmzoo does that TorchRL's wrapper does not expect are adapted by
:class:`TorchRLReadyParallelEnv`, a thin PettingZoo wrapper applied before TorchRL's:

* **Infos.** TorchRL builds its info spec from the infos of ``reset`` and then writes every info key
  of every ``step`` into it. swarmzoo's ``reset`` reports fewer keys than ``step`` (none, or only
  the Byzantine envs' ``error``), so step metrics were either dropped silently or crashed the
  wrapper (``'NoneType' object does not support item assignment``). The wrapper fixes one schema per
  agent: the keys of ``reset`` and of one probe step, taken at construction. Keys missing from a
  ``reset`` are reported as 0; keys only some steps report (coverage's end-of-episode ``w2``) are
  left out: read them from the PettingZoo env or ``task.coverage_w2()``.
* **Robots that leave early** (coverage with a ``battery``): TorchRL sends an action for every agent,
  swarmzoo refuses actions for robots that are done. The wrapper drops those actions. Pass
  ``use_mask=True`` for such envs: ``(group, "mask")`` then tells live robots apart and the episode
  ends when every robot is done.

:func:`make_torchrl_vec_env` is the fast path: :class:`SwarmVecEnv`, a native batched TorchRL env
over swarmzoo's vector face (``swarmzoo.make_vec``), with ``batch_size=(num_envs,)`` and the same
keys and groups, and no per-agent Python loop (see its docstring for how resets work).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import BaseParallelWrapper

import swarmzoo
from swarmzoo.integrations import group_map

if TYPE_CHECKING:
    from torchrl.envs import PettingZooWrapper

    from swarmzoo.integrations.torchrl_vec import SwarmVecEnv

__all__ = ["SwarmVecEnv", "TorchRLReadyParallelEnv", "group_map", "make_torchrl_env", "make_torchrl_vec_env"]

_EXTRA = "pip install 'swarmzoo[torchrl]'"


def _import_torchrl():
    try:
        from torchrl.envs import PettingZooWrapper
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise ImportError(f"the TorchRL integration needs torchrl: {_EXTRA}") from err
    return PettingZooWrapper


_default_group_map = group_map  # make_torchrl_env's argument of the same name shadows it


class TorchRLReadyParallelEnv(BaseParallelWrapper):
    """A swarmzoo ``ParallelEnv`` with the same info keys at every reset and step, and that ignores
    actions for agents that are done: what TorchRL's ``PettingZooWrapper`` assumes.

    The schema is read at construction from an unseeded ``reset`` and one step with neutral
    actions (the lowest discrete action, or the zero action clipped to the box); the env is reset
    again before use, so the probe leaves no trace beyond advancing an unseeded random stream.

    Args:
        env: a PettingZoo ``ParallelEnv`` (from :func:`swarmzoo.make`).
    """

    def __init__(self, env: ParallelEnv) -> None:
        super().__init__(env)
        _, reset_infos = env.reset()
        neutral = {a: _neutral_action(env.action_space(a)) for a in env.agents}
        step_infos = env.step(neutral)[4]
        self.info_schema: dict[str, dict[str, tuple[int, ...]]] = {}
        for agent in env.possible_agents:
            keys: dict[str, tuple[int, ...]] = {}
            for infos in (reset_infos, step_infos):
                for key, value in infos.get(agent, {}).items():
                    keys.setdefault(key, np.shape(value))
            self.info_schema[agent] = keys

    def reset(self, seed: int | None = None, options: dict | None = None):
        obs, infos = self.env.reset(seed=seed, options=options)
        return obs, self._fixed(infos)

    def step(self, actions: dict[str, Any]):
        live = set(self.env.agents)
        if len(actions) != len(live) or not live.issuperset(actions):
            actions = {a: v for a, v in actions.items() if a in live}
        obs, rewards, terminations, truncations, infos = self.env.step(actions)
        return obs, rewards, terminations, truncations, self._fixed(infos)

    def _fixed(self, infos: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out = {}
        for agent, info in infos.items():
            schema = self.info_schema[agent]
            out[agent] = {
                key: info[key] if key in info else np.zeros(shape, dtype=np.float32)
                for key, shape in schema.items()
            }
        return out


def _neutral_action(space: spaces.Space) -> Any:
    if isinstance(space, spaces.Discrete):
        return int(space.start)
    if isinstance(space, spaces.Box):
        return np.clip(np.zeros(space.shape, dtype=space.dtype), space.low, space.high)
    return space.sample()


def make_torchrl_env(
    env: str | ParallelEnv,
    *,
    group_map: dict[str, list[str]] | None = None,
    device: str | Any = "cpu",
    seed: int | None = None,
    categorical_actions: bool = True,
    return_state: bool = True,
    use_mask: bool = False,
    **env_kwargs: Any,
) -> PettingZooWrapper:
    """A TorchRL env (``torchrl.envs.PettingZooWrapper``) over a swarmzoo env.

    Args:
        env: an env id (``"navigation-v0"``), built with ``env_kwargs``, or a swarmzoo PettingZoo
            ``ParallelEnv``.
        group_map: group name -> agent names; by default :func:`group_map` of the env's agents
            (``"robot"``, and ``"byzantine"`` where the Byzantine robots are agents).
        device: the torch device of the env's tensors.
        seed: seed of the first reset (then each episode continues the env's random stream).
        categorical_actions: discrete actions as integer indices (True) or one-hot vectors.
        return_state: add the env's global ``state()`` as the root key ``"state"``.
        use_mask: add ``(group, "mask")`` and keep the episode going until every agent is done;
            needed only when robots can leave early (coverage with a ``battery``).
        **env_kwargs: the env's arguments (``n_agents``, ``max_cycles``, ``continuous_actions``...)
            when ``env`` is an id.

    Returns:
        The wrapped env; ``check_env_specs`` passes on it.

    Raises:
        ImportError: torchrl is not installed.
        ValueError: ``env_kwargs`` given with an env instance, or arguments the env does not take.
    """
    pettingzoo_wrapper = _import_torchrl()
    if isinstance(env, str):
        pz_env = swarmzoo.make(env, **env_kwargs)
    elif env_kwargs:
        raise ValueError(f"env arguments {sorted(env_kwargs)} need an env id, not an env instance")
    else:
        pz_env = env
    groups = group_map if group_map is not None else _default_group_map(pz_env.possible_agents)
    with warnings.catch_warnings():
        # swarmzoo tests its own PettingZoo version against TorchRL (tests/integrations).
        warnings.filterwarnings("ignore", message="PettingZoo in TorchRL is tested")
        return pettingzoo_wrapper(
            TorchRLReadyParallelEnv(pz_env),
            return_state=return_state,
            group_map=groups,
            use_mask=use_mask,
            categorical_actions=categorical_actions,
            seed=seed,
            done_on_any=not use_mask,
            device=device,
        )


# -- native batched env over the vector face -----------------------------------------------------


def make_torchrl_vec_env(
    env_id: str,
    num_envs: int,
    *,
    device: str | Any = "cpu",
    seed: int | None = None,
    categorical_actions: bool = True,
    return_state: bool = True,
    return_info: bool = False,
    **env_kwargs: Any,
) -> SwarmVecEnv:
    """A native batched TorchRL env of ``num_envs`` copies of a swarmzoo env (:class:`SwarmVecEnv`).

    Args:
        env_id: an env id (``"navigation-v0"``), built with ``env_kwargs`` by ``swarmzoo.make_vec``.
        num_envs: the number of env copies ``E``: the env's ``batch_size`` is ``(E,)``.
        device: the torch device of the env's tensors (the env itself runs on the CPU in numpy).
        seed: seed of the first reset; copy ``i`` then replays the PettingZoo env reset with
            ``seed + i``.
        categorical_actions: discrete actions as integer indices (True) or one-hot vectors.
        return_state: add the env's global state as the root key ``"state"`` ``(E, S)``.
        return_info: add the per-step metrics as ``(group, "info", key)`` ``(E, n)`` (NaN where a
            step does not report one).
        **env_kwargs: the env's arguments (``n_agents``, ``max_cycles``, ``continuous_actions``...).

    Returns:
        The env; ``check_env_specs`` passes on it.

    Raises:
        ImportError: torchrl is not installed.
        ValueError: arguments the env does not take.
    """
    _import_torchrl()
    from swarmzoo.integrations.torchrl_vec import SwarmVecEnv

    venv = swarmzoo.make_vec(env_id, num_envs, **env_kwargs)
    return SwarmVecEnv(
        venv,
        device=device,
        seed=seed,
        categorical_actions=categorical_actions,
        return_state=return_state,
        return_info=return_info,
    )


def __getattr__(name: str) -> Any:
    # SwarmVecEnv subclasses torchrl's EnvBase: imported on first use, so this module imports
    # without torchrl.
    if name == "SwarmVecEnv":
        _import_torchrl()
        from swarmzoo.integrations.torchrl_vec import SwarmVecEnv

        return SwarmVecEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
