"""The signing seam: a signature covers the canonical document, and nothing else verifies."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, Settings
from shared.signing import Signer, generate_private_pem, load_public_key, signature_valid


def test_a_signed_document_verifies_with_the_public_key_alone_and_a_changed_byte_does_not():
    signer = Signer.from_pem(generate_private_pem(), "test")
    document = {"b": 1, "a": "é", "signature": None}
    signature = signer.sign(document)
    public = load_public_key(signer.public_pem())
    assert signature_valid(public, {"a": "é", "b": 1}, signature)  # key order and the signature field ignored
    assert not signature_valid(public, {"a": "e", "b": 1}, signature)
    other = Signer.from_pem(generate_private_pem(), "test")
    assert not signature_valid(other.public_key, document, signature)
    assert other.key_id != signer.key_id and signer.key_id.startswith("ed25519:")
    assert not signature_valid(public, document, "not base64!")


def test_the_key_comes_from_the_environment_or_a_file_and_a_bad_one_is_a_one_line_error(tmp_path):
    pem = generate_private_pem()
    assert Settings(signing_key=pem).require_signer().key_id == Signer.from_pem(pem, "x").key_id
    path = tmp_path / "signing.pem"
    path.write_text(pem)
    assert Settings(signing_key_file=str(path)).require_signer().key_id == Signer.from_pem(pem, "x").key_id
    with pytest.raises(ConfigError, match="ERASURE_SIGNING_KEY"):
        Settings().require_signer()
    with pytest.raises(ConfigError, match="not both"):
        Settings(signing_key=pem, signing_key_file=str(path)).require_signer()
    with pytest.raises(ConfigError, match="ERASURE_SIGNING_KEY_FILE: cannot read") as missing:
        Settings(signing_key_file=str(tmp_path / "absent.pem")).require_signer()
    with pytest.raises(ConfigError, match="not an unencrypted PEM") as garbage:
        Settings(signing_key="-----BEGIN PRIVATE KEY-----\nsecret-material\n-----END PRIVATE KEY-----").require_signer()
    assert "secret-material" not in str(garbage.value) and "absent" not in str(missing.value)
    assert "PRIVATE" not in repr(Signer.from_pem(pem, "x"))
