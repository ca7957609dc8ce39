"""Reading pasted WhatsApp messages and writing dispatch links (pure functions)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote

import pytest

from geo_sigap.dispatch.whatsapp import (WIB, coordinates_in, guess_category, normalize_phone,
                                         parse_messages, wa_link)
from geo_sigap.domain.categories import load_categories
from geo_sigap.errors import InvalidInput


@pytest.mark.parametrize("line,when,sender", [
    ("[21.15, 4/3/2025] Budi RT 05: ada keributan", datetime(2025, 3, 4, 21, 15), "Budi RT 05"),
    ("[4/3/25 21.15.02] Budi: ada keributan", datetime(2025, 3, 4, 21, 15, 2), "Budi"),
    ("4/3/25, 21:15 - Budi: ada keributan", datetime(2025, 3, 4, 21, 15), "Budi"),
    ("[9.05, 12/11/2024] Pak RT: ada keributan", datetime(2024, 11, 12, 9, 5), "Pak RT"),
    ("12/11/24 9:05 PM - Ani: ada keributan", datetime(2024, 11, 12, 21, 5), "Ani"),
])
def test_formats_day_month_year_wib(line, when, sender):
    (m,) = parse_messages(line)
    assert m.at == when.replace(tzinfo=WIB) and m.sender == sender
    assert m.text == "ada keributan"


def test_continuation_lines_and_several_messages():
    text = ("[21.15, 4/3/2025] Budi: ada sapi lepas\ndi depan SD 47\n"
            "[21.17, 4/3/2025] Ani: betul, 3 ekor\n")
    a, b = parse_messages(text)
    assert a.text == "ada sapi lepas\ndi depan SD 47" and b.sender == "Ani"


def test_not_a_whatsapp_message_and_bad_date():
    with pytest.raises(InvalidInput):
        parse_messages("ada keributan di pasar")
    with pytest.raises(InvalidInput):
        parse_messages("[21.15, 31/2/2025] Budi: x")


def test_category_guess_and_coordinates():
    cats = load_categories()
    assert guess_category("ada 3 ekor sapi lepas di jalan", cats)[0] == "ternak"
    assert guess_category("pemuda mabuk miras dan judi", cats)[0] == "pekat"
    assert guess_category("cuaca cerah", cats) == (None, [])
    assert coordinates_in("lokasi https://maps.google.com/?q=-1.6198,103.6003") == (
        103.6003, -1.6198)


def test_wa_link_normalises_indonesian_numbers():
    assert normalize_phone("0812-3456-7890") == "6281234567890"
    assert normalize_phone("+62 812 3456 7890") == "6281234567890"
    link = wa_link("0812 3456 7890", "Tiket SGP-1 & lokasi?")
    assert link.startswith("https://wa.me/6281234567890?text=")
    assert unquote(link.split("=", 1)[1]) == "Tiket SGP-1 & lokasi?"
    assert wa_link(None, "x") == "https://wa.me/?text=x"
