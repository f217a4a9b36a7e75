"""Code slips: a real PDF whose QR codes decode to the deep links, with the whole instruction
and whom each slip is for on every card."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2
import pytest
import zxingcpp

from bot.i18n import make_i18n
from services.linking import PersonKind
from services.slips import SlipData, deep_link, render_slips

INSTRUCTION = (
    "Откройте ссылку или отсканируйте QR-код, либо отправьте код боту @{bot}. "
    "Код одноразовый, никому его не показывайте."
)


def _text(page: pypdfium2.PdfPage) -> str:
    return " ".join(page.get_textpage().get_text_range().split())


def test_slips_render_and_qr_codes_decode_to_deep_links() -> None:
    slips = [
        SlipData(
            f"Иванова Анна {n}",
            f"7Б, Иванов Миша {n}",
            f"ABCDEFGH{n + 20:02d}"[-10:],
            datetime(2026, 12, 7, tzinfo=UTC),
            PersonKind.GUARDIAN,
        )
        for n in range(10)
    ]
    i18n = make_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        pdf_bytes = render_slips(slips, bot_username="school_bot", school_name="МБОУ «СОШ № 1»")
    assert pdf_bytes.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    assert len(pdf) == 2  # 8 cards a page
    page = pdf[0]
    image = page.render(scale=3).to_pil()
    decoded = sorted(result.text for result in zxingcpp.read_barcodes(image))
    assert decoded == sorted(deep_link("school_bot", s.code) for s in slips[:8])
    text = _text(page)
    for slip in slips[:8]:
        assert slip.name in text
        assert f"{slip.code[:5]}-{slip.code[5:]}" in text
        assert f"Родителю (законному представителю): {slip.detail}" in text
    assert "Действует до 07.12.2026" in text
    # The whole instruction on every card, not cut mid-sentence.
    assert text.count(INSTRUCTION.format(bot="school_bot")) == 8
    assert pdf.get_metadata_dict()["Title"] == "Коды доступа к электронному журналу"


@pytest.mark.parametrize(
    ("kind", "detail", "whom"),
    [
        (PersonKind.STUDENT, "7Б", "Ученику (ученице) 7Б класса"),
        (PersonKind.GUARDIAN, "", "Родителю (законному представителю)"),
        (PersonKind.STAFF, "", "Сотруднику школы"),
    ],
)
def test_a_long_bot_name_and_school_still_leave_the_instruction_whole(
    kind: PersonKind, detail: str, whom: str
) -> None:
    bot = "gymnasium_no_102_kazan_journal_bot"
    school = "Муниципальное бюджетное общеобразовательное учреждение «Гимназия № 102 имени М. С."
    expires = datetime(2026, 12, 7, tzinfo=UTC)
    slip = SlipData("Константинопольская Александра", detail, "ABCDEFGHJK", expires, kind)
    i18n = make_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        pdf = pypdfium2.PdfDocument(
            render_slips([slip], bot_username=bot, school_name=school + " Салахова»")
        )
    text = _text(pdf[0])
    assert INSTRUCTION.format(bot=bot) in text
    assert whom in text
    assert "Константинопольская Александра" in text
    assert deep_link(bot, "ABCDEFGHJK") in text
    [decoded] = zxingcpp.read_barcodes(pdf[0].render(scale=3).to_pil())
    assert decoded.text == deep_link(bot, "ABCDEFGHJK")


def test_slips_in_english() -> None:
    expires = datetime(2026, 12, 7, tzinfo=UTC)
    slip = SlipData("Anna Smith", "7B", "ABCDEFGHJK", expires, PersonKind.STUDENT)
    i18n = make_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        text = _text(
            pypdfium2.PdfDocument(
                render_slips(
                    [slip],
                    bot_username="school_bot",
                    school_name="School No. 1",
                )
            )[0]
        )
    assert "For a pupil of class 7B" in text
    assert "The code works once: do not show it to anyone." in text
