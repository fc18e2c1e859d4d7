"""The contract between a batched swarm task and the two faces (PettingZoo and vector).

A task simulates ``E`` env copies of ``N`` robots at once. It owns all state as arrays with a
leading env axis and never loops over agents in Python. The faces only translate: the PettingZoo
face runs one copy (``E = 1``) behind agent-keyed dicts, the vector face runs ``E`` copies with
arrays in and out and auto-reset. Because both call the same task code with per-copy random
streams (see :mod:`swarmzoo.envs.core.rng`), they produce identical trajectories.

A task subclass implements ``_reset``, ``_step``, ``observe``, ``state`` and ``draw``. What a
frame shows of the past (a curve over the episode, a trail) is not kept by the task: it returns
copy 0's values in ``history_sample`` (with ``history_lengths`` capping trails), and the faces
record them in a :class:`~swarmzoo.envs.core.history.RenderHistory` only while they render, handing
it to ``draw`` and ``hud``.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from swarmzoo.envs.core.collective import MeanField
from swarmzoo.envs.core.history import RenderHistory
from swarmzoo.envs.core.rng import BatchRNG

# Config numbers are refused beyond this magnitude (an arena a billion units wide, a force of 1e12)
# and positive quantities below MIN_POSITIVE (a mass of 1e-300): such values overflow to inf or
# divide to NaN in the physics, observations and rewards long before they mean anything.
MAX_MAGNITUDE = 1e9
MIN_POSITIVE = 1e-9
# Config integers (counts, sizes, steps) above this are refused: they index int64 arrays.
MAX_INT = 2**62


def check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int in ``[minimum, MAX_INT]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value > MAX_INT:
        raise ValueError(f"{name} must be an integer >= {minimum} and at most 2**62, got {value!r}")


def check_number(
    name: str,
    value: Any,
    low: float = -np.inf,
    high: float = np.inf,
    low_open: bool = False,
    allow_none: bool = False,
) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite number in range, of
    magnitude at most ``MAX_MAGNITUDE`` and, where it must be positive (``low=0``,
    ``low_open``), at least ``MIN_POSITIVE``."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # a Python int beyond float range
        number = np.inf
    if not np.isfinite(number) or number < low or number > high or (low_open and number == low):
        bound = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise ValueError(f"{name} must be a finite number in {bound}, got {value!r}")
    if abs(number) > MAX_MAGNITUDE or (low_open and low == 0 and number < MIN_POSITIVE):
        raise ValueError(
            f"{name}={value!r} is out of scale: config numbers must lie within +-{MAX_MAGNITUDE:g}"
            + (f" and be at least {MIN_POSITIVE:g}" if low_open and low == 0 else "")
            + " (beyond that the physics overflows)"
        )


# A lower bound of the bytes every robot of every env copy needs besides its observations (state
# arrays, neighbour lists, the faces' buffers; measured at 1-16 KB), and the float32 observation
# copies alive during a step. The estimate must stay below what a batch really takes, so a config
# that fits is never refused.
BYTES_PER_ROBOT = 512
OBSERVATION_BUFFERS = 3


class MemoryLimitError(MemoryError, ValueError):
    """A batch that cannot fit in this machine's memory, refused before anything is allocated
    (a ``ValueError`` too, so config errors are caught in one place)."""


def memory_limit() -> int:
    """Bytes of memory this process may use: the machine's physical memory or a smaller cgroup
    (container) limit; 0 where neither can be read."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            limits.append(int(text))
    return min(limits, default=0)


