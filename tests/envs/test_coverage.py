"""Properties of ``coverage-v0`` (``envs/coverage.py``) against its documentation and independent
computations: the demand only fades and never goes negative, what robots serve is what leaves the
map, robots stay in the arena under ``max_speed``, the service rule and the reward's unit, the
density's orientation and normalisation (images, colour and alpha channels, Gaussian mixtures),
``pool``, the egocentric demand crop, the battery, ``done_fraction`` and the W2 coverage metric
(against closed forms and ``scipy.optimize.linear_sum_assignment``)."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from swarmzoo.envs import coverage
from swarmzoo.envs.core.arena import Arena
from swarmzoo.envs.core.density import DemandGrid, pool, wasserstein2

# Centres of the two hot spots of the shipped ``two_hotspots`` map on the default 2 x 2 arena
# (scripts/make_maps.py), and a corner where it has no demand.
HOT_SPOTS = np.array([[-0.45, 0.4], [0.5, -0.35]])
EMPTY_CORNER = np.array([0.9, 0.9])


def _task(**kwargs) -> coverage.Coverage:
    """A vector env's task (E copies), reset with seed 0."""
    venv = coverage.vector_env(kwargs.pop("n_envs", 1), **kwargs)
    venv.reset(seed=0)
    return venv.task


def _place(task: coverage.Coverage, positions: np.ndarray) -> None:
    """Put the robots of every copy at ``positions (N, 2)`` at rest, with no trajectory so far."""
    task.pos[:] = positions
    task.vel[:] = 0.0
    task.visits[:] = 0.0


def _hold(task: coverage.Coverage, steps: int) -> list[dict]:
    """Step every robot with a zero action (robots at rest stay put); the infos of each step."""
    zero = (
        np.zeros((task.n_envs, task.n_agents), int)
        if not task.config.continuous_actions
        else np.zeros((task.n_envs, task.n_agents, 2), np.float32)
    )
    return [task.step(zero)[3] for _ in range(steps)]


def _cell_centres(shape: tuple[int, int], width: float, height: float) -> np.ndarray:
    """Cell centres ``(H W, 2)`` of an ``(H, W)`` grid over a ``width x height`` arena centred on
    the origin, row 0 at the top (+y), row-major; written out independently of DemandGrid."""
    H, W = shape
    centres = [
        (-width / 2 + (c + 0.5) * width / W, height / 2 - (r + 0.5) * height / H)
        for r in range(H)
        for c in range(W)
    ]
    return np.array(centres)


def _write(path, image: np.ndarray) -> str:
    iio.imwrite(path, image.astype(np.uint8))
    return str(path)


# -- the demand ------------------------------------------------------------------------------------


@pytest.mark.parametrize("map_name", coverage.MAPS)
def test_demand_fades_never_negative_and_served_is_what_left_the_map(map_name) -> None:
    E, N = 2, 16
    venv = coverage.vector_env(E, n_agents=N, map=map_name, max_cycles=12, service_fraction=0.3)
    venv.reset(seed=1)
    task = venv.task
    density = task.density.ravel()
    np.testing.assert_allclose(task.demand, np.broadcast_to(density, task.demand.shape))
    assert (density >= 0).all() and density.sum() == pytest.approx(1.0, abs=1e-12)
    rng = np.random.default_rng(0)
    last_fraction = np.zeros(E)
    for _ in range(30):
        before = task.demand.copy()
        acts = rng.uniform(-1, 1, (E, N, 2)).astype(np.float32)
        _, rew, _, _, infos = venv.step(acts)
        served, fraction = infos["served"], infos["served_fraction"]
        assert (served >= 0).all()
        assert ((fraction >= 0) & (fraction <= 1)).all(), fraction
        for i in range(E):
            np.testing.assert_allclose(served[i].sum(), before[i].sum() - (1 - fraction[i]), atol=1e-12)
            if infos["_final_obs"][i]:  # auto-reset: a fresh map
                np.testing.assert_array_equal(task.demand[i], density)
                last_fraction[i] = 0.0
                continue
            after = task.demand[i]
            assert (after >= 0).all()
            assert (after <= before[i]).all()
            np.testing.assert_allclose(served[i].sum(), before[i].sum() - after.sum(), rtol=1e-9, atol=1e-15)
            np.testing.assert_allclose(fraction[i], 1 - after.sum(), atol=1e-12)
            assert fraction[i] >= last_fraction[i]
            last_fraction[i] = fraction[i]
        np.testing.assert_allclose(task.served_fraction(), 1 - task.demand.sum(axis=1))
        # The reward is the served demand in units of a robot over a fresh uniform map.
        local = served / task.unit_service
        np.testing.assert_allclose(rew, 0.5 * local + 0.5 * local.mean(axis=1, keepdims=True), rtol=1e-12)


