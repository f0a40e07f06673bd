"""Task events reach a monitor (what Flower and celery-exporter read): the sender's task-sent, a worker's
task-received and task-started; and the intake door's arguments, the subject's identifiers, are in none of
the worker's events, even from a producer that did not withhold them."""

from __future__ import annotations

import json
import threading

import pytest
from genesys_sim.config import SimConfig

from services.intake.tasks import WITHHELD
from shared.celery_app import create_app
from tests.support.stack import running_stack, wait_until

pytestmark = pytest.mark.integration


def test_a_monitor_sees_the_intake_doors_task_without_its_arguments(tmp_path, redis_available):
    with running_stack(tmp_path, redis_available, SimConfig(subjects=1), pools=("discovery",)) as stack:
        app = create_app(stack.runtime.settings)
        events: list[dict] = []
        with app.connection() as connection:
            receiver = app.events.Receiver(connection, handlers={"*": events.append})
            listening = threading.Thread(target=receiver.capture, kwargs={"limit": None, "wakeup": False},
                                         daemon=True)
            listening.start()
            try:
                payload = {"ticket": "EV-1", "emails": ["jane.events@example.org"]}
                sent: list[str] = []

                def ours() -> set[str]:
                    return {e["type"] for e in events if e.get("uuid") in sent}

                def sent_and_done() -> bool:
                    if "task-sent" not in ours():
                        # Sent again until the monitor is subscribed (pub/sub keeps nothing for a late listener);
                        # the ticket makes a second submission change nothing.
                        # A producer of its own that does not withhold them: the worker's events still do.
                        sent.append(app.send_task("erasure.intake.submit", args=[payload]).id)
                    # Not task-succeeded: a threads-pool worker buffers it until its event loop's next turn.
                    return {"task-sent", "task-received", "task-started"} <= ours()

                wait_until(sent_and_done, timeout_s=30, interval_s=0.5, message="the task's events")
            finally:
                receiver.should_stop = True
                listening.join(timeout=5)
        received = [e for e in events if e["type"] == "task-received" and e["uuid"] in sent]
        assert received and all(e["args"] == WITHHELD and e["kwargs"] == WITHHELD for e in received)
        # Every event a worker sent; the producer's own task-sent repeats what it sent (README: pass argsrepr).
        from_workers = [e for e in events if e["type"] != "task-sent"]
        assert "jane.events" not in json.dumps(from_workers, default=str)
