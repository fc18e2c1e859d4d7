"""ValueNorm and RunningMeanStd track the statistics of what they see and invert exactly."""

from __future__ import annotations

import pytest
import torch

from swarmzoo.agents.normalization import RunningMeanStd, ValueNorm


def test_value_norm_tracks_mean_and_std_and_round_trips() -> None:
    norm = ValueNorm((), beta=0.9)
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        norm.update(5.0 + 3.0 * torch.randn(512, generator=g))
    mean, var = norm.mean_var()
    assert mean.item() == pytest.approx(5.0, abs=0.2)
    assert var.sqrt().item() == pytest.approx(3.0, abs=0.2)
    x = torch.tensor([-4.0, 0.0, 11.0])
    assert torch.allclose(norm.denormalize(norm.normalize(x)), x, atol=1e-5)
    z = norm.normalize(5.0 + 3.0 * torch.randn(4096, generator=g))
    assert abs(z.mean().item()) < 0.15 and abs(z.std().item() - 1.0) < 0.15


def test_value_norm_is_debiased_after_one_update() -> None:
    norm = ValueNorm(())
    norm.update(torch.full((10,), 7.0))
    assert norm.mean_var()[0].item() == pytest.approx(7.0)


def test_running_mean_std_matches_batch_statistics() -> None:
    rms = RunningMeanStd((3,))
    g = torch.Generator().manual_seed(1)
    chunks = [torch.randn(n, 3, generator=g) * torch.tensor([1.0, 2.0, 5.0]) + 1.0 for n in (7, 50, 300)]
    for c in chunks:
        rms.update(c)
    allx = torch.cat(chunks).double()
    assert torch.allclose(rms.mean, allx.mean(0), atol=1e-3)
    assert torch.allclose(rms.var, allx.var(0, unbiased=False), rtol=1e-3)
    assert rms.normalize(torch.full((1, 3), 1e9)).max().item() == rms.clip


def test_value_norm_rejects_bad_beta() -> None:
    with pytest.raises(ValueError, match="beta"):
        ValueNorm((), beta=1.0)
