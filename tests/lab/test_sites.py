"""The lab sites' content contract, which the scanner's checks and the ground truth rely on."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from v6pilot.errors import LabError
from v6pilot.lab.catalogue import Catalogue, Endpoint, Scenario
from v6pilot.lab.sites import CHUNK, MIB, Reply, SiteRenderer, StreamedBody, site_names

SECURITY_HEADERS = {
    "Server": "v6pilot-lab",
    "Strict-Transport-Security": "max-age=31536000",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
}


def _endpoint(scenario: Scenario, label: str, family: int) -> Endpoint:
    fqdn = f"{label}.{scenario.zone.name}"
    host = next(h for h in scenario.hosts() if h.fqdn == fqdn)
    endpoint = host.v4 if family == 4 else host.v6
    assert endpoint is not None
    return endpoint


def _get(
    catalogue: Catalogue,
    scenario_id: str,
    path: str,
    *,
    label: str = "www",
    family: int = 4,
    scheme: str = "https",
    host: str | None = None,
) -> Reply:
    """What `scheme://<label>.<zone><path>` returns over the host's IPv4 or IPv6 endpoint."""
    scenario = catalogue.scenario(scenario_id)
    name = f"{label}.{scenario.zone.name}" if host is None else host
    return SiteRenderer(scenario).reply(name, scheme, path, _endpoint(scenario, label, family))


def _body(reply: Reply) -> bytes:
    assert isinstance(reply.body, bytes)
    return reply.body


def _tree(reply: Reply) -> HTMLParser:
    charset = (reply.header("Content-Type") or "").split("charset=")[1]
    return HTMLParser(_body(reply).decode(charset))


def _hrefs(reply: Reply) -> list[str]:
    return [a.attributes["href"] or "" for a in _tree(reply).css("a[href]")]


def test_http_requests_redirect_to_https_on_the_same_host_and_path(catalogue: Catalogue) -> None:
    scenario = catalogue.scenario("good")
    endpoint = _endpoint(scenario, "www", 6)
    reply = SiteRenderer(scenario).reply("www.good.test", "http", "/p/www-1.html", endpoint, "a=1")
    assert reply.status == 301
    assert reply.header("Location") == "https://www.good.test/p/www-1.html?a=1"


def test_no_https_redirect_when_the_site_disables_it(catalogue: Catalogue) -> None:
    reply = _get(catalogue, "port443-v4only", "/", scheme="http")
    assert reply.status == 200
    assert reply.header("Location") is None


def test_redirect_to_sends_www_home_to_the_other_host(catalogue: Catalogue) -> None:
    www = _get(catalogue, "redirect-v4", "/", scheme="http")
    portal = _get(catalogue, "redirect-v4", "/", label="portal", scheme="http")
    assert (www.status, www.header("Location")) == (301, "http://portal.redirect-v4.test/")
    assert portal.status == 200
    assert _tree(portal).css_first("title") is not None
    assert _get(catalogue, "redirect-v4", "/p/www-0.html", scheme="http").status == 200


def test_redirect_loop_never_ends(catalogue: Catalogue) -> None:
    hops = {path: _get(catalogue, "redirect-loop", path) for path in ("/", "/loop/a", "/loop/b")}
    assert {p: (r.status, r.header("Location")) for p, r in hops.items()} == {
        "/": (302, "/loop/a"),
        "/loop/a": (302, "/loop/b"),
        "/loop/b": (302, "/loop/a"),
    }
    assert _get(catalogue, "good", "/loop/a").status == 404


def test_links_l2_are_relative_on_the_same_host_and_absolute_on_another(
    catalogue: Catalogue,
) -> None:
    hrefs = _hrefs(_get(catalogue, "links-l2", "/"))
    assert hrefs == [f"/p/www-{i}.html" for i in range(7)] + [
        f"http://old.links-l2.test/p/old-{i}.html" for i in range(3)
    ]
    from_old = _hrefs(_get(catalogue, "links-l2", "/", label="old"))
    assert from_old[0] == "http://www.links-l2.test/p/www-0.html"
    assert from_old[-1] == "/p/old-2.html"


def test_links_l3_on_second_level_pages(catalogue: Catalogue) -> None:
    l2 = _get(catalogue, "links-l3", "/p/www-0.html")
    assert l2.status == 200
    assert _hrefs(l2) == [
        "/q/www-0-www-0.html",
        "/q/www-0-www-1.html",
        "http://old.links-l3.test/q/www-0-old-0.html",
        "http://old.links-l3.test/q/www-0-old-1.html",
    ]
    l3 = _get(catalogue, "links-l3", "/q/www-0-old-1.html", label="old")
    assert l3.status == 200
    assert _hrefs(l3) == []


