"""Link depth (indicators 6 and 7) and sub-resources over IPv6, against a scripted network."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest

from v6pilot.checks import links
from v6pilot.checks.context import ScanOptions, ScanShared, Target, TargetContext
from v6pilot.checks.html import Document, absolute_url
from v6pilot.checks.result import CheckResult, Status
from v6pilot.net.mock import MockNetwork
from v6pilot.net.types import HttpResponse

WWW = "www.good.test"
HOME = f"http://{WWW}/"
WWW_V4, WWW_V6 = "192.0.2.10", "2001:db8::10"
OLD_V4 = "192.0.2.20"
HTML = {"Content-Type": "text/html; charset=utf-8"}
CSS = {"Content-Type": "text/css; charset=utf-8"}
OPTIONS = ScanOptions(profile="full", allow_private=True)


def site(homepage: str = "", net: MockNetwork | None = None) -> MockNetwork:
    """www.good.test, dual-stack, serving `homepage` at / over both families."""
    net = net or MockNetwork()
    net.add_host(WWW, v4=[WWW_V4], v6=[WWW_V6])
    net.add_host("old.good.test", v4=[OLD_V4])
    for address in (WWW_V4, WWW_V6):
        net.add_page(HOME, address, body=homepage, headers=HTML)
    return net


def page(*hrefs: str) -> str:
    return "<html><body>" + "".join(f'<a href="{h}">x</a>' for h in hrefs) + "</body></html>"


async def context(
    net: MockNetwork,
    *,
    homepage: Status = Status.PASS,
    options: ScanOptions = OPTIONS,
    shared: ScanShared | None = None,
) -> TargetContext:
    """A target context whose web.homepage_v6 verdict is already decided as `homepage`."""
    ctx = TargetContext(Target(WWW, WWW, HOME), shared or ScanShared(net, options))
    verdict = CheckResult(homepage, "web.homepage_v6.test")

    async def decided() -> CheckResult:
        return verdict

    await ctx.once(("check", "web.homepage_v6"), decided)
    return ctx


def fetched_urls(net: MockNetwork) -> list[str]:
    return [c[2] for c in net.calls if c[0] == "fetch"]


def lookups(net: MockNetwork, host: str, rdtype: str) -> int:
    return sum(1 for c in net.calls if c == ("resolve", host, rdtype))


# web.links_l2


async def test_l2_three_of_ten_links_on_an_ipv4_only_host_warns() -> None:
    hrefs = [f"/p/www-{i}.html" for i in range(7)] + [
        f"http://old.good.test/p/old-{i}.html" for i in range(3)
    ]
    net = site(page(*hrefs, "/", "#top", "mailto:a@good.test", "http://other.example/x"))
    for i in range(7):
        net.add_page(f"http://{WWW}/p/www-{i}.html", WWW_V6, body=page(), headers=HTML)

    result = await links.links_l2(await context(net))

    assert result.status is Status.WARN
    assert result.value["total"] == 10
    assert result.value["ok"] == 7
    assert result.value["rate"] == 0.7
    assert result.value["capped"] is False
    failed = result.value["failed"]
    assert [f["url"] for f in failed] == [f"http://old.good.test/p/old-{i}.html" for i in range(3)]
    assert all("old.good.test has no usable AAAA" in f["reason"] for f in failed)
    assert "old.good.test" in result.message and "70%" in result.message
    assert "http://other.example/x" not in fetched_urls(net)


async def test_l2_all_links_loading_passes_and_follows_redirects_over_ipv6() -> None:
    net = site(page("/a.html", "/b.html"))
    net.add_page(f"http://{WWW}/a.html", WWW_V6, 301, headers={"Location": "/a/"})
    net.add_page(f"http://{WWW}/a/", WWW_V6, body=page(), headers=HTML)
    net.add_page(f"http://{WWW}/b.html", WWW_V6, body=page(), headers=HTML)

    result = await links.links_l2(await context(net))

    assert result.status is Status.PASS
    assert (result.value["total"], result.value["ok"], result.value["rate"]) == (2, 2, 1.0)
    assert f"http://{WWW}/a/" in fetched_urls(net)
    assert set(net.reused) == {f"http://{WWW}/{p}" for p in ("a.html", "a/", "b.html")}


async def test_l2_reasons_name_status_and_refused_endpoint() -> None:
    net = site(page("/missing.html", "/refused.html", "/gone.html"))
    net.add_page(f"http://{WWW}/missing.html", WWW_V6, 404, headers=HTML)
    net.add_page(
        f"http://{WWW}/gone.html", WWW_V6, 302, headers={"Location": "http://old.good.test/"}
    )

    result = await links.links_l2(await context(net))

    assert result.status is Status.FAIL
    reasons = {f["url"]: f["reason"] for f in result.value["failed"]}
    assert reasons[f"http://{WWW}/missing.html"] == "HTTP 404"
    assert "[2001:db8::10]:80" in reasons[f"http://{WWW}/refused.html"]
    assert "refused" in reasons[f"http://{WWW}/refused.html"]
    assert reasons[f"http://{WWW}/gone.html"].startswith("redirected to http://old.good.test/:")


async def test_l2_is_capped_and_says_so() -> None:
    hrefs = [f"/p/{i}.html" for i in range(30)]
    net = site(page(*hrefs))
    for href in hrefs:
        net.add_page(f"http://{WWW}{href}", WWW_V6, body=page(), headers=HTML)

    result = await links.links_l2(await context(net, options=replace(OPTIONS, max_links_l2=12)))

    assert result.value["total"] == 12
    assert result.value["capped"] is True
    assert len([u for u in fetched_urls(net) if "/p/" in u]) == 12


async def test_l2_without_internal_links_is_info_and_l3_skipped() -> None:
    net = site(page("http://elsewhere.example/", "/", "javascript:go()"))
    ctx = await context(net)

    assert (await links.links_l2(ctx)).status is Status.INFO
    assert (await links.links_l3(ctx)).status is Status.SKIPPED


async def test_everything_is_skipped_when_the_homepage_failed_over_ipv6() -> None:
    net = site(page("/a.html"))
    ctx = await context(net, homepage=Status.FAIL)

    l2 = await links.links_l2(ctx)
    assert l2.status is Status.SKIPPED
    assert "fail" in l2.message
    assert (await links.links_l3(ctx)).status is Status.SKIPPED
    assert (await links.subresources_v6(ctx)).status is Status.SKIPPED
    assert fetched_urls(net) == []


# web.links_l3


async def test_l3_half_ipv4_only_warns_and_reuses_the_l2_pages() -> None:
    l2 = [f"/p/www-{i}.html" for i in range(4)]
    net = site(page(*l2))
    for i, href in enumerate(l2):
        l3 = [f"/q/{i}-www-{j}.html" for j in range(2)]
        l3 += [f"http://old.good.test/q/{i}-old-{j}.html" for j in range(2)]
        # links back to the homepage and to an L2 page are not third-level links
        net.add_page(f"http://{WWW}{href}", WWW_V6, body=page(*l3, "/", l2[0]), headers=HTML)
        for j in range(2):
            net.add_page(f"http://{WWW}/q/{i}-www-{j}.html", WWW_V6, body=page(), headers=HTML)
    ctx = await context(net)

    assert (await links.links_l2(ctx)).status is Status.PASS
    result = await links.links_l3(ctx)

    assert result.status is Status.WARN
    assert (result.value["total"], result.value["ok"], result.value["rate"]) == (16, 8, 0.5)
    assert all("old.good.test" in f["reason"] for f in result.value["failed"])
    for href in l2:
        assert fetched_urls(net).count(f"http://{WWW}{href}") == 1


async def test_l3_runs_the_second_level_itself_when_l2_did_not_run_first() -> None:
    net = site(page("/a.html"))
    net.add_page(f"http://{WWW}/a.html", WWW_V6, body=page("/deeper.html"), headers=HTML)
    net.add_page(f"http://{WWW}/deeper.html", WWW_V6, body=page(), headers=HTML)

    result = await links.links_l3(await context(net))

    assert result.status is Status.PASS
    assert result.value["total"] == 1


async def test_l3_is_skipped_when_no_l2_page_loaded() -> None:
    net = site(page("http://old.good.test/a.html"))

    ctx = await context(net)
    assert (await links.links_l2(ctx)).status is Status.FAIL
    result = await links.links_l3(ctx)
    assert result.status is Status.SKIPPED
    assert result.code == "web.links_l3.no_l2_page"


async def test_l3_without_new_links_is_info() -> None:
    net = site(page("/a.html", "/b.html"))
    net.add_page(f"http://{WWW}/a.html", WWW_V6, body=page("/b.html", "/"), headers=HTML)
    net.add_page(f"http://{WWW}/b.html", WWW_V6, body=page("/a.html"), headers=HTML)

    result = await links.links_l3(await context(net))

    assert result.status is Status.INFO
    assert result.value["total"] == 0


class CapNetwork(MockNetwork):
    """Records the body cap of every fetch by URL."""

    def __init__(self) -> None:
        super().__init__()
        self.caps: dict[str, int | None] = {}

    async def fetch(self, url: str, address: str, **options: Any) -> HttpResponse:
        self.caps[url] = options.get("max_body")
        return await super().fetch(url, address, **options)


def second_level_site() -> CapNetwork:
    """A homepage linking to two pages, each over LEAF_BODY and linking to a page of its own."""
    net = CapNetwork()
    site(page("/a.html", "/b.html"), net)
    filler = "<p>" + "text " * 400 + "</p>"
    for name in ("a", "b"):
        body = page(f"/{name}/deeper.html") + filler
        net.add_page(f"http://{WWW}/{name}.html", WWW_V6, body=body, headers=HTML)
        net.add_page(f"http://{WWW}/{name}/deeper.html", WWW_V6, body=page(), headers=HTML)
    return net


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs `links` parses as HTML from now on."""
    parsed: list[str] = []
    original = links.parse_html

    def counting(body: bytes, url: str, content_type: str) -> Document:
        parsed.append(url)
        return original(body, url, content_type)

    monkeypatch.setattr(links, "parse_html", counting)
    return parsed


