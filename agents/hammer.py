"""HAMMER's networks, its policy and its policy files (the trainer is
:mod:`swarmzoo.algorithms.hammer`).

Two levels:

* **The central agent** sees the global state and sends every robot a continuous message
  ``m_i`` (a diagonal Gaussian over ``message_dim`` numbers). It is permutation-equivariant and
  size-free, a DeepSets network over the robots::

      e_i = phi(x_i)                  x_i: robot i's own global features (below)
      c   = mean_j e_j                the swarm's pooled embedding
      m_i ~ N(head([e_i, c]), diag(exp(log_std))^2)

  Permuting the robots permutes the messages; the same weights run on any swarm size.
* **The local agents**: one shared actor on ``[o_i, m_i]``, the robot's own observation and its
  own message, nothing else (no robot hears another's message).

Robot i's global features ``x_i`` (:class:`StateLayout`) are read from ``navigation-v0``'s
``state()`` (positions, velocities, goals, obstacles with their radii, the layout documented in
:mod:`swarmzoo.envs.navigation`), with the speed caps from the task's config:

* its position, velocity and top speed (the terminal speed of a full push, or its cap if lower:
  what tells a slow robot from a fast one in a heterogeneous swarm; the robots' observations do
  not hold it);
* its ``goal_slots`` nearest goals, nearest first: offset, distance, the distance from that goal
  to the nearest *other* robot (whether someone else is closer: the global information a robot's
  own sensors lack) and a valid flag (0 for empty slots);
* its ``obstacle_slots`` nearest obstacles: offset, distance, radius, valid flag.

Decoding the state (rather than reading the task's arrays) also gives the central critic the
episode's final state at an auto-reset (``infos["final_state"]``).

Shapes: observations ``(E, N, D)``, states ``(E, S)``, central features ``(E, N, F)``, messages
``(E, N, M)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.distributions import Normal

from swarmzoo.agents.files import POLICY_FORMAT, atomic_torch_save
from swarmzoo.agents.networks import Actor, ActorSpec, mlp

ROBOT_FEATURES = 5
"""Robot i's own entries: position (2), velocity (2), top speed."""
GOAL_FEATURES = 5
"""Per goal slot: offset (2), distance, the goal's distance to the nearest other robot, valid."""
OBSTACLE_FEATURES = 5
"""Per obstacle slot: offset (2), distance, radius, valid."""


@dataclass(frozen=True)
class CentralSpec:
    """Everything needed to rebuild the central agent.

    Attributes:
        message_dim: size M of each robot's message.
        hidden: hidden layer sizes of ``phi`` and of the message head.
        log_std_init: initial log standard deviation of the messages.
        goal_slots: nearest goals in each robot's global features.
        obstacle_slots: nearest obstacles in each robot's global features.
    """

    message_dim: int
    hidden: tuple[int, ...] = (64, 64)
    log_std_init: float = -0.5
    goal_slots: int = 6
    obstacle_slots: int = 2

    @property
    def feature_dim(self) -> int:
        """Size F of robot i's global features."""
        return ROBOT_FEATURES + GOAL_FEATURES * self.goal_slots + OBSTACLE_FEATURES * self.obstacle_slots


