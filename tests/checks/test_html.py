"""Extraction from HTML and CSS: the links a crawler follows and what a browser loads."""

from __future__ import annotations

import pytest

from v6pilot.checks.html import (
    Resource,
    absolute_url,
    css_resources,
    is_html,
    parse_css,
    parse_html,
    parse_srcset,
)

PAGE = "https://www.good.test/news/index.html"
HTML_UTF8 = "text/html; charset=utf-8"


def links_of(body: str, url: str = PAGE) -> tuple[str, ...]:
    return parse_html(body.encode(), url, HTML_UTF8).links


def resources_of(body: str, url: str = PAGE) -> tuple[Resource, ...]:
    return parse_html(body.encode(), url, HTML_UTF8).resources


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a.html", "https://www.good.test/news/a.html"),
        ("/a.html", "https://www.good.test/a.html"),
        ("../a.html?x=1#top", "https://www.good.test/a.html?x=1"),
        ("//static.good.test/logo.png", "https://static.good.test/logo.png"),
        ("HTTP://WWW.Good.Test:80/", "http://www.good.test/"),
        ("https://www.good.test:8443", "https://www.good.test:8443/"),
        (" /a\n.html ", "https://www.good.test/a.html"),
        ("http://测试网站.test/页面", "http://xn--0zw220abodfoq.test/%E9%A1%B5%E9%9D%A2"),
        ("http://[2001:db8::1]:80/x", "http://[2001:db8::1]/x"),
        ("http://203.0.113.5/x.png", "http://203.0.113.5/x.png"),
    ],
)
def test_absolute_url_resolves_and_normalises(raw: str, expected: str) -> None:
    assert absolute_url(PAGE, raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:void(0)",
        "mailto:info@good.test",
        "tel:+86-10-0000",
        "data:image/png;base64,AAAA",
        "ftp://files.good.test/x",
        "#section",
        "",
        "http://[broken/",
    ],
)
def test_absolute_url_drops_what_cannot_be_fetched(raw: str) -> None:
    assert absolute_url(PAGE, raw) is None


def test_links_are_a_and_area_hrefs_deduplicated_in_order() -> None:
    body = """
    <a href="/b.html">b</a><a href="a.html">a</a><a href="/b.html#again">b</a>
    <map><area href="/map.html"></map><a>no href</a><a href="mailto:x@good.test">m</a>
    <link rel="stylesheet" href="/not-a-link.css">
    """
    assert links_of(body) == (
        "https://www.good.test/b.html",
        "https://www.good.test/news/a.html",
        "https://www.good.test/map.html",
    )


def test_base_href_applies_to_links_and_resources() -> None:
    body = """<head><base href="https://cdn.good.test/v2/"></head>
    <a href="page.html">p</a><img src="img/x.png">"""
    assert links_of(body) == ("https://cdn.good.test/v2/page.html",)
    assert resources_of(body) == (Resource("https://cdn.good.test/v2/img/x.png"),)


def test_relative_base_href_resolves_against_the_page() -> None:
    assert links_of('<base href="/root/"><a href="x">x</a>') == ("https://www.good.test/root/x",)