def test_one_robot_on_a_fresh_uniform_map_earns_reward_one() -> None:
    """The reward's unit: what a robot serves in a step over a fresh uniform map."""
    task = _task(n_agents=1, map="uniform")
    _place(task, np.zeros((1, 2)))
    rewards = [task.step(np.zeros((1, 1, 2), np.float32))[0][0, 0] for _ in range(3)]
    f = task.config.service_fraction
    # Staying put has diminishing returns: each step serves (1 - f) of the previous one.
    np.testing.assert_allclose(rewards, [1.0, 1 - f, (1 - f) ** 2], rtol=1e-12)


def test_hot_spots_pay_more_than_the_average_and_empty_places_nothing() -> None:
    task = _task(n_agents=3, map="two_hotspots", local_ratio=1.0)
    _place(task, np.array([HOT_SPOTS[0], HOT_SPOTS[1], EMPTY_CORNER]))
    rew = task.step(np.zeros((1, 3, 2), np.float32))[0][0]
    assert rew[0] > 2 and rew[1] > 2
    assert rew[2] == 0.0


def test_service_rule_cells_within_the_radius_lose_the_documented_share() -> None:
    """One robot at a cell centre serves ``service_fraction`` of exactly the cells whose centres
    lie within ``service_radius``; two robots on one spot serve ``1 - (1 - f)^2`` of it, shared
    equally."""
    f, radius = 0.2, 0.23
    task = _task(n_agents=2, map="uniform", service_fraction=f, service_radius=radius)
    H, W = task.grid.shape
    centres = _cell_centres((H, W), 2.0, 2.0)
    spot = centres[20 * W + 37]
    near = np.linalg.norm(centres - spot, axis=1) <= radius
    # One robot serving; the other parked at the mirror point, on ground already served (its
    # disk's demand set to 0), so it changes nothing.
    _place(task, np.array([spot, -spot]))
    task.demand[0] = np.where(np.linalg.norm(centres + spot, axis=1) <= radius + 0.1, 0.0, task.demand[0])
    before = task.demand[0].copy()
    infos = _hold(task, 1)[0]
    changed = task.demand[0] != before
    np.testing.assert_array_equal(changed, near)
    np.testing.assert_allclose(task.demand[0][near], before[near] * (1 - f), rtol=1e-12)
    np.testing.assert_allclose(infos["served"][0, 0], f * before[near].sum(), rtol=1e-12)
    assert infos["served"][0, 1] == 0.0
    single = infos["served"][0, 0]
    # Two robots on the same spot of a fresh map.
    task.reset()
    _place(task, np.array([spot, spot]))
    infos = _hold(task, 1)[0]
    np.testing.assert_allclose(infos["served"][0], single / f * (1 - (1 - f) ** 2) / 2, rtol=1e-12)


def test_image_row_zero_is_the_top_of_the_arena(tmp_path) -> None:
    image = np.zeros((16, 16))
    image[:3] = 255  # the top rows only
    task = _task(n_agents=2, map=_write(tmp_path / "top.png", image), local_ratio=1.0)
    assert task.density[:3].sum() == pytest.approx(1.0) and task.density[3:].sum() == 0
    _place(task, np.array([[0.0, 0.9], [0.0, -0.9]]))
    rew = task.step(np.zeros((1, 2, 2), np.float32))[0][0]
    assert rew[0] > 0 and rew[1] == 0.0


