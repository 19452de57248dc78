# ruff: noqa: RUF001 -- the pages' Chinese text uses full-width punctuation on purpose
"""Charset detection for HTML bodies: header, BOM, <meta>, Chinese encodings and fallbacks."""

from __future__ import annotations

import codecs

import pytest

from v6pilot.checks.decode import codec_for, declared_codec, decode_html

TEXT = "示范区人民政府门户网站：政务公开、政务服务。IPv6 ready"


def page(charset: str) -> str:
    return f'<html><head><meta charset="{charset}"></head><body>{TEXT}</body></html>'


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("x-gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("Big5", "big5hkscs"),
        ("shift_jis", "cp932"),
        ("iso-8859-1", "cp1252"),
        ("UTF-8", "utf-8"),
        ('"utf-8"', "utf-8"),
        ("no-such-charset", None),
    ],
)
def test_labels_map_to_the_codec_browsers_use(label: str, codec: str | None) -> None:
    assert codec_for(label) == codec


def test_header_charset_decodes_gbk() -> None:
    body = f"<html><body>{TEXT}</body></html>".encode("gbk")
    assert TEXT in decode_html(body, "text/html; charset=GBK")


def test_header_charset_wins_over_meta() -> None:
    body = page("utf-8").encode("gbk")
    assert declared_codec(body, "text/html; charset=gb2312") == "gb18030"
    assert TEXT in decode_html(body, "text/html; charset=gb2312")


def test_meta_charset_is_used_without_header_charset() -> None:
    body = page("gb2312").encode("gb18030")
    assert TEXT in decode_html(body, "text/html")


def test_meta_http_equiv_is_used() -> None:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5">'
        "</head><body>政府網站 IPv6</body></html>"
    )
    assert "政府網站 IPv6" in decode_html(html.encode("big5"), "")


def test_bom_wins_over_a_wrong_header() -> None:
    body = codecs.BOM_UTF8 + page("gbk").encode("utf-8")
    text = decode_html(body, "text/html; charset=gbk")
    assert TEXT in text
    assert not text.startswith("\ufeff")


def test_utf16_bom() -> None:
    body = codecs.BOM_UTF16_LE + page("utf-16").encode("utf-16-le")
    assert TEXT in decode_html(body, "")


def test_meta_claiming_utf16_means_utf8() -> None:
    assert declared_codec(page("utf-16").encode("utf-8"), "") == "utf-8"


def test_undeclared_utf8() -> None:
    assert TEXT in decode_html(f"<p>{TEXT}</p>".encode(), "")


def test_undeclared_gbk_falls_back_to_gb18030() -> None:
    assert TEXT in decode_html(f"<p>{TEXT}</p>".encode("gbk"), "text/html")


def test_undeclared_utf8_cut_mid_character_keeps_the_rest() -> None:
    body = "<p>政府网站".encode()[:-1]  # the cap cut the last character's final byte
    assert decode_html(body, "") == "<p>政府网\ufffd"


def test_unknown_header_charset_falls_through_to_meta() -> None:
    body = page("gbk").encode("gbk")
    assert TEXT in decode_html(body, "text/html; charset=x-unknown-thing")


def test_bytes_invalid_in_every_candidate_never_raise() -> None:
    text = decode_html(b"<p>\xff\xfe\xfd caf\xe9 \x81</p>", "")
    assert text.startswith("<p>")
    assert "caf" in text


def test_declared_charset_with_bad_bytes_is_replaced() -> None:
    assert "\ufffd" in decode_html(b"<p>ok \xff</p>", "text/html; charset=utf-8")
