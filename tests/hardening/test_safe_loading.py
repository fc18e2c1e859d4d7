"""Every entry point that reads a policy or checkpoint refuses a malicious pickle before any of its
code runs, and reports a truncated or corrupted file as such (a ``ValueError``, or the CLI's
``swarmzoo: error: ...`` exit), never a traceback from ``zipfile`` or torch's zip reader.

The malicious files hold an object whose unpickling runs ``touch MARKER`` (``__reduce__`` returning
``os.system``), saved with ``torch.save`` (zip format), the legacy ``torch.save`` format and plain
``pickle.dump``; a positive control checks that unsafe loading would indeed create the marker.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from swarmzoo import cli
from swarmzoo.agents import make_policy
from swarmzoo.agents.files import safe_load
from swarmzoo.agents.mean_field import ClosedLoopPolicy
from swarmzoo.agents.policy_files import load_policy
from swarmzoo.algorithms import bayes_net, ctde, mean_field

REPO = Path(__file__).resolve().parents[2]
# torch's restricted unpickler notes the plain pickle's protocol before refusing it.
pytestmark = pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _payload(marker: Path) -> dict:
    return {"format": "swarmzoo-policy-v1", "algo": "ctde", "actor": _Exploit(marker)}


def _torch_zip(path: Path, marker: Path) -> None:
    torch.save(_payload(marker), path)


def _torch_legacy(path: Path, marker: Path) -> None:
    torch.save(_payload(marker), path, _use_new_zipfile_serialization=False)


def _plain_pickle(path: Path, marker: Path) -> None:
    with path.open("wb") as f:
        pickle.dump(_payload(marker), f)


MALICIOUS = {"torch_save": _torch_zip, "torch_legacy": _torch_legacy, "pickle_dump": _plain_pickle}


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> dict[str, bytes]:
    """The bytes of a real policy file and training checkpoint (a 2-update ctde run)."""
    out = tmp_path_factory.mktemp("genuine") / "run"
    ctde.train(
        ctde.Args(
            out=out,
            total_steps=40,
            num_envs=2,
            rollout_steps=10,
            epochs=1,
            minibatches=1,
            hidden=(8,),
            progress=False,
            tensorboard=False,
        )
    )
    return {
        "policy": (out / "policy.pt").read_bytes(),
        "checkpoint": (out / "checkpoints" / "latest.pt").read_bytes(),
    }


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _bit_flipped(data: bytes) -> bytes:
    """One byte flipped in the middle of the largest tensor storage (a silent change of weights
    that only the zip archive's CRC-32 reveals)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = max(archive.infolist(), key=lambda info: info.file_size)
    name_len, extra_len = struct.unpack("<HH", data[member.header_offset + 26 : member.header_offset + 30])
    middle = member.header_offset + 30 + name_len + extra_len + member.file_size // 2
    flipped = bytearray(data)
    flipped[middle] ^= 0x01
    return bytes(flipped)


def _empty(data: bytes) -> bytes:
    return b""


CORRUPT = {"truncated": _truncated, "bit_flipped": _bit_flipped, "empty": _empty}

TRAIN = ["--no-progress", "--no-tensorboard"]
# Entry points, each reading RUN/policy.pt (policies) or RUN/checkpoints/latest.pt (resume).
ENTRY_POINTS: dict[str, Callable[[Path, Path], object]] = {
    "safe_load": lambda run, tmp: safe_load(run / "policy.pt"),
    "load_policy": lambda run, tmp: load_policy(run / "policy.pt"),
    "make_policy(file)": lambda run, tmp: make_policy(str(run / "policy.pt"), "navigation-v0"),
    "make_policy(run dir)": lambda run, tmp: make_policy(str(run), "navigation-v0"),
    "ClosedLoopPolicy": lambda run, tmp: ClosedLoopPolicy(run),
    "swarmzoo evaluate RUN_DIR": lambda run, tmp: cli.main(["evaluate", str(run), "--episodes", "1"]),
    "swarmzoo render --policy FILE": lambda run, tmp: cli.main(
        ["render", "navigation-v0", "--policy", str(run / "policy.pt"), "--out", str(tmp / "x.gif")]
    ),
    "swarmzoo coverage-figure --policies FILE": lambda run, tmp: cli.main(
        ["coverage-figure", "--policies", str(run / "policy.pt"), "--maps", "uniform", "--seeds", "1"]
        + ["--out", str(tmp / "w2.png")]
    ),
    "ctde.train(resume)": lambda run, tmp: ctde.train(
        ctde.Args(out=run, resume=True, num_envs=2, progress=False, tensorboard=False)
    ),
    "mean_field.train(resume)": lambda run, tmp: mean_field.train(
        mean_field.Args(out=run, resume=True, num_envs=2, progress=False, tensorboard=False)
    ),
    "bayes_net.train(resume)": lambda run, tmp: bayes_net.train(
        bayes_net.Args(out=run, resume=True, num_envs=2, progress=False, tensorboard=False)
    ),
    "swarmzoo train ctde --resume": lambda run, tmp: cli.main(
        ["train", "ctde", "--out", str(run), "--resume", *TRAIN]
    ),
    "swarmzoo train mean-field --resume": lambda run, tmp: cli.main(
        ["train", "mean-field", "--out", str(run), "--resume", *TRAIN]
    ),
    "swarmzoo train bayes-net --resume": lambda run, tmp: cli.main(
        ["train", "bayes-net", "--out", str(run), "--resume", *TRAIN]
    ),
}


def _place(run: Path, write: Callable[[Path], None]) -> None:
    """Put the same file where every entry point looks: the policy and the checkpoint."""
    (run / "checkpoints").mkdir(parents=True)
    write(run / "policy.pt")
    write(run / "checkpoints" / "latest.pt")


def _refused(entry: str, run: Path, tmp: Path) -> str:
    """Call the entry point; it must fail with a ValueError or the CLI's clean exit. Returns the
    message."""
    with pytest.raises((ValueError, SystemExit)) as info:
        ENTRY_POINTS[entry](run, tmp)
    message = str(info.value)
    if isinstance(info.value, SystemExit):
        assert message.startswith("swarmzoo: error: "), message
    return message


@pytest.mark.parametrize("kind", list(MALICIOUS))
def test_the_payloads_are_live(kind: str, tmp_path) -> None:
    """Positive control: loading the file the unsafe way runs its code."""
    marker = tmp_path / "MARKER"
    MALICIOUS[kind](tmp_path / "bad.pt", marker)
    if kind == "pickle_dump":
        with (tmp_path / "bad.pt").open("rb") as f:
            pickle.load(f)  # noqa: S301 - the point of the control
    else:
        torch.load(tmp_path / "bad.pt", weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("kind", list(MALICIOUS))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_malicious_pickle_is_refused_before_it_runs(entry: str, kind: str, tmp_path) -> None:
    marker = tmp_path / "MARKER"
    run = tmp_path / "run"
    _place(run, lambda path: MALICIOUS[kind](path, marker))
    message = _refused(entry, run, tmp_path)
    assert "refusing to load" in message and "could execute code" in message, message
    assert "weights_only=False" not in message  # torch's advice to load it unsafely is not passed on
    assert not marker.exists(), f"{entry} ran code from a {kind} file"


@pytest.mark.parametrize("kind", list(CORRUPT))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_damaged_file_is_a_clear_error(entry: str, kind: str, genuine, tmp_path) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "policy.pt").write_bytes(CORRUPT[kind](genuine["policy"]))
    (run / "checkpoints" / "latest.pt").write_bytes(CORRUPT[kind](genuine["checkpoint"]))
    message = _refused(entry, run, tmp_path)
    assert "truncated or corrupted" in message, message


def test_the_genuine_files_load(genuine, tmp_path) -> None:
    """The damaged copies above fail because of the damage: the originals load."""
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "policy.pt").write_bytes(genuine["policy"])
    (run / "checkpoints" / "latest.pt").write_bytes(genuine["checkpoint"])
    assert make_policy(str(run), "navigation-v0") is not None
    assert safe_load(run / "checkpoints" / "latest.pt")["update"] == 2