@dataclass(frozen=True)
class StateLayout:
    """How to read per-robot features out of a ``navigation-v0`` global state ``(E, S)``:
    ``[pos (N, 2), vel (N, 2), goals (G, 2), obstacles (O, 3: x, y, radius)]`` flattened (a
    heterogeneous swarm appends its N speed caps, which :attr:`top_speed` already holds).

    Attributes:
        n_agents: robots N.
        n_goals: goals G.
        n_obstacles: obstacles O.
        top_speed: each robot's top speed: the terminal speed of a full push
            (``accel * dt / (mass * damping)``), or its speed cap if lower.
        period: the arena's size on a torus (offsets use the minimum image), else None.
        diagonal: the arena's diagonal (the "nearest other robot" distance of a lone robot).
        goal_slots: nearest goals per robot.
        obstacle_slots: nearest obstacles per robot.
    """

    n_agents: int
    n_goals: int
    n_obstacles: int
    top_speed: tuple[float, ...]
    period: tuple[float, float] | None
    diagonal: float
    goal_slots: int = 6
    obstacle_slots: int = 2

    @classmethod
    def of(cls, task: Any, spec: CentralSpec) -> StateLayout:
        """The layout of a ``navigation-v0`` task (its default layouts), with ``spec``'s slots.

        Raises:
            ValueError: no task, a task of another env, or the ``mpe_spread`` layouts (whose
                state is the robots' observations concatenated).
        """
        from swarmzoo.envs.navigation_task import NavigationTask

        if task is None:
            raise ValueError("a HAMMER policy needs the task (its central agent reads the global state)")
        cfg = getattr(task, "config", None)
        mpe = bool(getattr(cfg, "mpe_compat", False))
        if not isinstance(task, NavigationTask) or mpe:
            raise ValueError(
                "HAMMER's central agent reads navigation-v0's global state (positions, velocities, "
                f"goals, obstacles) in its default layout; got a {type(task).__name__} task"
                + (" with the mpe_spread layouts" if mpe else "")
            )
        N = cfg.n_agents
        top = cfg.top_speeds
        top = np.where(np.isfinite(top), top, 0.0)
        arena = task.arena
        period = (float(arena.size[0]), float(arena.size[1])) if arena.periodic else None
        return cls(
            N,
            cfg.goals,
            cfg.n_obstacles,
            tuple(float(t) for t in top),
            period,
            float(np.hypot(*arena.size)),
            spec.goal_slots,
            spec.obstacle_slots,
        )

    @property
    def state_size(self) -> int:
        """The state length this layout reads (without a heterogeneous swarm's caps)."""
        return 4 * self.n_agents + 2 * self.n_goals + 3 * self.n_obstacles

    def features(self, state: np.ndarray) -> torch.Tensor:
        """Robot i's global features ``(E, N, F)`` (see the module docstring) of states ``(E, S)``."""
        state = np.asarray(state, dtype=np.float64)
        N, G, O = self.n_agents, self.n_goals, self.n_obstacles
        if state.ndim != 2 or state.shape[1] < self.state_size:
            raise ValueError(
                f"a navigation-v0 state of {N} robots, {G} goals and {O} obstacles has at least "
                f"{self.state_size} entries per copy, got shape {state.shape}"
            )
        E = state.shape[0]
        pos = state[:, : 2 * N].reshape(E, N, 2)
        vel = state[:, 2 * N : 4 * N].reshape(E, N, 2)
        goals = state[:, 4 * N : 4 * N + 2 * G].reshape(E, G, 2)
        obstacles = state[:, 4 * N + 2 * G : self.state_size].reshape(E, O, 3)
        top = np.broadcast_to(np.asarray(self.top_speed), (E, N))[..., None]
        goal_off = self._offsets(goals[:, None] - pos[:, :, None])  # (E, N, G, 2)
        goal_dist = np.linalg.norm(goal_off, axis=-1)  # (E, N, G)
        goal_feat = np.concatenate(
            [goal_off, goal_dist[..., None], self._nearest_other(goal_dist)[..., None]], axis=-1
        )
        obs_off = self._offsets(obstacles[:, None, :, :2] - pos[:, :, None])  # (E, N, O, 2)
        obs_dist = np.linalg.norm(obs_off, axis=-1)
        radius = np.broadcast_to(obstacles[:, None, :, 2], (E, N, O))
        obs_feat = np.concatenate([obs_off, obs_dist[..., None], radius[..., None]], axis=-1)
        parts = [
            pos,
            vel,
            top,
            _nearest_slots(goal_feat, goal_dist, self.goal_slots),
            _nearest_slots(obs_feat, obs_dist, self.obstacle_slots),
        ]
        return torch.as_tensor(np.concatenate(parts, axis=-1), dtype=torch.float32)

    def _nearest_other(self, dist: np.ndarray) -> np.ndarray:
        """``(E, N, G)``: for robot i and goal g, the distance from g to the nearest robot other
        than i (from the two nearest robots of each goal)."""
        if dist.shape[1] == 1:
            return np.full_like(dist, self.diagonal)
        two = np.partition(dist, 1, axis=1)[:, :2]  # (E, 2, G): nearest and second nearest
        return np.where(dist <= two[:, :1], two[:, 1:2], two[:, :1])

    def _offsets(self, delta: np.ndarray) -> np.ndarray:
        if self.period is None:
            return delta
        size = np.asarray(self.period)
        return delta - size * np.round(delta / size)


def _nearest_slots(feat: np.ndarray, dist: np.ndarray, k: int) -> np.ndarray:
    """``feat (E, N, K_all, F)`` -> ``(E, N, k * (F + 1))``: the ``k`` entries of smallest
    ``dist (E, N, K_all)``, nearest first, each with a valid flag (zeros past the last entry)."""
    E, N, n, F = feat.shape
    out = np.zeros((E, N, k, F + 1))
    take = min(k, n)
    if take:
        order = np.argsort(dist, axis=-1, kind="stable")[..., :take]
        out[..., :take, :F] = np.take_along_axis(feat, order[..., None], axis=2)
        out[..., :take, F] = 1.0
    return out.reshape(E, N, k * (F + 1))


class CentralActor(nn.Module):
    """The central agent's policy: a Gaussian over each robot's message,
    ``N(head([e_i, mean_j e_j]), diag(exp(log_std))^2)`` with ``e_i = phi(x_i)``."""

    def __init__(self, spec: CentralSpec) -> None:
        super().__init__()
        self.spec = spec
        *inner, width = spec.hidden or (64,)
        self.phi = nn.Sequential(mlp(spec.feature_dim, tuple(inner), width, np.sqrt(2)), nn.Tanh())
        self.head = mlp(2 * width, (width,), spec.message_dim, 0.01)
        self.log_std = nn.Parameter(torch.full((spec.message_dim,), float(spec.log_std_init)))

    def distribution(self, x: torch.Tensor) -> Normal:
        """Messages ``(..., N, M)`` from robot features ``x (..., N, F)``."""
        e = self.phi(x)
        pooled = e.mean(dim=-2, keepdim=True).expand_as(e)
        mean = self.head(torch.cat([e, pooled], dim=-1))
        return Normal(mean, self.log_std.exp().expand_as(mean))


