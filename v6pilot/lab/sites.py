"""What the lab's web servers answer: every page, redirect and resource of a scenario's site.

Pure content generation without I/O, so the exact contract the scanner's checks rely on is
unit-testable. Replies are deterministic per (scenario, host, path, endpoint) except the parts a
`dynamic` site randomises per request, and are cached because the lab serves benchmarks too.
"""

# ruff: noqa: RUF001 -- the pages' Chinese text uses full-width punctuation on purpose
from __future__ import annotations

import base64
import datetime
import html
import random
import re
import secrets
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus

import idna

from v6pilot.errors import LabError
from v6pilot.lab.catalogue import Endpoint, Host, LinkGroup, Scenario

MIB = 1024 * 1024
CHUNK = 64 * 1024
MAZE_FANOUT = 20
MAX_CACHED_REPLIES = 20_000
LOOP = {"/": "/loop/a", "/loop/a": "/loop/b", "/loop/b": "/loop/a"}

_L2_PAGE = re.compile(r"/p/([A-Za-z0-9_-]+)\.html")
_L3_PAGE = re.compile(r"/q/[^/]+\.html")
_MAZE_PAGE = re.compile(r"/maze/(\d+(?:-\d+)*)\.html")
_SLOT = "\x00"  # where a dynamic site puts a per-request fragment into its cached homepage


@dataclass(frozen=True)
class StreamedBody:
    """A body too large to hold in memory: its exact size and a factory of its chunks."""

    size: int
    chunks: Callable[[], Iterator[bytes]]


@dataclass(frozen=True)
class Reply:
    """One HTTP response: status, headers (without Content-Length) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes | StreamedBody

    @property
    def size(self) -> int:
        """The Content-Length of the body."""
        return self.body.size if isinstance(self.body, StreamedBody) else len(self.body)

    def header(self, name: str) -> str | None:
        """The value of header `name` (case-insensitive), or None when the reply lacks it."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


def site_names(scenario: Scenario) -> tuple[str, ...]:
    """Every name the scenario's site answers to: its hosts, CNAME aliases and zone apexes."""
    names = [name for zone in scenario.zones for name in (zone.name, *(h.fqdn for h in zone.hosts))]
    return tuple(dict.fromkeys(names))


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real, single-colour PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = (b"\x00" + bytes(rgb) * width) * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _ico(png: bytes, size: int) -> bytes:
    """An ICO file holding one PNG image (the format browsers accept since Vista)."""
    directory = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png), 6 + 16)
    return directory + entry + png


def _mp4() -> bytes:
    """A minimal ISO base media file: an `ftyp` box and an empty `free` box."""
    ftyp = b"ftyp" + b"isom" + struct.pack(">I", 512) + b"isomiso2mp41"
    return struct.pack(">I", 4 + len(ftyp)) + ftyp + struct.pack(">I", 8) + b"free"


def _woff2() -> bytes:
    """A WOFF2 file with no tables: a valid header and an empty Brotli stream."""
    stream = b"\x06"
    header = struct.pack(
        ">4sIIHHIIHHIIIII", b"wOF2", 0x00010000, 48 + len(stream), 0, 0, 12, len(stream), 1, 0,
        0, 0, 0, 0, 0,
    )  # fmt: skip
    return header + stream


_STYLESHEET = """\
@font-face { font-family: "LabSong"; src: url(/r/font.woff2) format("woff2"); }
body { margin: 0; font-family: "LabSong", "Microsoft YaHei", sans-serif; color: #222;
  background: #f3f5f8 url(/r/bg.png) repeat-x; }
header { background: #b71c1c; color: #fff; padding: 16px 40px; }
nav ul { display: flex; gap: 24px; list-style: none; margin: 0; padding: 8px 40px;
  background: #8e1515; color: #fff; }
main { max-width: 1080px; margin: 0 auto; padding: 16px 40px; background: #fff; }
footer { text-align: center; font-size: 12px; color: #666; padding: 24px; }
.hidden { display: none; }
"""

_SCRIPT = """\
"use strict";
document.documentElement.classList.add("js");
window.v6pilotLab = { ready: true };
"""

_FRAME = """\
<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="{charset}"><title>在线服务</title></head>
<body><p>在线咨询服务时间：工作日 9:00-17:00。Online help desk.</p></body>
</html>
"""

