"""An accessibility check of the page a Playwright page shows: the vendored axe-core (``tests/support/axe``),
run in the page, offline. The page's context must bypass its CSP (the console allows only its own scripts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "axe" / "axe.min.js"
SERIOUS = ("serious", "critical")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations on the current page (WCAG 2 A/AA and best practice), each as id, impact and how many
    nodes."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const tags = ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"];
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                            targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")


def serious(page: Any) -> list[dict[str, Any]]:
    """Only the serious and critical ones: what the console must not have."""
    return [v for v in violations(page) if v["impact"] in SERIOUS]