def test_no_page_links_to_the_homepage(catalogue: Catalogue) -> None:
    checked = 0
    for scenario in catalogue.scenarios:
        renderer = SiteRenderer(scenario)
        for host in scenario.hosts():
            home = {"/", f"http://{host.fqdn}/", f"https://{host.fqdn}/"}
            for endpoint in host.endpoints:
                for path in ("/", "/p/www-0.html", "/q/x.html", "/maze/1.html"):
                    reply = renderer.reply(host.fqdn, "https", path, endpoint)
                    if reply.status == 200 and isinstance(reply.body, bytes):
                        assert not home & set(_hrefs(reply)), (scenario.id, path)
                        checked += 1
    assert checked > 200


def test_subresources_from_each_host(catalogue: Catalogue) -> None:
    tree = _tree(_get(catalogue, "subres-v4", "/"))
    urls = {
        (tag, attr): [n.attributes[attr] for n in tree.css(tag)]
        for tag, attr in (
            ("script[src]", "src"),
            ("link[rel=stylesheet]", "href"),
            ("link[rel=icon]", "href"),
            ("img", "src"),
            ("img", "srcset"),
            ("iframe", "src"),
            ("video source", "src"),
        )
    }
    static = "//static.subres-v4.test/r/"
    assert urls == {
        ("script[src]", "src"): ["/r/app.js?h=www", f"{static}app.js?h=static"],
        ("link[rel=stylesheet]", "href"): ["/r/site.css?h=www", f"{static}site.css?h=static"],
        ("link[rel=icon]", "href"): ["/r/favicon.ico?h=www", f"{static}favicon.ico?h=static"],
        ("img", "src"): ["/r/logo.png?h=www", f"{static}logo.png?h=static"],
        ("img", "srcset"): ["/r/logo@2x.png?h=www 2x", f"{static}logo@2x.png?h=static 2x"],
        ("iframe", "src"): ["/r/frame.html?h=www", f"{static}frame.html?h=static"],
        ("video source", "src"): ["/r/clip.mp4?h=www", f"{static}clip.mp4?h=static"],
    }
    assert all("url(" not in (style.text() or "") for style in tree.css("style"))


def test_stylesheet_pulls_font_and_background_from_its_own_host(catalogue: Catalogue) -> None:
    css = _get(catalogue, "subres-v4", "/r/site.css", label="static")
    assert css.header("Content-Type") == "text/css; charset=utf-8"
    assert re.findall(r"url\(([^)]*)\)", _body(css).decode()) == ["/r/font.woff2", "/r/bg.png"]
    font = _get(catalogue, "subres-v4", "/r/font.woff2", label="static")
    assert (font.header("Content-Type"), _body(font)[:4]) == ("font/woff2", b"wOF2")


@pytest.mark.parametrize("name", ["logo.png", "logo@2x.png", "bg.png", "banner.png"])
def test_images_are_real_pngs(catalogue: Catalogue, name: str) -> None:
    reply = _get(catalogue, "good", f"/r/{name}")
    png = _body(reply)
    assert reply.header("Content-Type") == "image/png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    idat_length = struct.unpack(">I", png[33:37])[0]
    assert png[37:41] == b"IDAT"
    rows = zlib.decompress(png[41 : 41 + idat_length])
    assert len(rows) == height * (1 + 3 * width)
    assert png.endswith(b"IEND\xaeB`\x82")


def test_other_resources_have_their_types(catalogue: Catalogue) -> None:
    types = {
        name: (reply.header("Content-Type"), _body(reply)[:8])
        for name in ("favicon.ico", "clip.mp4", "app.js", "frame.html")
        for reply in [_get(catalogue, "good", f"/r/{name}")]
    }
    assert types["favicon.ico"] == ("image/x-icon", b"\x00\x00\x01\x00\x01\x00\x10\x10")
    assert types["clip.mp4"][0] == "video/mp4"
    assert types["clip.mp4"][1][4:8] == b"ftyp"
    assert types["app.js"][0] == "text/javascript; charset=utf-8"
    assert types["frame.html"][0] == "text/html; charset=utf-8"
    assert _get(catalogue, "good", "/r/missing.js").status == 404


