"""Issue 20: a subject's name in the scripts and forms real messages use.

A signature in capitals ("ИВАН ПЕТРОВ", Greek capitals without their accents' case), and a
Chinese or Japanese name glued to the words around it ("私は中川 零です": "I am Nakagawa Rei").
"""

from __future__ import annotations

import pytest

from shared.pii import KnownSubject


def _spans(name: str, text: str) -> list[str]:
    return [text[start:end] for start, end in KnownSubject(names=[name]).find(text)]


@pytest.mark.parametrize(
    ("name", "text", "written"),
    [
        ("Иван Петров", "Kind regards,\nИВАН ПЕТРОВ\nMob: on file", "ИВАН ПЕТРОВ"),  # noqa: RUF001
        ("Олена Коваленко", "account holder: ОЛЕНА КОВАЛЕНКО", "ОЛЕНА КОВАЛЕНКО"),
        ("Νίκος Παπαδόπουλος", "ΝΊΚΟΣ ΠΑΠΑΔΌΠΟΥΛΟΣ\nnikos@example.gr", "ΝΊΚΟΣ ΠΑΠΑΔΌΠΟΥΛΟΣ"),  # final sigma
        ("Νίκος Παπαδόπουλος", "ο Νικος Παπαδοπουλος τηλεφώνησε", "Νικος Παπαδοπουλος"),  # accents dropped  # noqa: RUF001
    ],
)
def test_a_greek_or_cyrillic_name_in_capitals_or_without_accents_is_the_subject(
    name: str, text: str, written: str
) -> None:
    assert _spans(name, text) == [written]


@pytest.mark.parametrize(
    ("name", "text", "written"),
    [
        ("中川 零", "私は中川 零です", "中川 零"),  # "I am Nakagawa Rei"
        ("中川 零", "中川 零様の電話番号は存じません", "中川 零"),
        ("王 芳", "我是王 芳", "王 芳"),  # "I am Wang Fang"
        ("王 芳", "王 芳的电话", "王 芳"),
    ],
)
def test_a_chinese_or_japanese_name_glued_to_the_text_is_the_subject(name: str, text: str, written: str) -> None:
    assert _spans(name, text) == [written]


def test_a_latin_name_still_needs_its_word_boundaries() -> None:
    assert _spans("Jane Doe", "see xJane Doe and Jane Doex") == []


def test_a_one_character_name_is_not_matched_inside_other_words() -> None:
    assert _spans("芳", "芳香剤を買いました") == []


@pytest.mark.parametrize(
    ("name", "text", "written"),
    [
        # Spanish and Portuguese forms list family names first, then every given name.
        ("María José García López", "titular: García López, María José", "García López, María José"),
        ("Ana Maria Souza Lima", "Souza Lima, Ana Maria - conta 12", "Souza Lima, Ana Maria"),
        # Vietnamese names typed without their tone marks.
        ("Nguyễn Văn An", "khách hàng Nguyen Van An gọi lại", "Nguyen Van An"),
        ("Nguyễn Văn An", "NGUYỄN VĂN AN", "NGUYỄN VĂN AN"),
    ],
)
def test_family_first_forms_and_vietnamese_names_are_the_subject_whole(name: str, text: str, written: str) -> None:
    assert _spans(name, text) == [written]
