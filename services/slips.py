"""Printable activation-code slips: cut-out cards with the code, the deep link and its QR code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

import matplotlib
import qrcode
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from services.linking import format_code

COLUMNS, ROWS = 2, 4
# DejaVu ships with matplotlib (a dependency for charts) and covers Cyrillic: no system fonts.
_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_REGISTERED = False


@dataclass(frozen=True, slots=True)
class SlipData:
    name: str
    detail: str
    code: str
    expires_at: datetime


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def _register_fonts() -> None:
    global _REGISTERED  # noqa: PLW0603 - fonts are registered once per process
    if _REGISTERED:
        return
    for name, file in (
        ("Sans", "DejaVuSans.ttf"),
        ("Sans-Bold", "DejaVuSans-Bold.ttf"),
        ("Mono", "DejaVuSansMono-Bold.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(_FONTS / file)))
    _REGISTERED = True


def _qr_modules(text: str) -> list[list[bool]]:
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


def _wrap(canvas: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if canvas.stringWidth(trial, font, size) <= width:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def render_slips(slips: Sequence[SlipData], *, bot_username: str, school_name: str) -> bytes:
    """A4 pages of 2 × 4 cards with dashed cut lines, one card per person."""
    _register_fonts()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle("Коды доступа к электронному журналу")
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
        canvas.setDash(3, 3)
        canvas.setLineWidth(0.5)
        canvas.rect(x, y, card_w, card_h, stroke=1, fill=0)
        canvas.setDash()
        pad = 5 * mm
        top = y + card_h - pad
        canvas.setFont("Sans", 7.5)
        for line in _wrap(canvas, school_name, "Sans", 7.5, card_w - 2 * pad)[:2]:
            top -= 9
            canvas.drawString(x + pad, top, line)
        canvas.setFont("Sans-Bold", 11)
        top -= 16
        canvas.drawString(x + pad, top, slip.name)
        canvas.setFont("Sans", 8.5)
        if slip.detail:
            top -= 12
            canvas.drawString(x + pad, top, slip.detail)
        link = deep_link(bot_username, slip.code)
        qr_size = 30 * mm
        _draw_qr(canvas, link, x + card_w - pad - qr_size, y + pad + 8 * mm, qr_size)
        canvas.setFont("Mono", 17)
        canvas.drawString(x + pad, y + pad + 26 * mm, format_code(slip.code))
        canvas.setFont("Sans", 7)
        canvas.drawString(x + pad, y + pad + 21 * mm, f"Действует до {slip.expires_at:%d.%m.%Y}")
        text = (
            f"Откройте ссылку или отсканируйте QR-код, либо отправьте код боту "
            f"@{bot_username}. Код одноразовый, никому его не показывайте."
        )
        line_y = y + pad + 16 * mm
        for line in _wrap(canvas, text, "Sans", 7, card_w - 2 * pad - qr_size - 3 * mm)[:4]:
            canvas.drawString(x + pad, line_y, line)
            line_y -= 8.5
        canvas.setFont("Sans", 6.5)
        canvas.drawString(x + pad, y + pad, link)
    canvas.save()
    return buffer.getvalue()
