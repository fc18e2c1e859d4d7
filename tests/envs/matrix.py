"""The conformance matrix: cheap kwargs configs for every registered env id, and the helpers the
per-env test files share (seeded random actions, rollouts, trace comparison, image maps).

``test_conformance.py`` runs PettingZoo's own test utilities and the face checks over
:data:`CASES`; ``test_conformance.py::test_matrix_covers_every_registered_env`` fails when an env
is registered without entries here. Configs come from the per-env files' former PARAMS lists
(navigation, coverage, swarming, byzantine) and their api tests (aloha, coordination).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import swarmzoo

# -- coverage image maps ---------------------------------------------------------------------------

# Image maps are written per session; configs name them by these placeholders.
GRAY, RGB = "<gray image>", "<rgb image>"
GAUSSIANS = ((-0.5, 0.5, 0.2, 1.0), (0.4, -0.3, 0.3, 0.5))
# Robots of these configs run out of battery at different steps within the tests' cycles:
# continuous: a fraction 0.02 + 0.08 |a|^2 of the battery per step (|a|^2 in [0, 2]);
# discrete: 0.05 coasting, 0.15 moving.
BATTERY_CONTINUOUS = dict(battery=0.05, continuous_actions=True)
BATTERY_DISCRETE = dict(battery=0.02, idle_cost=0.001, accel_cost=0.002, continuous_actions=False)


def write_images(folder: Path) -> dict[str, str]:
    """A grayscale and an RGB PNG map (non-square, structured) in ``folder``, by placeholder."""
    import imageio.v3 as iio

    y, x = np.mgrid[0:24, 0:40]
    gray = np.clip(255 * np.exp(-((x - 30) ** 2 + (y - 6) ** 2) / 40.0) + 20 * (x < 8), 0, 255)
    rgb = np.stack([gray, np.roll(gray, 10, axis=1), 255 - gray], axis=-1)
    paths = {GRAY: folder / "gray.png", RGB: folder / "rgb.png"}
    iio.imwrite(paths[GRAY], gray.astype(np.uint8))
    iio.imwrite(paths[RGB], rgb.astype(np.uint8))
    return {k: str(v) for k, v in paths.items()}


def resolve(kwargs: dict, images: dict[str, str]) -> dict:
    """``kwargs`` with image placeholders replaced by the session's files."""
    return {k: images.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}


# -- the matrix ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One env id with one kwargs config, and how many cycles each PettingZoo check runs."""

    env_id: str
    name: str
    kwargs: dict
    parallel_cycles: int = 20
    aec_cycles: int = 20
    seed_parallel_cycles: int = 20
    seed_aec_cycles: int = 20
    state_cycles: int = 10
    # Large swarms skip the per-step-heavy checks (max_cycles, render, rollouts, pickling).
    small: bool = True
    marks: tuple = field(default=())

    @property
    def id(self) -> str:
        return f"{self.env_id}-{self.name}"

    def param(self) -> pytest.param:
        return pytest.param(self, id=self.id, marks=self.marks)


def _navigation() -> list[Case]:
    configs = {
        "n1": dict(n_agents=1),
        "n2": dict(n_agents=2),
        "n5": dict(n_agents=5),
        "n17": dict(n_agents=17),
        "obstacles": dict(n_agents=4, n_obstacles=3),
        "non_square": dict(n_agents=3, arena_width=4.0, arena_height=2.0),
        "torus": dict(n_agents=5, boundary="torus", n_obstacles=2),
        "open_plane": dict(n_agents=3, boundary="none"),
        "sensing": dict(n_agents=6, sensing_radius=0.5, k_robots=4, k_goals=2),
        "more_goals": dict(n_agents=2, n_goals=4, k_goals=5),
        "continuous": dict(n_agents=3, continuous_actions=True),
        "continuous_obstacles_torus": dict(
            n_agents=4, n_obstacles=2, boundary="torus", continuous_actions=True
        ),
        "terminate_on_success": dict(n_agents=2, goal_radius=0.6, terminate_on_success=True),
        "mpe_spread": dict(preset="mpe_spread"),
        "mpe_spread_continuous": dict(preset="mpe_spread", n_agents=4, continuous_actions=True),
    }
    c = 30
    return [Case("navigation-v0", name, kw, c, c, c, c, state_cycles=10) for name, kw in configs.items()]


