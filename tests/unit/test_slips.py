"""Code slips: a real PDF whose QR codes decode to the deep links."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2
import zxingcpp

from services.slips import SlipData, deep_link, render_slips


def test_slips_render_and_qr_codes_decode_to_deep_links() -> None:
    slips = [
        SlipData(
            f"Иванова Анна {n}",
            f"7Б, Иванов Миша {n}",
            f"ABCDEFGH{n + 20:02d}"[-10:],
            datetime(2026, 12, 7, tzinfo=UTC),
        )
        for n in range(10)
    ]
    pdf_bytes = render_slips(slips, bot_username="school_bot", school_name="МБОУ «СОШ № 1»")
    assert pdf_bytes.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    assert len(pdf) == 2  # 8 cards a page
    page = pdf[0]
    image = page.render(scale=3).to_pil()
    decoded = sorted(result.text for result in zxingcpp.read_barcodes(image))
    assert decoded == sorted(deep_link("school_bot", s.code) for s in slips[:8])
    text = page.get_textpage().get_text_range()
    for slip in slips[:8]:
        assert slip.name in text
        assert f"{slip.code[:5]}-{slip.code[5:]}" in text
    assert "Действует до 07.12.2026" in text
    assert "никому его не показывайте" in text.replace("\r\n", " ").replace("\n", " ")
