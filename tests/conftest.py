"""Shared test setup: pygame stays headless, so ``human`` and ``rgb_array`` render anywhere."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

try:
    from hypothesis import settings

    # No example database on disk (nothing written outside tests), no flaky timing deadlines.
    settings.register_profile("swarmzoo", database=None, deadline=None)
    settings.load_profile("swarmzoo")
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    pass
