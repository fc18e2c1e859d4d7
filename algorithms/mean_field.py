"""Dec-POMFC: decentralised partially observable mean-field control, trained with PPO.

Reference: Cui, Hauck, Fabian, Koeppl, "Learning Decentralized Partially Observable Mean Field
Control for Artificial Collective Behavior" (ICLR 2024, arXiv 2307.06175). No public code exists;
the same group's M3FC-MARL (RLlib, histogram mean fields) was the nearest model.

**The lifted MDP.** As ``N -> infinity`` a swarm of identical robots that all apply one decision
rule is described by its state distribution ``mu_t``, which evolves deterministically. Control of
the swarm becomes a single-agent MDP whose state is ``mu_t`` and whose action is the decision rule
``pi_t(u | y)`` every robot applies to its own observation ``y``:

* **State** - ``mu_t``, represented by its **kernel mean embedding** at fixed Gaussian RBF centres
  on a grid over the env's :class:`~swarmzoo.envs.core.collective.MeanField` box (periodic
  distance on a torus axis or an angle): ``phi_b(mu) = (1/N) sum_i k(x_b, x_i)``, divided by the
  embedding of the uniform distribution so features are ~1
  (:class:`~swarmzoo.agents.mean_field.embedding.KernelEmbedding`). A hard histogram
  (``--representation histogram``) is kept for comparison.
* **Action** - the rule's per-centre parameters ``xi (M, P)`` (logits, or a Gaussian's mean and
  log-std), interpolated at a robot's observation with normalised RBF weights
  (:class:`~swarmzoo.agents.mean_field.policy.DecisionRule`). The rule reads the observation
  entries its env names in ``mean_field_rule_features`` on its task (``--rule-features`` picks
  others by name, out of the task's ``observation_names(config)``).
* **Reward** - the swarm's reward (the mean of the robots' rewards).

**Training (centralised)** rolls out the finite-``N`` swarm env. Each step, the upper-level
policy ``pihat(xi | phi(mu_t))`` picks a rule, every robot samples ``u_i ~ pi_xi(. | y_i)`` and
the env steps. Two policy gradients (``--gradient``):

* ``lifted`` - the paper's method, PPO on the lifted MDP: ``xi`` is sampled from a Gaussian
  ``pihat`` and the PPO ratio is ``pihat(xi | mu) / pihat_old(xi | mu)``; the robots' own
  sampling is part of the env.
* ``agents`` (default) - our variant, not in the paper: the finite-agent policy gradient:
  ``xi = f(phi(mu))`` is deterministic and the gradient flows through the robots' log-likelihoods
  ``sum_i log pi_xi(u_i | y_i)`` (per-robot PPO ratios, one shared advantage per swarm step).
  For a rule parameterised by ``xi`` it is the gradient of the same objective, estimated from
  ``N`` samples per step instead of one, so it needs far fewer env steps (measured by
  ``benchmarks/mean_field_scaling.py``, section ``mean_field_gradients`` of
  ``benchmarks/RESULTS.md``).

The critic is ``V(phi(mu_t))`` on the lifted state, with GAE and bootstrapping on truncation.

**Execution (decentralised).** After training, the upper-level policy is rolled out once on a
reference swarm of ``schedule_agents`` robots (large, to approximate the deterministic mean-field
trajectory) and its rules ``xi_0 .. xi_{T-1}`` are stored in ``policy.pt``. A robot then needs
only its own observation, the episode clock and that schedule (``MeanFieldPolicy``;
``ClosedLoopPolicy`` recomputes ``xi_t`` from the live ``mu_t``, centralised, for comparison).
Embeddings, rule fitting and execution live in :mod:`swarmzoo.agents.mean_field`.

``train(args)`` runs in-process and returns a :class:`TrainResult`; the command line is
``swarmzoo train mean-field --env flocking-v0 ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from swarmzoo.agents.files import POLICY_FORMAT, atomic_torch_save
from swarmzoo.agents.mean_field import (
    DecisionRule,
    MeanFieldModel,
    RuleSpec,
    compute_schedule,
    embedding_config,
    fit_rule,
    make_embedding,
    rule_feature_indices,
    warmup_features,
)
from swarmzoo.algorithms.common.gae import compute_gae, next_values
from swarmzoo.algorithms.common.logging import to_jsonable
from swarmzoo.algorithms.common.losses import clipped_policy_loss, clipped_value_loss, normalize_advantages
from swarmzoo.algorithms.common.minibatch import minibatch_indices
from swarmzoo.algorithms.common.run import BaseArgs, CheckpointHook, Run, TrainResult
from swarmzoo.envs.core.collective import MeanField
from swarmzoo.envs.registry import make_vec


@dataclass
class Args(BaseArgs):
    """Dec-POMFC (mean-field PPO) on a swarmzoo env whose task exposes ``mean_field()``."""

    env: str = "flocking-v0"
    """A swarmzoo env id with a mean-field view: flocking-v0, kuramoto-v0, aggregation-v0."""
    total_steps: int = 100_000
    """Environment steps to train for, summed over env copies (robot-steps = this x N)."""
    seed: int = 0
    """Seed of torch, the warm-up rollout, minibatch shuffling and the env copies."""
    num_envs: int = 16
    """Env copies stepped together."""
    rollout_steps: int = 100
    """Steps per env copy between updates (T)."""
    lr: float = 1e-3
    """Adam learning rate."""
    ent_coef: float = 0.01
    """Entropy bonus (of the robots' rule with 'agents', of the Gaussian over xi with 'lifted')."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the upper-level policy and the critic."""
    gradient: Literal["agents", "lifted"] = "agents"
    """'agents': finite-agent policy gradient through the robots' log-likelihoods; 'lifted':
    PPO on the lifted MDP with a Gaussian over the rule parameters."""
    representation: Literal["kernel", "histogram"] = "kernel"
    """Mean-field representation: RBF kernel mean embedding, or a hard histogram."""
    mf_centres: int = 256
    """Budget of embedding centres (or histogram cells): a grid of floor(budget^(1/S)) per
    feature of the S-feature mean field (S=2: 16 x 16, S=3: 6^3, S=4: 4^4)."""
    mf_bandwidth: float = 1.0
    """Kernel width of the embedding, in grid spacings."""
    rule_centres: int = 32
    """RBF centres M of the decision rule, placed by farthest-point sampling of the observations
    of a warm-up rollout with random actions."""
    rule_bandwidth: float = 1.0
    """Width of the rule's RBFs, in units of the median distance between neighbouring centres."""
    rule_features: tuple[str, ...] | None = None
    """Observation entries the rule reads, by name (e.g. heading_cos heading_sin; the names are the
    env task's observation_names; default: the task's mean_field_rule_features, else every entry)."""
    init_log_std: float = -0.5
    """Initial log-std of the Gaussian over xi ('lifted' only; 'agents' does not sample xi)."""
    schedule_agents: int = 1000
    """Robots of the reference swarm the execution schedule is computed on (at the training
    density; the training swarm itself when env_kwargs fix the arena size)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("mf_centres", "rule_centres", "schedule_agents"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("mf_bandwidth", "rule_bandwidth"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.gradient not in ("agents", "lifted"):
            raise ValueError(f"gradient must be 'agents' or 'lifted', got {self.gradient!r}")
        if self.representation not in ("kernel", "histogram"):
            raise ValueError(f"representation must be 'kernel' or 'histogram', got {self.representation!r}")
        if self.minibatches > self.num_envs * self.rollout_steps:
            raise ValueError(
                f"minibatches={self.minibatches} exceeds the num_envs x rollout_steps = "
                f"{self.num_envs * self.rollout_steps} swarm steps of a rollout"
            )
        if self.rule_features is not None and len(self.rule_features) == 0:
            raise ValueError("rule_features must name at least one observation entry (or be left unset)")


# Args that fix what a checkpoint's networks are; a resumed run must keep them.
STRUCTURAL = tuple(
    "env env_kwargs gradient representation mf_centres mf_bandwidth rule_centres rule_bandwidth "
    "rule_features hidden num_envs rollout_steps".split()
)


# -- training -----------------------------------------------------------------------------------


def _make_env(args: Args, env_kwargs: dict[str, Any], num_envs: int):
    if args.reward_weights:
        raise ValueError("mean-field trains on scalar rewards: --reward-weights is not available")
    venv = make_vec(args.env, num_envs, **env_kwargs)
    try:
        venv.mean_field()
    except NotImplementedError as err:
        raise ValueError(
            f"{args.env} has no mean-field view (task.mean_field()); mean-field control needs one: "
            "use flocking-v0, kuramoto-v0 or aggregation-v0"
        ) from err
    return venv


def _schedule_env_kwargs(args: Args, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The reference swarm of the schedule: ``schedule_agents`` robots at the training density,
    or the training swarm itself when the arena size is fixed (more robots would crowd it)."""
    if "arena_width" in env_kwargs or "arena_height" in env_kwargs:
        return dict(env_kwargs)
    return dict(env_kwargs, n_agents=args.schedule_agents)


def train(args: Args, on_checkpoint: CheckpointHook | None = None) -> TrainResult:
    """Train a Dec-POMFC policy; see the module docstring. ``on_checkpoint(run_dir,
    global_step)`` as in :func:`swarmzoo.algorithms.ctde.train`."""
    run = Run(args, "mean_field", STRUCTURAL, "mean_field_checkpoint", hooks=[on_checkpoint])
    env_kwargs, data = run.env_kwargs, run.data
    venv = _make_env(args, env_kwargs, args.num_envs)
    venv.record_final_mean_field = True
    _make_env(args, _schedule_env_kwargs(args, env_kwargs), 1).close()  # fail now, not after training
    E, N, T = venv.num_envs, venv.n_agents, args.rollout_steps
    obs_dim = int(venv.single_observation_space.shape[0])
    features = rule_feature_indices(venv.task, args.rule_features, args.env)
    if data is not None:
        embed_cfg = data["embedding"]
    else:
        embed_cfg = embedding_config(
            venv.mean_field(), args.representation, args.mf_centres, args.mf_bandwidth
        )
    embed = make_embedding(embed_cfg)
    if data is not None:
        rule = RuleSpec.from_dict(data["rule_spec"])
    else:
        warm_seed = int(np.random.SeedSequence([args.seed, 7]).generate_state(1)[0])
        warm = warmup_features(venv, min(venv.max_cycles, 50), warm_seed, features)
        space = venv.single_action_space
        rule = fit_rule(warm, features, obs_dim, args.rule_centres, args.rule_bandwidth, space, args.seed)
    decision = DecisionRule(rule)
    K = embed.size
    model = MeanFieldModel(K, rule, args.hidden, args.init_log_std)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-5)
    n_updates = max(1, args.total_steps // (E * T))
    lifted = args.gradient == "lifted"

    d = len(rule.features)
    act_shape = () if rule.action_kind == "discrete" else (rule.action_dim,)
    buf_emb = torch.zeros(T, E, K)
    buf_z = torch.zeros(T, E, N, d) if not lifted else None
    buf_act = torch.zeros(T, E, N, *act_shape) if not lifted else None
    buf_logp = torch.zeros(T, E, N) if not lifted else torch.zeros(T, E)
    buf_xi = torch.zeros(T, E, rule.n_centres * rule.param_dim) if lifted else None
    buf_val, buf_next_val, buf_rew, buf_term, buf_done = (torch.zeros(T, E) for _ in range(5))

    def write_policy(path: Path) -> None:
        reference = make_vec(args.env, 1, **_schedule_env_kwargs(args, env_kwargs))
        seed = int(np.random.SeedSequence([args.seed, 12345]).generate_state(1)[0])
        schedule = compute_schedule(model, decision, embed, reference, seed)
        reference.close()
        save_mean_field_policy(path, model, rule, embed_cfg, schedule, args, env_kwargs, run.global_step)

    def checkpoint_state() -> dict[str, Any]:
        return {"rule_spec": rule.to_dict(), "embedding": embed_cfg}

    desc = f"mean-field/{args.gradient} {args.env}"
    run.start(model, optimizer, n_updates, E * T, desc, policy=write_policy, state=checkpoint_state)

    for update in run.updates():
        if run.new_episodes(update):  # fresh episodes, re-seeded
            obs_np, _ = venv.reset(seed=run.episode_seed(update))  # obs (E, N, D)
            emb = torch.as_tensor(embed(venv.mean_field()))  # the mean-field embedding (E, K)
        run.anneal_lr(update)
        episode_returns: list[float] = []
        for t in range(T):
            z = decision.standardise(torch.as_tensor(obs_np, dtype=torch.float32))
            with torch.no_grad():
                if lifted:
                    xi_dist = model.upper.xi_distribution(emb)
                    xi_flat = xi_dist.sample()
                    buf_logp[t] = xi_dist.log_prob(xi_flat).sum(-1)
                    buf_xi[t] = xi_flat
                    xi = xi_flat.reshape(E, *model.upper.rule_shape) + model.xi_offset
                else:
                    xi = model.rule_mean(emb)
                dist = decision.distribution(xi, z)
                action = dist.sample()
                if not lifted:
                    buf_logp[t] = decision.log_prob(dist, action)
                    buf_z[t], buf_act[t] = z, action
                buf_val[t] = model.upper.value(emb)
            buf_emb[t] = emb
            obs_np, rew, term, trunc, infos = venv.step(decision.to_env(action))
            finished = infos["_final_obs"]
            if (term.any(axis=1) & ~finished).any():
                raise ValueError(
                    f"robots of {args.env} terminate one by one; mean-field training needs every robot "
                    "of a copy to stay until its episode ends"
                )
            buf_rew[t] = torch.as_tensor(rew.mean(axis=1), dtype=torch.float32)
            buf_term[t] = torch.as_tensor(term.all(axis=1), dtype=torch.float32)
            buf_done[t] = torch.as_tensor(finished, dtype=torch.float32)
            if finished.any():
                ids = np.flatnonzero(finished)
                final_mf = infos["final_mean_field"]
                sub = MeanField(
                    final_mf.samples[ids], final_mf.names, final_mf.low, final_mf.high, final_mf.periodic
                )
                with torch.no_grad():
                    buf_next_val[t, ids] = model.upper.value(torch.as_tensor(embed(sub)))
                episode_returns.extend(infos["episode_return"][ids].mean(axis=1).tolist())
            emb = torch.as_tensor(embed(venv.mean_field()))
            run.global_step += E
        with torch.no_grad():
            last_value = model.upper.value(emb)
        buf_next_val = next_values(buf_val, last_value, buf_next_val, buf_done)
        advantages, returns = compute_gae(
            buf_rew, buf_val, buf_next_val, buf_term, buf_done, args.gamma, args.gae_lambda
        )
        buf_next_val = torch.zeros(T, E)

        # ---- update: samples are swarm steps (T x E); 'agents' scores every robot in them ----------
        b_emb = buf_emb.reshape(T * E, K)
        b_adv, b_ret, b_val = advantages.reshape(-1), returns.reshape(-1), buf_val.reshape(-1)
        model.upper.value_norm.update(b_ret)
        b_target = model.upper.value_norm.normalize(b_ret)
        b_val_old = model.upper.value_norm.normalize(b_val)
        b_logp = buf_logp.reshape(T * E, *buf_logp.shape[2:])
        if lifted:
            b_xi = buf_xi.reshape(T * E, -1)
        else:
            b_z = buf_z.reshape(T * E, N, d)
            b_act = buf_act.reshape(T * E, N, *act_shape)
        for _ in range(args.epochs):
            for idx in minibatch_indices(T * E, args.minibatches, run.rng):
                e_mb = b_emb[idx]
                adv = normalize_advantages(b_adv[idx])
                if lifted:
                    xi_dist = model.upper.xi_distribution(e_mb)
                    logp = xi_dist.log_prob(b_xi[idx]).sum(-1)
                    entropy = xi_dist.entropy().sum(-1).mean()
                    adv_b = adv
                else:
                    dist = decision.distribution(model.rule_mean(e_mb), b_z[idx])
                    logp = decision.log_prob(dist, b_act[idx])  # (B, N)
                    entropy = decision.entropy(dist).mean()
                    adv_b = adv[:, None]  # one advantage per swarm step, shared by its robots
                policy_loss, ratio_stats = clipped_policy_loss(logp, b_logp[idx], adv_b, args.clip_coef)
                v = model.upper.critic(e_mb).squeeze(-1)
                value_loss = clipped_value_loss(v, b_target[idx], b_val_old[idx], args.value_clip)
                run.ppo_step(policy_loss, value_loss, entropy, ratio_stats)

        run.end_update(update, episode_returns)
    return run.finish(venv)


def save_mean_field_policy(path, model, rule, embed_cfg, schedule, args, env_kwargs, global_step) -> None:
    """A self-contained policy file: the rule, its schedule (decentralised execution) and the
    upper level (closed-loop execution); plain tensors and values only."""
    atomic_torch_save(
        {
            "format": POLICY_FORMAT,
            "algo": "mean_field",
            "rule_spec": rule.to_dict(),
            "schedule": schedule.clone(),
            "model": model.state_dict(),
            "embedding": embed_cfg,
            "hidden": list(args.hidden),
            "args": to_jsonable(args),
            "env_id": args.env,
            "env_kwargs": dict(env_kwargs),
            "global_step": global_step,
        },
        path,
    )
