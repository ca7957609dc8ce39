"""The one place that knows HTTP status codes, and the one JSON error shape.

Every error response is ``{"error": {"code", "message", "details"}}`` with the message in
Bahasa Indonesia, or English when the request asks for it (``?lang=en`` or an
``Accept-Language`` that prefers English).
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_sigap import errors as e

STATUS_CODES: dict[type[e.GeoSigapError], int] = {
    e.NotFound: 404,
    e.NotAuthenticated: 401,
    e.PermissionDenied: 403,
    e.InvalidTransition: 409,
    e.ConcurrentEdit: 409,
    e.PayloadTooLarge: 413,
    e.TooManyRequests: 429,
    e.UnsupportedMediaType: 415,
    e.InvalidInput: 422,
    e.ImportFailed: 422,
    e.NoRoute: 422,
    e.ConfigError: 503,
    e.GeoSigapError: 400,
}


def status_for(exc: e.GeoSigapError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 400


def request_locale(request: Request) -> str:
    lang = request.query_params.get("lang")
    if lang in ("id", "en"):
        return lang
    cookie = request.cookies.get("lang")
    if cookie in ("id", "en"):
        return cookie
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].strip()
    if first.startswith("en"):
        return "en"
    default = getattr(getattr(request.app.state, "settings", None), "locale", "id")
    return default


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


# FastAPI's answer to a body it could not parse at all (e.g. JSON nested deeper than the
# parser's recursion limit, or a broken multipart body)
_BODY_UNREADABLE = "There was an error parsing the body"
_BODY_MESSAGES = ("Isi permintaan tidak dapat dibaca (JSON atau formulir tidak sah, atau "
                  "terlalu bersarang)", "The request body could not be read (malformed or "
                  "too deeply nested JSON or form)")
_HTTP_MESSAGES = {
    404: ("Halaman atau sumber tidak ditemukan", "Not found"),
    405: ("Metode tidak diizinkan", "Method not allowed"),
    401: ("Perlu masuk (login) terlebih dahulu", "Authentication required"),
    403: ("Tidak diizinkan", "Forbidden"),
    413: ("Data yang dikirim terlalu besar", "Payload too large"),
}


def _validation_message(err: dict, locale: str) -> str:
    loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
    typ = err.get("type", "")
    if typ == "json_invalid":
        return ("JSON tidak sah: " if locale == "id" else "Malformed JSON: ") + str(
            err.get("ctx", {}).get("error", ""))
    if typ == "missing":
        return f"Kolom wajib tidak ada: {loc}" if locale == "id" else f"Missing field: {loc}"
    msg = err.get("msg", "")
    if locale == "en":
        return f"Invalid value at '{loc}': {msg}"
    return f"Nilai tidak sah pada '{loc}': {_indonesian(typ, err.get('ctx') or {})}"


def _num_id(v) -> str:
    """A number in Indonesian notation (1.000,5)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = f"{v:,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


# pydantic's error types, in Indonesian (its own messages are English only)
_PYDANTIC_ID = {
    "string_too_long": "teks paling banyak {max_length} karakter",
    "string_too_short": "teks paling sedikit {min_length} karakter",
    "too_long": "paling banyak {max_length} butir",
    "too_short": "paling sedikit {min_length} butir",
    "greater_than": "harus lebih besar dari {gt}",
    "greater_than_equal": "harus paling kecil {ge}",
    "less_than": "harus lebih kecil dari {lt}",
    "less_than_equal": "harus paling besar {le}",
    "multiple_of": "harus kelipatan {multiple_of}",
    "finite_number": "harus bilangan terhingga",
    "int_parsing": "harus bilangan bulat",
    "int_from_float": "harus bilangan bulat (tanpa pecahan)",
    "int_type": "harus bilangan bulat",
    "float_parsing": "harus angka",
    "float_type": "harus angka",
    "decimal_parsing": "harus angka",
    "bool_parsing": "harus true atau false",
    "bool_type": "harus true atau false",
    "string_type": "harus teks",
    "string_pattern_mismatch": "bentuknya tidak sesuai pola {pattern}",
    "string_unicode": "harus teks Unicode yang sah",
    "literal_error": "harus salah satu dari: {expected}",
    "enum": "harus salah satu dari: {expected}",
    "datetime_parsing": "waktu tidak sah (contoh: 2025-03-04T21:15:00+07:00)",
    "datetime_from_date_parsing": "waktu tidak sah (contoh: 2025-03-04T21:15:00+07:00)",
    "datetime_type": "harus waktu (contoh: 2025-03-04T21:15:00+07:00)",
    "date_parsing": "tanggal tidak sah (contoh: 2025-03-04)",
    "date_from_datetime_parsing": "tanggal tidak sah (contoh: 2025-03-04)",
    "date_type": "harus tanggal (contoh: 2025-03-04)",
    "timezone_aware": "waktu harus berzona waktu (mis. +07:00)",
    "list_type": "harus daftar (array)",
    "dict_type": "harus objek JSON",
    "model_type": "harus objek JSON",
    "model_attributes_type": "harus objek JSON",
    "extra_forbidden": "kolom ini tidak dikenal",
    "url_parsing": "alamat URL tidak sah",
    "url_type": "harus alamat URL",
    "uuid_parsing": "UUID tidak sah",
    "value_error": "nilai tidak dapat diterima",
    "assertion_error": "nilai tidak dapat diterima",
    "none_required": "harus kosong (null)",
    "bytes_too_long": "paling banyak {max_length} bita",
    "json_type": "harus JSON",
}


