"""User-supplied inputs get clear errors: ``--env-kwargs`` and other CLI values, trainer options,
swarms too large for memory (refused before anything is allocated), density map files and policy
files. Each error names what is wrong (the argument, the file); none is a deep library traceback.

swarmzoo reads no YAML or JSON configs from users: the structured inputs are ``--env-kwargs``
(Python literals), density images and policy files, all covered here.
"""

from __future__ import annotations

import string
import traceback
import tracemalloc
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import swarmzoo
from swarmzoo.algorithms.common.vector import parse_env_kwargs
from swarmzoo.cli import main
from swarmzoo.envs.core import task as task_module
from swarmzoo.envs.core.task import MemoryLimitError

REPO = Path(swarmzoo.__file__).resolve().parents[1]
OWN_CODE = tuple(REPO / d for d in ("envs", "swarmzoo", "agents", "algorithms"))
GIB = 2**30


def assert_own_error(err: BaseException, *names: str) -> None:
    frames = traceback.extract_tb(err.__traceback__)
    innermost = Path(frames[-1].filename).resolve()
    assert any(innermost.is_relative_to(root) for root in OWN_CODE), f"{err!r} raised from {innermost}"
    for name in names:
        assert name in str(err), f"{err} does not name {name!r}"


def cli_error(argv: list[str], capsys) -> str:
    """The message ``swarmzoo argv`` exits with (SystemExit text, or what the typed trainer CLI
    printed on stderr)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code not in (0, None)
    return f"{info.value.code} {capsys.readouterr().err}"


# -- --env-kwargs -------------------------------------------------------------------------------

PAIR_TEXT = st.text(string.printable, max_size=30)


@settings(max_examples=200)
@given(pairs=st.lists(PAIR_TEXT, max_size=5))
def test_parse_env_kwargs_parses_or_names_the_bad_item(pairs) -> None:
    """Any strings: a dict of stripped keys, or a ValueError naming the item at fault."""
    try:
        out = parse_env_kwargs(pairs)
    except ValueError as err:
        assert any(repr(p) in str(err) or repr(p.partition("=")[0].strip()) in str(err) for p in pairs)
        return
    assert len(out) == len(pairs)
    assert all(isinstance(k, str) and k == k.strip() and k for k in out)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (["n_agents=5", "boundary=torus"], {"n_agents": 5, "boundary": "torus"}),
        (["x={[1]: 2}"], {"x": "{[1]: 2}"}),  # not a literal (TypeError inside literal_eval): a string
        (["x=" + "[" * 5000], {"x": "[" * 5000}),  # too deeply nested: a string
        (["x=1e400"], {"x": float("inf")}),
        ([" n_agents = 3"], {"n_agents": 3}),
        (["preset=mpe_spread"], {"preset": "mpe_spread"}),
        (["x=a=b"], {"x": "a=b"}),
    ],
)
def test_parse_env_kwargs_values(pairs, expected) -> None:
    assert parse_env_kwargs(pairs) == expected


@pytest.mark.parametrize(
    ("pairs", "name"),
    [(["n_agents"], "'n_agents'"), (["=3"], "'=3'"), ([" =3"], "' =3'"), (["n=1", "n=2"], "'n'")],
)
def test_parse_env_kwargs_malformed(pairs, name) -> None:
    with pytest.raises(ValueError, match="KEY=VALUE|given twice") as info:
        parse_env_kwargs(pairs)
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("env", "kwargs", "names"),
    [
        ("navigation-v0", ["n_agents=abc"], ["n_agents", "'abc'"]),
        ("navigation-v0", ["n_agents=2.5"], ["n_agents"]),
        ("navigation-v0", ["n_agents=-3"], ["n_agents"]),
        ("navigation-v0", ["n_agents=0"], ["n_agents"]),
        ("navigation-v0", ["n_agents=10**9"], ["n_agents"]),  # not a literal: the string "10**9"
        ("navigation-v0", ["n_agents=1e400"], ["n_agents"]),
        ("navigation-v0", ["arena_width=nan"], ["arena_width"]),
        ("navigation-v0", ["arena_width=1e400"], ["arena_width"]),
        ("navigation-v0", ["arena_width=1e300"], ["arena_width"]),
        ("navigation-v0", ["mass=1e-300"], ["mass"]),
        ("navigation-v0", ["boundary=moebius"], ["boundary", "moebius"]),
        ("navigation-v0", ["continuous_actions=yes"], ["continuous_actions"]),
        ("navigation-v0", ["n_agnts=3"], ["'n_agnts'", "did you mean 'n_agents'"]),
        ("navigation-v0", ["bogus=1"], ["'bogus'"]),
        ("navigation-v0", ["preset=[1]"], ["preset"]),
        ("navigation-v0", ["preset=nope"], ["preset", "nope"]),
        ("navigation-v0", ["render_mode=3"], ["render_mode"]),
        ("navigation-v0", ["n_agents"], ["'n_agents'", "KEY=VALUE"]),
        ("navigation-v0", ["=3"], ["KEY=VALUE"]),
        ("navigation-v0", ["n_agents=3", "n_agents=4"], ["'n_agents'", "twice"]),
        ("flocking-v0", ["n_turns=4"], ["n_turns"]),
        ("flocking-v0", ["heading_noise=-1"], ["heading_noise"]),
        ("kuramoto-v0", ["graph=given", "edges=abc"], ["edges"]),
        ("kuramoto-v0", ["graph=given", "edges=5"], ["edges"]),
        ("kuramoto-v0", ["n_agents=5", "graph=given", "edges=((0, 9),)"], ["edges", "(0, 9)"]),
        ("aggregation-v0", ["density=0"], ["density"]),
        ("coverage-v0", ["gaussians=((0, 0, 0, 1),)"], ["gaussians"]),
        ("coverage-v0", ["map={[1]: 2}"], ["map"]),
        ("coverage-v0", ["map=3"], ["map"]),
        ("byzantine-tracking-v0", ["byzantine_ids=5"], ["byzantine_ids"]),
        ("byzantine-tracking-v0", ["n_byzantine=50"], ["n_robots"]),
        ("byzantine-timesync-v0", ["attack=teleport"], ["attack", "teleport"]),
        ("byzantine-localization-v0", ["n_agents=5"], ["'n_agents'", "did you mean 'n_robots'"]),
    ],
)
def test_evaluate_with_bad_env_kwargs(env, kwargs, names, capsys) -> None:
    message = cli_error(
        ["evaluate", "--env", env, "--policy", "random", "--episodes", "1", "--env-kwargs", *kwargs], capsys
    )
    assert "swarmzoo: error:" in message
    for name in names:
        assert name in message, f"{message!r} does not name {name!r}"


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--seed", "-2"], ["seed"]),
        (["--episodes", "0"], ["episodes"]),
        (["--episodes", "-3"], ["episodes"]),
        (["--n-agents", "-2"], ["n_agents"]),
        (["--n-agents", "abc"], ["n-agents"]),
        (["--policy", "nope"], ["nope"]),
    ],
)
def test_evaluate_with_bad_options(argv, names, capsys) -> None:
    message = cli_error(["evaluate", "--env", "navigation-v0", "--policy", "random", *argv], capsys)
    for name in names:
        assert name in message


def test_render_with_bad_env_kwargs(tmp_path, capsys) -> None:
    out = str(tmp_path / "x.gif")
    message = cli_error(["render", "navigation-v0", "--out", out, "--env-kwargs", "n_agents=abc"], capsys)
    assert "n_agents" in message and not (tmp_path / "x.gif").exists()
    message = cli_error(["render", "coverage-v0", "--out", out, "--map", str(tmp_path / "none.png")], capsys)
    assert "none.png" in message


# -- trainer options ------------------------------------------------------------------------------

TRAINERS = {"ctde": "navigation-v0", "mean-field": "flocking-v0", "bayes-net": "navigation-v0"}


@pytest.mark.parametrize("algo", sorted(TRAINERS))
@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["--total-steps", "-5"], "total_steps"),
        (["--total-steps", "abc"], "total-steps"),
        (["--num-envs", "0"], "num_envs"),
        (["--rollout-steps", "0"], "rollout_steps"),
        (["--lr", "nan"], "lr"),
        (["--lr", "inf"], "lr"),
        (["--lr", "-1e-3"], "lr"),
        (["--ent-coef", "nan"], "ent_coef"),
        (["--ent-coef", "-1"], "ent_coef"),
        (["--vf-coef", "inf"], "vf_coef"),
        (["--max-grad-norm", "0"], "max_grad_norm"),
        (["--value-clip", "-0.2"], "value_clip"),
        (["--clip-coef", "0"], "clip_coef"),
        (["--gamma", "2"], "gamma"),
        (["--gae-lambda", "nan"], "gae_lambda"),
        (["--hidden", "0"], "hidden"),
        (["--hidden", "64", "-8"], "hidden"),
        (["--seed", "-1"], "seed"),
        (["--epochs", "0"], "epochs"),
    ],
)
def test_trainers_refuse_bad_options(algo, argv, name, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    message = cli_error(
        ["train", algo, "--env", TRAINERS[algo], "--no-progress", "--no-tensorboard", *argv], capsys
    )
    assert name in message, message
    assert not any(tmp_path.iterdir()), "a refused run must not create a run folder"


@pytest.mark.parametrize("algo", sorted(TRAINERS))
@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["--env-kwargs", "n_agents=abc"], "n_agents"),
        (["--env-kwargs", "bogus=1"], "bogus"),
        (["--env-kwargs", "n_agents"], "KEY=VALUE"),
        (["--env", "nowhere-v0"], "nowhere-v0"),
    ],
)
def test_trainers_refuse_bad_envs(algo, argv, name, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    base = [
        "train",
        algo,
        "--env",
        TRAINERS[algo],
        "--total-steps",
        "100",
        "--no-progress",
        "--no-tensorboard",
    ]
    message = cli_error(base + argv, capsys)
    assert "swarmzoo: error:" in message and name in message, message


# -- swarms beyond memory -------------------------------------------------------------------------


@pytest.fixture
def eight_gib(monkeypatch):
    """A machine with 8 GiB of memory, whatever this one has."""
    monkeypatch.setattr(task_module, "memory_limit", lambda: 8 * GIB)


def _refused_without_allocating(make, *names: str) -> MemoryLimitError:
    tracemalloc.start()
    try:
        with pytest.raises(MemoryLimitError) as info:
            make()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB allocated before the refusal"
    err = info.value
    assert isinstance(err, MemoryError) and isinstance(err, ValueError)
    assert_own_error(err, *names, "GiB")
    return err


HUGE = [
    ("flocking-v0", 1000, {"n_agents": 10**9}, ["n_agents", "num_envs", "1,000,000,000"]),
    ("flocking-v0", 1, {"n_agents": 10**9}, ["n_agents"]),
    ("navigation-v0", 1, {"n_agents": 10**8}, ["n_agents"]),
    ("navigation-v0", 10**6, {"n_agents": 1000}, ["num_envs", "1,000,000"]),
    ("navigation-v0", 1, {"preset": "mpe_spread", "n_agents": 30_000}, ["n_agents"]),  # obs grow with N
    ("kuramoto-v0", 1, {"n_agents": 10**9, "phase_bins": 0}, ["n_agents"]),
    ("aggregation-v0", 10**4, {"n_agents": 10**5}, ["num_envs"]),
    ("coverage-v0", 1, {"n_agents": 10**9}, ["n_agents"]),
    (
        "coverage-v0",
        10**6,
        {"n_agents": 1, "gaussians": ((0, 0, 1, 1),), "map_resolution": 1024},
        ["num_envs"],
    ),
    ("byzantine-tracking-v0", 1, {"n_robots": 10**6}, ["n_robots"]),
    ("byzantine-timesync-v0", 1, {"n_robots": 10**9}, ["n_robots"]),
    ("byzantine-localization-v0", 1, {"n_robots": 10**6}, ["n_robots"]),
]


@pytest.mark.parametrize(
    ("env_id", "num_envs", "kwargs", "names", "face"),
    # The PettingZoo face has one env copy: only the single-copy cases apply to it.
    [(*case, "vector") for case in HUGE] + [(*case, "parallel") for case in HUGE if case[1] == 1],
)
def test_huge_swarms_are_refused_before_allocating(env_id, num_envs, kwargs, names, face, eight_gib) -> None:
    if face == "parallel":
        _refused_without_allocating(lambda: swarmzoo.make(env_id, **kwargs), *names)
    else:
        _refused_without_allocating(lambda: swarmzoo.make_vec(env_id, num_envs, **kwargs), *names)


def test_huge_swarm_refused_on_any_machine() -> None:
    """The issue's example, with this machine's real memory (no machine has 900 TB)."""
    _refused_without_allocating(lambda: swarmzoo.make_vec("flocking-v0", 1000, n_agents=10**9), "n_agents")


def test_direct_task_construction_is_checked_too(eight_gib) -> None:
    from swarmzoo.envs.navigation import Config, Navigation

    _refused_without_allocating(lambda: Navigation(Config(n_agents=10**8), n_envs=1), "n_agents")


def test_swarms_that_fit_are_built(eight_gib) -> None:
    venv = swarmzoo.make_vec("flocking-v0", 1, n_agents=20_000, max_cycles=2)
    obs, _ = venv.reset(seed=0)
    assert obs.shape[:2] == (1, 20_000)


def test_memory_limit_reads_this_machine() -> None:
    limit = task_module.memory_limit()
    assert limit > 2**28  # some memory, in bytes


def test_huge_swarm_through_the_cli(eight_gib, capsys) -> None:
    message = cli_error(["evaluate", "--env", "navigation-v0", "--env-kwargs", "n_agents=100000000"], capsys)
    assert "n_agents" in message and "GiB" in message


def test_huge_episode_count_through_the_cli(capsys, monkeypatch) -> None:
    monkeypatch.setattr(task_module, "memory_limit", lambda: GIB // 4)
    argv = [
        "evaluate",
        "--env",
        "navigation-v0",
        "--policy",
        "random",
        "--episodes",
        "10",
        "--n-agents",
        "10000000",
    ]
    message = cli_error(argv, capsys)
    assert "num_envs" in message


# -- density maps ---------------------------------------------------------------------------------


def _write_maps(folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    good = (rng.random((16, 16)) * 255).astype(np.uint8)
    iio.imwrite(folder / "good.png", good)
    png = (folder / "good.png").read_bytes()
    files = {
        "text": folder / "some.txt",
        "truncated": folder / "truncated.png",
        "empty": folder / "empty.png",
        "one_pixel": folder / "one.png",
        "one_row": folder / "row.png",
        "black": folder / "black.png",
        "garbage": folder / "garbage.png",
        "fake_jpeg": folder / "fake.jpg",
        "animated": folder / "anim.gif",
        "nan": folder / "nan.tiff",
        "negative": folder / "negative.tiff",
        "five_channels": folder / "five.tiff",
        "directory": folder / "folder.png",
        "missing": folder / "missing.png",
    }
    files["text"].write_text("not an image\n")
    files["truncated"].write_bytes(png[: len(png) // 2])
    files["empty"].write_bytes(b"")
    iio.imwrite(files["one_pixel"], np.array([[200]], dtype=np.uint8))
    iio.imwrite(files["one_row"], good[:1])
    iio.imwrite(files["black"], np.zeros((8, 8), dtype=np.uint8))
    files["garbage"].write_bytes(bytes(rng.integers(0, 256, 400, dtype=np.uint8)))
    files["fake_jpeg"].write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    iio.imwrite(files["animated"], np.stack([good, good // 2, good // 3]))
    iio.imwrite(files["nan"], np.full((4, 4), np.nan, dtype=np.float32))
    iio.imwrite(files["negative"], -np.ones((4, 4), dtype=np.float32))
    iio.imwrite(files["five_channels"], np.ones((4, 4, 5), dtype=np.float32))
    files["directory"].mkdir()
    return files


MAP_FAULTS = [
    ("text", "not a readable image"),
    ("truncated", "not a readable image"),
    ("empty", "empty file"),
    ("one_pixel", "at least 2 x 2"),
    ("one_row", "at least 2 x 2"),
    ("black", "zero everywhere"),
    ("garbage", "not a readable image"),
    ("fake_jpeg", "not a readable image"),
    ("animated", "not one grayscale"),
    ("nan", "NaN"),
    ("negative", "negative"),
    ("five_channels", "not one grayscale"),
    ("directory", "neither a shipped map"),
    ("missing", "neither a shipped map"),
]


@pytest.mark.parametrize(("fault", "match"), MAP_FAULTS)
@pytest.mark.parametrize("face", ["parallel", "vector"])
def test_bad_map_files_name_the_file(fault, match, face, tmp_path) -> None:
    path = _write_maps(tmp_path)[fault]
    with pytest.raises(ValueError, match=match) as info:
        if face == "parallel":
            swarmzoo.make("coverage-v0", map=str(path))
        else:
            swarmzoo.make_vec("coverage-v0", 2, map=str(path))
    assert_own_error(info.value, str(path))


@pytest.mark.parametrize(
    "name", ["", ".", "RING", "ring ", "~/x.png", "two_hotspots\x00", "a" * 5000, "/" * 3]
)
def test_odd_map_names_are_refused_by_name(name) -> None:
    with pytest.raises(ValueError, match="neither a shipped map") as info:
        swarmzoo.make("coverage-v0", map=name)
    assert_own_error(info.value, "map")


def test_good_maps_in_every_mode_load(tmp_path) -> None:
    rng = np.random.default_rng(1)
    gray = (rng.random((12, 20)) * 255).astype(np.uint8)
    images = {
        "gray.png": gray,
        "gray16.png": gray.astype(np.uint16) * 200,
        "la.png": np.dstack([gray, np.full_like(gray, 255)]),
        "rgb.png": np.dstack([gray] * 3),
        "rgba.png": np.dstack([gray] * 3 + [np.full_like(gray, 128)]),
        "float.tiff": gray.astype(np.float32) / 255,
    }
    for name, image in images.items():
        iio.imwrite(tmp_path / name, image)
        env = swarmzoo.make("coverage-v0", map=str(tmp_path / name), max_cycles=2)
        density = env.unwrapped.task.density
        assert density.shape == (12, 20) and np.isclose(density.sum(), 1.0), name


def test_bad_map_through_the_cli(tmp_path, capsys) -> None:
    path = _write_maps(tmp_path)["truncated"]
    message = cli_error(["evaluate", "--env", "coverage-v0", "--env-kwargs", f"map={path}"], capsys)
    assert str(path) in message and "not a readable image" in message


# -- policy files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", bytes(range(256)) * 2, b'{"env_id": "navigation-v0"}', None])
def test_bad_policy_files_name_the_file(content, tmp_path, capsys) -> None:
    path = tmp_path / "policy.pt"
    if content is not None:
        path.write_bytes(content)
    message = cli_error(["evaluate", str(path), "--episodes", "1"], capsys)
    assert str(path) in message
