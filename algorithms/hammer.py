"""HAMMER: a central agent that learns what message to send each robot; local agents act on their
own observation and that message.

Reference: Gupta, Srinivasaraghavan, Mohalik, Kumar and Taylor, "HAMMER: Multi-Level
Coordination of Reinforcement Learning Agents via Learned Messaging" (arXiv 2102.00824, 2021;
Neural Computing and Applications, 2023).

The setting (as in the paper): one central agent observes the whole environment and sends every
local agent a message; it does not choose actions. The local agents see only their own
observation and the message they receive, and cannot talk to each other. Here both levels learn
with PPO, at the same time and from the same rollouts.

* **Central agent** (:class:`~swarmzoo.agents.hammer.CentralActor`): its action is one continuous
  message per robot, ``m_i ~ N(mu_i(s), sigma^2)`` of size ``--message-dim``, with ``mu_i`` a
  permutation-equivariant DeepSets network of robot i's own global features and the swarm's mean
  embedding, so one central agent runs on any swarm size. Its reward is the team reward, the mean
  over robots of their rewards; its critic ``V_c(s)`` reads the pooled embedding of the state.
  The messages are sampled: no gradient flows from the local agents into the central agent, which
  learns only from the team reward (PPO, one clipped ratio per robot's message, all sharing the
  copy's team advantage).
* **Local agents**: one shared actor (parameter sharing) on ``[o_i, m_i]`` and a local critic
  ``V(o_i, m_i)``, trained on each robot's own reward: IPPO with the message appended to the
  observation.

Per update (``T`` steps of ``E`` env copies of ``N`` robots, then ``epochs x minibatches``
gradient steps, minibatches over the ``T x E`` swarm-steps with all their robots)::

    A_i  = GAE(r_i, V(o_i, m_i))              local agents: each robot's own reward
    A_c  = GAE(mean_i r_i, V_c(s))            central agent: the team reward
    L    = L_clip(pi(a_i | o_i, m_i), A_i) + vf_coef L_V(local) - ent_coef H[pi]
         + L_clip(mu(m_i | s), A_c)        + vf_coef L_V(central) - message_ent_coef H[mu]

The central agent reads the global state through
:class:`~swarmzoo.agents.hammer.StateLayout` (``navigation-v0``'s positions, velocities, goals and
obstacles, decoded from ``state()``; speed caps from the task's config), so HAMMER trains on
``navigation-v0`` in its default layouts. ``train(args)`` runs in-process and returns a
:class:`TrainResult`; the command line is ``swarmzoo train hammer --env navigation-v0 ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from swarmzoo.agents.hammer import (
    CentralActor,
    CentralCritic,
    CentralSpec,
    HammerPolicy,
    StateLayout,
    hammer_entries,
    local_input,
    save_hammer_policy,
)
from swarmzoo.agents.networks import Actor, ActorSpec, Critic
from swarmzoo.agents.normalization import ValueNorm
from swarmzoo.algorithms.common.gae import compute_gae, next_values
from swarmzoo.algorithms.common.losses import clipped_policy_loss, clipped_value_loss, normalize_advantages
from swarmzoo.algorithms.common.minibatch import minibatch_indices
from swarmzoo.algorithms.common.run import BaseArgs, CheckpointHook, Run, TrainResult, step_tensors
from swarmzoo.algorithms.common.vector import make_training_env


@dataclass
class Args(BaseArgs):
    """HAMMER on navigation-v0: a central agent learns the messages, local agents act on them."""

    env: str = "navigation-v0"
    """A swarmzoo env id whose global state the central agent reads (navigation-v0)."""
    lr: float = 7e-4
    """Adam learning rate (all four networks)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the local actor and critic and of the central agent (the first is
    the width of its set embeddings)."""
    message_dim: int = 4
    """Size of each robot's message."""
    message_log_std: float = -1.5
    """Initial log standard deviation of the central agent's Gaussian messages."""
    message_ent_coef: float = 0.0
    """Entropy bonus of the messages (0: an entropy bonus would pay the central agent for noise
    the local agents must learn to ignore)."""
    goal_slots: int = 6
    """Nearest goals in each robot's global features (the central agent's input)."""
    obstacle_slots: int = 2
    """Nearest obstacles in each robot's global features."""
    value_norm: bool = True
    """Normalise the value targets of both critics (MAPPO's ValueNorm)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.message_dim < 1:
            raise ValueError(f"message_dim must be >= 1, got {self.message_dim}")
        if not np.isfinite(self.message_log_std):
            raise ValueError(f"message_log_std must be a finite number, got {self.message_log_std}")
        if self.message_ent_coef < 0:
            raise ValueError(f"message_ent_coef must be >= 0, got {self.message_ent_coef}")
        for name in ("goal_slots", "obstacle_slots"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


# Args that fix what a checkpoint's networks and rollouts are; a resumed run must keep them.
STRUCTURAL = (
    "env",
    "env_kwargs",
    "reward_weights",
    "hidden",
    "message_dim",
    "goal_slots",
    "obstacle_slots",
    "value_norm",
    "num_envs",
    "rollout_steps",
)


class HammerModel(nn.Module):
    """Local actor and critic, central actor and critic, and their value normalisers."""

    def __init__(self, local_spec: ActorSpec, central_spec: CentralSpec, args: Args) -> None:
        super().__init__()
        self.actor = Actor(local_spec)
        self.critic = Critic(local_spec.obs_dim, tuple(args.hidden))
        self.central = CentralActor(central_spec)
        self.central_critic = CentralCritic(central_spec)
        self.value_norm = ValueNorm(()) if args.value_norm else None
        self.central_value_norm = ValueNorm(()) if args.value_norm else None

    def value(self, x: torch.Tensor) -> torch.Tensor:
        """Local values ``V(o_i, m_i)`` in return units."""
        v = self.critic(x)
        return self.value_norm.denormalize(v) if self.value_norm is not None else v

    def central_value(self, x: torch.Tensor) -> torch.Tensor:
        """Central values ``V_c(s)`` in return units, ``(...,)``."""
        v = self.central_critic(x)
        return self.central_value_norm.denormalize(v) if self.central_value_norm is not None else v


def _targets(norm: ValueNorm | None, returns: torch.Tensor, values: torch.Tensor, mask: torch.Tensor):
    """Value targets and old values in the critic's units (normalised, after updating the
    normaliser with the masked returns)."""
    if norm is None:
        return returns, values
    norm.update(returns[mask])
    with torch.no_grad():
        return norm.normalize(returns), norm.normalize(values)


def train(args: Args, on_checkpoint: CheckpointHook | None = None) -> TrainResult:
    """Train HAMMER; see the module docstring.

    ``on_checkpoint(run_dir, global_step)``, when given, is called after every checkpoint with the
    current ``policy.pt`` already written (in a forked torch random stream: it does not change
    the run).

    Raises:
        ValueError: an env whose global state the central agent cannot read (see
            :class:`~swarmzoo.agents.hammer.StateLayout`), or bad arguments.
    """
    run = Run(args, "hammer", STRUCTURAL, hooks=[on_checkpoint])  # seeds torch before the networks
    venv = make_training_env(args.env, args.num_envs, run.env_kwargs, args.reward_weights)
    E, N, T, M = venv.num_envs, venv.n_agents, args.rollout_steps, args.message_dim
    central_spec = CentralSpec(
        M, tuple(args.hidden), args.message_log_std, args.goal_slots, args.obstacle_slots
    )
    layout = StateLayout.of(getattr(venv, "task", None), central_spec)
    obs_space = venv.single_observation_space
    if len(obs_space.shape) != 1:
        raise ValueError(f"observations must be flat vectors, got shape {obs_space.shape}")
    obs_dim = int(obs_space.shape[0])
    local_space = spaces.Box(-np.inf, np.inf, (obs_dim + M,), np.float32)
    local_spec = ActorSpec.from_spaces(local_space, venv.single_action_space, tuple(args.hidden))
    model = HammerModel(local_spec, central_spec, args)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-5)

    def write_policy(path: Path) -> None:
        extra = {"global_step": run.global_step}
        save_hammer_policy(path, model.actor, model.central, args.env, run.env_kwargs, extra=extra)

    def checkpoint_state() -> dict[str, Any]:
        return hammer_entries(model.actor, model.central)

    n_updates = max(1, args.total_steps // (E * T))
    run.start(
        model, optimizer, n_updates, E * T, f"hammer {args.env}", policy=write_policy, state=checkpoint_state
    )

    def fresh_episodes(update: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reset every copy (at each checkpoint, seeded by the run): observations, the central
        agent's input and the active mask."""
        obs_np, _ = venv.reset(seed=run.episode_seed(update))
        return torch.as_tensor(obs_np, dtype=torch.float32), layout.features(venv.state()), torch.ones(E, N)

    act_shape = () if local_spec.action_kind == "discrete" else (local_spec.action_dim,)
    buf_obs = torch.zeros(T, E, N, obs_dim)
    buf_msg = torch.zeros(T, E, N, M)
    buf_act = torch.zeros(T, E, N, *act_shape)
    buf_central = torch.zeros(T, E, N, central_spec.feature_dim)
    buf_logp, buf_mlogp, buf_val, buf_next_val, buf_rew, buf_term, buf_done, buf_active = (
        torch.zeros(T, E, N) for _ in range(8)
    )
    buf_cval, buf_next_cval, buf_crew, buf_cterm, buf_cdone = (torch.zeros(T, E) for _ in range(5))

    for update in run.updates():
        if run.new_episodes(update):
            obs, central_in, active = fresh_episodes(update)
        run.anneal_lr(update)
        episode_returns: list[float] = []
        # ---- rollout ------------------------------------------------------------------------
        for t in range(T):
            with torch.no_grad():
                mdist = model.central.distribution(central_in)
                msg = mdist.sample()
                buf_mlogp[t] = mdist.log_prob(msg).sum(-1)
                buf_cval[t] = model.central_value(central_in)
                x = local_input(obs, msg)
                dist = model.actor.distribution(x)
                action = dist.sample()
                buf_logp[t] = model.actor.log_prob(dist, action)
                buf_val[t] = model.value(x)
            buf_obs[t], buf_msg[t], buf_act[t], buf_active[t] = obs, msg, action, active
            buf_central[t] = central_in
            obs_np, rew, term, trunc, infos = venv.step(model.actor.to_env(action))
            buf_rew[t], buf_term[t], buf_done[t] = step_tensors(rew, term, trunc, active)
            finished = np.asarray(infos["_final_obs"], dtype=bool)
            # The team reward: the mean over the robots still in their episode.
            buf_crew[t] = buf_rew[t].sum(1) / active.sum(1).clamp(min=1.0)
            buf_cdone[t] = torch.as_tensor(finished, dtype=torch.float32)
            truncated = np.asarray(trunc, dtype=bool).any(axis=1)
            buf_cterm[t] = torch.as_tensor(finished & ~truncated, dtype=torch.float32)
            if finished.any():
                # Bootstrap values of the final observation / state of copies that just reset
                # (used only where truncated, see compute_gae); the local critic's message there
                # is the central agent's mean message.
                ids = np.flatnonzero(finished)
                final_obs = torch.as_tensor(infos["final_obs"][ids], dtype=torch.float32)
                final_in = layout.features(infos["final_state"][ids])
                with torch.no_grad():
                    final_msg = model.central.distribution(final_in).mean
                    buf_next_val[t, ids] = model.value(local_input(final_obs, final_msg))
                    buf_next_cval[t, ids] = model.central_value(final_in)
                episode_returns.extend(infos["episode_return"][ids].mean(axis=1).tolist())
            active = active * (1.0 - buf_done[t])
            active[torch.as_tensor(finished)] = 1.0
            obs = torch.as_tensor(obs_np, dtype=torch.float32)
            central_in = layout.features(venv.state())
            run.global_step += E
        with torch.no_grad():
            last_msg = model.central.distribution(central_in).sample()
            last_value = model.value(local_input(obs, last_msg))
            last_cvalue = model.central_value(central_in)
        buf_next_val = next_values(buf_val, last_value, buf_next_val, buf_done)
        adv, ret = compute_gae(
            buf_rew, buf_val, buf_next_val, buf_term, buf_done, args.gamma, args.gae_lambda
        )
        buf_next_cval = next_values(buf_cval, last_cvalue, buf_next_cval, buf_cdone)
        cadv, cret = compute_gae(
            buf_crew, buf_cval, buf_next_cval, buf_cterm, buf_cdone, args.gamma, args.gae_lambda
        )
        buf_next_val, buf_next_cval = torch.zeros(T, E, N), torch.zeros(T, E)

        # ---- update: minibatches of swarm-steps (t, e), each with all its robots ------------
        mask = buf_active.bool()
        swarm_active = mask.any(dim=-1)
        target, val_old = _targets(model.value_norm, ret, buf_val, mask)
        ctarget, cval_old = _targets(model.central_value_norm, cret, buf_cval, swarm_active)
        keep = swarm_active.reshape(-1)

        b = {
            name: buf.reshape(T * E, *buf.shape[2:])[keep]
            for name, buf in (
                ("obs", buf_obs),
                ("central", buf_central),
                ("msg", buf_msg),
                ("act", buf_act),
                ("logp", buf_logp),
                ("mlogp", buf_mlogp),
                ("adv", adv),
                ("target", target),
                ("val_old", val_old),
                ("mask", mask),
                ("cadv", cadv),
                ("ctarget", ctarget),
                ("cval_old", cval_old),
            )
        }
        central_stats: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "approx_kl": []}
        for _ in range(args.epochs):
            for idx in minibatch_indices(int(keep.sum()), args.minibatches, run.rng):
                m = b["mask"][idx]
                # local agents: [o_i, m_i] -> a_i, each robot's own advantage
                x = local_input(b["obs"][idx], b["msg"][idx])
                dist = model.actor.distribution(x)
                logp = model.actor.log_prob(dist, b["act"][idx])[m]
                policy_loss, ratio_stats = clipped_policy_loss(
                    logp, b["logp"][idx][m], normalize_advantages(b["adv"][idx][m]), args.clip_coef
                )
                value_loss = clipped_value_loss(
                    model.critic(x)[m], b["target"][idx][m], b["val_old"][idx][m], args.value_clip
                )
                entropy = model.actor.entropy(dist)[m].mean()
                # central agent: one ratio per robot's message, the copy's team advantage
                central_in_mb = b["central"][idx]
                mdist = model.central.distribution(central_in_mb)
                mlogp = mdist.log_prob(b["msg"][idx]).sum(-1)
                cadv_mb = normalize_advantages(b["cadv"][idx])[:, None].expand_as(mlogp)
                central_policy_loss, central_ratio = clipped_policy_loss(
                    mlogp[m], b["mlogp"][idx][m], cadv_mb[m], args.clip_coef
                )
                central_value_loss = clipped_value_loss(
                    model.central_critic(central_in_mb),
                    b["ctarget"][idx],
                    b["cval_old"][idx],
                    args.value_clip,
                )
                message_entropy = mdist.entropy().sum(-1)[m].mean()
                central_loss = (
                    central_policy_loss
                    + args.vf_coef * central_value_loss
                    - args.message_ent_coef * message_entropy
                )
                run.ppo_step(policy_loss, value_loss, entropy, ratio_stats, extra_loss=central_loss)
                central_stats["policy_loss"].append(central_policy_loss.item())
                central_stats["value_loss"].append(central_value_loss.item())
                central_stats["approx_kl"].append(central_ratio["approx_kl"])

        extra = {f"central/{k}": float(np.mean(v)) for k, v in central_stats.items()}
        extra["central/message_std"] = float(model.central.log_std.detach().exp().mean())
        run.end_update(update, episode_returns, extra)
    return run.finish(venv)


def policy_of(result: TrainResult) -> HammerPolicy:
    """The trained policy of a finished run (mean messages, most likely actions)."""
    from swarmzoo.agents.policy_files import load_policy

    return load_policy(result.run_dir / "policy.pt")[0]
