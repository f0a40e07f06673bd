"""Every setting is documented (issue 19, must-show 4): the README's settings table has one row per
field of ``Settings``, with its default, and no row that is not a setting; the table of other
``ERASURE_*`` names is ``OTHER_VARIABLES`` exactly."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr

from shared.config import OTHER_VARIABLES, Settings

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(ERASURE_[A-Z0-9_]+)` \|(.*)\|\s*$")


def table_after(header: str) -> dict[str, list[str]]:
    """The rows of the README table starting at ``header``: variable -> its other cells."""
    lines = README.read_text().splitlines()
    start = lines.index(header)
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        match = ROW.match(line)
        assert match, f"a row of {header!r} must name exactly one `ERASURE_*` variable: {line[:80]}"
        assert match.group(1) not in rows, f"{match.group(1)} has two rows"
        rows[match.group(1)] = [cell.strip() for cell in match.group(2).split(" | ")]
    return rows


def documented_default(name: str) -> str:
    """How the table shows a field's default: its environment spelling in backticks, or ``unset``."""
    field = Settings.model_fields[name]
    value = field.default if field.default_factory is None else field.default_factory()  # type: ignore[call-arg]
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or value == "":
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


SETTINGS = table_after("| variable | default | meaning |")


def test_every_setting_has_a_row_and_every_row_is_a_setting():
    fields = {f"ERASURE_{name.upper()}" for name in Settings.model_fields}
    assert sorted(fields - set(SETTINGS)) == [], "settings missing from the README table"
    assert sorted(set(SETTINGS) - fields) == [], "README rows that are not settings"


def test_every_row_shows_the_default_and_a_meaning():
    for name in Settings.model_fields:
        default, meaning = SETTINGS[f"ERASURE_{name.upper()}"][:2]
        assert default == documented_default(name), f"ERASURE_{name.upper()}: README says {default}"
        assert len(meaning) > 10, f"ERASURE_{name.upper()} has no meaning in the README"


def test_names_read_outside_settings_are_listed_apart_and_are_not_settings():
    others = table_after("| variable (not a setting) | read by |")
    assert set(others) == set(OTHER_VARIABLES)
    assert not set(others) & {f"ERASURE_{name.upper()}" for name in Settings.model_fields}


def test_the_test_hook_that_kills_a_worker_is_not_a_setting():
    """ERASURE_TEST_CRASH_AFTER was read by the product; the crash tests' wrapper now takes --crash-after
    (tests/support/crashing_worker.py), and no setting or documented name is a test hook."""
    names = set(SETTINGS) | set(OTHER_VARIABLES)
    assert "ERASURE_TEST_CRASH_AFTER" not in names
    assert not [n for n in Settings.model_fields if n.startswith("test_") or "crash" in n]
