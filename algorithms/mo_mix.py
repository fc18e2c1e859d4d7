"""MO-MIX: multi-objective value decomposition, one preference-conditioned model for a whole front.

Reference: Hu, Luo, Yang and Huang, "MO-MIX: Multi-Objective Multi-Agent Cooperative
Decision-Making With Deep Reinforcement Learning", IEEE TPAMI 45(10), 2023 (arXiv 2603.00730).
Only the abstract and summaries of the paper could be retrieved here, so this file follows what
they state and marks everything else as our choice.

From the abstract: CTDE on an env whose reward is a vector of ``K`` objectives; a preference
(weight) vector ``w`` is an input of every robot's local action-value network, which estimates
one value per objective; a mixing network of ``K`` parallel heads estimates the joint vector value
``Q_tot(s, a, w) (K,)``, each head monotonic in the robots' values of its objective (QMIX's
hypernetwork mixer, conditioned on the state and ``w``); an exploration guide steers which
preferences are trained on, to spread the non-dominated solutions evenly. One trained model then
gives a policy for every preference, so a front is evaluated without retraining.

Per gradient step, on ``B`` replayed team transitions (rewards ``r (K,)``, the mean over robots),
each relabelled with a preference ``w`` drawn from the guide's distribution (our choice; the
transitions do not depend on the preference they were collected with)::

    Q_i(o_i, a, w) (K,)                        shared agent network (obs, w -> A x K values)
    Q_tot = [mixer_k(Q_i^k(o_i, a_i, w) for all i; s, w) for k in 1..K]
    a'_i  = argmax_a w . Q_i(o'_i, a, w)       online network (double Q), scalarised by w
    y     = r + gamma * (1 - terminated) * Q_tot_target(o', a', s', w)
    L     = mean over the batch and the K objectives of (Q_tot - y)^2

A robot acts greedily on ``w . Q_i(o_i, ., w)`` (epsilon-greedy in training). With ``K`` separate
monotonic heads this is the natural decentralised rule but not exactly the greedy joint action of
``w . Q_tot`` (QMIX's consistency holds per head); that approximation is the paper's as far as the
abstract describes it.

Our choices: the vector TD loss above (no scalarised auxiliary term); hindsight relabelling of
preferences in the update; preferences on the grid ``weight_grid(K, preference_steps)``; every
env copy keeps one preference per episode. The exploration guide (``guide=True``): each grid
preference keeps the running mean (EMA) of the vector episode returns it was trained with; every
iteration the preferences are drawn with probability ``guide_mix / P`` each plus
``(1 - guide_mix)`` spread in proportion to how isolated their point is on the current front
(the distance to the nearest other non-dominated point, objectives scaled by their range across
the grid; dominated points and preferences never tried get the mean score), so training goes
where the front has gaps. Without the guide, preferences are uniform over the grid.

Evaluation (:func:`pareto_front`): greedy rollouts of the model for each preference of a grid,
giving one point (mean per-robot vector return) per preference; :mod:`swarmzoo.algorithms.common.pareto`
has hypervolume, sparsity and coverage. The run folder gets ``front.json`` (the front on
``weight_grid(K, eval_steps)``) at the end; ``policy.pt`` is an MO-MIX file (the conditioned
agent network), read with :func:`load_model`.

``swarmzoo train mo-mix --env navigation-v0 --env-kwargs objectives=goals,energy``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from swarmzoo.agents.files import POLICY_FORMAT, atomic_torch_save, safe_load
from swarmzoo.algorithms.common.pareto import non_dominated, weight_grid
from swarmzoo.algorithms.common.replay import ReplayBatch, ReplayBuffer
from swarmzoo.algorithms.common.run import CheckpointHook, Run, TrainResult
from swarmzoo.algorithms.qmix import STRUCTURAL as QMIX_STRUCTURAL
from swarmzoo.algorithms.qmix import (
    AgentQNetwork,
    QMixer,
    QMixModel,
    VDNMixer,
    epsilon_at,
    optimise,
    td_targets,
    team_transition,
)
from swarmzoo.algorithms.qmix import Args as QMixArgs
from swarmzoo.envs.registry import make_vec


@dataclass
class Args(QMixArgs):
    """MO-MIX on a swarmzoo env with discrete actions made with ``objectives`` (K >= 2).

    Every QMIX argument means the same here (``mixer`` picks the heads: 'qmix' monotonic
    hypernetwork heads, 'vdn' a sum per objective).
    """

    total_steps: int = 300_000
    """Environment steps to train for, summed over env copies."""
    epsilon_anneal_steps: int = 50_000
    """Environment steps (summed over copies) of the linear anneal from epsilon_start to
    epsilon_end (longer than QMIX's: the preferences are explored too)."""
    preference_steps: int = 10
    """Preferences are the grid of the K-simplex in steps of 1 / preference_steps."""
    guide: bool = True
    """Exploration guide: train more on preferences whose front point is isolated."""
    guide_mix: float = 0.5
    """Share of the preference draws that stays uniform over the grid (the rest follows the guide)."""
    guide_ema: float = 0.1
    """Weight of a new episode return in a preference's running mean."""
    eval_steps: int = 4
    """front.json evaluates the preferences weight_grid(K, eval_steps) (eval_steps + 1 for K = 2)."""
    eval_episodes: int = 16
    """Greedy episodes per preference for front.json."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("preference_steps", "eval_steps", "eval_episodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.guide_mix <= 1:
            raise ValueError(f"guide_mix must lie in [0, 1], got {self.guide_mix}")
        if not 0 < self.guide_ema <= 1:
            raise ValueError(f"guide_ema must lie in (0, 1], got {self.guide_ema}")


# QMIX's structural arguments (reward_weights among them: always empty here) and the grid.
STRUCTURAL = (*QMIX_STRUCTURAL, "preference_steps")


class PreferenceQNetwork(nn.Module):
    """``Q_i(o_i, ., w)``: the shared agent network with the preference as input and ``A x K``
    outputs. Shapes: ``obs (*B, N, D)``, ``w (*B, N, K)`` -> ``(*B, N, A, K)``."""

    def __init__(self, obs_dim: int, n_actions: int, k: int, hidden: tuple[int, ...], n_agent_ids: int = 0):
        super().__init__()
        self.n_actions, self.k = int(n_actions), int(k)
        self.net = AgentQNetwork(obs_dim, self.n_actions * self.k, hidden, n_agent_ids, cond_dim=self.k)

    def forward(self, obs: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        q = self.net(obs, w)
        return q.view(*q.shape[:-1], self.n_actions, self.k)


class ParallelMixer(nn.Module):
    """``K`` mixing heads side by side, head ``k`` over the robots' values of objective ``k``,
    each conditioned on the state and the preference. Shapes: ``agent_qs (B, N, K)``,
    ``state (B, S)``, ``w (B, K)`` -> ``Q_tot (B, K)``."""

    def __init__(self, kind: str, n_agents: int, state_dim: int, k: int, embed: int, hypernet_hidden: int):
        super().__init__()
        if kind == "vdn":
            self.heads = nn.ModuleList([VDNMixer() for _ in range(k)])
        else:
            self.heads = nn.ModuleList(
                [QMixer(n_agents, state_dim, embed, hypernet_hidden, cond_dim=k) for _ in range(k)]
            )

    def forward(self, agent_qs: torch.Tensor, state: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return torch.stack([head(agent_qs[..., k], state, w) for k, head in enumerate(self.heads)], dim=-1)


def scalarised_actions(q: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Each robot's ``argmax_a w . Q(a)``: ``q (*B, N, A, K)``, ``w (*B, N, K)`` -> ``(*B, N)``."""
    return torch.einsum("...ak,...k->...a", q, w).argmax(-1)


def mo_td_loss(
    model: QMixModel, batch: ReplayBatch, w: torch.Tensor, gamma: float, double_q: bool = True
) -> tuple[torch.Tensor, dict[str, float]]:
    """MO-MIX's vector TD loss (module docstring) on ``B`` transitions relabelled with the
    preferences ``w (B, K)``."""
    N = batch.obs.shape[1]
    w_agents = w[:, None, :].expand(-1, N, -1)  # (B, N, K)
    q = model.agent(batch.obs, w_agents)  # (B, N, A, K)
    index = batch.actions[..., None, None].expand(-1, -1, 1, q.shape[-1])
    q_taken = q.gather(2, index).squeeze(2)  # (B, N, K)
    q_tot = model.mixer(q_taken, batch.state, w)  # (B, K)
    with torch.no_grad():
        next_target = model.target_agent(batch.next_obs, w_agents)
        chooser = model.agent(batch.next_obs, w_agents) if double_q else next_target
        next_a = scalarised_actions(chooser, w_agents)[..., None, None].expand(-1, -1, 1, q.shape[-1])
        next_q = next_target.gather(2, next_a).squeeze(2)  # (B, N, K)
        target = td_targets(
            batch.rewards, batch.terminated, model.target_mixer(next_q, batch.next_state, w), gamma
        )
    loss = (q_tot - target).pow(2).mean()
    return loss, {"td_loss": loss.item(), "scalar_q_tot": (q_tot * w).sum(-1).mean().item()}


class ExplorationGuide:
    """Which grid preferences to train on (module docstring): ``probabilities()`` over the grid
    ``weights (P, K)``, from the running mean vector return of each preference's episodes."""

    def __init__(self, weights: np.ndarray, mix: float, ema: float, enabled: bool = True) -> None:
        self.weights = weights
        self.mix, self.ema, self.enabled = mix, ema, enabled
        self.means = np.full(weights.shape, np.nan)

    def record(self, index: int, episode_return: np.ndarray) -> None:
        """Fold one finished episode's vector return ``(K,)`` into preference ``index``'s mean."""
        old = self.means[index]
        self.means[index] = (
            episode_return if np.isnan(old).any() else (1 - self.ema) * old + self.ema * episode_return
        )

    def probabilities(self) -> np.ndarray:
        P = len(self.weights)
        uniform = np.full(P, 1.0 / P)
        seen = ~np.isnan(self.means).any(axis=1)
        if not self.enabled or seen.sum() < 2:
            return uniform
        points = self.means[seen]
        span = points.max(axis=0) - points.min(axis=0)
        scaled = (points - points.min(axis=0)) / np.where(span > 0, span, 1.0)
        front = {tuple(p) for p in non_dominated(scaled)}
        isolation = np.zeros(len(points))
        for j, p in enumerate(scaled):
            if tuple(p) in front and len(front) > 1:
                others = np.array([q for q in front if q != tuple(p)])
                isolation[j] = np.linalg.norm(others - p, axis=1).min()
        on_front = isolation > 0
        fill = isolation[on_front].mean() if on_front.any() else 1.0
        isolation[~on_front] = fill
        score = np.full(P, fill)
        score[seen] = isolation
        return self.mix * uniform + (1 - self.mix) * score / score.sum()

    def state_dict(self) -> dict[str, Any]:
        return {"means": torch.as_tensor(self.means)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.means = state["means"].numpy().copy()


def _make_env(args: Args, env_kwargs: dict[str, Any], num_envs: int):
    if args.reward_weights:
        raise ValueError(
            "mo-mix learns every preference of the vector reward: --reward-weights does not apply"
        )
    venv = make_vec(args.env, num_envs, **env_kwargs)
    from gymnasium import spaces

    if not isinstance(venv.single_action_space, spaces.Discrete):
        venv.close()
        raise ValueError(f"mo-mix needs a Discrete action space; {args.env!r} has {venv.single_action_space}")
    if len(venv.objectives) < 2:
        venv.close()
        raise ValueError(
            f"mo-mix needs an env with at least two objectives (e.g. --env-kwargs objectives=goals,energy); "
            f"{args.env!r} has {venv.objectives or 'scalar rewards'}"
        )
    return venv


def train(args: Args, on_checkpoint: CheckpointHook | None = None) -> TrainResult:
    """Train MO-MIX (see the module docstring); writes ``front.json`` at the end.

    Raises:
        ValueError: an env without a Discrete action space or with fewer than two objectives.
    """
    run = Run(args, "mo_mix", STRUCTURAL, checkpoint_algo="mo_mix", hooks=[on_checkpoint])
    venv = _make_env(args, run.env_kwargs, args.num_envs)
    E, N, T, K = venv.num_envs, venv.n_agents, args.rollout_steps, len(venv.objectives)
    obs_dim = int(np.prod(venv.single_observation_space.shape))
    state_dim = int(np.prod(venv.state_space.shape))
    n_actions, start = int(venv.single_action_space.n), int(venv.single_action_space.start)
    agent = PreferenceQNetwork(obs_dim, n_actions, K, tuple(args.hidden), N if args.agent_ids else 0)
    mixer = ParallelMixer(args.mixer, N, state_dim, K, args.mixing_embed, args.hypernet_hidden)
    model = QMixModel(agent, mixer)
    optimizer = torch.optim.Adam(list(model.online_parameters()), lr=args.lr)
    replay = ReplayBuffer(args.buffer_size, N, obs_dim, state_dim, reward_shape=(K,))
    grid = weight_grid(K, args.preference_steps)
    guide = ExplorationGuide(grid, args.guide_mix, args.guide_ema, args.guide)
    n_gradient_steps = 0
    if run.data is not None:
        replay.load_state_dict(run.data["replay"])
        guide.load_state_dict(run.data["guide"])
        n_gradient_steps = int(run.data["gradient_steps"])
    spec = {"obs_dim": obs_dim, "n_actions": n_actions, "k": K, "hidden": list(args.hidden),
            "n_agent_ids": N if args.agent_ids else 0, "action_start": start}  # fmt: skip

    def write_policy(path: Path) -> None:
        atomic_torch_save(
            {
                "format": POLICY_FORMAT,
                "algo": "mo_mix",
                "env_id": args.env,
                "env_kwargs": dict(run.env_kwargs),
                "objectives": list(venv.objectives),
                "spec": spec,
                "agent": model.agent.state_dict(),
                "global_step": run.global_step,
            },
            path,
        )

    def checkpoint_state() -> dict[str, Any]:
        return {
            "replay": replay.state_dict(),
            "guide": guide.state_dict(),
            "gradient_steps": n_gradient_steps,
        }

    n_updates = max(1, args.total_steps // (E * T))
    run.start(model, optimizer, n_updates, E * T, f"mo-mix {args.env}", write_policy, checkpoint_state)
    pref = np.zeros(E, dtype=np.int64)

    for update in run.updates():
        if run.new_episodes(update):
            obs_np, _ = venv.reset(seed=run.episode_seed(update))
            state_np = venv.state()
            pref = run.rng.choice(len(grid), size=E, p=guide.probabilities())
        run.anneal_lr(update)
        episode_returns: list[float] = []
        epsilon = epsilon_at(run.global_step, args)
        for _ in range(T):
            epsilon = epsilon_at(run.global_step, args)
            w_agents = torch.as_tensor(grid[pref], dtype=torch.float32)[:, None, :].expand(-1, N, -1)
            with torch.no_grad():
                q = model.agent(torch.as_tensor(obs_np, dtype=torch.float32), w_agents)
            greedy = scalarised_actions(q, w_agents).numpy()
            explore = run.rng.random((E, N)) < epsilon
            actions = np.where(explore, run.rng.integers(0, n_actions, size=(E, N)), greedy)
            next_obs_np, rewards, _, truncations, infos = venv.step(actions + start)
            next_state_np = venv.state()
            final_obs, final_state, team_reward, terminated, truncated = team_transition(
                next_obs_np, next_state_np, rewards, truncations, infos
            )
            replay.add(obs_np, state_np, actions, team_reward, final_obs, final_state, terminated, truncated)
            if infos["_final_obs"].any():
                ids = np.flatnonzero(infos["_final_obs"])
                returns = infos["episode_return"][ids].mean(axis=1)  # (done, K)
                for e, ret in zip(ids, returns):
                    guide.record(int(pref[e]), ret)
                    episode_returns.append(float(ret @ grid[pref[e]]))
                pref[ids] = run.rng.choice(len(grid), size=len(ids), p=guide.probabilities())
            obs_np, state_np = next_obs_np, next_state_np
            run.global_step += E
        stats: dict[str, list[float]] = {}
        if len(replay) >= max(args.learning_starts, args.batch_size):
            probs = guide.probabilities()
            for _ in range(args.gradient_steps):
                batch = replay.sample(args.batch_size, run.rng)
                w = torch.as_tensor(
                    grid[run.rng.choice(len(grid), size=args.batch_size, p=probs)], dtype=torch.float32
                )
                loss, step_stats = mo_td_loss(model, batch, w, args.gamma, args.double_q)
                n_gradient_steps, step_stats["grad_norm"] = optimise(
                    model, optimizer, loss, args, n_gradient_steps
                )
                for key, value in step_stats.items():
                    stats.setdefault(key, []).append(value)
        extra = {f"losses/{k}": float(np.mean(v)) for k, v in stats.items()}
        extra["charts/epsilon"] = epsilon
        run.end_update(update, episode_returns, extra)
    result = run.finish(venv)
    weights = weight_grid(K, args.eval_steps)
    points = pareto_front(result.run_dir / "policy.pt", weights, episodes=args.eval_episodes, seed=args.seed)
    (result.run_dir / "front.json").write_text(
        json.dumps(
            {"objectives": list(venv.objectives), "weights": weights.tolist(), "returns": points.tolist()}
        )
    )
    return result


def load_model(path: str | Path) -> tuple[PreferenceQNetwork, dict[str, Any]]:
    """The conditioned agent network of an MO-MIX ``policy.pt`` and the file's metadata (read
    with ``weights_only=True``: nothing in the file is executed).

    Raises:
        ValueError: the file is not an MO-MIX policy.
    """
    data = safe_load(path)
    if data.get("algo") != "mo_mix":
        raise ValueError(f"{path} is not an MO-MIX policy file (its algo is {data.get('algo')!r})")
    s = data["spec"]
    net = PreferenceQNetwork(s["obs_dim"], s["n_actions"], s["k"], tuple(s["hidden"]), s["n_agent_ids"])
    net.load_state_dict(data["agent"])
    net.eval()
    return net, data


def pareto_front(
    policy: str | Path, weights: np.ndarray, episodes: int = 16, seed: int = 0, **env_kwargs: Any
) -> np.ndarray:
    """Greedy returns of an MO-MIX policy at each preference: ``weights (P, K)`` ->
    ``(P, K)``, each row the mean over ``episodes`` episodes of the per-robot vector return.
    Every preference sees the same episodes (env copies seeded ``seed + i``)."""
    net, data = load_model(policy)
    kwargs = {**data["env_kwargs"], **env_kwargs}
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[1] != net.k:
        raise ValueError(f"weights must have shape (P, {net.k}), got {weights.shape}")
    start = int(data["spec"]["action_start"])
    points = []
    for w in weights:
        venv = make_vec(data["env_id"], episodes, **kwargs)
        obs, _ = venv.reset(seed=seed)
        N = venv.n_agents
        w_agents = torch.as_tensor(w, dtype=torch.float32).expand(episodes, N, -1)
        first = np.full((episodes, net.k), np.nan)  # each copy's first episode
        while np.isnan(first).any():
            with torch.no_grad():
                actions = scalarised_actions(
                    net(torch.as_tensor(obs, dtype=torch.float32), w_agents), w_agents
                )
            obs, _, _, _, infos = venv.step(actions.numpy() + start)
            new = infos["_episode"] & np.isnan(first).any(axis=1)
            if new.any():
                first[new] = infos["episode_return"][new].mean(axis=1)
        returns = first.mean(axis=0)
        venv.close()
        points.append(returns)
    return np.array(points)


def policy_spec(path: str | Path) -> dict[str, Any]:
    """The network spec and metadata of an MO-MIX policy file (without its weights)."""
    _, data = load_model(path)
    return {k: v for k, v in data.items() if k != "agent"}


__all__ = [
    "Args",
    "ExplorationGuide",
    "ParallelMixer",
    "PreferenceQNetwork",
    "load_model",
    "mo_td_loss",
    "pareto_front",
    "policy_spec",
    "scalarised_actions",
    "train",
]
