"""Bayesian-network joint policies: robots' actions correlated through a DAG over the robots.

Reference: Chen & Zhang, "Context-Aware Bayesian Network Actor-Critic Methods for Cooperative
Multi-Agent Reinforcement Learning" (ICML 2023); their public code is dchen48/BNPG (a CUDA-only
MAPPO fork for SMAC), which this is written after but not copied from.

The joint policy factorises over a DAG ``G`` on the N robots::

    pi(a | o) = prod_i pi_i(a_i | o_i, a_parents(i))

* **Acyclic by construction.** Robots are ranked by a topological order (the robot index by
  default); an edge ``j -> i`` (``G[j, i] = 1``: ``j`` is a parent of ``i``) may exist only when
  ``j`` ranks before ``i``. The allowed pairs are a strictly upper-triangular mask in rank order,
  optionally restricted further to pairs within communication range.
* **Context-conditioned edges.** An edge network maps the context (the joint observation) to two
  logits per ordered pair; edges are drawn with straight-through hard Gumbel-softmax (0/1 values
  forward, the soft sample's gradient backward), or taken as the argmax at evaluation.
* **Parents' actions in fixed slots.** Robot ``i``'s network input is its observation and an
  ``N x A`` block holding each robot's one-hot action multiplied by ``G[j, i]``: zero unless ``j``
  is a parent, so sizes never change and a non-parent's action cannot reach ``i`` (nor its
  gradient).
* **Sampling level by level.** A robot's level is one more than its parents' highest (0 without
  parents). All robots of a level act in one batched forward pass, so a step costs
  ``depth(G) + 1`` passes, not ``N``; an empty graph is one pass, like independent policies.
* **Log-probabilities in one pass.** Given the actions taken, every factor ``pi_i(a_i | o_i,
  a_parents(i))`` is evaluated at once (the parents' actions are known), and the joint
  log-probability is their sum.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn
from torch.distributions import Categorical

from swarmzoo.agents.networks import episode_starts, mlp
from swarmzoo.envs.core.arena import min_image


def allowed_edges(n_agents: int, order: torch.Tensor | None = None) -> torch.Tensor:
    """``(N, N)`` bool mask of the edges ``j -> i`` a topological order allows: ``j`` ranks
    strictly before ``i``. ``order`` lists the robots from first to last (default ``0..N-1``)."""
    if order is None:
        order = torch.arange(n_agents)
    order = torch.as_tensor(order, dtype=torch.long)
    if sorted(order.tolist()) != list(range(n_agents)):
        raise ValueError(f"order must be a permutation of 0..{n_agents - 1}, got {order.tolist()}")
    rank = torch.empty(n_agents, dtype=torch.long)
    rank[order] = torch.arange(n_agents)
    return rank[:, None] < rank[None, :]


def gumbel_edges(
    logits: torch.Tensor,
    tau: float = 1.0,
    hard: bool = True,
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Edge indicators from ``(..., 2)`` logits (index 1 = edge present): straight-through hard
    Gumbel-softmax, values exactly 0/1 with the soft sample's gradient. ``noise`` (uniform in
    (0, 1), the logits' shape) replays a draw: the same noise and logits give the same edges."""
    u = torch.rand(logits.shape, generator=generator) if noise is None else noise
    u = u.clamp(1e-10, 1.0 - 1e-10)
    soft = torch.softmax((logits - torch.log(-torch.log(u))) / tau, dim=-1)[..., 1]
    if not hard:
        return soft
    return (soft > 0.5).to(soft.dtype) + (soft - soft.detach())  # exactly 0/1 forward