_RESOURCES: dict[str, tuple[str, bytes]] = {
    "app.js": ("text/javascript; charset=utf-8", _SCRIPT.encode()),
    "site.css": ("text/css; charset=utf-8", _STYLESHEET.encode()),
    "favicon.ico": ("image/x-icon", _ico(_png(16, 16, (183, 28, 28)), 16)),
    "logo.png": ("image/png", _png(48, 48, (183, 28, 28))),
    "logo@2x.png": ("image/png", _png(96, 96, (183, 28, 28))),
    "banner.png": ("image/png", _png(120, 30, (142, 21, 21))),
    "bg.png": ("image/png", _png(1, 8, (243, 245, 248))),
    "clip.mp4": ("video/mp4", _mp4()),
    "font.woff2": ("font/woff2", _woff2()),
}

_NAV = ("首页", "政务公开", "政务服务", "互动交流", "走进示范区", "数据开放")

_NEWS = (
    "为深入贯彻落实《推进互联网协议第六版（IPv6）规模部署行动计划》，示范区持续推进门户网站、"
    "政务服务平台和移动应用的IPv6改造，全面提升网络基础设施和应用服务的IPv6支持能力。",
    "近日，示范区召开数字政府建设工作推进会。会议强调，要坚持以人民为中心，推动政务服务"
    "“一网通办”，持续优化营商环境，不断提升企业和群众的获得感。",
    "The district portal offers government information, online services and channels for "
    "public participation. Every service is meant to be reachable over IPv4 and IPv6 alike.",
    "政策文件：关于进一步加强政府网站安全管理工作的通知；关于开展2026年度政务公开工作"
    "检查的通知；关于做好政务新媒体内容保障工作的通知。",
)

_ARTICLE = (
    "根据工作安排，现将有关事项通知如下。各部门要高度重视，明确责任分工，确保各项任务按期完成。",
    "This article is part of the lab's generated content and exists to be crawled.",
    "联系电话：010-00000000　联系地址：示范区政务服务中心三楼。",
)

_FOOTER = (
    "<footer><p>主办：示范区人民政府办公室　承办：示范区大数据中心</p>"
    "<p>网站标识码：LAB0000001　京ICP备00000000号　京公网安备00000000000000号</p>"
    "<p>v6pilot lab. 版权所有</p></footer>\n"
)

_HTML_END = "</body>\n</html>\n"


