# SPDX-License-Identifier: GPL-2.0-only
"""A small SVG line plot (standard library only): y on a log scale, one polyline per series."""

import math
from xml.sax.saxutils import escape

COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
          '#bcbd22', '#17becf', '#393b79', '#637939']
DASHES = ['', '6,3', '2,3', '8,3,2,3']


def write_svg(path, series, title='', subtitle='', xlabel='frame size (bytes, with FCS)',
              ylabel='Gbit/s (log scale)'):
    """@series: {label: {x: y}} with y > 0. Writes an SVG of width 900; points with y <= 0 are
    left out (log scale). An empty @series gives a plot that says so."""
    W, H = 900, 560
    L, R, T, B = 80, 330, 60, 60  # margins; the legend sits in the right one
    pw, ph = W - L - R, H - T - B
    pts = [(x, y) for d in series.values() for x, y in d.items() if y and y > 0]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="24" font-size="16" font-weight="bold">{escape(title)}</text>',
           f'<text x="{L}" y="42" fill="#555">{escape(subtitle)}</text>']
    if not pts:
        out.append(f'<text x="{L + 20}" y="{T + ph / 2}">no throughput figures in this run</text></svg>')
        open(path, 'w').write('\n'.join(out) + '\n')
        return
    xs = sorted({x for x, _ in pts})
    x0, x1 = min(xs), max(xs)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    lo = math.floor(math.log10(min(y for _, y in pts)))
    hi = math.ceil(math.log10(max(y for _, y in pts)))
    if lo == hi:
        hi += 1

    def px(x):
        return L + (x - x0) / (x1 - x0) * pw

    def py(y):
        return T + ph - (math.log10(y) - lo) / (hi - lo) * ph

    out.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    for e in range(lo, hi + 1):
        y = T + ph - (e - lo) / (hi - lo) * ph
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        lab = f'{10.0 ** e:g}'
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{lab}</text>')
        if e < hi:
            for k in range(2, 10):
                yy = T + ph - (e + math.log10(k) - lo) / (hi - lo) * ph
                out.append(f'<line x1="{L}" y1="{yy:.1f}" x2="{L + 4}" y2="{yy:.1f}" stroke="#999"/>')
    for x in xs:
        out.append(f'<line x1="{px(x):.1f}" y1="{T}" x2="{px(x):.1f}" y2="{T + ph}" stroke="#eee"/>')
        out.append(f'<text x="{px(x):.1f}" y="{T + ph + 18}" text-anchor="middle">{x}</text>')
    out.append(f'<text x="{L + pw / 2}" y="{H - 14}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(22,{T + ph / 2}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel)}</text>')
    for i, (label, d) in enumerate(series.items()):
        c = COLORS[i % len(COLORS)]
        dash = DASHES[(i // len(COLORS)) % len(DASHES)]
        p = [(px(x), py(y)) for x, y in sorted(d.items()) if y and y > 0]
        if not p:
            continue
        da = f' stroke-dasharray="{dash}"' if dash else ''
        if len(p) > 1:
            out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2"{da} points="' +
                       ' '.join(f'{a:.1f},{b:.1f}' for a, b in p) + '"/>')
        for a, b in p:
            out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{c}"/>')
        ly = T + 10 + i * 20
        out.append(f'<line x1="{W - R + 16}" y1="{ly}" x2="{W - R + 46}" y2="{ly}" stroke="{c}" '
                   f'stroke-width="2"{da}/>')
        out.append(f'<text x="{W - R + 52}" y="{ly + 4}">{escape(label)}</text>')
    out.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')
