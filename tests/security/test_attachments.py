"""Photos of field reports: recognised by content, stored under random names outside the
web root (nothing of the uploaded name reaches the file system), served only to roles
allowed to see the case, and removed again when the report is not saved."""

from __future__ import annotations

import io

import pytest

from geo_sigap.dispatch import field
from tests.conftest import make_settings
from tests.security._cases import assigned_case

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture
def case(client, auth):
    return assigned_case(client, auth, "keributan")[0]


def _files(services):
    root = services.settings.attachments_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_traversal_names_never_reach_the_file_system(client, auth, services, case):
    names = ["../../../../tmp/evil.jpg", "..\\..\\windows\\evil.jpg", "/etc/passwd",
             "foto\u202egpj.exe", ".."]
    r = client.post(f"/api/incidents/{case}/reports", headers=auth["tim_bhb"],
                    data={"text": "foto"},
                    files=[("photos", (n, io.BytesIO(JPEG), "image/png")) for n in names])
    assert r.status_code == 200, r.text
    atts = r.json()["reports"][0]["attachments"]
    shown = [a["filename"] for a in atts]
    assert shown == ["evil.jpg", "evil.jpg", "passwd", "fotogpj.exe", "foto.jpg"]
    assert all(a["content_type"] == "image/jpeg" for a in atts)  # by content, not claim
    root = services.settings.attachments_dir.resolve()
    stored = _files(services)
    assert len(stored) == len(names)
    for p in stored:
        assert root in p.resolve().parents and p.suffix == ".jpg"
        assert "evil" not in p.name and "passwd" not in p.name
    r = client.get(atts[0]["url"], headers=auth["tim_bhb"])
    assert r.status_code == 200 and r.content == JPEG
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in r.headers["cache-control"]
    assert r.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize("data,claimed", [
    (b"<html><script>alert(1)</script></html>", "image/jpeg"),
    (b"GIF89a\x01\x00\x01\x00", "image/gif"),
    (b"%PDF-1.4 fake", "image/png"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "image/webp"),
    (b"", "image/jpeg"),
])
def test_spoofed_types_are_refused(client, auth, services, case, data, claimed):
    r = client.post(f"/api/incidents/{case}/reports", headers=auth["tim_bhb"],
                    data={"text": "foto"},
                    files=[("photos", ("foto.jpg", io.BytesIO(data), claimed))])
    assert r.status_code == 415
    assert "bukan foto" in r.json()["error"]["message"]
    assert _files(services) == []


def test_attachment_idor(client, auth, services, case):
    r = client.post(f"/api/incidents/{case}/reports", headers=auth["tim_bhb"],
                    data={"text": "foto"},
                    files=[("photos", ("a.jpg", io.BytesIO(JPEG), "image/jpeg"))])
    att = r.json()["reports"][0]["attachments"][0]["id"]
    for who, expected in [("tim_bhb", 200), ("operator", 200), ("dispatcher", 200),
                          ("coordinator", 200), ("admin", 200), ("tim_bhb2", 403),
                          ("tim_lms", 403), ("planner", 403)]:
        assert client.get(f"/api/attachments/{att}", headers=auth[who]).status_code == \
            expected, who
    assert client.get(f"/api/attachments/{att}").status_code == 401
    assert client.get(f"/api/attachments/{att + 1000}",
                      headers=auth["operator"]).status_code == 404
    assert client.get("/api/attachments/..%2F..%2Fetc%2Fpasswd",
                      headers=auth["operator"]).status_code in (404, 422)


def test_files_are_removed_when_the_report_is_not_saved(client, auth, services, case,
                                                        monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("database down")

    monkeypatch.setattr(field.audit, "append", boom)  # fails after the files are written
    with pytest.raises(RuntimeError):
        field.add_field_report(services, field.Actor("tim_bhb", field.UserRole.TEAM_MEMBER,
                                                     "BHB-1003"), case, "laporan",
                               [field.Upload("a.jpg", JPEG), field.Upload("b.jpg", JPEG)])
    assert _files(services) == []
    monkeypatch.undo()
    inc = client.get(f"/api/incidents/{case}", headers=auth["coordinator"]).json()
    assert inc["reports"] == []


def test_oversize_photo_is_refused_before_anything_is_stored(client, auth, services, case):
    big = JPEG + b"0" * services.settings.max_upload_bytes
    r = client.post(f"/api/incidents/{case}/reports", headers=auth["tim_bhb"],
                    data={"text": "foto"},
                    files=[("photos", ("besar.jpg", io.BytesIO(big), "image/jpeg"))])
    assert r.status_code == 413 and "terlalu besar" in r.json()["error"]["message"]
    assert _files(services) == []


def test_attachments_inside_the_web_root_refuse_to_start(tmp_path, db_url):
    from geo_sigap.errors import ConfigError
    from geo_sigap.web.app import create_app
    from geo_sigap.web.pages import STATIC_DIR

    for data_dir in (STATIC_DIR, STATIC_DIR.parents[1]):
        with pytest.raises(ConfigError):
            create_app(make_settings(db_url, data_dir), services=object())
    create_app(make_settings(db_url, tmp_path / "data"), services=object())
