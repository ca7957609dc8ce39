"""``web.responses.json_response``: the JSON FastAPI's encoder gives, for every kind of
value an answer holds."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import numpy as np
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from geo_sigap.domain.lifecycle import Status
from geo_sigap.web.responses import json_response


class Colour(str, Enum):
    RED = "merah"


@dataclass
class Pair:
    a: int
    b: str


class Model(BaseModel):
    x: int
    at: datetime


def _same(body) -> dict:
    resp = json_response(body)
    got = json.loads(resp.body)
    assert got == jsonable_encoder(body), (got, jsonable_encoder(body))
    return got


def test_plain_values_times_enums_and_dataclasses_as_fastapi_sends_them():
    wib = timezone(timedelta(hours=7))
    _same({"ticket": "SGP-1", "n": 3, "f": 0.1 + 0.2, "none": None, "ok": True,
           "nested": [{"t": (1, 2)}, []], "text": "Kel. Eka Jaya — RT 005 ✓",
           "utc": datetime(2026, 3, 4, 14, 15, 16, 123456, tzinfo=UTC),
           "wib": datetime(2026, 3, 4, 21, 15, tzinfo=wib),
           "whole": datetime(2026, 3, 4, 21, 15, 0, tzinfo=UTC), "day": date(2026, 3, 4),
           "status": Status.DITERIMA, "colour": Colour.RED, "pair": Pair(1, "x"),
           "big": 2 ** 53 + 1})


def test_other_values_take_fastapis_encoder():
    got = _same({"model": Model(x=1, at=datetime(2026, 1, 1, tzinfo=UTC)),
                 "amount": Decimal("1.5"), "codes": {"b"}})
    assert got["amount"] == 1.5 and got["codes"] == ["b"]


def test_numbers_from_numpy_and_keys_that_are_not_text():
    resp = json_response({"counts": {1: 2, 3: 4}, "arr": np.arange(3), "x": np.float64(0.5)})
    assert json.loads(resp.body) == {"counts": {"1": 2, "3": 4}, "arr": [0, 1, 2], "x": 0.5}


def test_not_a_number_is_null_not_a_server_error():
    resp = json_response({"eta_s": math.nan, "inf": math.inf, "rows": [[1.0, math.nan]]})
    assert json.loads(resp.body) == {"eta_s": None, "inf": None, "rows": [[1.0, None]]}


def test_status_code_and_headers():
    resp = json_response({"a": 1}, 201, headers={"ETag": '"x"'})
    assert resp.status_code == 201 and resp.headers["etag"] == '"x"'
    assert resp.media_type == "application/json"
