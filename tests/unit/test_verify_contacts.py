"""Verification reads contacts back in bulk: still there is a remnant, unreadable is never "gone"."""

from __future__ import annotations

import pytest

from services.polling.verify import verify_one
from shared.genesys import ContactReads, PermissionDenied
from shared.genesys.models import ExternalContact
from shared.models import ErasureRecord, Subject, utcnow


class QuietPlatform:
    """Nothing of the subject left in the GDPR subject search."""

    def search_gdpr_subjects(self, kind, value):
        return []


def _record() -> ErasureRecord:
    return ErasureRecord(request_id="v1", ticket="T-v1", verified_at=utcnow(),
                         subject=Subject(emails=["jane@example.org"], external_contact_ids=["c1"]))


def test_a_contact_read_back_is_a_remnant_and_a_missing_one_is_gone():
    left = ContactReads(found={"c1": ExternalContact(id="c1")})
    assert verify_one(QuietPlatform(), _record(), {}, left).remnants == ["external_contact:c1"]
    assert verify_one(QuietPlatform(), _record(), {}, ContactReads()).ok


def test_a_contact_that_could_not_be_read_leaves_the_request_unverified():
    unreadable = ContactReads(errors={"c1": PermissionDenied("POST bulk: one id -> 403", status=403)})
    with pytest.raises(PermissionDenied):
        verify_one(QuietPlatform(), _record(), {}, unreadable)
