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

``train(args)`` runs in-process and returns a :class:`TrainResult`; ``main()`` is the CLI
(``swarmzoo train ctde --env navigation-v0 ...``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from swarmzoo.agents.networks import (
    POLICY_FORMAT,
    ActorPolicy,
    ActorSpec,
    Critic,
    atomic_torch_save,
    make_actor,
    safe_load,
    save_policy,
    with_agent_ids,
)
from swarmzoo.algorithms.common.gae import compute_gae
from swarmzoo.algorithms.common.logging import default_run_dir, to_jsonable
from swarmzoo.algorithms.common.minibatch import flatten_active, minibatch_indices
from swarmzoo.algorithms.common.normalization import RunningMeanStd, ValueNorm
from swarmzoo.algorithms.common.ppo import (
    TrainResult,
    UpdateLog,
    check_ppo_args,
    check_resume,
    clipped_policy_loss,
    clipped_value_loss,
    episode_seed,
    next_values,
    normalize_advantages,
    start_run,
)
from swarmzoo.algorithms.common.vector import make_training_env, parse_env_kwargs
from swarmzoo.evaluation import record_run_video


@dataclass
class Args:
    """MAPPO / IPPO on a swarmzoo env (or any PettingZoo parallel env)."""

    env: str = "navigation-v0"
    """A swarmzoo env id, or 'module:factory' of any PettingZoo ParallelEnv with homogeneous agents
    (e.g. 'mpe2.simple_spread_v3:parallel_env')."""
    env_kwargs: tuple[str, ...] = ()
    """Env arguments as KEY=VALUE (e.g. n_agents=5 n_obstacles=2)."""
    critic: Literal["central", "local"] = "central"
    """'central' = MAPPO (critic sees the global state), 'local' = IPPO."""
    total_steps: int = 300_000
    """Environment steps to train for, summed over env copies (robot-steps = this x N)."""
    seed: int = 0
    """Seed of torch, minibatch shuffling and the env copies (copy i gets env_seed + i, with
    env_seed hashed from (seed, update) at each checkpoint, so runs with neighbouring seeds share
    no episodes)."""
    out: Path | None = None
    """Run folder (default runs/<env>__ctde__<seed>__<time>)."""
    num_envs: int = 32
    """Env copies stepped together."""
    rollout_steps: int = 50
    """Steps per env copy between updates (T)."""
    epochs: int = 10
    """Passes over each rollout."""
    minibatches: int = 4
    """Minibatches per epoch."""
    lr: float = 7e-4
    """Adam learning rate (actor and critic)."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0."""
    gamma: float = 0.95
    """Discount (0.95 suits swarm tasks' dense per-step rewards over 25-100-step episodes; it
    reached the heuristic on navigation-v0 in half the steps 0.99 needed)."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip_coef: float = 0.2
    """PPO ratio clip."""
    value_clip: float = 0.2
    """Clip of the value update around the old value (0 turns it off)."""
    ent_coef: float = 0.01
    """Entropy bonus."""
    vf_coef: float = 1.0
    """Weight of the value loss."""
    max_grad_norm: float = 10.0
    """Gradient norm clip."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of actor and critic."""
    agent_ids: bool = False
    """Append a one-hot robot id to the actor's input (ties the policy to one swarm size)."""
    recurrent: int = 0
    """GRU hidden size of the actor (0: the feed-forward MLP actor). Minibatches are then whole
    robot sequences, so --minibatches must not exceed num_envs x N."""
    value_norm: bool = True
    """Normalise value targets (MAPPO's ValueNorm)."""
    obs_norm: bool = False
    """Normalise observations with running statistics (stored in the policy)."""
    checkpoint_every: int = 10
    """Updates between checkpoints. The env copies start fresh episodes at each checkpoint
    (re-seeded from (seed, update)), and the checkpoint holds every random state, so a run killed
    and resumed from it continues exactly as the uninterrupted run does."""
    capture_video: bool = False
    """Record one episode of the current policy at every checkpoint to RUN_DIR/videos/step_<N>.mp4
    (policy.pt is then written at every checkpoint too, not only at the end)."""
    resume: bool = False
    """Continue from <out>/checkpoints/latest.pt (the progress.csv rows logged after it are
    dropped and recomputed)."""
    progress: bool = True
    """Show a progress bar with the live return."""
    tensorboard: bool = True
    """Write TensorBoard event files beside progress.csv."""
    torch_threads: int = 1
    """torch intra-op threads (the env uses the other core)."""

    def __post_init__(self) -> None:
        positive = (
            "total_steps",
            "num_envs",
            "rollout_steps",
            "epochs",
            "minibatches",
            "checkpoint_every",
            "torch_threads",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.recurrent < 0:
            raise ValueError(f"recurrent must be >= 0 (0: no GRU), got {self.recurrent}")
        if self.critic not in ("central", "local"):
            raise ValueError(f"critic must be 'central' (MAPPO) or 'local' (IPPO), got {self.critic!r}")
        for name in ("lr", "clip_coef"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.gamma <= 1 or not 0 <= self.gae_lambda <= 1:
            raise ValueError("gamma and gae_lambda must lie in [0, 1]")
        check_ppo_args(self)


# Args that fix what a checkpoint's networks and rollouts are; a resumed run must keep them.
STRUCTURAL = (
    "env",
    "env_kwargs",
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


def _checkpoint(
    model: CTDEModel,
    optimizer: torch.optim.Optimizer,
    args: Args,
    env_kwargs: dict,
    global_step: int,
    update: int,
    elapsed: float,
    rng: np.random.Generator,
    recent_returns: list[float],
) -> dict[str, Any]:
    return {
        "format": POLICY_FORMAT,
        "algo": "ctde",
        "actor_spec": asdict(model.actor.spec),
        "actor": model.actor.state_dict(),
        "obs_norm": None if model.obs_norm is None else model.obs_norm.state_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "args": to_jsonable(args),
        "env_id": args.env,
        "env_kwargs": env_kwargs,
        "global_step": global_step,
        "update": update,
        "elapsed": elapsed,
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": rng.bit_generator.state,
        "recent_returns": list(recent_returns),
    }


def train(args: Args, on_checkpoint: Callable[[Path, int], None] | None = None) -> TrainResult:
    """Train MAPPO (``critic="central"``) or IPPO (``critic="local"``); see the module docstring.

    ``on_checkpoint(run_dir, global_step)``, when given, is called after every checkpoint with the
    current ``policy.pt`` already written, e.g. to evaluate the policy along training. It runs
    inside a forked torch random stream, so it does not change the run.
    """
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)  # before the networks are built: their initial weights too
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    run_dir = Path(args.out) if args.out is not None else default_run_dir(args.env, "ctde", args.seed)
    venv = make_training_env(args.env, args.num_envs, env_kwargs)
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
    n_updates = max(1, args.total_steps // (E * T))

    ckpt_path = run_dir / "checkpoints" / "latest.pt"
    data = None
    if args.resume:
        data = safe_load(ckpt_path)
        check_resume(data, args, "ctde", STRUCTURAL)
    run = start_run(data, model, optimizer, args, run_dir)
    global_step, start_update, elapsed_before, rng, logger = (
        run.global_step,
        run.start_update,
        run.elapsed,
        run.rng,
        run.logger,
    )

    def fresh_episodes(update: int) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Reset every copy (at each checkpoint, seeded by :func:`episode_seed`). Returns
        ``obs (E, N, D)``, ``state (E, S)`` and the active mask. (A recurrent actor's hidden
        states restart with them: ``start`` is set for every robot.)"""
        obs_np, _ = venv.reset(seed=episode_seed(args.seed, update))
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

    log = UpdateLog(
        logger,
        args.progress,
        n_updates * E * T,
        global_step,
        f"ctde/{'mappo' if central else 'ippo'} {args.env}",
    )
    if data is not None:
        log.recent = list(data.get("recent_returns", []))
    t_start = time.time()

    def write_policy() -> None:
        save_policy(
            run_dir / "policy.pt",
            model.actor,
            args.env,
            env_kwargs,
            model.obs_norm,
            extra={"algo": "ctde", "critic": args.critic, "global_step": global_step},
        )

    for update in range(start_update, n_updates):
        if update == start_update or update % args.checkpoint_every == 0:
            obs, state, active = fresh_episodes(update)
            start = torch.ones(E, N)
        if recurrent:
            buf_h0 = hidden.clone()
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = args.lr * (1.0 - update / n_updates)
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
            done = term | trunc
            buf_rew[t] = torch.as_tensor(rew, dtype=torch.float32) * active
            buf_term[t] = torch.as_tensor(np.asarray(term, dtype=np.float32))
            buf_done[t] = torch.as_tensor(np.asarray(done, dtype=np.float32))
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
            global_step += E
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
            for idx in minibatch_indices(n_items, args.minibatches, rng):
                if recurrent:
                    terms = sequence_terms(model, sequences, buf_h0, idx)
                else:
                    terms = flat_terms(model, flat, idx)
                logp, old_logp, adv, entropy, v, target, val_old = terms
                adv = normalize_advantages(adv)
                policy_loss, ratio_stats = clipped_policy_loss(logp, old_logp, adv, args.clip_coef)
                value_loss = clipped_value_loss(v, target, val_old, args.value_clip)
                loss = policy_loss + args.vf_coef * value_loss - args.ent_coef * entropy
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                optimizer.step()
                log.add_losses(policy_loss, value_loss, entropy, ratio_stats)

        # ---- log and checkpoint -------------------------------------------------------------
        wall = elapsed_before + time.time() - t_start
        log.finish_update(global_step, wall, optimizer.param_groups[0]["lr"], episode_returns, E * T)
        if (update + 1) % args.checkpoint_every == 0 or update + 1 == n_updates:
            data = _checkpoint(
                model, optimizer, args, env_kwargs, global_step, update + 1, wall, rng, log.recent
            )
            atomic_torch_save(data, ckpt_path)
            if args.capture_video or on_checkpoint is not None:
                write_policy()
            if args.capture_video:
                record_run_video(run_dir, global_step, args.seed)
            if on_checkpoint is not None:
                with torch.random.fork_rng():
                    on_checkpoint(run_dir, global_step)
    log.close()
    venv.close()
    write_policy()
    return TrainResult(
        run_dir=run_dir,
        global_step=global_step,
        wall_time=elapsed_before + time.time() - t_start,
        final_return=log.final_return,
        curve=log.curve,
    )


def policy_of(result: TrainResult) -> ActorPolicy:
    """The trained policy of a finished run (deterministic actions)."""
    from swarmzoo.agents.networks import load_policy

    return load_policy(result.run_dir / "policy.pt")[0]


def main(argv: list[str] | None = None) -> TrainResult:
    """CLI: ``swarmzoo train ctde --env ENV --total-steps N --seed S --out RUN_DIR [...]``."""
    import tyro

    args = tyro.cli(Args, args=argv, prog="swarmzoo train ctde", description=__doc__.split("\n\n")[0])
    result = train(args)
    print(
        f"trained {result.global_step} env steps in {result.wall_time:.0f}s; "
        f"final mean per-robot return {result.final_return:.3f}; run folder {result.run_dir}"
    )
    return result
