"""The next work-horse, forked while its worker waits for a job.

RQ forks a horse once a job has been dequeued, and the horse then connects to Redis and to the
database before it can claim its workflow: measured (bench/pipeline.py), the fork, the two
connections and a new database backend's first statements were about 30 ms of a 53 ms
stage-to-stage handoff. A spare horse does all of that ahead of time, then blocks on a pipe;
the worker writes the dequeued job's ids to it, and it runs the job exactly as a freshly forked
horse would (same process group, same signals, the same monitoring by its worker).

A spare that dies or is discarded costs nothing but its fork: the worker forks a horse the
usual way. A spare whose worker has died exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

log = logging.getLogger(__name__)

# How often a waiting spare checks that its worker is still there.
PARENT_CHECK_SECONDS = 1.0
# How long a discarded spare may take to close its connections before it is killed.
DISCARD_GRACE_SECONDS = 2.0
SEPARATOR = "\n"
END = b"\0"  # not end-of-file: another process may hold a copy of the pipe's writing end


@dataclass
class SpareHorse:
    """The worker's handle on its spare: the child's pid and the pipe's writing end."""

    pid: int
    channel: int
    inherited_at: float  # when its worker read the caches it holds (time.monotonic)
    reaped: bool = False  # its pid may belong to another process by now: never signal it

    def alive(self) -> bool:
        if not self.reaped:
            try:
                self.reaped = os.waitpid(self.pid, os.WNOHANG)[0] != 0
            except ChildProcessError:
                self.reaped = True
        return not self.reaped

    def hand_over(self, *fields: str) -> bool:
        """Give the spare its job; False if it is gone (the caller forks a horse instead)."""
        if not self.alive():
            self._close_channel()
            return False
        message = SEPARATOR.join(fields).encode() + END
        try:
            os.write(self.channel, message)  # far below PIPE_BUF: written whole or not at all
        except OSError as exc:  # it died just now
            log.debug("spare horse %s is gone: %s", self.pid, exc)
            self.discard()
            return False
        self._close_channel()
        return True

    def discard(self) -> None:
        """Stop the spare and reap it: it lets go of what it got ready, then exits. A signal,
        not end-of-file on its pipe: a process the worker forked since (RQ's scheduler) holds
        a copy of the pipe's writing end."""
        self._close_channel()
        if self.reaped:
            return
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + DISCARD_GRACE_SECONDS
            while os.waitpid(self.pid, os.WNOHANG)[0] == 0:
                if time.monotonic() > deadline:  # stuck in a call no signal interrupts
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.005)
        self.reaped = True

    def _close_channel(self) -> None:
        """Once only: a descriptor number closed twice may by then be another file's."""
        if self.channel >= 0:
            os.close(self.channel)
            self.channel = -1


@dataclass
class SpareWork:
    """What the spare does, in the child: get ready, run the job the fields name, or let go of
    what it got ready when it is discarded."""

    prepare: Callable[[], None]
    serve: Callable[[list[str]], None]
    release: Callable[[], None]


def fork_spare(work: SpareWork, *, inherited_at: float) -> SpareHorse:
    """Fork a spare horse; the child never returns from here."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(writing)
        _wait_for_job(reading, work)
    os.close(reading)
    return SpareHorse(pid, writing, inherited_at)


class _Discarded(Exception):
    """The worker discarded this spare (SIGTERM) before handing it a job."""


def _discarded(_signum: int, _frame: object) -> None:
    raise _Discarded


def _wait_for_job(reading: int, work: SpareWork) -> NoReturn:
    status = 1
    try:
        worker = os.getppid()
        os.setpgrp()  # like RQ's horses: the worker's kill_horse signals this group
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Until it has a job: let go of what it got ready (say goodbye to the database).
        signal.signal(signal.SIGTERM, _discarded)
        try:
            try:
                work.prepare()
            except _Discarded:
                raise
            except Exception as exc:  # the job meets the same trouble on its own path
                log.debug("spare horse could not get ready: %s", exc)
            message = _read_message(reading, worker)
        except _Discarded:
            message = b""
        if message:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a horse, as RQ's are
            work.serve(message.decode().split(SEPARATOR))
        else:
            work.release()
        status = 0
    except BaseException:
        log.exception("spare horse failed")
    finally:
        os._exit(status)


def _read_message(reading: int, worker: int) -> bytes:
    """The job's fields, or b"" once the worker has gone (end-of-file, or adopted by init)."""
    received = b""
    while os.getppid() == worker:
        ready, _, _ = select.select([reading], [], [], PARENT_CHECK_SECONDS)
        if not ready:
            continue
        chunk = os.read(reading, 4096)
        if not chunk:
            return b""
        received += chunk
        if received.endswith(END):
            return received[: -len(END)]
    return b""
