"""QMIX and VDN: value-based CTDE, one shared agent Q-network and a mixer into a team value.

References: Rashid et al., "QMIX: Monotonic Value Function Factorisation for Deep Multi-Agent
Reinforcement Learning" (ICML 2018); Sunehag et al., "Value-Decomposition Networks For Cooperative
Multi-Agent Learning" (AAMAS 2018); PyMARL (``src/modules/mixers/qmix.py``,
``src/learners/q_learner.py``) for the details the papers leave open.

Each robot ``i`` acts greedily on its own utility ``Q_i(o_i, .)`` (decentralised execution); in
training a mixer combines the chosen utilities into ``Q_tot(s, a)`` and one TD loss on the team
reward trains both (centralised training). Per gradient step, on a batch of ``B`` team
transitions from the replay buffer::

    Q_tot    = mixer(Q_i(o_i, a_i) for all i; s)
    a'_i     = argmax_a Q_i(o'_i, a)          online net (double Q; the target net without it)
    y        = r + gamma * (1 - terminated) * mixer_target(Q_i_target(o'_i, a'_i); s')
    L        = mean((Q_tot - y)^2)

``mixer="vdn"`` sums: ``Q_tot = sum_i Q_i``. ``mixer="qmix"`` is the monotonic hypernetwork
mixer (:class:`QMixer`): ``Q_tot = w2(s) . elu(W1(s) q + b1(s)) + V(s)`` with ``W1, w2 >= 0``
(absolute values of hypernetwork outputs), so ``dQ_tot / dQ_i >= 0`` and the robots' greedy
actions are the greedy joint action of ``Q_tot``.

What follows the papers (and PyMARL): parameter sharing across robots with an optional one-hot
agent id; the hypernetwork mixer conditioned on the global state (``venv.state()``), absolute
weights, ELU, state-dependent biases, a ``V(s)`` term through a ReLU hidden layer; target networks
of both agent net and mixer; double Q (PyMARL's ``double_q``, not in the paper); per-robot
epsilon-greedy exploration with a linear anneal; gradient-norm clipping (10); a squared TD error.

Our choices: a feed-forward MLP agent network (Tanh, :func:`~swarmzoo.agents.networks.mlp`) and
no GRU (swarmzoo's observations are Markov enough for the tasks here; the agent's network is the
CTDE actor's, so the policy file is an ordinary swarmzoo policy: ``swarmzoo evaluate`` takes the
greedy ``argmax Q``); Adam instead of PyMARL's RMSprop; a replay of single transitions (one row
per env copy and step, :class:`~swarmzoo.algorithms.common.replay.ReplayBuffer`) instead of whole
episodes; two-layer weight hypernetworks by default (PyMARL's ``hypernet_layers=2``;
``hypernet_hidden=0`` gives the paper's single linear layer); the target networks move every
``target_update_every`` gradient steps by ``target <- tau * online + (1 - tau) * target``
(``tau = 1``: PyMARL's hard copy; a small tau with ``target_update_every 1``: Polyak averaging);
the team reward is the mean over robots of their per-robot rewards. Terminations and truncations
stay apart: a copy's episode *terminates* when it ends and no robot was cut by the time limit at
that step; otherwise (truncation) the target bootstraps from the final observation and state the
vector env keeps in ``infos["final_obs"]`` / ``infos["final_state"]``. Robots whose episode ended
before the rest of their copy's still enter the mixer (the env ignores their actions and gives them
zero reward), as PyMARL keeps dead units' no-op utilities.

Per iteration (one ``progress.csv`` row): ``rollout_steps`` epsilon-greedy steps of ``num_envs``
copies go to the buffer, then ``gradient_steps`` updates on batches of ``batch_size`` (once the
buffer holds ``learning_starts`` transitions).

Reuse (e.g. a multi-objective MO-MIX trainer): :class:`AgentQNetwork`, :class:`VDNMixer`,
:class:`QMixer` (both take an optional conditioning input ``cond``, e.g. a preference vector, and
any leading batch shape), the buffer (rewards of any trailing shape, e.g. ``(K,)`` objectives),
:func:`td_targets` and :func:`td_loss` are importable with shape contracts in their docstrings.

``train(args)`` runs in-process and returns a :class:`~swarmzoo.algorithms.common.run.TrainResult`;
the command line is ``swarmzoo train qmix --env navigation-v0 ...`` (``swarmzoo train vdn`` is the
same trainer with ``--mixer vdn``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from swarmzoo.agents.networks import Actor, ActorPolicy, ActorSpec, mlp, with_agent_ids
from swarmzoo.agents.policy_files import save_policy
from swarmzoo.algorithms.common.replay import ReplayBatch, ReplayBuffer
from swarmzoo.algorithms.common.run import CheckpointHook, Run, TrainResult
from swarmzoo.algorithms.common.vector import make_training_env

MIXERS = ("qmix", "vdn")


@dataclass
class Args:
    """QMIX / VDN on a swarmzoo env with discrete actions (or any PettingZoo parallel env).

    The env, budget and run-folder arguments (``env``, ``env_kwargs``, ``reward_weights``,
    ``total_steps``, ``seed``, ``out``, ``num_envs``, ``checkpoint_every``, ``capture_video``,
    ``resume``, ``progress``, ``tensorboard``, ``torch_threads``) mean what they mean for every
    trainer (:class:`~swarmzoo.algorithms.common.run.BaseArgs`, whose PPO fields do not apply).
    """

    env: str = "navigation-v0"
    """A swarmzoo env id, or 'module:factory' of any PettingZoo ParallelEnv with homogeneous agents
    and a Discrete action space."""
    env_kwargs: tuple[str, ...] = ()
    """Env arguments as KEY=VALUE (e.g. n_agents=5 n_obstacles=2)."""
    reward_weights: tuple[float, ...] = ()
    """For an env made with objectives (--env-kwargs objectives=goals,energy): train on the
    weighted sum of its vector reward, one weight per objective (e.g. 0.8 0.2)."""
    total_steps: int = 200_000
    """Environment steps to train for, summed over env copies."""
    seed: int = 0
    """Seed of torch, exploration, replay sampling and the env copies."""
    out: Path | None = None
    """Run folder (default runs/<env>__<mixer>__<seed>__<time>)."""
    num_envs: int = 8
    """Env copies stepped together."""
    rollout_steps: int = 25
    """Steps per env copy between blocks of gradient steps (one progress.csv row each)."""
    gradient_steps: int = 25
    """Gradient steps after each rollout block (the replay ratio is gradient_steps x batch_size /
    (num_envs x rollout_steps) samples per stored transition)."""
    batch_size: int = 128
    """Transitions per gradient step."""
    buffer_size: int = 50_000
    """Transitions the replay buffer keeps (the oldest are overwritten)."""
    learning_starts: int = 2_000
    """Transitions stored before the first gradient step."""
    mixer: Literal["qmix", "vdn"] = "qmix"
    """'qmix': monotonic hypernetwork mixer on the global state; 'vdn': the sum."""
    lr: float = 5e-4
    """Adam learning rate (agent network and mixer)."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0."""
    gamma: float = 0.95
    """Discount."""
    max_grad_norm: float = 10.0
    """Gradient norm clip."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the agent Q-network."""
    agent_ids: bool = False
    """Append a one-hot robot id to the agent network's input (ties the policy to one swarm size)."""
    mixing_embed: int = 32
    """Width of the QMIX mixer's hidden layer."""
    hypernet_hidden: int = 64
    """Hidden width of the hypernetworks that make the mixer's weights (0: one linear layer, as in
    the paper)."""
    double_q: bool = True
    """Pick the next action with the online network, value it with the target network."""
    target_update_every: int = 200
    """Gradient steps between target-network updates."""
    target_tau: float = 1.0
    """Target update target <- tau * online + (1 - tau) * target (1: hard copy)."""
    epsilon_start: float = 1.0
    """Exploration rate at the start."""
    epsilon_end: float = 0.05
    """Exploration rate after the anneal."""
    epsilon_anneal_steps: int = 20_000
    """Environment steps (summed over copies) of the linear anneal from epsilon_start to epsilon_end."""
    checkpoint_every: int = 50
    """Iterations between checkpoints (they hold the replay buffer; the env copies start fresh,
    seeded episodes at each one, so a resumed run continues exactly as the uninterrupted one)."""
    capture_video: bool = False
    """Record one greedy episode at every checkpoint to RUN_DIR/videos/step_<N>.mp4."""
    resume: bool = False
    """Continue from <out>/checkpoints/latest.pt."""
    progress: bool = True
    """Show a progress bar with the live return."""
    tensorboard: bool = True
    """Write TensorBoard event files beside progress.csv."""
    torch_threads: int = 1
    """torch intra-op threads."""

    def __post_init__(self) -> None:
        """Finite floats; counts >= 1; ``learning_starts >= 0``; ``lr``, ``max_grad_norm`` > 0;
        ``gamma`` and the epsilons in [0, 1] with ``epsilon_end <= epsilon_start``;
        ``target_tau`` in (0, 1]; ``batch_size`` and ``num_envs`` within ``buffer_size``.

        Raises:
            ValueError: naming the argument.
        """
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, got {value}")
        counts = (
            "total_steps",
            "num_envs",
            "rollout_steps",
            "gradient_steps",
            "batch_size",
            "buffer_size",
            "mixing_embed",
            "target_update_every",
            "epsilon_anneal_steps",
            "checkpoint_every",
            "torch_threads",
        )
        for name in counts:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_starts", "hypernet_hidden", "seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("lr", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("gamma", "epsilon_start", "epsilon_end"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.epsilon_end > self.epsilon_start:
            raise ValueError(
                f"epsilon_end ({self.epsilon_end}) must not exceed epsilon_start ({self.epsilon_start})"
            )
        if not 0 < self.target_tau <= 1:
            raise ValueError(f"target_tau must lie in (0, 1], got {self.target_tau}")
        if self.mixer not in MIXERS:
            raise ValueError(f"mixer must be one of {MIXERS}, got {self.mixer!r}")
        if any(not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ValueError(f"hidden layer sizes must be integers >= 1, got {tuple(self.hidden)}")
        for name in ("batch_size", "num_envs"):
            if getattr(self, name) > self.buffer_size:
                raise ValueError(f"{name} ({getattr(self, name)}) exceeds buffer_size ({self.buffer_size})")


# Args that fix what a checkpoint's networks and buffer are; a resumed run must keep them.
STRUCTURAL = (
    "env",
    "env_kwargs",
    "reward_weights",
    "mixer",
    "hidden",
    "agent_ids",
    "mixing_embed",
    "hypernet_hidden",
    "num_envs",
    "rollout_steps",
    "buffer_size",
)


class AgentQNetwork(nn.Module):
    """The shared per-robot utility network ``Q_i(o_i, .)``: an MLP (the CTDE actor's layout).

    Shapes: ``obs (*B, N, D)`` (and ``cond (*B, N, C)`` if ``cond_dim``) -> ``Q (*B, N, A)``.
    With ``n_agent_ids`` the one-hot robot id (N must equal it) is appended to each observation;
    ``cond`` (e.g. an MO-MIX preference vector) is appended after it.

    Args:
        obs_dim: observation size D.
        n_actions: discrete actions A.
        hidden: hidden layer sizes.
        n_agent_ids: size of the agent-id one-hot (0: none).
        cond_dim: size of an extra conditioning input C (0: none).
    """

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        hidden: tuple[int, ...] = (64, 64),
        n_agent_ids: int = 0,
        cond_dim: int = 0,
    ) -> None:
        super().__init__()
        self.spec = ActorSpec(
            int(obs_dim), "discrete", int(n_actions), hidden=tuple(hidden), n_agent_ids=n_agent_ids
        )
        self.cond_dim = int(cond_dim)
        self.body = mlp(
            self.spec.obs_dim + n_agent_ids + self.cond_dim, self.spec.hidden, self.spec.action_dim, 1.0
        )

    def forward(self, obs: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """``obs (*B, N, D)`` [, ``cond (*B, N, C)``] -> ``Q (*B, N, A)``."""
        x = with_agent_ids(obs, self.spec.n_agent_ids)
        if self.cond_dim:
            if cond is None or cond.shape[-1] != self.cond_dim:
                raise ValueError(f"this agent network needs a conditioning input of size {self.cond_dim}")
            x = torch.cat([x, cond.expand(*x.shape[:-1], self.cond_dim)], dim=-1)
        elif cond is not None:
            raise ValueError("this agent network takes no conditioning input (cond_dim=0)")
        return self.body(x)

    def to_actor(self) -> Actor:
        """The greedy policy as a CTDE :class:`~swarmzoo.agents.networks.Actor` whose logits are
        the Q-values (its most likely action is ``argmax Q``), for an ordinary policy file."""
        if self.cond_dim:
            raise ValueError("a conditioned agent network (cond_dim > 0) is not a plain actor")
        actor = Actor(self.spec)
        actor.load_state_dict(self.state_dict())
        return actor


class VDNMixer(nn.Module):
    """``Q_tot = sum_i Q_i``: ``agent_qs (*B, N)`` -> ``(*B,)`` (``state`` and ``cond`` ignored)."""

    def forward(
        self, agent_qs: torch.Tensor, state: torch.Tensor | None = None, cond: torch.Tensor | None = None
    ) -> torch.Tensor:
        return agent_qs.sum(-1)


def _hypernet(in_dim: int, hidden: int, out_dim: int) -> nn.Module:
    """State -> mixer weights: one linear layer (``hidden == 0``) or ``Linear-ReLU-Linear``."""
    if hidden == 0:
        return nn.Linear(in_dim, out_dim)
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


class QMixer(nn.Module):
    """QMIX's monotonic mixer: ``Q_tot = w2(x) . elu(W1(x) q + b1(x)) + V(x)``, ``x = [s, cond]``.

    ``W1 (N, M)`` and ``w2 (M,)`` are absolute values of hypernetwork outputs, so ``Q_tot`` is
    non-decreasing in every ``Q_i``; ``b1`` is a linear map of ``x``, ``V`` a ReLU MLP.

    Shapes: ``agent_qs (*B, N)``, ``state (*B, S)`` (broadcast to ``agent_qs``' leading shape,
    e.g. ``(B, 1, S)`` against ``(B, K, N)``), ``cond (*B, C)`` -> ``Q_tot (*B,)``.

    Args:
        n_agents: robots N.
        state_dim: global state size S.
        embed_dim: hidden width M of the mixing network.
        hypernet_hidden: hidden width of the weight hypernetworks (0: one linear layer).
        cond_dim: size C of an extra conditioning input of the hypernetworks (0: none).
    """

    def __init__(
        self, n_agents: int, state_dim: int, embed_dim: int = 32, hypernet_hidden: int = 64, cond_dim: int = 0
    ) -> None:
        super().__init__()
        self.n_agents, self.state_dim, self.embed_dim, self.cond_dim = (
            n_agents,
            state_dim,
            embed_dim,
            cond_dim,
        )
        in_dim = state_dim + cond_dim
        self.hyper_w1 = _hypernet(in_dim, hypernet_hidden, n_agents * embed_dim)
        self.hyper_b1 = nn.Linear(in_dim, embed_dim)
        self.hyper_w2 = _hypernet(in_dim, hypernet_hidden, embed_dim)
        self.hyper_v = nn.Sequential(nn.Linear(in_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def forward(
        self, agent_qs: torch.Tensor, state: torch.Tensor, cond: torch.Tensor | None = None
    ) -> torch.Tensor:
        N, M = self.n_agents, self.embed_dim
        if agent_qs.shape[-1] != N or state.shape[-1] != self.state_dim:
            raise ValueError(
                f"the mixer takes agent_qs (..., {N}) and state (..., {self.state_dim}), "
                f"got {tuple(agent_qs.shape)} and {tuple(state.shape)}"
            )
        lead = agent_qs.shape[:-1]
        x = state.expand(*lead, self.state_dim)
        if self.cond_dim:
            if cond is None or cond.shape[-1] != self.cond_dim:
                raise ValueError(f"this mixer needs a conditioning input of size {self.cond_dim}")
            x = torch.cat([x, cond.expand(*lead, self.cond_dim)], dim=-1)
        elif cond is not None:
            raise ValueError("this mixer takes no conditioning input (cond_dim=0)")
        x = x.reshape(-1, x.shape[-1])
        q = agent_qs.reshape(-1, 1, N)
        w1 = self.hyper_w1(x).abs().view(-1, N, M)
        b1 = self.hyper_b1(x).view(-1, 1, M)
        hidden = nn.functional.elu(torch.bmm(q, w1) + b1)  # (B, 1, M)
        w2 = self.hyper_w2(x).abs().view(-1, M, 1)
        v = self.hyper_v(x).view(-1, 1, 1)
        return (torch.bmm(hidden, w2) + v).view(lead)


def make_mixer(
    kind: str, n_agents: int, state_dim: int, embed_dim: int = 32, hypernet_hidden: int = 64
) -> nn.Module:
    """``"qmix"`` -> :class:`QMixer`, ``"vdn"`` -> :class:`VDNMixer`."""
    if kind == "vdn":
        return VDNMixer()
    if kind == "qmix":
        return QMixer(n_agents, state_dim, embed_dim, hypernet_hidden)
    raise ValueError(f"mixer must be one of {MIXERS}, got {kind!r}")


class QMixModel(nn.Module):
    """Agent network and mixer with their target copies: everything a checkpoint restores.

    Only :meth:`online_parameters` are trained; the targets follow through :meth:`update_targets`.
    """

    def __init__(self, agent: AgentQNetwork, mixer: nn.Module) -> None:
        super().__init__()
        self.agent, self.mixer = agent, mixer
        self.target_agent, self.target_mixer = copy.deepcopy(agent), copy.deepcopy(mixer)
        for p in (*self.target_agent.parameters(), *self.target_mixer.parameters()):
            p.requires_grad_(False)

    def online_parameters(self) -> Iterator[nn.Parameter]:
        yield from self.agent.parameters()
        yield from self.mixer.parameters()

    @torch.no_grad()
    def update_targets(self, tau: float = 1.0) -> None:
        """``target <- tau * online + (1 - tau) * target`` (``tau = 1``: a hard copy)."""
        for online, target in ((self.agent, self.target_agent), (self.mixer, self.target_mixer)):
            for p, tp in zip(online.parameters(), target.parameters()):
                tp.lerp_(p, tau)


def td_targets(
    rewards: torch.Tensor, terminated: torch.Tensor, next_values: torch.Tensor, gamma: float
) -> torch.Tensor:
    """``y = r + gamma * (1 - terminated) * next_value``: ``rewards (B, *R)``, ``terminated (B,)``,
    ``next_values (B, *R)`` -> ``(B, *R)``. Truncated transitions are not terminated, so they
    bootstrap (from the final observation's value, which the caller passes)."""
    keep = (1.0 - terminated).reshape(-1, *([1] * (rewards.dim() - 1)))
    return rewards + gamma * keep * next_values


def td_loss(
    model: QMixModel, batch: ReplayBatch, gamma: float, double_q: bool = True
) -> tuple[torch.Tensor, dict[str, float]]:
    """QMIX / VDN's loss on a batch of ``B`` team transitions (see the module docstring).

    Returns:
        the loss ``mean((Q_tot - y)^2)`` and its statistics (``td_loss``, mean ``q_tot``, mean
        ``target``).
    """
    q = model.agent(batch.obs)  # (B, N, A)
    q_taken = q.gather(-1, batch.actions[..., None]).squeeze(-1)  # (B, N)
    q_tot = model.mixer(q_taken, batch.state)  # (B,)
    with torch.no_grad():
        next_q_target = model.target_agent(batch.next_obs)  # (B, N, A)
        chooser = model.agent(batch.next_obs) if double_q else next_q_target
        next_actions = chooser.argmax(-1, keepdim=True)  # (B, N, 1)
        next_q = next_q_target.gather(-1, next_actions).squeeze(-1)  # (B, N)
        next_q_tot = model.target_mixer(next_q, batch.next_state)  # (B,)
        target = td_targets(batch.rewards, batch.terminated, next_q_tot, gamma)
    loss = (q_tot - target).pow(2).mean()
    stats = {"td_loss": loss.item(), "q_tot": q_tot.mean().item(), "target": target.mean().item()}
    return loss, stats


def optimise(
    model: QMixModel, optimizer: torch.optim.Optimizer, loss: torch.Tensor, args: Args, done: int
) -> tuple[int, float]:
    """One gradient step on ``loss`` (norm clipped to ``args.max_grad_norm``), then the target
    update when ``done + 1`` gradient steps are a multiple of ``args.target_update_every``.

    Returns:
        ``done + 1`` and the gradient norm before clipping.
    """
    optimizer.zero_grad()
    loss.backward()
    grad_norm = float(nn.utils.clip_grad_norm_(list(model.online_parameters()), args.max_grad_norm))
    optimizer.step()
    done += 1
    if done % args.target_update_every == 0:
        model.update_targets(args.target_tau)
    return done, grad_norm


def epsilon_at(step: int, args: Args) -> float:
    """The exploration rate after ``step`` environment steps: linear from ``epsilon_start`` to
    ``epsilon_end`` over ``epsilon_anneal_steps``, then constant."""
    frac = min(1.0, step / args.epsilon_anneal_steps)
    return args.epsilon_start + frac * (args.epsilon_end - args.epsilon_start)


def epsilon_greedy(q: torch.Tensor, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """``q (E, N, A)`` -> action indices ``(E, N)``: each robot's ``argmax Q`` or, with
    probability ``epsilon``, a uniform random action (both draws from ``rng``)."""
    E, N, A = q.shape
    greedy = q.argmax(-1).numpy()
    explore = rng.random((E, N)) < epsilon
    return np.where(explore, rng.integers(0, A, size=(E, N)), greedy)


def team_transition(
    obs_next: np.ndarray,
    state_next: np.ndarray,
    rewards: np.ndarray,
    truncations: np.ndarray,
    infos: dict[str, Any],
) -> tuple[np.ndarray, ...]:
    """A vector-env step as team transitions: ``next_obs (E, N, D)`` and ``next_state (E, S)``
    (the final ones where a copy just auto-reset), the team reward ``(E, *R)`` (the mean over
    robots of ``rewards (E, N, *R)``), ``terminated (E,)`` (the episode ended and no robot was
    truncated at this step) and ``truncated (E,)`` (it ended by the time limit)."""
    finished = np.asarray(infos["_final_obs"], dtype=bool)
    next_obs, next_state = obs_next, state_next
    if finished.any():
        ids = np.flatnonzero(finished)
        next_obs, next_state = obs_next.copy(), state_next.copy()
        next_obs[ids] = infos["final_obs"][ids]
        next_state[ids] = infos["final_state"][ids]
    truncated = finished & np.asarray(truncations, dtype=bool).any(axis=1)
    terminated = finished & ~truncated
    team_reward = np.asarray(rewards, dtype=np.float32).mean(axis=1)
    return next_obs, next_state, team_reward, terminated, truncated


def check_env(venv: Any, env: str, algo: str) -> None:
    """Refuse what QMIX / VDN cannot train: a non-``Discrete`` action space or vector rewards.

    Raises:
        ValueError: naming the env and the problem.
    """
    space = venv.single_action_space
    if not isinstance(space, spaces.Discrete):
        hint = " (navigation-v0: drop continuous_actions=True)" if "navigation" in env else ""
        raise ValueError(
            f"{algo} needs a Discrete action space; {env!r} has {space} (continuous actions are not "
            f"supported by value-based CTDE: use `swarmzoo train ctde`){hint}"
        )
    if getattr(venv, "objectives", ()):
        raise ValueError(
            f"{algo} trains on a scalar team reward; {env!r} has objectives {tuple(venv.objectives)} "
            "(give --reward-weights, or train MO-MIX)"
        )


def train(args: Args, on_checkpoint: CheckpointHook | None = None) -> TrainResult:
    """Train QMIX (``mixer="qmix"``) or VDN (``mixer="vdn"``); see the module docstring.

    ``on_checkpoint(run_dir, global_step)``, when given, is called after every checkpoint with the
    current ``policy.pt`` written (inside a forked torch random stream: the run is unchanged).

    Raises:
        ValueError: an env without a Discrete action space, or with vector rewards.
    """
    run = Run(args, args.mixer, STRUCTURAL, checkpoint_algo="qmix", hooks=[on_checkpoint])
    venv = make_training_env(args.env, args.num_envs, run.env_kwargs, args.reward_weights)
    try:
        check_env(venv, args.env, args.mixer)
    except ValueError:
        venv.close()
        raise
    E, N, T = venv.num_envs, venv.n_agents, args.rollout_steps
    obs_dim = int(np.prod(venv.single_observation_space.shape))
    state_dim = int(np.prod(venv.state_space.shape))
    action_start = int(venv.single_action_space.start)
    agent = AgentQNetwork(
        obs_dim, int(venv.single_action_space.n), tuple(args.hidden), N if args.agent_ids else 0
    )
    mixer = make_mixer(args.mixer, N, state_dim, args.mixing_embed, args.hypernet_hidden)
    model = QMixModel(agent, mixer)
    optimizer = torch.optim.Adam(list(model.online_parameters()), lr=args.lr, foreach=True)
    replay = ReplayBuffer(args.buffer_size, N, obs_dim, state_dim)
    n_gradient_steps = 0
    if run.data is not None:
        replay.load_state_dict(run.data["replay"])
        n_gradient_steps = int(run.data["gradient_steps"])

    def write_policy(path: Path) -> None:
        extra = {"algo": args.mixer, "mixer": args.mixer, "q_values": True, "global_step": run.global_step}
        save_policy(path, model.agent.to_actor(), args.env, run.env_kwargs, extra=extra)

    def checkpoint_state() -> dict[str, Any]:
        return {
            "actor_spec": asdict(model.agent.spec),
            "actor": model.agent.state_dict(),
            "replay": replay.state_dict(),
            "gradient_steps": n_gradient_steps,
        }

    n_updates = max(1, args.total_steps // (E * T))
    run.start(model, optimizer, n_updates, E * T, f"{args.mixer} {args.env}", write_policy, checkpoint_state)

    for update in run.updates():
        if run.new_episodes(update):
            obs_np, _ = venv.reset(seed=run.episode_seed(update))
            state_np = venv.state()
        run.anneal_lr(update)
        episode_returns: list[float] = []
        # ---- act: epsilon-greedy steps into the replay buffer ---------------------------------
        for _ in range(T):
            epsilon = epsilon_at(run.global_step, args)
            with torch.no_grad():
                q = model.agent(torch.as_tensor(obs_np, dtype=torch.float32))
            actions = epsilon_greedy(q, epsilon, run.rng)
            next_obs_np, rewards, _, truncations, infos = venv.step(actions + action_start)
            next_state_np = venv.state()
            final_obs, final_state, team_reward, terminated, truncated = team_transition(
                next_obs_np, next_state_np, rewards, truncations, infos
            )
            replay.add(obs_np, state_np, actions, team_reward, final_obs, final_state, terminated, truncated)
            if infos["_final_obs"].any():
                ids = np.flatnonzero(infos["_final_obs"])
                episode_returns.extend(infos["episode_return"][ids].mean(axis=1).tolist())
            obs_np, state_np = next_obs_np, next_state_np
            run.global_step += E
        # ---- learn: TD steps on replayed batches ----------------------------------------------
        stats: dict[str, list[float]] = {}
        if len(replay) >= max(args.learning_starts, args.batch_size):
            for _ in range(args.gradient_steps):
                loss, step_stats = td_loss(
                    model, replay.sample(args.batch_size, run.rng), args.gamma, args.double_q
                )
                n_gradient_steps, step_stats["grad_norm"] = optimise(
                    model, optimizer, loss, args, n_gradient_steps
                )
                for key, value in step_stats.items():
                    stats.setdefault(key, []).append(value)
        extra = {f"losses/{k}": float(np.mean(v)) for k, v in stats.items()}
        extra["charts/epsilon"] = epsilon
        extra["charts/gradient_steps"] = float(n_gradient_steps)
        run.end_update(update, episode_returns, extra)
    return run.finish(venv)


def policy_of(result: TrainResult) -> ActorPolicy:
    """The greedy policy (``argmax Q``) of a finished run."""
    from swarmzoo.agents.policy_files import load_policy

    return load_policy(result.run_dir / "policy.pt")[0]