def levels(graph: torch.Tensor) -> torch.Tensor:
    """``(B, N)`` level of each robot in DAGs ``graph (B, N, N)`` (``graph[b, j, i]``: j -> i):
    0 without parents, else one more than the highest parent's level.

    Raises:
        ValueError: a graph with a cycle.
    """
    B, N, _ = graph.shape
    parent = graph > 0.5
    level = torch.zeros(B, N, dtype=torch.long)
    if N == 0:
        return level
    for _ in range(N):
        # level(i) = max over parents j of level(j) + 1; a fixed point after depth(G) rounds.
        cand = torch.where(parent, level[:, :, None] + 1, torch.zeros((), dtype=torch.long)).amax(dim=1)
        if torch.equal(cand, level):
            return level
        level = cand
    raise ValueError("the graph has a cycle")


class BayesNetActor(nn.Module):
    """A shared-parameter BN actor for N robots with discrete actions.

    Args:
        obs_dim: observation size D.
        n_actions: discrete actions A.
        n_agents: robots N (the parent slots and the joint edge network are sized for it).
        hidden: hidden layer sizes of the actor and the edge network.
        order: the topological order (robot indices, first to last); default ``0..N-1``; or
            ``"learned"``: a permutation drawn each step by Gumbel-Sinkhorn from learned
            robot-by-position logits, made hard with the Hungarian algorithm (straight-through),
            so the allowed pairs ``P M P^T`` change with the draw and stay acyclic.
        context: ``"joint"``: one edge network reads the joint observation and scores every pair
            (BNPG's choice; executing it needs every robot's observation); ``"pairwise"``: a shared
            network scores the pair ``j -> i`` from ``(o_j, o_i)`` alone, so with a communication
            mask a robot needs only its neighbours' observations and actions.
        edge_prob: the random-DAG ablation: no edge network; every pair the order (and the
            communication mask) allows is an edge with this probability, drawn afresh every step,
            at execution too (``deterministic`` then fixes only the actions). Correlation without
            context: what the learned, context-aware graph is compared against.
        recurrent: a GRU of this size (0: none) between a robot's observation and its factor:
            ``MLP -> GRUCell`` gives each robot a memory ``h_i`` (:meth:`memory`), and the factor
            reads ``(h_i, parents' actions)`` instead of ``(o_i, parents' actions)``, as the
            paper's partially observed (recurrent) runs. The edge network still reads the current
            observations.
    """

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        n_agents: int,
        hidden: tuple[int, ...] = (64, 64),
        order: torch.Tensor | str | None = None,
        context: str = "joint",
        edge_prob: float | None = None,
        recurrent: int = 0,
    ) -> None:
        super().__init__()
        if context not in ("joint", "pairwise"):
            raise ValueError(f"context must be 'joint' or 'pairwise', got {context!r}")
        if edge_prob is not None and not 0.0 <= edge_prob <= 1.0:
            raise ValueError(f"edge_prob must lie in [0, 1], got {edge_prob}")
        self.obs_dim, self.n_actions, self.n_agents, self.context = obs_dim, n_actions, n_agents, context
        self.edge_prob = None if edge_prob is None else float(edge_prob)
        if recurrent < 0 or (recurrent and not hidden):
            raise ValueError(f"recurrent must be >= 0 (with at least one hidden layer), got {recurrent}")
        self.recurrent = int(recurrent)
        if self.recurrent:
            *inner, last = hidden
            self.encoder = nn.Sequential(mlp(obs_dim, tuple(inner), last, np.sqrt(2)), nn.Tanh())
            self.gru = nn.GRUCell(last, self.recurrent)
        factor_in = self.recurrent if self.recurrent else obs_dim
        self.actor = mlp(factor_in + n_agents * n_actions, tuple(hidden), n_actions, 0.01)
        if self.edge_prob is not None:
            self.edge_net = None  # the ablation's edges do not depend on the observations
        elif context == "joint":
            self.edge_net = mlp(n_agents * obs_dim, tuple(hidden), n_agents * n_agents * 2, 0.01)
        else:
            self.edge_net = mlp(2 * obs_dim, tuple(hidden), 2, 0.01)
        self.learned_order = isinstance(order, str)
        if self.learned_order and order != "learned":
            raise ValueError(f"order must be robot indices or 'learned', got {order!r}")
        self.register_buffer("allowed", allowed_edges(n_agents, None if self.learned_order else order))
        if self.learned_order:
            self.order_logits = nn.Parameter(torch.zeros(n_agents, n_agents))  # [robot, position]

    def order_mask(
        self, batch: int, deterministic: bool = False, noise: torch.Tensor | None = None, iters: int = 20
    ) -> torch.Tensor:
        """``(B, N, N)`` pairs ``j -> i`` the topological order allows (``j`` placed before
        ``i``): the fixed mask, or for a learned order ``P M P^T`` with ``P`` a Gumbel-Sinkhorn
        permutation (``noise (B, N, N)`` uniform replays a draw; none when ``deterministic``),
        exactly 0/1 forward with the Sinkhorn matrix's gradient."""
        if not self.learned_order:
            return self.allowed.to(torch.float32).expand(batch, -1, -1)
        log_alpha = self.order_logits.expand(batch, -1, -1)
        if not deterministic:
            u = torch.rand(log_alpha.shape) if noise is None else noise
            log_alpha = log_alpha - torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-10)))
        for _ in range(iters):  # Sinkhorn: alternate row and column normalisation in log space
            log_alpha = log_alpha - torch.logsumexp(log_alpha, dim=-1, keepdim=True)
            log_alpha = log_alpha - torch.logsumexp(log_alpha, dim=-2, keepdim=True)
        soft = log_alpha.exp()
        hard = torch.zeros_like(soft)
        for b, cost in enumerate(soft.detach().numpy()):
            rows, cols = linear_sum_assignment(-cost)
            hard[b, torch.as_tensor(rows), torch.as_tensor(cols)] = 1.0
        perm = hard + (soft - soft.detach())  # [robot, position]
        upper = torch.triu(torch.ones(self.n_agents, self.n_agents), diagonal=1)
        return perm @ upper @ perm.transpose(-1, -2)

    # -- the graph ------------------------------------------------------------------------------

    def edge_logits(self, obs: torch.Tensor) -> torch.Tensor:
        """``(B, N, D)`` observations -> ``(B, N, N, 2)`` logits of the edges ``j -> i``."""
        if self.edge_net is None:
            raise ValueError("a random-DAG actor (edge_prob set) has no edge network")
        B, N, D = obs.shape
        if self.context == "joint":
            return self.edge_net(obs.reshape(B, -1)).reshape(B, N, N, 2)
        pairs = torch.cat(
            [obs[:, :, None, :].expand(B, N, N, D), obs[:, None, :, :].expand(B, N, N, D)], dim=-1
        )
        return self.edge_net(pairs)  # [b, j, i] from (o_j, o_i)

    def sample_graph(
        self,
        obs: torch.Tensor,
        deterministic: bool = False,
        comm_mask: torch.Tensor | None = None,
        tau: float = 1.0,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
        order_noise: torch.Tensor | None = None,
        return_mask: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``(B, N, N)`` DAGs (``[b, j, i]``: j is a parent of i): Gumbel samples (replayed from
        ``noise (B, N, N, 2)`` and, for a learned order, ``order_noise (B, N, N)``), or the argmax
        graph if ``deterministic``; only pairs the order allows (and, with ``comm_mask (B, N, N)``,
        pairs within communication range) can be edges. ``return_mask`` also returns that pair
        mask (for :meth:`density`). A random-DAG actor (``edge_prob``) draws each allowed pair
        with that probability (from ``noise[..., 1]`` or ``generator``), deterministic or not."""
        if self.edge_prob is not None:
            B, N = obs.shape[:2]
            u = noise[..., 1] if noise is not None else torch.rand((B, N, N), generator=generator)
            edges = (u < self.edge_prob).to(obs.dtype)
        elif deterministic:
            logits = self.edge_logits(obs)
            edges = (logits[..., 1] > logits[..., 0]).to(obs.dtype)
        else:
            edges = gumbel_edges(self.edge_logits(obs), tau, hard=True, generator=generator, noise=noise)
        mask = self.order_mask(obs.shape[0], deterministic, order_noise).to(obs.dtype)
        if comm_mask is not None:
            mask = mask * comm_mask.to(obs.dtype)
        graph = edges * mask
        return (graph, mask) if return_mask else graph

    def density(self, graph: torch.Tensor, pair_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Fraction of the possible edges present: ``pair_mask`` (from ``sample_graph(...,
        return_mask=True)``) are the possible pairs, by default those of the fixed order.
        Differentiable through straight-through edges."""
        mask = self.allowed.to(graph.dtype).expand_as(graph) if pair_mask is None else pair_mask
        return graph.sum() / mask.detach().sum().clamp(min=1.0)

    # -- memory (recurrent actors) --------------------------------------------------------------

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero memories ``(batch, N, recurrent)``."""
        return torch.zeros(batch, self.n_agents, self.recurrent)

    def memory(self, obs: torch.Tensor, h: torch.Tensor, start: torch.Tensor | None = None) -> torch.Tensor:
        """One step of every robot's memory: ``obs (B, N, D)``, ``h (B, N, H)``; ``start (B,)`` 1
        where an episode starts at this step (its memories are zeroed first)."""
        if not self.recurrent:
            raise ValueError("this BN actor has no memory (recurrent=0)")
        B, N, _ = obs.shape
        if start is not None:
            h = h * (1.0 - start.to(h.dtype))[:, None, None]
        x = self.encoder(obs).reshape(B * N, -1)
        return self.gru(x, h.reshape(B * N, -1)).reshape(B, N, -1)

    def unroll_memory(self, obs: torch.Tensor, h0: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """Memories ``(T, B, N, H)`` of a stored sequence ``obs (T, B, N, D)`` from ``h0 (B, N,
        H)``, with ``starts (T, B)`` as in :meth:`memory` (gradients flow through time)."""
        h, out = h0, []
        for t in range(obs.shape[0]):
            h = self.memory(obs[t], h, starts[t])
            out.append(h)
        return torch.stack(out)

    # -- the factors ----------------------------------------------------------------------------

    def factors(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        graph: torch.Tensor,
        memory: torch.Tensor | None = None,
    ) -> Categorical:
        """Every robot's factor ``pi_i(. | o_i, a_parents(i))`` (recurrent: ``(h_i,
        a_parents(i))`` with ``memory (B, N, H)``) given all robots' ``actions (B, N)`` (only
        parents' entries are read) and ``graph (B, N, N)``: a ``(B, N)`` Categorical."""
        B, N = actions.shape
        if self.recurrent and memory is None:
            raise ValueError("a recurrent BN actor needs the robots' memory (see memory())")
        own = memory if self.recurrent else obs
        onehot = nn.functional.one_hot(actions.long(), self.n_actions).to(obs.dtype)  # (B, N_j, A)
        slots = graph[..., None] * onehot[:, :, None, :]  # (B, N_j, N_i, A): j's action for i
        slots = slots.permute(0, 2, 1, 3).reshape(B, N, N * self.n_actions)
        return Categorical(logits=self.actor(torch.cat([own, slots], dim=-1)))

    def log_prob(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        graph: torch.Tensor,
        memory: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(B, N)`` per-robot log-factors; their sum over robots is the joint log-probability."""
        return self.factors(obs, actions, graph, memory).log_prob(actions.long())

    @torch.no_grad()
    def act(
        self,
        obs: torch.Tensor,
        graph: torch.Tensor,
        deterministic: bool = False,
        generator: torch.Generator | None = None,
        memory: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(B, N)`` actions drawn in topological order, one batched pass per DAG level."""
        B, N, _ = obs.shape
        level = levels(graph)
        actions = torch.zeros(B, N, dtype=torch.long)
        for lv in range(int(level.max()) + 1):
            dist = self.factors(obs, actions, graph, memory)
            if deterministic:
                chosen = dist.probs.argmax(-1)
            else:
                flat = dist.probs.reshape(-1, self.n_actions)
                chosen = torch.multinomial(flat, 1, generator=generator).reshape(B, N)
            here = level == lv
            actions = torch.where(here, chosen, actions)
        return actions


def comm_mask(task: Any, comm_range: float) -> torch.Tensor:
    """``(E, N, N)`` pairs of robots within ``comm_range`` of each other, from the task's
    positions ``task.pos (E, N, 2)`` and arena (torus distances where the arena wraps)."""
    if not hasattr(task, "pos") or not hasattr(task, "arena"):
        raise ValueError("a communication range needs a task with robot positions (task.pos, task.arena)")
    pos = np.asarray(task.pos)
    delta = min_image(pos[:, None, :, :] - pos[:, :, None, :], task.arena)
    return torch.as_tensor((delta**2).sum(-1) <= comm_range**2)


class BayesNetPolicy:
    """A trained BN policy: ``act(obs (E, N, D), task)``. The argmax DAG of the edge network
    (with a ``comm_range``, only pairs within it, from the task's positions), then each robot's
    most likely action (or a seeded draw), level by level. With an empty DAG (annealing's goal)
    every robot acts on its own observation alone."""

    def __init__(
        self,
        actor: BayesNetActor,
        comm_range: float | None = None,
        deterministic: bool = True,
        seed: int | None = None,
    ) -> None:
        self.actor = actor.eval()
        self.comm_range = comm_range
        self.deterministic = deterministic
        self.generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
        self.hidden: torch.Tensor | None = None  # recurrent actors: every robot's memory

    @torch.no_grad()
    def act(self, obs: np.ndarray, task: Any = None) -> np.ndarray:
        x = torch.as_tensor(np.asarray(obs), dtype=torch.float32)
        if x.ndim != 3 or x.shape[1:] != (self.actor.n_agents, self.actor.obs_dim):
            raise ValueError(
                f"this BN policy takes observations (E, {self.actor.n_agents}, {self.actor.obs_dim}) "
                f"(it was trained on {self.actor.n_agents} robots), got {tuple(x.shape)}"
            )
        memory = self._remember(x, task) if self.actor.recurrent else None
        mask = comm_mask(task, self.comm_range) if self.comm_range is not None else None
        graph = self.actor.sample_graph(x, deterministic=True, comm_mask=mask, generator=self.generator)
        actions = self.actor.act(
            x, graph, deterministic=self.deterministic, generator=self.generator, memory=memory
        )
        return actions.numpy().astype(np.int64)

    def _remember(self, x: torch.Tensor, task: Any) -> torch.Tensor:
        """Advance the robots' memories; a copy whose ``task.steps`` is 0 starts afresh."""
        E = x.shape[0]
        start = episode_starts(task, E)
        if self.hidden is None or self.hidden.shape[0] != E:
            self.hidden, start = self.actor.initial_state(E), torch.ones(E)
        self.hidden = self.actor.memory(x, self.hidden, start)
        return self.hidden


def load_bayes_net_policy(
    data: dict[str, Any], deterministic: bool = True, seed: int | None = None
) -> BayesNetPolicy:
    """The policy of a BN policy file (already read with ``safe_load``)."""
    cfg = data["actor_config"]
    order = cfg.get("order")
    actor = BayesNetActor(
        cfg["obs_dim"],
        cfg["n_actions"],
        cfg["n_agents"],
        tuple(cfg["hidden"]),
        order=order if order is None or order == "learned" else torch.as_tensor(order),
        context=cfg["context"],
        edge_prob=cfg.get("edge_prob"),
        recurrent=int(cfg.get("recurrent", 0)),
    )
    actor.load_state_dict(data["actor"])
    comm_range = float(data["comm_range"]) if cfg["context"] == "pairwise" else None
    return BayesNetPolicy(actor, comm_range, deterministic, seed)
