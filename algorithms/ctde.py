"""MAPPO and IPPO: PPO with one shared actor and a centralised (MAPPO) or local (IPPO) critic.

References: Yu et al., "The Surprising Effectiveness of PPO in Cooperative Multi-Agent Games"
(NeurIPS 2022 D&B) for MAPPO; de Witt et al., "Is Independent Learning All You Need in the
StarCraft Multi-Agent Challenge?" (2020) for IPPO; CleanRL's ``ppo.py`` for the layout.

What differs from single-agent PPO:

* **One actor for all robots** (parameter sharing) acting on each robot's local observation,
  optionally with a one-hot agent id. Execution is decentralised.
* **The critic.** MAPPO (``critic="central"``): ``V(s, o_i)``, the env's global state
  (``state()``) concatenated with the robot's own observation (MAPPO's agent-specific global
  state). IPPO (``critic="local"``): ``V(o_i)``.
* **Samples are robot-steps.** A rollout of T steps over E env copies of N robots gives
  ``T x E x N`` samples; minibatches are drawn over all of them.
* **Recurrent actor** (``--recurrent H``, as the MAPPO paper's recurrent policies): a GRU of size
  H after the MLP, one hidden state per robot, zeroed at episode starts. Minibatches are then
  drawn over robots' whole rollout sequences (``E x N`` of them, T steps each), and the update
  re-runs the GRU over each sequence from the hidden state the rollout started with
  (backpropagation through the T steps); the critic stays feed-forward.

Per update (``T`` steps of the vector env, then ``epochs x minibatches`` gradient steps)::

    A_t   = GAE(r, V; gamma, lambda)   bootstrapping V(final obs) on truncation, 0 on termination
    R_t   = A_t + V(o_t)                value targets, normalised by ValueNorm
    ratio = pi(a|o) / pi_old(a|o)
    L_pi  = -mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A))      (A normalised per minibatch)
    L_V   = mean(max((V - R)^2, (V_old + clip(V - V_old, -eps_v, eps_v) - R)^2)) / 2
    L     = L_pi + vf_coef * L_V - ent_coef * H[pi]

``train(args)`` runs in-process and returns a :class:`TrainResult`; the command line is
``swarmzoo train ctde --env navigation-v0 ...``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from swarmzoo.agents.networks import (
    ActorPolicy,
    ActorSpec,
    Critic,
    make_actor,
    with_agent_ids,
)
from swarmzoo.agents.normalization import RunningMeanStd, ValueNorm
from swarmzoo.agents.policy_files import save_policy
from swarmzoo.algorithms.common.gae import compute_gae, next_values
from swarmzoo.algorithms.common.losses import clipped_policy_loss, clipped_value_loss, normalize_advantages
from swarmzoo.algorithms.common.minibatch import flatten_active, minibatch_indices
from swarmzoo.algorithms.common.run import BaseArgs, CheckpointHook, Run, TrainResult, step_tensors
from swarmzoo.algorithms.common.vector import make_training_env


@dataclass
class Args(BaseArgs):
    """MAPPO / IPPO on a swarmzoo env (or any PettingZoo parallel env)."""

    env: str = "navigation-v0"
    """A swarmzoo env id, or 'module:factory' of any PettingZoo ParallelEnv with homogeneous agents
    (e.g. 'mpe2.simple_spread_v3:parallel_env')."""
    lr: float = 7e-4
    """Adam learning rate (actor and critic)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of actor and critic."""
    critic: Literal["central", "local"] = "central"
    """'central' = MAPPO (critic sees the global state), 'local' = IPPO."""
    agent_ids: bool = False
    """Append a one-hot robot id to the actor's input (ties the policy to one swarm size)."""
    recurrent: int = 0
    """GRU hidden size of the actor (0: the feed-forward MLP actor). Minibatches are then whole
    robot sequences, so --minibatches must not exceed num_envs x N."""
    value_norm: bool = True
    """Normalise value targets (MAPPO's ValueNorm)."""
    obs_norm: bool = False
    """Normalise observations with running statistics (stored in the policy)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.recurrent < 0:
            raise ValueError(f"recurrent must be >= 0 (0: no GRU), got {self.recurrent}")
        if self.critic not in ("central", "local"):
            raise ValueError(f"critic must be 'central' (MAPPO) or 'local' (IPPO), got {self.critic!r}")


# Args that fix what a checkpoint's networks and rollouts are; a resumed run must keep them.
STRUCTURAL = (
    "env",
    "env_kwargs",
    "reward_weights",
    "critic",
    "hidden",
    "agent_ids",
    "recurrent",
    "value_norm",
    "obs_norm",
    "num_envs",
    "rollout_steps",
)


class CTDEModel(nn.Module):
    """Actor, critic and their normalisers: everything a checkpoint restores."""

    def __init__(self, spec: ActorSpec, critic_in: int, args: Args) -> None:
        super().__init__()
        self.actor = make_actor(spec)
        self.critic = Critic(critic_in, tuple(args.hidden))
        self.value_norm = ValueNorm(()) if args.value_norm else None
        self.obs_norm = RunningMeanStd((spec.obs_dim,)) if args.obs_norm else None

    def actor_input(self, obs: torch.Tensor) -> torch.Tensor:
        """``(..., N, D)`` observations -> actor input (normalised, with ids if configured)."""
        if self.obs_norm is not None:
            obs = self.obs_norm.normalize(obs)
        return with_agent_ids(obs, self.actor.spec.n_agent_ids)

    def critic_input(self, obs: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        """``obs (E, N, D)``, ``state (E, S)`` -> ``(E, N, S + D)`` (MAPPO) or ``(E, N, D)`` (IPPO)."""
        if self.obs_norm is not None:
            obs = self.obs_norm.normalize(obs)
        if state is None:
            return obs
        return torch.cat([state[:, None, :].expand(-1, obs.shape[1], -1), obs], dim=-1)

    def value(self, critic_in: torch.Tensor) -> torch.Tensor:
        """Values in return units (denormalised)."""
        v = self.critic(critic_in)
        return self.value_norm.denormalize(v) if self.value_norm is not None else v


def flat_terms(
    model: CTDEModel, batch: dict[str, torch.Tensor], idx: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """A minibatch of robot-steps ``idx``: new and old log-probabilities, advantages, entropy,
    values, value targets and old values."""
    x = batch["obs"][idx]
    if model.obs_norm is not None:
        x = model.obs_norm.normalize(x)
    n_ids = model.actor.spec.n_agent_ids
    if n_ids:
        x = torch.cat([x, nn.functional.one_hot(batch["ids"][idx], n_ids).float()], dim=-1)
    dist = model.actor.distribution(x)
    return (
        model.actor.log_prob(dist, batch["act"][idx]),
        batch["logp"][idx],
        batch["adv"][idx],
        model.actor.entropy(dist).mean(),
        model.critic(batch["cin"][idx]),
        batch["target"][idx],
        batch["val_old"][idx],
    )


def sequence_terms(
    model: CTDEModel, sequences: dict[str, torch.Tensor], h0: torch.Tensor, idx: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """:func:`flat_terms` for a recurrent actor: ``idx`` picks robot sequences (``sequences``
    hold ``(T, E * N, ...)`` rollout buffers, sequence ``e * N + n`` is robot ``n`` of copy
    ``e``); the GRU re-runs over each from its first hidden state ``h0 (E * N, H)``, and only
    the active robot-steps enter the terms."""
    seq = {name: buf[:, idx] for name, buf in sequences.items()}
    x = seq["obs"] if model.obs_norm is None else model.obs_norm.normalize(seq["obs"])
    n_ids = model.actor.spec.n_agent_ids
    if n_ids:
        ids = nn.functional.one_hot(idx % n_ids, n_ids).float().expand(x.shape[0], -1, -1)
        x = torch.cat([x, ids], dim=-1)
    dist = model.actor.unroll(x, h0[idx], seq["start"])
    m = seq["active"]
    return (
        model.actor.log_prob(dist, seq["act"])[m],
        seq["logp"][m],
        seq["adv"][m],
        model.actor.entropy(dist)[m].mean(),
        model.critic(seq["cin"][m]),
        seq["target"][m],
        seq["val_old"][m],
    )


def train(args: Args, on_checkpoint: CheckpointHook | None = None) -> TrainResult:
    """Train MAPPO (``critic="central"``) or IPPO (``critic="local"``); see the module docstring.

    ``on_checkpoint(run_dir, global_step)``, when given, is called after every checkpoint with the
    current ``policy.pt`` already written, e.g. to evaluate the policy along training. It runs
    inside a forked torch random stream, so it does not change the run.
    """
    run = Run(args, "ctde", STRUCTURAL, hooks=[on_checkpoint])  # seeds torch before the networks
    venv = make_training_env(args.env, args.num_envs, run.env_kwargs, args.reward_weights)
    E, N, T = venv.num_envs, venv.n_agents, args.rollout_steps
    spec = ActorSpec.from_spaces(
        venv.single_observation_space,
        venv.single_action_space,
        tuple(args.hidden),
        N if args.agent_ids else 0,
        args.recurrent,
    )
    recurrent = bool(args.recurrent)
    if recurrent and args.minibatches > E * N:
        raise ValueError(
            f"minibatches={args.minibatches} exceeds the num_envs x N = {E * N} robot sequences a "
            "recurrent actor's minibatches are drawn from"
        )
    obs_dim = spec.obs_dim
    central = args.critic == "central"
    state_dim = int(np.prod(venv.state_space.shape)) if central else 0
    model = CTDEModel(spec, state_dim + obs_dim, args)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-5)

    def write_policy(path: Path) -> None:
        extra = {"algo": "ctde", "critic": args.critic, "global_step": run.global_step}
        save_policy(path, model.actor, args.env, run.env_kwargs, model.obs_norm, extra=extra)

    def checkpoint_state() -> dict[str, Any]:
        return {
            "actor_spec": asdict(model.actor.spec),
            "actor": model.actor.state_dict(),
            "obs_norm": None if model.obs_norm is None else model.obs_norm.state_dict(),
        }

    desc = f"ctde/{'mappo' if central else 'ippo'} {args.env}"
    n_updates = max(1, args.total_steps // (E * T))
    run.start(model, optimizer, n_updates, E * T, desc, policy=write_policy, state=checkpoint_state)

    def fresh_episodes(update: int) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Reset every copy (at each checkpoint, seeded by :func:`episode_seed`). Returns
        ``obs (E, N, D)``, ``state (E, S)`` and the active mask. (A recurrent actor's hidden
        states restart with them: ``start`` is set for every robot.)"""
        obs_np, _ = venv.reset(seed=run.episode_seed(update))
        state = torch.as_tensor(venv.state(), dtype=torch.float32) if central else None
        return torch.as_tensor(obs_np, dtype=torch.float32), state, torch.ones(E, N)

    buf_obs = torch.zeros(T, E, N, obs_dim)
    buf_cin = torch.zeros(T, E, N, state_dim + obs_dim)
    act_shape = () if spec.action_kind == "discrete" else (spec.action_dim,)
    buf_act = torch.zeros(T, E, N, *act_shape)
    buf_logp, buf_val, buf_next_val, buf_rew, buf_term, buf_done, buf_active = (
        torch.zeros(T, E, N) for _ in range(7)
    )
    # recurrent actor: hidden states (E * N, H), episode starts per step, the rollout's first state
    hidden = model.actor.initial_state(E * N) if recurrent else None
    start = torch.ones(E, N)
    buf_start = torch.zeros(T, E, N)
    buf_h0 = hidden

    for update in run.updates():
        if run.new_episodes(update):
            obs, state, active = fresh_episodes(update)
            start = torch.ones(E, N)
        if recurrent:
            buf_h0 = hidden.clone()
        run.anneal_lr(update)
        episode_returns: list[float] = []
        # ---- rollout ------------------------------------------------------------------------
        for t in range(T):
            with torch.no_grad():
                if model.obs_norm is not None:
                    model.obs_norm.update(obs.reshape(-1, obs_dim))
                if recurrent:
                    x = model.actor_input(obs).reshape(E * N, -1)
                    dist, hidden = model.actor.step(x, hidden, start.reshape(-1))
                    flat_action = dist.sample()
                    action = flat_action.reshape(E, N, *act_shape)
                    buf_logp[t] = model.actor.log_prob(dist, flat_action).reshape(E, N)
                    buf_start[t] = start
                else:
                    dist = model.actor.distribution(model.actor_input(obs))
                    action = dist.sample()
                    buf_logp[t] = model.actor.log_prob(dist, action)
                cin = model.critic_input(obs, state)
                buf_val[t] = model.value(cin)
            buf_obs[t], buf_cin[t], buf_act[t], buf_active[t] = obs, cin, action, active
            obs_np, rew, term, trunc, infos = venv.step(model.actor.to_env(action))
            buf_rew[t], buf_term[t], buf_done[t] = step_tensors(rew, term, trunc, active)
            finished = infos["_final_obs"]
            # Bootstrap value of the observation after this step; for copies that just reset,
            # the value of their final observation (used only where truncated, see compute_gae).
            if finished.any():
                ids = np.flatnonzero(finished)
                final_obs = torch.as_tensor(infos["final_obs"][ids], dtype=torch.float32)
                final_state = (
                    torch.as_tensor(infos["final_state"][ids], dtype=torch.float32) if central else None
                )
                with torch.no_grad():
                    buf_next_val[t, ids] = model.value(model.critic_input(final_obs, final_state))
                episode_returns.extend(infos["episode_return"][ids].mean(axis=1).tolist())
            active = active * (1.0 - buf_done[t])
            active[torch.as_tensor(finished)] = 1.0
            start = torch.as_tensor(finished, dtype=torch.float32)[:, None].expand(E, N).clone()
            obs = torch.as_tensor(obs_np, dtype=torch.float32)
            state = torch.as_tensor(venv.state(), dtype=torch.float32) if central else None
            run.global_step += E
        with torch.no_grad():
            last_value = model.value(model.critic_input(obs, state))
        buf_next_val = next_values(buf_val, last_value, buf_next_val, buf_done)
        advantages, returns = compute_gae(
            buf_rew, buf_val, buf_next_val, buf_term, buf_done, args.gamma, args.gae_lambda
        )
        buf_next_val = torch.zeros(T, E, N)

        # ---- update -------------------------------------------------------------------------
        active_mask = buf_active.bool()
        b_obs = flatten_active(buf_obs, active_mask)
        b_cin = flatten_active(buf_cin, active_mask)
        b_act = flatten_active(buf_act, active_mask)
        b_logp = flatten_active(buf_logp, active_mask)
        b_adv = flatten_active(advantages, active_mask)
        b_ret = flatten_active(returns, active_mask)
        b_val = flatten_active(buf_val, active_mask)
        b_ids = flatten_active(torch.arange(N).expand(T, E, N), active_mask)
        if model.value_norm is not None:
            model.value_norm.update(b_ret)
            b_target = model.value_norm.normalize(b_ret)
            with torch.no_grad():
                b_val_old = model.value_norm.normalize(b_val)
        else:
            b_target, b_val_old = b_ret, b_val
        if recurrent:  # whole robot sequences (T, E * N, ...): minibatches pick robots
            with torch.no_grad():
                norm = model.value_norm.normalize if model.value_norm is not None else (lambda x: x)
                seq_target, seq_val_old = norm(returns), norm(buf_val)
            sequences = {
                name: buf.reshape(T, E * N, *buf.shape[3:])
                for name, buf in (
                    ("obs", buf_obs),
                    ("act", buf_act),
                    ("logp", buf_logp),
                    ("adv", advantages),
                    ("cin", buf_cin),
                    ("active", buf_active.bool()),
                    ("start", buf_start),
                    ("target", seq_target),
                    ("val_old", seq_val_old),
                )
            }
        else:
            flat = {
                "obs": b_obs,
                "ids": b_ids,
                "act": b_act,
                "logp": b_logp,
                "adv": b_adv,
                "cin": b_cin,
                "target": b_target,
                "val_old": b_val_old,
            }
        n_items = E * N if recurrent else b_obs.shape[0]
        for _ in range(args.epochs):
            for idx in minibatch_indices(n_items, args.minibatches, run.rng):
                if recurrent:
                    terms = sequence_terms(model, sequences, buf_h0, idx)
                else:
                    terms = flat_terms(model, flat, idx)
                logp, old_logp, adv, entropy, v, target, val_old = terms
                adv = normalize_advantages(adv)
                policy_loss, ratio_stats = clipped_policy_loss(logp, old_logp, adv, args.clip_coef)
                value_loss = clipped_value_loss(v, target, val_old, args.value_clip)
                run.ppo_step(policy_loss, value_loss, entropy, ratio_stats)

        run.end_update(update, episode_returns)
    return run.finish(venv)


def policy_of(result: TrainResult) -> ActorPolicy:
    """The trained policy of a finished run (deterministic actions)."""
    from swarmzoo.agents.policy_files import load_policy

    return load_policy(result.run_dir / "policy.pt")[0]
