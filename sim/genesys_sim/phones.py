"""Exactly `phonenumbers.is_valid_number`, for numbers the seed draws, at a fraction of the cost.

The seed draws tens of thousands of numbers for a large organisation and keeps only valid ones. The
library's own check recompiles (through `re`'s cache) every pattern it tries, which dominated seeding;
this module walks the same metadata in the same order with the patterns compiled once. A test compares it
with the library on thousands of numbers.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, country_code_for_valid_region

# The order of `phonenumberutil._number_type_helper` (fixed line and mobile come last).
_SPECIAL_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail")
_NON_GEO = "001"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(nsn: str, desc: Any) -> bool:
    """`phonenumberutil._is_number_matching_desc`."""
    if desc is None:
        return False
    lengths = desc.possible_length
    if lengths and len(nsn) not in lengths:
        return False
    pattern = desc.national_number_pattern
    if not pattern:
        return False
    return _compiled(pattern).fullmatch(nsn) is not None


def _type_known(nsn: str, md: Any) -> bool:
    """`_number_type_helper(nsn, md) != PhoneNumberType.UNKNOWN`: the general pattern and any type's pattern
    match (which type does not matter here, so the likely ones are tried first)."""
    if not _matches(nsn, md.general_desc):
        return False
    if not md.same_mobile_and_fixed_line_pattern and _matches(nsn, md.mobile):
        return True
    if _matches(nsn, md.fixed_line):
        return True
    return any(_matches(nsn, getattr(md, name)) for name in _SPECIAL_TYPES)


def valid_region(country_code: int, national: str) -> str | None:
    """The region of a valid number (`is_valid_number` true), None when it is not valid.

    `national` is the national significant number as digits (no leading-zero numbers are drawn). Walks the
    regions of the calling code like `region_code_for_number`, then validates for the region found like
    `is_valid_number_for_region` (not twice when finding the region already validated it).
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None
    if len(regions) == 1:
        return _valid_for(country_code, national, str(regions[0]))
    for region in regions:
        md = PhoneMetadata.metadata_for_region(region.upper(), None)
        if md is None:
            continue
        if md.leading_digits is not None:
            if _compiled(md.leading_digits).match(national):
                return _valid_for(country_code, national, str(region))
        elif _type_known(national, md):
            return str(region) if _region_fits(country_code, str(region)) else None
    return None


def _region_fits(country_code: int, region: str) -> bool:
    return region == _NON_GEO or country_code == country_code_for_valid_region(region)


def _valid_for(country_code: int, national: str, region: str) -> str | None:
    md = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if md is None or not _region_fits(country_code, region):
        return None
    return region if _type_known(national, md) else None