def test_ipv4_literal_banner_is_served_by_www(catalogue: Catalogue) -> None:
    scenario = catalogue.scenario("v4-literal")
    address = _endpoint(scenario, "www", 4).address
    images = [img.attributes["src"] for img in _tree(_get(catalogue, "v4-literal", "/")).css("img")]
    assert f"http://{address}/r/banner.png" in images
    banner = _get(catalogue, "v4-literal", "/r/banner.png", host=address)
    assert (banner.status, banner.header("Content-Type")) == (200, "image/png")
    good_images = [
        img.attributes["src"] or "" for img in _tree(_get(catalogue, "good", "/")).css("img")
    ]
    assert good_images and all("banner" not in src for src in good_images)


def test_gbk_pages_are_encoded_in_gbk(catalogue: Catalogue) -> None:
    for path in ("/", "/p/www-0.html", "/q/a.html", "/nope"):
        reply = _get(catalogue, "gbk", path)
        assert reply.header("Content-Type") == "text/html; charset=gbk"
        text = _body(reply).decode("gbk")
        assert '<meta charset="gbk">' in text
        assert "示范区" in text
        with pytest.raises(UnicodeDecodeError):
            _body(reply).decode("utf-8")
    assert '<meta charset="utf-8">' in _body(_get(catalogue, "good", "/")).decode("utf-8")


def test_dynamic_parts_change_per_request_and_the_rest_does_not(catalogue: Catalogue) -> None:
    first, second = (_body(_get(catalogue, "nonces", "/")).decode() for _ in range(2))
    patterns = {
        "csrf": r'<meta name="csrf-token" content="([0-9a-f]+)">',
        "viewstate": r'name="__VIEWSTATE" value="([A-Za-z0-9+/=]+)"',
        "nonce": r'<script nonce="([\w-]+)">window.__renderId = "[0-9a-f]+";',
        "render": r"<!-- rendered in ([\d.]+) ms -->",
    }
    for name, pattern in patterns.items():
        values = [re.search(pattern, page) for page in (first, second)]
        assert values[0] and values[1], name
        assert values[0][1] != values[1][1], name
    assert len(re.search(patterns["viewstate"], first)[1]) == 300  # type: ignore[index]
    assert re.search(r'<span class="updated">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</span>', first)

    def static(page: str) -> str:
        for pattern in (*patterns.values(), r'<span class="updated">(.*?)</span>'):
            page = re.sub(pattern, "", page)
        return page

    assert first != second
    assert static(first) == static(second)
    assert _get(catalogue, "nonces", "/p/www-0.html") == _get(catalogue, "nonces", "/p/www-0.html")
    good = SiteRenderer(catalogue.scenario("good"))
    endpoint = _endpoint(catalogue.scenario("good"), "www", 4)
    assert good.reply("www.good.test", "https", "/", endpoint) is good.reply(
        "www.good.test", "https", "/", endpoint
    )


def test_maze_pages_each_lead_to_twenty_new_pages(catalogue: Catalogue) -> None:
    home = _hrefs(_get(catalogue, "link-maze", "/"))
    assert home == [f"/maze/{k}.html" for k in range(20)]
    deeper = _hrefs(_get(catalogue, "link-maze", "/maze/7.html"))
    assert deeper == [f"/maze/7-{j}.html" for j in range(20)]
    deepest = _hrefs(_get(catalogue, "link-maze", "/maze/7-3-19.html"))
    assert deepest == [f"/maze/7-3-19-{j}.html" for j in range(20)]
    assert not set(deeper) & set(home)
    assert _get(catalogue, "good", "/maze/7.html").status == 404


def test_different_content_endpoint_serves_another_homepage(catalogue: Catalogue) -> None:
    v4 = _tree(_get(catalogue, "v6-diff-content", "/"))
    v6_reply = _get(catalogue, "v6-diff-content", "/", family=6)
    v6 = _tree(v6_reply)
    assert v6_reply.status == 200
    titles = [tree.css_first("title") for tree in (v4, v6)]
    assert titles[0] is not None and titles[1] is not None
    assert titles[0].text() != titles[1].text()
    assert "IPv6" in titles[1].text()
    assert v6.css("a") == []
    assert [n.attributes["href"] for n in v6.css("link")] == ["/r/site.css"]
    assert len(v4.css("a")) == 4
    same_path = [
        _body(_get(catalogue, "v6-diff-content", "/p/www-0.html", family=f)) for f in (4, 6)
    ]
    assert same_path[0] == same_path[1]


