"""A supply chain drawn as inline SVG for the report: a box per facility type, an arrow per link (no script).

Types stand in columns by their depth in the links (the longest chain of links leading to them), in
link order (a topological order of the links); every text goes through esc().
"""

from __future__ import annotations

from dataclasses import dataclass

from .safe import esc

NAME_PX, LINE_PX = 8.6, 7.0  # generous widths of a 14 px bold and a 12 px character: boxes and gaps grow with their text
BOX_H, ROW_GAP, PAD = 56, 26, 14


@dataclass
class TypeBox:
    """One facility type: its key, display name, colour and the counts written under the name."""

    key: str
    label: str
    colour: str
    counts: str


@dataclass
class LinkArrow:
    """One supply link: the types it joins and the lines written beside its arrow."""

    source: str
    to: str
    lines: list[str]


def link_order(types: list[str], links: list[tuple[str, str]]) -> list[str]:
    """The types in a topological order of the links (ties in the given order); types in no link keep their place."""
    indegree = {t: 0 for t in types}
    for a, b in links:
        if a in indegree and b in indegree:
            indegree[b] += 1
    order: list[str] = []
    ready = [t for t in types if indegree[t] == 0]
    while ready:
        t = ready.pop(0)
        order.append(t)
        for a, b in links:
            if a == t and b in indegree:
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
    return order + [t for t in types if t not in order]  # a cycle (refused by the config) would leave some out


def depths(order: list[str], links: list[tuple[str, str]]) -> dict[str, int]:
    """Each type's column: the longest chain of links that leads to it."""
    depth = {t: 0 for t in order}
    for t in order:
        for a, b in links:
            if a == t and b in depth:
                depth[b] = max(depth[b], depth[t] + 1)
    return depth


def chain_svg(boxes: list[TypeBox], arrows: list[LinkArrow]) -> str:
    """The chain as an SVG element: boxes (class co-type) in columns, arrows (class co-link) with their lines.

    Each arrow passes through a waypoint in the gap after its supplier's column, its lines just above it:
    waypoints in a gap are stacked so their lines never overlap; an arrow that skips a column runs at its
    own level above every box.
    """
    pairs = [(a.source, a.to) for a in arrows]
    order = link_order([b.key for b in boxes], pairs)
    depth = depths(order, pairs)
    by_key = {b.key: b for b in boxes}
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for t in order:
        columns[depth[t]].append(t)
    widths = [max((max(NAME_PX * len(by_key[t].label), LINE_PX * len(by_key[t].counts)) + 2 * PAD for t in col), default=0)
              for col in columns]
    gap = max([150.0] + [LINE_PX * max(map(len, a.lines), default=0) + 40 for a in arrows])
    col_x = [PAD + sum(widths[:c]) + c * gap for c in range(len(columns))]
    row = {t: r for col in columns for r, t in enumerate(col)}
    mid = {t: row[t] * (BOX_H + ROW_GAP) + BOX_H / 2 for t in order}  # y of a box's middle, the first row's top at 0
    heights = [15.0 * len(a.lines) + 10 for a in arrows]
    way = [0.0] * len(arrows)
    skips = [depth[a.to] - depth[a.source] > 1 for a in arrows]
    for g in range(len(columns)):  # a gap's waypoints, in the order of their ends, each below the one before
        here = sorted((k for k, a in enumerate(arrows) if depth[a.source] == g and not skips[k]),
                      key=lambda k: ((mid[arrows[k].source] + mid[arrows[k].to]) / 2, k))
        last = float("-inf")
        for k in here:
            way[k] = last = max((mid[arrows[k].source] + mid[arrows[k].to]) / 2, last + heights[k])
    level = min([0.0] + [way[k] - heights[k] + 8 for k in range(len(arrows)) if not skips[k]]) - 8
    for k in (k for k in range(len(arrows)) if skips[k]):  # one level each, above every box and every other line
        way[k], level = level, level - heights[k]
    shift = PAD + 4 - min([0.0] + [way[k] - heights[k] + 8 for k in range(len(arrows))])
    bottom = max([BOX_H + (len(c) - 1) * (BOX_H + ROW_GAP) for c in columns] + [w + 4 for w in way])
    width, height = col_x[-1] + widths[-1] + PAD, shift + bottom + PAD
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' class='co-chain' width='{width:.0f}' height='{height:.0f}' "
             f"viewBox='0 0 {width:.0f} {height:.0f}' role='img' "
             "aria-label='the supply chain: a box per facility type, an arrow per link'>",
             "<defs><marker id='co-arrowhead' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='9' markerHeight='9' orient='auto'>"
             "<path d='M0,0 L10,5 L0,10 z' fill='#444'/></marker></defs>"]
    for k, a in enumerate(arrows):
        s, t = depth[a.source], depth[a.to]
        start = (col_x[s] + widths[s], shift + mid[a.source])
        points = [(col_x[g + 1] - gap / 2, shift + way[k]) for g in (range(s, t) if skips[k] else [s])]
        parts.append(_arrow(a, start, points, (col_x[t] - 2, shift + mid[a.to])))
    parts += [_box(by_key[t], col_x[depth[t]], shift + mid[t] - BOX_H / 2, widths[depth[t]]) for t in order]
    parts.append("</svg>")
    return "".join(parts)


def _box(b: TypeBox, x: float, y: float, w: float) -> str:
    return (f"<g class='co-type'><title>{esc(b.label)}: {esc(b.counts)}</title>"
            f"<rect x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='{BOX_H}' rx='6' fill='#fff' stroke='{esc(b.colour)}' stroke-width='2.5'/>"
            f"<text x='{x + PAD:.1f}' y='{y + 23:.1f}' font-size='14' font-weight='600'>{esc(b.label)}</text>"
            f"<text x='{x + PAD:.1f}' y='{y + 43:.1f}' font-size='12' fill='#444'>{esc(b.counts)}</text></g>")


def _arrow(a: LinkArrow, start: tuple, points: list[tuple], end: tuple) -> str:
    """An arrow from ``start`` through the waypoints (level with each other) to ``end``, in curves that leave and
    arrive level; its lines stand above the first waypoint."""
    (ax, ay), (bx, by) = start, end
    (wx, wy), (vx, vy) = points[0], points[-1]
    d = f"M{ax:.1f},{ay:.1f} C{(ax + wx) / 2:.1f},{ay:.1f} {(ax + wx) / 2:.1f},{wy:.1f} {wx:.1f},{wy:.1f}"
    if vx > wx:
        d += f" L{vx:.1f},{vy:.1f}"
    d += f" C{(vx + bx) / 2:.1f},{vy:.1f} {(vx + bx) / 2:.1f},{by:.1f} {bx:.1f},{by:.1f}"
    n = len(a.lines)
    texts = "".join(f"<text x='{wx:.1f}' y='{wy - 6 - 15 * (n - 1 - i):.1f}' font-size='12' text-anchor='middle' fill='#222'>{esc(line)}</text>"
                    for i, line in enumerate(a.lines))
    return (f"<g class='co-link'><title>{esc(a.source)} → {esc(a.to)}</title>"
            f"<path d='{d}' fill='none' stroke='#444' stroke-width='2' marker-end='url(#co-arrowhead)'/>{texts}</g>")
