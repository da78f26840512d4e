"""One command at a time in an output folder: an advisory lock on the folder.

Two ``pingan run`` with different seeds into the same ``--out`` would both write
``metrics.csv``, ``summary.csv`` and the plots, and the last to finish would silently win
with a mixture of both runs' files. The first command to start holds an operating-system
lock (``fcntl.flock``) on the folder itself; a second one is refused at once, naming the
process that holds it (the holder writes its pid and command to ``.pingan.lock`` in the folder,
once its inputs are accepted). The operating system releases the lock when the holder closes
the folder — at the end of the command, or when its process dies, SIGKILL included — so a
crash never leaves a folder locked. Locking the folder creates no file, so a command refused
for another reason (a damaged results store in the folder) leaves the folder as it was.

``flock`` locks are advisory: they keep out other ``pingan`` commands, not other programs.
On a system without ``fcntl`` (Windows) the folder is not locked.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["FolderLock", "FolderBusy", "LOCK_NAME"]

#: The file in a locked folder that names the process holding the lock.
LOCK_NAME = ".pingan.lock"
#: Longest holder description read back from a lock file [bytes].
_MAX_HOLDER_BYTES = 1000


class FolderBusy(RuntimeError):
    """Another process holds the folder's lock. The message names it."""


class FolderLock:
    """The lock of one output folder, held from :meth:`acquire` until :meth:`release` or process exit.

    Args:
        folder: The output folder (it must exist).

    Example:
        >>> with FolderLock(out):  # doctest: +SKIP
        ...     write_results(out)
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, announce: bool = True) -> FolderLock:
        """Take the lock without waiting.

        Args:
            announce: Also write this process's pid and command to :data:`LOCK_NAME` (else call
                :meth:`announce` once the command's inputs are accepted).

        Raises:
            FolderBusy: Another process holds it (the message names its pid and command).
            OSError: The folder cannot be opened.
        """
        if fcntl is None or self._fd is not None:
            return self
        fd = os.open(self.folder, os.O_RDONLY)  # a folder can be locked like a file (flock(2))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderBusy(f"{self.folder}: another pingan command is writing into this folder "
                             f"({self._holder()}); wait for it to finish, or give another --out") from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        if announce:
            self.announce()
        return self

    def announce(self) -> None:
        """Write who holds the lock into the folder, for a command that is refused to name it."""
        if self._fd is None:
            return
        command = " ".join(["pingan", *sys.argv[1:]])[:200]
        self.path.write_text(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}: {command}\n",
                             encoding="utf-8")

    def _holder(self) -> str:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                return fh.read(_MAX_HOLDER_BYTES).strip() or "another process"
        except OSError:
            return "another process"

    def release(self) -> None:
        """Release the lock (idempotent). Closing the folder releases it."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
