"""Every page: offline /docs, a 404 page in the user's language, compressed responses."""

from __future__ import annotations

import re

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_docs_load_swagger_ui_from_this_app_only(client):
    r = client.get("/docs")
    assert r.status_code == 200
    refs = re.findall(r'(?:src|href|url)\s*[:=]\s*["\']([^"\']+)["\']', r.text)
    assert refs and all(u.startswith("/") for u in refs), refs
    assert "https://" not in r.text and "http://" not in r.text
    for u in refs:
        assert client.get(u.split("?")[0]).status_code == 200, u
    assert client.get("/openapi.json").json()["info"]["title"] == "GeoSIGAP"


def test_an_unknown_page_answers_a_page_in_the_users_language(client):
    r = client.get("/tidak-ada", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Halaman tidak ditemukan" in r.text and '<html lang="id">' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    en = client.get("/tidak-ada?lang=en", headers=HTML)
    assert en.status_code == 404 and "Page not found" in en.text
    assert "Halaman tidak ditemukan" not in en.text


def test_api_clients_still_get_the_json_error(client):
    for path, headers in (("/tidak-ada", {}), ("/api/tidak-ada", HTML)):
        r = client.get(path, headers=headers)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "http_404"


def test_pages_scripts_and_map_data_are_gzipped(client):
    for path in ("/operator", "/static/js/peta.js", "/static/vendor/leaflet/leaflet.js",
                 "/docs/assets/swagger-ui-bundle.js"):
        r = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, path
        assert r.headers.get("content-encoding") == "gzip", path
    plain = client.get("/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def indonesian_only() -> set[str]:
    """Indonesian message texts (two words or more) whose English text differs."""
    from geo_sigap.web.i18n import messages

    ids, ens = messages("id"), messages("en")
    return {v for k, v in ids.items() if ens.get(k) != v and len(v.split()) >= 2
            and "{" not in v}


def test_english_has_every_message():
    from geo_sigap.web.i18n import messages

    ids, ens = messages("id"), messages("en")
    missing = sorted(set(ids) - set(ens))
    assert not missing, missing


def test_no_indonesian_text_on_the_english_pages(client):
    import html as _html

    words = indonesian_only()
    assert len(words) > 100
    for path in ("/operator", "/dispatch/PM-2025-000001", "/peta", "/tidak-ada"):
        page = client.get(path + "?lang=en", headers=HTML).text
        body = page.split('<script type="application/json" id="sigap-i18n">')[0]
        texts = {_html.unescape(x).strip() for x in re.findall(r">([^<>]+)<", body)}
        texts |= {_html.unescape(x) for x in re.findall(r'(?:placeholder|aria-label|title)="([^"]+)"', body)}
        left = sorted(t for t in texts if t in words)
        assert not left, (path, left)


def test_the_live_map_asks_for_the_rakor_reports_gi_permutations(client):
    import inspect

    from geo_sigap.analytics.report.builder import build_report
    from geo_sigap.web.pages import GI_PERMUTATIONS

    assert GI_PERMUTATIONS == inspect.signature(build_report).parameters["permutations"].default
    assert f'data-gi-permutations="{GI_PERMUTATIONS}"' in client.get("/peta").text


def test_each_route_is_described_once(app):
    # a router included twice (pages installed again) gives duplicate operation ids
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns of a duplicate operation id
        spec = app.openapi()
    assert "/api/map/boundaries" in spec["paths"] and "/api/incidents" in spec["paths"]