class CentralCritic(nn.Module):
    """The central agent's value of the swarm's state, ``rho(mean_j phi(x_j))``: ``(..., N, F) ->
    (...,)``."""

    def __init__(self, spec: CentralSpec) -> None:
        super().__init__()
        *inner, width = spec.hidden or (64,)
        self.phi = nn.Sequential(mlp(spec.feature_dim, tuple(inner), width, np.sqrt(2)), nn.Tanh())
        self.rho = mlp(width, (width,), 1, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rho(self.phi(x).mean(dim=-2)).squeeze(-1)


def local_input(obs: torch.Tensor, messages: torch.Tensor) -> torch.Tensor:
    """The local actor's input ``[o_i, m_i]``: ``(..., N, D)``, ``(..., N, M) -> (..., N, D + M)``
    (robot i's own observation and its own message, nothing from other robots)."""
    return torch.cat([obs, messages], dim=-1)


class HammerPolicy:
    """A trained HAMMER swarm as a swarmzoo policy: ``act(obs (E, N, D), task) -> actions``.

    Each call the central agent computes every robot's message from the task's global state,
    then the shared local actor acts on ``[o_i, m_i]``. Deterministic: the messages' means and the
    local actions' modes; otherwise both are sampled from the policy's own seeded generator.
    """

    def __init__(
        self,
        local: Actor,
        central: CentralActor,
        deterministic: bool = True,
        seed: int | None = None,
    ) -> None:
        self.local = local.eval()
        self.central = central.eval()
        self.deterministic = deterministic
        self.generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
        self.message_dim = central.spec.message_dim
        self.obs_dim = local.spec.obs_dim - self.message_dim

    @torch.no_grad()
    def messages(self, task: Any) -> torch.Tensor:
        """``(E, N, M)``: the message the central agent sends each robot in the task's current
        state."""
        features = StateLayout.of(task, self.central.spec).features(task.state())
        dist = self.central.distribution(features)
        if self.deterministic:
            return dist.mean
        return dist.mean + dist.stddev * torch.randn(dist.mean.shape, generator=self.generator)

    @torch.no_grad()
    def local_actions(self, obs: np.ndarray | torch.Tensor, messages: torch.Tensor) -> np.ndarray:
        """The local agents' actions ``(E, N[, A])`` from their observations ``(E, N, D)`` and
        messages ``(E, N, M)``."""
        x = torch.as_tensor(np.asarray(obs), dtype=torch.float32)
        if x.shape[-1] != self.obs_dim:
            raise ValueError(f"policy expects observations of size {self.obs_dim}, got {x.shape[-1]}")
        dist = self.local.distribution(local_input(x, torch.as_tensor(messages, dtype=torch.float32)))
        action = self.local.mode(dist) if self.deterministic else self.local.sample(dist, self.generator)
        return self.local.to_env(action)

    def act(self, obs: np.ndarray, task: Any = None) -> np.ndarray:
        return self.local_actions(obs, self.messages(task))


def hammer_entries(local: Actor, central: CentralActor) -> dict[str, Any]:
    """The networks' entries of a HAMMER policy file (and of its training checkpoints)."""
    return {
        "actor_spec": asdict(local.spec),
        "actor": local.state_dict(),
        "central_spec": asdict(central.spec),
        "central": central.state_dict(),
    }


def save_hammer_policy(
    path: str | Path,
    local: Actor,
    central: CentralActor,
    env_id: str,
    env_kwargs: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a self-contained HAMMER policy file (``algo == "hammer"``)."""
    atomic_torch_save(
        {
            "format": POLICY_FORMAT,
            "algo": "hammer",
            **hammer_entries(local, central),
            "env_id": env_id,
            "env_kwargs": dict(env_kwargs),
            **(extra or {}),
        },
        path,
    )


def load_hammer_policy(
    data: dict[str, Any], deterministic: bool = True, seed: int | None = None
) -> HammerPolicy:
    """A :class:`HammerPolicy` from a policy file's (or checkpoint's) entries, as read by
    :func:`~swarmzoo.agents.files.safe_load`."""
    spec_dict = dict(data["actor_spec"])
    for key in ("action_low", "action_high", "hidden"):
        spec_dict[key] = tuple(spec_dict[key])
    local = Actor(ActorSpec(**spec_dict))
    local.load_state_dict(data["actor"])
    central_dict = dict(data["central_spec"])
    central_dict["hidden"] = tuple(central_dict["hidden"])
    central = CentralActor(CentralSpec(**central_dict))
    central.load_state_dict(data["central"])
    return HammerPolicy(local, central, deterministic, seed)
