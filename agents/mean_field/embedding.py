"""The upper level's input in mean-field control (Dec-POMFC): the swarm's distribution ``mu_t``
as a fixed-size vector.

A :class:`~swarmzoo.envs.core.collective.MeanField` (the robots' states and the box they live
in, from ``task.mean_field()``) becomes either its **kernel mean embedding** at fixed Gaussian
RBF centres on a grid over the box (:class:`KernelEmbedding`, periodic distance on a torus axis
or an angle) or a hard histogram on the same grid (:class:`HistogramEmbedding`, for comparison).
Both are divided by the uniform distribution's value, so features are ~1, and both serve every
swarm size. Policy files store an embedding as a plain config (:func:`embedding_config`,
:func:`make_embedding`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swarmzoo.envs.core.collective import MeanField


def grid_size(budget: int, n_features: int) -> int:
    """Centres per feature of a grid of at most ``budget`` centres over ``n_features`` features."""
    per = int(np.floor(budget ** (1.0 / n_features) + 1e-9))
    if per < 2:
        raise ValueError(
            f"mf_centres={budget} gives fewer than 2 centres per feature for a mean field of "
            f"{n_features} features: use at least {2**n_features}"
        )
    return per


class KernelEmbedding:
    """Kernel mean embedding of a swarm's distribution at fixed RBF centres.

    Coordinates are rescaled to ``[0, 1]`` from the :class:`MeanField`'s box, so one embedding
    serves every swarm size (the arena grows with ``N``). Per feature, ``c`` centres sit at
    ``(k + 1/2) / c``; the kernel is a product of 1-D Gaussians of width ``bandwidth / c``, with
    the wrapped distance on periodic features. The embedding

        ``phi_b(mu) = (1/N) sum_i prod_s k_s(x_{i,s}, x_{b,s}) / phi_b(uniform)``

    is permutation-invariant, linear in ``mu`` and smooth in the robots' states.
    """

    def __init__(self, periodic: np.ndarray, per_feature: int, bandwidth: float = 1.0) -> None:
        self.periodic = np.asarray(periodic, dtype=bool)
        self.per_feature = int(per_feature)
        self.sigma = float(bandwidth) / self.per_feature
        if not bandwidth >= 0.05:
            raise ValueError(
                f"mf_bandwidth={bandwidth} must be >= 0.05 grid spacings (narrower kernels miss most robots)"
            )
        self.centres = (np.arange(self.per_feature) + 0.5) / self.per_feature
        # Each feature's kernel averaged over a uniform coordinate: the uniform swarm's embedding.
        fine = (np.arange(4096) + 0.5) / 4096
        self._uniform = [self._kernel_1d(fine, p).mean(axis=0) for p in self.periodic]

    @property
    def size(self) -> int:
        return self.per_feature ** len(self.periodic)

    def _kernel_1d(self, u: np.ndarray, periodic: bool) -> np.ndarray:
        """``(...,)`` coordinates in [0, 1] -> ``(..., c)`` kernel values at the centres."""
        d = np.abs(u[..., None] - self.centres)
        if periodic:
            d = np.minimum(d, 1.0 - d)
        return np.exp(-0.5 * (d / self.sigma) ** 2)

    def __call__(self, mf: MeanField) -> np.ndarray:
        """``(E, M)`` float32 embedding of each copy's swarm. A robot outside the box on a
        non-periodic feature (an open arena, a heavy-tailed frequency) counts at the box's edge,
        as in the histogram."""
        E, N, S = mf.samples.shape
        if S != len(self.periodic):
            raise ValueError(f"embedding built for {len(self.periodic)} features, mean field has {S}")
        u = (mf.samples - mf.low) / (mf.high - mf.low)
        u = np.where(self.periodic, np.mod(u, 1.0), np.clip(u, 0.0, 1.0))
        kernels = [self._kernel_1d(u[..., s], self.periodic[s]) / self._uniform[s] for s in range(S)]
        # sum_i prod_s k_s[i, b_s]: one contraction over robots, never an (E, N, c^S) array.
        letters = "abcdefghijklmnopqrstuvwxyz"[:S]
        spec = ",".join(f"en{a}" for a in letters) + f"->e{letters}"
        out = np.einsum(spec, *kernels, optimize=True).reshape(E, -1)
        return (out / N).astype(np.float32)


class HistogramEmbedding:
    """Hard histogram of the swarm on a regular grid, relative to the uniform distribution."""

    def __init__(self, n_features: int, per_feature: int) -> None:
        self.n_features = n_features
        self.per_feature = int(per_feature)

    @property
    def size(self) -> int:
        return self.per_feature**self.n_features

    def __call__(self, mf: MeanField) -> np.ndarray:
        if mf.samples.shape[-1] != self.n_features:
            raise ValueError(
                f"histogram built for {self.n_features} features, mean field has {mf.samples.shape[-1]}"
            )
        return (mf.histogram(self.per_feature) * self.size).astype(np.float32)


def make_embedding(config: dict[str, Any]) -> KernelEmbedding | HistogramEmbedding:
    """An embedding from its plain config (as stored in policy files): ``representation``,
    ``periodic`` (per feature), ``per_feature`` and ``bandwidth``."""
    if config["representation"] == "kernel":
        return KernelEmbedding(np.asarray(config["periodic"]), config["per_feature"], config["bandwidth"])
    if config["representation"] == "histogram":
        return HistogramEmbedding(len(config["periodic"]), config["per_feature"])
    raise ValueError(f"unknown mean-field representation {config['representation']!r}: kernel or histogram")


def embedding_config(mf: MeanField, representation: str, centres: int, bandwidth: float) -> dict[str, Any]:
    """The plain config of an embedding of ``mf``'s features: ``representation`` ("kernel" or
    "histogram"), a grid of at most ``centres`` centres (:func:`grid_size`), kernel width
    ``bandwidth`` in grid spacings."""
    return {
        "representation": representation,
        "periodic": [bool(p) for p in mf.periodic],
        "per_feature": grid_size(centres, len(mf.names)),
        "bandwidth": float(bandwidth),
    }
