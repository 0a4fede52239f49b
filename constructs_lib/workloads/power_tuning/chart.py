"""Chart power tunings: average duration and average cost against memory, as an SVG and an HTML page.

    python -m constructs_lib.workloads.power_tuning.chart tuning-output.json --out chart
    python -m constructs_lib.workloads.power_tuning.chart x86.json arm.json --label x86_64 --label arm64 --out chart

writes ``chart.svg`` and ``chart.html``. Each input is a tuning's output: a ``PowerTuning`` state machine's (one
series, or one per architecture when it compared several), or aws-lambda-power-tuning's (its ``stats`` with
``includeOutputResults``, else the numbers its ``visualization`` link carries), or what ``aws stepfunctions
describe-execution`` prints (its ``output`` is read). Several inputs (or architectures) share one chart.

Money is written out (``$0.00000375``, never ``3.75e-06``), the cost axis per million invocations; memory labels
are thinned to fit at any number of values. Standard library only: the SVG is written by hand, nothing is fetched.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import math
import struct
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

WIDTH = 820
HEIGHT = 460
MARGIN_LEFT = 80
MARGIN_RIGHT = 110
MARGIN_TOP = 70
MARGIN_BOTTOM = 60
LABEL_SPACING = 38
"""The least room, in pixels, between two memory labels (``3008`` is about 30 px wide at 12 px)."""
PER_MILLION = 1_000_000
COLOURS = ("#1f77b4", "#e6550d", "#2ca02c", "#9467bd", "#8c564b", "#d62728")
BEST_COLOUR = "#2ca02c"
SYMBOLS = {"USD": "$", "CNY": "¥"}


class ChartInputError(ValueError):
    """The file is not a power tuning output with per-value statistics."""


@dataclass(frozen=True)
class Point:
    memory: int
    duration_ms: float
    cost: float


@dataclass(frozen=True)
class Series:
    """One tuning (or one architecture of a tuning): its points by memory, its best value."""

    label: str
    points: tuple[Point, ...]
    best: int | None = None
    strategy: str | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class Tuning:
    """What one chart shows: one series or several."""

    series: tuple[Series, ...]
    notes: tuple[str, ...] = ()

    @property
    def points(self) -> tuple[Point, ...]:
        """The first series' points (a chart of one tuning)."""
        return self.series[0].points

    @property
    def best(self) -> int | None:
        return self.series[0].best

    @property
    def strategy(self) -> str | None:
        return self.series[0].strategy

    @property
    def currency(self) -> str:
        return self.series[0].currency

    @property
    def memories(self) -> list[int]:
        """Every memory value of every series, ascending (the x axis)."""
        return sorted({p.memory for s in self.series for p in s.points})


# -- reading ----------------------------------------------------------------------------------------------------
def read_tuning(data: Any, label: str | None = None) -> Tuning:
    """The series of a tuning output (this library's or the reference's, or a describe-execution answer)."""
    if isinstance(data, Mapping) and isinstance(data.get("output"), str):
        data = json.loads(data["output"])
    if isinstance(data, Mapping) and isinstance(data.get("results"), Mapping):
        data = data["results"]  # the reference's README shows its output under "results"
    if not isinstance(data, Mapping):
        raise ChartInputError('expected a power tuning output: a JSON object with a non-empty "stats" list')
    currency = str(data.get("currency") or _url_currency(data) or "USD")
    stats = data.get("stats")
    if isinstance(stats, list) and stats:
        groups: dict[str, list[Point]] = {}
        for entry in stats:
            groups.setdefault(str(entry.get("architecture", "")) if isinstance(entry, Mapping) else "", []).append(
                _point(entry)
            )
    else:
        points = _visualization_points(data)
        if points is None:
            raise ChartInputError(
                'expected a power tuning output: a JSON object with a non-empty "stats" list (or the reference\'s '
                '"stateMachine.visualization" link)'
            )
        groups = {"": points}
    found = data.get("byArchitecture")
    by_architecture: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    strategy = str(data["strategy"]) if data.get("strategy") else None
    series = []
    for architecture, points in sorted(groups.items()):
        summary = by_architecture.get(architecture)
        best = (
            (summary.get("power") if isinstance(summary, Mapping) else None) if len(groups) > 1 else data.get("power")
        )
        name = label or "tuning"
        if len(groups) > 1:
            name = f"{label} {architecture}" if label else architecture
        series.append(
            Series(
                label=name,
                points=tuple(sorted(points, key=lambda p: p.memory)),
                best=int(best) if isinstance(best, (int, float, str)) and str(best).isdigit() else None,
                strategy=strategy,
                currency=currency,
            )
        )
    return Tuning(series=tuple(series), notes=tuple(str(note) for note in data.get("notes", [])))