# Coverage: PettingZoo's warnings about dead agents fail the test.
COVERAGE_MARKS = (
    pytest.mark.filterwarnings("error:Live agent was not given:UserWarning"),
    pytest.mark.filterwarnings("error:Agent was given .* but was dead:UserWarning"),
    pytest.mark.filterwarnings("error:No agents present:UserWarning"),
)


def _coverage_configs() -> dict[str, dict]:
    """coverage-v0's configs: every size and action kind, every shipped map, image maps,
    Gaussians, odd arenas, batteries, W2 settings."""
    from swarmzoo.envs.core.density import MAPS

    base = {
        f"n{n}_{'continuous' if cont else 'discrete'}": dict(n_agents=n, continuous_actions=cont)
        for n in (1, 2, 8, 64)
        for cont in (False, True)
    }
    extra = {
        **{f"map_{m}": dict(n_agents=5, map=m) for m in MAPS},
        "map_ring_continuous": dict(n_agents=3, map="ring", continuous_actions=True),
        "image_gray": dict(n_agents=4, map=GRAY),
        "image_rgb_continuous": dict(n_agents=4, map=RGB, continuous_actions=True),
        "image_rgb_non_square": dict(n_agents=6, map=RGB, arena_width=3.0, arena_height=1.2),
        "gaussians": dict(n_agents=6, gaussians=GAUSSIANS),
        "gaussians_non_square_continuous": dict(
            n_agents=7,
            gaussians=GAUSSIANS,
            arena_width=1.0,
            arena_height=2.5,
            map_resolution=40,
            continuous_actions=True,
        ),
        "non_square_wide": dict(n_agents=9, arena_width=4.0, arena_height=2.0),
        "non_square_tall_continuous": dict(
            n_agents=5, map="disaster", arena_width=1.0, arena_height=3.0, continuous_actions=True
        ),
        "battery_continuous": dict(n_agents=6, **BATTERY_CONTINUOUS),
        "battery_discrete": dict(n_agents=5, **BATTERY_DISCRETE),
        "battery_n1": dict(n_agents=1, **BATTERY_CONTINUOUS),
        "done_fraction": dict(n_agents=64, map="uniform", done_fraction=0.05),
        "w2_every": dict(n_agents=3, w2_every=4),
        "bare_observation": dict(n_agents=4, k_robots=0, crop_size=1),
        "wide_crop_many_neighbours": dict(n_agents=3, crop_size=15, crop_extent=3.0, k_robots=8),
    }
    return {**base, **extra}


COVERAGE_CONFIGS = _coverage_configs()


def _coverage() -> list[Case]:
    cases = []
    for name, kw in COVERAGE_CONFIGS.items():
        large = kw["n_agents"] >= 64
        cases.append(
            Case(
                "coverage-v0",
                name,
                kw,
                parallel_cycles=5 if large else 20,
                aec_cycles=2 if large else 20,
                seed_parallel_cycles=5 if large else 20,
                seed_aec_cycles=1 if large else 20,
                state_cycles=1 if large else 10,
                small=not large,
                marks=COVERAGE_MARKS,
            )
        )
    return cases


