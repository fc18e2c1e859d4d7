"""Scale-out path, as the README gives it: a Ray cluster started with `ray start --head` (as on a
head node), and `ray job submit --working-dir . -- python scripts/train_rllib.py --address auto`,
whose driver joins the cluster instead of starting its own Ray."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_train_rllib_as_a_ray_job_on_an_existing_cluster(tmp_path) -> None:
    port, dashboard = _free_port(), _free_port()
    # A throw-away one-machine cluster: no usage stats, and no token authentication (on a real
    # cluster, Ray's token from `ray start` must reach every node and driver; that is Ray's part).
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")
    head = ["ray", "start", "--head", f"--port={port}", f"--dashboard-port={dashboard}", "--num-cpus=2"]
    # Ray's session folder holds Unix sockets, whose paths must stay short (pytest's tmp_path is long).
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    started = subprocess.run([*head, f"--temp-dir={ray_tmp}"], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stderr[-3000:]
    try:
        run = tmp_path / "run"
        submit = [
            "ray",
            "job",
            "submit",
            "--address",
            f"http://127.0.0.1:{dashboard}",
            "--working-dir",
            str(ROOT),
        ]
        script = ["python", "scripts/train_rllib.py", "--address", "auto", "--stop-iters", "2"]
        script += ["--env-kwargs", "n_agents=3", "max_cycles=20", "--num-env-runners", "1"]
        script += ["--train-batch-size", "200", "--minibatch-size", "100", "--checkpoint-dir", str(run)]
        proc = subprocess.run([*submit, "--", *script], env=env, capture_output=True, text=True, timeout=600)
        log = proc.stderr + proc.stdout
        assert proc.returncode == 0, log[-3000:]
        assert "succeeded" in log
        # The job's driver joined the running cluster instead of starting its own Ray.
        assert "Connecting to existing Ray cluster" in log and f":{port}" in log
        summary = json.loads(next(line for line in log.splitlines() if line.startswith('{"env"')))
        assert summary["iterations"] == 2 and summary["env_steps"] == 400
        assert (run / "checkpoint").is_dir() and (run / "progress.csv").is_file()
    finally:
        subprocess.run(["ray", "stop", "--force"], env=env, capture_output=True, check=False)
        shutil.rmtree(ray_tmp, ignore_errors=True)
