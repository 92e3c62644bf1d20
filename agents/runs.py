"""Run folders: what makes a folder a labrace run, one writer at a time, reruns swapped in whole.

A *run folder* (``results/<run>/``) holds a ``config.json`` written by ``train.py train`` (its
``format``, ``env`` and ``trainer`` keys identify it); it is *finished* when its ``metrics.json``
(written last) reads back. The rules that keep results safe, used by ``train.py`` and the sweeps:

* :func:`run_lock`: one writer per run folder. An OS lock (``flock``) on ``<out>/.<run>.lock``:
  a second ``train.py`` aimed at the same folder is refused at once, and the lock goes with the
  process however it ends (Ctrl-C, a crash, ``kill -9``).
* :func:`staging_folder` / :func:`swap_in`: a rerun (``--overwrite``) is built in the hidden
  sibling ``<out>/.<run>.new/`` and swapped in only once it has finished, so the old run stays
  whole until the new one is complete; an interrupted or failed rerun leaves the old run as it was.
* Nothing that is not a run folder is ever replaced or deleted (:func:`is_run_folder`).
* :func:`prune_checkpoints`: only the newest few checkpoints are kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: checkpoints kept by default (the newest; the final model is saved apart)
KEEP_CHECKPOINTS = 2

#: the config.json keys that identify a labrace run folder
RUN_KEYS = ("format", "env", "trainer")


class RunBusy(Exception):
    """Another process holds the run folder's lock."""


def read_json_or_none(path: Path) -> Any:
    """The JSON content of ``path``, or None if it is missing, unreadable or not JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def run_config(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The run's config.json if ``folder`` is a labrace run folder, else None."""
    config = read_json_or_none(Path(folder) / "config.json")
    if isinstance(config, dict) and all(key in config for key in RUN_KEYS):
        return config
    return None


def is_run_folder(folder: str | os.PathLike) -> bool:
    return run_config(folder) is not None


def is_finished(folder: str | os.PathLike) -> bool:
    """A run folder whose metrics.json (written last) reads back as a labrace metrics record."""
    metrics = read_json_or_none(Path(folder) / "metrics.json")
    return is_run_folder(folder) and isinstance(metrics, dict) and "profiles" in metrics


def lock_path(run_dir: Path) -> Path:
    return run_dir.with_name(f".{run_dir.name}.lock")


def staging_folder(run_dir: Path) -> Path:
    """Where a rerun of ``run_dir`` is built before it replaces the finished one."""
    return run_dir.with_name(f".{run_dir.name}.new")


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``run_dir`` (raises :class:`RunBusy` if another process has it)."""
    import fcntl  # POSIX; labrace's run folders are written on Linux and macOS

    path = lock_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunBusy(f"{run_dir} is being written by another train.py (pid {holder}); wait for it or choose another --run-name") from None
        # the previous holder may have removed the file between our open and our lock: retry on the new one
        try:
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        handle.close()


def swap_in(staging: Path, run_dir: Path) -> None:
    """Replace ``run_dir`` by the finished ``staging`` folder (the old run is removed only after)."""
    retired = run_dir.with_name(f".{run_dir.name}.old")
    if retired.exists():
        shutil.rmtree(retired)
    if run_dir.exists():
        os.rename(run_dir, retired)
    os.rename(staging, run_dir)
    if retired.exists():
        shutil.rmtree(retired)


def prune_checkpoints(checkpoints: list[Path], keep: int = KEEP_CHECKPOINTS) -> None:
    """Delete all but the first ``keep`` of ``checkpoints`` (newest first), with their sidecars."""
    for path in checkpoints[keep:]:
        for companion in (path, path.with_suffix(".state.pkl")):
            with contextlib.suppress(FileNotFoundError):
                companion.unlink()