def _point(entry: Any) -> Point:
    try:
        cost = entry["averageCost"] if "averageCost" in entry else entry["averagePrice"]
        return Point(int(entry["value"]), float(entry["averageDuration"]), float(cost))
    except (KeyError, TypeError, ValueError) as error:
        raise ChartInputError(
            f'each stats entry needs "value", "averageDuration" and "averageCost" (or "averagePrice"): {entry!r}'
        ) from error


def _visualization(data: Mapping[str, Any]) -> str | None:
    machine = data.get("stateMachine")
    url = machine.get("visualization") if isinstance(machine, Mapping) else None
    return url if isinstance(url, str) else None


def _url_currency(data: Mapping[str, Any]) -> str | None:
    url = _visualization(data)
    found = parse_qs(urlsplit(url).query).get("currency") if url else None
    return found[0] if found else None


def _visualization_points(data: Mapping[str, Any]) -> list[Point] | None:
    """The points a visualization link carries in its fragment: memory sizes (16-bit integers), durations and
    costs (32-bit floats), little-endian, base64, joined by ``;``."""
    url = _visualization(data)
    parts = urlsplit(url).fragment.split(";") if url else []
    if len(parts) != 3:
        return None
    try:
        sizes, durations, costs = (base64.b64decode(part, validate=True) for part in parts)
        count = len(sizes) // 2
        if not count or len(durations) != 4 * count or len(costs) != 4 * count:
            return None
        return [
            Point(memory, duration, cost)
            for memory, duration, cost in zip(
                struct.unpack(f"<{count}h", sizes),
                struct.unpack(f"<{count}f", durations),
                struct.unpack(f"<{count}f", costs),
                strict=True,
            )
        ]
    except (ValueError, struct.error):
        return None


def combine(tunings: Sequence[Tuning]) -> Tuning:
    """Several tunings on one chart."""
    return Tuning(series=tuple(s for t in tunings for s in t.series), notes=tuple(n for t in tunings for n in t.notes))


