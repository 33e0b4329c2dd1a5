"""Nothing lost when retries run out: the sweep that sends dead letters back once the fault has cleared.

Every consumer retries on its own first (a stream record 10 times, a queue message 3 or 5 times). What
outlasts those retries lands on a dead-letter queue; this sweep (every 10 minutes) sends each one back
to where it is done again, so a History outage, a bus outage or a throttled table that lasts an hour
costs an hour's delay, never a change:

* a stream's on-failure message carries only the failed records' position: the sweep reads the records
  from the stream (it keeps them 24 hours) and puts each, whole, on the replay queue, which the publisher
  consumes like the stream itself — from then on the record no longer depends on the stream's retention;
* a queue's dead letter (a rescoring message, a colour or level event for the notifier, a replayed
  record that failed again) goes back to its queue as it was.

Every consumer is idempotent (History and statistics keyed by the change, events by their id, inbox and
tasks by the event), so a record replayed twice still counts once. A message sent back ``max_redrives``
times (a week of sweeps: it is not the fault that clears but a bug) stays on its dead-letter queue for an
operator, and so does a position the stream no longer has; both are counted, and alarmed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from healthcode.adapters.base import DeadLetterStore, Parked, StreamReader

logger = Logger(child=True)


@dataclass(frozen=True, slots=True)
class Lane:
    name: str
    dead_letters: str  # the queue URL
    target: str  # where its messages are done again


@dataclass
class LaneOutcome:
    redriven: int = 0  # dead letters sent back
    records: int = 0  # stream records read back and put on the replay queue
    left: int = 0  # left for an operator (sent back too often, or no longer on the stream)
    failed: list[str] = field(default_factory=list)


class Redrive:
    def __init__(
        self, queues: DeadLetterStore, streams: StreamReader, lanes: list[Lane], max_redrives: int = 1008
    ) -> None:
        self._queues = queues
        self._streams = streams
        self._lanes = [lane for lane in lanes if lane.dead_letters and lane.target]
        self._max = max_redrives

    def sweep(self, time_left: Callable[[], float] = lambda: 900.0, per_lane: int = 1000) -> dict[str, LaneOutcome]:
        """Send back what every lane's dead-letter queue holds (at most ``per_lane`` messages each, while
        more than 20 s are left)."""
        out: dict[str, LaneOutcome] = {}
        for lane in self._lanes:
            done = out[lane.name] = LaneOutcome()
            seen: set[str] = set()
            while len(seen) < per_lane and time_left() > 20:
                batch = [m for m in self._queues.receive(lane.dead_letters) if m.message_id not in seen]
                if not batch:
                    break
                for message in batch:
                    seen.add(message.message_id)
                    self._one(lane, message, done)
        return out

    def _one(self, lane: Lane, message: Parked, done: LaneOutcome) -> None:
        try:
            doc = json.loads(message.body)
        except ValueError:
            doc = None
        info = doc.get("DDBStreamBatchInfo") if isinstance(doc, dict) else None
        try:
            if isinstance(info, dict):
                records = self._streams.read(info)
                if records is None:
                    done.left += 1
                    logger.error("stream records no longer on the stream", extra={"lane": lane.name, "batch": info})
                    return  # left on the queue: the alarm stays on until an operator acts (docs/runbook.md)
                self._queues.send(lane.target, records, message.redrives + 1)
                done.records += len(records)
            elif message.redrives >= self._max:
                done.left += 1
                logger.error("dead letter sent back too often", extra={"lane": lane.name, "id": message.message_id})
                return
            else:
                self._queues.send(lane.target, [message.body], message.redrives + 1)
            self._queues.delete(lane.dead_letters, message.receipt)
            done.redriven += 1
        except Exception as exc:  # this one stays for the next sweep; the others go on
            logger.warning("dead letter not sent back", extra={"lane": lane.name, "error": type(exc).__name__})
            done.failed.append(message.message_id)