@cache
def _comment(length: int) -> bytes:
    """An HTML comment of exactly `length` bytes (at least 8), used to pad huge pages."""
    filler = b"v6pilot-lab padding "
    inner = length - len(b"<!--") - len(b"-->\n")
    if inner < 0:
        raise LabError(f"cannot pad with a comment of {length} bytes")
    return b"<!--" + (filler * (inner // len(filler) + 1))[:inner] + b"-->\n"


def _padded_chunks(head: bytes, tail: bytes, size: int) -> Iterator[bytes]:
    """`head`, comments and `tail` as `size // CHUNK` chunks of exactly CHUNK bytes each."""
    yield head + _comment(CHUNK - len(head))
    block = _comment(CHUNK)
    for _ in range(size // CHUNK - 2):
        yield block
    yield _comment(CHUNK - len(tail)) + tail


def _dynamic_fragments() -> tuple[str, ...]:
    """The per-request parts of a dynamic homepage, in the order of their slots."""
    nonce = secrets.token_urlsafe(16)
    render_ms = random.uniform(5, 250)
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    viewstate = base64.b64encode(secrets.token_bytes(225)).decode()
    return (
        f'<meta name="csrf-token" content="{secrets.token_hex(32)}">\n',
        f'<script nonce="{nonce}">window.__renderId = "{secrets.token_hex(8)}";</script>\n',
        f'<p>更新时间：<span class="updated">{now}</span></p>\n',
        '<form method="post" action="/p/search.html">'
        f'<input type="hidden" name="__VIEWSTATE" value="{viewstate}"></form>\n',
        f"<!-- rendered in {render_ms:.3f} ms -->\n",
    )


class SiteRenderer:
    """Renders the replies of one scenario's site, caching every reply that cannot change."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._site = scenario.site
        self._charset = scenario.site.charset.lower()
        try:
            "".encode(self._charset)
        except LookupError:
            raise LabError(f"{scenario.id}: unknown charset {self._charset!r}") from None
        self._zone = scenario.zone.name
        self._names = frozenset(site_names(scenario))
        self._owners = {e.address: h.fqdn for h in scenario.hosts() for e in h.endpoints}
        self._www = f"www.{self._zone}"
        self._banner = self._www_ipv4() if self._site.ipv4_literal else None
        self._replies: dict[tuple[str, str, str, str, str], Reply] = {}
        self._dynamic_homepages: dict[str, tuple[bytes, ...]] = {}

    def serving_host(self, host: str, endpoint: Endpoint) -> str:
        """The site host a request is for: the Host name if it is the site's, else the owner."""
        if host in self._names:
            return host
        try:
            return self._owners[endpoint.address]
        except KeyError:
            raise LabError(f"{endpoint.address} is not an address of {self._scenario.id}") from None

    def reply(
        self, host: str, scheme: str, path: str, endpoint: Endpoint, query: str = ""
    ) -> Reply:
        """The reply to a request for `path` (and `query`) on `host` received at `endpoint`.

        `host` is the requested host name (ACE, lower-case, no port), `scheme` http or https.
        """
        key = (host, scheme, path, query, endpoint.address)
        cached = self._replies.get(key)
        if cached is not None:
            return cached
        page_host = self.serving_host(host, endpoint)
        reply = self._render(host or page_host, page_host, scheme, path, query, endpoint)
        if self._site.dynamic and path == "/":
            return reply  # a dynamic homepage must differ on every request
        if len(self._replies) >= MAX_CACHED_REPLIES:
            self._replies.clear()
        self._replies[key] = reply
        return reply

    def _render(
        self, authority: str, page_host: str, scheme: str, path: str, query: str, endpoint: Endpoint
    ) -> Reply:
        """Route a request to its reply."""
        if endpoint.status is not None:
            return self._status_page(endpoint.status, endpoint)
        if scheme == "http" and self._site.https_redirect:
            target = f"https://{authority}{path}" + (f"?{query}" if query else "")
            return self._redirect(HTTPStatus.MOVED_PERMANENTLY, target, endpoint)
        if path == "/":
            return self._root(page_host, endpoint)
        if self._site.redirect_loop and path in LOOP:
            return self._redirect(HTTPStatus.FOUND, LOOP[path], endpoint)
        if match := _L2_PAGE.fullmatch(path):
            return self._html(HTTPStatus.OK, self._l2_page(match[1], page_host), endpoint)
        if _L3_PAGE.fullmatch(path):
            return self._html(HTTPStatus.OK, self._l3_page(), endpoint)
        if self._site.maze and (match := _MAZE_PAGE.fullmatch(path)):
            return self._html(HTTPStatus.OK, self._maze_page(match[1]), endpoint)
        if path.startswith("/r/"):
            return self._resource(path[3:], endpoint)
        return self._not_found(endpoint)

    def _root(self, page_host: str, endpoint: Endpoint) -> Reply:
        """The reply for `/`: the homepage, the IPv6 test page or the site's redirect."""
        if endpoint.content == "different":
            return self._html(HTTPStatus.OK, self._different_page(page_host), endpoint)
        if self._site.redirect_loop:
            return self._redirect(HTTPStatus.FOUND, LOOP["/"], endpoint)
        if self._site.redirect_to is not None and page_host == self._www:
            target = f"http://{self._site.redirect_to}.{self._zone}/"
            return self._redirect(HTTPStatus.MOVED_PERMANENTLY, target, endpoint)
        if self._site.dynamic:
            return self._dynamic_homepage(page_host, endpoint)
        page = self._homepage(page_host, dynamic=False)
        return self._homepage_reply(page.encode(self._charset), endpoint)

    def _dynamic_homepage(self, page_host: str, endpoint: Endpoint) -> Reply:
        """A freshly randomised homepage from cached static segments."""
        segments = self._dynamic_homepages.get(page_host)
        if segments is None:
            page = self._homepage(page_host, dynamic=True)
            segments = tuple(s.encode(self._charset) for s in page.split(_SLOT))
            self._dynamic_homepages[page_host] = segments
        fragments = [f.encode(self._charset) for f in _dynamic_fragments()]
        parts = [segments[0]]
        for fragment, segment in zip(fragments, segments[1:], strict=True):
            parts += (fragment, segment)
        return self._homepage_reply(b"".join(parts), endpoint)

    def _homepage_reply(self, page: bytes, endpoint: Endpoint) -> Reply:
        """The homepage reply, padded and streamed to `body_mb` MiB when the site asks for it."""
        size = self._site.body_mb * MIB
        if not size:
            return self._reply(HTTPStatus.OK, self._html_type(), page, endpoint)
        end = _HTML_END.encode(self._charset)
        head = page.removesuffix(end)
        if len(head) > CHUNK - len(_comment(8)):
            raise LabError(f"{self._scenario.id}: homepage too large to pad")
        body = StreamedBody(size=size, chunks=lambda: _padded_chunks(head, end, size))
        return self._reply(HTTPStatus.OK, self._html_type(), body, endpoint)

    def _resource(self, name: str, endpoint: Endpoint) -> Reply:
        """A sub-resource under /r/, or the 404 page for an unknown name."""
        if name == "frame.html":
            frame = _FRAME.format(charset=self._charset)
            return self._html(HTTPStatus.OK, frame, endpoint)
        if name not in _RESOURCES:
            return self._not_found(endpoint)
        content_type, body = _RESOURCES[name]
        return self._reply(HTTPStatus.OK, content_type, body, endpoint)

    def _redirect(self, status: HTTPStatus, location: str, endpoint: Endpoint) -> Reply:
        """A redirect with a short HTML body naming its target."""
        page = self._error_html(status, f'<a href="{html.escape(location)}">{status.phrase}</a>')
        reply = self._html(status, page, endpoint)
        return Reply(reply.status, (*reply.headers, ("Location", location)), reply.body)

    def _not_found(self, endpoint: Endpoint) -> Reply:
        return self._html(HTTPStatus.NOT_FOUND, self._error_html(HTTPStatus.NOT_FOUND), endpoint)

    def _status_page(self, status: int, endpoint: Endpoint) -> Reply:
        """The short error page an endpoint with a status override answers every request with."""
        return self._html(status, self._error_html(HTTPStatus(status)), endpoint)

    def _html(self, status: int, page: str, endpoint: Endpoint) -> Reply:
        return self._reply(status, self._html_type(), page.encode(self._charset), endpoint)

    def _html_type(self) -> str:
        return f"text/html; charset={self._charset}"

    def _reply(
        self, status: int, content_type: str, body: bytes | StreamedBody, endpoint: Endpoint
    ) -> Reply:
        """A reply with the lab's standard headers, minus those the endpoint strips."""
        headers = (
            ("Server", "v6pilot-lab"),
            ("Strict-Transport-Security", "max-age=31536000"),
            ("Content-Security-Policy", f"default-src 'self' *.{self._zone}; img-src * data:"),
            ("X-Frame-Options", "SAMEORIGIN"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Type", content_type),
        )
        stripped = {h.lower() for h in endpoint.strip_headers}
        return Reply(status, tuple(h for h in headers if h[0].lower() not in stripped), body)

    def _www_ipv4(self) -> str:
        """The IPv4 address of www (following a CNAME), for the ipv4_literal banner."""
        hosts = {h.fqdn: h for h in self._scenario.hosts()}
        host: Host | None = hosts.get(self._www)
        while host is not None and host.cname is not None:
            host = hosts.get(host.cname)
        if host is None or host.v4 is None:
            raise LabError(f"{self._scenario.id}: ipv4_literal needs www with an IPv4 address")
        return host.v4.address

    def _head(self, title: str, extra: str = "") -> str:
        """The document start up to and including `<body>`."""
        return (
            '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n'
            f'<meta charset="{self._charset}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n{extra}</head>\n<body>\n"
        )

    def _portal_name(self) -> str:
        return f"{self._scenario.title_zh}示范区人民政府"

    def _banner_html(self) -> str:
        """The page header with the portal's name and the (link-free) navigation bar."""
        display = html.escape(idna.decode(self._zone))
        nav = "".join(f"<li>{item}</li>" for item in _NAV)
        return (
            f"<header><h1>{html.escape(self._portal_name())}</h1>"
            f'<p lang="en">{html.escape(self._scenario.title)} - {display}</p></header>\n'
            f"<nav><ul>{nav}</ul></nav>\n"
        )

    def _homepage(self, page_host: str, dynamic: bool) -> str:
        """The homepage; with `dynamic`, _SLOT marks where each per-request fragment goes."""
        slot = _SLOT if dynamic else ""
        head_tags, body_tags = self._subresource_tags(page_host)
        style = "<style>.notice { border-left: 4px solid #b71c1c; padding-left: 8px; }</style>\n"
        news = "".join(f"<p>{html.escape(p)}</p>\n" for p in _NEWS)
        banner = (
            f'<img src="http://{self._banner}/r/banner.png" alt="横幅">\n' if self._banner else ""
        )
        return (
            self._head(f"{self._portal_name()}门户网站", slot + head_tags + style + slot)
            + self._banner_html()
            + '<main>\n<section class="notice"><h2>要闻动态</h2>\n'
            + news
            + slot
            + '</section>\n<section><h2>通知公告</h2>\n<ul class="links">\n'
            + self._l2_links(page_host)
            + "</ul>\n</section>\n"
            + f'<section class="media">\n{body_tags}{banner}</section>\n'
            + slot
            + "</main>\n"
            + _FOOTER
            + slot
            + _HTML_END
        )

    def _l2_links(self, page_host: str) -> str:
        """The homepage's links to second-level pages (or into the maze)."""
        if self._site.maze:
            return "".join(
                f'<li><a href="/maze/{k}.html">专题栏目 {k}</a></li>\n' for k in range(MAZE_FANOUT)
            )
        return "".join(
            f'<li><a href="{self._link(group, page_host, f"/p/{group.host}-{i}.html")}">'
            f"{html.escape(group.host)} 栏目文章 {i}</a></li>\n"
            for group in self._site.links
            for i in range(group.count)
        )

    def _link(self, group: LinkGroup, page_host: str, path: str) -> str:
        """A link to `path` on the group's host: relative on the page's own host, else absolute."""
        fqdn = f"{group.host}.{self._zone}"
        return path if fqdn == page_host else f"http://{fqdn}{path}"

    def _subresource_tags(self, page_host: str) -> tuple[str, str]:
        """The homepage's sub-resource tags: (those in <head>, those in <body>)."""
        head, body = [], []
        for label in self._site.subresources:
            fqdn = f"{label}.{self._zone}"
            base = "/r/" if fqdn == page_host else f"//{fqdn}/r/"
            query = f"?h={label}"
            head.append(
                f'<link rel="stylesheet" href="{base}site.css{query}">\n'
                f'<link rel="icon" href="{base}favicon.ico{query}">\n'
            )
            body.append(
                f'<img src="{base}logo.png{query}" alt="标志"'
                f' srcset="{base}logo@2x.png{query} 2x">\n'
                f'<iframe src="{base}frame.html{query}" title="在线服务"></iframe>\n'
                f'<video controls><source src="{base}clip.mp4{query}" type="video/mp4"></video>\n'
                f'<script src="{base}app.js{query}"></script>\n'
            )
        return "".join(head), "".join(body)

    def _content_page(self, title: str, body: str) -> str:
        """A page with the site's stylesheet, banner, one article and the footer."""
        stylesheet = '<link rel="stylesheet" href="/r/site.css">\n'
        return (
            self._head(f"{title} - {self._portal_name()}", stylesheet)
            + self._banner_html()
            + f"<main>\n<article><h2>{html.escape(title)}</h2>\n{body}</article>\n</main>\n"
            + _FOOTER
            + _HTML_END
        )

    def _article(self) -> str:
        return "".join(f"<p>{html.escape(p)}</p>\n" for p in _ARTICLE)

    def _l2_page(self, name: str, page_host: str) -> str:
        """A second-level page linking to its third-level pages."""
        links = "".join(
            f'<li><a href="{self._link(group, page_host, f"/q/{name}-{group.host}-{j}.html")}">'
            f"相关阅读 {html.escape(group.host)} {j}</a></li>\n"
            for group in self._site.l3_links
            for j in range(group.count)
        )
        return self._content_page(
            f"栏目文章 {name}", f'{self._article()}<ul class="related">\n{links}</ul>\n'
        )

    def _l3_page(self) -> str:
        """A third-level leaf page, without links."""
        return self._content_page("政策解读", self._article())

    def _maze_page(self, maze_path: str) -> str:
        """A maze page linking to MAZE_FANOUT deeper maze pages, none seen before."""
        links = "".join(
            f'<li><a href="/maze/{maze_path}-{j}.html">专题栏目 {maze_path}-{j}</a></li>\n'
            for j in range(MAZE_FANOUT)
        )
        return self._content_page(f"专题栏目 {maze_path}", f"{self._article()}<ul>\n{links}</ul>\n")

    def _different_page(self, page_host: str) -> str:
        """The unrelated page an endpoint with `content: different` serves as its homepage."""
        return (
            self._head("IPv6 版本 - IPv6 test page", '<link rel="stylesheet" href="/r/site.css">\n')
            + '<div class="v6-test"><h1>IPv6 测试页面</h1>\n'
            + f"<p>This is the IPv6 test page of {html.escape(page_host)}.</p>\n"
            + "<p>本页面仅用于IPv6连通性测试，正式内容请通过IPv4访问。</p></div>\n"
            + _HTML_END
        )

    def _error_html(self, status: HTTPStatus, extra: str = "") -> str:
        """A short page for an error status or a redirect."""
        title = f"{status.value} {status.phrase}"
        portal = html.escape(self._portal_name())
        return self._head(title) + f"<h1>{title}</h1>\n{extra}<p>{portal}</p>\n" + _HTML_END