# -- the density: images, channels, Gaussians, pool ---------------------------------------------------


def test_colour_images_average_their_channels_and_ignore_alpha(tmp_path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (12, 20, 3))
    gray = rgb.mean(axis=-1)
    from_rgb = coverage.load_density(_write(tmp_path / "rgb.png", rgb))
    np.testing.assert_allclose(from_rgb, gray / gray.sum(), rtol=1e-12)
    alpha = rng.integers(0, 256, (12, 20, 1))
    from_rgba = coverage.load_density(_write(tmp_path / "rgba.png", np.concatenate([rgb, alpha], -1)))
    np.testing.assert_allclose(from_rgba, from_rgb, rtol=1e-12)


def test_grayscale_with_alpha_ignores_the_alpha_channel(tmp_path) -> None:
    """A grayscale + alpha PNG ("LA", read as ``(H, W, 2)``) is the grayscale image: the module
    docstring says an alpha channel is ignored."""
    gray = np.zeros((8, 8))
    gray[:4, :4], gray[4:, 4:] = 200, 50
    expected = coverage.load_density(_write(tmp_path / "gray.png", gray))
    la = np.stack([gray, np.full_like(gray, 255)], axis=-1)
    path = _write(tmp_path / "gray_alpha.png", la)
    assert iio.imread(path).shape == (8, 8, 2)
    np.testing.assert_allclose(coverage.load_density(path), expected, rtol=1e-12)


@pytest.mark.parametrize("name", coverage.MAPS)
def test_shipped_maps_are_normalised_densities(name) -> None:
    density = coverage.load_density(name)
    assert density.shape == (64, 64)
    assert (density >= 0).all() and density.sum() == pytest.approx(1.0, abs=1e-12)
    if name == "uniform":
        np.testing.assert_allclose(density, 1 / 64**2)
    if name == "two_hotspots":  # its two hot spots, where the map says they are
        grid = DemandGrid(density.shape, Arena(2.0, 2.0, boundary="walls"))
        row, col = grid.rows_cols(HOT_SPOTS)
        assert (density[row, col] > 0.6 * density.max()).all()  # peaks 1 and 0.7
        row, col = grid.rows_cols(EMPTY_CORNER)
        assert density[row, col] == 0


def test_gaussian_mixture_density() -> None:
    # Equal widths, weights 1 and 3, far apart: their masses split 1 : 3 between the halves.
    d = coverage.gaussian_density(((-0.5, 0.0, 0.1, 1.0), (0.5, 0.0, 0.1, 3.0)), 64, 2.0, 2.0)
    assert d.shape == (64, 64) and d.sum() == pytest.approx(1.0)
    assert d[:, 32:].sum() / d[:, :32].sum() == pytest.approx(3.0, rel=1e-3)
    # Orientation and a non-square arena: resolution cells along the longer side.
    d = coverage.gaussian_density(((1.5, 0.5, 0.1, 1.0),), 64, 4.0, 2.0)
    assert d.shape == (32, 64)
    row, col = np.unravel_index(np.argmax(d), d.shape)
    centres = _cell_centres(d.shape, 4.0, 2.0).reshape(32, 64, 2)
    np.testing.assert_allclose(centres[row, col], [1.5, 0.5], atol=4.0 / 64)
    task = _task(n_agents=2, gaussians=((1.5, 0.5, 0.1, 1.0),), arena_width=4.0, arena_height=2.0)
    assert task.density.shape == (32, 64)


