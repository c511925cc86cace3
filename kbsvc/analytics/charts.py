"""Small server-side SVG charts: they print, work offline and need no JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

FONT = "'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
BLUE, TEAL, ORANGE = "#1f4e79", "#0f766e", "#c2410c"


def _svg(w: int, h: int, body: list[str], label: str, natural: bool = False) -> str:
    # natural: drawn size, only scaled down (CSS max-width); no style attribute (strict CSP).
    width = f'{w}" height="{h}' if natural else "100%"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{width}" '
        f'role="img" aria-label="{escape(label)}" font-family="{FONT}" font-size="12">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(
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


def _blend(t: float) -> str:
    """White → deep blue; a gentle gamma keeps small counts visible."""
    t = max(0.0, min(1.0, t)) ** 0.6
    lo, hi = (247, 251, 255), (8, 48, 107)
    r, g, b = (round(a + (z - a) * t) for a, z in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _fold(labels: Sequence[str], keep: int, other: str) -> tuple[list[str], list[list[int]]]:
    """Index groups keeping the first `keep` labels and folding the rest into `other`."""
    if len(labels) <= keep:
        return list(labels), [[i] for i in range(len(labels))]
    return [*labels[: keep - 1], other], [[i] for i in range(keep - 1)] + [
        list(range(keep - 1, len(labels)))
    ]


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    counts: Sequence[Sequence[int]],
    *,
    title: str = "科室 × 系统 工单热力图",
    heading: bool = True,
    max_rows: int = 18,
    max_cols: int = 16,
    link: Callable[[list[str], list[str]], str] | None = None,
) -> str:
    """Department × system counts; the long tails fold into 其他科室 / 其他系统 (grey scale).

    `link(departments, systems)` gives each non-empty cell's drill-down address."""
    if not rows or not cols:
        return empty(title)
    rlabels, rgroups = _fold(rows, max_rows, "其他科室")
    clabels, cgroups = _fold(cols, max_cols, "其他系统")
    grid = [[sum(counts[r][c] for r in rg for c in cg) for cg in cgroups] for rg in rgroups]
    folded_r = len(rgroups[-1]) > 1
    folded_c = len(cgroups[-1]) > 1

    def is_other(i: int, j: int) -> bool:
        return (folded_r and i == len(rlabels) - 1) or (folded_c and j == len(clabels) - 1)

    # The folded tail row/column would dwarf every real cell, so the scale ignores it.
    top = max(
        (v for i, line in enumerate(grid) for j, v in enumerate(line) if not is_other(i, j)),
        default=0,
    )
    scale = bins(top)
    cw, ch, left, head = 62, 28, 118, 92 if heading else 70
    w, h = left + cw * len(clabels) + 76, head + ch * len(rlabels) + 12
    body = [_text(left, 18, title, size=15, weight="bold")] if heading else []
    for j, c in enumerate(clabels):
        x = left + j * cw + cw / 2
        body.append(
            _text(
                x - 6,
                head - 10,
                c,
                size=13,
                extra=f'transform="rotate(-35 {x - 6:.1f} {head - 10})"',
            )
        )
    for i, r in enumerate(rlabels):
        y = head + i * ch
        body.append(_text(left - 8, y + ch / 2 + 5, r, anchor="end", size=13))
        for j, v in enumerate(grid[i]):
            x = left + j * cw
            t = min(1.0, v / top) if top else 1.0
            fill = "#f9fafb" if not v else _grey(t) if is_other(i, j) else _bin_color(scale, v)
            cell = [
                f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" rx="3" '
                f'fill="{fill}"><title>{escape(r)} · {escape(clabels[j])}: {v}'
                f"</title></rect>"
            ]
            if v:
                dark = fill != "#f9fafb" and _is_dark(fill)
                cell.append(
                    _text(
                        x + cw / 2 - 1,
                        y + ch / 2 + 4,
                        v,
                        anchor="middle",
                        fill="#ffffff" if dark else INK,
                        size=12,
                    )
                )
            if v and link is not None:
                href = link([rows[k] for k in rgroups[i]], [cols[k] for k in cgroups[j]])
                cell = [
                    f'<a href="{escape(href)}" class="drill" data-cell="'
                    f'{escape(r)}|{escape(clabels[j])}">',
                    *cell,
                    "</a>",
                ]
            body += cell
    lx = left + cw * len(clabels) + 14
    body.append(_text(lx, head - 10, "工单数", size=11, fill=MUTED))
    legend = [("0", "#f9fafb")] + [(bin_label(lo, hi), _bin_color(scale, lo)) for lo, hi in scale]
    for k, (label, fill) in enumerate(legend):
        body.append(
            f'<rect x="{lx}" y="{head + k * 20}" width="16" height="16" rx="2" '
            f'fill="{fill}" stroke="{GRID}"/>'
        )
        body.append(_text(lx + 21, head + k * 20 + 12, label, size=11, fill=MUTED))
    return _svg(w, h, body, title, natural=True)


