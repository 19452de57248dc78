"""What a page links to and what a browser loads for it, read from its HTML and CSS.

URLs come back absolute and normalised (fragment dropped, host in ACE form, default port
removed, non-ASCII percent-encoded) and deduplicated, first occurrence kept; only http(s) URLs
are kept, so `javascript:`, `mailto:`, `tel:` and `data:` URLs disappear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import idna
from selectolax.lexbor import LexborHTMLParser, LexborNode

from v6pilot.checks.decode import decode_html

DEFAULT_PORTS = {"http": 80, "https": 443}
URL_SAFE = "/%:@!$&'()*+,;=-._~?"
LINK_SELECTOR = "a[href], area[href]"
LINK_RESOURCE_RELS = frozenset({"icon", "preload", "modulepreload", "apple-touch-icon"})
# (selector, attribute, attribute holds a srcset) for every loaded attribute but link[href]
RESOURCE_ATTRIBUTES = (
    ("script[src]", "src", False),
    ("img[src]", "src", False),
    ("img[srcset]", "srcset", True),
    ("source[src]", "src", False),
    ("source[srcset]", "srcset", True),
    ("video[src]", "src", False),
    ("video[poster]", "poster", False),
    ("audio[src]", "src", False),
    ("iframe[src]", "src", False),
    ("embed[src]", "src", False),
    ("object[data]", "data", False),
)

_URL_WHITESPACE = re.compile(r"[\t\n\r]")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*(?P<q1>["']?)(?P<u1>[^"')]*)(?P=q1)\s*\)|(?P<q2>["'])(?P<u2>[^"']*)(?P=q2))""",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<u>[^"')]*)(?P=q)\s*\)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Resource:
    """A URL a browser loads for a page; a stylesheet's own references must be read too."""

    url: str
    stylesheet: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed HTML page: its outgoing links and its sub-resources."""

    links: tuple[str, ...]
    resources: tuple[Resource, ...]


def is_html(content_type: str) -> bool:
    """Whether a response of this Content-Type is worth parsing as HTML (unlabelled counts)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or "html" in media


def absolute_url(base: str, raw: str) -> str | None:
    """`raw` resolved against `base` and normalised; None when it is no fetchable http(s) URL."""
    text = _URL_WHITESPACE.sub("", raw).strip(" \f\v")
    if not text or text.startswith("#"):
        return None
    try:
        parts = urlsplit(urljoin(base, text))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = quote(parts.path or "/", safe=URL_SAFE)
    query = quote(parts.query, safe=URL_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def parse_html(body: bytes, url: str, content_type: str) -> Document:
    """The links and sub-resources of an HTML page fetched from `url`, respecting `<base href>`."""
    text = decode_html(body, content_type)
    tree = LexborHTMLParser(text)
    base_node = tree.css_first("base[href]")
    base = url
    if base_node is not None:
        base = absolute_url(url, base_node.attributes.get("href") or "") or url
    links = _unique(absolute_url(base, _attr(n, "href")) for n in tree.css(LINK_SELECTOR))
    for hidden in tree.css("noscript"):
        hidden.decompose()  # a browser running scripts loads nothing inside <noscript>
    return Document(tuple(links), _page_resources(tree, base))


def parse_css(body: bytes, url: str, content_type: str) -> tuple[Resource, ...]:
    """What a stylesheet fetched from `url` loads: its `url(...)`s and `@import`s."""
    return css_resources(decode_html(body, content_type), url)


def css_resources(css: str, base: str) -> tuple[Resource, ...]:
    """The `url(...)` references (and `@import`ed stylesheets) of CSS text, against `base`."""
    css = _CSS_COMMENT.sub("", css)
    found: list[Resource] = []
    for match in _CSS_IMPORT.finditer(css):
        url = absolute_url(base, match["u1"] if match["u1"] is not None else match["u2"])
        if url is not None:
            found.append(Resource(url, stylesheet=True))
    imported = {r.url for r in found}
    for match in _CSS_URL.finditer(css):
        url = absolute_url(base, match["u"])
        if url is not None and url not in imported:
            found.append(Resource(url))
    return _unique_resources(found)


def parse_srcset(srcset: str) -> list[str]:
    """The candidate URLs of a `srcset` attribute (commas inside URLs are kept)."""
    urls = []
    position = 0
    while position < len(srcset):
        while position < len(srcset) and (srcset[position].isspace() or srcset[position] == ","):
            position += 1
        start = position
        while position < len(srcset) and not srcset[position].isspace():
            position += 1
        candidate = srcset[start:position]
        if candidate.endswith(","):
            candidate = candidate.rstrip(",")
        else:
            depth = 0
            while position < len(srcset) and (depth or srcset[position] != ","):
                depth += {"(": 1, ")": -1}.get(srcset[position], 0)
                position += 1
        if candidate:
            urls.append(candidate)
    return urls


def _page_resources(tree: LexborHTMLParser, base: str) -> tuple[Resource, ...]:
    """Every sub-resource of a parsed page, in the order the selectors list them."""
    found: list[Resource] = []
    for node in tree.css("link[href][rel]"):
        rels = set(_attr(node, "rel").lower().split())
        url = absolute_url(base, _attr(node, "href"))
        if url is not None and ("stylesheet" in rels or rels & LINK_RESOURCE_RELS):
            found.append(Resource(url, stylesheet="stylesheet" in rels))
    for selector, attribute, is_srcset in RESOURCE_ATTRIBUTES:
        for node in tree.css(selector):
            value = _attr(node, attribute)
            raws = parse_srcset(value) if is_srcset else [value]
            found += [Resource(u) for u in _unique(absolute_url(base, r) for r in raws)]
    for node in tree.css("[style]"):
        found += css_resources(_attr(node, "style"), base)
    for node in tree.css("style"):
        found += css_resources(node.text(deep=True), base)
    return _unique_resources(found)


def _attr(node: LexborNode, name: str) -> str:
    return node.attributes.get(name) or ""


def _unique(urls: Iterable[str | None]) -> list[str]:
    """The URLs that are not None, first occurrence kept."""
    return list(dict.fromkeys(u for u in urls if u is not None))


def _unique_resources(resources: list[Resource]) -> tuple[Resource, ...]:
    """One entry per URL in first-seen order; a URL loaded as a stylesheet anywhere is one."""
    sheets = {r.url for r in resources if r.stylesheet}
    urls = dict.fromkeys(r.url for r in resources)
    return tuple(Resource(u, stylesheet=u in sheets) for u in urls)
