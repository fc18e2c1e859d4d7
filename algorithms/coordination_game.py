"""Cooperative matrix games with tabular softmax policies: where correlated (Bayesian-network)
policies reach the optimum that independent policies miss.

Every agent gets the same payoff ``R[a_1, ..., a_n]``. Two policy classes, trained with the exact
policy gradient of the expected payoff ``J = sum_a pi(a) R[a]`` (all joint actions enumerated, so
no sampling noise):

* ``independent``: ``pi(a) = prod_i pi_i(a_i)``, one softmax table per agent;
* ``bayes_net``: ``pi(a) = prod_i pi_i(a_i | a_1 .. a_{i-1})`` on the full DAG in index order,
  one softmax table per agent and parents' joint action (the tabular setting of Chen & Zhang,
  ICML 2023, Sec. 4).

The climbing game (Claus & Boutilier, 1998) is the classic trap: independent learners are drawn to
the safe joint actions (payoff 5 or 7) because the optimum (11) sits next to the worst penalty
(-30); a follower that sees the leader's action best-responds to each and the leader then picks
the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from swarmzoo.envs.coordination import coordination_reward

CLIMBING = np.array([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]])
"""The climbing game (rows: agent 0's action, columns: agent 1's); optimum 11 at (0, 0)."""


@dataclass
class GameResult:
    """Outcome of one tabular training run."""

    expected_payoff: float
    """``J`` of the final policy."""
    best_joint_action: tuple[int, ...]
    """The most likely joint action of the final policy."""
    curve: list[float]
    """``J`` after every step."""


def joint_probabilities(logits: list[torch.Tensor], policy: str, n_actions: int) -> torch.Tensor:
    """``(A,) * n`` joint action probabilities of the tabular policy with these logits."""
    n = len(logits)
    joint = torch.ones(())
    for i, table in enumerate(logits):
        probs = torch.softmax(table, dim=-1)
        if policy == "independent":
            factor = probs.reshape((1,) * i + (n_actions,))
        else:  # bayes_net: table (A^i, A), row = the parents' joint action a_1 .. a_{i-1}
            factor = probs.reshape((n_actions,) * i + (n_actions,))
        joint = joint[..., None] * factor
    return joint.reshape((n_actions,) * n)


def train_tabular(
    payoff: np.ndarray,
    policy: str,
    steps: int = 2000,
    lr: float = 0.5,
    seed: int = 0,
    init_scale: float = 0.1,
) -> GameResult:
    """Exact softmax policy gradient ascent on a common-payoff matrix game.

    Args:
        payoff: ``(A,) * n`` common payoff.
        policy: ``"independent"`` or ``"bayes_net"``.
        steps: gradient steps.
        lr: step size (plain gradient ascent on the logits).
        seed: seed of the small random initial logits.
        init_scale: std of the initial logits (0: uniform policies).
    """
    payoff = np.asarray(payoff, dtype=np.float64)
    if payoff.ndim < 1:
        raise ValueError("payoff must have one axis per agent, got a scalar")
    n, A = payoff.ndim, payoff.shape[0]
    if payoff.shape != (A,) * n:
        raise ValueError(f"payoff must have the same number of actions per agent, got shape {payoff.shape}")
    if policy not in ("independent", "bayes_net"):
        raise ValueError(f"policy must be 'independent' or 'bayes_net', got {policy!r}")
    if steps < 1 or not lr > 0:
        raise ValueError(f"steps must be >= 1 and lr > 0, got {steps}, {lr}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: several threads only contend
    try:
        return _ascend(payoff, policy, steps, lr, seed, init_scale)
    finally:
        torch.set_num_threads(threads)


def _ascend(
    payoff: np.ndarray, policy: str, steps: int, lr: float, seed: int, init_scale: float
) -> GameResult:
    n, A = payoff.ndim, payoff.shape[0]
    gen = torch.Generator().manual_seed(seed)
    rows = [1 if policy == "independent" else A**i for i in range(n)]
    logits = [
        (init_scale * torch.randn(r, A, generator=gen, dtype=torch.float64)).requires_grad_() for r in rows
    ]
    R = torch.as_tensor(payoff)
    curve = []
    for _ in range(steps):
        J = (joint_probabilities(logits, policy, A) * R).sum()
        grads = torch.autograd.grad(J, logits)
        with torch.no_grad():
            for table, g in zip(logits, grads):
                table += lr * g
        curve.append(J.item())
    with torch.no_grad():
        probs = joint_probabilities(logits, policy, A)
        J = float((probs * R).sum())
        best = tuple(int(x) for x in np.unravel_index(int(probs.argmax()), probs.shape))
    return GameResult(expected_payoff=J, best_joint_action=best, curve=curve)


# ---------------------------------------------------------------------------------------------
# The multi-state Markov coordination game (Chen & Zhang, ICML 2023, tabular experiments)
# ---------------------------------------------------------------------------------------------

DAG_KINDS = ("independent", "line", "full", "random")
"""Parent sets over the agents' index order: none (independent policies), the previous agent,
every earlier agent (a fully autoregressive Bayesian network) or each earlier agent with
probability ``edge_prob``."""


def dag_parents(kind: str, n: int, edge_prob: float = 0.5, seed: int = 0) -> tuple[tuple[int, ...], ...]:
    """Parents of every agent for a DAG of this ``kind`` on the index order ``0 .. n-1`` (agents
    act in that order, so a parent always comes first)."""
    if kind not in DAG_KINDS:
        raise ValueError(f"kind must be one of {DAG_KINDS}, got {kind!r}")
    if not 0.0 <= edge_prob <= 1.0:
        raise ValueError(f"edge_prob must lie in [0, 1], got {edge_prob}")
    if kind == "independent":
        return tuple(() for _ in range(n))
    if kind == "line":
        return tuple((i - 1,) if i else () for i in range(n))
    if kind == "full":
        return tuple(tuple(range(i)) for i in range(n))
    rng = np.random.default_rng(seed)
    return tuple(tuple(j for j in range(i) if rng.random() < edge_prob) for i in range(n))


class MarkovCoordinationGame:
    """The multi-state coordination game of the paper's tabular experiments, solved exactly.

    ``n`` agents, binary actions; the state is one bit per agent (``2^n`` states) and each agent's
    next bit copies its action, flipped with probability ``noise``. The common reward depends on
    the state only: with ``z`` zeros and ``o`` ones, 3 if ``z - o > margin`` (a clear majority of
    zeros), 2 if ``o - z > margin``, and inside the margin 1 if ``o > z``, else 0. Independent
    policy gradient can settle on the all-ones convention (2); the optimum is all zeros (3).

    What follows the authors' released tabular code (dchen48/BNPG, read for the game only): the
    dynamics, the reward, the margins ``{2: 1, 3: 1, 5: 2, 10: 3}`` (``round(n / 3)``), noise 0.1,
    discount 0.95, N(0, 1) initial logits, plain gradient steps and the DAG kinds. Our choices:
    the start distribution is uniform over states (a distribution; the released code weights
    each state ``1 / n``, which only rescales the step size: ``lr`` is the released code's step
    ``0.01`` times ``2^n / n`` by default so that the two take the same steps), the exact value
    is solved on the ``2^n`` states instead of state-action pairs (the transition is a Kronecker
    product of per-agent bit flips, applied axis by axis), and the NE gap lets a deviating agent
    condition on what its own policy conditions on (state and parents' actions), so the gap is
    never negative for a BN policy.
    """

    def __init__(self, n: int, noise: float = 0.1, gamma: float = 0.95, margin: int | None = None) -> None:
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or not 2 <= n <= 12:
            raise ValueError(f"n must be an integer in [2, 12] (2^n states and joint actions), got {n!r}")
        if not 0.0 <= noise <= 0.5:
            raise ValueError(f"noise must lie in [0, 0.5], got {noise}")
        if not 0.0 < gamma < 1.0:
            raise ValueError(f"gamma must lie in (0, 1), got {gamma}")
        self.n, self.noise, self.gamma = int(n), float(noise), float(gamma)
        self.margin = max(1, round(n / 3)) if margin is None else int(margin)
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.size = 2**self.n
        codes = np.arange(self.size)
        self.bits = (codes[:, None] >> np.arange(self.n)) & 1
        """``(2^n, n)``: agent ``i``'s bit of joint action / state code ``c`` is ``(c >> i) & 1``."""
        self.reward = coordination_reward(self.bits.sum(1), self.n, self.margin)
        """``(2^n,)`` reward of each state."""
        self.start = np.full(self.size, 1.0 / self.size)
        self._flip = torch.tensor([[1 - noise, noise], [noise, 1 - noise]], dtype=torch.float64)

    def transition(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ T`` for ``x`` of shape ``(..., 2^n)`` over joint actions, ``T[a, s']`` the
        probability of next state ``s'`` after joint action ``a`` (symmetric, so also ``T @ x``)."""
        lead = x.shape[:-1]
        y = x.reshape(*lead, *([2] * self.n))  # axis -1 - i holds bit i
        for axis in range(len(lead), len(lead) + self.n):
            y = torch.movedim(torch.tensordot(y, self._flip, dims=([axis], [0])), -1, axis)
        return y.reshape(*lead, self.size)

    def values(self, joint: torch.Tensor) -> torch.Tensor:
        """``V`` of the joint policy ``joint`` (``(states, joint actions)``, rows sum to 1):
        ``V = r + gamma * pi T V``, solved exactly."""
        P = self.transition(joint)  # (S, S')
        eye = torch.eye(self.size, dtype=torch.float64)
        return torch.linalg.solve(eye - self.gamma * P, torch.as_tensor(self.reward))

    def optimal_value(self) -> float:
        """The centralised optimum ``J*`` (value iteration over joint actions to 1e-10)."""
        r = torch.as_tensor(self.reward)
        V = torch.zeros(self.size, dtype=torch.float64)
        while True:
            new = r + self.gamma * self.transition(V).max()  # the transition ignores the state
            if float((new - V).abs().max()) < 1e-10:
                return float(torch.as_tensor(self.start) @ new)
            V = new


class TabularDAGPolicy:
    """Per-state softmax tables ``pi_i(a_i | s, a_parents(i))`` on a fixed DAG over agents."""

    def __init__(self, game: MarkovCoordinationGame, parents, init_std: float = 1.0, seed: int = 0) -> None:
        if len(parents) != game.n or any(j >= i or j < 0 for i, pa in enumerate(parents) for j in pa):
            raise ValueError(f"parents must give {game.n} tuples of earlier agents, got {parents!r}")
        self.game, self.parents = game, tuple(tuple(pa) for pa in parents)
        gen = torch.Generator().manual_seed(seed)
        self.logits = [
            (
                init_std * torch.randn(game.size, 2 ** len(pa), 2, generator=gen, dtype=torch.float64)
            ).requires_grad_()
            for pa in self.parents
        ]
        # For joint action a: the row of agent i's table (its parents' bits) and its own bit.
        bits = torch.as_tensor(game.bits)
        self._rows = [
            (bits[:, list(pa)] * (2 ** torch.arange(len(pa)))).sum(1)
            if pa
            else torch.zeros(game.size, dtype=torch.long)
            for pa in self.parents
        ]
        self._own = [bits[:, i] for i in range(game.n)]

    def factors(self) -> list[torch.Tensor]:
        """``pi_i(a_i | s, a_parents)`` for every agent as ``(states, joint actions)``."""
        return [
            torch.softmax(t, -1)[:, rows, own] for t, rows, own in zip(self.logits, self._rows, self._own)
        ]

    def joint(self) -> torch.Tensor:
        """``pi(a | s) = prod_i pi_i`` as ``(states, joint actions)``."""
        out = None
        for f in self.factors():
            out = f if out is None else out * f
        return out

    def ne_gap(self, tol: float = 1e-9) -> float:
        """``max_i J(best response of i) - J``: how much one agent gains by deviating alone.

        A deviation of agent ``i`` is a deterministic rule ``(s, a_parents(i)) -> a_i`` (the
        inputs of its own table); the others keep their conditional tables, so agent ``i``'s
        children still react to its action. Each best response is found by policy iteration."""
        game = self.game
        with torch.no_grad():
            factors = self.factors()
            joint = factors[0]
            for f in factors[1:]:
                joint = joint * f
            mu = torch.as_tensor(game.start)
            J = float(mu @ game.values(joint))
            best = -np.inf
            for i in range(game.n):
                # prod_{j != i} pi_j: for each a_i a distribution over the others' actions
                others = torch.ones_like(joint)
                for j, f in enumerate(factors):
                    if j != i:
                        others = others * f
                key = self._rows[i] * 2 + self._own[i]  # (parents' row, own bit) of each joint action
                n_keys = 2 ** len(self.parents[i]) * 2
                rule = torch.zeros(game.size, n_keys // 2, dtype=torch.long)  # a_i per (s, row)
                while True:
                    choose = (rule[:, self._rows[i]] == self._own[i]).to(torch.float64)
                    V = game.values(others * choose)
                    W = game.transition(V)  # (a,): expected next value after joint action a
                    G = torch.zeros(game.size, n_keys, dtype=torch.float64)
                    G.index_add_(1, key, others * W)
                    G = G.reshape(game.size, -1, 2)
                    new = G.argmax(-1)
                    keep = G.gather(-1, rule[..., None]).squeeze(-1) >= G.max(-1).values - tol
                    new = torch.where(keep, rule, new)  # change only on a strict gain: no cycling
                    if torch.equal(new, rule):
                        break
                    rule = new
                best = max(best, float(mu @ V))
        return best - J


@dataclass
class MarkovGameResult:
    """Curves of one exact policy-gradient run on the Markov coordination game."""

    iterations: list[int]
    """Iterations at which the curves were taken (0: the initial policy)."""
    ratio: list[float]
    """``J / J*`` (1: the centralised optimum)."""
    ne_gap: list[float]
    """The NE gap (value units, start distribution uniform)."""
    parents: tuple[tuple[int, ...], ...]
    """The DAG the policy was trained on."""


def train_markov_game(
    game: MarkovCoordinationGame,
    dag: str,
    iterations: int = 2000,
    lr: float | None = None,
    seed: int = 0,
    edge_prob: float = 0.5,
    evaluations: int = 20,
    init_std: float = 1.0,
) -> MarkovGameResult:
    """Exact policy gradient ascent (``torch.autograd`` through the exact value) on ``game``
    with tabular policies on the DAG ``dag`` (one of :data:`DAG_KINDS`).

    Args:
        lr: gradient step on ``J``; default ``0.01 * 2^n / n`` (the released code's step, see
            :class:`MarkovCoordinationGame`).
        seed: seeds the initial logits and, for ``dag="random"``, the DAG.
        evaluations: NE-gap evaluations, spaced geometrically over the run (plus the start;
            the last step is always evaluated).
    """
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an integer >= 1, got {iterations!r}")
    lr = 0.01 * game.size / game.n if lr is None else lr
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not isinstance(evaluations, int) or evaluations < 1:
        raise ValueError(f"evaluations must be an integer >= 1, got {evaluations!r}")
    parents = dag_parents(dag, game.n, edge_prob, seed)
    policy = TabularDAGPolicy(game, parents, init_std=init_std, seed=seed)
    at = sorted({0, iterations, *np.geomspace(1, iterations, evaluations).round().astype(int).tolist()})
    j_star = game.optimal_value()
    mu = torch.as_tensor(game.start)
    out = MarkovGameResult([], [], [], parents)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for it in range(iterations + 1):
            if it in at:
                with torch.no_grad():
                    out.iterations.append(it)
                    out.ratio.append(float(mu @ game.values(policy.joint())) / j_star)
                    out.ne_gap.append(policy.ne_gap())
            if it == iterations:
                break
            J = mu @ game.values(policy.joint())
            grads = torch.autograd.grad(J, policy.logits)
            with torch.no_grad():
                for t, g in zip(policy.logits, grads):
                    t += lr * g
    finally:
        torch.set_num_threads(threads)
    return out
