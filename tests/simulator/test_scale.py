"""Scale: the value index never loses a match, and a 2,000-subject organisation answers correctly.

Timings are a benchmark concern (`python -m genesys_sim.loadcheck`); these tests only make sure the
fast paths give the same answers as looking at everything.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from genesys_sim.analytics import _eval_filter, _sessions, conversation_matches, run_query
from genesys_sim.config import SimConfig
from genesys_sim.index import stored_keys
from genesys_sim.matching import same_value, text_contains
from genesys_sim.org_data import (
    CONTACT_EMAIL_FIELDS,
    OrgData,
    _contact_matches,
    _field_holds,
    apply_delete,
    conversation_strings,
    find,
    message_strings,
)
from genesys_sim.seed import generate
from genesys_sim.server import RunningSimulator, start_in_thread

from tests.support.sim_api import ALL_TIME, get_token, wait_for

SHAPE = {"linked_fraction": 0.3, "recycled": 3, "active": 3, "former_agents": 3}


def _brute_conversations(data: OrgData, value: str) -> set[str]:
    out = set()
    for cid, conv in data.seed.conversations.items():
        fields = conversation_strings(conv)
        addresses, texts = message_strings(data.seed.messages.get(cid))
        if any(_field_holds(f, value) for f in fields + addresses) or any(text_contains(t, value) for t in texts):
            out.add(cid)
    return out


def _probe_values(data: OrgData, rng: random.Random) -> list[str]:
    values: list[str] = []
    for s in rng.sample(data.seed.subjects, 3):
        values += [*s.emails, *s.phones, s.name, s.name.upper(), *s.external_contact_ids]
        local, _, domain = s.emails[0].partition("@")
        values += [local, domain, s.first_name, s.last_name, f"tel:{s.phones[0]}", s.phones[0][3:]]
    for a in data.seed.former_agents:
        values += [a.user_id, a.name, a.email]
    texts = [m.text for msgs in data.seed.messages.values() for m in msgs]
    for text in rng.sample(texts, 4):
        words = text.split()
        start = rng.randrange(len(words))
        values.append(" ".join(words[start : start + rng.randint(1, 3)]).strip(",."))
    values += ["Support Queue", "example.org", "nobody@example.org", "+447000000000", "refund", "anon-"]
    return values


def test_seed_files_every_key_its_conversations_hold() -> None:
    data = generate(80, 4, 80, **SHAPE)  # type: ignore[arg-type]
    for cid, conv in data.conversations.items():
        addresses, texts = message_strings(data.messages.get(cid))
        keys: set[str] = set()
        for text in conversation_strings(conv) + addresses + texts:
            stored_keys(text, keys)
        assert keys <= data.conv_keys[cid], (cid, keys - data.conv_keys[cid])


def test_index_candidates_are_a_superset() -> None:
    rng = random.Random(9)
    data = OrgData.from_seed(generate(50, 5, 50, **SHAPE))  # type: ignore[arg-type]
    probes = _probe_values(data, rng)
    _check_superset(data, probes, ("addressFrom", "participantName"))
    # After erasures the rewritten conversations are filed again (their anon- tokens included).
    for s in data.seed.subjects[:6]:
        apply_delete(data, {"name": s.name, "emailAddresses": s.emails, "phoneNumbers": s.phones})
    s = data.seed.subjects[0]
    assert find(data, [*s.emails, *s.phones, s.name]) == []
    anon = [w.strip(",.") for msgs in data.seed.messages.values() for m in msgs for w in m.text.split() if w.startswith("anon-")]
    assert anon
    _check_superset(data, probes[::3] + anon[:5], ("addressFrom",))
    assert find(data, anon[:1])


def _check_superset(data: OrgData, probes: list[str], dimensions: tuple[str, ...]) -> None:
    for value in probes:
        brute = _brute_conversations(data, value)
        assert brute <= set(data.conversations_for([value])), value
        contacts = {c for c, contact in data.seed.contacts.items() if _contact_matches(contact, value)}
        assert contacts <= set(data.contacts_for([value])), value
        records = {
            r
            for r, rec in data.subject_index.items()
            if any(
                same_value(x, value)
                for x in [rec["name"], rec["externalContactId"], *rec["emailAddresses"], *rec["phoneNumbers"]]
            )
        }
        assert records <= set(data.records_for([value])), value
        # Analytics: the indexed query answers what evaluating every conversation answers.
        for dimension in dimensions:
            flt = [{"type": "or", "predicates": [{"dimension": dimension, "value": value}]}]
            everything = {
                c["conversationId"]
                for c in data.seed.conversations.values()
                if not data.is_active(c["conversationId"]) and _generic_matches(c, flt[0])
            }
            answer = run_query(data, {"interval": ALL_TIME, "segmentFilters": flt, "paging": {"pageSize": 100}})
            if answer["totalHits"] <= 100:
                assert everything <= {c["conversationId"] for c in answer.get("conversations", [])}, (dimension, value)


def _generic_matches(conv: dict[str, Any], flt: dict[str, Any]) -> bool:
    """A segment filter evaluated predicate by predicate (the reference for the set-lookup fast path)."""
    return any(_eval_filter(flt, [(p, s)], conv) for p, s in _sessions(conv))


def test_fast_or_filter_agrees_with_predicate_evaluation() -> None:
    rng = random.Random(2)
    data = OrgData.from_seed(generate(30, 8, 30, **SHAPE))  # type: ignore[arg-type]
    values = _probe_values(data, rng)
    values += [v.upper() for v in values[:10]] + ["example.org", "mail", "tel:" + data.seed.subjects[1].phones[0]]
    for _ in range(25):
        predicates = [
            {"dimension": rng.choice(["addressFrom", "addressTo", "ani", "participantName", "remote", "dnis"]), "value": v}
            for v in rng.sample(values, rng.randint(1, 12))
        ]
        flt = {"type": "or", "predicates": predicates}
        for conv in data.seed.conversations.values():
            assert conversation_matches(conv, [flt], []) == _generic_matches(conv, flt), predicates
            assert conversation_matches(conv, [], [flt]) == _eval_filter(flt, list(_sessions(conv)), conv)


def test_same_seed_same_shapes() -> None:
    a, b = generate(40, 3, **SHAPE), generate(40, 3, **SHAPE)  # type: ignore[arg-type]
    drop = ("window", "recycled_at")
    assert [{k: v for k, v in s.public().items() if k not in drop} for s in a.subjects] == [
        {k: v for k, v in s.public().items() if k not in drop} for s in b.subjects
    ]
    assert [x.public() for x in a.former_agents] == [x.public() for x in b.former_agents]
    linked = [s for s in a.subjects if len(s.external_contact_ids) == 2]
    assert len(linked) == 12 and all(len(s.emails) >= 2 for s in linked)
    for s in linked:
        b_contact = a.contacts[s.external_contact_ids[1]]
        assert b_contact["canonicalContact"]["id"] == s.external_contact_id
        assert not {b_contact.get(k) for k in CONTACT_EMAIL_FIELDS} & {a.contacts[s.external_contact_id].get("workEmail")}
    assert sum(1 for s in a.subjects if s.recycled_phones) == 3 and sum(1 for s in a.subjects if s.active_conversation_ids) == 3


@pytest.fixture(scope="module")
def big_sim() -> Iterator[RunningSimulator]:
    # The conversations in progress stay so for the whole test: the query and `active_now()` below agree.
    config = SimConfig(subjects=2000, noise_people=1000, seed=21, gdpr_step_s=0.05, rate_limit=10**6,
                       active_for_s=24 * 3600.0, **SHAPE)  # type: ignore[arg-type]
    running = start_in_thread(config)
    yield running
    running.stop()


def test_two_thousand_subjects_smoke(big_sim: RunningSimulator) -> None:
    rng = random.Random(3)
    with httpx.Client(base_url=big_sim.url, timeout=30) as raw:
        api = httpx.Client(base_url=big_sim.url, timeout=30, headers={"Authorization": f"Bearer {get_token(raw)}"})
        truth: list[dict[str, Any]] = raw.get("/_sim/subjects").json()
        assert len(truth) == 2000
        picked = rng.sample([s for s in truth if not s["recycled_phones"]], 34)
        predicates = []
        for s in picked:
            predicates += [
                {"dimension": "addressFrom", "value": s["emails"][0]},
                {"dimension": "ani", "value": s["phones"][0]},
                {"dimension": "externalContactId", "value": s["external_contact_id"]},
            ]
        flt = [{"type": "or", "predicates": predicates[:100]}]
        seen: set[str] = set()
        page = 1
        while True:
            r = api.post(
                "/api/v2/analytics/conversations/details/query",
                json={"interval": ALL_TIME, "segmentFilters": flt, "paging": {"pageSize": 100, "pageNumber": page}},
            )
            assert r.status_code == 200, r.text
            convs = r.json().get("conversations", [])
            seen |= {c["conversationId"] for c in convs}
            if len(convs) < 100:
                break
            page += 1
        theirs = {c for s in picked for c in s["conversation_ids"]}
        assert seen and seen <= theirs
        # Every conversation holding one of those values, found by looking at all of them.
        used = predicates[:100]
        emails = {p["value"] for p in used if p["dimension"] == "addressFrom"}
        phones = {"".join(ch for ch in p["value"] if ch.isdigit()) for p in used if p["dimension"] == "ani"}
        contacts = {p["value"] for p in used if p["dimension"] == "externalContactId"}
        data = big_sim.store.data
        brute = set()
        for conv in data.seed.conversations.values():
            for part in conv["participants"]:
                for session in part["sessions"]:
                    ani = "".join(ch for ch in session.get("ani", "") if ch.isdigit())
                    if session.get("addressFrom") in emails or ani in phones or part.get("externalContactId") in contacts:
                        brute.add(conv["conversationId"])
        assert seen == brute - data.active_now()

        for s in rng.sample(truth, 10):
            found = api.get("/api/v2/gdpr/subjects", params={"searchType": "EMAIL", "searchValue": s["emails"][-1]}).json()
            assert [e["externalContactId"] for e in found["entities"]] == [s["external_contact_ids"][-1]]
            by_name = api.get("/api/v2/gdpr/subjects", params={"searchType": "NAME", "searchValue": s["name"]}).json()
            assert {e["externalContactId"] for e in by_name["entities"]} == set(s["external_contact_ids"])
            contact = api.post(
                "/api/v2/externalcontacts/identifierlookup/contacts", json={"type": "Email", "value": s["emails"][0]}
            )
            assert contact.json()["id"] == s["external_contact_id"]

        victims = [s for s in picked if not s["active_conversation_ids"]][:20]
        ids = []
        for s in victims:
            subject = {"name": s["name"], "emailAddresses": s["emails"], "phoneNumbers": s["phones"]}
            r = api.post(
                "/api/v2/gdpr/requests",
                params={"deleteConfirmed": "true"},
                json={"requestType": "GDPR_DELETE", "subject": subject},
            )
            ids.append(r.json()["id"])
        wait_for(lambda: api.get(f"/api/v2/gdpr/requests/{ids[-1]}").json()["status"] == "COMPLETED")
        for s in victims:
            assert raw.post("/_sim/find", json={"values": [*s["emails"], *s["phones"], s["name"]]}).json()["matches"] == []
        stats = raw.get("/_sim/stats", params={"per_subject": "false"}).json()
        assert stats["gdpr_totals"] == {"GDPR_DELETE": 20} and "gdpr_requests" not in stats
        api.close()