def test_a_policy_file_is_not_a_checkpoint_to_resume(genuine, tmp_path) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "latest.pt").write_bytes(genuine["policy"])
    with pytest.raises(SystemExit, match="policy file, not a training checkpoint"):
        cli.main(["train", "ctde", "--out", str(run), "--resume", "--num-envs", "2", *TRAIN])


def test_resume_without_a_checkpoint_is_a_clean_cli_error(tmp_path) -> None:
    with pytest.raises(SystemExit, match="swarmzoo: error: no policy or checkpoint file"):
        cli.main(["train", "ctde", "--out", str(tmp_path / "nothing"), "--resume", *TRAIN])


# Calls that can execute code from a file. Policies and checkpoints are read only through
# swarmzoo.agents.files.safe_load; third-party formats (SB3 zips, RLlib checkpoints) are
# loaded by those libraries and documented as trusted-files-only.
UNSAFE_CALL = re.compile(
    r"\b(torch\.load|pickle\.loads?|cloudpickle\.loads?|dill\.loads?)\(|allow_pickle=True"
)


def test_nothing_else_reads_pickles() -> None:
    found = []
    for folder in ("swarmzoo", "agents", "algorithms", "envs", "assets"):
        for path in (REPO / folder).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if UNSAFE_CALL.search(line) and not line.lstrip().startswith(("#", "``", "*")):
                    found.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    allowed = [f for f in found if f.startswith("agents/files.py") and "weights_only=True" in f]
    assert found == allowed, "load policies and checkpoints with safe_load:\n" + "\n".join(found)
