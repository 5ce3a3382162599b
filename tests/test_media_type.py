"""Our reading of a request's Content-Type gives what aiohttp's ``request.content_type`` does,
for the values clients send and for odd ones."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from emulator.media_type import DEFAULT, of_header

VALUES = [
    "application/x-www-form-urlencoded", "application/json", "application/json; charset=utf-8",
    "Application/JSON", "  text/plain ;charset=UTF-8", "multipart/form-data; boundary=xyz",
    "application/vnd.api+json", "", " ", "json", "a/b/c", "/", ";", "text/", "text/plain;",
    'text/plain; name="a;b"', "application/*", "*/*", "x", "text/html, application/json",
    "/(", "text/plain (a comment)", "téxt/plain", "text/plain\t", 'text/"plain"',
]


def aiohttps(value: str) -> str:
    return make_mocked_request("POST", "/", headers=CIMultiDict({"Content-Type": value})
                               ).content_type


@pytest.mark.parametrize("value", VALUES)
def test_a_content_type_reads_as_aiohttp_reads_it(value: str) -> None:
    assert of_header(value) == aiohttps(value)


@given(st.text(alphabet=st.characters(min_codepoint=0x09, max_codepoint=0x7F), max_size=40)
       | st.text(alphabet="aA/;= +-.*(\"tx", max_size=20))
def test_any_printable_content_type_reads_as_aiohttp_reads_it(value: str) -> None:
    assert of_header(value) == aiohttps(value)


def test_no_content_type_is_an_octet_stream() -> None:
    assert of_header(None) == DEFAULT == make_mocked_request("POST", "/").content_type
