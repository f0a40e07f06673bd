"""An incremental index of the platform's GDPR requests, so that no lost write leads to a second GDPR_DELETE.

Why. The ledger records an intent before ``POST /api/v2/gdpr/requests`` and the platform's id after it
(``shared.effects``). A Redis killed with ``appendfsync everysec`` loses up to a second of writes, a
failover more: both records may go, and a redelivered task then finds *no entry* for a request the
platform has. So before a request's first GDPR_DELETE the deletion task looks for it on the platform
anyway, by its name ``erasure-<request id>`` (``gdpr_request_name``), and adopts it if it is there.
Reading the platform's whole list for every request would be unaffordable; this index makes it about
one page per deletion batch.

What. The platform lists every GDPR request of the organisation (ours and others'), newest first, each
with its ``createdDate``. A *sync* reads pages from the newest until it reaches an entry older than the
*marker* (the newest ``createdDate`` the previous sync read), and stores the names of our requests with
their platform ids, the new marker and the *floor* in one MULTI: ``{<prefix>}:gdprindex:names`` (name ->
platform id) and ``{<prefix>}:gdprindex:meta`` (marker, floor, synced_at). What the index claims: every
request listed with a ``createdDate`` after the floor, up to the marker, has its name in ``names``.

A batch needs that claim back to its *horizon*: the arrival of its oldest request, less ``CLOCK_SKEW``
(nothing we submit for a request can be older than the request). When the floor is not below it (the
first sync: no index yet; a request older than the index), the sync reads from the newest down to the
horizon instead, and the floor moves down. ``GDPR_RECONCILE_PAGES`` read without reaching the marker is
still conclusive once the horizon is passed (the index then restarts from what was read); before it, a
sync raises ``ReconcileIncomplete``: nothing is submitted, and the batch's first GDPR_DELETEs fail for a
person to check the platform (``shared.pipeline.isolated``), as an unfinished reconciliation always has.

Why a lost write cannot fool it. Redis loses a *suffix* of its writes (``shared.effects`` says why).
Names and marker are written together, so they revert together. If a request's intent was lost, every
later write was too: the index that survived was read from the platform before that intent, so before
the call it announced, and the next sync reads the call (it is newer than the marker). If only its
result was lost, the surviving index was read either before the call (likewise) or after it, and then
holds its name. ``appendfsync always`` is therefore not required. Deleting the index keys is safe as
well: the next sync reads down to the horizon.

An anonymise request's one GDPR_UPDATE (issue 17) is found the same way, by the same name (a request
sends either GDPR_DELETEs or one GDPR_UPDATE, never both), but by name only: the nameless fallback below
indexes GDPR_DELETEs, and adopting one of those would record an erasure as the anonymisation.

When the name is absent. That the platform echoes the ``name`` we set is UNCONFIRMED, so a listed
GDPR_DELETE *without* a name is indexed by what is certain too: a keyed digest of its ``subject`` (emails,
phones, userId, externalContactId, journeyCustomer: ``subject_fingerprint``) with its platform id and ``createdDate``, in
``{<prefix>}:gdprindex:subject:<digest>``, written in the same MULTI as the names. ``find`` falls back to
it: a nameless GDPR_DELETE whose subject is exactly what this request sends, created after the request
arrived (less ``CLOCK_SKEW``), is this request's (the oldest such, when there are more). Such a match can
also be a GDPR_DELETE someone else made for the same identifiers since: adopting it still erases exactly
what ours would have. Still, a nameless GDPR_DELETE by another creator (an operator's own, made by hand in
the admin UI) is never adopted once we know who we are: every answer to our own POST names its
``createdBy``, kept in ``{<prefix>}:gdprindex:creators``; only if none was ever kept (the lost write was
our very first) does the subject alone decide. The digest keeps identifiers out of Redis; it needs the
platform to echo the subject's values as sent (ASSUMED: the simulator does). Nameless entries are kept
``SUBJECT_KEEP`` (a lost result is looked for within minutes, by the redelivery or the watchdog), so the
index does not grow with the organisation's history.

UNCONFIRMED on the real platform, relied on as the earlier reconciliation already did: that the list
is newest first (each page is checked: a page out of order, or an entry
without ``createdDate``, raises ``ReconcileIncomplete``); and that a request is listed as soon as its
POST has answered. If listing lagged, a sync within the lag after our POST could move the marker past
our request before it is listed; were the request's result then lost, a redelivery would not find it.
The guarantee holds for a lag shorter than the time from a POST's answer to the next sync.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis

from shared.digest import digest_value
from shared.effects import ReconcileIncomplete, newest_first
from shared.genesys import GenesysClient
from shared.genesys.models import GdprRequest, GdprRequestListing, GdprSubject
from shared.identifiers import phone_digits
from shared.models import ErasureRecord, utcnow
from shared.runtime import Runtime

#: How many pages a sync reads at most before it gives up (``ReconcileIncomplete`` unless the horizon was
#: passed): 20,000 GDPR requests of the organisation since the last sync, or since a batch's oldest request.
GDPR_RECONCILE_PAGES = 200
PAGE_SIZE = 100
#: How far the platform's clock may be behind ours when "older than the request" ends a search.
CLOCK_SKEW = timedelta(minutes=10)
NAME_PREFIX = "erasure-"
#: The floor of an index that has read the list to its end.
BEGINNING = datetime.min.replace(tzinfo=UTC)
#: How long a nameless GDPR_DELETE stays findable by its subject.
SUBJECT_KEEP = timedelta(days=30)
#: The request types a nameless listed request is indexed for (by type and subject): a GDPR_DELETE, and an
#: access request's GDPR_EXPORT (``services.deletion.export``).
NAMELESS_TYPES = frozenset({"GDPR_DELETE", "GDPR_EXPORT"})


def gdpr_request_name(request_id: str) -> str:
    """The platform-side name of our GDPR request: how we find it again, without personal data."""
    return f"{NAME_PREFIX}{request_id}"


def subject_fingerprint(key: bytes, subject: GdprSubject) -> str:
    """A keyed digest of what a GDPR request certainly names (its name left out), order-free. Emails by
    case and phones by their digits, so the platform echoing ``+44 7911 123456`` or ``tel:+447911123456``
    for the ``+447911123456`` we sent still matches (a miss would mean a second GDPR_DELETE)."""
    parts = [*(f"email:{e.strip().lower()}" for e in subject.email_addresses),
             *(f"phone:{phone_digits(p)}" for p in subject.phone_numbers)]
    if subject.user_id:
        parts.append(f"user:{subject.user_id}")
    if subject.external_contact_id:
        parts.append(f"contact:{subject.external_contact_id}")
    if subject.journey_customer is not None:
        parts.append(f"journey:{subject.journey_customer.type.lower()}:{subject.journey_customer.id}")
    return digest_value(key, "\x1f".join(sorted(set(parts))))


Fingerprint = Callable[[GdprSubject], str]


@dataclass(frozen=True)
class Coverage:
    """Every request listed with a ``createdDate`` in (floor, marker] is in the index."""

    marker: datetime | None  # None: nothing was listed when the index was made
    floor: datetime


class GdprIndex:
    """The index in Redis: what it covers, a lookup by name, and the sync that extends it."""

    def __init__(self, client: redis.Redis, prefix: str, fingerprint: Fingerprint | None = None) -> None:
        self._r = client
        root = "{" + prefix + "}"
        self.names_key = f"{root}:gdprindex:names"
        self.meta_key = f"{root}:gdprindex:meta"
        self._subject_root = f"{root}:gdprindex:subject:"
        self.creators_key = f"{root}:gdprindex:creators"
        self._fingerprint = fingerprint  # None: nameless requests are not indexed

    def lookup_subject(self, subject: GdprSubject, since: datetime, request_type: str = "GDPR_DELETE") -> str | None:
        """The platform id of the oldest nameless request of ``request_type`` for exactly ``subject`` created
        after ``since``."""
        if self._fingerprint is None:
            return None
        ours = {str(c) for c in self._r.smembers(self.creators_key)}
        after: list[tuple[datetime, str]] = []
        digest = _typed(request_type, self._fingerprint(subject))
        for platform_id, value in self._r.hgetall(self._subject_root + digest).items():
            created, _, creator = str(value).partition("|")
            if ours and creator and creator not in ours:
                continue  # someone else's request for the same identifiers: not ours to adopt
            if datetime.fromisoformat(created) > since:
                after.append((datetime.fromisoformat(created), str(platform_id)))
        return min(after)[1] if after else None

    def remember_creator(self, creator_id: str | None) -> None:
        """Who the platform says made our requests (``createdBy`` of a POST's answer)."""
        if creator_id:
            self._r.sadd(self.creators_key, creator_id)

    def coverage(self) -> Coverage | None:
        meta = {str(k): str(v) for k, v in self._r.hgetall(self.meta_key).items()}
        if not meta.get("floor"):
            return None
        marker = meta.get("marker")
        return Coverage(marker=datetime.fromisoformat(marker) if marker else None,
                        floor=datetime.fromisoformat(meta["floor"]))

    def lookup(self, name: str) -> str | None:
        """The platform id of our request ``name`` as last synced (None: not listed when synced)."""
        found = self._r.hget(self.names_key, name)
        return str(found) if found else None

    def sync(self, client: GenesysClient, horizon: datetime) -> int:
        """Read the platform's list until the index covers everything since ``horizon``; the pages read.

        Raises ``ReconcileIncomplete`` (with what was found stored) when ``GDPR_RECONCILE_PAGES`` pages
        do not reach back to ``horizon``, or the list is not newest first."""
        known = self.coverage()
        stop, kept_floor = _reach(known, horizon)
        names: dict[str, str] = {}
        nameless: dict[str, dict[str, str]] = {}  # subject fingerprint -> platform id -> createdDate
        seen: set[str] = set()
        newest: datetime | None = None
        oldest: datetime | None = None
        for number in range(1, GDPR_RECONCILE_PAGES + 1):
            page = client.list_gdpr_requests(page_number=number, page_size=PAGE_SIZE)
            for entry, created in _dated(page):
                if entry.id in seen:
                    continue  # pushed down from the page before by requests made meanwhile
                seen.add(entry.id)
                newest = created if newest is None else max(newest, created)
                oldest = created if oldest is None else min(oldest, created)
                if entry.name and entry.name.startswith(NAME_PREFIX):
                    names[entry.name] = entry.id
                elif not entry.name and entry.request_type in NAMELESS_TYPES and entry.subject is not None \
                        and self._fingerprint is not None:
                    digest = _typed(entry.request_type, self._fingerprint(entry.subject))
                    nameless.setdefault(digest, {})[entry.id] = \
                        f"{created.isoformat()}|{entry.creator_id or ''}"
            if _last_page(page, number):
                floor = BEGINNING
                break
            if oldest is not None and oldest < stop:
                floor = kept_floor if kept_floor is not None else oldest
                break
        else:
            if oldest is None or not oldest < horizon:
                self._store(names, nameless, None)
                raise ReconcileIncomplete(
                    f"searched {GDPR_RECONCILE_PAGES} pages of the platform's list without reaching its end")
            floor = oldest  # conclusive for this batch; the index restarts from what was read
        marker = newest if newest is not None else (known.marker if known is not None else None)
        self._store(names, nameless, Coverage(marker=marker, floor=floor))
        return number

    def _store(self, names: dict[str, str], nameless: dict[str, dict[str, str]], coverage: Coverage | None) -> None:
        """Names, nameless subjects and coverage in one MULTI: a Redis that loses one loses the others with it."""
        pipe = self._r.pipeline(transaction=True)
        if names:
            pipe.hset(self.names_key, mapping={name: platform_id for name, platform_id in names.items()})
        for fingerprint, listed in nameless.items():
            pipe.hset(self._subject_root + fingerprint, mapping=dict(listed.items()))
            pipe.expire(self._subject_root + fingerprint, SUBJECT_KEEP)
        if coverage is not None:
            pipe.hset(self.meta_key, mapping={"marker": coverage.marker.isoformat() if coverage.marker else "",
                                              "floor": coverage.floor.isoformat(),
                                              "synced_at": utcnow().isoformat()})
        pipe.execute()


class GdprRequests:
    """The platform's GDPR requests as one deletion batch knows them: synced once for the batch
    (``prepare``), then looked up per request (``find``) by the ledger before a first GDPR_DELETE."""

    def __init__(self, runtime: Runtime, client: GenesysClient) -> None:
        key = runtime.settings.require_hmac_key()
        self._index = GdprIndex(runtime.redis, runtime.keys.prefix, lambda subject: subject_fingerprint(key, subject))
        self._client = client
        self._synced: set[str] = set()
        self._failed: dict[str, str] = {}

    def prepare(self, records: Sequence[ErasureRecord]) -> None:
        """One sync covering these requests (those not covered yet). Transient platform trouble raises;
        an unfinished sync is kept and raised by ``find`` for each of them, inside its own isolation."""
        todo = [r for r in records if r.request_id not in self._synced]
        if not todo:
            return
        try:
            self._index.sync(self._client, min(r.received_at for r in todo) - CLOCK_SKEW)
        except ReconcileIncomplete as exc:
            self._failed.update((r.request_id, str(exc)) for r in todo)
        self._synced.update(r.request_id for r in todo)

    def remember_creator(self, created: GdprRequest) -> None:
        """Keep who made one of our requests, so a stranger's nameless request is never adopted as ours."""
        self._index.remember_creator(created.creator_id)

    def find(self, record: ErasureRecord, subject: GdprSubject, name: str | None = None,
             request_type: str = "GDPR_DELETE") -> str | None:
        """The platform id of this request's GDPR request (it sends ``subject`` under ``name``, by default
        the request's first) if the platform lists it: by our name, else (the platform dropped the name) by
        its subject, created after the request arrived. None: not listed. Synced first if ``prepare`` did
        not cover it. A nameless request must be of ``request_type``; only ``NAMELESS_TYPES`` are indexed, so a
        GDPR_UPDATE is found by its name alone (and a nameless request of another type never adopted as one)."""
        self.prepare([record])
        failure = self._failed.get(record.request_id)
        if failure is not None:
            raise ReconcileIncomplete(failure)
        found = self._index.lookup(name or gdpr_request_name(record.request_id))
        if found is None:
            found = self._index.lookup_subject(subject, record.received_at - CLOCK_SKEW, request_type)
        return found


def _typed(request_type: str, fingerprint: str) -> str:
    """The nameless index's key part: a GDPR_DELETE's as it always was; another type's prefixed by it, so an
    export is never adopted as a delete of the same subject, nor the other way round."""
    return fingerprint if request_type == "GDPR_DELETE" else f"{request_type}:{fingerprint}"


def _reach(known: Coverage | None, horizon: datetime) -> tuple[datetime, datetime | None]:
    """Where a sync may stop (an entry older than this), and the floor the index keeps when it does
    (None: the floor becomes the oldest entry read). From the marker when the index reaches back past
    the horizon, else down to the horizon."""
    if known is not None and known.marker is not None and known.floor < horizon:
        return known.marker, known.floor
    return horizon, None


def _dated(page: GdprRequestListing) -> list[tuple[GdprRequest, datetime]]:
    """The page's entries with their creation dates, checked newest first (``ReconcileIncomplete`` if not)."""
    stamps = [_created(entry) for entry in page.entities]
    newest_first(stamps)
    return [(entry, stamp) for entry, stamp in zip(page.entities, stamps, strict=True) if stamp is not None]


def _created(entry: GdprRequest) -> datetime | None:
    try:
        return datetime.fromisoformat(entry.created_date.replace("Z", "+00:00")) if entry.created_date else None
    except ValueError:
        return None


def _last_page(page: GdprRequestListing, number: int) -> bool:
    """The list's end: an empty page, the count it announces, or (no count) a page that is not full."""
    if not page.entities:
        return True
    if page.page_count is not None:
        return page.page_count <= number
    return len(page.entities) < PAGE_SIZE
