"""Extraction from HTML and CSS: the links a crawler follows and what a browser loads."""

from __future__ import annotations

import itertools

import pytest

from v6pilot.checks.html import (
    Resource,
    absolute_url,
    css_resources,
    general_absolute_url,
    is_html,
    parse_css,
    parse_html,
    parse_srcset,
    plain_absolute_url,
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


BASES = (
    PAGE,
    "http://h.test",
    "http://h.test/",
    "https://H.Test:443/a//b/c?q=1",
    "https://h.test:8443/dir/",
    "http://h.test/a/./b/../c",
    "http://h.test/a;p/b;q",
    "http://h.test/x#frag",
    "HTTP://h.test/upper/",
    "http://[2001:db8::1]:8080/v6/",
    "http://测试网站.test/页/",
    "ftp://files.good.test/dir/",
    "http://h.test:99999/",
)
PLAIN_REFERENCES = (
    "a.html",
    "sub/dir/",
    "/",
    "/p/1",
    "/a//b",
    "/a:b@c",
    "?",
    "?page=2",
    "?a=1;b=2?c",
    "/x?y#z",
    "x#frag ment with spaces\n",
    "//static.good.test/logo.png",
    "http://www.good.test:80/",
    "https://WWW.Good.Test:0443/x",
    "https://www.good.test:8443",
    "http://h.test:/x",
    "http://h.test/a/../b",
    "https://h.test/%7Euser/%zz",
    "http://h.test?q",
)
TRICKY_REFERENCES = (
    *PLAIN_REFERENCES,
    "",
    "#",
    "#top",
    " ",
    "./a",
    "../a",
    "../../../../a",
    "a/./b/../c",
    "a/..",
    ".",
    "..",
    "/.well-known/x",
    "/a/../../b",
    "a//b",
    "a:b",
    "a/b:c",
    "a;p",
    "/a;p?q",
    ";",
    "HTTP://h.test/x",
    "Https:relative",
    "http:relative",
    "http:/one-slash",
    "https:",
    "//",
    "///x",
    "//h.test:99999/",
    "//h.test:123456/",
    "//h.test:8x/",
    "//h.test:" + "9" * 5000 + "/",
    "//user:pw@h.test/",
    "//@h.test/",
    "http://[2001:db8::1]:80/x",
    "http://[2001:DB8::1]/x",
    "http://[broken/",
    "http://h.test]/",
    "http://测试网站.test/页面",
    "http://xn--0zw220abodfoq.test/",
    "http://bad..idna-\u00e9-.test/",
    "/é?ü=1",
    "/a b",
    " /a\n.html ",
    "\t/a\r\n",
    "\x00/a",
    "/a\x00b",
    "\f/a\v",
    "/a%20b?c d",
    '/"quoted"',
    "/<tag>",
    "/a[1]",
    "/a\\b",
    "/{x}|^`",
    "javascript:void(0)",
    "JavaScript:alert(1)",
    "mailto:info@good.test",
    "tel:+86-10-0000",
    "data:image/png;base64,AAAA",
    "ftp://files.good.test/x",
    "1http://x",
    "+x:y",
)


@pytest.mark.parametrize("base", BASES)
def test_absolute_url_gives_what_the_general_path_gives(base: str) -> None:
    for raw in TRICKY_REFERENCES:
        assert absolute_url(base, raw) == general_absolute_url(base, raw), (base, raw)


def test_absolute_url_agrees_on_references_pieced_together() -> None:
    pieces = ("http:", "//", "h.test", ":80", "/", "..", ".", "a", "?", "q;", "#", ":", " ", "é")
    for base in BASES[:6]:
        for count in (1, 2, 3):
            for combination in itertools.product(pieces, repeat=count):
                raw = "".join(combination)
                assert absolute_url(base, raw) == general_absolute_url(base, raw), (base, raw)


@pytest.mark.parametrize("base", BASES[:5])
def test_plain_references_take_the_fast_path_to_the_same_url(base: str) -> None:
    for raw in PLAIN_REFERENCES:
        fast = plain_absolute_url(base, raw)
        assert fast is not None, (base, raw)
        assert fast == general_absolute_url(base, raw), (base, raw)


@pytest.mark.parametrize(
    ("base", "raw"),
    [
        (PAGE, "../a.html"),
        (PAGE, "a b.html"),
        (PAGE, "/é"),
        (PAGE, "a;p"),
        (PAGE, "#top"),
        (PAGE, "mailto:x@good.test"),
        (PAGE, "//user@h.test/"),
        (PAGE, "http://[2001:db8::1]/"),
        ("http://h.test/a/../", "x"),
        ("HTTP://h.test/", "/x"),
        ("http://[2001:db8::1]/", "/x"),
    ],
)
def test_references_needing_urllib_leave_the_fast_path(base: str, raw: str) -> None:
    assert plain_absolute_url(base, raw) is None


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


def test_one_pass_keeps_the_order_and_rules_of_each_kind() -> None:
    body = """<head><base style="color: red"><link rel="preload" href="/late.png"></head>
    <body style="background: url(/body.png)">
    <a style="background: url(/a-style.png)">no href</a><a href="/first">1</a>
    <img src="/one.png" srcset="/two.png 2x, /one.png 1x" style="background: url(/two.png)">
    <noscript style="background: url(/ns-style.png)"><a href="/ns-link"></a><img src="/ns.png">
    <div><link rel="stylesheet" href="/ns.css"></div></noscript>
    <script src="/s.js"></script>
    <svg><a href="/svg-link"></a><style>g { fill: url(/f.svg) }</style></svg>
    <area href="/area"><img src="/late.png"><base href="/b/"><a href="rel">r</a>
    <template><img src="/template.png"><a href="/template"></a></template>
    </body>"""
    assert [u.removeprefix("https://www.good.test") for u in links_of(body)] == [
        "/first",
        "/ns-link",
        "/svg-link",
        "/area",
        "/b/rel",
    ]
    assert [r.url.removeprefix("https://www.good.test") for r in resources_of(body)] == [
        "/late.png",
        "/s.js",
        "/one.png",
        "/two.png",
        "/body.png",
        "/a-style.png",
        "/f.svg",
    ]


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