@pytest.mark.parametrize(
    ("shape", "resolution"), [((64, 64), 32), ((50, 37), 32), ((7, 9), 4), ((3, 3), 5), ((64, 32), 32)]
)
def test_pool_keeps_the_total(shape, resolution) -> None:
    field = np.random.default_rng(0).random(shape)
    out = pool(field, resolution)
    assert out.shape == (resolution, resolution)
    assert out.sum() == pytest.approx(field.sum(), rel=1e-12)
    assert (out >= 0).all()
    # A pixel lands in the cell under its centre: the top-left pixel in the top-left cell.
    corner = np.zeros(shape)
    corner[0, 0] = 1.0
    assert pool(corner, resolution)[0, 0] == 1.0
    corner[0, 0], corner[-1, -1] = 0.0, 1.0
    assert pool(corner, resolution)[-1, -1] == 1.0


def test_pool_of_a_uniform_map_is_uniform() -> None:
    np.testing.assert_allclose(pool(np.full((64, 64), 1 / 4096), 32), 1 / 1024, rtol=1e-12)


# -- motion ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("push", ["plus_x", "minus_y", "random_extremes"])
def test_robots_stay_in_the_arena_under_max_speed(push) -> None:
    E, N = 2, 12
    continuous = push == "random_extremes"
    venv = coverage.vector_env(
        E, n_agents=N, arena_width=3.0, arena_height=1.5, continuous_actions=continuous, max_cycles=100
    )
    venv.reset(seed=0)
    task, cfg = venv.task, venv.task.config
    limit = task.arena.half - cfg.robot_radius
    rng = np.random.default_rng(0)
    for _ in range(60):
        if continuous:
            acts = rng.choice([-1.0, 1.0], size=(E, N, 2)).astype(np.float32)
        else:
            acts = np.full((E, N), 2 if push == "plus_x" else 3)
        obs, *_ = venv.step(acts)
        assert (np.abs(task.pos) <= limit + 1e-12).all()
        assert (np.linalg.norm(task.vel, axis=-1) <= cfg.max_speed * (1 + 1e-12)).all()
        assert (np.linalg.norm(obs[..., 0:2], axis=-1) <= 1 + 1e-6).all()
        assert (np.abs(obs[..., 2:4]) <= 1).all()
        np.testing.assert_allclose(obs[..., 0:2], task.vel / cfg.max_speed, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(obs[..., 2:4], task.pos / task.arena.half, rtol=1e-6, atol=1e-7)
    if not continuous:  # everyone reached the wall it pushes into, and stopped against it
        axis, sign = (0, 1) if push == "plus_x" else (1, -1)
        np.testing.assert_allclose(task.pos[..., axis], sign * limit[axis])
        np.testing.assert_array_equal(task.vel[..., axis], 0.0)


def test_double_integrator_step() -> None:
    """``v <- v + dt max_accel a`` (capped at max_speed), ``x <- x + dt v``."""
    task = _task(n_agents=2, dt=0.1, max_accel=3.0, max_speed=0.5)
    _place(task, np.array([[0.0, 0.0], [0.2, -0.3]]))
    task.step(np.array([[[0.5, 0.0], [1.0, 1.0]]], np.float32))
    np.testing.assert_allclose(task.vel[0, 0], [0.15, 0.0])
    np.testing.assert_allclose(task.pos[0, 0], [0.015, 0.0])
    capped = 0.3 * np.array([1.0, 1.0]) * min(1.0, 0.5 / (0.3 * np.sqrt(2)))
    np.testing.assert_allclose(task.vel[0, 1], capped)
    task.step(np.array([[[0.5, 0.0], [1.0, 1.0]]], np.float32))
    np.testing.assert_allclose(task.vel[0, 0], [0.3, 0.0])
    np.testing.assert_allclose(np.linalg.norm(task.vel[0, 1]), 0.5)


# -- the observation's demand crop -----------------------------------------------------------------


def _expected_crop(density: np.ndarray, pos: np.ndarray, crop_size: int, extent: float, w: float, h: float):
    """The documented crop, sample by sample: C x C points ``extent / C`` apart centred on the
    robot, row 0 at the top, the demand of the cell under each point in units of the uniform
    density, 0 outside the arena."""
    H, W = density.shape
    step = extent / crop_size
    mid = crop_size // 2
    out = np.zeros((crop_size, crop_size))
    for i in range(crop_size):
        for j in range(crop_size):
            x, y = pos[0] + (j - mid) * step, pos[1] - (i - mid) * step
            col, row = int(np.floor((x + w / 2) / (w / W))), int(np.floor((h / 2 - y) / (h / H)))
            if 0 <= row < H and 0 <= col < W:
                out[i, j] = density[row, col] * H * W
    return out


def _crop(task: coverage.Coverage, robot: int = 0) -> np.ndarray:
    C = task.config.crop_size
    return task.observe()[0, robot, 5 : 5 + C * C].reshape(C, C)


def test_crop_reads_the_demand_next_to_a_hot_spot() -> None:
    task = _task(n_agents=2, map="two_hotspots")
    cfg = task.config
    pos = HOT_SPOTS[0] - [0.3, 0.0]  # the hot spot is 0.3 to the robot's right; the wall 0.25 left
    _place(task, np.array([pos, -pos]))
    crop = _crop(task)
    expected = _expected_crop(task.density, pos, cfg.crop_size, cfg.crop_extent, 2.0, 2.0)
    np.testing.assert_allclose(crop, expected, rtol=1e-6)
    mid = cfg.crop_size // 2
    row, col = np.unravel_index(np.argmax(crop), crop.shape)
    assert row == mid and col > mid  # hottest to the right, on the robot's row
    assert crop.max() > 5  # far above the uniform density (1)
    assert (crop[:, :2] == 0).all()  # beyond the left wall
    own_row, own_col = task.grid.rows_cols(pos)
    assert crop[mid, mid] == pytest.approx(task.density[own_row, own_col] * task.density.size, rel=1e-6)
    # After serving, the crop shows the remaining demand, not the reference.
    _hold(task, 5)
    served = _crop(task)
    assert served[mid, mid] < crop[mid, mid]
    np.testing.assert_allclose(
        served, _expected_crop(task.demand[0].reshape(task.grid.shape), pos, 7, 1.0, 2.0, 2.0), rtol=1e-6
    )


def test_crop_centre_is_the_robots_own_cell_and_rows_run_top_down(tmp_path) -> None:
    image = np.zeros((16, 16))
    image[3, 12] = 255  # one demand cell; centre (0.5625, 0.5625) on the 2 x 2 arena
    task = _task(n_agents=1, map=_write(tmp_path / "dot.png", image), crop_size=7, crop_extent=1.0)
    cell = np.array([0.5625, 0.5625])
    step = 1.0 / 7

    def only_hot(offset) -> tuple[int, int]:
        _place(task, cell[None] + offset)
        crop = _crop(task)
        hot = np.argwhere(crop)
        assert len(hot) == 1 and crop[tuple(hot[0])] == pytest.approx(256.0)
        return tuple(hot[0])

    assert only_hot([0.03, -0.02]) == (3, 3)  # inside the cell: the centre sample
    assert only_hot([0.0, -step]) == (2, 3)  # robot below the cell: it shows one row up
    assert only_hot([-2 * step, 0.0]) == (3, 5)  # robot left of the cell: two columns right


def test_crop_and_state_on_a_non_square_arena() -> None:
    task = _task(n_agents=3, map="ring", arena_width=4.0, arena_height=1.0, crop_size=5, crop_extent=0.8)
    pos = np.array([[-1.9, 0.45], [0.3, -0.1], [1.2, 0.2]])
    _place(task, pos)
    for i in range(3):
        expected = _expected_crop(task.density, pos[i], 5, 0.8, 4.0, 1.0)
        np.testing.assert_allclose(_crop(task, i), expected, rtol=1e-6)


# -- the state --------------------------------------------------------------------------------------


def test_state_holds_robots_and_the_pooled_remaining_demand() -> None:
    N, res = 4, 16
    task = _task(n_agents=N, map="disaster", w2_resolution=res, battery=3.0)
    state = task.state()[0]
    robots = state[: 5 * N].reshape(N, 5)
    np.testing.assert_allclose(robots[:, 0:2], task.pos[0] / task.arena.half, rtol=1e-6)
    np.testing.assert_allclose(robots[:, 4], 1.0)
    remaining = state[5 * N :]
    np.testing.assert_allclose(remaining, pool(task.density, res).ravel() * res * res, rtol=1e-6)
    assert remaining.sum() == pytest.approx(res * res, rel=1e-5)
    rng = np.random.default_rng(0)
    for _ in range(5):
        task.step(rng.uniform(-1, 1, (1, N, 2)).astype(np.float32))
    state = task.state()[0]
    robots = state[: 5 * N].reshape(N, 5)
    np.testing.assert_allclose(robots[:, 2:4], task.vel[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(robots[:, 4], task.battery[0], rtol=1e-6)
    assert state[5 * N :].sum() / (res * res) == pytest.approx(1 - task.served_fraction()[0], rel=1e-5)


# -- the battery ------------------------------------------------------------------------------------


def test_battery_drains_as_documented_discrete() -> None:
    """``idle_cost + accel_cost |a|^2`` per step out of ``battery``: a coasting robot (action 0)
    spends 0.125 of a 1.0 battery per step and dies at step 8, a moving one 0.25 and dies at
    step 4 (exact in binary). A dead robot stops, stays and serves nothing."""
    venv = coverage.vector_env(
        1,
        n_agents=2,
        continuous_actions=False,
        map="uniform",
        battery=1.0,
        idle_cost=0.125,
        accel_cost=0.125,
        max_cycles=50,
    )
    venv.reset(seed=0)
    task = venv.task
    _place(task, np.array([[0.0, 0.0], [-0.5, 0.0]]))
    for k in range(1, 9):
        before = task.pos.copy()
        obs, _, term, trunc, infos = venv.step(np.array([[0, 2]]))
        expected = [1 - 0.125 * k, max(1 - 0.25 * k, 0.0)]
        np.testing.assert_array_equal(infos["battery"][0], expected)
        np.testing.assert_array_equal(obs[0, :, 4], np.float32(expected) if k < 8 else 1.0)
        if k < 8:
            np.testing.assert_array_equal(term[0], [False, k >= 4])
        if 4 < k < 8:  # robot 1 is dead: stopped where it died, serving nothing
            np.testing.assert_array_equal(task.pos[0, 1], before[0, 1])
            np.testing.assert_array_equal(task.vel[0, 1], 0.0)
            assert infos["served"][0, 1] == 0.0
            assert infos["served"][0, 0] > 0.0
        assert not trunc.any()
    # Step 8: robot 0 dies too, the copy ends and auto-resets with full batteries.
    assert term[0].all() and infos["_episode"][0] and "w2" in infos
    assert infos["episode_length"][0] == 8
    np.testing.assert_array_equal(task.battery, 1.0)


def test_battery_drains_as_documented_continuous() -> None:
    B, idle, accel = 2.0, 0.01, 0.04
    task = _task(n_agents=3, battery=B, idle_cost=idle, accel_cost=accel, max_cycles=100)
    a = np.array([[[0.5, 0.5], [0.0, 0.0], [-1.0, 1.0]]], np.float32)
    per_step = (idle + accel * np.array([0.5, 0.0, 2.0])) / B  # |a|^2 = 0.5, 0, 2
    dies = np.ceil(1 / per_step - 1e-9).astype(int)  # 23, 200 and 12 steps
    for k in range(1, 30):
        _, term, _, infos = task.step(a)
        expected = np.maximum(1 - k * per_step, 0.0)
        np.testing.assert_allclose(infos["battery"][0], expected, atol=1e-9)
        np.testing.assert_array_equal(term[0], k >= dies)
    np.testing.assert_allclose(task.observe()[0, :, 4], expected, atol=1e-6)


def test_no_battery_means_a_full_battery_forever() -> None:
    task = _task(n_agents=3, max_cycles=20)
    for infos in _hold(task, 10):
        np.testing.assert_array_equal(infos["battery"], 1.0)
    np.testing.assert_array_equal(task.observe()[..., 4], 1.0)


# -- termination ------------------------------------------------------------------------------------


def test_done_fraction_terminates_every_robot() -> None:
    env = coverage.parallel_env(n_agents=64, map="uniform", done_fraction=0.1, max_cycles=200)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps = 0
    while env.agents:
        _, _, term, trunc, infos = env.step({a: rng.uniform(-1, 1, 2).astype(np.float32) for a in env.agents})
        steps += 1
        fraction = infos["robot_0"]["served_fraction"]
        assert all(term.values()) == (fraction >= 0.1)
        assert not any(trunc.values())
        assert len(set(term.values())) == 1
    assert steps < 200
    assert "w2" in infos["robot_0"]
    assert infos["robot_0"]["w2"] == pytest.approx(env.unwrapped.task.coverage_w2()[0], rel=1e-12)


def test_default_done_fraction_runs_to_truncation() -> None:
    env = coverage.parallel_env(n_agents=8, max_cycles=6, service_fraction=1.0, map="uniform")
    env.reset(seed=0)
    for t in range(6):
        _, _, term, trunc, infos = env.step({a: np.zeros(2, np.float32) for a in env.agents})
        assert not any(term.values())
        assert all(trunc.values()) == (t == 5)
        assert ("w2" in infos["robot_0"]) == (t == 5)


def test_w2_every_reports_w2_periodically() -> None:
    env = coverage.parallel_env(n_agents=3, w2_every=3, max_cycles=7)
    env.reset(seed=0)
    have = []
    for _ in range(7):
        _, _, _, _, infos = env.step({a: np.zeros(2, np.float32) for a in env.agents})
        have.append("w2" in infos["robot_0"])
        if have[-1]:
            assert infos["robot_0"]["w2"] == env.unwrapped.task.coverage_w2()[0]
    assert have == [False, False, True, False, False, True, True]


# -- the W2 metric ----------------------------------------------------------------------------------


def _grid(res: int = 16, width: float = 2.0, height: float = 2.0) -> DemandGrid:
    return DemandGrid((res, res), Arena(width, height, boundary="walls"))


@pytest.mark.parametrize(("width", "height"), [(2.0, 2.0), (3.0, 1.0)])
def test_w2_of_two_point_masses_is_their_distance(width, height) -> None:
    grid = _grid(12, width, height)
    centres = _cell_centres((12, 12), width, height)
    np.testing.assert_allclose(grid.centres, centres)
    rng = np.random.default_rng(0)
    for _ in range(10):
        a, b = rng.choice(144, size=2, replace=False)
        visits, reference = np.zeros(144), np.zeros(144)
        visits[a], reference[b] = 3.0, 0.2  # weights are normalised
        expected = np.linalg.norm(centres[a] - centres[b])
        assert wasserstein2(visits, reference, grid.centres) == pytest.approx(expected, rel=1e-9)
    visits[:] = 0.0
    visits[b] = 7.0
    assert wasserstein2(visits, reference, grid.centres) == pytest.approx(0.0, abs=1e-9)


def test_w2_of_one_cell_against_a_uniform_map_closed_form() -> None:
    """Everything moves from the one cell: W2^2 is the mean squared distance to all cells."""
    grid = _grid(16)
    centres = _cell_centres((16, 16), 2.0, 2.0)
    uniform = np.ones(256)
    for cell in (0, 17, 136, 255):
        one = np.zeros(256)
        one[cell] = 1.0
        expected = np.sqrt(np.mean(np.sum((centres - centres[cell]) ** 2, axis=1)))
        assert wasserstein2(one, uniform, grid.centres) == pytest.approx(expected, rel=1e-9)
        assert wasserstein2(uniform, one, grid.centres) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_w2_on_equal_mass_supports_matches_an_assignment(seed) -> None:
    """Two uniform distributions on k cells each: the optimal plan is a permutation, so W2^2 is
    the cheapest assignment's mean squared distance (``linear_sum_assignment``)."""
    grid = _grid(16)
    rng = np.random.default_rng(seed)
    k = 12
    cells = rng.choice(256, size=2 * k, replace=False)
    a_cells = cells[:k]
    # Odd seeds: disjoint supports; even seeds: half the cells shared.
    b_cells = cells[k:] if seed % 2 else np.concatenate([a_cells[: k // 2], cells[k : k + k // 2]])
    visits, reference = np.zeros(256), np.zeros(256)
    visits[a_cells], reference[b_cells] = 1.0, 5.0
    cost = ((grid.centres[a_cells][:, None] - grid.centres[b_cells][None]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(cost)
    expected = np.sqrt(cost[rows, cols].sum() / k)
    assert wasserstein2(visits, reference, grid.centres) == pytest.approx(expected, rel=1e-9)


def test_w2_needs_robot_positions() -> None:
    with pytest.raises(ValueError, match="no robot positions recorded yet"):
        wasserstein2(np.zeros(4), np.ones(4), _grid(2).centres)


def test_task_w2_of_robots_held_on_one_cell(tmp_path) -> None:
    """``coverage_w2`` of robots that never left one cell, against a one-cell map (the distance
    between the two cells) and against the uniform map (the closed form)."""
    res = 16
    image = np.zeros((res, res))
    image[2, 13] = 255
    dot = _write(tmp_path / "dot.png", image)
    centres = _cell_centres((res, res), 2.0, 2.0)
    spot = centres[9 * res + 4]
    for map_name in (dot, "uniform"):
        task = _task(n_agents=5, map=map_name, w2_resolution=res, n_envs=2)
        _place(task, np.repeat(spot[None], 5, axis=0))
        _hold(task, 4)
        assert task.visits.sum(axis=1).tolist() == [20.0, 20.0]
        if map_name == dot:
            expected = np.linalg.norm(spot - centres[2 * res + 13])
        else:
            expected = np.sqrt(np.mean(np.sum((centres - spot) ** 2, axis=1)))
        np.testing.assert_allclose(task.coverage_w2(), expected, rtol=1e-9)
        np.testing.assert_allclose(task.coverage_w2([1]), [expected], rtol=1e-9)


def test_w2_falls_as_robots_sit_on_the_modes() -> None:
    """On ``two_hotspots``: robots parked on the two hot spots are much closer to the density
    than robots parked in an empty corner; half and half falls in between."""
    N = 8
    on_modes = np.repeat(HOT_SPOTS, N // 2, axis=0)
    in_corner = np.repeat(EMPTY_CORNER[None], N, axis=0)
    half = np.concatenate([on_modes[::2], in_corner[: N // 2]])
    values = []
    for positions in (on_modes, half, in_corner):
        task = _task(n_agents=N, map="two_hotspots", w2_resolution=24)
        _place(task, positions)
        _hold(task, 5)
        values.append(task.coverage_w2()[0])
    modes, mixed, corner = values
    assert modes < mixed < corner
    assert modes < 0.5 * corner
    # The corner is about as far as the density's mass centre allows: W2 >= the mean shift.
    density = pool(coverage.load_density("two_hotspots"), 24).ravel()
    mean = density @ _cell_centres((24, 24), 2.0, 2.0)
    assert corner >= np.linalg.norm(EMPTY_CORNER - mean) - 2.0 / 24


def test_w2_info_at_the_episode_end_is_coverage_w2() -> None:
    env = coverage.parallel_env(n_agents=6, max_cycles=4, map="ring")
    env.reset(seed=3)
    while env.agents:
        _, _, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    task = env.unwrapped.task
    assert task.visits.sum() == 6 * 5  # the start and every step
    assert infos["robot_0"]["w2"] == task.coverage_w2()[0]
    assert all(infos[a]["w2"] == infos["robot_0"]["w2"] for a in env.possible_agents)
