"""Writing output folders safely. A user's files are never deleted or replaced by a quotaflow run:

1. **Checked before any work** (`claim_output`): ``--out`` may not be, contain or lie inside anything the command
   reads (scenario folder, plan folder, bookings, grid or samples file), nor be or contain the current folder or
   the home folder, nor be a filesystem root, a mount point or a repository root (a folder holding ``.git``).
   Paths are compared after resolving symlinks. A file in the way, an unwritable parent or another quotaflow run
   writing to the same ``--out`` is refused too. Every refusal is an `OutputError` (exit code 5).
2. **One run per output at a time**: the claim holds an exclusive ``flock`` on ``.NAME.lock`` beside the output
   for the whole run, so a second run on the same ``--out`` is refused at once instead of after its work. The
   lock dies with its process, so a killed run never blocks the next one.
3. **Staged, then published atomically** (`staged_output`): everything is written into a hidden sibling
   ``.NAME.HOST-PID-TOKEN.partial`` that is renamed into place only when the whole run succeeded; on an error,
   Ctrl-C or SIGTERM it is removed. ``rename(2)`` of a folder onto an existing path fails unless that path is an
   empty folder, so even a writer that ignores the lock cannot have its files replaced: if ``NAME`` appeared
   while the run worked, the result is kept in ``NAME.conflict-<pid>`` and the run exits 5 saying so.
4. **``--force`` replaces only a folder quotaflow wrote**: its ``manifest.json`` must carry quotaflow's ``tool``
   key, and every file in it must be one the manifest lists with the same SHA-256 (or claims by pattern, such
   as a sweep's task files); a folder with anything else, an edited file, or ``.git``, is refused. The old
   folder is renamed aside (``.NAME.HOST-PID-TOKEN.replaced``), the new one renamed in, and only then is the
   aside copy removed.
5. **Leftovers are cleaned by the next run on the same output**: staging and aside folders named by a process
   of this machine that is gone are removed - an aside folder is moved back into place if the run died between
   the two renames - and anything it cannot attribute (another machine's, an older naming) is reported, never
   deleted.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from quotaflow.errors import OutputError
from quotaflow.manifest import MANIFEST_NAME, foreign_files, read_manifest, seal
from quotaflow.output_lock import OutputLock, clean_leftovers, host

__all__ = ["OutputClaim", "OutputError", "claim_output", "release_claims", "staged_output"]

_HELD: list[OutputClaim] = []


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def _real(path: Path) -> Path:
    """Absolute path with every existing symlink resolved (``..`` is taken after resolving, as the OS does)."""
    return Path(os.path.realpath(path))


def _relation(out: Path, other: Path) -> str | None:
    if out == other:
        return "is"
    if other.is_relative_to(out):
        return "contains"
    if out.is_relative_to(other):
        return "lies inside"
    return None


def _protected(requested: Path, final: Path, reads: Sequence[str | os.PathLike[str] | None],
               apart: Sequence[str | os.PathLike[str] | None] = ()) -> None:
    """Refuse an output location that would put an input or a user's folders at risk (rule 1), or that overlaps
    another output folder of the same command."""
    shown = f"--out {requested}"
    for item in apart:
        if item is None:
            continue
        relation = _relation(final, _real(Path(item)))
        if relation is not None:
            raise OutputError(f"{shown} {relation} {item}, another output folder of this command; give the two "
                              "outputs separate folders, e.g. out/run and out/crm")
    for item in reads:
        if item is None:
            continue
        source = Path(item)
        if not source.exists():
            continue
        relation = _relation(final, _real(source))
        if relation is not None:
            raise OutputError(f"{shown} {relation} {source}, which this command reads; choose an output folder "
                              "outside every input, e.g. out/result")
    if final == Path(final.anchor) or os.path.ismount(final):
        raise OutputError(f"{shown} is a filesystem root or mount point; choose a folder inside it, e.g. out/result")
    places = [("the current folder", Path.cwd())]
    with suppress(RuntimeError, KeyError):  # no home folder known (HOME unset): nothing to protect there
        places.append(("your home folder", Path.home()))
    for label, place in places:
        real = _real(place)
        if final == real or real.is_relative_to(final):
            relation = "is" if final == real else "contains"
            raise OutputError(f"{shown} {relation} {label} ({real}); choose a new folder inside it, e.g. "
                              "out/result")
    if (final / ".git").exists():
        raise OutputError(f"{shown} is the root of a repository (it holds .git); choose a new folder, e.g. "
                          "out/result")


class OutputClaim:
    """An output folder claimed for one run: checked, locked, and cleaned of leftovers (see `claim_output`).

    Parameters
    ----------
    requested
        ``--out`` as the user gave it (used in messages).
    final
        The same path with symlinks resolved: where the result is published.
    force
        Replace an existing folder that quotaflow wrote.
    replaces
        True when ``final`` holds such a folder now and publishing will replace it.
    exists
        True when ``final`` is a non-empty folder now (for ``--resume`` or a replacement).
    """

    def __init__(self, requested: Path, final: Path, *, force: bool, replaces: bool, exists: bool, lock: OutputLock,
                 made: list[Path]) -> None:
        self.requested, self.final, self.force = requested, final, force
        self.replaces, self.exists = replaces, exists
        self._lock: OutputLock | None = lock
        self._made = made
        self._token = f"{host()}-{os.getpid()}-{secrets.token_hex(4)}"

    def __repr__(self) -> str:
        return f"OutputClaim({self.requested}, replaces={self.replaces}, held={self._lock is not None})"

    def __enter__(self) -> OutputClaim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def held(self) -> bool:
        """True until `release`."""
        return self._lock is not None

    def release(self, *, published: bool = False) -> None:
        """Give up the claim: unlock, and remove parent folders it created when nothing was published there."""
        if self._lock is None:
            return
        self._lock.release()
        self._lock = None
        with suppress(ValueError):
            _HELD.remove(self)
        if not published:
            for folder in reversed(self._made):  # innermost first; only while still empty
                try:
                    folder.rmdir()
                except OSError:
                    break

    def make_stage(self) -> Path:
        """Create the hidden staging folder beside the output (the user's usual permissions) and return it."""
        stage = self.final.parent / f".{self.final.name}.{self._token}.partial"
        try:
            stage.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot create the output folder {self.requested}: {exc.strerror}") from None
        return stage

    def publish(self, stage: Path) -> None:
        """Move a finished staging folder into place (replacing the old folder only under ``--force``)."""
        seal(stage)
        if self.replaces:
            self._replace(stage)
            return
        try:
            os.rename(stage, self.final)  # fails unless the target is absent or an empty folder
        except OSError as exc:
            self._keep(stage, exc)

    def _replace(self, stage: Path) -> None:
        shown = self.requested
        record = read_manifest(self.final)
        extra = foreign_files(self.final, record) if record is not None else []
        if record is None or extra:  # someone changed the old folder while this run worked
            why = (f"files were added to it during the run ({', '.join(extra[:5])})" if extra
                   else "its manifest.json is gone")
            self._keep(stage, None, f"{shown} was not replaced: {why}")
        aside = self.final.parent / f".{self.final.name}.{self._token}.replaced"
        try:
            os.rename(self.final, aside)
        except OSError as exc:
            self._keep(stage, exc)
        try:
            os.rename(stage, self.final)
        except OSError as exc:
            with suppress(OSError):
                os.rename(aside, self.final)
            self._keep(stage, exc)
        shutil.rmtree(aside, ignore_errors=True)

    def _keep(self, stage: Path, exc: OSError | None, why: str | None = None) -> None:
        """Keep a finished result that could not be published beside the output, and say where (exit 5)."""
        if why is None:
            taken = exc is not None and exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)
            why = (f"{self.requested} appeared while this run was working (written by something other than this "
                   "run); it was left as it is" if taken else
                   f"the result could not be moved to {self.requested} ({exc.strerror if exc else 'unknown'})")
        for n in range(100):
            kept = self.final.parent / f"{self.final.name}.conflict-{os.getpid()}{f'-{n}' if n else ''}"
            try:
                os.rename(stage, kept)
            except OSError:
                continue
            raise OutputError(f"{why}; this run's result was kept in {kept}: compare the two and keep the one "
                              "you want")
        raise OutputError(f"{why}; this run's result is in {stage}")


