"""``erasure redact``: text on stdin, redacted text on stdout.

Plain mode redacts line by line (each line's end kept as it was). With ``json_lines``, each input
line is a JSON object ``{"text": ...}`` and each output line is
``{"text": <redacted>, "entities": [{"type": T, "start": s, "end": e}, ...]}`` where ``start`` and
``end`` index the *input* text in Unicode code points (Python string offsets). Blank lines are
skipped. A line that is not such an object gets an error on stderr naming its line number (never
its content), the rest is still processed, and the exit status is 1.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from shared.pii.engine import PiiEngine, default_engine
from shared.pii.subject import KnownSubject


def redact_stream(
    stdin: TextIO,
    stdout: TextIO,
    *,
    json_lines: bool,
    stderr: TextIO | None = None,
    engine: PiiEngine | None = None,
    subject: KnownSubject | None = None,
) -> int:
    """Redact ``stdin`` to ``stdout``; returns the exit status (0, or 1 if any JSON line was bad)."""
    engine = engine or default_engine()
    errors = stderr if stderr is not None else sys.stderr
    status = 0
    for number, line in enumerate(stdin, start=1):
        if not json_lines:
            stdout.write(engine.redact(line, subject)[0])
            continue
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.write(f"erasure redact: line {number}: not valid JSON ({exc.msg} at column {exc.colno})\n")
            status = 1
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            errors.write(f'erasure redact: line {number}: expected a JSON object with a string "text"\n')
            status = 1
            continue
        text: str = item["text"]
        redacted, entities = engine.redact(text, subject)
        out = {"text": redacted, "entities": [entity.to_dict() for entity in entities]}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    stdout.flush()
    return status
