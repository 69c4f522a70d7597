"""The in-process schedule: started only when serving with CLOVER_REMINDER_LOOP set."""

import threading

from app import create_app


def loop_threads():
    return [t for t in threading.enumerate() if t.name == "clover-reminders"]


def test_loop_starts_only_when_asked_and_not_in_tests(tmp_path):
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    assert "clover_reminder_loop" not in create_app({"DATABASE_URL": url}).extensions
    testing = create_app({"DATABASE_URL": url, "TESTING": True, "CLOVER_REMINDER_LOOP": 300})
    assert "clover_reminder_loop" not in testing.extensions

    serving = create_app({"DATABASE_URL": url, "CLOVER_REMINDER_LOOP": 300})
    stop = serving.extensions["clover_reminder_loop"]
    assert len(loop_threads()) == 1
    stop.set()
    for thread in loop_threads():
        thread.join(timeout=5)
    assert loop_threads() == []
    serving.extensions["clover_engine"].dispose()
