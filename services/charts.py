"""Pictures and documents of the journal: a subject's marks over a period, and a pupil's
report card as an A4 PDF and as a picture sized for a phone.

The chart is drawn with matplotlib's object API on the Agg canvas (no pyplot state, so safe in
a worker thread); the card's PDF with reportlab, reusing the archive's DejaVu fonts
(services/archive/pdf.py), and its picture with Pillow (which matplotlib brings) in the same
DejaVu fonts, which have Cyrillic and Tatar letters. The caller passes every text already
translated. Heavy libraries are imported inside the functions so the bot starts fast.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from services.forecast import NUMERIC

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont
    from reportlab.platypus import Flowable


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


def date_ticks(start: date, end: date, most: int = 7) -> list[date]:
    """Up to `most` evenly spread days from the period's first to its last, both included:
    the axis never names a day outside the period."""
    days = (end - start).days
    if days <= 0:
        return [start]
    count = min(most, days + 1)
    return sorted({start + timedelta(days=round(i * days / (count - 1))) for i in range(count)})


def subject_chart(
    points: Sequence[ChartPoint],
    labels: ChartLabels,
    *,
    thresholds: Sequence[tuple[float, str]],
    period: tuple[date, date],
) -> bytes:
    """A PNG: each mark as a dot sized by its weight, the running weighted average as a line,
    and the averages where the forecast rounds up as dotted lines with their labels
    (`thresholds`: (average, "4 from 3.6"))."""
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    series = running_average(points)
    figure = Figure(figsize=(8, 4.5), dpi=135)
    axes = figure.add_subplot()
    figure.suptitle(labels.title, fontsize=13, fontweight="bold")
    axes.set_title(labels.subtitle, fontsize=10, color="#555555")
    for value, label in thresholds:
        axes.axhline(value, color="#999999", linestyle=":", linewidth=1, zorder=1)
        # x in the axes' fraction, y in marks: the label sits at the right end of its line.
        axes.text(
            0.995,
            value + 0.04,
            label,
            transform=axes.get_yaxis_transform(),
            ha="right",
            va="bottom",
            fontsize=8,
            color="#555555",
            # Over the average's line, on a pale ground: readable wherever the line runs.
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
            zorder=4,
        )
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
            clip_on=False,  # a mark on the period's first or last day is drawn whole
        )
        axes.plot(
            days,  # type: ignore[arg-type]
            [a for _, _, a in series],
            color="#d62728",
            linewidth=2,
            label=labels.average,
            zorder=2,
            clip_on=False,
        )
        axes.legend(loc="lower left", fontsize=9)
    else:
        axes.text(0.5, 0.5, labels.empty, ha="center", va="center", transform=axes.transAxes)
    axes.set_ylim(0.5, 5.5)
    axes.set_yticks([1, 2, 3, 4, 5])
    start, end = period
    # A little room either side, so the dots on the edges are not cut by the frame.
    room = timedelta(days=max(1, (end - start).days // 40))
    axes.set_xlim(start - room, end + room)  # type: ignore[arg-type]
    axes.set_xticks(date_ticks(start, end))  # type: ignore[arg-type]
    axes.xaxis.set_major_formatter(DateFormatter("%d.%m"))  # type: ignore[no-untyped-call]
    axes.grid(axis="y", color="#eeeeee")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- the report card ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardMark:
    text: str
    corrected: bool  # the teacher changed it after it was entered (seed 003 §8.6)


@dataclass(frozen=True, slots=True)
class ReportRow:
    subject: str
    marks: tuple[CardMark, ...]
    average: str
    forecast: str
    absences: str
    final: str
    final_corrected: bool = False


@dataclass(frozen=True, slots=True)
class CardTexts:
    title: str
    lines: tuple[str, ...]  # whose, the school, the period and year, the class teacher
    columns: tuple[str, str, str, str, str, str]
    legend: str  # what the corrected mark's sign means; shown when a row has one
    footer: str  # when it was made, with the year


CORRECTED = "*"
_RED = "#c00000"
_SIZES = (10.0, 9.0, 8.0, 7.0)  # the card's text size, largest that keeps it on one page
_MARGIN_MM = 12


def _corrected_any(rows: Sequence[ReportRow]) -> bool:
    return any(row.final_corrected or any(m.corrected for m in row.marks) for row in rows)


def _card_story(
    rows: Sequence[ReportRow], texts: CardTexts, size: float, width: float
) -> list[Flowable]:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    from services.archive.pdf import BOLD, FONT

    def style(points: float, *, bold: bool = False, grey: bool = False) -> ParagraphStyle:
        return ParagraphStyle(
            f"card-{points}-{bold}-{grey}",
            fontName=BOLD if bold else FONT,
            fontSize=points,
            leading=points * 1.25,
            textColor=colors.HexColor("#555555") if grey else colors.black,
        )

    sign = f'<font color="{_RED}">{CORRECTED}</font>'
    cell, head = style(size), style(size, bold=True)

    def marks(row: ReportRow) -> Paragraph:
        words = [escape(m.text) + (sign if m.corrected else "") for m in row.marks]
        return Paragraph(" ".join(words) or "—", cell)

    table_rows: list[list[object]] = [[Paragraph(escape(c), head) for c in texts.columns]]
    for row in rows:
        final = escape(row.final) + (sign if row.final_corrected else "")
        table_rows.append(
            [
                Paragraph(escape(row.subject), cell),
                marks(row),
                Paragraph(escape(row.average), cell),
                Paragraph(escape(row.forecast), cell),
                Paragraph(escape(row.absences), cell),
                Paragraph(final, head),
            ]
        )
    if not rows:
        table_rows.append([Paragraph("—", cell) for _ in texts.columns])
    table = Table(table_rows, colWidths=_widths(rows, texts, size, width), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    story: list[Flowable] = [Paragraph(escape(texts.title), style(size * 1.6, bold=True))]
    story.append(Spacer(1, size * 0.6))
    story += [Paragraph(escape(line), style(size + 1)) for line in texts.lines]
    story += [Spacer(1, size * 1.2), table, Spacer(1, size * 0.8)]
    if _corrected_any(rows):
        legend = f"{sign} — {escape(texts.legend)}"
        story.append(Paragraph(legend, style(size * 0.9, grey=True)))
    story.append(Paragraph(escape(texts.footer), style(size * 0.9, grey=True)))
    return story


def _widths(rows: Sequence[ReportRow], texts: CardTexts, size: float, width: float) -> list[float]:
    """The four short columns as wide as their longest word (header words unbroken), the
    rest shared by the subject's name and the marks, which wrap."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from services.archive.pdf import BOLD

    def widest(words: Sequence[str]) -> float:
        return float(max(stringWidth(w + CORRECTED, BOLD, size) for w in words)) + 7

    short = [
        widest(
            [
                *texts.columns[index].split(),
                *(w for row in rows for w in str(getattr(row, field)).split()),
            ]
        )
        for index, field in enumerate(("average", "forecast", "absences", "final"), 2)
    ]
    rest = max(width - sum(short), width * 0.4)
    return [rest * 0.5, rest * 0.5, *short]


