"""Context-aware Bayesian-network actor-critic (BN-MAPPO): robots' actions correlated through a
learned DAG whose density is annealed to zero, so the final policy executes decentralised.

Reference: Chen & Zhang, "Context-Aware Bayesian Network Actor-Critic Methods for Cooperative
Multi-Agent Reinforcement Learning" (ICML 2023); code dchen48/BNPG (read, not copied). The joint
policy and its DAG are :class:`~swarmzoo.agents.bayes_net.BayesNetActor`; this module is MAPPO
(the central critic ``V(s, o_i)`` and the PPO pieces of :mod:`swarmzoo.algorithms.ctde`) around
it, with:

* **Edges drawn per step** from an edge network: on the joint observation (``--context joint``,
  BNPG's choice: executing a non-empty DAG then needs every robot's observation), or pair by pair
  from ``(o_j, o_i)`` for robots within ``--comm-range`` of each other only (``--context
  neighbours``: a robot then needs only its neighbours' observations and actions). Robots that
  finished their episode are never parents.
* **The order.** Fixed (``--order``, default robot index order), or learned (``--learn-order``):
  a Gumbel-Sinkhorn permutation per step, hard by the Hungarian algorithm with the Sinkhorn
  matrix's gradient (straight-through), so the allowed pairs ``P M P^T`` stay a total order.
* **Reparameterised graphs.** The rollout stores the Gumbel noise of each step's graph (and order); the update
  rebuilds the graph from the current edge logits and the same noise, so it is the rollout's graph
  (unless a logit crossed over) and the straight-through gradient of the PPO loss reaches the
  edge network. (BNPG re-draws a fresh graph in the update instead.)
* **Sparsity annealing.** The loss adds ``alpha * |density - threshold|``; the threshold is 1 for
  the first ``hold`` fraction of training, falls linearly to 0 by ``decay_end``, and alpha rises
  from ``alpha_start`` to ``alpha_end`` after that, so the final DAG is (near-)empty. Density,
  threshold and alpha are logged (``charts/edge_density``, ...).

* **Random-DAG ablation** (``--edge-prob p --no-anneal``, our addition for the comparison the
  issue tracker asks for): no edge network; each allowed pair is an edge with probability ``p``,
  drawn afresh every step and at execution: correlated action without context.

* **Recurrent actor** (``--recurrent H``, the paper's partially observed runs are recurrent): a
  GRU memory per robot, zeroed at episode starts; the factor reads ``(h_i, parents' actions)``,
  the edge network the current observations. The update re-runs each env copy's memories over
  its whole rollout (minibatches of copies), so gradients flow through time.

Actions must be discrete (parents' actions enter as one-hot slots). The actor is sized for the
training swarm (parent slots and edge logits for N robots), so a policy runs on that N only.
Policies are evaluated with the argmax graph and the most likely actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from swarmzoo.agents.bayes_net import BayesNetActor, comm_mask
from swarmzoo.agents.files import POLICY_FORMAT, atomic_torch_save
from swarmzoo.agents.networks import Critic
from swarmzoo.agents.normalization import ValueNorm
from swarmzoo.algorithms.common.gae import compute_gae, next_values
from swarmzoo.algorithms.common.logging import to_jsonable
from swarmzoo.algorithms.common.losses import clipped_policy_loss, clipped_value_loss, normalize_advantages
from swarmzoo.algorithms.common.minibatch import minibatch_indices
from swarmzoo.algorithms.common.run import BaseArgs, CheckpointHook, Run, TrainResult, step_tensors
from swarmzoo.algorithms.common.vector import make_training_env


@dataclass
class Args(BaseArgs):
    """BN-MAPPO on a swarmzoo env with discrete actions."""

    env: str = "navigation-v0"
    """A swarmzoo env id (discrete actions)."""
    seed: int = 0
    """Seed of torch, the Gumbel noise, minibatch shuffling and the env copies."""
    minibatches: int = 4
    """Minibatches per epoch (over env steps; each holds all robots of its steps)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of actor, edge network and critic."""
    context: Literal["joint", "neighbours"] = "joint"
    """Edge context: 'joint' (the joint observation scores every pair; any earlier-ranked robot
    can be a parent) or 'neighbours' (each pair scored from the two robots' observations; only
    robots within comm_range can be parents)."""
    comm_range: float = 1.0
    """Communication range of the 'neighbours' context (distance between robot centres)."""
    tau: float = 1.0
    """Gumbel-softmax temperature of the edges."""
    order: tuple[int, ...] | None = None
    """Topological order of the robots, first to last (default 0 .. N-1): a robot's parents can
    only be robots before it."""
    learn_order: bool = False
    """Learn the order instead: a Gumbel-Sinkhorn permutation drawn each step (Hungarian,
    straight-through), replayed in the update like the edges."""
    anneal: bool = True
    """Anneal the edge density to 0 (False: no sparsity term, the DAG stays free)."""
    edge_prob: float | None = None
    """Random-DAG ablation: no edge network; every allowed pair is an edge with this probability,
    drawn afresh every step, at execution too. Nothing to anneal: needs --no-anneal."""
    recurrent: int = 0
    """GRU size of the actor's memory (0: feed-forward): each robot's factor reads its memory
    of past observations; minibatches then hold whole env copies' rollouts (num_envs >=
    minibatches)."""
    hold: float = 0.4
    """Fraction of training with threshold 1 (a dense DAG is encouraged)."""
    decay_end: float = 0.7
    """Fraction of training at which the threshold reaches 0."""
    alpha_start: float = 0.1
    """Weight of the sparsity term until decay_end."""
    alpha_end: float = 1.0
    """Weight of the sparsity term at the end of training (rising linearly after decay_end)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("tau", "comm_range"):
            if not 0 < getattr(self, name) < float("inf"):
                raise ValueError(f"{name} must be a positive number, got {getattr(self, name)}")
        if self.context not in ("joint", "neighbours"):
            raise ValueError(f"context must be 'joint' or 'neighbours', got {self.context!r}")
        if not 0 <= self.hold <= self.decay_end <= 1:
            raise ValueError(
                f"need 0 <= hold <= decay_end <= 1, got hold={self.hold}, decay_end={self.decay_end}"
            )
        if not (0 <= self.alpha_start < float("inf") and 0 <= self.alpha_end < float("inf")):
            raise ValueError(
                f"alpha_start and alpha_end must be >= 0, got {self.alpha_start}, {self.alpha_end}"
            )
        if self.edge_prob is not None:
            if not 0 <= self.edge_prob <= 1:
                raise ValueError(f"edge_prob must lie in [0, 1], got {self.edge_prob}")
            if self.anneal:
                raise ValueError(
                    "edge_prob fixes the edge probability of a random DAG, so there is no density to "
                    "anneal: pass --no-anneal (anneal=False)"
                )
        if self.recurrent < 0:
            raise ValueError(f"recurrent must be >= 0, got {self.recurrent}")
        if self.recurrent and self.minibatches > self.num_envs:
            raise ValueError(
                f"minibatches={self.minibatches} exceeds the num_envs={self.num_envs} copy sequences "
                "a recurrent actor's minibatches are drawn from"
            )
        if self.minibatches > self.num_envs * self.rollout_steps:
            raise ValueError(
                f"minibatches={self.minibatches} exceeds the {self.num_envs * self.rollout_steps} "
                "env steps of a rollout"
            )


