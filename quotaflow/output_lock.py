"""What a run leaves beside an output folder while it works, and how the next run tells whose it is: the
exclusive lock file (one run per output at a time), the ``HOST-PID-TOKEN`` names of staging and aside folders,
and the clean-up of those left by runs that were stopped (rules 2 and 5 of ``quotaflow.output``).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from quotaflow.errors import OutputError
from quotaflow.manifest import read_manifest

__all__ = ["OutputLock", "clean_leftovers", "host", "pid_alive"]


def host() -> str:
    """This machine's name as it appears in staging names (a shared disk may hold other machines' runs)."""
    return "".join(ch if ch.isalnum() or ch in "._" else "_" for ch in socket.gethostname()) or "host"


def _owner(token: str) -> tuple[str, int] | None:
    """``(host, pid)`` of a ``HOST-PID-HEX`` token in a staging or aside folder's name; None if not ours."""
    parts = token.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[2]) != 8:
        return None
    try:
        int(parts[2], 16)
    except ValueError:
        return None
    return parts[0], int(parts[1])


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user holds this pid
    except OSError:
        return True
    return True



class OutputLock:
    """An exclusive ``flock`` on a lock file beside the output (POSIX; an ``O_EXCL`` lock file elsewhere).

    The file is unlinked by its holder on release. A process that opened the old file just before that unlink
    would lock an orphaned inode, so after locking the inode is compared with the path's and the lock retried.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    @classmethod
    def acquire(cls, path: Path, shown: str) -> OutputLock:
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            except OSError as exc:
                raise OutputError(f"cannot write in {path.parent} ({exc.strerror}); choose an --out folder you "
                                  "can write to") from None
            if not cls._lock(fd):
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise OutputError(f"another quotaflow run (pid {holder}) is writing to {shown}; wait for it to "
                                  "finish, or choose another --out")
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            return cls(path, fd)

    @staticmethod
    def _lock(fd: int) -> bool:
        if sys.platform == "win32":  # pragma: no cover - no flock; the file's pid marks the holder
            if os.fstat(fd).st_size:
                pid = int(os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "0")
                return not pid_alive(pid)
            return True
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:
            # A filesystem without locks (some network mounts): go on unlocked; publishing by rename(2) still
            # never replaces a folder that holds files.
            return True
        return True

    def release(self) -> None:
        with suppress(OSError):
            self.path.unlink()
        os.close(self.fd)



def clean_leftovers(final: Path, note: Callable[[str], None]) -> None:
    """Remove staging and aside folders of dead runs on this output; report what cannot be attributed."""
    prefix = f".{final.name}."
    try:
        entries = [p for p in final.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    here = host()
    for path in entries:
        kind = next((k for k in (".partial", ".replaced") if path.name.endswith(k)), None)
        if kind is None or not path.is_dir() or path.is_symlink():
            continue
        owner = _owner(path.name[len(prefix):-len(kind)])
        mine = owner is not None and owner[0] == here and not pid_alive(owner[1])
        pid = owner[1] if owner is not None else None
        if kind == ".partial":
            if mine:
                shutil.rmtree(path, ignore_errors=True)
                note(f"removed {path}, the unfinished output of quotaflow run {pid}, which was stopped before it "
                     "finished")
            else:
                note(f"left {path} alone: it looks like an unfinished quotaflow output but its run cannot be "
                     "confirmed as stopped; remove it yourself if no quotaflow run is writing there")
            continue
        record = read_manifest(path)
        if record is None or not mine:
            note(f"left {path} alone: it looks like an output set aside during a --force replacement, but it "
                 "cannot be confirmed as quotaflow's; remove it yourself if you do not need it")
        elif final.exists():
            shutil.rmtree(path, ignore_errors=True)
            note(f"removed {path}, the previous {final.name} that quotaflow run {pid} replaced with --force before "
                 "it was stopped")
        else:
            os.rename(path, final)
            note(f"restored {final} from {path}: quotaflow run {pid} was stopped while replacing it with --force")