# -- numbers ----------------------------------------------------------------------------------------------------
def nice_ceiling(value: float) -> float:
    """A round number at or above ``value`` (1, 2, 2.5 or 5 times a power of ten) for an axis' top."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0):
        if value <= step * power:
            return step * power
    return 10.0 * power


def format_money(value: float, currency: str = "USD", digits: int = 3) -> str:
    """``value`` written out with ``digits`` significant digits (2 decimals at least) and no exponent:
    ``$0.00000375``, ``$3.75``, ``¥1.25``."""
    symbol = SYMBOLS.get(currency, f"{currency} ")
    if value == 0 or not math.isfinite(value):
        return f"{symbol}0"
    decimals = max(2, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{symbol}{value:.{decimals}f}"


def format_cost(value: float, currency: str = "USD") -> str:
    """A cost per invocation, and per million invocations: ``$0.00000375 ($3.75 per 1M)``."""
    return f"{format_money(value, currency)} ({format_money(value * PER_MILLION, currency)} per 1M)"


def label_indices(count: int, width: float, spacing: float = LABEL_SPACING) -> list[int]:
    """Which of ``count`` evenly spaced memory labels to write so that two written ones are ``spacing`` apart at
    least: every ``step``-th, the last one too when it has room."""
    if count <= 0:
        return []
    slot = width / count
    step = max(1, math.ceil(spacing / slot))
    chosen = list(range(0, count, step))
    if chosen[-1] != count - 1 and (count - 1 - chosen[-1]) * slot >= spacing:
        chosen.append(count - 1)
    return chosen


# -- drawing ----------------------------------------------------------------------------------------------------
def render_svg(tuning: Tuning) -> str:
    """The chart: memory (categories) across, duration (left axis, solid lines) and cost per million invocations
    (right axis, dashed lines) up; one colour per series; each series' best value ringed."""
    memories = tuning.memories
    currency = tuning.currency
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    all_points = [p for s in tuning.series for p in s.points]
    top_duration = nice_ceiling(max(p.duration_ms for p in all_points))
    top_cost = nice_ceiling(max(p.cost for p in all_points) * PER_MILLION) / PER_MILLION
    slot = plot_width / len(memories)
    column = {memory: index for index, memory in enumerate(memories)}

    def x(memory: int) -> float:
        return MARGIN_LEFT + slot * (column[memory] + 0.5)

    def y(value: float, top: float) -> float:
        return MARGIN_TOP + plot_height * (1 - value / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">',
        "<title>Lambda power tuning: duration and cost by memory</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
    ]
    bottom = MARGIN_TOP + plot_height
    right = MARGIN_LEFT + plot_width
    for tick in range(5):
        fraction = tick / 4
        level = MARGIN_TOP + plot_height * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" y1="{level:.1f}" x2="{right}" y2="{level:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text class="duration-tick" x="{MARGIN_LEFT - 8}" y="{level + 4:.1f}" text-anchor="end">'
            f"{top_duration * fraction:g}</text>"
        )
        parts.append(
            f'<text class="cost-tick" x="{right + 8}" y="{level + 4:.1f}" text-anchor="start">'
            f"{html.escape(format_money(top_cost * fraction * PER_MILLION, currency))}</text>"
        )
    parts.append(f'<line x1="{MARGIN_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>')
    parts.append(f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{bottom}" stroke="#333"/>')
    parts.append(f'<line x1="{right}" y1="{MARGIN_TOP}" x2="{right}" y2="{bottom}" stroke="#333"/>')
    single = len(tuning.series) == 1
    if single and tuning.best in column:
        assert tuning.best is not None
        parts.append(
            f'<rect class="best" x="{x(tuning.best) - slot / 2 + 1:.1f}" y="{MARGIN_TOP}" '
            f'width="{max(slot - 2, 1):.1f}" height="{plot_height}" fill="{BEST_COLOUR}" fill-opacity="0.10"/>'
        )
    for index in label_indices(len(memories), plot_width):
        memory = memories[index]
        weight = ' font-weight="bold"' if single and memory == tuning.best else ""
        parts.append(
            f'<text class="memory" x="{x(memory):.1f}" y="{bottom + 18}" text-anchor="middle"{weight}>{memory}</text>'
        )
    for number, series in enumerate(tuning.series):
        colour = COLOURS[number % len(COLOURS)]
        for kind, top, dash in (("duration", top_duration, ""), ("cost", top_cost, ' stroke-dasharray="6 4"')):
            values = [(p, p.duration_ms if kind == "duration" else p.cost) for p in series.points]
            coordinates = " ".join(f"{x(p.memory):.1f},{y(v, top):.1f}" for p, v in values)
            parts.append(
                f'<polyline class="{kind}" data-series="{html.escape(series.label)}" points="{coordinates}" '
                f'fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
            )
            for point, value in values:
                text = f"{point.duration_ms:.1f} ms" if kind == "duration" else format_cost(point.cost, series.currency)
                shape = (
                    f'<circle class="{kind}" cx="{x(point.memory):.1f}" cy="{y(value, top):.1f}" r="3.5" '
                    if kind == "duration"
                    else f'<rect class="{kind}" x="{x(point.memory) - 3:.1f}" y="{y(value, top) - 3:.1f}" '
                    'width="6" height="6" '
                )
                parts.append(
                    f'{shape}fill="{colour}"><title>{html.escape(series.label)}, {point.memory} MB: '
                    f"{html.escape(text)}</title></{'circle' if kind == 'duration' else 'rect'}>"
                )
            if series.best is not None and any(p.memory == series.best for p in series.points):
                best_point = next(p for p in series.points if p.memory == series.best)
                value = best_point.duration_ms if kind == "duration" else best_point.cost
                parts.append(
                    f'<circle class="best-{kind}" cx="{x(best_point.memory):.1f}" cy="{y(value, top):.1f}" r="7" '
                    f'fill="none" stroke="{colour}" stroke-width="1.5"/>'
                )
    parts.extend(_legend(tuning))
    parts.append(f'<text x="{MARGIN_LEFT + plot_width / 2}" y="{HEIGHT - 15}" text-anchor="middle">Memory (MB)</text>')
    middle = MARGIN_TOP + plot_height / 2
    parts.append(
        f'<text x="20" y="{middle}" text-anchor="middle" transform="rotate(-90 20 {middle})">'
        "Average duration (ms), solid</text>"
    )
    parts.append(
        f'<text x="{WIDTH - 15}" y="{middle}" text-anchor="middle" transform="rotate(90 {WIDTH - 15} {middle})">'
        f"Average cost per 1M invocations ({html.escape(currency)}), dashed</text>"
    )
    parts.append(
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15">{html.escape(heading(tuning))}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def heading(tuning: Tuning) -> str:
    if len(tuning.series) == 1:
        text = "Duration and cost by memory"
        if tuning.best is not None:
            text += f": best {tuning.best} MB" + (f" ({tuning.strategy})" if tuning.strategy else "")
        return text
    bests = [f"{s.label} {s.best} MB" for s in tuning.series if s.best is not None]
    return "Duration and cost by memory" + (": best " + ", ".join(bests) if bests else "")


def _legend(tuning: Tuning) -> list[str]:
    parts = []
    x = MARGIN_LEFT
    for number, series in enumerate(tuning.series):
        colour = COLOURS[number % len(COLOURS)]
        parts.append(
            f'<g class="legend"><line x1="{x}" y1="45" x2="{x + 22}" y2="45" stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{x}" y1="55" x2="{x + 22}" y2="55" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="6 4"/><text x="{x + 28}" y="54">{html.escape(series.label)}</text></g>'
        )
        x += 40 + 8 * len(series.label)
    return parts


def render_html(tuning: Tuning, svg: str) -> str:
    """A page with the chart inline and the numbers in a table: a row per memory value, columns per series."""
    head = "".join(
        f"<th>{html.escape(s.label)}: duration (ms)</th><th>{html.escape(s.label)}: cost per invocation</th>"
        f"<th>{html.escape(s.label)}: cost per 1M</th>"
        for s in tuning.series
    )
    rows = []
    for memory in tuning.memories:
        cells = []
        best = False
        for series in tuning.series:
            point = next((p for p in series.points if p.memory == memory), None)
            best = best or memory == series.best
            if point is None:
                cells.append("<td></td><td></td><td></td>")
                continue
            marked = ' class="best"' if memory == series.best else ""
            cells.append(
                f"<td{marked}>{point.duration_ms:.2f}</td>"
                f"<td{marked}>{html.escape(format_money(point.cost, series.currency))}</td>"
                f"<td{marked}>{html.escape(format_money(point.cost * PER_MILLION, series.currency))}</td>"
            )
        marked_row = ' class="best"' if best and len(tuning.series) == 1 else ""
        rows.append(f"<tr{marked_row}><td>{memory}</td>{''.join(cells)}</tr>")
    notes = "".join(f'<p class="note">{html.escape(note)}</p>' for note in dict.fromkeys(tuning.notes))
    bests = [
        f"<strong>{s.best} MB</strong>"
        + (f" by {html.escape(s.strategy)}" if s.strategy else "")
        + (f" ({html.escape(s.label)})" if len(tuning.series) > 1 else "")
        for s in tuning.series
        if s.best is not None
    ]
    summary = f"<p>Best: {', '.join(bests)}</p>" if bests else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Lambda power tuning</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-top: 1em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
tr.best, td.best {{ background: #e6f4e6; font-weight: bold; }}
.note {{ color: #555; font-size: 90%; }}
</style>
</head>
<body>
<h1>Lambda power tuning</h1>
{summary}
{svg}
<table>
<thead><tr><th>Memory (MB)</th>{head}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{notes}
</body>
</html>
"""


def write_chart(data: Any, out: Path, labels: Sequence[str] = ()) -> tuple[Path, Path]:
    """Write ``<out>.svg`` and ``<out>.html`` for one output, or a list of them (one series each, or per
    architecture), labelled by ``labels``; returns their paths."""
    outputs = data if isinstance(data, list) else [data]
    tuning = combine(
        [read_tuning(output, labels[index] if index < len(labels) else None) for index, output in enumerate(outputs)]
    )
    svg = render_svg(tuning)
    svg_path, html_path = out.with_suffix(".svg"), out.with_suffix(".html")
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    svg_path.write_text(svg, encoding="utf-8")
    html_path.write_text(render_html(tuning, svg), encoding="utf-8")
    return svg_path, html_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m constructs_lib.workloads.power_tuning.chart",
        description="Chart power tunings' outputs: duration and cost against memory (SVG and HTML).",
    )
    parser.add_argument(
        "outputs",
        type=Path,
        nargs="+",
        help="tuning outputs (JSON; this library's, the reference's, or "
        "describe-execution's answer): several share one chart",
    )
    parser.add_argument("--label", action="append", default=[], help="a name per output, in order (repeat it)")
    parser.add_argument(
        "--out", type=Path, default=Path("power-tuning"), help="path without suffix (default: %(default)s)"
    )
    arguments = parser.parse_args(argv)
    try:
        data = [json.loads(path.read_text(encoding="utf-8")) for path in arguments.outputs]
        labels = arguments.label or ([path.stem for path in arguments.outputs] if len(data) > 1 else [])
        svg_path, html_path = write_chart(data, arguments.out, labels)
    except (OSError, ValueError) as error:
        print(f"power_tuning_chart: {error}", file=sys.stderr)
        return 2
    print(f"wrote {svg_path} and {html_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