# Args that fix what a checkpoint's networks are; a resumed run must keep them.
STRUCTURAL = (
    "env",
    "env_kwargs",
    "reward_weights",
    "context",
    "comm_range",
    "order",
    "learn_order",
    "hidden",
    "num_envs",
    "rollout_steps",
    "anneal",
    "edge_prob",
    "recurrent",
)


def sparsity_schedule(fraction: float, args: Args) -> tuple[float, float]:
    """``(threshold, alpha)`` of the sparsity term ``alpha * |density - threshold|`` at
    ``fraction`` of training (see the module docstring)."""
    if fraction < args.hold:
        threshold = 1.0
    elif fraction < args.decay_end:
        threshold = 1.0 - (fraction - args.hold) / max(args.decay_end - args.hold, 1e-9)
    else:
        threshold = 0.0
    if fraction <= args.decay_end or args.decay_end >= 1.0:
        alpha = args.alpha_start
    else:
        alpha = args.alpha_start + (args.alpha_end - args.alpha_start) * (fraction - args.decay_end) / (
            1.0 - args.decay_end
        )
    return threshold, alpha


class BNModel(nn.Module):
    """Everything a checkpoint restores: BN actor, central critic, value normaliser."""

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        n_agents: int,
        state_dim: int,
        hidden: tuple[int, ...],
        context: str,
        order: tuple[int, ...] | str | None = None,
        edge_prob: float | None = None,
        recurrent: int = 0,
    ) -> None:
        super().__init__()
        order_t = order if order is None or order == "learned" else torch.as_tensor(order)
        self.actor = BayesNetActor(
            obs_dim,
            n_actions,
            n_agents,
            tuple(hidden),
            order=order_t,
            context=context,
            edge_prob=edge_prob,
            recurrent=recurrent,
        )
        self.critic = Critic(state_dim + obs_dim, tuple(hidden))
        self.value_norm = ValueNorm(())

    def value(self, critic_in: torch.Tensor) -> torch.Tensor:
        return self.value_norm.denormalize(self.critic(critic_in))


