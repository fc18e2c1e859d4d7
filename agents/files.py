"""Crash-safe writes and safe loading of swarmzoo's policy and checkpoint files:
:func:`atomic_torch_save` (temporary file, fsync, atomic rename) and :func:`safe_load`
(``torch.load(weights_only=True)``: a file that would run code is refused, with a clear error)."""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

POLICY_FORMAT = "swarmzoo-policy-v1"
"""The ``format`` entry of every swarmzoo policy and checkpoint file."""


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temporary file in the same folder, flushed to disk (``fsync``), then
    renamed over ``path`` (``os.replace``, atomic within a file system) and the folder synced: a
    crash or a kill leaves either the old file or the new one, never a torn one. A kill during
    the write can leave a ``.<name>.*`` temporary file beside it, which nothing reads (resumed runs
    remove it, see :func:`~swarmzoo.algorithms.common.logging.remove_partial_files`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: str | Path) -> None:
    """Flush a folder's entries (a rename into it) to disk, where the OS allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def safe_load(path: str | Path) -> dict[str, Any]:
    """Read a swarmzoo checkpoint or policy file without executing code from it.

    The file is read with ``torch.load(weights_only=True)`` (tensors and plain values only; a
    pickle that would call a function or build an object is refused before anything runs), after
    checking the CRC-32 of every member of the zip archive ``torch.save`` writes, so a truncated
    or bit-flipped file is reported as such instead of loading silently wrong tensors.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is truncated or corrupted, is not a plain-tensor checkpoint (e.g. a
            pickle that would run code), or is not a swarmzoo policy/checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no policy or checkpoint file at {path}")
    damaged = _damage(path)
    if damaged:
        raise ValueError(f"{path} is truncated or corrupted ({damaged}); it cannot be loaded")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # what weights_only raises for anything but plain data
        raise ValueError(
            f"refusing to load {path}: it is not a plain tensor checkpoint (loading it could execute "
            f"code). {_unpickler_reason(err)}"
        ) from err
    except Exception as err:  # noqa: BLE001 - torch raises RuntimeError/EOFError/... for damaged files
        raise ValueError(
            f"{path} is truncated or corrupted ({type(err).__name__}: {_first_line(err)}); "
            "it cannot be loaded"
        ) from err
    if not isinstance(data, dict) or data.get("format") != POLICY_FORMAT:
        raise ValueError(f"{path} is not a swarmzoo policy/checkpoint (format {POLICY_FORMAT})")
    return data


def _damage(path: Path) -> str | None:
    """Why ``path`` is visibly damaged (empty, or a zip member failing its CRC), else None. Files
    that are not zip archives (legacy ``torch.save`` files, a truncated archive, a bare pickle)
    are left to ``torch.load``, which refuses them."""
    if path.stat().st_size == 0:
        return "the file is empty"
    if not zipfile.is_zipfile(path):
        with path.open("rb") as f:
            starts_as_zip = f.read(4) == b"PK\x03\x04"
        return "an incomplete zip archive: its end is missing" if starts_as_zip else None
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        return f"unreadable zip archive: {_first_line(err)}"
    return f"CRC mismatch in {bad}" if bad is not None else None


def _first_line(err: BaseException) -> str:
    """The first sentence of an error message."""
    text = str(err).strip()
    return text.splitlines()[0].split(". ")[0] if text else "no details"


def _unpickler_reason(err: BaseException) -> str:
    """The unpickler's own reason (e.g. 'unsupported GLOBAL posix.system'), without torch's
    generic advice to retry with ``weights_only=False``, which would run the file's code."""
    lines = [
        line.strip()
        for line in str(err).splitlines()
        if line.strip()
        and "weights_only" not in line
        and not line.startswith(("Weights only load failed", "Check the documentation"))
    ]
    return f"Details: {' '.join(lines)}" if lines else ""