async def test_standard_scan_loads_second_level_pages_without_reading_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = second_level_site()
    parsed = count_parses(monkeypatch)
    ctx = await context(net, options=replace(OPTIONS, profile="standard"))

    result = await links.links_l2(ctx)

    assert (result.status, result.value["total"], result.value["ok"]) == (Status.PASS, 2, 2)
    assert net.caps[f"http://{WWW}/a.html"] == net.caps[f"http://{WWW}/b.html"] == links.LEAF_BODY
    assert parsed == [HOME]


async def test_full_scan_reads_second_level_pages_for_third_level_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = second_level_site()
    parsed = count_parses(monkeypatch)
    ctx = await context(net, options=replace(OPTIONS, profile="full"))

    assert (await links.links_l2(ctx)).status is Status.PASS
    result = await links.links_l3(ctx)

    assert (result.status, result.value["total"], result.value["ok"]) == (Status.PASS, 2, 2)
    assert net.caps[f"http://{WWW}/a.html"] == net.caps[f"http://{WWW}/b.html"] == links.LINK_BODY
    assert net.caps[f"http://{WWW}/a/deeper.html"] == links.LEAF_BODY
    assert sorted(parsed) == [HOME, f"http://{WWW}/a.html", f"http://{WWW}/b.html"]


@pytest.mark.parametrize(
    ("profile", "reads"), [("quick", False), ("standard", False), ("full", True)]
)
def test_only_a_profile_running_links_l3_reads_second_level_pages(
    profile: str, reads: bool
) -> None:
    assert links.reads_second_level(profile) is reads


