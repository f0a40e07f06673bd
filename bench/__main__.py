"""``python -m bench``: run every benchmark; ``python -m bench NAME [args]``: one, with its own options."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    if argv:
        name, options = argv[0], argv[1:]
        if name not in available():
            print(f"unknown benchmark {name!r}; available: {', '.join(available())}", file=sys.stderr)
            return 2
        return int(importlib.import_module(f"bench.{name}").main(options) or 0)
    status = 0
    for name in available():
        print(f"== bench {name}", flush=True)
        status |= int(importlib.import_module(f"bench.{name}").main([]) or 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
