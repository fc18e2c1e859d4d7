"""The swarmzoo command, run in-process: list, train, evaluate, render, plot, and its errors."""

from __future__ import annotations

import json

import imageio.v3 as iio
import pytest

from swarmzoo.cli import main

TINY_TRAIN = [
    "--total-steps",
    "400",
    "--num-envs",
    "2",
    "--rollout-steps",
    "50",
    "--epochs",
    "1",
    "--no-progress",
    "--no-tensorboard",
]


def test_list_shows_envs_and_arguments(capsys) -> None:
    main(["list"])
    out = capsys.readouterr().out
    assert "navigation-v0" in out and "n_agents" in out and "local_ratio" in out


def test_evaluate_builtin_policy_json(capsys) -> None:
    main(["evaluate", "--env", "navigation-v0", "--policy", "heuristic", "--episodes", "3", "--json"])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    data = json.loads(line)
    assert data["episodes"] == 3 and {"mean_return", "std_return"} <= set(data)


def test_render_gif(tmp_path, capsys) -> None:
    out = tmp_path / "nav.gif"
    main(
        [
            "render",
            "navigation-v0",
            "--policy",
            "random",
            "--out",
            str(out),
            "--env-kwargs",
            "n_agents=4",
            "max_cycles=5",
        ]
    )
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == 6 and frames.shape[-1] in (3, 4)


def test_train_evaluate_render_plot_a_run(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    main(
        [
            "train",
            "ctde",
            "--env",
            "navigation-v0",
            "--seed",
            "3",
            "--out",
            str(run),
            "--critic",
            "local",
            "--env-kwargs",
            "n_agents=3",
            *TINY_TRAIN,
        ]
    )
    assert (run / "policy.pt").is_file()
    capsys.readouterr()
    main(["evaluate", str(run), "--episodes", "2", "--n-agents", "6", "--json"])
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data["env_kwargs"]["n_agents"] == 6 and data["episodes"] == 2
    main(
        [
            "render",
            "navigation-v0",
            "--policy",
            str(run),
            "--out",
            str(tmp_path / "r.gif"),
            "--env-kwargs",
            "max_cycles=4",
        ]
    )
    assert (tmp_path / "r.gif").is_file()
    main(["plot", str(run), "--out", str(tmp_path / "c.png")])
    assert iio.imread(tmp_path / "c.png").ndim == 3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["render", "navigation-v9", "--out", "x.gif"], "unknown env id"),
        (["render", "navigation-v0", "--out", "x.avi"], "must end in .gif or .mp4"),
        (["evaluate", "--env", "navigation-v0", "--env-kwargs", "n_agnts=3"], "did you mean 'n_agents'"),
        (["evaluate", "--episodes", "2"], "RUN_DIR or --env"),
        (["evaluate", "--env", "navigation-v0", "--policy", "nope"], "unknown policy"),
        (["train", "sac"], "unknown algorithm"),
    ],
)
def test_errors_are_clear(tmp_path, monkeypatch, argv, message) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert message in str(info.value)


def test_pretrained_policy_ships_and_beats_random(capsys) -> None:
    main(["evaluate", "--env", "navigation-v0", "--policy", "pretrained", "--episodes", "8", "--json"])
    pretrained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    main(["evaluate", "--env", "navigation-v0", "--policy", "random", "--episodes", "8", "--json"])
    random = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert pretrained["mean_return"] > random["mean_return"] + 5.0
