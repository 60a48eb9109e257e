"""The session file: atomic writes, 0600 in 0700 whatever the umask, a real reader/writer lock,
and a writer that finds another writer drops its write (seed 003)."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from tokens.client.session_file import SessionFile


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_modes_are_0600_and_0700_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        session_file = SessionFile(tmp_path / "state" / "sa" / "token")
        assert session_file.write("sac1.first")
    finally:
        os.umask(old)
    assert session_file.read() == "sac1.first"
    assert _mode(session_file.path) == 0o600
    assert _mode(session_file.path.parent) == 0o700


def test_a_too_open_directory_is_tightened(tmp_path):
    directory = tmp_path / "sa"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)  # noqa: S103 - the too-open directory under test
    SessionFile(directory / "token").write("sac1.x")
    assert _mode(directory) == 0o700


def test_a_shared_sticky_directory_is_refused_and_left_as_it_is(tmp_path):
    """SA_TOKEN_PATH=/tmp/token must neither take /tmp away from everyone else nor keep a token
    where anyone could plant one."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # noqa: S103 - a /tmp-like directory under test
    with pytest.raises(PermissionError):
        SessionFile(shared / "token").write("sac1.x")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert not (shared / "token").exists()


def test_missing_or_empty_file_reads_as_no_token(tmp_path):
    session_file = SessionFile(tmp_path / "token")
    assert session_file.read() is None
    session_file.path.write_text("\n")
    assert session_file.read() is None


def test_a_writer_drops_its_write_while_another_writer_holds_the_lock(tmp_path):
    session_file = SessionFile(tmp_path / "token")
    session_file.write("sac1.old")
    fd = os.open(session_file.write_lock_path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer, mid-write
    try:
        assert session_file.write("sac1.new") is False
        assert session_file.read() == "sac1.old"
    finally:
        os.close(fd)
    assert session_file.write("sac1.new") is True
    assert session_file.read() == "sac1.new"


def test_readers_share_the_lock_and_a_writer_waits_for_them(tmp_path):
    session_file = SessionFile(tmp_path / "token")
    session_file.write("sac1.old")
    reader = os.open(session_file.lock_path, os.O_RDWR)
    fcntl.flock(reader, fcntl.LOCK_SH)  # a reader mid-read
    try:
        assert session_file.read() == "sac1.old"  # readers share
        done = threading.Event()
        writer = threading.Thread(target=lambda: (session_file.write("sac1.new"), done.set()))
        writer.start()
        assert not done.wait(0.3), "the writer must wait for the reader"
        assert session_file.path.read_text() == "sac1.old\n"
    finally:
        os.close(reader)
    writer.join(5)
    assert done.is_set() and session_file.read() == "sac1.new"


def test_a_reader_waits_for_a_writer(tmp_path):
    session_file = SessionFile(tmp_path / "token")
    session_file.write("sac1.old")
    held = os.open(session_file.lock_path, os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    results: list[str | None] = []
    reader = threading.Thread(target=lambda: results.append(session_file.read()))
    reader.start()
    time.sleep(0.3)
    assert results == []
    os.close(held)
    reader.join(5)
    assert results == ["sac1.old"]


def test_clear_forgets_the_token(tmp_path):
    session_file = SessionFile(tmp_path / "token")
    session_file.write("sac1.x")
    session_file.clear()
    assert session_file.read() is None and not session_file.path.exists()


def _hammer(path: str, worker: int, rounds: int, queue: multiprocessing.Queue) -> None:
    session_file = SessionFile(path)
    bad = []
    for n in range(rounds):
        seen = session_file.read()
        if seen is None or not seen.startswith("sac1.") or not seen.endswith(".end"):
            bad.append(repr(seen))
        session_file.write(f"sac1.{worker}.{n}.{'x' * 200}.end")
    queue.put(bad)


def test_eight_processes_never_see_a_torn_or_empty_token(tmp_path):
    """Without the server: 8 processes × 50 read-then-write rounds on one file."""
    session_file = SessionFile(tmp_path / "sa" / "token")
    session_file.write("sac1.seed.end")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [
        context.Process(target=_hammer, args=(str(session_file.path), i, 50, queue))
        for i in range(8)
    ]
    for worker in workers:
        worker.start()
    bad = [item for _ in workers for item in queue.get(timeout=60)]
    for worker in workers:
        worker.join(10)
    assert bad == []
    assert _mode(session_file.path) == 0o600 and _mode(session_file.path.parent) == 0o700
    leftovers = [p.name for p in session_file.path.parent.iterdir() if p.name.startswith(".token-")]
    assert leftovers == []


def test_write_back_is_paced_but_login_writes_are_not(tmp_path):
    session_file = SessionFile(tmp_path / "token", refresh_interval=0.5)
    assert session_file.write("sac1.login")
    assert session_file.refresh("sac1.fresh") is False  # the stored token is brand new
    assert session_file.read() == "sac1.login"
    time.sleep(0.6)
    assert session_file.refresh("sac1.fresh") is True
    assert session_file.read() == "sac1.fresh"
    assert session_file.write("sac1.again") and session_file.read() == "sac1.again"