def _indonesian(typ: str, ctx: dict) -> str:
    template = _PYDANTIC_ID.get(typ)
    if template is None:
        return "nilai tidak dapat diterima"
    values = {k: _num_id(v) for k, v in ctx.items()}
    if "expected" in values:
        values["expected"] = str(ctx["expected"]).replace(" or ", " atau ")
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template.split(" {")[0] if "{" in template else template


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(e.GeoSigapError)
    async def _domain(request: Request, exc: e.GeoSigapError):
        loc = request_locale(request)
        status = status_for(exc)
        headers = None
        retry = exc.details.get("retry_after_s") if isinstance(exc.details, dict) else None
        if status == 429 and isinstance(retry, (int, float)):
            headers = {"Retry-After": str(max(1, int(retry)))}
        return JSONResponse(error_body(exc.code, exc.message(loc), _jsonable(exc.details)),
                            status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        loc = request_locale(request)
        errs = exc.errors()
        msgs = [_validation_message(x, loc) for x in errs]
        code = "malformed_json" if any(x.get("type") == "json_invalid" for x in errs) \
            else "invalid_input"
        return JSONResponse(
            error_body(code, "; ".join(msgs),
                       {"fields": [".".join(map(str, x.get("loc", ()))) for x in errs]}),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        loc = request_locale(request)
        if exc.status_code == 400 and exc.detail == _BODY_UNREADABLE:
            return JSONResponse(
                error_body("malformed_body", _BODY_MESSAGES[1 if loc == "en" else 0]),
                status_code=400)
        if exc.status_code == 404 and exc.detail == "Not Found":
            from geo_sigap.web.pages import not_found_page, wants_html

            if wants_html(request):  # a person typed or followed a wrong link
                return not_found_page(request)
        pair = _HTTP_MESSAGES.get(exc.status_code)
        msg = exc.detail if isinstance(exc.detail, str) and not pair else (
            pair[1 if loc == "en" else 0] if pair else str(exc.detail))
        return JSONResponse(error_body(f"http_{exc.status_code}", msg),
                            status_code=exc.status_code, headers=exc.headers)


def _jsonable(d: dict) -> dict:
    try:
        json.dumps(d)
        return d
    except TypeError:
        return {k: str(v) for k, v in d.items()}


# -- the error answers in the OpenAPI document ----------------------------------------------

_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "details"],
                             "properties": {"code": {"type": "string"},
                                            "message": {"type": "string"},
                                            "details": {"type": "object"}}}},
}
_DOCUMENTED = {
    "400": "Permintaan tidak dapat dibaca (badan atau karakter tidak sah)",
    "401": "Perlu masuk, atau token/sesi tidak sah atau kedaluwarsa",
    "403": "Peran tidak diizinkan, kasus tim lain, atau permintaan lintas situs",
    "404": "Tidak ditemukan, atau fitur tidak diaktifkan",
    "409": "Langkah tidak sah pada status ini, atau versi kasus sudah berubah",
    "413": "Data yang dikirim terlalu besar",
    "415": "Jenis berkas tidak didukung",
    "422": "Masukan tidak sah",
    "429": "Terlalu banyak permintaan; lihat Retry-After",
    "503": "Layanan belum siap (konfigurasi atau data belum ada)",
}


def document_error_answers(app: FastAPI) -> None:
    """Declare, on every operation of the OpenAPI document, the error answers the error
    table can give (all in the one ``{"error": …}`` shape), so that the document is true
    about status codes (checked by the Schemathesis run in the tests)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for path, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                responses = op["responses"]
                if path.endswith(".xml"):  # an XML variant answers XML, errors included
                    for code, answer in responses.items():
                        answer["content"] = {"text/xml": {"schema": {"type": "string"}}}
                    for code, text in _DOCUMENTED.items():
                        responses.setdefault(code, {"description": text, "content": {
                            "text/xml": {"schema": {"type": "string"}}}})
                    continue
                for code, text in _DOCUMENTED.items():
                    if code in responses and code != "422":
                        continue
                    responses[code] = {"description": responses.get(code, {}).get(
                        "description", text) if code in responses else text,
                        "content": {"application/json": {"schema": ref}}}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi
