"""BenchMARL: every swarmzoo env as a BenchMARL task, so BenchMARL's algorithms train on it.

Install with ``pip install 'swarmzoo[torchrl]'`` (TorchRL and BenchMARL). Then::

    from benchmarl.algorithms import MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models import MlpConfig

    from swarmzoo.integrations.benchmarl import SwarmzooTask

    task = SwarmzooTask.NAVIGATION_V0.get_task(config={"n_agents": 3, "max_cycles": 50})
    experiment = Experiment(
        task=task,
        algorithm_config=MappoConfig.get_from_yaml(),
        model_config=MlpConfig.get_from_yaml(),
        critic_model_config=MlpConfig.get_from_yaml(),
        seed=0,
        config=ExperimentConfig.get_from_yaml(),
    )
    experiment.run()

This follows BenchMARL's extension mechanism for new environments: a :class:`~benchmarl.environments.Task`
enum (:class:`SwarmzooTask`, one member per registered env, ``navigation-v0`` ->
``NAVIGATION_V0``) whose members build a :class:`~benchmarl.environments.TaskClass`
(:class:`SwarmzooClass`). A task's ``config`` is the env's keyword arguments; ``get_task()``
without a config uses the env's defaults (BenchMARL's own tasks read a YAML file instead).
:func:`benchmarl_task` builds a task from any registered id, including envs registered after this
module was written.

What BenchMARL sees:

* groups ``"robot"`` (and ``"byzantine"`` with ``byzantine_agents=True``), see
  :func:`swarmzoo.integrations.torchrl.group_map`;
* a state spec, the env's global ``state()``: MAPPO's and MADDPG's centralised critics read it
  instead of the concatenated observations;
* the per-step metrics as ``(group, "info")`` (float32; NaN where a step does not report one),
  logged by BenchMARL as ``collection/<group>/info/*``;
* discrete and continuous actions where the env has ``continuous_actions``
  (``ExperimentConfig.prefer_continuous_actions`` picks), else the env's own kind.

Training envs: BenchMARL asks for ``n_envs_per_worker`` copies. They come back as one native
batched env (:func:`~swarmzoo.integrations.torchrl.make_torchrl_vec_env`, swarmzoo's vector face:
no per-agent Python loop, no ``SerialEnv`` of PettingZoo wrappers), whose copy ``i`` is seeded
``seed + i``: every copy starts its episodes from its own stream. (``ExperimentConfig.parallel_collection``
therefore has no effect.) Evaluation videos need torchvision (not part of the extra); without it they are off.
Robots that leave the episode early (coverage with a ``battery``) are not supported: BenchMARL
has no agent masks.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from collections.abc import Callable
from typing import Any

from gymnasium import spaces

try:
    from benchmarl.environments.common import Task, TaskClass
    from torchrl.data import Composite
    from torchrl.envs import EnvBase
except ImportError as err:  # pragma: no cover - depends on the extra
    raise ImportError(
        "the BenchMARL integration needs benchmarl and torchrl: pip install 'swarmzoo[torchrl]'"
    ) from err

import swarmzoo
from swarmzoo.integrations.torchrl import group_map, make_torchrl_vec_env

__all__ = ["SwarmzooClass", "SwarmzooTask", "benchmarl_task", "env_id_of", "task_name_of"]


def task_name_of(env_id: str) -> str:
    """The BenchMARL task name of an env id: ``"byzantine-tracking-v0"`` -> ``"BYZANTINE_TRACKING_V0"``."""
    env_id = swarmzoo.spec(env_id).id
    return env_id.replace("-", "_").upper()


def env_id_of(task_name: str) -> str:
    """The env id of a BenchMARL task name (either case): ``"NAVIGATION_V0"`` -> ``"navigation-v0"``."""
    return swarmzoo.spec(task_name.lower().replace("_", "-")).id


class SwarmzooClass(TaskClass):
    """A swarmzoo env as a BenchMARL task.

    Args:
        name: the task name, the env id in capitals with underscores (``"NAVIGATION_V0"``).
        config: the env's keyword arguments (``n_agents``, ``max_cycles``, ...). A
            ``continuous_actions`` given here pins the action kind; otherwise the experiment
            chooses where the env offers both.
    """

    @property
    def env_id(self) -> str:
        """The swarmzoo env id of this task."""
        return env_id_of(self.name)

    @functools.cached_property
    def _facts(self) -> dict[str, Any]:
        """What BenchMARL asks before building envs, read once from a PettingZoo env."""
        env = swarmzoo.make(self.env_id, **self.config)
        try:
            return {
                "agents": list(env.possible_agents),
                "max_cycles": int(env.max_cycles),
                "continuous": isinstance(env.action_space(env.possible_agents[0]), spaces.Box),
                "has_switch": "continuous_actions" in _config_fields(env),
            }
        finally:
            env.close()

    def __getstate__(self) -> dict[str, Any]:  # BenchMARL pickles the task into checkpoints
        state = dict(self.__dict__)
        state.pop("_facts", None)
        return state

    def get_env_fun(
        self, num_envs: int, continuous_actions: bool, seed: int | None, device: Any
    ) -> Callable[[], EnvBase]:
        kwargs = dict(self.config)
        if "continuous_actions" not in kwargs and self._facts["has_switch"]:
            kwargs["continuous_actions"] = continuous_actions
        kwargs["render_mode"] = "rgb_array"
        return functools.partial(
            make_torchrl_vec_env,
            self.env_id,
            max(1, num_envs),
            device=device,
            seed=seed,
            return_info=True,
            **kwargs,
        )

    def supports_continuous_actions(self) -> bool:
        return self._supports(continuous=True)

    def supports_discrete_actions(self) -> bool:
        return self._supports(continuous=False)

    def _supports(self, continuous: bool) -> bool:
        if "continuous_actions" in self.config:
            return bool(self.config["continuous_actions"]) == continuous
        return self._facts["has_switch"] or self._facts["continuous"] == continuous

    def has_render(self, env: EnvBase) -> bool:
        """Evaluation videos, when ``ExperimentConfig.render`` asks for them and torchvision (which
        TorchRL's loggers need to write videos, and the ``[torchrl]`` extra leaves out) is there:
        without it BenchMARL's first evaluation would crash."""
        return importlib.util.find_spec("torchvision") is not None

    def max_steps(self, env: EnvBase) -> int:
        return self._facts["max_cycles"]

    def group_map(self, env: EnvBase) -> dict[str, list[str]]:
        return group_map(self._facts["agents"])

    def observation_spec(self, env: EnvBase) -> Composite:
        return self._group_keys(env, "observation")

    def info_spec(self, env: EnvBase) -> Composite | None:
        spec = self._group_keys(env, "info")
        return spec if any(group in spec.keys() for group in self.group_map(env)) else None

    def state_spec(self, env: EnvBase) -> Composite | None:
        spec = env.full_observation_spec_unbatched
        return Composite({"state": spec["state"].clone()}) if "state" in spec.keys() else None

    def action_mask_spec(self, env: EnvBase) -> Composite | None:
        return None  # swarmzoo's discrete actions are always all available

    def action_spec(self, env: EnvBase) -> Composite:
        return env.full_action_spec_unbatched

    def _group_keys(self, env: EnvBase, key: str) -> Composite:
        """The unbatched observation spec cut down to ``(group, key)`` for every group."""
        spec = env.full_observation_spec_unbatched.clone()
        for name in list(spec.keys()):
            if name not in self.group_map(env):
                del spec[name]
                continue
            group_spec = spec[name]
            for inner in list(group_spec.keys()):
                if inner != key:
                    del group_spec[inner]
            if group_spec.is_empty():
                del spec[name]
        return spec

    @staticmethod
    def env_name() -> str:
        return "swarmzoo"

    @staticmethod
    def render_callback(experiment: Any, env: EnvBase, data: Any) -> Any:
        """A frame of the first env copy (``rgb_array``), for BenchMARL's evaluation videos."""
        base = env
        while hasattr(base, "base_env"):
            base = base.base_env
        return base.render()  # SwarmVecEnv.render: copy 0


def _config_fields(env: Any) -> set[str]:
    """The argument names of a swarmzoo PettingZoo env (its task's ``Config`` fields)."""
    return {f.name for f in dataclasses.fields(env.unwrapped.task.config)}


class SwarmzooTask(Task):
    """BenchMARL's enum of the swarmzoo tasks; ``SwarmzooTask.NAVIGATION_V0.get_task(config)``."""

    AGGREGATION_V0 = None
    ALOHA_V0 = None
    BYZANTINE_LOCALIZATION_V0 = None
    BYZANTINE_TIMESYNC_V0 = None
    BYZANTINE_TRACKING_V0 = None
    COORDINATION_V0 = None
    COVERAGE_V0 = None
    FLOCKING_V0 = None
    KURAMOTO_V0 = None
    NAVIGATION_V0 = None

    @staticmethod
    def associated_class() -> type[SwarmzooClass]:
        return SwarmzooClass

    def get_task(self, config: dict[str, Any] | None = None) -> SwarmzooClass:
        """The task with ``config`` as the env's keyword arguments (the env's defaults if None)."""
        return SwarmzooClass(name=self.name, config=dict(config or {}))


def benchmarl_task(env_id: str, **env_kwargs: Any) -> SwarmzooClass:
    """A BenchMARL task for any registered env id, with ``env_kwargs`` as the env's arguments.

    Raises:
        ValueError: an unknown env id (with the known ones).
    """
    return SwarmzooClass(name=task_name_of(env_id), config=dict(env_kwargs))
