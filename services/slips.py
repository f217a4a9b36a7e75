"""Printable activation-code slips: cut-out cards with whom the code is for, the code, the deep
link and its QR code, and the whole instruction, in the language of the current i18n context
(a handler's update, or the command line's own)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _

from services.linking import PersonKind, format_code

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

COLUMNS, ROWS = 2, 4
mm = 72 / 25.4  # points; reportlab (imported when drawing, so the bot starts fast) has it too
_REGISTERED = False


@dataclass(frozen=True, slots=True)
class SlipData:
    name: str
    detail: str  # the pupil's class; for a guardian, "7Б, Иванов Миша" (linking.IssuedCode)
    code: str
    expires_at: datetime
    kind: PersonKind | None = None  # whose code: the slip says "for a parent of …"


@dataclass(frozen=True, slots=True)
class SlipTexts:
    title: str  # the PDF's title
    valid_until: str  # "Valid until {date}"
    instruction: str  # "Open the link … @{bot} …": printed whole on every slip


def slip_texts() -> SlipTexts:
    return SlipTexts(
        title=_("Access codes for the school journal"),
        valid_until=_("Valid until {date}"),
        instruction=_(
            "Open the link or scan the QR code, or send the code to the bot @{bot}."
            " The code works once: do not show it to anyone."
        ),
    )


def for_whom(kind: PersonKind | None, detail: str) -> str:
    """The slip's line saying whose code it is, so a class's pile is handed out right."""
    if kind is PersonKind.GUARDIAN:
        if detail:
            return _("For a parent (guardian) of: {child}").format(child=detail)
        return _("For a parent (guardian)")
    if kind is PersonKind.STUDENT:
        if detail:
            return _("For a pupil of class {label}").format(label=detail)
        return _("For a pupil")
    if kind is PersonKind.STAFF:
        return _("For a member of the school's staff")
    return detail


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def _register_fonts() -> None:
    global _REGISTERED  # noqa: PLW0603 - fonts are registered once per process
    if _REGISTERED:
        return
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    # DejaVu ships with matplotlib (a dependency for charts) and covers Cyrillic.
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in (
        ("Sans", "DejaVuSans.ttf"),
        ("Sans-Bold", "DejaVuSans-Bold.ttf"),
        ("Mono", "DejaVuSansMono-Bold.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(fonts / file)))
    _REGISTERED = True


def _qr_modules(text: str) -> list[list[bool]]:
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Vector squares: sharp at any print resolution."""
    modules = _qr_modules(text)
    cell = size / len(modules)
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(modules):
        for col_index, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + col_index * cell,
                    y + size - (row_index + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Every word of `text` in lines no wider than `width` (a longer word alone on its line)."""
    from reportlab.pdfbase import pdfmetrics

    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if not current or pdfmetrics.stringWidth(trial, font, size) <= width:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


_QR = 28 * mm
_PAD = 5 * mm
_GAP = 3 * mm


def _lines(
    canvas: Canvas, lines: Sequence[str], x: float, top: float, *, font: str, size: float
) -> float:
    """Draws lines downward from `top`; returns where the next text may start."""
    canvas.setFont(font, size)
    for line in lines:
        top -= size * 1.2
        canvas.drawString(x, top, line)
    return top


def _card(
    canvas: Canvas,
    slip: SlipData,
    texts: SlipTexts,
    *,
    frame: tuple[float, float, float, float],
    bot_username: str,
    school_name: str,
) -> None:
    x, y, card_w, card_h = frame
    canvas.setDash(3, 3)
    canvas.setLineWidth(0.5)
    canvas.rect(x, y, card_w, card_h, stroke=1, fill=0)
    canvas.setDash()
    left, full = x + _PAD, card_w - 2 * _PAD
    column = full - _QR - _GAP  # beside the QR code
    top = _lines(
        canvas,
        wrap(school_name, "Sans", 7.5, full)[:2],
        left,
        y + card_h - _PAD,
        font="Sans",
        size=7.5,
    )
    qr_top = top - 3
    link = deep_link(bot_username, slip.code)
    _draw_qr(canvas, link, x + card_w - _PAD - _QR, qr_top - _QR, _QR)
    top = _lines(
        canvas, wrap(slip.name, "Sans-Bold", 11, column), left, top - 3, font="Sans-Bold", size=11
    )
    whom = for_whom(slip.kind, slip.detail)
    top = _lines(canvas, wrap(whom, "Sans", 8, column), left, top - 1, font="Sans", size=8)
    top = _lines(canvas, [format_code(slip.code)], left, top - 4, font="Mono", size=16)
    valid = texts.valid_until.format(date=f"{slip.expires_at:%d.%m.%Y}")
    top = _lines(canvas, [valid], left, top - 1, font="Sans", size=7)
    # The instruction under both, the card's full width, never cut: the font gives way first.
    top = min(top, qr_top - _QR) - 2
    room = top - (y + _PAD + 9)
    for size in (7.5, 7.0, 6.5, 6.0, 5.5):
        lines = wrap(texts.instruction.format(bot=bot_username), "Sans", size, full)
        if len(lines) * size * 1.2 <= room:
            break
    _lines(canvas, lines, left, top, font="Sans", size=size)
    canvas.setFont("Sans", 6.5)
    canvas.drawString(left, y + _PAD, link)


def render_slips(
    slips: Sequence[SlipData],
    *,
    bot_username: str,
    school_name: str,
    texts: SlipTexts | None = None,
) -> bytes:
    """A4 pages of 2 × 4 cards with dashed cut lines, one card per person; `texts` default to
    slip_texts() in the current language."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    _register_fonts()
    texts = texts or slip_texts()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(texts.title)
    page_w, page_h = A4
    margin = 10 * mm
    card_w = (page_w - 2 * margin) / COLUMNS
    card_h = (page_h - 2 * margin) / ROWS
    per_page = COLUMNS * ROWS
    for index, slip in enumerate(slips):
        if index and index % per_page == 0:
            canvas.showPage()
        position = index % per_page
        x = margin + (position % COLUMNS) * card_w
        y = page_h - margin - (position // COLUMNS + 1) * card_h
        _card(
            canvas,
            slip,
            texts,
            frame=(x, y, card_w, card_h),
            bot_username=bot_username,
            school_name=school_name,
        )
    canvas.save()
    return buffer.getvalue()
