"""Small server-side SVG charts: they print, work offline and need no JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FONT = "'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
BLUE, TEAL, ORANGE = "#1f4e79", "#0f766e", "#c2410c"


def svg(w: int, h: int, body: list[str], label: str, natural: bool = False) -> str:
    # natural: drawn size, only scaled down (CSS max-width); no style attribute (strict CSP).
    width = f'{w}" height="{h}' if natural else "100%"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{width}" '
        f'role="img" aria-label="{escape(label)}" font-family="{FONT}" font-size="12">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def text(
    x: float,
    y: float,
    s: object,
    *,
    anchor: str = "start",
    size: int = 12,
    fill: str = INK,
    weight: str = "normal",
    extra: str = "",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}" font-weight="{weight}" {extra}>{escape(str(s))}</text>'
    )


def empty(title: str, note: str = "所选时间段内没有数据") -> str:
    return svg(
        480,
        80,
        [text(0, 18, title, size=15, weight="bold"), text(0, 54, note, fill=MUTED)],
        title,
    )


def bars_and_line(
    labels: Sequence[str],
    bars: Sequence[float],
    line: Sequence[float | None] | None = None,
    *,
    title: str,
    heading: bool = True,
    bar_name: str = "工单数",
    line_name: str = "关联率",
    links: Sequence[str] | None = None,
) -> str:
    """Monthly bars (counts, left axis) with an optional percentage line (right axis)."""
    if not labels:
        return empty(title)
    w, h, left, right, top, bottom = 560, 260, 42, 48, 40, 34
    pw, ph = w - left - right, h - top - bottom
    step = pw / len(labels)
    vmax = max(max(bars, default=0), 1)
    nice = _nice(vmax)
    body = [text(left, 18, title, size=15, weight="bold")] if heading else []
    for k in range(5):
        y = top + ph - ph * k / 4
        body.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(text(left - 6, y + 4, round(nice * k / 4), anchor="end", size=11, fill=MUTED))
        if line is not None:
            body.append(text(left + pw + 6, y + 4, f"{25 * k}%", size=11, fill=ORANGE))
    bw = min(36.0, step * 0.62)
    for i, (lab, v) in enumerate(zip(labels, bars, strict=True)):
        cx = left + step * i + step / 2
        bh = ph * v / nice
        bar = (
            f'<rect x="{cx - bw / 2:.1f}" y="{top + ph - bh:.1f}" width="{bw:.1f}" '
            f'height="{bh:.1f}" rx="2" fill="{BLUE}" opacity="0.85">'
            f"<title>{escape(lab)}: {v:g}</title></rect>"
        )
        body.append(_linked(bar, links[i] if links and v else None, lab))
        if len(labels) <= 24 or i % 2 == 0:
            body.append(
                text(
                    cx,
                    top + ph + 16,
                    lab[2:] if len(lab) == 7 else lab,
                    anchor="middle",
                    size=11,
                    fill=MUTED,
                )
            )
    if line is not None:
        pts = [
            (left + step * i + step / 2, top + ph - ph * v)
            for i, v in enumerate(line)
            if v is not None
        ]
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{ORANGE}" '
                'stroke-width="2.5" stroke-linejoin="round"/>'
            )
            for (x, y), v in zip(pts, [v for v in line if v is not None], strict=True):
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{ORANGE}"/>')
                body.append(
                    text(
                        x,
                        y - 8,
                        f"{v * 100:.0f}%",
                        anchor="middle",
                        size=11,
                        fill=ORANGE,
                        weight="bold",
                    )
                )
    lx = left + pw - 180
    body.append(f'<rect x="{lx}" y="8" width="12" height="12" fill="{BLUE}"/>')
    body.append(text(lx + 16, 18, bar_name, size=12))
    if line is not None:
        body.append(
            f'<line x1="{lx + 96}" x2="{lx + 114}" y1="14" y2="14" stroke="{ORANGE}" '
            'stroke-width="2.5"/>'
        )
        body.append(text(lx + 118, 18, line_name, size=12))
    return svg(w, h, body, title)


def hbars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    color: str = TEAL,
    limit: int = 12,
    heading: bool = True,
    links: Sequence[str] | None = None,
) -> str:
    """Horizontal bars, largest first (categories, effort, states)."""
    items = list(items)[:limit]
    if not items:
        return empty(title)
    w, row, left = 520, 24, 110
    top = 34 if heading else 4
    h = top + row * len(items) + 8
    vmax = max(v for _, v in items) or 1
    pw = w - left - 70
    body = [text(0, 18, title, size=15, weight="bold")] if heading else []
    for i, (lab, v) in enumerate(items):
        y = top + i * row
        bw = max(1.0, pw * v / vmax) if v else 0
        body.append(text(left - 8, y + 15, lab, anchor="end"))
        bar = (
            f'<rect x="{left}" y="{y + 3}" width="{bw:.1f}" height="{row - 8}" rx="2" '
            f'fill="{color}"><title>{escape(lab)}</title></rect>'
        )
        body.append(_linked(bar, links[i] if links and v else None, lab))
        shown = f"{v:,.0f}" if v >= 100 else f"{v:g}"
        body.append(text(left + bw + 6, y + 15, f"{shown}{unit}", size=11, fill=MUTED))
    return svg(w, h, body, title)


def _linked(shape: str, href: str | None, label: str) -> str:
    """`shape` wrapped in an SVG link to its drill-down (when there is one)."""
    if not href:
        return shape
    return f'<a href="{escape(href)}" class="drill" data-bar="{escape(label)}">{shape}</a>'


def _nice(v: float) -> float:
    """A round axis maximum ≥ v: four ticks of 1, 2 or 5 × 10^k."""
    exp = 0
    while True:
        for base in (1, 2, 5):
            step = base * 10**exp
            if 4 * step >= v:
                return float(4 * step)
        exp += 1
