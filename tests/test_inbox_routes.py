"""The inbox page's routes without a browser: what ``/`` answers to whom, the files under
``/_inbox/``, their security headers, the guard, and static checks that the page's scripts
never turn text into markup."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from emulator.inbox.routes import CONTENT_SECURITY_POLICY
from tests.conftest import Emulator, assert_valid

STATIC = resources.files("emulator.inbox").joinpath("static")
SCRIPTS = sorted(item.name for item in STATIC.iterdir() if item.name.endswith(".js"))


async def test_a_browser_gets_the_page_with_a_strict_content_security_policy(
        emulator: Emulator) -> None:
    async with emulator.http.get(emulator.url + "/", headers={
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
        headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert '<script type="module" src="/_inbox/main.js"></script>' in page
    # no inline script or style, no inline handler: the policy would block them anyway
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)
    # no resource from anywhere but the emulator
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


async def test_other_clients_get_a_json_index_at_the_root(emulator: Emulator) -> None:
    async with emulator.http.get(emulator.url + "/") as response:  # aiohttp asks for */*
        assert response.status == 200
        assert response.content_type == "application/json"
        body = await response.json()
    assert_valid("inbox/index", body)


@pytest.mark.parametrize("name", [*SCRIPTS, "style.css", "icon.svg"])
async def test_every_file_of_the_page_is_served_with_its_type(emulator: Emulator,
                                                               name: str) -> None:
    async with emulator.http.get(f"{emulator.url}/_inbox/{name}") as response:
        assert response.status == 200
        body = await response.read()
        expected = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
        assert response.content_type == expected[name.rsplit(".", 1)[1]]
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert body == STATIC.joinpath(name).read_bytes()


@pytest.mark.parametrize("path", ["/_inbox/nope.js", "/_inbox/..%2Froutes.py",
                                  "/_inbox/%2E%2E/__init__.py", "/_inbox/", "/_inbox/index"])
async def test_nothing_but_the_shipped_files_is_served(emulator: Emulator, path: str) -> None:
    async with emulator.http.get(emulator.url + path) as response:
        assert response.status == 404
        assert response.content_type == "application/json"
        assert "error" in await response.json()


@pytest.mark.parametrize("path", ["/", "/_inbox/main.js"])
async def test_the_page_is_refused_under_a_foreign_host_name(emulator: Emulator,
                                                             path: str) -> None:
    async with emulator.http.get(emulator.url + path, headers={
            "Host": "evil.example", "Accept": "text/html"}) as response:
        assert response.status == 403
        assert "Host" in (await response.json())["error"]


def test_every_module_the_page_imports_is_shipped() -> None:
    page = STATIC.joinpath("index.html").read_text(encoding="utf-8")
    wanted = set(re.findall(r'(?:src|href)="/_inbox/([^"]+)"', page))
    for name in SCRIPTS:
        source = STATIC.joinpath(name).read_text(encoding="utf-8")
        wanted |= set(re.findall(r'from "\./([^"]+)"', source))
    shipped = {item.name for item in STATIC.iterdir()}
    assert wanted - shipped == set()
    assert "main.js" in wanted


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_script_of_the_page_can_turn_text_into_markup(name: str) -> None:
    """Every value is rendered with text nodes (``dom.js``); none of the APIs that parse a
    string as HTML or code appears anywhere."""
    source = STATIC.joinpath(name).read_text(encoding="utf-8")
    for api in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                "new Function", "createContextualFragment", "DOMParser", "srcdoc"):
        assert api not in source, f"{name} uses {api}"


async def test_the_vocabulary_lists_each_providers_channels_and_statuses(
        emulator: Emulator) -> None:
    status, body = await emulator.control("GET", "/vocabulary")
    assert status == 200
    telesign, tsg = body["providers"]["telesign"], body["providers"]["tsg"]
    assert {"sms", "whatsapp", "email"} <= set(telesign["channels"])
    assert {290, 203, 200, 510} <= set(telesign["statuses"])
    assert "delivered" in tsg["statuses"] and tsg["channels"] == ["sms"]
