"""A replay buffer of team transitions for the value-based trainers (QMIX / VDN, and MO-MIX on top).

Shape contract (C = capacity, B = a sampled batch, N robots, D observation size, S state size,
``R`` = the reward's trailing shape: ``()`` for a scalar team reward, ``(K,)`` for K objectives)::

    add(obs (E, N, D), state (E, S), actions (E, N), rewards (E, *R),
        next_obs (E, N, D), next_state (E, S), terminated (E,), truncated (E,))
    sample(B, rng) -> ReplayBatch with the same fields, leading axis B

One row is one env copy's step: the whole team's observations, the global state, every robot's
action, the team reward and the observation / state after the step (for a copy that just
auto-reset, its episode's *final* observation and state, ``infos["final_obs"]`` /
``infos["final_state"]``, not the first of the next episode). ``terminated`` says the episode
ended in a terminal state (no bootstrap); ``truncated`` that it was cut by the time limit (the
target bootstraps from ``next_obs`` / ``next_state``). The buffer is circular: once full, the
oldest rows are overwritten first.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class ReplayBatch:
    """A batch of ``B`` transitions (see the module docstring for the fields' shapes)."""

    obs: torch.Tensor
    """``(B, N, D)`` float32."""
    state: torch.Tensor
    """``(B, S)`` float32."""
    actions: torch.Tensor
    """``(B, N)`` int64."""
    rewards: torch.Tensor
    """``(B, *R)`` float32: the team reward (mean over robots), scalar or one per objective."""
    next_obs: torch.Tensor
    """``(B, N, D)`` float32."""
    next_state: torch.Tensor
    """``(B, S)`` float32."""
    terminated: torch.Tensor
    """``(B,)`` float32, 1 where the episode ended in a terminal state."""
    truncated: torch.Tensor
    """``(B,)`` float32, 1 where the episode was cut by the time limit."""


class ReplayBuffer:
    """Circular storage of ``capacity`` team transitions, sampled uniformly.

    Args:
        capacity: rows kept (C >= 1); the oldest are overwritten first.
        n_agents: robots per team N.
        obs_dim: observation size D.
        state_dim: global state size S.
        reward_shape: trailing shape of a reward, ``()`` (scalar) or e.g. ``(K,)`` objectives.

    Raises:
        ValueError: a size below 1 (a negative reward dimension included).
    """

    def __init__(
        self,
        capacity: int,
        n_agents: int,
        obs_dim: int,
        state_dim: int,
        reward_shape: tuple[int, ...] = (),
    ) -> None:
        for name, value in (("capacity", capacity), ("n_agents", n_agents), ("obs_dim", obs_dim)):
            if int(value) < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if int(state_dim) < 0 or any(int(k) < 1 for k in reward_shape):
            raise ValueError(
                f"state_dim must be >= 0 and reward_shape sizes >= 1, got {state_dim}, {reward_shape}"
            )
        self.capacity = int(capacity)
        self.reward_shape = tuple(int(k) for k in reward_shape)
        C, N, D, S = self.capacity, int(n_agents), int(obs_dim), int(state_dim)
        self.shapes: dict[str, tuple[int, ...]] = {
            "obs": (N, D),
            "state": (S,),
            "actions": (N,),
            "rewards": self.reward_shape,
            "next_obs": (N, D),
            "next_state": (S,),
            "terminated": (),
            "truncated": (),
        }
        self.data: dict[str, torch.Tensor] = {
            name: torch.zeros((C, *shape), dtype=torch.int64 if name == "actions" else torch.float32)
            for name, shape in self.shapes.items()
        }
        self.pos = 0
        """The row the next transition goes to."""
        self.size = 0
        """Rows filled so far (at most ``capacity``)."""

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        obs: Any,
        state: Any,
        actions: Any,
        rewards: Any,
        next_obs: Any,
        next_state: Any,
        terminated: Any,
        truncated: Any,
    ) -> None:
        """Store ``E`` transitions (arrays or tensors with a leading axis E, shapes as in the
        module docstring), wrapping around the end of the buffer.

        Raises:
            ValueError: a field whose shape is not ``(E, *its shape)``, or E above the capacity.
        """
        values = {
            "obs": obs,
            "state": state,
            "actions": actions,
            "rewards": rewards,
            "next_obs": next_obs,
            "next_state": next_state,
            "terminated": terminated,
            "truncated": truncated,
        }
        tensors = {
            name: v if torch.is_tensor(v) else torch.as_tensor(np.array(v)) for name, v in values.items()
        }
        E = tensors["actions"].shape[0] if tensors["actions"].ndim else 0
        if E > self.capacity:
            raise ValueError(f"cannot add {E} transitions at once to a buffer of capacity {self.capacity}")
        for name, t in tensors.items():
            if tuple(t.shape) != (E, *self.shapes[name]):
                raise ValueError(f"{name} must have shape {(E, *self.shapes[name])}, got {tuple(t.shape)}")
        rows = (self.pos + torch.arange(E)) % self.capacity
        for name, t in tensors.items():
            self.data[name][rows] = t.to(self.data[name].dtype)
        self.pos = (self.pos + E) % self.capacity
        self.size = min(self.size + E, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> ReplayBatch:
        """``batch_size`` rows drawn uniformly with replacement (from ``rng``, so runs are
        reproducible).

        Raises:
            ValueError: the buffer is empty or ``batch_size < 1``.
        """
        if self.size == 0 or batch_size < 1:
            raise ValueError(f"cannot sample {batch_size} transitions from a buffer holding {self.size}")
        idx = torch.as_tensor(rng.integers(0, self.size, size=batch_size))
        return ReplayBatch(**{f.name: self.data[f.name][idx] for f in fields(ReplayBatch)})

    def state_dict(self) -> dict[str, Any]:
        """The filled rows and the write position: plain tensors and ints, so checkpoints load
        through :func:`~swarmzoo.agents.files.safe_load` (weights only, no code)."""
        return {
            "pos": self.pos,
            "size": self.size,
            **{k: v[: self.size].clone() for k, v in self.data.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (from a buffer of the same shapes)."""
        size = int(state["size"])
        if size > self.capacity:
            raise ValueError(
                f"the saved buffer holds {size} rows, more than this one's capacity {self.capacity}"
            )
        for name, buf in self.data.items():
            saved = state[name]
            if tuple(saved.shape[1:]) != tuple(buf.shape[1:]):
                raise ValueError(
                    f"saved {name} rows have shape {tuple(saved.shape[1:])}, not {tuple(buf.shape[1:])}"
                )
            buf.zero_()
            buf[:size] = saved
        self.pos, self.size = int(state["pos"]), size
