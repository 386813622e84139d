"""The wait of a customer in the queue, as the customer is told it and as staff read it
on the live queues: the same whole minutes, rounded up; under a minute staff read that
(the customer hears "about 1 minute"), never "0 min 0 s"."""

from __future__ import annotations

import pytest

from kefu.chat.routing import QueuePosition


@pytest.mark.parametrize(
    ("seconds", "minutes", "under_a_minute"),
    [(0, 1, True), (59, 1, True), (60, 1, False), (61, 2, False), (450, 8, False)],
)
def test_staff_and_customer_read_the_same_wait(
    seconds: int, minutes: int, under_a_minute: bool
) -> None:
    place = QueuePosition(position=1, estimated_wait_seconds=seconds)
    assert place.minutes_to_tell == minutes
    assert place.under_a_minute is under_a_minute