def _height(story: Sequence[Flowable], width: float, height: float) -> float:
    return sum(float(item.wrap(width, height)[1]) for item in story)


def report_card_pdf(rows: Sequence[ReportRow], texts: CardTexts) -> bytes:
    """An A4 PDF: the heading, a table whose long subject names and many marks wrap within
    their cells, the sign of a corrected mark explained, the date it was made. The text is as
    large as still keeps a usual card on one page; a card longer than that flows on, its
    table's header repeated."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    from services.archive.pdf import register_fonts

    register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN_MM * mm,
        rightMargin=_MARGIN_MM * mm,
        topMargin=_MARGIN_MM * mm,
        bottomMargin=_MARGIN_MM * mm,
        title=texts.title,
        author="journalbot",
    )
    # The frame's own padding (6 pt each side) narrows what the story may use.
    width, height = document.width - 12, document.height - 12
    for size in _SIZES:
        story = _card_story(rows, texts, size, width)
        if _height(story, width, height) <= height - 2:
            break
    document.build(_card_story(rows, texts, size, width))
    return buffer.getvalue()


# The picture: a phone's screen width; each subject a block, not a wide table's row.
PICTURE_WIDTH = 1080
_PAD = 56


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    font: FreeTypeFont
    color: str


def _lines(words: Sequence[_Word], width: float) -> list[list[_Word]]:
    """Words in lines no wider than `width` (a word wider than that has a line of its own)."""
    lines: list[list[_Word]] = [[]]
    used = 0.0
    for word in words:
        space = word.font.getlength(" ") if lines[-1] else 0.0
        size = word.font.getlength(word.text)
        if lines[-1] and used + space + size > width:
            lines.append([])
            used, space = 0.0, 0.0
        lines[-1].append(word)
        used += space + size
    return [line for line in lines if line]


def report_card_png(rows: Sequence[ReportRow], texts: CardTexts) -> bytes:
    """A PNG PICTURE_WIDTH pixels wide, as tall as the card: the heading, then per subject its
    name, its marks (a corrected one with its sign) and a line of average, forecast, absences
    and the period's grade; the legend and the date it was made at the foot."""
    from pathlib import Path

    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"

    def font(size: int, *, bold: bool = False) -> FreeTypeFont:
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        return ImageFont.truetype(str(fonts / name), size)

    title, bold, text, small = font(54, bold=True), font(38, bold=True), font(36), font(30)
    black, grey, red = "#111111", "#666666", _RED
    # (lines of words, gap after) for each block, then drawn once their height is known.
    blocks: list[tuple[list[list[_Word]], int]] = []
    usable = PICTURE_WIDTH - 2 * _PAD

    def block(words: Sequence[_Word], gap: int = 10) -> None:
        blocks.append((_lines(words, usable), gap))

    def words(line: str, face: FreeTypeFont, color: str = black) -> list[_Word]:
        return [_Word(w, face, color) for w in line.split()]

    block(words(texts.title, title), 24)
    for heading in texts.lines:
        block(words(heading, text))
    blocks.append(([], 24))  # the rule under the heading
    average, forecast, absent, grade = texts.columns[2:]
    for row in rows:
        block(words(row.subject, bold), 6)
        marks = [
            _Word(m.text + (CORRECTED if m.corrected else ""), text, red if m.corrected else black)
            for m in row.marks
        ]
        block([*words(texts.columns[1] + ":", text, grey), *(marks or words("—", text))], 6)
        figures = (
            f"{average}: {row.average} · {forecast}: {row.forecast} · {absent}: {row.absences}"
            f" · {grade}:"
        )
        final = _Word(
            row.final + (CORRECTED if row.final_corrected else ""),
            bold,
            red if row.final_corrected else black,
        )
        block([*words(figures, small, grey), final], 0)
        blocks.append(([], 24))
    if _corrected_any(rows):
        block([_Word(CORRECTED, small, red), *words("— " + texts.legend, small, grey)])
    block(words(texts.footer, small, grey))

    def line_height(line: list[_Word]) -> int:
        return max(int(w.font.size * 1.3) for w in line)

    height = 2 * _PAD + sum(
        sum(line_height(line) for line in lines) + gap + (0 if lines else 2)
        for lines, gap in blocks
    )
    image = Image.new("RGB", (PICTURE_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    y = _PAD
    for lines, gap in blocks:
        if not lines:
            draw.line((_PAD, y + gap // 2, PICTURE_WIDTH - _PAD, y + gap // 2), "#cccccc", 2)
            y += gap + 2
            continue
        for line in lines:
            x = float(_PAD)
            # One baseline for the line's words, whatever their sizes.
            baseline = y + max(w.font.getmetrics()[0] for w in line)
            for word in line:
                draw.text((x, baseline), word.text, font=word.font, fill=word.color, anchor="ls")
                x += word.font.getlength(word.text + " ")
            y += line_height(line)
        y += gap
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
