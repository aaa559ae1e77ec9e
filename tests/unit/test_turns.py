"""Turns: one thread at a time in a turn; a thread that waits gives its turn up."""

from __future__ import annotations

import threading
import time

import pytest

from tongdao.proto.turns import NO_TURNS, Turns


def test_only_one_thread_at_a_time_holds_a_turn():
    turns = Turns()
    inside, most = [0], [0]
    lock = threading.Lock()

    def work():
        for _ in range(50):
            with turns.turn():
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0)  # lets the interpreter go, as a SQLite step does
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert most[0] == 1


def test_a_waiting_thread_lets_another_take_the_turn_and_then_takes_it_back():
    turns = Turns()
    in_wait, other_ran, back = threading.Event(), threading.Event(), threading.Event()

    def waiter():
        with turns.turn():
            with turns.waiting():
                assert not turns.held()
                in_wait.set()
                assert other_ran.wait(timeout=10)  # the other thread got the turn meanwhile
            assert turns.held()
            back.set()
            time.sleep(0.05)  # still this thread's turn: the other cannot enter again

    def other():
        assert in_wait.wait(timeout=10)
        with turns.turn():
            other_ran.set()
        assert back.wait(timeout=10)
        started = time.monotonic()
        with turns.turn():
            waited = time.monotonic() - started
        assert waited >= 0.02

    threads = [threading.Thread(target=waiter), threading.Thread(target=other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert back.is_set() and other_ran.is_set()


def test_a_turn_is_reentrant_and_waiting_without_one_does_nothing():
    turns = Turns()
    with turns.waiting():  # no turn held: nothing to give up
        assert not turns.held()
    with turns.turn():
        with turns.turn():
            assert turns.held()
        assert turns.held()  # the inner block did not end the outer turn
    assert not turns.held()
    with NO_TURNS.waiting():
        pass


def test_an_error_while_waiting_takes_the_turn_back_before_it_propagates():
    turns = Turns()
    with turns.turn():
        with pytest.raises(RuntimeError), turns.waiting():
            raise RuntimeError("the node is down")
        assert turns.held()
    assert not turns.held()
    # released at the end: another thread can take it
    taken = threading.Event()

    def take():
        with turns.turn():
            taken.set()

    t = threading.Thread(target=take)
    t.start()
    t.join(timeout=10)
    assert taken.is_set()


def test_turns_are_given_in_the_order_they_were_asked_for():
    turns = Turns()
    order: list[int] = []
    threads = []

    def ask(n: int) -> None:
        with turns.turn():
            order.append(n)

    with turns.turn():
        for n in range(5):
            t = threading.Thread(target=ask, args=(n,))
            t.start()
            threads.append(t)
            time.sleep(0.05)  # each asks after the one before has queued
        with turns.waiting():  # giving the turn up hands it to the first who asked
            time.sleep(0.2)
            assert order == [0, 1, 2, 3, 4]
    for t in threads:
        t.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
