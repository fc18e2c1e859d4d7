"""The contract between a batched swarm task and the two faces (PettingZoo and vector).

A task simulates ``E`` env copies of ``N`` robots at once. It owns all state as arrays with a
leading env axis and never loops over agents in Python. The faces only translate: the PettingZoo
face runs one copy (``E = 1``) behind agent-keyed dicts, the vector face runs ``E`` copies with
arrays in and out and auto-reset. Because both call the same task code with per-copy random
streams (see :mod:`swarmzoo.envs.core.rng`), they produce identical trajectories.

A task subclass implements ``_reset``, ``_step``, ``observe``, ``state`` and ``draw``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core.collective import MeanField
from swarmzoo.envs.core.rng import BatchRNG


def check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_number(
    name: str,
    value: Any,
    low: float = -np.inf,
    high: float = np.inf,
    low_open: bool = False,
    allow_none: bool = False,
) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite number in range."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not np.isfinite(value) or value < low or value > high or (low_open and value == low):
        bound = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise ValueError(f"{name} must be a finite number in {bound}, got {value!r}")


def check_bool(name: str, value: Any) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def check_choice(name: str, value: Any, allowed: tuple) -> None:
    """Raise ``ValueError`` naming ``name`` and the choices unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


class SwarmTask(ABC):
    """Base class of batched tasks.

    Attributes:
        name: registry-style name, e.g. ``"navigation_v0"``.
        config: the task's frozen ``Config``.
        n_envs: ``E``.
        n_agents: ``N``.
        observation_space: one robot's observation space (a float32 ``Box`` of shape ``(D,)``).
        action_space: one robot's action space.
        state_space: one env copy's global state space (for centralised critics).
        max_cycles: steps after which an episode is truncated.
        steps: ``(E,)`` steps taken in the current episode of each copy.
        rng: per-copy random streams.
    """

    name: ClassVar[str] = "swarm"
    render_fps: ClassVar[int] = 10

    observation_space: spaces.Box
    action_space: spaces.Space
    state_space: spaces.Box

    def __init__(self, config: Any, n_envs: int = 1) -> None:
        check_positive_int("n_envs", n_envs)
        self.config = config
        self.n_envs = int(n_envs)
        self.n_agents = int(config.n_agents)
        self.max_cycles = int(config.max_cycles)
        self.steps = np.zeros(self.n_envs, dtype=np.int64)
        self.rng = BatchRNG(self.n_envs)

    # -- what a task implements -------------------------------------------------------------

    @abstractmethod
    def _reset(self, env_ids: np.ndarray) -> None:
        """Draw new episodes for the copies ``env_ids`` from ``self.rng``."""

    @abstractmethod
    def _step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Advance every copy one step with validated actions.

        Returns:
            ``rewards (E, N)`` float, ``terminated (E, N)`` bool and per-step metrics, each an
            array of shape ``(E,)`` (one value per env copy) or ``(E, N)`` (one per robot).
        """

    @abstractmethod
    def observe(self) -> np.ndarray:
        """Observations ``(E, N, D)`` float32."""

    @abstractmethod
    def state(self) -> np.ndarray:
        """Global states ``(E, S)`` float32."""

    @abstractmethod
    def draw(self, renderer: Any, env_index: int) -> None:
        """Draw copy ``env_index`` onto a :class:`~swarmzoo.envs.core.render.Renderer`."""

    def agent_names(self) -> list[str]:
        """The agents' names on both faces: ``robot_0 .. robot_{N-1}`` unless a task says
        otherwise."""
        return [f"robot_{i}" for i in range(self.n_agents)]

    def reset_infos(self) -> dict[str, np.ndarray]:
        """Metrics reported by ``reset`` (empty by default)."""
        return {}

    def hud(self, env_index: int) -> list[str]:
        """Extra text lines for the rendered frame of copy ``env_index`` (none by default)."""
        return []

    def mean_field(self) -> MeanField:
        """The empirical distribution of the robots' states (see
        :class:`~swarmzoo.envs.core.collective.MeanField`), for mean-field trainers.

        Raises:
            NotImplementedError: for tasks without a mean-field view.
        """
        raise NotImplementedError(f"{self.name} has no mean-field view")

    # -- shared machinery ---------------------------------------------------------------------

    def reset(self, env_ids: np.ndarray | None = None) -> None:
        """Start new episodes for ``env_ids`` (all copies if None)."""
        if env_ids is None:
            env_ids = np.arange(self.n_envs)
        env_ids = np.asarray(env_ids, dtype=np.int64)
        self.steps[env_ids] = 0
        self._reset(env_ids)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        """Validate ``actions`` and advance all copies.

        Args:
            actions: ``(E, N)`` ints for a ``Discrete`` action space, ``(E, N, A)`` floats for a
                ``Box``.

        Returns:
            ``rewards (E, N)``, ``terminations (E, N)``, ``truncations (E, N)``, ``infos``.
        """
        actions = validate_actions(actions, self.action_space, self.n_envs, self.n_agents)
        self.steps += 1
        rewards, terminated, infos = self._step(actions)
        out_of_time = self.steps >= self.max_cycles
        truncated = np.zeros(terminated.shape, dtype=bool)
        if np.logical_or.reduce(out_of_time):
            truncated[out_of_time] = True
            truncated &= ~terminated
        return rewards, terminated, truncated, infos


def validate_actions(actions: Any, space: spaces.Space, n_envs: int, n_agents: int) -> np.ndarray:
    """Check a batch of actions against one robot's space; return it as an array.

    Raises:
        TypeError: wrong dtype (floats for a discrete space, non-numbers).
        ValueError: wrong shape, out-of-range discrete actions, NaN/inf or out-of-bounds
            continuous actions. Nothing is clipped.
    """
    a = np.asarray(actions)
    if isinstance(space, spaces.Discrete):
        if a.shape != (n_envs, n_agents):
            raise ValueError(f"discrete actions must have shape (E, N) = {(n_envs, n_agents)}, got {a.shape}")
        if a.dtype.kind not in "iu":
            raise TypeError(f"discrete actions must be integers, got dtype {a.dtype}")
        lo, hi = int(space.start), int(space.start + space.n)
        if a.size and (np.minimum.reduce(a, axis=None) < lo or np.maximum.reduce(a, axis=None) >= hi):
            bad = a[(a < lo) | (a >= hi)].ravel()[0]
            raise ValueError(f"discrete action {bad} out of range [{lo}, {hi - 1}]")
        return a
    if isinstance(space, spaces.Box):
        shape = (n_envs, n_agents, *space.shape)
        if a.shape != shape:
            raise ValueError(f"continuous actions must have shape (E, N, A) = {shape}, got {a.shape}")
        if a.dtype.kind not in "fiu":
            raise TypeError(f"continuous actions must be numbers, got dtype {a.dtype}")
        if not np.isfinite(a).all():
            raise ValueError("continuous actions contain NaN or inf")
        if (a < space.low).any() or (a > space.high).any():
            raise ValueError(
                f"continuous actions out of bounds [{space.low.min()}, {space.high.max()}] "
                f"(min {a.min():.4g}, max {a.max():.4g}); clip them in the policy, the env does not"
            )
        return a
    raise TypeError(f"unsupported action space {space}")
