"""Chart a power tuning: average duration and average cost against memory, as an SVG and an HTML page.

    python -m constructs_lib.workloads.power_tuning.chart tuning-output.json --out chart

writes ``chart.svg`` and ``chart.html``. The input is the tuning's output (the execution output of a
``PowerTuning`` state machine), or what ``aws stepfunctions describe-execution`` prints (its ``output`` is read).
Standard library only: the SVG is written by hand, nothing is fetched (the reference links to a website instead).
"""

from __future__ import annotations

import argparse
import html
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WIDTH = 760
HEIGHT = 420
MARGIN_LEFT = 80
MARGIN_RIGHT = 100
MARGIN_TOP = 50
MARGIN_BOTTOM = 60
DURATION_COLOUR = "#1f77b4"
COST_COLOUR = "#d62728"
BEST_COLOUR = "#2ca02c"


class ChartInputError(ValueError):
    """The file is not a power tuning output with per-value statistics."""


@dataclass(frozen=True)
class Point:
    memory: int
    duration_ms: float
    cost: float


@dataclass(frozen=True)
class Tuning:
    points: tuple[Point, ...]
    best: int | None
    strategy: str | None
    notes: tuple[str, ...] = ()


def read_tuning(data: Any) -> Tuning:
    """The points of a tuning output (or of a describe-execution answer that holds one)."""
    if isinstance(data, Mapping) and isinstance(data.get("output"), str):
        data = json.loads(data["output"])
    if not isinstance(data, Mapping) or not isinstance(data.get("stats"), list) or not data["stats"]:
        raise ChartInputError('expected a power tuning output: a JSON object with a non-empty "stats" list')
    points = []
    for entry in data["stats"]:
        try:
            points.append(Point(int(entry["value"]), float(entry["averageDuration"]), float(entry["averageCost"])))
        except (KeyError, TypeError, ValueError) as error:
            raise ChartInputError(
                f'each stats entry needs "value", "averageDuration" and "averageCost": {entry!r}'
            ) from error
    best = data.get("power")
    return Tuning(
        points=tuple(sorted(points, key=lambda p: p.memory)),
        best=int(best) if isinstance(best, (int, float)) else None,
        strategy=str(data["strategy"]) if data.get("strategy") else None,
        notes=tuple(str(note) for note in data.get("notes", [])),
    )


