"""The shell every page shares: errors, health, headers and the strict CSP."""

import re
from pathlib import Path

import pytest

from app import create_app

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_health_answers_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_health_answers_a_signed_in_request_on_its_own_connection(client, auth, make_user):
    # a signed-in request already holds SQLite's write lock: a second connection waited
    # for it until its timeout, and answered 503
    make_user("officer1")
    auth.login("officer1")
    assert client.get("/").status_code == 200
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["database"] == "ok"


def test_health_is_503_without_the_database(tmp_path):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'no.db'}"}
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


@pytest.mark.parametrize(("code", "title"), [(404, "未找到"), (403, "无权操作")])
def test_error_pages_are_translated(client, auth, make_user, code, title):
    make_user("officer1")
    auth.login("officer1")
    url = "/no-such-page" if code == 404 else "/admin/users"
    response = client.get(url)
    assert response.status_code == code
    assert title in response.text


def test_server_error_page_is_translated(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "出错了" in response.text


def test_pages_carry_a_strict_csp_and_no_store(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_templates_have_no_inline_script_or_handler(path):
    source = (TEMPLATES / path).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", source), "inline event handler"
    assert "hx-on" not in source and "javascript:" not in source
    assert not re.search(r"\sstyle\s*=", source), "inline style attribute"


def test_htmx_is_vendored_and_served(client):
    with client.get("/static/js/htmx-2.0.11.min.js") as response:
        assert response.status_code == 200
        assert b"htmx" in response.data[:200]
