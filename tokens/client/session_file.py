"""The session file (seed 003, SPEC §6): the client token every authenticated call reads first and
the interceptor writes back, shared by every process of one user.

- Path: `SA_TOKEN_PATH`, else `$XDG_STATE_HOME/session-authority/token` (`~/.local/state`).
- Mode 0600 in a 0700 directory, whatever the umask: the token is a credential.
- Written atomically: a temp file in the same directory, fsync, `os.replace`, so a reader sees the
  old token or the new one, never a torn or empty file.
- A reader/writer lock on the sidecar `<path>.lock` (`fcntl.flock`): readers share it, a writer
  holds it alone. A writer first takes `<path>.write.lock` with LOCK_EX|LOCK_NB: when another writer
  holds it, the write is dropped (that process is storing a token just as fresh, and every token
  stays valid until its own timeouts). Only then does it wait for the readers to leave, so that a
  read in progress never costs a fresh token its write.
- Write-back is paced: when the file's own token authenticated a call, the fresh token the answer
  carries replaces it only when the stored one is older than `refresh_interval` (1 s). Every token
  stays valid until its own idle timeout, so the file stays fresh, and a busy client pays one
  fsync a second instead of one per call (an fsync costs milliseconds, a call a fraction of one).
  Logins, passwords and explicit client tokens write at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_DIRECTORY_MODE = 0o700
_FILE_MODE = 0o600
# A client token is short opaque text; anything longer is not one of ours.
_MAX_TOKEN_BYTES = 4096


def default_token_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("SA_TOKEN_PATH"):
        return Path(env["SA_TOKEN_PATH"]).expanduser()
    state = env.get("XDG_STATE_HOME") or str(Path("~/.local/state").expanduser())
    return Path(state) / "session-authority" / "token"


class SessionFile:
    """Reads and writes the token; holds no copy of it (the file is the one truth)."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, refresh_interval: float = 1.0
    ) -> None:
        self.path = Path(path) if path is not None else default_token_path()
        self.refresh_interval = refresh_interval
        self._path = str(self.path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.write_lock_path = self.path.with_name(self.path.name + ".write.lock")

    def _directory(self) -> None:
        """The file's own directory, 0700. A directory others may write to or own (a sticky
        one like /tmp, or another user's) is refused rather than tightened: it is not ours to
        change, and anyone there could plant a token or hold the lock."""
        directory = self.path.parent
        directory.mkdir(mode=_DIRECTORY_MODE, parents=True, exist_ok=True)
        found = directory.stat()
        if found.st_mode & stat.S_ISVTX or found.st_uid != os.geteuid():
            raise PermissionError(
                errno.EACCES,
                "not a directory of your own; choose another SA_TOKEN_PATH",
                str(directory),
            )
        if found.st_mode & 0o777 != _DIRECTORY_MODE:
            os.chmod(directory, _DIRECTORY_MODE)

    @contextlib.contextmanager
    def _locked(self, operation: int, path: Path | None = None) -> Iterator[bool]:
        """Yields whether the lock was taken (always, unless LOCK_NB found it held)."""
        self._directory()
        fd = os.open(path or self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE)
        try:
            try:
                fcntl.flock(fd, operation)
            except BlockingIOError:
                yield False
                return
            except OSError as exc:  # pragma: no cover - EWOULDBLOCK spelled as EAGAIN elsewhere
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    yield False
                    return
                raise
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def read(self) -> str | None:
        """The stored token, or None when there is none (missing or empty file). On every call's
        path: plain os calls, no directory set-up."""
        try:
            lock = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE)
        except FileNotFoundError:  # no directory yet: never logged in
            return None
        try:
            fcntl.flock(lock, fcntl.LOCK_SH)
            try:
                fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return None
            try:
                data = os.read(fd, _MAX_TOKEN_BYTES + 1)
            finally:
                os.close(fd)
        finally:
            os.close(lock)  # closing the last descriptor releases the lock
        token = data.decode("utf-8", errors="replace").strip()
        if not token or len(data) > _MAX_TOKEN_BYTES:
            return None
        return token

    def write(self, token: str) -> bool:
        """Stores `token`; False when the write was dropped because another writer holds the lock
        (that writer is storing a fresh token of its own)."""
        with self._locked(fcntl.LOCK_EX | fcntl.LOCK_NB, self.write_lock_path) as alone:
            if not alone:
                return False
            with self._locked(fcntl.LOCK_EX):
                self._replace(token.encode() + b"\n")
            return True

    def refresh(self, token: str) -> bool:
        """Writes back a token a response carried, unless the stored one is younger than
        `refresh_interval`; False when the write was skipped or dropped."""
        if self.refresh_interval > 0:
            try:
                age = time.time() - os.stat(self._path).st_mtime
            except FileNotFoundError:
                age = float("inf")
            if 0 <= age < self.refresh_interval:
                return False
        return self.write(token)

    def clear(self) -> None:
        """Forgets the token (logout); waits for the locks, a logout must not be dropped."""
        with self._locked(fcntl.LOCK_EX, self.write_lock_path), self._locked(fcntl.LOCK_EX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def _replace(self, data: bytes) -> None:
        fd, temp = tempfile.mkstemp(prefix=".token-", dir=self.path.parent)
        try:
            os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600 already; say so whatever the platform
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