def bins(top: int, most: int = 5) -> list[tuple[int, int]]:
    """Whole-number colour bins 1..top, at most `most`, each a round width (1, 2, 5 × 10^k).

    The legend reads 1, 2 for a top of 2 (never "0, 0, 1, 2, ≥2"), 1–10 … 31–37 for 37."""
    if top <= 0:
        return []
    step = 1
    for width in (base * 10**exp for exp in range(10) for base in (1, 2, 5)):
        if -(-top // width) <= most:
            step = width
            break
    return [(lo, min(lo + step - 1, top)) for lo in range(1, top + 1, step)]


def bin_label(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _bin_color(scale: list[tuple[int, int]], v: int) -> str:
    """The colour of the bin holding `v` (the top bin for anything above it)."""
    if not scale:
        return "#f9fafb"
    k = next((i for i, (_lo, hi) in enumerate(scale) if v <= hi), len(scale) - 1)
    return _blend((k + 1) / len(scale))


def _is_dark(color: str) -> bool:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def _grey(t: float) -> str:
    v = round(243 - 120 * max(0.0, min(1.0, t)) ** 0.6)
    return f"#{v:02x}{v:02x}{v + 4:02x}"


def empty(title: str, note: str = "所选时间段内没有数据") -> str:
    return _svg(
        480,
        80,
        [_text(0, 18, title, size=15, weight="bold"), _text(0, 54, note, fill=MUTED)],
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
    body = [_text(left, 18, title, size=15, weight="bold")] if heading else []
    for k in range(5):
        y = top + ph - ph * k / 4
        body.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, y + 4, round(nice * k / 4), anchor="end", size=11, fill=MUTED))
        if line is not None:
            body.append(_text(left + pw + 6, y + 4, f"{25 * k}%", size=11, fill=ORANGE))
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
                _text(
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
                    _text(
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
    body.append(_text(lx + 16, 18, bar_name, size=12))
    if line is not None:
        body.append(
            f'<line x1="{lx + 96}" x2="{lx + 114}" y1="14" y2="14" stroke="{ORANGE}" '
            'stroke-width="2.5"/>'
        )
        body.append(_text(lx + 118, 18, line_name, size=12))
    return _svg(w, h, body, title)


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
    body = [_text(0, 18, title, size=15, weight="bold")] if heading else []
    for i, (lab, v) in enumerate(items):
        y = top + i * row
        bw = max(1.0, pw * v / vmax) if v else 0
        body.append(_text(left - 8, y + 15, lab, anchor="end"))
        bar = (
            f'<rect x="{left}" y="{y + 3}" width="{bw:.1f}" height="{row - 8}" rx="2" '
            f'fill="{color}"><title>{escape(lab)}</title></rect>'
        )
        body.append(_linked(bar, links[i] if links and v else None, lab))
        shown = f"{v:,.0f}" if v >= 100 else f"{v:g}"
        body.append(_text(left + bw + 6, y + 15, f"{shown}{unit}", size=11, fill=MUTED))
    return _svg(w, h, body, title)


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