def critic_input(obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """MAPPO's agent-specific global state: ``(E, N, S + D)``."""
    return torch.cat([state[:, None, :].expand(-1, obs.shape[1], -1), obs], dim=-1)


def train(args: Args, on_checkpoint: CheckpointHook | None = None) -> TrainResult:
    """Train BN-MAPPO; see the module docstring. ``on_checkpoint(run_dir, global_step)`` as in
    :func:`swarmzoo.algorithms.ctde.train`."""
    run = Run(args, "bayes_net", STRUCTURAL, "bayes_net_checkpoint", hooks=[on_checkpoint])
    if ":" in args.env:
        raise ValueError("bayes-net trains on swarmzoo env ids (it reads the task for positions and state)")
    venv = make_training_env(args.env, args.num_envs, run.env_kwargs, args.reward_weights)
    if not isinstance(venv.single_action_space, spaces.Discrete):
        raise ValueError(
            f"{args.env} has {venv.single_action_space} actions; the BN policy needs discrete actions "
            "(e.g. continuous_actions=False)"
        )
    E, N, T = venv.num_envs, venv.n_agents, args.rollout_steps
    D = int(venv.single_observation_space.shape[0])
    A = int(venv.single_action_space.n)
    S = int(np.prod(venv.state_space.shape))
    neighbours = args.context == "neighbours"
    actor_context = "pairwise" if neighbours else "joint"
    actor_config = {
        "obs_dim": D,
        "n_actions": A,
        "n_agents": N,
        "hidden": list(args.hidden),
        "context": actor_context,
        "order": "learned" if args.learn_order else (None if args.order is None else list(args.order)),
        "edge_prob": args.edge_prob,
        "recurrent": args.recurrent,
    }
    model = BNModel(
        D, A, N, S, tuple(args.hidden), actor_context, actor_config["order"], args.edge_prob, args.recurrent
    )
    recurrent = bool(args.recurrent)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-5)
    n_updates = max(1, args.total_steps // (E * T))

    def write_policy(path: Path) -> None:
        policy = {
            "format": POLICY_FORMAT,
            "algo": "bayes_net",
            "actor_config": actor_config,
            "actor": model.actor.state_dict(),
            "comm_range": args.comm_range,
            "env_id": args.env,
            "env_kwargs": dict(run.env_kwargs),
            "args": to_jsonable(args),
            "global_step": run.global_step,
        }
        atomic_torch_save(policy, path)

    def checkpoint_state() -> dict[str, Any]:
        return {"actor_config": actor_config, "gumbel_rng": gumbel.get_state()}

    desc = f"bayes-net {args.env}"
    run.start(model, optimizer, n_updates, E * T, desc, policy=write_policy, state=checkpoint_state)
    # The Gumbel stream of the sampled DAGs, continued from the checkpoint like the others.
    gumbel = torch.Generator().manual_seed(
        int(np.random.SeedSequence([args.seed, run.start_update, 3]).generate_state(1)[0])
    )
    if run.data is not None and "gumbel_rng" in run.data:
        gumbel.set_state(run.data["gumbel_rng"])

    def fresh_episodes(update: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reset every copy (at each checkpoint, seeded by :func:`episode_seed`). Returns
        ``obs (E, N, D)``, ``state (E, S)``, the communication mask ``(E, N, N)`` and the active
        mask ``(E, N)``."""
        obs_np, _ = venv.reset(seed=run.episode_seed(update))
        obs = torch.as_tensor(obs_np, dtype=torch.float32)
        state = torch.as_tensor(venv.state(), dtype=torch.float32)
        comm = comm_mask(venv.task, args.comm_range) if neighbours else torch.ones(E, N, N, dtype=torch.bool)
        return obs, state, comm, torch.ones(E, N)

    buf_obs = torch.zeros(T, E, N, D)
    buf_cin = torch.zeros(T, E, N, S + D)
    buf_act = torch.zeros(T, E, N, dtype=torch.long)
    buf_noise = torch.zeros(T, E, N, N, 2)
    buf_order_noise = torch.zeros(T, E, N, N)
    buf_mask = torch.ones(T, E, N, N, dtype=torch.bool)
    buf_logp, buf_val, buf_next_val, buf_rew, buf_term, buf_done, buf_active = (
        torch.zeros(T, E, N) for _ in range(7)
    )
    # Recurrent actors: the robots' memories and, per rollout step, where episodes start.
    buf_start = torch.zeros(T, E)
    memory = model.actor.initial_state(E) if recurrent else None
    starts = torch.ones(E)
    for update in run.updates():
        if run.new_episodes(update):
            obs, state, comm, active = fresh_episodes(update)
            starts = torch.ones(E)
        fraction = update / n_updates
        run.anneal_lr(update)
        threshold, alpha = sparsity_schedule(fraction, args)
        episode_returns: list[float] = []
        densities: list[float] = []
        argmax_densities: list[float] = []
        memory_h0 = memory  # the memories entering this rollout (recurrent actors)
        for t in range(T):
            noise = torch.rand(E, N, N, 2, generator=gumbel).clamp_(1e-10, 1.0 - 1e-10)
            order_noise = torch.rand(E, N, N, generator=gumbel).clamp_(1e-10, 1.0 - 1e-10)
            mask = comm & active.bool()[:, :, None]  # parents: in range and still in the episode
            with torch.no_grad():
                if recurrent:
                    buf_start[t] = starts
                    memory = model.actor.memory(obs, memory, starts)
                graph, pairs = model.actor.sample_graph(
                    obs, comm_mask=mask, tau=args.tau, noise=noise, order_noise=order_noise, return_mask=True
                )
                action = model.actor.act(obs, graph, generator=gumbel, memory=memory)
                buf_logp[t] = model.actor.log_prob(obs, action, graph, memory)
                cin = critic_input(obs, state)
                buf_val[t] = model.value(cin)
                densities.append(float(model.actor.density(graph, pairs)))
                # What evaluation executes: the argmax graph (BNPG's eval_open_ratio); a random
                # DAG is drawn at execution too, like this step's.
                if args.edge_prob is None:
                    argmax, argmax_pairs = model.actor.sample_graph(
                        obs, deterministic=True, comm_mask=mask, return_mask=True
                    )
                    argmax_densities.append(float(model.actor.density(argmax, argmax_pairs)))
                else:
                    argmax_densities.append(densities[-1])
            buf_obs[t], buf_cin[t], buf_act[t], buf_noise[t], buf_active[t] = obs, cin, action, noise, active
            buf_mask[t], buf_order_noise[t] = mask, order_noise
            obs_np, rew, term, trunc, infos = venv.step(action.numpy())
            buf_rew[t], buf_term[t], buf_done[t] = step_tensors(rew, term, trunc, active)
            finished = infos["_final_obs"]
            if finished.any():
                ids = np.flatnonzero(finished)
                final_obs = torch.as_tensor(infos["final_obs"][ids], dtype=torch.float32)
                final_state = torch.as_tensor(infos["final_state"][ids], dtype=torch.float32)
                with torch.no_grad():
                    buf_next_val[t, ids] = model.value(critic_input(final_obs, final_state))
                episode_returns.extend(infos["episode_return"][ids].mean(axis=1).tolist())
            active = active * (1.0 - buf_done[t])
            active[torch.as_tensor(finished)] = 1.0
            starts = torch.as_tensor(finished, dtype=torch.float32)
            obs = torch.as_tensor(obs_np, dtype=torch.float32)
            state = torch.as_tensor(venv.state(), dtype=torch.float32)
            if neighbours:
                comm = comm_mask(venv.task, args.comm_range)
            run.global_step += E
        with torch.no_grad():
            last_value = model.value(critic_input(obs, state))
        buf_next_val = next_values(buf_val, last_value, buf_next_val, buf_done)
        advantages, returns = compute_gae(
            buf_rew, buf_val, buf_next_val, buf_term, buf_done, args.gamma, args.gae_lambda
        )
        buf_next_val = torch.zeros(T, E, N)

        # ---- update: samples are env steps (T x E), each with all N robots (the graph couples them)
        B = T * E
        b_obs, b_cin, b_act = buf_obs.reshape(B, N, D), buf_cin.reshape(B, N, S + D), buf_act.reshape(B, N)
        b_noise = buf_noise.reshape(B, N, N, 2)
        b_order_noise = buf_order_noise.reshape(B, N, N)
        b_mask = buf_mask.reshape(B, N, N)
        b_logp, b_adv, b_ret = buf_logp.reshape(B, N), advantages.reshape(B, N), returns.reshape(B, N)
        b_val, b_active = buf_val.reshape(B, N), buf_active.reshape(B, N).bool()
        model.value_norm.update(b_ret[b_active])
        b_target = model.value_norm.normalize(b_ret)
        with torch.no_grad():
            b_val_old = model.value_norm.normalize(b_val)
        for _ in range(args.epochs):
            for idx in minibatch_indices(E if recurrent else B, args.minibatches, run.rng):
                mb_memory = None
                if recurrent:  # idx: env copies; re-run their memories over the whole rollout
                    copies = idx
                    mb_memory = model.actor.unroll_memory(
                        buf_obs[:, copies], memory_h0[copies], buf_start[:, copies]
                    ).reshape(-1, N, args.recurrent)
                    idx = (torch.arange(T)[:, None] * E + copies[None, :]).reshape(-1)  # t-major
                live = b_active[idx]
                mb_mask = b_mask[idx]
                graph, pairs = model.actor.sample_graph(
                    b_obs[idx],
                    comm_mask=mb_mask,
                    tau=args.tau,
                    noise=b_noise[idx],
                    order_noise=b_order_noise[idx],
                    return_mask=True,
                )
                dist = model.actor.factors(b_obs[idx], b_act[idx], graph, mb_memory)
                logp = dist.log_prob(b_act[idx])[live]
                entropy = dist.entropy()[live].mean()
                adv = normalize_advantages(b_adv[idx][live])
                policy_loss, ratio_stats = clipped_policy_loss(logp, b_logp[idx][live], adv, args.clip_coef)
                v = model.critic(b_cin[idx])[live]
                value_loss = clipped_value_loss(v, b_target[idx][live], b_val_old[idx][live], args.value_clip)
                sparsity = None  # the annealed sparsity term alpha * |density - threshold|
                if args.anneal:
                    sparsity = alpha * (model.actor.density(graph, pairs) - threshold).abs()
                run.ppo_step(policy_loss, value_loss, entropy, ratio_stats, sparsity)

        extra = {
            "charts/edge_density": float(np.mean(densities)),
            "charts/edge_density_argmax": float(np.mean(argmax_densities)),
            "charts/sparsity_threshold": threshold if args.anneal else float("nan"),
            "charts/sparsity_alpha": alpha if args.anneal else 0.0,
        }
        run.end_update(update, episode_returns, extra)
    return run.finish(venv)