SWARMING_EXTRA = {
    "flocking-v0": {
        "walls_non_square": dict(n_agents=9, boundary="walls", arena_width=4.0, arena_height=2.0),
        "walls_continuous_n2": dict(n_agents=2, boundary="walls", continuous_actions=True),
        "torus_non_square_continuous": dict(
            n_agents=7, boundary="torus", arena_width=2.0, arena_height=5.0, continuous_actions=True
        ),
        "local_reward_penalties": dict(
            n_agents=11, reward="local", cohesion_penalty=0.5, collision_penalty=0.1, robot_radius=0.2
        ),
        "bare_observation": dict(n_agents=5, heading_bins=0, k_robots=0, n_turns=1),
        "tree": dict(n_agents=30, neighbour_method="tree", k_robots=5),
        "dense_walls": dict(n_agents=30, neighbour_method="dense", boundary="walls"),
        "vicsek": dict(preset="vicsek", n_agents=20),
    },
    "kuramoto-v0": {
        "radius": dict(n_agents=13, graph="radius"),
        "complete": dict(n_agents=13, graph="complete"),
        "ring": dict(n_agents=13, graph="ring", ring_neighbours=3),
        "complete_n1": dict(n_agents=1, graph="complete"),
        "ring_n1": dict(n_agents=1, graph="ring"),
        "ring_wider_than_swarm": dict(n_agents=2, graph="ring", ring_neighbours=4, continuous_actions=True),
        "complete_n500_no_bins": dict(n_agents=500, graph="complete", phase_bins=0),
        "walls_non_square": dict(n_agents=9, boundary="walls", arena_width=3.0, arena_height=1.5),
        "torus_non_square_continuous": dict(
            n_agents=8, boundary="torus", arena_width=1.0, arena_height=4.0, continuous_actions=True
        ),
        "cauchy_coupled_noisy": dict(
            n_agents=10, frequency_distribution="cauchy", coupling=1.5, phase_noise=0.3, graph="complete"
        ),
        "uniform_local_cost": dict(
            n_agents=10,
            frequency_distribution="uniform",
            reward="local",
            control_cost=0.2,
            coupling=0.5,
            phase_noise=0.1,
        ),
        "ring_local_continuous": dict(n_agents=6, graph="ring", reward="local", continuous_actions=True),
        "tree": dict(n_agents=30, neighbour_method="tree", n_controls=3),
        "classic": dict(preset="classic", n_agents=20),
    },
    "aggregation-v0": {
        "walls_non_square": dict(n_agents=9, boundary="walls", arena_width=4.0, arena_height=2.0),
        "none_non_square": dict(n_agents=9, boundary="none", arena_width=1.0, arena_height=3.0),
        "none_continuous": dict(n_agents=6, boundary="none", continuous_actions=True),
        "local_reward_collisions": dict(
            n_agents=12, reward="local", collision_penalty=0.5, robot_radius=0.2, density=4.0
        ),
        "no_knn": dict(n_agents=5, k_robots=0),
        "tree": dict(n_agents=30, neighbour_method="tree", sensing_radius=1.0),
        "dense_none": dict(n_agents=30, neighbour_method="dense", boundary="none"),
    },
}


def _swarming() -> list[Case]:
    base = {
        f"n{n}_{'continuous' if cont else 'discrete'}": dict(n_agents=n, continuous_actions=cont)
        for n in (1, 2, 50, 500)
        for cont in (False, True)
    }
    cases = []
    for env_id, extra in SWARMING_EXTRA.items():
        for name, kw in {**base, **extra}.items():
            large = kw.get("n_agents", 50) >= 500
            cases.append(
                Case(
                    env_id,
                    name,
                    kw,
                    parallel_cycles=3 if large else 20,
                    aec_cycles=2 if large else 20,
                    seed_parallel_cycles=3 if large else 20,
                    seed_aec_cycles=1 if large else 20,
                    state_cycles=1 if large else 10,
                    small=not large,
                )
            )
    return cases


BYZANTINE_CONFIGS = {
    "default": dict(n_robots=20),
    "lcp_collude": dict(n_robots=12, protocol="lcp", attack="collude"),
    "wmsr_random": dict(n_robots=12, protocol="wmsr", attack="random", wmsr_f=1),
    "harary_drift": dict(n_robots=10, graph="harary", connectivity=3, attack="drift", n_byzantine=2),
    "given_sleeper": dict(
        n_robots=4, graph="given", edges=((0, 1), (1, 2), (2, 3)), attack="sleeper", n_byzantine=1
    ),
    "false_accusation_local": dict(n_robots=15, attack="false_accusation", reward="local", k_slots=0),
    "forge_unauthenticated": dict(n_robots=15, attack="forge", authenticate=False),
    "replay_short_lag": dict(n_robots=12, attack="replay", replay_lag=2),
    "replay_unauthenticated": dict(n_robots=12, attack="replay", authenticate=False, replay_lag=1),
    "accusation_flood": dict(n_robots=12, attack="accusation_flood", n_byzantine=3),
    "accuse_all_harary": dict(
        n_robots=10, graph="harary", connectivity=3, attack="accuse_all", n_byzantine=2
    ),
    "attackers_as_agents": dict(n_robots=10, byzantine_agents=True, byzantine_fraction=0.3),
    "no_byzantine": dict(n_robots=2, n_byzantine=0),
}


