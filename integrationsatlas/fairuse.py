"""Fair use of a shared server: at most one heavy computation per user, a queue, a time limit.

A heavy computation (coverage, siting, a report) takes a :class:`HeavyQueue`
ticket. It starts when fewer than ``slots`` computations run in this process
and the same user has none running (also not in another app process: an
optional per-user lock, see :func:`run_heavy`); until then it waits and is
told its place. It runs in a worker thread; the request waits at most
``time_limit_s`` and then fails with :class:`TimeLimitError` (German). Python
cannot kill a thread, so the abandoned work is cancelled cooperatively: its
next :func:`checkpoint` (progress callbacks call it) raises, and its slot is
freed only when it has ended, so one user never has two running.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Final, TypeVar

from geo.errors import IntegrationsatlasError

T = TypeVar("T")

#: How often a waiting request looks again (seconds).
POLL_S: Final = 0.5


class TimeLimitError(IntegrationsatlasError):
    """A heavy computation took longer than the server allows for one request."""


class CancelledError(IntegrationsatlasError):
    """A computation was abandoned (its request ran out of time)."""


@dataclass(eq=False)
class Ticket:
    """One heavy computation: who, what, and whether it is running or abandoned."""

    user: str
    label: str
    number: int
    running: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Place:
    """Where a waiting computation stands.

    ``position`` is its place in the queue (1 = next), ``own_running`` says
    that the same user's other computation runs (it waits for that one), and
    ``running`` how many run now.
    """

    position: int
    own_running: bool
    running: int


class HeavyQueue:
    """First come, first served, ``slots`` at a time, one per user.

    >>> q = HeavyQueue(slots=1)
    >>> a, b, c = q.enter("anna", "x"), q.enter("anna", "y"), q.enter("ben", "z")
    >>> q.try_start(a), q.try_start(b), q.try_start(c)
    (True, False, False)
    >>> q.place(b), q.place(c)  # anna's second waits for her first; ben is next
    (Place(position=1, own_running=True, running=1), Place(position=1, own_running=False, running=1))
    >>> q.finish(a)
    >>> q.try_start(c), q.try_start(b)  # first come, first served once anna is free again
    (False, True)
    """

    def __init__(self, slots: int) -> None:
        self.slots = max(1, int(slots))
        self._tickets: list[Ticket] = []
        self._numbers = itertools.count(1)
        self._changed = threading.Condition()

    def enter(self, user: str, label: str) -> Ticket:
        """Queue a computation of ``user``."""
        with self._changed:
            ticket = Ticket(user, label, next(self._numbers))
            self._tickets.append(ticket)
            return ticket

    def _eligible(self, ticket: Ticket) -> bool:
        return not any(t.running and t.user == ticket.user for t in self._tickets)

    def place(self, ticket: Ticket) -> Place:
        """The place of a waiting ``ticket`` (see :class:`Place`)."""
        with self._changed:
            return Place(
                position=1 + self._ahead(ticket),
                own_running=not self._eligible(ticket),
                running=sum(t.running for t in self._tickets),
            )

    def _ahead(self, ticket: Ticket) -> int:
        """Waiting tickets before ``ticket`` that could start before it."""
        ahead = 0
        for t in self._tickets:
            if t is ticket:
                break
            ahead += not t.running and self._eligible(t)
        return ahead

    def try_start(self, ticket: Ticket) -> bool:
        """Start ``ticket`` if a slot is free, its user has none running and no eligible ticket is ahead."""
        with self._changed:
            if ticket.running:
                return True
            if sum(t.running for t in self._tickets) >= self.slots or not self._eligible(ticket):
                return False
            if self._ahead(ticket):
                return False
            ticket.running = True
            return True

    def finish(self, ticket: Ticket) -> None:
        """Remove a finished (or never started) ticket and wake the waiting ones."""
        with self._changed:
            if ticket in self._tickets:
                self._tickets.remove(ticket)
            self._changed.notify_all()

    def wait(self, timeout: float = POLL_S) -> None:
        """Sleep until the queue changes (or ``timeout``)."""
        with self._changed:
            self._changed.wait(timeout)

    def running(self) -> list[Ticket]:
        """The running tickets (for status displays and tests)."""
        with self._changed:
            return [t for t in self._tickets if t.running]


_CURRENT: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar("atlas_heavy_ticket", default=None)


def checkpoint() -> None:
    """Raise :class:`CancelledError` if the running heavy computation was abandoned (call between steps)."""
    ticket = _CURRENT.get()
    if ticket is not None and ticket.cancelled.is_set():
        raise CancelledError(f"Berechnung »{ticket.label}« abgebrochen (Zeitlimit der Anfrage überschritten).")


def run_heavy(
    func: Callable[[], T],
    *,
    queue: HeavyQueue,
    user: str,
    label: str,
    time_limit_s: float,
    on_wait: Callable[[Place], None] = lambda _place: None,
    user_lock: Callable[[], AbstractContextManager[bool]] | None = None,
    start_thread: Callable[[threading.Thread], None] = threading.Thread.start,
) -> T:
    """Run ``func`` as a heavy computation of ``user``: queued, one per user, within ``time_limit_s``.

    Parameters
    ----------
    func
        The computation; runs in a worker thread with a copy of the caller's context.
    queue
        The process's queue.
    user, label
        Who asks (login subject) and what (German, for messages).
    time_limit_s
        The request waits at most this long for the result (queueing not counted).
    on_wait
        Called about every :data:`POLL_S` seconds while waiting, with the place.
    user_lock
        Factory of a context manager that yields whether the user's lock across
        app processes was taken (e.g. a PostgreSQL advisory lock); while it is
        not, the computation waits as if the user's other one were running here.
    start_thread
        Starts the worker (the app attaches its script context first).

    Raises
    ------
    TimeLimitError
        When the result is not there after ``time_limit_s``; the work is abandoned.
    """
    ticket = queue.enter(user, label)
    handed_over = False
    lock_cm: AbstractContextManager[bool] = nullcontext(True)
    try:
        while True:
            if queue.try_start(ticket):
                lock_cm = user_lock() if user_lock else nullcontext(True)
                if lock_cm.__enter__():
                    break
                lock_cm.__exit__(None, None, None)
                ticket.running = False
                on_wait(Place(position=1, own_running=True, running=len(queue.running())))
                time.sleep(POLL_S)
                continue
            on_wait(queue.place(ticket))
            queue.wait(POLL_S)
        box: dict[str, object] = {}
        done = threading.Event()
        context = contextvars.copy_context()

        def work() -> None:
            _CURRENT.set(ticket)
            try:
                box["value"] = func()
            except BaseException as exc:  # handed to the waiting request
                box["error"] = exc
            finally:
                lock_cm.__exit__(None, None, None)
                queue.finish(ticket)
                done.set()

        worker = threading.Thread(target=context.run, args=(work,), name=f"heavy-{ticket.number}", daemon=True)
        start_thread(worker)
        handed_over = True
        if not done.wait(time_limit_s):
            ticket.cancelled.set()
            raise TimeLimitError(
                f"Die Berechnung »{label}« hat das Zeitlimit von {time_limit_s:g} s überschritten und wurde "
                "abgebrochen. Bitte einen kleineren Bereich, eine kürzere Schwelle oder weniger Standorte wählen – "
                "oder die Berechnung mit der Kommandozeile ohne Zeitlimit ausführen."
            )
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["value"]  # type: ignore[return-value]
    finally:
        if not handed_over:
            queue.finish(ticket)
