"""Personal-data detection and redaction (GDPR Art. 17 erasure).

``PiiEngine`` finds emails, phone numbers, payment cards, IBANs, IP addresses, US SSNs and a
known subject's identifiers in free text; ``scrub`` is the one-call form used on everything the
system writes (logs, audit entries, exception texts, webhook bodies, Sentry events).

Importing the package first decides whether the compiled engine or its Python source runs
(``shared/pii/_compiled.py``; ``ENGINE_BUILD`` says which).
"""

from shared.pii._compiled import ENGINE_BUILD  # first: it decides which build the imports below load
from shared.pii.engine import DEFAULT_REGIONS, PiiEngine, default_engine, scrub
from shared.pii.entities import (
    CREDIT_CARD,
    EMAIL,
    ENTITY_TYPES,
    IBAN,
    IP_ADDRESS,
    PHONE,
    SUBJECT,
    US_SSN,
    Entity,
    EntityType,
)
from shared.pii.identity import phone_identifier
from shared.pii.subject import KnownSubject

__all__ = [
    "CREDIT_CARD",
    "DEFAULT_REGIONS",
    "EMAIL",
    "ENGINE_BUILD",
    "ENTITY_TYPES",
    "IBAN",
    "IP_ADDRESS",
    "PHONE",
    "SUBJECT",
    "US_SSN",
    "Entity",
    "EntityType",
    "KnownSubject",
    "PiiEngine",
    "default_engine",
    "phone_identifier",
    "scrub",
]