def test_status_override_answers_everything_on_that_endpoint(catalogue: Catalogue) -> None:
    for scheme in ("http", "https"):
        for path in ("/", "/r/site.css", "/p/www-0.html"):
            reply = _get(catalogue, "v6-error-status", path, family=6, scheme=scheme)
            assert reply.status == 503
            assert reply.header("Location") is None
            assert "503 Service Unavailable" in _body(reply).decode()
    assert _get(catalogue, "v6-error-status", "/").status == 200


def test_every_reply_carries_the_security_headers(catalogue: Catalogue) -> None:
    for path in ("/", "/r/logo.png", "/nope"):
        reply = _get(catalogue, "headers-v6", path)
        assert {k: reply.header(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS
        assert reply.header("Content-Security-Policy") == (
            "default-src 'self' *.headers-v6.test; img-src * data:"
        )


def test_strip_headers_leaves_them_out(catalogue: Catalogue) -> None:
    for scheme in ("http", "https"):
        reply = _get(catalogue, "headers-v6", "/", family=6, scheme=scheme)
        assert reply.header("Strict-Transport-Security") is None
        assert reply.header("Content-Security-Policy") is None
        assert reply.header("X-Frame-Options") == "SAMEORIGIN"


def test_unknown_host_is_served_as_the_owner_of_the_address(catalogue: Catalogue) -> None:
    as_old = _hrefs(_get(catalogue, "links-l2", "/", label="old", host="unknown.example"))
    assert as_old[-1] == "/p/old-2.html"
    as_www = _hrefs(_get(catalogue, "links-l2", "/", host=""))
    assert as_www[0] == "/p/www-0.html"
    redirect = _get(catalogue, "links-l2", "/x", scheme="http", host="")
    assert redirect.header("Location") == "https://www.links-l2.test/x"


def test_cname_alias_and_apex_are_served(catalogue: Catalogue) -> None:
    scenario = catalogue.scenario("cname-v4ns")
    assert set(site_names(scenario)) == {
        "cname-v4ns.test",
        "www.cname-v4ns.test",
        "mail.cname-v4ns.test",
        "cdn-v4ns.test",
        "edge.cdn-v4ns.test",
    }
    renderer = SiteRenderer(scenario)
    edge = scenario.zones[1].host("edge").v6
    assert edge is not None
    alias = renderer.reply("www.cname-v4ns.test", "https", "/", edge)
    assert alias.status == 200
    assert _hrefs(alias)[0] == "/p/www-0.html"
    apex = renderer.reply("cname-v4ns.test", "https", "/", edge)
    assert _hrefs(apex)[0] == "http://www.cname-v4ns.test/p/www-0.html"


def test_foreign_endpoint_is_refused(catalogue: Catalogue) -> None:
    renderer = SiteRenderer(catalogue.scenario("good"))
    stranger = _endpoint(catalogue.scenario("gbk"), "www", 4)
    with pytest.raises(LabError):
        renderer.reply("nobody.test", "https", "/", stranger)


def test_huge_body_is_streamed_in_exact_chunks(catalogue: Catalogue) -> None:
    reply = _get(catalogue, "huge-body", "/")
    assert isinstance(reply.body, StreamedBody)
    assert reply.size == 200 * MIB
    chunks = reply.body.chunks()
    first = next(chunks)
    head = first[: 20 * 1024].decode()
    assert head.count("<a href=") == 4
    assert "/r/app.js?h=www" in head
    sizes = {len(first)} | {len(c) for c in chunks}
    assert sizes == {CHUNK}
    last = list(reply.body.chunks())[-1]
    assert last.endswith(b"-->\n</body>\n</html>\n")
    tree = HTMLParser(first.decode() + last.decode())
    assert len(tree.css("a")) == 4


def test_every_scenario_renders_every_page(catalogue: Catalogue) -> None:
    statuses = set()
    for scenario in catalogue.scenarios:
        renderer = SiteRenderer(scenario)
        for name in site_names(scenario):
            for host in scenario.hosts():
                for endpoint in host.endpoints:
                    for path in ("/", "/p/x-1.html", "/q/x-1-y-2.html", "/r/frame.html"):
                        statuses.add(renderer.reply(name, "https", path, endpoint).status)
    assert statuses == {200, 301, 302, 503}
