"""The installable field app: manifest, service worker and what it stores for offline use."""

from __future__ import annotations

import json
import re


def test_manifest_makes_the_field_page_installable(client):
    r = client.get("/lapangan.webmanifest")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/manifest+json")
    m = r.json()
    assert m["start_url"] == "/lapangan" and m["scope"] == "/lapangan"
    assert m["display"] == "standalone" and m["name"] == "GeoSIGAP Lapangan"
    sizes = {i["sizes"] for i in m["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in m["icons"]:
        assert client.get(icon["src"]).status_code == 200
    client.cookies.set("sigap_lang", "en")
    assert client.get("/lapangan.webmanifest").json()["name"] == "GeoSIGAP Field"
    page = client.get("/lapangan").text
    assert '<link rel="manifest" href="/lapangan.webmanifest">' in page


def test_service_worker_precaches_what_the_page_needs(client, auth):
    r = client.get("/lapangan-sw.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == "no-cache"
    body = r.text
    assert "__CACHE__" not in body and "__PRECACHE__" not in body
    cache = re.search(r'const CACHE = "(sigap-lapangan-[0-9a-f]{12})"', body)
    assert cache
    urls = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    # the page's own scripts and styles are all in it
    page = client.get("/lapangan").text
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page):
        assert src in urls, src
    assert "/api/map/roads" in urls and "/api/map/boundaries?level=kelurahan" in urls
    for u in urls:  # every one answers (the base map is public data, no sign-in)
        assert client.get(u).status_code == 200, u
    # the field reads kept for offline use include the team's assignments and routes
    assert "\\/api\\/me\\/assignments" in body and "route" in body
    assert 'url.pathname === "/api/events") return' in body  # the stream is never cached
