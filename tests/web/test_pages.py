"""Pages render in Bahasa Indonesia (English on request) and load nothing from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo_sigap.web.i18n import Translator, messages, pick_locale

WEB = Path(__file__).resolve().parents[2] / "geo_sigap" / "web"
PAGES = ["/masuk", "/peta", "/operator", "/dispatch/PM-2025-000001", "/lapangan", "/lapor",
         "/status", "/status/PM-2025-000001"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_in_indonesian_with_a_strict_csp(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="id">' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self';" in csp
    assert "connect-src 'self'" in csp
    # every script and stylesheet is served by this app
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', r.text):
        assert src.startswith("/static/") or src == "/lapangan.webmanifest", src
        assert client.get(src.split("?")[0]).status_code == 200, src


def test_pages_use_the_visible_words_of_each_locale(client):
    assert "Peta pemantauan" in client.get("/peta").text
    en = client.get("/peta?lang=en")
    assert '<html lang="en">' in en.text and "Live map" in en.text
    assert "sigap_lang=en" in en.headers["set-cookie"]
    # the cookie keeps English on the next page
    assert '<html lang="en">' in client.get("/lapor").text
    assert "Report an incident" in client.get("/lapor").text
    client.cookies.set("sigap_lang", "id")
    assert "Laporkan kejadian" in client.get("/lapor").text


def test_accept_language_and_default():
    assert pick_locale(None, None, "en-US,en;q=0.9,id;q=0.8") == "en"
    assert pick_locale(None, None, "fr-FR, id;q=0.5, en;q=0.3") == "id"
    assert pick_locale("en", "id", "id") == "en"
    assert pick_locale(None, "en", "id") == "en"
    assert pick_locale(None, None, None, "en") == "en"
    assert pick_locale("xx", None, None) == "id"


def test_locales_have_the_same_keys_and_placeholders():
    ids, ens = messages("id"), messages("en")
    assert set(ens) <= set(ids), set(ens) - set(ids)
    for key, text in ens.items():
        assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", ids[key])), key
    t = Translator("en")
    assert t("map.open_count", n=5) == "5 open incidents"
    assert t("app.name") == "GeoSIGAP"  # falls back to Indonesian
    assert Translator("id")("status.menuju_lokasi") == "Menuju lokasi"


def test_every_key_used_by_templates_and_scripts_exists():
    ids = messages("id")
    used = set()
    for p in (WEB / "templates").glob("*.html"):
        used |= set(re.findall(r"t\('([\w.]+\w)'", p.read_text("utf-8")))
    for p in (WEB / "static" / "js").glob("*.js"):
        used |= set(re.findall(r'S\.t\("([\w.]+\w)"', p.read_text("utf-8")))
    assert len(used) > 100
    assert not sorted(used - set(ids))


def test_no_page_or_own_asset_references_another_host():
    """Templates, our JS/CSS and vendored CSS load nothing by absolute URL.

    Vendored JS may mention URLs in comments/attribution strings, so for it only
    ``import``/``fetch``/``src=`` of a remote URL is refused.
    """
    remote = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)
    own = list((WEB / "templates").glob("*.html")) + list((WEB / "static" / "js").glob("*.js")) \
        + list((WEB / "static" / "css").glob("*.css")) \
        + list((WEB / "static" / "vendor").rglob("*.css"))
    assert len(own) > 15
    for p in own:
        text = p.read_text("utf-8")
        text = re.sub(r"xmlns(:\w+)?=\"http://www\.w3\.org/[^\"]*\"", "", text)
        if p.suffix == ".css":
            text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments load nothing
        assert not remote.search(text), (p, remote.search(text).group(0))
    load = re.compile(r"(?:import\s*\(?|fetch\(|src\s*=|url\()\s*['\"]?https?://", re.I)
    for p in (WEB / "static" / "vendor").rglob("*.js"):
        assert not load.search(p.read_text("utf-8")), p
    for lib in ("leaflet", "leaflet.markercluster", "leaflet.heat"):
        assert (WEB / "static" / "vendor" / lib / "LICENSE").exists()


def test_optional_tile_layer_only_when_configured(tmp_path):
    from fastapi.testclient import TestClient

    from tests.web.conftest import make_app

    url = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    with TestClient(make_app(tmp_path, map_tiles_url=url)) as c:
        r = c.get("/peta")
        assert "tile.example.org" in r.text
        assert "img-src 'self' data: blob: https://*.tile.example.org" in \
            r.headers["content-security-policy"]


def test_landing_redirects_by_session_and_status_lookup(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/masuk"
    client.cookies.set("sigap_session", "x")
    assert client.get("/", follow_redirects=False).headers["location"] == "/peta"
    r = client.get("/status?tiket=pm-2025-000007", follow_redirects=False)
    assert r.headers["location"] == "/status/PM-2025-000007"


def test_login_next_only_accepts_local_paths(client):
    assert '"next": "/peta"' in client.get("/masuk?next=/peta").text
    assert "evil.example" not in client.get("/masuk?next=//evil.example/x").text
    assert "evil.example" not in client.get("/masuk?next=https://evil.example/").text


def test_asset_urls_change_with_the_files_content(tmp_path):
    # a new release's script or style has another URL, so no browser keeps an earlier
    # one from its cache (the version number alone did not change with the files)
    from geo_sigap.web.pages import assets_version_of

    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        (d / "css").mkdir(parents=True)
        (d / "css" / "sigap.css").write_text(".inc.late i { animation:pulse 1.2s 3; }")
        (d / "app.js").write_text("x")
    assert assets_version_of(a) == assets_version_of(b)
    (b / "css" / "sigap.css").write_text(".inc.late i { animation:pulse 1.2s infinite; }")
    assert assets_version_of(a) != assets_version_of(b)
    (b / "css" / "sigap.css").write_text(".inc.late i { animation:pulse 1.2s 3; }")
    assert assets_version_of(a) == assets_version_of(b)
    (b / "app.js").rename(b / "app2.js")  # the same bytes under another name
    assert assets_version_of(a) != assets_version_of(b)


def test_versioned_assets_are_kept_and_the_others_asked_again(client):
    from geo_sigap.web.pages import assets_version

    page = client.get("/peta").text
    srcs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"', page)
    own = [s for s in srcs if s.startswith(("/static/css/", "/static/js/"))]
    assert own and all(s.endswith(f"?v={assets_version()}") for s in own), own
    kept = client.get(own[0])
    assert kept.status_code == 200
    assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = client.get(own[0].split("?")[0])
    assert plain.headers["cache-control"] == "no-cache" and plain.headers.get("etag")
    again = client.get(own[0].split("?")[0], headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304
    docs = client.get("/docs").text
    js = re.search(r'src="(/docs/assets/swagger-ui-bundle\.js\?v=[0-9a-f]{12})"', docs)
    assert js, docs[:500]
    assert client.get(js.group(1)).headers["cache-control"].endswith("immutable")