def check_memory(task_cls: Any, config: Any, n_envs: int) -> None:
    """Refuse a batch whose estimated memory (:meth:`SwarmTask.memory_estimate`) exceeds
    :func:`memory_limit`, naming the swarm size, the number of env copies and the estimate.

    Raises:
        MemoryLimitError: (a ``MemoryError`` and a ``ValueError``) the batch cannot fit.
    """
    limit = memory_limit()
    estimate = task_cls.memory_estimate(config, n_envs)
    if limit and estimate > limit:
        robots = "n_robots" if hasattr(config, "n_robots") else "n_agents"
        n = getattr(config, robots)
        raise MemoryLimitError(
            f"{task_cls.name}: {n_envs:,} env copies (num_envs) x {n:,} robots ({robots}) need at least "
            f"{estimate / 2**30:,.1f} GiB (observations of {task_cls.observation_size(config):,} floats "
            f"per robot), more than the {limit / 2**30:,.1f} GiB of memory here; use fewer robots or "
            "env copies"
        )


def check_links(name: str, links: Any, n: int) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``links`` is a sequence of pairs ``(i, j)`` of
    two different robot indices in ``0 .. n - 1`` (the undirected edges of a given graph)."""
    if isinstance(links, (str, bytes)) or not isinstance(links, (tuple, list, np.ndarray)):
        raise ValueError(f"{name} must be a sequence of robot index pairs ((i, j), ...), got {links!r}")
    for link in links:
        pair = tuple(link) if isinstance(link, (tuple, list, np.ndarray)) else ()
        ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)
        if len(pair) != 2 or not ints:
            raise ValueError(f"{name}: each edge is a pair of robot indices (i, j), got {link!r}")
        if not (0 <= pair[0] < n and 0 <= pair[1] < n) or pair[0] == pair[1]:
            raise ValueError(f"{name}: edge {link!r} must join two different robots in 0 .. {n - 1}")


def check_bool(name: str, value: Any) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def check_choice(name: str, value: Any, allowed: tuple) -> None:
    """Raise ``ValueError`` naming ``name`` and the choices unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def parse_objectives(value: Any, available: dict[str, str], name: str = "objectives") -> tuple[str, ...]:
    """The objectives a config asks for, as a tuple of names in the order given.

    Args:
        value: ``()`` (scalar rewards), a sequence of names, or one comma-separated string
            (``"goals,energy"``, as ``--env-kwargs objectives=goals,energy`` gives it).
        available: the task's objectives, name -> what it measures.

    Raises:
        ValueError: an unknown or repeated name (naming the valid ones), or a value that is
            neither a string nor a sequence of strings.
    """
    if isinstance(value, str):
        names = tuple(part.strip() for part in value.split(",") if part.strip())
        if not names:
            raise ValueError(f"{name}: no objective named in {value!r}; choose from {sorted(available)}")
    elif isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        names = tuple(value)
    else:
        raise ValueError(f"{name} must be a sequence of objective names or 'a,b,...', got {value!r}")
    if names and not available:
        raise ValueError(f"{name}: this env has scalar rewards only (no objectives to choose)")
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"{name}: unknown objective(s) {unknown}; choose from {sorted(available)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{name}: objective(s) {repeated} named more than once")
    return names


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
        objectives: the reward's objectives, in order (``config.objectives``; empty: scalar
            rewards). With ``K`` objectives, :meth:`step` returns rewards ``(E, N, K)``.
        max_cycles: steps after which an episode is truncated.
        steps: ``(E,)`` steps taken in the current episode of each copy.
        rng: per-copy random streams.
    """

    name: ClassVar[str] = "swarm"
    render_fps: ClassVar[int] = 10
    # "discrete" or "continuous" for a task with one kind of action only (its Config then has no
    # continuous_actions field; make() accepts continuous_actions naming that kind and refuses
    # the other with a clear error). None: the Config chooses.
    fixed_actions: ClassVar[str | None] = None
    # How many of their latest entries render-history series keep (name -> K, a trail); series
    # not named keep the whole episode (see history_sample).
    history_lengths: ClassVar[dict[str, int]] = {}
    # The objectives a task can report as vector rewards (name -> what it measures, higher is
    # better); a Config with an ``objectives`` field picks some of them. Empty: scalar only.
    objectives_available: ClassVar[dict[str, str]] = {}

    observation_space: spaces.Box
    action_space: spaces.Space
    state_space: spaces.Box

    def __init__(self, config: Any, n_envs: int = 1) -> None:
        check_positive_int("n_envs", n_envs)
        check_memory(type(self), config, n_envs)
        self.config = config
        self.n_envs = int(n_envs)
        self.n_agents = int(config.n_agents)
        self.max_cycles = int(config.max_cycles)
        self.objectives: tuple[str, ...] = tuple(getattr(config, "objectives", ()) or ())
        self.steps = np.zeros(self.n_envs, dtype=np.int64)
        self.rng = BatchRNG(self.n_envs)

    @classmethod
    def observation_size(cls, config: Any) -> int:
        """``D``, the length of one robot's observation, from the config alone (before anything
        is allocated); 0 where a task does not say."""
        return 0

    @classmethod
    def memory_estimate(cls, config: Any, n_envs: int) -> int:
        """A lower bound of the bytes ``n_envs`` copies of the task need (see
        :func:`check_memory`); tasks with large per-copy state (maps) add it."""
        robots = int(getattr(config, "n_robots", None) or config.n_agents)
        per_robot = BYTES_PER_ROBOT + OBSERVATION_BUFFERS * 4 * int(cls.observation_size(config))
        return int(n_envs) * robots * per_robot

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
    def draw(self, renderer: Any, env_index: int, history: RenderHistory) -> None:
        """Draw copy ``env_index`` onto a :class:`~swarmzoo.envs.core.render.Renderer`.

        Args:
            history: the copy's past, as recorded from :meth:`history_sample` (copy 0 through
                the faces; an empty one for other copies).
        """

    def agent_names(self) -> list[str]:
        """The agents' names on both faces: ``robot_0 .. robot_{N-1}`` unless a task says
        otherwise."""
        return [f"robot_{i}" for i in range(self.n_agents)]

    def reset_infos(self) -> dict[str, np.ndarray]:
        """Metrics reported by ``reset`` (empty by default)."""
        return {}

    def occasional_infos(self) -> tuple[str, ...]:
        """Metrics reported only at some steps (none by default), for readers that fix an info
        schema from one step (the TorchRL batched env's ``return_info``)."""
        return ()

    def hud(self, env_index: int, history: RenderHistory) -> list[str]:
        """Extra text lines for the rendered frame of copy ``env_index`` (none by default);
        ``history`` as in :meth:`draw`."""
        return []

    def history_sample(self) -> dict[str, Any]:
        """Copy 0's values for the render history, read after every reset (they start its
        series) and step (they extend them): name -> value (a float, an array, which is
        copied). A name left out of a sample adds nothing that time. Called only while a face
        renders; nothing by default."""
        return {}

    def objective_rewards(self, rewards: np.ndarray, infos: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every objective's reward for the step just taken (called by :meth:`step` only when
        ``objectives`` are set), higher is better.

        Args:
            rewards: the step's scalar rewards ``(E, N)``.
            infos: the step's metrics.

        Returns:
            name -> ``(E, N)`` (per robot) or ``(E,)`` (shared by a copy's robots), at least
            the names in ``objectives``.
        """
        raise NotImplementedError(f"{self.name} has no objectives")

    def reward_space(self) -> spaces.Box:
        """One robot's reward space: a float32 ``Box`` of shape ``(K,)`` over the objectives
        (unbounded), as MOMAland's ``reward_space(agent)`` gives it.

        Raises:
            ValueError: the task has scalar rewards (no ``objectives`` set).
        """
        if not self.objectives:
            raise ValueError(f"{self.name} has scalar rewards; pass objectives=(...) for vector rewards")
        k = len(self.objectives)
        return spaces.Box(-np.inf, np.inf, (k,), dtype=np.float32)

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
            ``rewards (E, N)`` (``(E, N, K)`` with ``K`` objectives, in their order),
            ``terminations (E, N)``, ``truncations (E, N)``, ``infos``.
        """
        actions = validate_actions(actions, self.action_space, self.n_envs, self.n_agents)
        self.steps += 1
        rewards, terminated, infos = self._step(actions)
        if self.objectives:
            terms = self.objective_rewards(rewards, infos)
            shape = (self.n_envs, self.n_agents)
            rewards = np.stack(
                [np.broadcast_to(_per_robot(terms[name]), shape) for name in self.objectives], axis=-1
            ).astype(np.float64)
        out_of_time = self.steps >= self.max_cycles
        truncated = np.zeros(terminated.shape, dtype=bool)
        if np.logical_or.reduce(out_of_time):
            truncated[out_of_time] = True
            truncated &= ~terminated
        return rewards, terminated, truncated, infos


def _per_robot(term: np.ndarray) -> np.ndarray:
    """An objective's ``(E,)`` (shared) or ``(E, N)`` (per robot) values, broadcastable to ``(E, N)``."""
    term = np.asarray(term, dtype=np.float64)
    return term[:, None] if term.ndim == 1 else term


def validate_actions(
    actions: Any, space: spaces.Space, n_envs: int, n_agents: int, locate: bool = True
) -> np.ndarray:
    """Check a batch of actions against one robot's space; return it as an array. Errors about
    single values name their index ``actions[e, n(, a)]`` unless ``locate`` is False.

    Raises:
        TypeError: wrong dtype (floats for a discrete space, non-numbers).
        ValueError: wrong shape, out-of-range discrete actions, NaN/inf or out-of-bounds
            continuous actions. Nothing is clipped.
    """
    try:
        a = np.asarray(actions)
    except (ValueError, TypeError) as err:  # ragged nested sequences
        raise ValueError(f"actions must be one array of shape (E, N[, A]), not ragged lists: {err}") from None
    if isinstance(space, spaces.Discrete):
        if a.shape != (n_envs, n_agents):
            raise ValueError(f"discrete actions must have shape (E, N) = {(n_envs, n_agents)}, got {a.shape}")
        if a.dtype.kind not in "iu":
            raise TypeError(f"discrete actions must be integers, got dtype {a.dtype}")
        lo, hi = int(space.start), int(space.start + space.n)
        if a.size and (np.minimum.reduce(a, axis=None) < lo or np.maximum.reduce(a, axis=None) >= hi):
            where = np.argwhere((a < lo) | (a >= hi))[0]
            raise ValueError(
                f"discrete action {a[tuple(where)]} out of range [{lo}, {hi - 1}]{_index(where, locate)}"
            )
        return a
    if isinstance(space, spaces.Box):
        shape = (n_envs, n_agents, *space.shape)
        if a.shape != shape:
            raise ValueError(f"continuous actions must have shape (E, N, A) = {shape}, got {a.shape}")
        if a.dtype.kind not in "fiu":
            raise TypeError(f"continuous actions must be numbers, got dtype {a.dtype}")
        if not np.isfinite(a).all():
            where = np.argwhere(~np.isfinite(a))[0]
            bad = a[tuple(where)]
            raise ValueError(f"continuous actions contain NaN or inf ({bad}{_index(where, locate)})")
        if (a < space.low).any() or (a > space.high).any():
            where = np.argwhere((a < space.low) | (a > space.high))[0]
            raise ValueError(
                f"continuous actions out of bounds [{space.low.min()}, {space.high.max()}] "
                f"(min {a.min():.4g}, max {a.max():.4g}{_index(where, locate)}); clip them in the "
                "policy, the env does not"
            )
        return a
    raise TypeError(f"unsupported action space {space}")


def _index(where: np.ndarray, locate: bool) -> str:
    """``" at actions[e, n(, a)]"``: where an offending value is (env copy, robot, component)."""
    return f" at actions[{', '.join(str(int(i)) for i in where)}]" if locate else ""
