"""The env registry (defined in :mod:`swarmzoo.envs.registry`, beside the envs that register
themselves): versioned ids (``navigation-v0``) mapped to env modules."""

from swarmzoo.envs.registry import NAMESPACE, EnvSpec, list_envs, register, spec

__all__ = ["NAMESPACE", "EnvSpec", "list_envs", "register", "spec"]
