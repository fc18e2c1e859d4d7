"""Policy and value networks shared by the trainers, and safe policy files.

Shapes: observations ``(B, D)`` -> action distribution over ``B`` robots; values ``(B,)``. A
batch ``(E, N, D)`` is flattened to ``B = E * N`` by the caller: one shared network for all robots
(parameter sharing), which is what lets one policy run on swarms of any size.

Policy files hold only tensors and plain config (``torch.save`` of a dict) and are read with
``torch.load(weights_only=True)``, so loading never executes code from the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Categorical, Normal


@dataclass(frozen=True)
class ActorSpec:
    """Everything needed to rebuild an actor.

    Attributes:
        obs_dim: observation size D.
        action_kind: ``"discrete"`` or ``"continuous"``.
        action_dim: number of discrete actions, or the continuous action size.
        action_low: lower bounds of a continuous action (empty for discrete).
        action_high: upper bounds of a continuous action (empty for discrete).
        hidden: hidden layer sizes.
        n_agent_ids: size of the agent-id one-hot appended to observations (0: none).
        recurrent: hidden size of a GRU between the MLP and the action head (0: feed-forward;
            see :class:`RecurrentActor`).
    """

    obs_dim: int
    action_kind: str
    action_dim: int
    action_low: tuple[float, ...] = ()
    action_high: tuple[float, ...] = ()
    hidden: tuple[int, ...] = (64, 64)
    n_agent_ids: int = 0
    recurrent: int = 0

    @classmethod
    def from_spaces(
        cls,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        hidden: tuple[int, ...] = (64, 64),
        n_agent_ids: int = 0,
        recurrent: int = 0,
    ) -> ActorSpec:
        if recurrent < 0:
            raise ValueError(f"recurrent (the GRU size) must be >= 0, got {recurrent}")
        if recurrent and not hidden:
            raise ValueError("a recurrent actor needs at least one hidden layer before its GRU")
        if len(observation_space.shape) != 1:
            raise ValueError(f"observations must be flat vectors, got shape {observation_space.shape}")
        if isinstance(action_space, spaces.Discrete):
            return cls(
                int(observation_space.shape[0]),
                "discrete",
                int(action_space.n),
                hidden=tuple(hidden),
                n_agent_ids=n_agent_ids,
                recurrent=recurrent,
            )
        if isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
            return cls(
                int(observation_space.shape[0]),
                "continuous",
                int(action_space.shape[0]),
                tuple(float(x) for x in action_space.low),
                tuple(float(x) for x in action_space.high),
                tuple(hidden),
                n_agent_ids,
                recurrent,
            )
        raise ValueError(f"unsupported action space {action_space}: use Discrete or a 1-D Box")


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, out_gain: float) -> nn.Sequential:
    """Tanh MLP with orthogonal initialisation (gain sqrt(2) inside, ``out_gain`` on the head)."""
    layers: list[nn.Module] = []
    last = in_dim
    for h in hidden:
        layer = nn.Linear(last, h)
        nn.init.orthogonal_(layer.weight, np.sqrt(2))
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.Tanh()]
        last = h
    head = nn.Linear(last, out_dim)
    nn.init.orthogonal_(head.weight, out_gain)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*layers, head)


class ActionHead:
    """What a per-robot action distribution needs around it (shared by :class:`Actor` and the
    mean-field decision rule): a ``spec`` with ``action_kind``, and for continuous actions the
    box bounds ``low`` / ``high`` as tensors. Categorical for discrete actions, a diagonal
    Gaussian (summed over action entries) for continuous ones."""

    def log_prob(self, dist: torch.distributions.Distribution, action: torch.Tensor) -> torch.Tensor:
        lp = dist.log_prob(action)
        return lp if self.spec.action_kind == "discrete" else lp.sum(-1)

    def entropy(self, dist: torch.distributions.Distribution) -> torch.Tensor:
        ent = dist.entropy()
        return ent if self.spec.action_kind == "discrete" else ent.sum(-1)

    def mode(self, dist: torch.distributions.Distribution) -> torch.Tensor:
        return dist.probs.argmax(-1) if self.spec.action_kind == "discrete" else dist.mean

    def sample(self, dist: torch.distributions.Distribution, generator: torch.Generator) -> torch.Tensor:
        """A draw from ``dist`` with its own ``generator`` (reproducible, unlike ``dist.sample()``,
        which uses torch's global generator)."""
        if self.spec.action_kind == "discrete":
            flat = dist.probs.reshape(-1, dist.probs.shape[-1])
            return torch.multinomial(flat, 1, generator=generator).reshape(dist.probs.shape[:-1])
        return dist.mean + dist.stddev * torch.randn(dist.mean.shape, generator=generator)

    def _init_continuous(self, spec: ActorSpec) -> None:
        """The state-independent log-std and the action box (continuous actions only)."""
        if spec.action_kind == "continuous":
            self.log_std = nn.Parameter(torch.full((spec.action_dim,), -0.5))
            self.register_buffer("low", torch.tensor(spec.action_low, dtype=torch.float32))
            self.register_buffer("high", torch.tensor(spec.action_high, dtype=torch.float32))

    def _distribution_of(self, out: torch.Tensor) -> torch.distributions.Distribution:
        """Categorical logits, or Gaussian means with the learned log-std."""
        if self.spec.action_kind == "discrete":
            return Categorical(logits=out)
        return Normal(out, self.log_std.exp().expand_as(out))

    def to_env(self, action: torch.Tensor) -> np.ndarray:
        """Actions as the env takes them: int64 indices, or floats clipped to the action box."""
        if self.spec.action_kind == "discrete":
            return action.cpu().numpy().astype(np.int64)
        return torch.maximum(torch.minimum(action, self.high), self.low).cpu().numpy().astype(np.float32)


class Actor(ActionHead, nn.Module):
    """Shared actor: categorical logits, or a Gaussian with a state-independent log-std.

    Continuous samples are unbounded; :meth:`to_env` clips them to the action box (the env
    itself refuses out-of-range actions), while log-probabilities use the unclipped sample.
    """

    recurrent = False

    def __init__(self, spec: ActorSpec) -> None:
        super().__init__()
        self.spec = spec
        self.body = mlp(spec.obs_dim + spec.n_agent_ids, spec.hidden, spec.action_dim, 0.01)
        self._init_continuous(spec)

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        return self._distribution_of(self.body(obs))


class RecurrentActor(ActionHead, nn.Module):
    """Shared actor with memory: ``MLP(hidden) -> GRUCell(recurrent) -> action head``, one hidden
    state per robot, zeroed where an episode starts. For partially observed tasks (the MAPPO
    paper's recurrent policies); ``ActorSpec.recurrent`` sets the GRU size.

    :meth:`step` advances one step (rollouts, execution); :meth:`unroll` recomputes a stored
    rollout's distributions from its first hidden state and its episode starts (the PPO update,
    so gradients flow through time within the rollout).
    """

    recurrent = True

    def __init__(self, spec: ActorSpec) -> None:
        super().__init__()
        if spec.recurrent < 1 or not spec.hidden:
            raise ValueError("RecurrentActor needs spec.recurrent >= 1 and at least one hidden layer")
        self.spec = spec
        *inner, last = spec.hidden
        self.encoder = nn.Sequential(
            mlp(spec.obs_dim + spec.n_agent_ids, tuple(inner), last, np.sqrt(2)), nn.Tanh()
        )
        self.gru = nn.GRUCell(last, spec.recurrent)
        self.head = nn.Linear(spec.recurrent, spec.action_dim)
        nn.init.orthogonal_(self.head.weight, 0.01)
        nn.init.zeros_(self.head.bias)
        self._init_continuous(spec)

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero hidden states ``(batch, recurrent)``."""
        return torch.zeros(batch, self.spec.recurrent)

    def step(
        self, obs: torch.Tensor, h: torch.Tensor, start: torch.Tensor | None = None
    ) -> tuple[torch.distributions.Distribution, torch.Tensor]:
        """``obs (B, D)``, ``h (B, H)``; ``start (B,)`` 1 where an episode starts at this step
        (its hidden state is zeroed first). Returns the distribution and the new hidden state."""
        if start is not None:
            h = h * (1.0 - start.to(h.dtype))[:, None]
        h = self.gru(self.encoder(obs), h)
        return self._distribution_of(self.head(h)), h

    def unroll(
        self, obs: torch.Tensor, h0: torch.Tensor, starts: torch.Tensor
    ) -> torch.distributions.Distribution:
        """Distributions ``(T, B)`` of a stored sequence ``obs (T, B, D)`` from ``h0 (B, H)``,
        with ``starts (T, B)`` as in :meth:`step`."""
        h, outs = h0, []
        x = self.encoder(obs)
        keep = 1.0 - starts.to(h0.dtype)
        for t in range(obs.shape[0]):
            h = self.gru(x[t], h * keep[t, :, None])
            outs.append(h)
        return self._distribution_of(self.head(torch.stack(outs)))

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        raise TypeError("a recurrent actor has no memoryless distribution: use step() or unroll()")


def make_actor(spec: ActorSpec) -> Actor | RecurrentActor:
    """The actor a spec describes: :class:`RecurrentActor` if ``spec.recurrent``, else :class:`Actor`."""
    return RecurrentActor(spec) if spec.recurrent else Actor(spec)


class Critic(nn.Module):
    """Value network ``(B, in_dim) -> (B,)``."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...] = (64, 64)) -> None:
        super().__init__()
        self.body = mlp(in_dim, hidden, 1, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(-1)


def with_agent_ids(obs: torch.Tensor, n_ids: int) -> torch.Tensor:
    """Append a one-hot agent id: ``(..., N, D)`` -> ``(..., N, D + n_ids)`` (no-op if 0)."""
    if n_ids == 0:
        return obs
    N = obs.shape[-2]
    if N != n_ids:
        raise ValueError(f"the policy was trained with agent ids for {n_ids} robots, got {N}")
    ids = torch.eye(N, dtype=obs.dtype).expand(*obs.shape[:-2], N, N)
    return torch.cat([obs, ids], dim=-1)


class ActorPolicy:
    """A trained actor as a swarmzoo policy: ``act(obs (E, N, D), task) -> actions``.

    It reads only the observations (decentralised execution). A recurrent actor keeps one hidden
    state per robot between calls and zeroes a copy's where ``task.steps`` is 0 (the first step
    of an episode), so it needs the task (any object with a ``steps`` array).
    """

    def __init__(
        self,
        actor: Actor | RecurrentActor,
        deterministic: bool = True,
        obs_norm: Any = None,
        seed: int | None = None,
    ) -> None:
        self.actor = actor.eval()
        self.deterministic = deterministic
        self.obs_norm = obs_norm
        self.generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
        self.hidden: torch.Tensor | None = None

    @torch.no_grad()
    def act(self, obs: np.ndarray, task: Any = None) -> np.ndarray:
        x = torch.as_tensor(np.asarray(obs), dtype=torch.float32)
        if x.shape[-1] != self.actor.spec.obs_dim:
            raise ValueError(
                f"policy expects observations of size {self.actor.spec.obs_dim}, got {x.shape[-1]}"
            )
        if self.obs_norm is not None:
            x = self.obs_norm.normalize(x)
        x = with_agent_ids(x, self.actor.spec.n_agent_ids)
        if self.actor.recurrent:
            dist = self._recurrent_step(x, task)
        else:
            dist = self.actor.distribution(x)
        action = self.actor.mode(dist) if self.deterministic else self.actor.sample(dist, self.generator)
        return self.actor.to_env(action)

    def _recurrent_step(self, x: torch.Tensor, task: Any) -> torch.distributions.Distribution:
        E, N = x.shape[:2]
        start = episode_starts(task, E)
        if self.hidden is None or self.hidden.shape[0] != E * N:
            self.hidden = self.actor.initial_state(E * N)
            start = torch.ones(E)
        dist, self.hidden = self.actor.step(x.reshape(E * N, -1), self.hidden, start.repeat_interleave(N))
        return self.actor._distribution_of(
            (dist.logits if self.actor.spec.action_kind == "discrete" else dist.mean).reshape(E, N, -1)
        )


def episode_starts(task: Any, n_envs: int) -> torch.Tensor:
    """``(E,)`` float: 1 for the copies whose episode starts at this step (``task.steps == 0``),
    where a recurrent policy zeroes its memory.

    Raises:
        ValueError: no task (or one without ``steps``) was given to ``act``.
    """
    steps = getattr(task, "steps", None)
    if steps is None:
        raise ValueError(
            "a recurrent policy needs the task (its `steps` tell where episodes start): call act(obs, task)"
        )
    return torch.as_tensor(np.broadcast_to(np.asarray(steps) == 0, (n_envs,)).copy(), dtype=torch.float32)
