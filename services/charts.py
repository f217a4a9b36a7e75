"""Pictures of the journal: a subject's marks over a period, and a one-page report card.

Drawn with matplotlib's object API on the Agg canvas (no pyplot state, so safe in a worker
thread); DejaVu Sans, which matplotlib ships, has Cyrillic and Tatar letters. The caller passes
every label already translated.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from services.forecast import NUMERIC


@dataclass(frozen=True, slots=True)
class ChartPoint:
    day: date
    value: str
    weight: Decimal


@dataclass(frozen=True, slots=True)
class ChartLabels:
    title: str
    subtitle: str
    marks: str
    average: str
    empty: str


def running_average(points: Sequence[ChartPoint]) -> list[tuple[date, float, float]]:
    """(day, mark, weighted average so far) for each numeric mark, in order."""
    total = Fraction(0)
    weight = Fraction(0)
    out: list[tuple[date, float, float]] = []
    for point in points:
        if point.value not in NUMERIC:
            continue
        total += int(point.value) * Fraction(point.weight)
        weight += Fraction(point.weight)
        out.append((point.day, float(point.value), float(total / weight)))
    return out


def subject_chart(
    points: Sequence[ChartPoint],
    labels: ChartLabels,
    *,
    round_from: Decimal,
    period: tuple[date, date],
) -> bytes:
    """A PNG: each mark as a dot sized by its weight, the running weighted average as a line,
    and the thresholds where the forecast changes as dotted lines."""
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    series = running_average(points)
    figure = Figure(figsize=(8, 4.5), dpi=110)
    axes = figure.add_subplot()
    figure.suptitle(labels.title, fontsize=13, fontweight="bold")
    axes.set_title(labels.subtitle, fontsize=10, color="#555555")
    for grade in (2, 3, 4):
        threshold = grade + float(round_from)
        axes.axhline(threshold, color="#bbbbbb", linestyle=":", linewidth=1)
    if series:
        days = [d for d, _, _ in series]
        sizes = [40 * float(p.weight) for p in points if p.value in NUMERIC]
        axes.scatter(
            days,  # type: ignore[arg-type]
            [v for _, v, _ in series],
            s=sizes,
            color="#1f77b4",
            alpha=0.75,
            label=labels.marks,
            zorder=3,
        )
        axes.plot(
            days,  # type: ignore[arg-type]
            [a for _, _, a in series],
            color="#d62728",
            linewidth=2,
            label=labels.average,
            zorder=2,
        )
        axes.legend(loc="lower left", fontsize=9)
    else:
        axes.text(0.5, 0.5, labels.empty, ha="center", va="center", transform=axes.transAxes)
    axes.set_ylim(0.5, 5.5)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.set_xlim(period[0], period[1])  # type: ignore[arg-type]
    axes.xaxis.set_major_formatter(DateFormatter("%d.%m"))  # type: ignore[no-untyped-call]
    axes.grid(axis="y", color="#eeeeee")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class ReportRow:
    subject: str
    marks: str
    average: str
    forecast: str
    absences: str
    final: str


def report_card(
    rows: Sequence[ReportRow],
    *,
    title: str,
    lines: Sequence[str],
    columns: Sequence[str],
    footer: str,
    pdf: bool,
) -> bytes:
    """One A4 page: the period's subjects with marks, average, forecast, absences and grade."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.27, 11.69), dpi=120)
    figure.text(0.06, 0.95, title, fontsize=16, fontweight="bold")
    for index, line in enumerate(lines):
        figure.text(0.06, 0.925 - index * 0.02, line, fontsize=10)
    axes = figure.add_axes((0.04, 0.08, 0.92, 0.8 - len(lines) * 0.02))
    axes.axis("off")
    cells = [
        [row.subject, row.marks, row.average, row.forecast, row.absences, row.final]
        for row in rows
    ] or [["—"] * len(columns)]
    table = axes.table(
        cellText=cells,
        colLabels=list(columns),
        colWidths=[0.27, 0.38, 0.09, 0.09, 0.08, 0.09],
        loc="upper center",
        cellLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.5)
    for (row, _), cell in table.get_celld().items():
        if row == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#e8eef7")
    figure.text(0.06, 0.04, footer, fontsize=8, color="#666666")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf" if pdf else "png")
    return buffer.getvalue()