def _make_parents(parent: Path, shown: Path) -> list[Path]:
    missing = []
    probe = parent
    while not probe.exists():
        if probe.is_symlink():
            raise OutputError(f"--out {shown}: {probe} is a broken symbolic link; fix or remove it")
        missing.append(probe)
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"--out {shown}: {probe} is a file, not a folder; choose another --out")
    made: list[Path] = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            for m in reversed(made):
                with suppress(OSError):
                    m.rmdir()
            raise OutputError(f"cannot create {folder} for --out {shown} ({exc.strerror}); choose an --out folder "
                              "you can write to") from None
        made.append(folder)
    return made


def _existing(requested: Path, final: Path, *, force: bool, resume: bool, resumable: bool) -> tuple[bool, bool]:
    """``(exists, replaces)`` for the output location, or raise when it cannot be used."""
    if not final.exists() and not final.is_symlink():
        return False, False
    if not final.is_dir():
        raise OutputError(f"--out {requested} is a file, not a folder; quotaflow writes a folder of files: give "
                          "a folder path")
    if not any(final.iterdir()):
        return False, False
    if resume:
        return True, False
    if not force:
        also = "pass --resume to continue the run in it, " if resumable else ""
        raise OutputError(f"output folder {requested} already exists and is not empty; choose another --out, "
                          f"{also}or pass --force to replace it (only a folder quotaflow wrote can be replaced)")
    _replaceable(requested, final)
    return True, True


