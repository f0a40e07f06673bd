import pytest

from shared.pii import validators as v


@pytest.mark.parametrize(
    "number",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555555555554444",
        "2223003122003222",
        "3782 822463 10005",
        "6011111111111117",
        "3530111333300000",
        "4 0 1 2 8 8 8 8 8 8 8 8 1 8 8 1",
    ],
)
def test_card_numbers_that_pass(number):
    assert v.credit_card_ok(number)


@pytest.mark.parametrize(
    "number",
    [
        "4111 1111 1111 1112",  # Luhn fails
        "4222222222222",  # 13-digit Visa: Luhn-valid but no longer issued
        "0000 0000 0000 0000",
        "9400 1000 0000 0000",  # no such issuer
        "1234567812345670",  # Luhn-valid, no issuer starts with 1
        "411111111111",  # too short
    ],
)
def test_card_numbers_that_fail(number):
    assert not v.credit_card_ok(number)


def test_luhn():
    assert v.luhn_ok("79927398713")
    assert not v.luhn_ok("79927398710")
    assert not v.luhn_ok("7992739871x")


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "DE89370400440532013000",
        "fr14 2004 1010 0505 0001 3m02 606",
        "NL91ABNA0417164300",
        "ES9121000418450200051332",
        "BE68539007547034",
        "IT60X0542811101000000123456",
        "NO9386011117947",
    ],
)
def test_valid_ibans(iban):
    assert v.iban_ok(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 33",  # checksum
        "DE89 3704 0044 0532 0130 01",
        "DE8937040044053201300",  # one character short for DE
        "XX89370400440532013000",  # no such country
        "GB00WEST12345698765432",
    ],
)
def test_invalid_ibans(iban):
    assert not v.iban_ok(iban)


@pytest.mark.parametrize("ssn", ["123-45-6789", "078 05 1120", "219099999", "899-01-0001"])
def test_valid_ssns(ssn):
    assert v.us_ssn_ok(ssn)


@pytest.mark.parametrize("ssn", ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000", "12-345-678"])
def test_invalid_ssns(ssn):
    assert not v.us_ssn_ok(ssn)


def test_ip_addresses():
    assert v.ipv4_ok("192.168.0.1")
    assert not v.ipv4_ok("256.1.1.1")
    assert not v.ipv4_ok("01.2.3.4")
    assert v.ipv6_ok("2001:db8::1")
    assert v.ipv6_ok("fe80::1%eth0")
    assert not v.ipv6_ok("14:30:00")
    assert not v.ipv6_ok("::")
    assert not v.ipv6_ok("00:1A:2B:3C:4D:5E")
