"""The synthetic organisation is deterministic and well-formed."""

from __future__ import annotations

import phonenumbers
from genesys_sim.seed import generate


def test_same_seed_same_people() -> None:
    a, b = generate(10, 3), generate(10, 3)
    assert [s.public() for s in a.subjects] == [s.public() for s in b.subjects]
    assert [s.public() for s in generate(10, 4).subjects] != [s.public() for s in a.subjects]


def test_subjects_are_well_formed() -> None:
    data = generate(40, 1)
    emails = [e for s in data.subjects for e in s.emails]
    phones = [p for s in data.subjects for p in s.phones]
    assert len(emails) == len(set(emails)) and all(e == e.lower() for e in emails)
    assert len(phones) == len(set(phones))
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)
    assert {p[:3] for p in phones} >= {"+44", "+49", "+33"} and any(p.startswith("+1") for p in phones)
    for s in data.subjects:
        assert 1 <= len(s.emails) <= 3 and 1 <= len(s.phones) <= 2 and 2 <= len(s.conversation_ids) <= 4
        assert s.external_contact_id in data.contacts
        for cid in s.conversation_ids:
            conv = data.conversations[cid]
            assert conv["conversationStart"].endswith("Z")
            assert any(p["purpose"] == "agent" and p.get("userId") for p in conv["participants"])
        assert s.conversation_ids[0] in data.messages
    subject_convs = {c for s in data.subjects for c in s.conversation_ids}
    assert len(data.conversations) > len(subject_convs)  # noise exists
    media = {c["participants"][0]["sessions"][0]["mediaType"] for c in data.conversations.values()}
    assert media == {"message", "voice", "email"}


def test_fast_phone_validity_and_timestamps_match_the_reference() -> None:
    import random
    from datetime import UTC, datetime, timedelta

    from genesys_sim.phones import valid_region
    from genesys_sim.seed import _us, iso, iso_us

    rng = random.Random(5)
    for _ in range(3000):
        cc = rng.choice([44, 1, 49, 33, 7, 262])
        national = str(rng.randrange(10 ** rng.randint(6, 11)) or 1)
        number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(national))
        expected = phonenumbers.region_code_for_number(number) if phonenumbers.is_valid_number(number) else None
        assert valid_region(cc, national) == expected, (cc, national)
    for _ in range(2000):
        moment = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(10**15))
        assert iso_us(_us(moment)) == iso(moment)
