"""Atomic file output: write to a temporary file beside the target, then rename; and a results
folder marked as incomplete while a run writes it (`writing_folder`)."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from solvers.errors import InputError

#: the file that marks a results folder a run is writing (or stopped writing)
INCOMPLETE = ".incomplete"


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path in the target's folder; on success it replaces ``path``.

    A crash or exception leaves the old file (if any) untouched and no partial file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix + ".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())     # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


@contextlib.contextmanager
def writing_folder(folder, run: str):
    """While the block runs, ``folder`` holds `INCOMPLETE`, which names the ``run`` writing it: its
    files may mix this run's and an earlier run's.  Removed when the block ends without an exception,
    so an interrupted run leaves it (`refuse_incomplete`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / INCOMPLETE, run + "\n")
    yield folder
    os.unlink(folder / INCOMPLETE)


def refuse_incomplete(folder) -> None:
    """`InputError` for a results folder whose writing run stopped before its end (`writing_folder`)."""
    marker = Path(folder) / INCOMPLETE
    if marker.is_file():
        run = marker.read_text(encoding="utf-8", errors="replace").strip()
        raise InputError(f"incomplete: the run writing it ({run}) stopped before its end, so its files may mix "
                         "that run's and an earlier one's: run it again", path=folder)
