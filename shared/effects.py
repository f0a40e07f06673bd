"""Exactly-once side effects on the platform: the ledger owns the protocol, call sites only name the call.

Every platform side effect of a request (a GDPR request, a contact removed, a user deleted, a recording
job created or started) is one *effect* in its request's ledger, and goes through ``EffectLedger.once``:

1. a result already recorded is returned, nothing is called (a redelivered task stops there);
2. an *intent* without a result means an earlier delivery may have reached the platform and died
   before it wrote the answer down: ``reconcile`` searches the platform's own list (through
   ``reconcile_pages``); found, its id is recorded and nothing is called again. Without a
   ``reconcile`` (an idempotent DELETE) the call is simply made again: 404 then means it went through;
3. *no entry at all*, for an effect given an ``unrecorded`` search: the same search first (see below);
4. otherwise: intent, call, result. A 409 is recorded as ``Blocked`` and never retried.

``recall`` (1 to 3) and ``perform`` (4) are the two halves of ``once``, for a call site that must do
something in between (the recording job checks holds and takes a slot only when it will call).
Outcomes are typed: ``Done(platform_id)``, ``AlreadyGone()``, ``Blocked(code)``, each saying how it was
learnt (``Via``). The stored form is a Redis hash per effect (``state``, ``platform_id``, timestamps and
the call's notes) and is what operators list; ``record_outcome`` is the one step between the platform's
answer and our record of it (the crash tests kill a worker there: ``tests/support/crashing_worker.py``).

**Writes Redis never kept.** With ``appendfsync everysec`` a killed Redis loses up to a second of
acknowledged writes, and a replica promoted by a failover lacks whatever it had not received yet. The
intent itself may be among them: a redelivered task then finds *no entry* for a call the platform did
make, and step 4 alone would make it twice. So the effects that must never happen twice (a GDPR_DELETE,
a recording DELETE job) search before a *first* call too (``unrecorded``, or ``adopt`` after a search
of the call site's own): the GDPR request through an incremental index of the platform's list
(``services.deletion.gdpr_index``), the recording job through the platform's job list
(``shared.recording_jobs.find_unclaimed_job``). What makes this sound is that such a loss is a *suffix*
of the write stream: the AOF is replayed in order (an unfinished MULTI is dropped whole), a replica
holds a prefix of its master's stream, and every key of a deployment shares one hash tag, so one node.
Whatever survived was written before whatever was lost, so the index state that survived was read from
the platform before the lost intent, hence before the call it announced. ``appendfsync always`` is
therefore not required. A Redis with no persistence at all is another matter: a restart loses the
records, the ledger and (a broker on it) the queues, so nothing is redelivered and the requests in
flight are simply gone. An operator resubmits them from their tickets as new requests with new ids:
a GDPR_DELETE or recording job made before the loss is not recognised as theirs, so a subject may get
a second one (the same erasure done twice, never one skipped). Run Redis with AOF (everysec suffices).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from itertools import pairwise
from typing import Protocol, TypeAlias, TypeVar

import redis

from shared.errors import ErasureError, RunLater
from shared.genesys.errors import Conflict
from shared.keys import Keys
from shared.metrics import LEDGER_RECONCILES
from shared.models import utcnow

#: How a DELETE that went through is recorded (it has no platform id of its own).
DELETED = "deleted"
#: How a DELETE of something the platform no longer had is recorded (a 404: success all the same).
ALREADY_GONE = "already_gone"
#: The prefix of a refusal's record, followed by the platform's error code.
BLOCKED = "blocked:"
#: How soon a delivery that met another's fresh intent looks again (see ``EffectLedger.perform``).
CONCURRENT_INTENT_RETRY_S = 2.0
#: The ledger's own fields of an effect's hash; a call's notes may not use them.
RESERVED = frozenset({"state", "platform_id", "intent_at", "done_at"})

EffectKey: TypeAlias = tuple[str, str]  # (request id, effect name)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class ReconcileIncomplete(ErasureError):
    """The platform's list was searched as far as the budget allows without finding the end.

    Not finding our earlier call there proves nothing, so nothing may be resubmitted: the request
    fails with this reason and an operator checks the platform by hand."""


class Via(Enum):
    """How an outcome was learnt, so the caller audits what happened now and only that."""

    CALL = "call"  # this delivery made the call
    RECONCILE = "reconcile"  # an earlier delivery's call, found in the platform's list
    LEDGER = "ledger"  # recorded by an earlier delivery


@dataclass(frozen=True)
class Done:
    """The platform acted: ``platform_id`` is what it created (or ``DELETED`` for a DELETE)."""

    platform_id: str
    via: Via = Via.LEDGER

    @property
    def recorded(self) -> str:
        return self.platform_id


@dataclass(frozen=True)
class AlreadyGone:
    """What we meant to delete was not there (any more): success, nothing was done twice."""

    via: Via = Via.LEDGER

    @property
    def recorded(self) -> str:
        return ALREADY_GONE


@dataclass(frozen=True)
class Blocked:
    """Refused (a 409, or one of our own rules): recorded with its code, never retried."""

    code: str
    via: Via = Via.LEDGER

    @property
    def recorded(self) -> str:
        return BLOCKED + self.code


Outcome: TypeAlias = Done | AlreadyGone | Blocked


def outcome_of(recorded: str, via: Via = Via.LEDGER) -> Outcome:
    """The typed outcome of a stored result (the inverse of ``.recorded``)."""
    if recorded.startswith(BLOCKED):
        return Blocked(recorded.removeprefix(BLOCKED), via)
    if recorded == ALREADY_GONE:
        return AlreadyGone(via)
    return Done(recorded, via)


@dataclass(frozen=True)
class EffectRecord:
    """One effect as stored: ``state`` is "intent" or "done"; ``notes`` are what the call stored beside
    its intent (a recording job's spec and slot lease)."""

    state: str
    platform_id: str | None
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome | None:
        """The recorded result, or None while only an intent is known."""
        if self.state != "done" or not self.platform_id:
            return None
        return outcome_of(self.platform_id)


class Page(Protocol[T_co]):
    """One page of a platform list (``GdprRequestListing``, ``RecordingJobListing``...)."""

    @property
    def entities(self) -> Sequence[T_co]: ...

    @property
    def page_count(self) -> int | None: ...


def reconcile_pages(list_page: Callable[[int], Page[T]], matches: Callable[[T], bool], max_pages: int, *,
                    older: Callable[[T], bool] | None = None,
                    created: Callable[[T], datetime | None] | None = None) -> T | None:
    """Search a platform list, page 1 first, for the entry ``matches`` accepts.

    None once the list's end is reached without it (or, with ``older``, a page ends with an entry older
    than anything we could have created: the list is newest first). Raises ``ReconcileIncomplete`` when
    ``max_pages`` pages were read and the list goes on: our call may be further down; and, with
    ``created``, when a page is not newest first by it (``newest_first``): stopping early would then prove
    nothing.
    """
    for number in range(1, max_pages + 1):
        page = list_page(number)
        if created is not None:
            newest_first([created(entity) for entity in page.entities])
        for entity in page.entities:
            if matches(entity):
                return entity
        if not page.entities or page.page_count is None or page.page_count <= number:
            return None  # the last page (a list that does not say how many it has ends here too)
        if older is not None and older(page.entities[-1]):
            return None
    raise ReconcileIncomplete(f"searched {max_pages} pages of the platform's list without reaching its end")


def newest_first(stamps: Sequence[datetime | None]) -> None:
    """Check that one page of a list is newest first, as every search that stops early relies on
    (the platform documents no order for its GDPR request list, and the recording job list only asked
    ``sortBy=dateCreated``): ``ReconcileIncomplete`` otherwise, and for an entry without a date."""
    dated = [stamp for stamp in stamps if stamp is not None]
    if len(dated) != len(stamps):
        raise ReconcileIncomplete("the platform's list gave an entry without its creation date")
    if any(older > newer for newer, older in pairwise(dated)):
        raise ReconcileIncomplete("the platform's list is not newest first")


class EffectLedger:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = client
        self._keys = keys

    # -- the protocol ------------------------------------------------------------------------

    def once(self, request_id: str, effect: str, call: Callable[[], Outcome],
             reconcile: Callable[[EffectRecord], str | None] | None = None, *,
             unrecorded: Callable[[], str | None] | None = None,
             notes: Mapping[str, str] | None = None) -> Outcome:
        """The effect's outcome, calling the platform only if no delivery has (see the module doc)."""
        unseen = self.get(request_id, effect) is None
        known = self.recall(request_id, effect, reconcile, unrecorded=unrecorded)
        if known is not None:
            return known
        # A call that creates (it has a search) is not made beside an intent another delivery wrote
        # while this one searched; an intent that was there before (a dead delivery's) was searched for.
        return self.perform(request_id, effect, call, notes=notes,
                            exclusive=unseen and (reconcile is not None or unrecorded is not None))

    def recall(self, request_id: str, effect: str,
               reconcile: Callable[[EffectRecord], str | None] | None = None, *,
               unrecorded: Callable[[], str | None] | None = None) -> Outcome | None:
        """What is known without calling: the recorded result, or an earlier call found by ``reconcile``
        (given the intent as stored, its notes included), or with no entry at all by ``unrecorded`` (a
        call whose intent Redis lost). None: the call is still to be made.

        Either search may raise ``ReconcileIncomplete``; nothing is recorded then."""
        existing = self.get(request_id, effect)
        if existing is None:
            if unrecorded is None:
                return None
            lost = unrecorded()
            LEDGER_RECONCILES.labels("found_unrecorded" if lost is not None else "not_found_unrecorded").inc()
            return self.adopt(request_id, effect, lost) if lost is not None else None
        if existing.outcome is not None:
            return existing.outcome
        if reconcile is None:
            return None
        found = reconcile(existing)
        LEDGER_RECONCILES.labels("found" if found is not None else "not_found").inc()
        return self.adopt(request_id, effect, found) if found is not None else None

    def adopt(self, request_id: str, effect: str, platform_id: str, notes: Mapping[str, str] | None = None) -> Done:
        """Record as this effect's result a call found on the platform that an earlier delivery made
        (its intent lost with writes Redis never kept, or never followed by a result); ``notes`` describe
        it as an intent's would. Nothing is called."""
        self.record_intent(request_id, effect, notes)
        self.record_done(request_id, effect, platform_id)
        return Done(platform_id, Via.RECONCILE)

    def perform(self, request_id: str, effect: str, call: Callable[[], Outcome], *,
                notes: Mapping[str, str] | None = None, exclusive: bool = False) -> Outcome:
        """Intent (with ``notes``), call, result. A 409 becomes ``Blocked``; any other exception leaves
        the intent for the next delivery to reconcile.

        ``exclusive``: an intent written since ``recall`` looked (a second delivery running beside
        this one, its request lock expired) means that delivery makes the call: this one makes none and
        looks again shortly (``RunLater`` for this request), when the intent is there to reconcile."""
        if not self.record_intent(request_id, effect, notes) and exclusive:
            raise RunLater(CONCURRENT_INTENT_RETRY_S, "another delivery is making this call", request_id=request_id)
        try:
            outcome = replace(call(), via=Via.CALL)
        except Conflict as exc:
            outcome = Blocked(exc.code or "conflict", Via.CALL)
        self.record_outcome(request_id, effect, outcome)
        return outcome

    def once_bulk(self, targets: Mapping[EffectKey, str], send: Callable[[list[str]], Mapping[str, Outcome]],
                  chunk_size: int, on_result: Callable[[EffectKey, Outcome], None] | None = None,
                  ) -> dict[EffectKey, Outcome]:
        """Many effects served by bulk calls: ``targets`` maps each effect to the platform id it acts on
        (several effects may share one id: it is sent once).

        Recorded effects are not sent again; the others get their intent, then ``send`` is called with at
        most ``chunk_size`` ids at a time and answers an outcome per id it has one for. Each answer is
        recorded (and ``on_result`` told) before the next chunk is sent, so an exception from a later
        chunk loses nothing. Ids ``send`` gives no answer for keep their intent (the next delivery sends
        them again: bulk removals are idempotent). Returns every effect's outcome that is known.
        """
        outcomes: dict[EffectKey, Outcome] = {}
        waiting: dict[str, list[EffectKey]] = {}
        for key, target in targets.items():
            known = self.recall(*key)
            if known is not None:
                outcomes[key] = known
                continue
            self.record_intent(*key)
            waiting.setdefault(target, []).append(key)
        for chunk in _chunks(list(waiting), chunk_size):
            for target, answer in send(chunk).items():
                for key in waiting.get(target, []):
                    outcome = replace(answer, via=Via.CALL)
                    self.record_outcome(*key, outcome)
                    outcomes[key] = outcome
                    if on_result is not None:
                        on_result(key, outcome)
        return outcomes

    # -- storage -----------------------------------------------------------------------------

    def get(self, request_id: str, effect: str) -> EffectRecord | None:
        data = self._r.hgetall(self._keys.effect(request_id, effect))
        if not data:
            return None
        stored = {str(k): str(v) for k, v in data.items()}
        platform_id = stored.get("platform_id")
        notes = {k: v for k, v in stored.items() if k not in RESERVED}
        return EffectRecord(state=stored["state"], platform_id=platform_id or None, notes=notes)

    def record_intent(self, request_id: str, effect: str, notes: Mapping[str, str] | None = None) -> bool:
        """Record that we are about to call; False if an intent or result already exists.

        ``notes`` (what a reconciliation will need, e.g. the call's exact parameters) are written even
        then, replacing earlier ones: they describe the call about to be made."""
        key = self._keys.effect(request_id, effect)
        created = self._r.hsetnx(key, "state", "intent")
        if created:
            self._r.hset(key, "intent_at", utcnow().isoformat())
        if notes:
            clash = RESERVED.intersection(notes)
            if clash:
                raise ValueError(f"notes may not use the ledger's own fields: {sorted(clash)}")
            self._r.hset(key, mapping={name: value for name, value in notes.items()})
        return bool(created)

    def record_outcome(self, request_id: str, effect: str, outcome: Outcome) -> None:
        """The platform answered ``outcome`` for ``effect``: the one step between its answer and our record."""
        self.record_done(request_id, effect, outcome.recorded)

    def record_done(self, request_id: str, effect: str, platform_id: str) -> None:
        self._r.hset(
            self._keys.effect(request_id, effect),
            mapping={"state": "done", "platform_id": platform_id, "done_at": utcnow().isoformat()},
        )


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
