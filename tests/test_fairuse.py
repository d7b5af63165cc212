"""Fair use: one heavy computation per user, a queue with places, a per-request time limit (German)."""

from __future__ import annotations

import threading
import time

import pytest

from integrationsatlas.fairuse import CancelledError, HeavyQueue, Place, TimeLimitError, checkpoint, run_heavy


def _run_in_thread(func: object) -> tuple[threading.Thread, dict[str, object]]:
    out: dict[str, object] = {}

    def target() -> None:
        try:
            out["value"] = func()  # type: ignore[operator]
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out


def test_one_heavy_computation_per_user_others_queue_with_their_place() -> None:
    queue = HeavyQueue(slots=2)
    release = threading.Event()
    places: dict[str, list[Place]] = {"anna-2": [], "ben": [], "carl": []}
    running: list[str] = []
    lock = threading.Lock()

    def job(name: str) -> object:
        def work() -> str:
            with lock:
                running.append(name)
            release.wait(10)
            return name

        return lambda: run_heavy(
            work,
            queue=queue,
            user=name.split("-")[0],
            label=name,
            time_limit_s=30,
            on_wait=places.setdefault(name, []).append,
        )

    first = _run_in_thread(job("anna-1"))
    time.sleep(0.2)
    second = _run_in_thread(job("anna-2"))  # the same user: waits although a slot is free
    time.sleep(0.2)
    third = _run_in_thread(job("ben"))  # another user takes the free slot
    time.sleep(0.2)
    fourth = _run_in_thread(job("carl"))  # both slots busy: carl waits in line
    time.sleep(0.8)
    assert sorted(running) == ["anna-1", "ben"]
    assert places["anna-2"][-1].own_running
    assert places["carl"][-1] == Place(position=1, own_running=False, running=2)
    release.set()
    for thread, out in (first, second, third, fourth):
        thread.join(10)
        assert "error" not in out, out
    assert sorted(running) == ["anna-1", "anna-2", "ben", "carl"]
    assert running.index("anna-2") > running.index("anna-1")
    assert queue.running() == []


def test_the_time_limit_ends_the_request_with_a_german_message_and_cancels_at_the_next_step() -> None:
    queue = HeavyQueue(slots=1)
    steps: list[int] = []
    go_on = threading.Event()

    def slow() -> None:
        for i in range(50):
            steps.append(i)
            go_on.wait(0.1)
            checkpoint()

    with pytest.raises(TimeLimitError, match=r"Zeitlimit von 0\.3 s überschritten.*kleineren Bereich"):
        run_heavy(slow, queue=queue, user="anna", label="Standortplanung", time_limit_s=0.3)
    # the abandoned work stops at its next step and frees the slot; until then the user cannot start another
    deadline = time.monotonic() + 5
    while queue.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert queue.running() == [] and len(steps) < 10
    assert run_heavy(lambda: "frei", queue=queue, user="anna", label="x", time_limit_s=5) == "frei"


def test_errors_of_the_computation_reach_the_request_and_free_the_slot() -> None:
    queue = HeavyQueue(slots=1)

    def broken() -> None:
        raise CancelledError("kaputt")

    with pytest.raises(CancelledError, match="kaputt"):
        run_heavy(broken, queue=queue, user="anna", label="x", time_limit_s=5)
    assert queue.running() == []


def test_a_user_lock_held_elsewhere_makes_the_computation_wait() -> None:
    """Another app process holds the user's lock (advisory lock): the computation waits, then runs."""
    queue = HeavyQueue(slots=2)
    free_at = time.monotonic() + 0.8
    waits: list[Place] = []

    class Lock:
        def __enter__(self) -> bool:
            return time.monotonic() >= free_at

        def __exit__(self, *exc: object) -> None:
            return None

    assert (
        run_heavy(lambda: 42, queue=queue, user="anna", label="x", time_limit_s=5, on_wait=waits.append, user_lock=Lock)
        == 42
    )
    assert waits and all(p.own_running for p in waits)
