"""Running statistics for value targets (MAPPO's ValueNorm) and observations.

Shape contract: ``update(x)`` takes ``(B, *shape)`` samples; ``normalize`` / ``denormalize`` keep
the input's shape. Statistics are float64 buffers, so they ride in ``state_dict`` checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn


class ValueNorm(nn.Module):
    """Normalises value targets with a debiased exponential moving mean and variance.

    Args:
        shape: feature shape of a sample (``()`` for scalar values).
        beta: EMA decay per update (MAPPO uses 0.99999 with one update per minibatch; one update
            per rollout needs a faster 0.99 to track a learning agent's returns).
        epsilon: floor of the variance.
    """

    def __init__(self, shape: tuple[int, ...] = (), beta: float = 0.99, epsilon: float = 1e-5) -> None:
        super().__init__()
        if not 0.0 < beta < 1.0:
            raise ValueError(f"beta must lie in (0, 1), got {beta}")
        self.beta = beta
        self.epsilon = epsilon
        self.register_buffer("running_mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("running_mean_sq", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("debiasing_term", torch.zeros((), dtype=torch.float64))

    def mean_var(self) -> tuple[torch.Tensor, torch.Tensor]:
        debias = self.debiasing_term.clamp(min=self.epsilon)
        mean = self.running_mean / debias
        var = (self.running_mean_sq / debias - mean**2).clamp(min=1e-2)
        return mean, var

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        x = x.detach().double().reshape(-1, *self.running_mean.shape)
        self.running_mean.mul_(self.beta).add_(x.mean(dim=0) * (1.0 - self.beta))
        self.running_mean_sq.mul_(self.beta).add_((x**2).mean(dim=0) * (1.0 - self.beta))
        self.debiasing_term.mul_(self.beta).add_(1.0 - self.beta)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        mean, var = self.mean_var()
        return ((x.double() - mean) / var.sqrt()).to(x.dtype)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        mean, var = self.mean_var()
        return (x.double() * var.sqrt() + mean).to(x.dtype)


class RunningMeanStd(nn.Module):
    """Exact running mean and variance (Chan et al.'s parallel update), e.g. for observations.

    Args:
        shape: feature shape of a sample.
        clip: normalised values are limited to ``[-clip, clip]`` (documented, not silent: it
            bounds outliers the statistics have not seen yet).
    """

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, epsilon: float = 1e-8) -> None:
        super().__init__()
        self.clip = clip
        self.epsilon = epsilon
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        x = x.detach().double().reshape(-1, *self.mean.shape)
        batch_mean, batch_var, n = x.mean(dim=0), x.var(dim=0, unbiased=False), x.shape[0]
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean.add_(delta * n / total)
        m2 = self.var * self.count + batch_var * n + delta**2 * self.count * n / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        out = (x.double() - self.mean) / (self.var + self.epsilon).sqrt()
        return out.clamp(-self.clip, self.clip).to(x.dtype)