@pytest.mark.parametrize(
    "raw",
    [
        "http://www.good.test/",
        "https://WWW.Good.Test:8443/a/b?c=/d#e",
        "http://www.good.test?x=/y",
        "http://[2001:DB8::1]:8080/x",
        "http://[fe80::1%25eth0]/",
        "http://203.0.113.5:80/x",
        "http://测试网站.test/页面?q=:@/",
        "http://h.test:/x",
    ],
)
def test_normalised_host_is_what_urlsplit_finds(raw: str) -> None:
    url = absolute_url(HOME, raw)
    assert url is not None
    assert links.normalised_host(url) == urlsplit(url).hostname


def test_internal_links_are_those_of_the_sites_registrable_domain() -> None:
    found = [
        "http://www.good.test/a",
        "https://static.good.test:8443/b",
        "http://good.test.example/c",
        "http://[2001:db8::1]/d",
        "http://other.example/?u=http://www.good.test/",
    ]

    assert links.internal_links(found, "good.test") == found[:2]


class MazeNetwork(MockNetwork):
    """Every /maze/ page links to twenty deeper maze pages never seen before."""

    async def fetch(self, url: str, address: str, **options: Any) -> HttpResponse:
        match = re.search(r"/maze/([\d-]+)\.html$", url)
        if match is None:
            return await super().fetch(url, address, **options)
        self.calls.append(("fetch", options.get("method", "GET"), url, address))
        body = page(*(f"/maze/{match[1]}-{j}.html" for j in range(20))).encode()
        return HttpResponse(url, address, 200, {"content-type": "text/html"}, body, 0.01)


