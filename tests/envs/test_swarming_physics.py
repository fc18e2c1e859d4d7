"""Physics of the swarming envs against the theory of the models they implement."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import swarmzoo
from swarmzoo.agents import make_policy
from swarmzoo.agents.swarming import KuramotoRule, LocalCentroidRule, VicsekRule
from swarmzoo.envs.core.arena import min_image
from swarmzoo.envs.core.collective import order_parameter


def _rollout(venv, policy, steps, key):
    obs, _ = venv.reset(seed=0)
    values = []
    for _ in range(steps):
        obs, _, _, _, info = venv.step(policy(obs))
        values.append(info[key])
    return np.array(values)  # (T, E)


# -- flocking (Vicsek) ---------------------------------------------------------------------


@pytest.mark.parametrize("continuous", [False, True])
def test_vicsek_rule_without_noise_orders_the_flock(continuous):
    venv = swarmzoo.make_vec(
        "flocking-v0", 4, n_agents=200, heading_noise=0.0, continuous_actions=continuous, max_cycles=300
    )
    rule = VicsekRule()
    order = _rollout(venv, lambda o: rule.act(o, venv.task), 300, "order_parameter")
    assert order[0].mean() < 0.3  # random start
    assert order[-1].min() > 0.95  # every copy close to full alignment
    assert (order[-1] > order[0] + 0.6).all()


def test_uncoupled_random_headings_stay_disordered():
    N = 500
    venv = swarmzoo.make_vec("flocking-v0", 4, n_agents=N, heading_noise=2 * np.pi)
    straight = np.full((4, N), venv.task.config.n_turns // 2)
    order = _rollout(venv, lambda o: straight, 50, "order_parameter")
    # Independent uniform headings: E[r] = sqrt(pi / (4 N)) ~ 0.040 at N = 500.
    assert order.mean() == pytest.approx(np.sqrt(np.pi / (4 * N)), rel=0.25)
    assert order.max() < 4 / np.sqrt(N)


@pytest.mark.parametrize("boundary", ["torus", "walls"])
def test_headings_wrapped_and_speed_constant(boundary):
    venv = swarmzoo.make_vec("flocking-v0", 3, n_agents=60, boundary=boundary, density=0.5, speed=0.2)
    task = venv.task
    venv.reset(seed=1)
    rng = np.random.default_rng(0)
    half = task.arena.half
    for _ in range(60):
        before = task.pos.copy()
        venv.step(rng.integers(0, task.config.n_turns, size=(3, 60)))
        assert (task.heading >= -np.pi).all() and (task.heading < np.pi).all()
        assert (np.abs(task.pos) <= half).all()
        step = np.linalg.norm(min_image(task.pos - before, task.arena), axis=-1)
        if boundary == "torus":
            np.testing.assert_allclose(step, 0.2, rtol=1e-9)
        else:  # a reflection folds the path: never longer than one step
            assert (step <= 0.2 + 1e-9).all()
            assert np.isclose(step, 0.2).mean() > 0.9


def test_flocking_moves_along_the_new_heading():
    env = swarmzoo.make("flocking-v0", n_agents=3, heading_noise=0.0, continuous_actions=True)
    env.reset(seed=3)
    task = env.unwrapped.task
    heading, pos = task.heading.copy(), task.pos.copy()
    env.step({a: np.array([0.5], dtype=np.float32) for a in env.agents})
    expected = heading + 0.5 * task.config.max_turn
    np.testing.assert_allclose(np.cos(task.heading), np.cos(expected), atol=1e-12)
    unit = np.stack([np.cos(expected), np.sin(expected)], axis=-1)
    np.testing.assert_allclose(min_image(task.pos - pos, task.arena), task.config.speed * unit, atol=1e-12)


# -- Kuramoto -------------------------------------------------------------------------------


@pytest.mark.parametrize(("gain", "low", "high"), [(0.5, 0.0, 0.2), (2.0, 0.6, 0.8), (4.0, 0.78, 0.93)])
def test_kuramoto_coupling_law_matches_the_critical_coupling_theory(gain, low, high):
    """All-to-all coupling with Lorentzian frequencies of half-width g: below K_c = 2 g the swarm
    stays incoherent (r ~ 1/sqrt(N)); above it r -> sqrt(1 - K_c / K) (Kuramoto's exact result)."""
    venv = swarmzoo.make_vec(
        "kuramoto-v0",
        4,
        n_agents=500,
        preset="classic",
        continuous_actions=True,
        max_control=4.0,
        max_cycles=400,
    )
    assert venv.task.config.frequency_spread == 0.5  # K_c = 1
    rule = KuramotoRule(gain=gain)
    order = _rollout(venv, lambda o: rule.act(o, venv.task), 400, "order_parameter")
    steady = order[200:].mean()
    assert low < steady < high
    if gain > 1.0:
        assert steady == pytest.approx(np.sqrt(1.0 - 1.0 / gain), abs=0.07)


def test_builtin_coupling_equals_the_coupling_law_as_a_control():
    common = dict(n_agents=40, graph="ring", ring_neighbours=3, max_control=2.0, continuous_actions=True)
    passive = swarmzoo.make_vec("kuramoto-v0", 2, coupling=1.5, **common)
    active = swarmzoo.make_vec("kuramoto-v0", 2, **common)
    passive.reset(seed=5)
    obs, _ = active.reset(seed=5)
    rule = KuramotoRule(gain=1.5)
    for _ in range(30):
        passive.step(np.zeros((2, 40, 1), dtype=np.float32))
        obs, *_ = active.step(rule.act(obs, active.task))
    np.testing.assert_allclose(np.cos(passive.task.phase), np.cos(active.task.phase), atol=1e-5)


def test_free_oscillators_advance_at_their_natural_frequency():
    venv = swarmzoo.make_vec("kuramoto-v0", 2, n_agents=30, frequency_distribution="uniform")
    venv.reset(seed=2)
    task = venv.task
    phase = task.phase.copy()
    venv.step(np.full((2, 30), task.config.n_controls // 2))
    np.testing.assert_allclose(
        np.exp(1j * task.phase), np.exp(1j * (phase + task.config.dt * task.omega)), atol=1e-12
    )
    assert (np.abs(task.omega) <= task.config.frequency_spread).all()


def test_kuramoto_frequency_distributions_have_the_right_spread():
    for dist, check in (
        ("normal", lambda w: np.std(w) == pytest.approx(0.5, rel=0.05)),
        ("cauchy", lambda w: np.median(np.abs(w)) == pytest.approx(0.5, rel=0.08)),
        (
            "uniform",
            lambda w: np.abs(w).max() <= 0.5 and np.std(w) == pytest.approx(0.5 / np.sqrt(3), rel=0.05),
        ),
    ):
        venv = swarmzoo.make_vec("kuramoto-v0", 1, n_agents=5000, frequency_distribution=dist, phase_bins=0)
        venv.reset(seed=0)
        assert check(venv.task.omega.ravel()), dist


# -- aggregation ----------------------------------------------------------------------------


@pytest.mark.parametrize("continuous", [False, True])
def test_local_centroid_rule_gathers_the_swarm(continuous):
    venv = swarmzoo.make_vec("aggregation-v0", 4, n_agents=50, continuous_actions=continuous)
    rule = LocalCentroidRule(seed=0)
    spread = _rollout(venv, lambda o: rule.act(o, venv.task), 100, "spread")
    random = make_policy("random", "aggregation-v0", seed=0)
    spread_random = _rollout(venv, lambda o: random.act(o, venv.task), 100, "spread")
    assert spread[-1].mean() < 0.5 * spread[0].mean()
    assert spread[-1].mean() < 0.5 * spread_random[-1].mean()


def test_aggregation_bodies_do_not_overlap_and_stay_inside():
    venv = swarmzoo.make_vec("aggregation-v0", 2, n_agents=30, robot_radius=0.1, density=0.5)
    task = venv.task
    obs, _ = venv.reset(seed=0)
    rule = LocalCentroidRule(seed=1)
    limit = task.arena.half - task.config.robot_radius
    for _ in range(80):
        obs, *_ = venv.step(rule.act(obs, task))
        assert (np.abs(task.pos) <= limit + 1e-12).all()
    # Soft bodies: a packed group keeps only small residual overlaps.
    gaps = np.linalg.norm(task.pos[:, :, None] - task.pos[:, None], axis=-1) + 10 * np.eye(30)
    assert gaps.min() > 2 * task.config.robot_radius * 0.8


def test_largest_group_counts_connected_robots():
    env = swarmzoo.make("aggregation-v0", n_agents=4, arena_width=20.0, sensing_radius=1.0, robot_radius=0.05)
    env.reset(seed=0)
    task = env.unwrapped.task
    task.pos[0] = [[0.0, 0.0], [0.9, 0.0], [1.8, 0.0], [8.0, 8.0]]  # a chain of 3 and a loner
    task._sense()
    _, _, _, _, infos = env.step(dict.fromkeys(env.agents, 0))
    assert infos["robot_0"]["largest_group"] == pytest.approx(0.75)
    assert [infos[a]["neighbours"] for a in env.possible_agents] == [1, 2, 1, 0]


# -- mean-field view and scale --------------------------------------------------------------


@pytest.mark.parametrize("env_id", ["flocking-v0", "kuramoto-v0", "aggregation-v0"])
def test_mean_field_samples_are_the_robot_states(env_id):
    venv = swarmzoo.make_vec(env_id, 2, n_agents=20)
    venv.reset(seed=0)
    mf = venv.mean_field()
    task = venv.task
    assert mf.samples.shape == (2, 20, len(mf.names))
    np.testing.assert_array_equal(mf.samples[..., :2], task.pos)
    angle = {"flocking-v0": "heading", "kuramoto-v0": "phase"}.get(env_id)
    if angle is not None:
        np.testing.assert_array_equal(mf.samples[..., mf.names.index(angle)], getattr(task, angle))
        assert mf.periodic[mf.names.index(angle)]
    inside = (mf.samples >= mf.low) & (mf.samples <= mf.high)
    assert inside[..., :2].all()
    np.testing.assert_allclose(mf.histogram(3).sum(axis=1), 1.0)


def test_order_parameter_info_matches_the_headings():
    venv = swarmzoo.make_vec("flocking-v0", 3, n_agents=25)
    venv.reset(seed=0)
    _, rewards, _, _, info = venv.step(np.zeros((3, 25), dtype=np.int64))
    np.testing.assert_allclose(info["order_parameter"], order_parameter(venv.task.heading))
    np.testing.assert_allclose(rewards, np.repeat(info["order_parameter"][:, None], 25, axis=1))


@pytest.mark.parametrize("env_id", ["flocking-v0", "kuramoto-v0", "aggregation-v0"])
def test_large_swarms_use_memory_linear_in_n(env_id):
    """20,000 robots: an N x N float matrix alone would take 3.2 GB; the edge lists take a few MB."""
    venv = swarmzoo.make_vec(env_id, 1, n_agents=20_000)
    tracemalloc.start()
    try:
        venv.reset(seed=0)
        venv.step(np.zeros((1, 20_000), dtype=np.int64))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 150e6


# -- edge cases ------------------------------------------------------------------------------


def test_single_level_action_sets_do_nothing():
    from swarmzoo.envs.flocking import Config as FlockingConfig
    from swarmzoo.envs.kuramoto import Config as KuramotoConfig

    assert FlockingConfig(n_turns=1).turns.tolist() == [0.0]
    assert KuramotoConfig(n_controls=1).controls.tolist() == [0.0]
    assert FlockingConfig(n_turns=5).turns[2] == 0.0 and KuramotoConfig(n_controls=7).controls[3] == 0.0


@pytest.mark.parametrize("method", ["dense", "tree"])
@pytest.mark.parametrize("boundary", ["torus", "walls"])
def test_a_robot_at_exactly_the_sensing_radius_is_not_sensed(method, boundary):
    """On a lattice with spacing = radius every path (capped graph, nearest slots) agrees."""
    xs = np.arange(4) - 1.5
    lattice = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(1, 16, 2)
    venv = swarmzoo.make_vec(
        "flocking-v0",
        1,
        n_agents=16,
        arena_width=4.0,
        boundary=boundary,
        sensing_radius=1.0,
        neighbour_method=method,
        heading_noise=0.0,
    )
    venv.reset(seed=0)
    task = venv.task
    task.pos[:] = lattice
    task._sense()
    obs = task.observe()
    assert task.graph.count().sum() == 0
    assert not obs[..., 2:].any()  # no count, no headings, no nearest slots


def test_local_order_reward_gives_a_lone_robot_nothing():
    env = swarmzoo.make("flocking-v0", n_agents=4, arena_width=50.0, reward="local", sensing_radius=0.5)
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step(dict.fromkeys(env.agents, 2))
    lone = [a for a in env.agents if infos[a]["neighbours"] == 0]
    assert lone and all(rewards[a] == 0.0 for a in lone)


def test_kuramoto_given_graph_couples_only_linked_robots():
    edges = ((0, 1), (1, 2), (1, 0))
    venv = swarmzoo.make_vec("kuramoto-v0", 1, n_agents=4, graph="given", edges=edges, phase_bins=0)
    obs, _ = venv.reset(seed=0)
    phase = venv.task.phase[0]
    assert obs[0, :, 1].tolist() == pytest.approx(
        np.array([1, 2, 1, 0]) / venv.task.config.expected_neighbours
    )
    np.testing.assert_allclose(obs[0, 0, 3], np.sin(phase[1] - phase[0]), rtol=1e-6)
    np.testing.assert_allclose(obs[0, 1, 3], np.mean(np.sin(phase[[0, 2]] - phase[1])), rtol=1e-6)
    assert not obs[0, 3, 1:].any()


def test_seeded_heuristic_evaluations_are_reproducible():
    from swarmzoo.evaluation import evaluate

    runs = [
        evaluate("aggregation-v0", make_policy("heuristic", "aggregation-v0", seed=4), episodes=2)[
            "mean_return"
        ]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_flocking_without_compass_is_rotation_invariant():
    """compass=False: the observation does not change when every heading turns by the same angle
    (with the compass it does); the rest of the layout is the compass run's."""

    def observations(compass: bool, turn: float) -> np.ndarray:
        venv = swarmzoo.make_vec("flocking-v0", 2, n_agents=30, k_robots=0, compass=compass)
        venv.reset(seed=3)
        task = venv.task
        task.heading = (task.heading + turn + np.pi) % (2 * np.pi) - np.pi
        task._obs = None  # headings changed behind the task's back: observe again
        return task.observe()

    base, turned = observations(False, 0.0), observations(False, 1.3)
    np.testing.assert_allclose(base, turned, atol=1e-5)
    assert (base[..., :2] == 0).all()
    with_compass = observations(True, 0.0)
    np.testing.assert_allclose(with_compass[..., 2:], base[..., 2:], atol=1e-6)
    assert not np.allclose(with_compass, observations(True, 1.3), atol=1e-3)


def test_flocking_initial_headings():
    """uniform: spread (order near 0 for a large swarm); aligned: one heading per copy (order 1),
    different across copies; opposed: two antiparallel halves (order 0 for even N); positions
    drawn as in the uniform start; a bad name is refused."""

    def start(kind: str, n: int = 200):
        venv = swarmzoo.make_vec("flocking-v0", 3, n_agents=n, initial_headings=kind)
        venv.reset(seed=4)
        return venv.task

    uniform, aligned, opposed = start("uniform"), start("aligned"), start("opposed")
    assert order_parameter(uniform.heading).max() < 0.25
    np.testing.assert_allclose(order_parameter(aligned.heading), 1.0)
    assert np.ptp(aligned.heading[:, 0]) > 1e-3  # each copy draws its own heading
    np.testing.assert_allclose(order_parameter(opposed.heading), 0.0, atol=1e-9)
    gap = np.angle(np.exp(1j * (opposed.heading[:, 150] - opposed.heading[:, 0])))
    np.testing.assert_allclose(np.abs(gap), np.pi)
    np.testing.assert_array_equal(aligned.pos, uniform.pos)
    with pytest.raises(ValueError, match="initial_headings"):
        swarmzoo.make("flocking-v0", initial_headings="random")