def _byzantine() -> list[Case]:
    ids = ("byzantine-tracking-v0", "byzantine-timesync-v0", "byzantine-localization-v0")
    return [
        Case(env_id, name, kw, 15, 5, 10, 5, state_cycles=5)
        for env_id in ids
        for name, kw in BYZANTINE_CONFIGS.items()
    ]


def _small_envs() -> list[Case]:
    return [
        Case("aloha-v0", "n4_c3", dict(n_agents=4, n_channels=3), parallel_cycles=60),
        Case("aloha-v0", "default", {}),
        Case("coordination-v0", "n4", dict(n_agents=4), parallel_cycles=60),
        Case("coordination-v0", "default", {}),
    ]


CASES: list[Case] = [*_navigation(), *_coverage(), *_swarming(), *_byzantine(), *_small_envs()]
PARAMS = [c.param() for c in CASES]
SMALL_PARAMS = [c.param() for c in CASES if c.small]
# One case per env id, for the checks that are costly per config.
FIRST_PARAMS = [c.param() for c in {c.env_id: c for c in reversed(CASES) if c.small}.values()]


def task_class(env_id: str) -> type:
    """The task class behind ``env_id`` (the one carrying ``render_fps``)."""
    return type(swarmzoo.make(env_id).unwrapped.task)


# -- shared helpers --------------------------------------------------------------------------------


def disturb_global_rngs(value: int) -> None:
    """Scramble the global random streams: an env that secretly used them would diverge."""
    np.random.seed(value)  # noqa: NPY002 - the legacy global stream is the one to scramble
    random.seed(value)


def random_actions(env, rng: np.random.Generator) -> dict:
    """One seeded random action per live agent of a PettingZoo parallel env."""
    space = env.action_space(env.possible_agents[0])
    if hasattr(space, "n"):
        return {a: int(space.start + rng.integers(space.n)) for a in env.agents}
    return {a: rng.uniform(space.low, space.high).astype(space.dtype) for a in env.agents}


def vector_actions(venv, rng: np.random.Generator) -> np.ndarray:
    """Seeded random actions of shape ``(num_envs, n_agents, ...)`` for the vector face."""
    space = venv.single_action_space
    shape = (venv.num_envs, venv.n_agents)
    if hasattr(space, "n"):
        return rng.integers(space.start, space.start + space.n, size=shape)
    return rng.uniform(space.low, space.high, size=(*shape, *space.shape)).astype(space.dtype)


def stack(d: dict, agents: list[str]) -> np.ndarray:
    """A per-agent dict as one array, in ``agents`` order."""
    return np.stack([np.asarray(d[a]) for a in agents])


def parallel_rollout(make, seed: int, episodes: int = 2, disturb: int = 0, extra=None) -> list:
    """Everything observable over ``episodes`` episodes of ``make()``: reset(seed) once, then plain
    resets, under a seeded random policy. ``extra(env)`` adds to each entry."""
    env = make()
    disturb_global_rngs(disturb)
    rng = np.random.default_rng(1234)
    more = (lambda e: ()) if extra is None else (lambda e: (extra(e),))
    trace = []
    for ep in range(episodes):
        obs, infos = env.reset(seed=seed) if ep == 0 else env.reset()
        trace.append(("reset", obs, infos, env.state(), *more(env)))
        while env.agents:
            out = env.step(random_actions(env, rng))
            trace.append(("step", *out, env.state(), *more(env)))
    env.close()
    return trace


def assert_same(a, b) -> None:
    """Two traces are equal: same types, same keys in the same order, arrays bit for bit."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b
