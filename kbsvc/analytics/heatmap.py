"""Department × system heatmap as server-side SVG, its long tails folded, in whole-number bins."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from kbsvc.analytics.charts import GRID, INK, MUTED, empty, svg, text


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
    body = [text(left, 18, title, size=15, weight="bold")] if heading else []
    for j, c in enumerate(clabels):
        x = left + j * cw + cw / 2
        body.append(
            text(
                x - 6,
                head - 10,
                c,
                size=13,
                extra=f'transform="rotate(-35 {x - 6:.1f} {head - 10})"',
            )
        )
    for i, r in enumerate(rlabels):
        y = head + i * ch
        body.append(text(left - 8, y + ch / 2 + 5, r, anchor="end", size=13))
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
                    text(
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
    body.append(text(lx, head - 10, "工单数", size=11, fill=MUTED))
    legend = [("0", "#f9fafb")] + [(bin_label(lo, hi), _bin_color(scale, lo)) for lo, hi in scale]
    for k, (label, fill) in enumerate(legend):
        body.append(
            f'<rect x="{lx}" y="{head + k * 20}" width="16" height="16" rx="2" '
            f'fill="{fill}" stroke="{GRID}"/>'
        )
        body.append(text(lx + 21, head + k * 20 + 12, label, size=11, fill=MUTED))
    return svg(w, h, body, title, natural=True)


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
