"""The overview's chart of open requests by days left: inline SVG drawn here, no script, no library."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, BAR, GAP, TOP, BOTTOM = 420, 180, 60, 20, 20, 30


def days_left_svg(buckets: list[tuple[str, int]]) -> str:
    """Bars per bucket (overdue first, in the alarm colour), each labelled with its count and range."""
    peak = max((count for _, count in buckets), default=0) or 1
    usable = HEIGHT - TOP - BOTTOM
    summary = ", ".join(f"{label} days: {count}" for label, count in buckets)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="chart-title" id="days-left-chart">',
             f'<title id="chart-title">Open requests by days left: {escape(summary)}</title>']
    for n, (label, count) in enumerate(buckets):
        x = GAP + n * (BAR + GAP)
        height = round(usable * count / peak)
        y = TOP + usable - height
        colour = "#a4161a" if label == "overdue" else ("#9a5b00" if label == "0-7" else "#1d4e89")
        parts.append(f'<rect x="{x}" y="{y}" width="{BAR}" height="{height}" fill="{colour}"/>')
        parts.append(f'<text x="{x + BAR / 2}" y="{y - 4}" text-anchor="middle" font-size="12" fill="#111">{count}</text>')
        parts.append(f'<text x="{x + BAR / 2}" y="{HEIGHT - 10}" text-anchor="middle" font-size="12" '
                     f'fill="#111">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