async def test_an_endless_maze_stops_at_the_caps() -> None:
    net = MazeNetwork()
    net.add_host(WWW, v4=[WWW_V4], v6=[WWW_V6])
    net.add_page(HOME, WWW_V6, body=page(*(f"/maze/{k}.html" for k in range(20))), headers=HTML)
    ctx = await context(net, options=replace(OPTIONS, max_links_l2=15, max_links_l3=40))

    l2 = await links.links_l2(ctx)
    l3 = await links.links_l3(ctx)

    assert (l2.status, l2.value["total"], l2.value["capped"]) == (Status.PASS, 15, True)
    assert (l3.status, l3.value["total"], l3.value["capped"]) == (Status.PASS, 40, True)
    assert len(fetched_urls(net)) == 1 + 15 + 40


class SlowNetwork(MockNetwork):
    """Answers every page after a pause, recording the most requests in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.peak = 0

    async def fetch(self, url: str, address: str, **options: Any) -> HttpResponse:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            return await super().fetch(url, address, **options)
        finally:
            self.in_flight -= 1


async def test_fetches_per_target_are_bounded() -> None:
    net = SlowNetwork()
    hrefs = [f"/p/{i}.html" for i in range(40)]
    net.add_host(WWW, v4=[WWW_V4], v6=[WWW_V6])
    net.add_page(HOME, WWW_V6, body=page(*hrefs), headers=HTML)
    for href in hrefs:
        net.add_page(f"http://{WWW}{href}", WWW_V6, body=page(), headers=HTML)

    result = await links.links_l2(await context(net))

    assert result.value["ok"] == 40
    assert net.peak == links.FETCH_SLOTS


# web.subresources_v6


def media_site() -> MockNetwork:
    """A homepage whose stylesheet and media partly come from hosts without IPv6."""
    homepage = """<html><head>
    <link rel="stylesheet" href="/r/site.css">
    <link rel="stylesheet" href="//static.good.test/r/site.css">
    </head><body>
    <img src="/r/logo.png" srcset="/r/logo@2x.png 2x, //img.cdn.example/logo@3x.png 3x">
    <img src="http://203.0.113.5/banner.png">
    <script src="//js.cdn.example/app.js"></script>
    </body></html>"""
    css = "@font-face { src: url(/r/font.woff2) } body { background: url(bg.png) }"
    net = site(homepage)
    net.add_host("static.good.test", v4=["192.0.2.30"])
    net.add_host("img.cdn.example", v4=["198.51.100.7"])
    net.add_host("js.cdn.example", v4=["198.51.100.8"], v6=["2001:db8::8"])
    for path, body, headers in (
        ("/r/site.css", css, CSS),
        ("/r/logo.png", "png", {}),
        ("/r/logo@2x.png", "png", {}),
        ("/r/font.woff2", "woff2", {}),
        ("/r/bg.png", "png", {}),
    ):
        net.add_page(f"http://{WWW}{path}", WWW_V6, body=body, headers=headers)
    net.add_page("http://static.good.test/r/site.css", "192.0.2.30", body=css, headers=CSS)
    net.add_page("http://js.cdn.example/app.js", "2001:db8::8", 500)
    return net


async def test_subresources_from_ipv4_only_hosts_fail_and_are_listed() -> None:
    net = media_site()

    result = await links.subresources_v6(await context(net))

    assert result.status is Status.FAIL
    assert sorted(result.value["v4_only"]) == [
        "http://203.0.113.5/banner.png",
        "http://img.cdn.example/logo@3x.png",
        "http://static.good.test/r/bg.png",
        "http://static.good.test/r/font.woff2",
        "http://static.good.test/r/site.css",
    ]
    assert result.value["failed"] == [{"url": "http://js.cdn.example/app.js", "reason": "HTTP 500"}]
    assert result.value["total"] == 11
    assert result.value["ok"] == 5
    assert "6 of 11" in result.message
    assert "192.0.2.30" in [c[3] for c in net.calls if c[2] == "http://static.good.test/r/site.css"]


async def test_subresources_all_loading_over_ipv6_pass_including_css_fonts() -> None:
    net = site('<link rel="stylesheet" href="/s.css"><img src="/i.png">')
    net.add_page(f"http://{WWW}/s.css", WWW_V6, body="@import 'more.css';", headers=CSS)
    net.add_page(
        f"http://{WWW}/more.css", WWW_V6, body="a { background: url(f.woff) }", headers=CSS
    )
    net.add_page(f"http://{WWW}/f.woff", WWW_V6, body="font")
    net.add_page(f"http://{WWW}/i.png", WWW_V6, 302, headers={"Location": "/img/i.png"})
    net.add_page(f"http://{WWW}/img/i.png", WWW_V6, body="png")

    result = await links.subresources_v6(await context(net))

    assert result.status is Status.PASS
    assert (result.value["total"], result.value["ok"]) == (4, 4)
    assert result.value["v4_only"] == result.value["failed"] == []
    assert HOME not in net.reused and f"http://{WWW}/img/i.png" in net.reused


async def test_a_page_without_subresources_passes() -> None:
    result = await links.subresources_v6(await context(site(page("/a.html"))))

    assert result.status is Status.PASS
    assert result.value["total"] == 0


async def test_many_images_on_an_ipv4_only_host_cost_one_lookup() -> None:
    net = site("".join(f'<img src="http://old.good.test/{i}.png">' for i in range(50)))

    result = await links.subresources_v6(await context(net))

    assert len(result.value["v4_only"]) == 50
    assert lookups(net, "old.good.test", "AAAA") == 1
    assert lookups(net, "old.good.test", "A") == 1


async def test_subresources_are_capped() -> None:
    net = site("".join(f'<img src="/{i}.png">' for i in range(20)))
    for i in range(20):
        net.add_page(f"http://{WWW}/{i}.png", WWW_V6, body="png")

    result = await links.subresources_v6(
        await context(net, options=replace(OPTIONS, max_subresources=5))
    )

    assert (result.status, result.value["total"], result.value["capped"]) == (Status.PASS, 5, True)


async def test_a_subresource_is_fetched_once_per_scan() -> None:
    net = site('<img src="/shared.png">')
    net.add_page(f"http://{WWW}/shared.png", WWW_V6, body="png")
    first = await context(net)

    await links.subresources_v6(first)
    await links.subresources_v6(await context(net, shared=first.shared))

    assert fetched_urls(net).count(f"http://{WWW}/shared.png") == 1
