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


def test_luhn_refuses_digits_outside_ascii():
    # Fullwidth digits (U+FF10..) are str.isdigit(), but no card number is made of them.
    fullwidth = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
    stripe_visa = "4242 4242 4242 4242"
    assert v.luhn_ok(stripe_visa.replace(" ", ""))
    assert not v.luhn_ok(stripe_visa.replace(" ", "").translate(fullwidth))
    assert not v.credit_card_ok(stripe_visa.translate(fullwidth))


@pytest.mark.parametrize("number", ["4111, 1111, 1111, 1111", "4111,1111,1111,1111"])
def test_card_numbers_grouped_with_commas(number):
    # How transcripts and chat write a number read out in groups.
    assert v.credit_card_ok(number)


@pytest.mark.parametrize(
    ("number", "is_card"),
    [
        ("5018 0000 0009", True),  # 12 digits: the shortest Maestro number
        ("5018 0000 0000 0000 007", True),  # 19 digits: the longest
        ("5018 0000 0000 0000 0009", False),  # 20 digits (Luhn-valid): no network issues them
        ("4111 1111 111", False),  # 11 digits
    ],
)
def test_card_length_limits(number, is_card):
    assert v.credit_card_ok(number) is is_card


@pytest.mark.parametrize(
    "text",
    ["x111 1111 1111 1111", "4111 1111 1111 111x", "", "- - -", "DE89 3704 0044 0532 0130 0@", "GB82 WEST 1234 5698 7654 3Ä"],
)
def test_odd_input_is_refused_without_raising(text):
    assert v.credit_card_ok(text) is False
    assert v.iban_ok(text) is False
    assert v.us_ssn_ok(text) is False
    assert v.ipv4_ok(text) is False
    assert v.ipv6_ok(text) is False


def test_ssn_with_two_distinct_digits_is_valid():
    # Only a number that is one digit repeated is refused for being a placeholder.
    assert v.us_ssn_ok("122-12-1212")
    assert not v.us_ssn_ok("222-22-2222")
