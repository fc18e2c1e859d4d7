"""RLlib: every swarmzoo env as a native ``MultiAgentEnv``, with shared or per-group policies.

Install with ``pip install 'swarmzoo[rllib]'`` (Ray RLlib). Then::

    from swarmzoo.integrations.rllib import build_config, register_envs

    register_envs()  # "swarmzoo/navigation-v0", ... in RLlib's env registry
    config = build_config("navigation-v0", env_kwargs={"n_agents": 5}, policies="shared")
    algo = config.build_algo()
    for _ in range(10):
        result = algo.train()

``scripts/train_rllib.py`` wraps this in a typed CLI that also connects to an existing Ray
cluster (``--address``), so the same run scales from a laptop to many machines: RLlib's env
runners sample on every node, its learners update on the nodes that have them.

Policies (``policies=``):

* ``"shared"``: one policy for every agent (parameter sharing, the usual choice for swarms);
* ``"per-group"``: one policy per agent group, the name before the index (``robot_3`` -> ``robot``,
  ``byzantine_1`` -> ``byzantine``), e.g. cooperative robots against Byzantine attackers
  (``byzantine_agents=True`` in the Byzantine envs);
* ``"independent"``: one policy per agent (IPPO without sharing; only for small swarms).

:class:`SwarmMultiAgentEnv` is written against RLlib's ``MultiAgentEnv`` directly rather than
through ``ParallelPettingZooEnv``: it declares per-agent spaces (``observation_spaces``,
``action_spaces``), keeps ``agents`` in step with the PettingZoo env and renders ``rgb_array``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import swarmzoo
from swarmzoo.envs.registry import NAMESPACE
from swarmzoo.integrations import agent_group

_EXTRA = "pip install 'swarmzoo[rllib]'"
POLICY_MODES = ("shared", "per-group", "independent")
PREFIX = NAMESPACE


def _import_rllib():
    try:
        import ray  # noqa: F401
        from ray.rllib.env.multi_agent_env import MultiAgentEnv
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise ImportError(f"the RLlib integration needs Ray RLlib: {_EXTRA}") from err
    return MultiAgentEnv


group_of = agent_group
"""The group of an agent (``robot_3`` -> ``robot``): see :func:`swarmzoo.integrations.agent_group`."""


def _env_class():
    MultiAgentEnv = _import_rllib()

    class SwarmMultiAgentEnv(MultiAgentEnv):
        """A swarmzoo env as an RLlib ``MultiAgentEnv``.

        Args:
            config: ``{"env_id": ..., **env_kwargs}``; RLlib passes its ``env_config`` here (an
                ``EnvContext``, a dict). ``render_mode`` may be given like any env argument.
        """

        def __init__(self, config: dict[str, Any] | None = None) -> None:
            super().__init__()
            kwargs = dict(config or {})
            if "env_id" not in kwargs:
                raise ValueError("SwarmMultiAgentEnv needs config['env_id'], e.g. 'navigation-v0'")
            self.env_id = kwargs.pop("env_id")
            self.par_env = swarmzoo.make(self.env_id, **kwargs)
            self.render_mode = self.par_env.render_mode
            self.possible_agents = list(self.par_env.possible_agents)
            self.agents = []
            self.observation_spaces = {a: self.par_env.observation_space(a) for a in self.possible_agents}
            self.action_spaces = {a: self.par_env.action_space(a) for a in self.possible_agents}

        def reset(self, *, seed: int | None = None, options: dict | None = None):
            obs, infos = self.par_env.reset(seed=seed, options=options)
            self.agents = list(self.par_env.agents)
            return obs, infos

        def step(self, action_dict: dict[str, Any]):
            obs, rewards, terms, truncs, infos = self.par_env.step(action_dict)
            self.agents = list(self.par_env.agents)
            terms = dict(terms)
            truncs = dict(truncs)
            terms["__all__"] = bool(terms) and all(terms.values())
            truncs["__all__"] = not terms["__all__"] and bool(truncs) and all(truncs.values())
            return obs, rewards, terms, truncs, infos

        def render(self):
            return self.par_env.render()

        def close(self) -> None:
            self.par_env.close()

    return SwarmMultiAgentEnv


def make_env(env_id: str, **env_kwargs: Any):
    """A :class:`SwarmMultiAgentEnv` of ``env_id`` (needs the ``[rllib]`` extra)."""
    return _env_class()({"env_id": swarmzoo.spec(env_id).id, **env_kwargs})


def register_envs(env_ids: Iterable[str] | None = None) -> list[str]:
    """Register swarmzoo envs with RLlib's env registry as ``swarmzoo/<id>``.

    The env config RLlib hands over (``config.environment(env_config=...)``) is the env's keyword
    arguments. Returns the registered names.
    """
    _import_rllib()
    from ray.tune.registry import register_env

    env_class = _env_class()
    names = []
    for env_id in env_ids if env_ids is not None else swarmzoo.list_envs():
        env_id = swarmzoo.spec(env_id).id

        def creator(env_config, env_id=env_id):
            return env_class({"env_id": env_id, **dict(env_config or {})})

        register_env(PREFIX + env_id, creator)
        names.append(PREFIX + env_id)
    return names


def policy_mapping(mode: str, agent_ids: Iterable[str]) -> tuple[set[str], Callable[..., str]]:
    """The policy ids and RLlib ``policy_mapping_fn`` for ``mode`` (see the module docstring).

    Raises:
        ValueError: unknown mode.
    """
    agent_ids = list(agent_ids)
    if mode == "shared":
        return {"shared"}, _shared_policy
    if mode == "per-group":
        return {group_of(a) for a in agent_ids}, _group_policy
    if mode == "independent":
        return set(agent_ids), _own_policy
    raise ValueError(f"policies must be one of {POLICY_MODES}, got {mode!r}")


def _shared_policy(agent_id: str, *args: Any, **kwargs: Any) -> str:
    return "shared"


def _group_policy(agent_id: str, *args: Any, **kwargs: Any) -> str:
    return group_of(agent_id)


def _own_policy(agent_id: str, *args: Any, **kwargs: Any) -> str:
    return agent_id


def build_config(
    env_id: str,
    *,
    algo: str = "PPO",
    env_kwargs: dict[str, Any] | None = None,
    policies: str = "shared",
    num_env_runners: int = 0,
    num_envs_per_env_runner: int = 1,
    num_learners: int = 0,
    train_batch_size: int = 4000,
    minibatch_size: int = 500,
    lr: float = 3e-4,
    gamma: float = 0.99,
    hidden: tuple[int, ...] = (64, 64),
    seed: int | None = 0,
):
    """An RLlib ``AlgorithmConfig`` (new API stack) for ``algo`` on a swarmzoo env.

    Args:
        env_id: swarmzoo env id (registered as ``swarmzoo/<id>`` on the fly).
        algo: an RLlib algorithm with multi-agent support, e.g. ``PPO`` or ``APPO``.
        env_kwargs: the env's arguments (``n_agents``, ...).
        policies: ``shared``, ``per-group`` or ``independent``.
        num_env_runners: remote sampling workers (0 samples in the driver); on a cluster, spread
            over its nodes.
        num_envs_per_env_runner: env copies per runner.
        num_learners: remote learner workers (0: learn in the driver).
        train_batch_size: env steps per training iteration (per agent-step count, RLlib's
            default for multi-agent is env steps).
        minibatch_size: SGD minibatch size (PPO family).
        lr: learning rate.
        gamma: discount.
        hidden: hidden layer sizes of the policy and value networks.
        seed: seed of the algorithm and its envs (``None``: unseeded).
    """
    _import_rllib()
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.tune.registry import get_trainable_cls

    env_id = swarmzoo.spec(env_id).id
    env_kwargs = dict(env_kwargs or {})
    register_envs([env_id])
    probe = make_env(env_id, **env_kwargs)
    policy_ids, mapping_fn = policy_mapping(policies, probe.possible_agents)
    probe.close()
    try:
        algo_cls = get_trainable_cls(algo)
    except Exception as err:
        raise ValueError(f"unknown RLlib algorithm {algo!r} (e.g. PPO, APPO)") from err
    config = (
        algo_cls.get_default_config()
        # Continuous actions: Gaussian samples are clipped into the Box by RLlib (swarmzoo envs
        # refuse out-of-range actions rather than clip them silently).
        .environment(PREFIX + env_id, env_config=env_kwargs, clip_actions=True)
        .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=num_envs_per_env_runner)
        .learners(num_learners=num_learners)
        .multi_agent(policies=policy_ids, policy_mapping_fn=mapping_fn)
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(rl_module_specs={p: RLModuleSpec() for p in policy_ids}),
            model_config=DefaultModelConfig(fcnet_hiddens=list(hidden), vf_share_layers=False),
        )
        .training(train_batch_size_per_learner=train_batch_size, lr=lr, gamma=gamma)
        .debugging(seed=seed)
    )
    if hasattr(config, "minibatch_size"):
        config.training(minibatch_size=minibatch_size)
    return config


class RLlibPolicy:
    """A trained RLlib algorithm as a swarmzoo policy (``act(obs (E, N, D), task)``), so that
    ``swarmzoo.evaluation.evaluate`` and ``record`` (videos) take it.

    Args:
        algo: a built RLlib ``Algorithm`` (new API stack) trained on a swarmzoo env.
        agent_ids: the env's ``possible_agents``, in the order of the observation rows.
        mapping_fn: the ``policy_mapping_fn`` of the run (agent id -> policy id).
        deterministic: the distribution's most likely action (``False``: sample).
    """

    def __init__(
        self, algo: Any, agent_ids: Iterable[str], mapping_fn: Callable[..., str], deterministic: bool = True
    ) -> None:
        import numpy as np

        self.algo = algo
        self.deterministic = deterministic
        groups: dict[str, list[int]] = {}
        for i, agent in enumerate(agent_ids):
            groups.setdefault(mapping_fn(agent), []).append(i)
        self.groups = {p: np.asarray(rows) for p, rows in groups.items()}

    def act(self, obs: Any, task: Any) -> Any:
        import numpy as np
        import torch

        E, N, D = obs.shape
        out: np.ndarray | None = None
        for policy_id, rows in self.groups.items():
            module = self.algo.get_module(policy_id)
            batch = torch.as_tensor(obs[:, rows].reshape(E * len(rows), D), dtype=torch.float32)
            with torch.no_grad():
                logits = module.forward_inference({"obs": batch})["action_dist_inputs"]
            dist = module.get_inference_action_dist_cls().from_logits(logits)
            if self.deterministic:
                dist = dist.to_deterministic()
            actions = dist.sample().numpy()
            space = module.action_space
            if hasattr(space, "low"):  # Gaussian samples: into the Box, as RLlib's clip_actions does
                actions = np.clip(actions, space.low, space.high)
            actions = actions.reshape(E, len(rows), *actions.shape[1:])
            if out is None:
                out = np.zeros((E, N, *actions.shape[2:]), dtype=actions.dtype)
            out[:, rows] = actions
        return out