def _replaceable(requested: Path, final: Path) -> None:
    record = read_manifest(final)
    if record is None:
        raise OutputError(f"--force replaces only a folder quotaflow wrote, and {requested} has no quotaflow "
                          f"{MANIFEST_NAME} (it may hold your own files); choose another --out, or move its "
                          "contents away yourself")
    extra = foreign_files(final, record)
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise OutputError(f"--force will not replace {requested}: it holds files quotaflow did not write ({shown}); "
                          "move them elsewhere first, or choose another --out")


def claim_output(out: str | os.PathLike[str], *, force: bool = False,
                 reads: Sequence[str | os.PathLike[str] | None] = (), resume: bool = False,
                 resumable: bool = False, note: Callable[[str], None] = _note,
                 apart: Sequence[str | os.PathLike[str] | None] = ()) -> OutputClaim:
    """Check and lock an output folder before any work starts (rules 1, 2, 4 and 5 of this module).

    Parameters
    ----------
    out
        The ``--out`` folder.
    force
        Allow replacing an existing folder that quotaflow wrote.
    reads
        Every path the command reads (scenario folder, plan folder, bookings, grid, samples); ``None`` and
        names that are not paths (a bundled scenario) are skipped.
    resume
        Accept an existing non-empty folder as it is (a sweep resumed in place checks its manifest itself).
    resumable
        The command has ``--resume``: say so when the folder exists.
    note
        Where messages about cleaned-up leftovers go (default: stderr).
    apart
        The command's other output folders (``simulate --crm-export``): refused when they are, contain or lie
        inside this one, whether or not they exist yet.

    Returns
    -------
    OutputClaim
        Held until `OutputClaim.release` (`staged_output` releases it; the CLI releases any a failed command
        still holds).

    Raises
    ------
    OutputError
        The location is protected, taken, a file, not writable, or being written by another run.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with claim_output(root / "out") as claim:
    ...     claim.exists
    False
    >>> try:
    ...     claim_output(root / "out", reads=[root])
    ... except OutputError as exc:
    ...     print("lies inside" in str(exc))
    True
    """
    requested = Path(out)
    final = _real(requested)
    _protected(requested, final, reads, apart)
    made = _make_parents(final.parent, requested)
    try:
        lock = OutputLock.acquire(final.parent / f".{final.name}.lock", str(requested))
    except BaseException:
        for folder in reversed(made):
            with suppress(OSError):
                folder.rmdir()
        raise
    claim = OutputClaim(requested, final, force=force, replaces=False, exists=False, lock=lock, made=made)
    _HELD.append(claim)
    try:
        clean_leftovers(final, note)
        claim.exists, claim.replaces = _existing(requested, final, force=force, resume=resume, resumable=resumable)
    except BaseException:
        claim.release()
        raise
    return claim


def release_claims() -> None:
    """Release every claim this process still holds (the CLI calls it when a command ends, however it ends)."""
    for claim in list(_HELD):
        claim.release()


@contextmanager
def staged_output(target: str | os.PathLike[str] | OutputClaim, *, force: bool = False,
                  reads: Sequence[str | os.PathLike[str] | None] = ()) -> Iterator[Path]:
    """Yield a staging folder; on success it is published at ``target``, on any error it is removed.

    ``target`` is a claim from `claim_output` (made before the work started) or a path, claimed here with
    ``force`` and ``reads``. The claim is released at the end either way.

    Raises
    ------
    OutputError
        From `claim_output`, or when the result could not be published (it is then kept beside the output).
    """
    claim = target if isinstance(target, OutputClaim) else claim_output(target, force=force, reads=reads)
    published = False
    try:
        stage = claim.make_stage()
        try:
            yield stage
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        try:
            claim.publish(stage)
        except OutputError:
            raise  # the result was kept beside the output, and the message says where
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        published = True
    finally:
        claim.release(published=published)