def nice_ceiling(value: float) -> float:
    """A round number at or above ``value`` (1, 2, 2.5 or 5 times a power of ten) for an axis' top."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0):
        if value <= step * power:
            return step * power
    return 10.0 * power


def format_cost(value: float) -> str:
    return f"${value:.3g}" if value else "$0"


def render_svg(tuning: Tuning) -> str:
    """The chart: memory (categories) across, duration (left axis) and cost (right axis) up."""
    points = tuning.points
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top_duration = nice_ceiling(max(p.duration_ms for p in points))
    top_cost = nice_ceiling(max(p.cost for p in points))
    slot = plot_width / len(points)

    def x(index: int) -> float:
        return MARGIN_LEFT + slot * (index + 0.5)

    def y(value: float, top: float) -> float:
        return MARGIN_TOP + plot_height * (1 - value / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
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
            f'<text x="{MARGIN_LEFT - 8}" y="{level + 4:.1f}" text-anchor="end" fill="{DURATION_COLOUR}">'
            f"{top_duration * fraction:g}</text>"
        )
        parts.append(
            f'<text x="{right + 8}" y="{level + 4:.1f}" text-anchor="start" fill="{COST_COLOUR}">'
            f"{html.escape(format_cost(top_cost * fraction))}</text>"
        )
    parts.append(f'<line x1="{MARGIN_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>')
    parts.append(f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{bottom}" stroke="#333"/>')
    parts.append(f'<line x1="{right}" y1="{MARGIN_TOP}" x2="{right}" y2="{bottom}" stroke="#333"/>')
    for index, point in enumerate(points):
        is_best = point.memory == tuning.best
        weight = ' font-weight="bold"' if is_best else ""
        parts.append(
            f'<text class="memory" x="{x(index):.1f}" y="{bottom + 18}" text-anchor="middle"{weight}>'
            f"{point.memory}</text>"
        )
        if is_best:
            parts.append(
                f'<rect class="best" x="{x(index) - slot / 2 + 2:.1f}" y="{MARGIN_TOP}" width="{slot - 4:.1f}" '
                f'height="{plot_height}" fill="{BEST_COLOUR}" fill-opacity="0.08"/>'
            )
    series_values: tuple[tuple[str, str, float, list[float]], ...] = (
        ("duration", DURATION_COLOUR, top_duration, [p.duration_ms for p in points]),
        ("cost", COST_COLOUR, top_cost, [p.cost for p in points]),
    )
    for series, colour, top, values in series_values:
        coordinates = " ".join(f"{x(i):.1f},{y(v, top):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline class="{series}" points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for index, point in enumerate(points):
            label = f"{point.duration_ms:.1f} ms" if series == "duration" else format_cost(point.cost)
            parts.append(
                f'<circle class="{series}" cx="{x(index):.1f}" cy="{y(values[index], top):.1f}" r="4" '
                f'fill="{colour}"><title>{point.memory} MB: {html.escape(label)}</title></circle>'
            )
    parts.append(f'<text x="{MARGIN_LEFT + plot_width / 2}" y="{HEIGHT - 15}" text-anchor="middle">Memory (MB)</text>')
    parts.append(
        f'<text x="20" y="{MARGIN_TOP + plot_height / 2}" text-anchor="middle" fill="{DURATION_COLOUR}" '
        f'transform="rotate(-90 20 {MARGIN_TOP + plot_height / 2})">Average duration (ms)</text>'
    )
    parts.append(
        f'<text x="{WIDTH - 15}" y="{MARGIN_TOP + plot_height / 2}" text-anchor="middle" fill="{COST_COLOUR}" '
        f'transform="rotate(90 {WIDTH - 15} {MARGIN_TOP + plot_height / 2})">Average cost per invocation (USD)</text>'
    )
    heading = "Duration and cost by memory"
    if tuning.best is not None:
        heading += f": best {tuning.best} MB" + (f" ({tuning.strategy})" if tuning.strategy else "")
    parts.append(f'<text x="{WIDTH / 2}" y="25" text-anchor="middle" font-size="15">{html.escape(heading)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render_html(tuning: Tuning, svg: str) -> str:
    """A page with the chart inline and the numbers in a table."""
    rows = []
    for point in tuning.points:
        marked = ' class="best"' if point.memory == tuning.best else ""
        rows.append(
            f"<tr{marked}><td>{point.memory}</td><td>{point.duration_ms:.2f}</td>"
            f"<td>{html.escape(format_cost(point.cost))}</td></tr>"
        )
    notes = "".join(f'<p class="note">{html.escape(note)}</p>' for note in tuning.notes)
    best = f"<p>Best: <strong>{tuning.best} MB</strong>" + (
        f" by {html.escape(tuning.strategy)}</p>" if tuning.strategy else "</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Lambda power tuning</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-top: 1em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
tr.best {{ background: #e6f4e6; font-weight: bold; }}
.note {{ color: #555; font-size: 90%; }}
</style>
</head>
<body>
<h1>Lambda power tuning</h1>
{best if tuning.best is not None else ""}
{svg}
<table>
<thead><tr><th>Memory (MB)</th><th>Average duration (ms)</th><th>Average cost (USD)</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{notes}
</body>
</html>
"""


def write_chart(data: Any, out: Path) -> tuple[Path, Path]:
    """Write ``<out>.svg`` and ``<out>.html``; returns their paths."""
    tuning = read_tuning(data)
    svg = render_svg(tuning)
    svg_path, html_path = out.with_suffix(".svg"), out.with_suffix(".html")
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    svg_path.write_text(svg, encoding="utf-8")
    html_path.write_text(render_html(tuning, svg), encoding="utf-8")
    return svg_path, html_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m constructs_lib.workloads.power_tuning.chart",
        description="Chart a power tuning's output: duration and cost against memory (SVG and HTML).",
    )
    parser.add_argument("output", type=Path, help="the tuning output (JSON), or describe-execution's answer")
    parser.add_argument(
        "--out", type=Path, default=Path("power-tuning"), help="path without suffix (default: %(default)s)"
    )
    arguments = parser.parse_args(argv)
    try:
        data = json.loads(arguments.output.read_text(encoding="utf-8"))
        svg_path, html_path = write_chart(data, arguments.out)
    except (OSError, ValueError) as error:
        print(f"power_tuning_chart: {error}", file=sys.stderr)
        return 2
    print(f"wrote {svg_path} and {html_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