def test_every_kind_of_sub_resource_is_found() -> None:
    body = """<html><head>
    <link rel="stylesheet" href="/s.css"><link rel="shortcut icon" href="/f.ico">
    <link rel="preload" href="/font.woff2" as="font"><link rel="modulepreload" href="/m.js">
    <link rel="apple-touch-icon" href="/t.png"><link rel="canonical" href="/canon.html">
    <style>@import "/imported.css"; .x { background: url('/bg.png') }</style>
    <script src="/app.js"></script><script>var inline = 1;</script>
    </head><body>
    <img src="/i.png" srcset="/i-2x.png 2x, /i-3x.png 3x">
    <picture><source srcset="/p.webp 1x, /p@2x.webp 2x"><img src="/p.png"></picture>
    <video src="/v.mp4" poster="/poster.jpg"><source src="/v.webm"></video>
    <audio src="/a.mp3"></audio><iframe src="/frame.html"></iframe>
    <embed src="/e.swf"><object data="/o.pdf"></object>
    <div style="background-image: url(&quot;/div.png&quot;)"></div>
    <noscript><img src="/noscript.png"></noscript>
    </body></html>"""
    found = {r.url.removeprefix("https://www.good.test"): r.stylesheet for r in resources_of(body)}
    assert found == {
        "/s.css": True,
        "/imported.css": True,
        "/f.ico": False,
        "/font.woff2": False,
        "/m.js": False,
        "/t.png": False,
        "/bg.png": False,
        "/app.js": False,
        "/i.png": False,
        "/i-2x.png": False,
        "/i-3x.png": False,
        "/p.webp": False,
        "/p@2x.webp": False,
        "/p.png": False,
        "/v.mp4": False,
        "/poster.jpg": False,
        "/v.webm": False,
        "/a.mp3": False,
        "/frame.html": False,
        "/e.swf": False,
        "/o.pdf": False,
        "/div.png": False,
    }


def test_scheme_relative_and_ipv4_literal_resources_keep_their_hosts() -> None:
    body = '<img src="//img.cdn.example/a.png"><img src="http://203.0.113.5/b.png">'
    assert [r.url for r in resources_of(body, "http://www.good.test/")] == [
        "http://img.cdn.example/a.png",
        "http://203.0.113.5/b.png",
    ]


def test_resources_are_deduplicated_and_a_stylesheet_stays_one() -> None:
    body = '<img src="/x.css"><link rel="stylesheet" href="/x.css"><img src="/x.css#frag">'
    assert resources_of(body) == (Resource("https://www.good.test/x.css", stylesheet=True),)


@pytest.mark.parametrize(
    ("srcset", "expected"),
    [
        ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
        ("a.png", ["a.png"]),
        ("a.png 480w,b.png 800w", ["a.png", "b.png"]),
        ("  a.png,  b.png 2x ,", ["a.png", "b.png"]),
        ("data:image/png;base64,AA,BB 1x, c.png 2x", ["data:image/png;base64,AA,BB", "c.png"]),
        ("", []),
    ],
)
def test_parse_srcset(srcset: str, expected: list[str]) -> None:
    assert parse_srcset(srcset) == expected


def test_css_urls_and_imports_resolve_against_the_stylesheet() -> None:
    css = b"""@charset "utf-8";
    @import url("print.css") print;
    @import 'theme.css';
    /* url(/commented-out.png) */
    @font-face { font-family: X; src: url(../fonts/x.woff2) format("woff2"), local(X); }
    body { background: url( "bg.png" ) }
    .icon { background: URL(//static.good.test/i.svg) }
    .filter { filter: url(#blur) }
    .inline { background: url(data:image/gif;base64,R0lGOD) }
    """
    found = parse_css(css, "https://www.good.test/css/site.css", "text/css")
    assert found == (
        Resource("https://www.good.test/css/print.css", stylesheet=True),
        Resource("https://www.good.test/css/theme.css", stylesheet=True),
        Resource("https://www.good.test/fonts/x.woff2"),
        Resource("https://www.good.test/css/bg.png"),
        Resource("https://static.good.test/i.svg"),
    )


def test_css_resources_of_empty_css_are_none() -> None:
    assert css_resources("body { color: red }", PAGE) == ()


def test_gbk_page_is_decoded_by_its_declared_charset() -> None:
    body = '<meta charset="gbk"><a href="/栏目/首页.html">栏目</a>'.encode("gbk")
    links = parse_html(body, "http://www.good.test/", "text/html; charset=gbk").links
    assert links == ("http://www.good.test/%E6%A0%8F%E7%9B%AE/%E9%A6%96%E9%A1%B5.html",)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=utf-8", True),
        ("application/xhtml+xml", True),
        ("", True),
        ("application/pdf", False),
        ("image/png", False),
    ],
)
def test_is_html(content_type: str, expected: bool) -> None:
    assert is_html(content_type) is expected
