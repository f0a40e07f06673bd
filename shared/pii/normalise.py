"""The copy of a text the detectors read: same length, plainer characters.

Transcripts carry full-width digits (U+FF10 to U+FF19, as Japanese input methods type them), non-breaking and ideographic
spaces, and values glued to Japanese or Chinese text with no space around them
("電話番号は090-1234-5678です"). The detectors' patterns are written for ASCII digits and word
boundaries, so they read a copy in which

* each character is replaced by its NFKC form when that form is one character (full-width
  digits, letters, the full-width at sign and hyphen become ASCII; the many Unicode spaces become " "), and the digits of
  Arabic, Persian, Devanagari, Bengali and Thai script by their ASCII digit;
* letters of scripts written without spaces (kana, CJK ideographs, Hangul) become spaces, so a
  number or an address glued to them stands alone; their words for "telephone" become ``φ`` (a phone cue)
  and those for "order/tracking/invoice number" ``#`` (which introduces a reference), those for
  "e-mail" ``✉`` (an address cue).

One character for one character, so every offset found in the copy is an offset into the
original, which is what gets masked. ASCII text is returned as it is, at no cost.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

# Kana, CJK ideographs (with extension A and compatibility forms), Hangul syllables, half-width kana.
_SPACELESS: Final = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
_SPACELESS_RUN: Final = re.compile(f"[{_SPACELESS}]+")
# What a word for "telephone" becomes in the copy: one letter, the phone context's cue ("φ" for phone).
PHONE_MARK: Final = "φ"
# "telephone", "mobile", "contact" in Japanese, Chinese (both scripts) and Korean.
_SPACELESS_PHONE_WORDS: Final = re.compile("電話|携帯|ケータイ|連絡先|电话|手机|手機|联系|聯絡|전화|휴대폰|연락처")
# What a word for "e-mail/mailbox" becomes: a mark the address detectors read as an e-mail cue
# ("邮箱: jane at example dot com").
EMAIL_MARK: Final = "\u2709"
_SPACELESS_EMAIL_WORDS: Final = re.compile("电子邮件|電子郵件|电子邮箱|邮箱|郵箱|邮件|郵件|メールアドレス|メール|이메일|메일")
# What a word for "order/tracking/invoice/booking number" becomes: "#", which introduces a reference
# ("注文番号765-3386774-5606" is an order number, not a phone number).
REFERENCE_MARK: Final = "#"
_SPACELESS_REFERENCE_WORDS: Final = re.compile(
    "注文番号|追跡番号|伝票番号|予約番号|受付番号|会員番号|請求書番号|注文|订单编号|订单号|訂單編號|訂單號碼|订单|訂單"
    "|运单号|快递单号|发票号|发票|預約編號|预约号|会员号|주문번호|송장번호|예약번호"
)
# What a word for "card" becomes: a mark the card detectors read as a card word ("カード番号3501-2310-...":
# a Luhn-valid number said to be a card's, whatever its issuer prefix).
CARD_MARK: Final = "ψ"
_SPACELESS_CARD_WORDS: Final = re.compile("クレジットカード|カード番号|カード|信用卡号|信用卡|银行卡号|银行卡|卡号|카드번호|카드")
# Blocks holding the compatibility characters people type by accident (full-width forms, odd spaces).
_RANGES: Final = ((0x00A0, 0x00A0), (0x2000, 0x206F), (0x3000, 0x3000), (0xFF01, 0xFF5E), (0xFE50, 0xFE6B))


# Anything the copy changes. One character class (a class is a single test per character; an
# alternation with "a digit that is not ASCII" would cost five times as much on every message).
_OTHER_SCRIPT_DIGITS: Final = "\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\u09e6-\u09ef\u0e50-\u0e59"
_NEEDS_WORK: Final = re.compile(
    f"[{_SPACELESS}{_OTHER_SCRIPT_DIGITS}\u00a0\u2000-\u206f\u3000\ufe50-\ufe6b\uff01-\uff5e]"
)


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for first, last in _RANGES:
        for code in range(first, last + 1):
            char = chr(code)
            plain = unicodedata.normalize("NFKC", char)
            category = unicodedata.category(char)
            if category in ("Zs", "Cf"):
                table[code] = " "  # every kind of space, and zero-width ones, separate like a space
            elif category == "Pd":
                table[code] = "-"  # hyphens and dashes group digits like "-"
            elif len(plain) == 1 and plain != char:
                table[code] = plain
    return table


_OTHER_DIGIT: Final = re.compile(r"(?![0-9])\d")


def _plain_digit(match: re.Match[str]) -> str:
    return str(unicodedata.decimal(match.group()))


def _blank(match: re.Match[str]) -> str:
    return " " * (match.end() - match.start())


def _phone_word(match: re.Match[str]) -> str:
    return PHONE_MARK + " " * (match.end() - match.start() - 1)


def _reference_word(match: re.Match[str]) -> str:
    return REFERENCE_MARK + " " * (match.end() - match.start() - 1)


def _card_word(match: re.Match[str]) -> str:
    return CARD_MARK + " " * (match.end() - match.start() - 1)


def _email_word(match: re.Match[str]) -> str:
    return EMAIL_MARK + " " * (match.end() - match.start() - 1)


def matching_copy(text: str) -> str:
    """``text`` as the detectors read it (see the module docstring); ``len`` is unchanged."""
    if text.isascii() or _NEEDS_WORK.search(text) is None:
        return text  # "Zoë écrit à..." has nothing for the copy to change
    copy = text.translate(_table())
    if not copy.isascii():
        copy = _OTHER_DIGIT.sub(_plain_digit, copy)
        if _SPACELESS_RUN.search(copy) is not None:
            copy = _SPACELESS_PHONE_WORDS.sub(_phone_word, copy)
            copy = _SPACELESS_CARD_WORDS.sub(_card_word, copy)
            copy = _SPACELESS_REFERENCE_WORDS.sub(_reference_word, copy)
            copy = _SPACELESS_EMAIL_WORDS.sub(_email_word, copy)
            copy = _SPACELESS_RUN.sub(_blank, copy)
    return copy
