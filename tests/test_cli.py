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


def test_evaluate_reports_each_objective(capsys) -> None:
    """With objectives, one mean return per objective (a move costs energy 1 per step, so the
    heuristic's energy return is minus its moves: between -steps and 0)."""
    argv = ["evaluate", "--env", "navigation-v0", "--policy", "heuristic", "--episodes", "3"]
    main([*argv, "--env-kwargs", "objectives=goals,energy", "--json"])
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data["objectives"] == ["goals", "energy"] and "mean_return" not in data
    assert data["mean_returns"][0] < 0 and -50 <= data["mean_returns"][1] < 0
    main([*argv, "--env-kwargs", "objectives=goals,energy"])
    assert "mean returns goals " in capsys.readouterr().out


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


def test_train_takes_the_envs_typed_settings(tmp_path, capsys) -> None:
    """``--env-config.FIELD`` options come from the env's Config dataclass: parsed with their
    types, validated by the Config, joined with --env-kwargs, documented in --help."""
    run = tmp_path / "typed"
    argv = ["train", "bayes-net", "--env", "aloha-v0", "--out", str(run), *TINY_TRAIN]
    main([*argv, "--env-config.n-agents", "4", "--env-config.arrival", "0.5", "--env-kwargs", "buffer=2"])
    config = json.loads((run / "config.json").read_text())
    assert config["env_kwargs"] == ["buffer=2", "n_agents=4", "arrival=0.5"]
    with pytest.raises(SystemExit, match="given both"):
        main([*argv, "--env-config.n-agents", "4", "--env-kwargs", "n_agents=3"])
    with pytest.raises(SystemExit):  # the Config's own check: more channels than robots
        main([*argv, "--env-config.n-channels", "9"])
    printed = capsys.readouterr()
    assert "at most n_agents" in " ".join((printed.out + printed.err).replace("│", " ").split())
    with pytest.raises(SystemExit):  # not an integer
        main([*argv, "--env-config.n-agents", "four"])
    with pytest.raises(SystemExit):
        main(["train", "ctde", "--env", "flocking-v0", "--help"])
    out = capsys.readouterr().out
    assert "--env-config.n-agents" in out and "--env-config.heading-noise" in out
