from shared.pii import ENTITY_TYPES, Entity, PiiEngine, default_engine, scrub


def test_redact_replaces_with_type_tokens():
    text = "Jane: jane@example.com, +44 20 7946 0958, 4111 1111 1111 1111, GB82WEST12345698765432, 10.0.0.1, 078-05-1120"
    redacted, entities = default_engine().redact(text)
    assert redacted == "Jane: <EMAIL>, <PHONE>, <CREDIT_CARD>, <IBAN>, <IP_ADDRESS>, <US_SSN>"
    assert [e.type for e in entities] == ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "US_SSN"]


def test_redact_without_findings_returns_the_text():
    assert default_engine().redact("nothing here") == ("nothing here", [])


def test_entity():
    entity = Entity("EMAIL", 3, 9)
    assert entity.token() == "<EMAIL>"
    assert entity.to_dict() == {"type": "EMAIL", "start": 3, "end": 9}
    assert set(ENTITY_TYPES) == {"EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "US_SSN", "SUBJECT"}


def test_default_engine_is_cached():
    assert default_engine() is default_engine()
    assert isinstance(default_engine(), PiiEngine)


def test_scrub():
    assert scrub("contact jane@example.com") == "contact <EMAIL>"
    assert scrub("") == ""


def test_long_text_is_handled():
    text = ("Order 12345 shipped. Call 0161 496 0000 or mail a.b@example.com. " * 200).strip()
    entities = default_engine().find(text)
    assert len(entities) == 400
