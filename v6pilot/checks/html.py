"""What a page links to and what a browser loads for it, read from its HTML and CSS.

URLs come back absolute and normalised (fragment dropped, host in ACE form, default port
removed, non-ASCII percent-encoded) and deduplicated, first occurrence kept; only http(s) URLs
are kept, so `javascript:`, `mailto:`, `tel:` and `data:` URLs disappear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import idna
from selectolax.lexbor import LexborHTMLParser, LexborNode

from v6pilot.checks.decode import decode_html

DEFAULT_PORTS = {"http": 80, "https": 443}
URL_SAFE = "/%:@!$&'()*+,;=-._~?"
LINK_TAGS = ("a", "area")
LINK_RESOURCE_RELS = frozenset({"icon", "preload", "modulepreload", "apple-touch-icon"})
# (tag, attribute, attribute holds a srcset) for every loaded attribute but link[href], in the
# order a page's resources are listed
RESOURCE_ATTRIBUTES = (
    ("script", "src", False),
    ("img", "src", False),
    ("img", "srcset", True),
    ("source", "src", False),
    ("source", "srcset", True),
    ("video", "src", False),
    ("video", "poster", False),
    ("audio", "src", False),
    ("iframe", "src", False),
    ("embed", "src", False),
    ("object", "data", False),
)
ELEMENT_SELECTOR = ", ".join(
    [
        "base[href]",
        *(f"{tag}[href]" for tag in LINK_TAGS),
        "noscript",
        "link[href][rel]",
        *(f"{tag}[{attribute}]" for tag, attribute, _ in RESOURCE_ATTRIBUTES),
        "[style]",
        "style",
    ]
)
"""Every element a page's links and resources come from, found in one pass over the tree."""
BASE_CACHE_ENTRIES = 1024

_URL_WHITESPACE = re.compile(r"[\t\n\r]")
_PATH_CHARS = r"A-Za-z0-9_.~!$&'()*+,=:@%/-"
"""What quoting with URL_SAFE leaves alone, but `;`, which urljoin may take for a parameter."""
_PLAIN_URL = re.compile(
    rf"(?:(?:(?P<scheme>https?):)?//(?P<host>[A-Za-z0-9._-]+)(?::(?P<port>[0-9]{{0,5}}))?)?"
    rf"(?P<path>[{_PATH_CHARS}]*)(?:\?(?P<query>[{_PATH_CHARS};?]*))?(?:#.*)?",
    re.DOTALL,
)
"""A reference resolvable without urllib: nothing to strip, quote or IDN-encode."""
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
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


@dataclass(frozen=True, slots=True)
class PlainBase:
    """A plain base URL taken apart once for every reference resolved against it."""

    scheme: str
    origin: str
    """`scheme://host[:port]`, normalised."""
    path: str
    """The base path (`/` when empty), which a query-only reference keeps."""
    query: str
    directory: str | None
    """What a relative path is appended to; None when dot segments make it urljoin's job."""


class Element(NamedTuple):
    """An element of interest with its tag and attributes, read once."""

    node: LexborNode
    tag: str
    attributes: dict[str, str | None]


def is_html(content_type: str) -> bool:
    """Whether a response of this Content-Type is worth parsing as HTML (unlabelled counts)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or "html" in media


def absolute_url(base: str, raw: str) -> str | None:
    """`raw` resolved against `base` and normalised; None when it is no fetchable http(s) URL."""
    plain = plain_absolute_url(base, raw)
    if plain is not None:
        return plain
    scheme = _SCHEME.match(raw)
    if scheme is not None and scheme[0][:-1].lower() not in DEFAULT_PORTS:
        return None  # javascript:, mailto:, data: ... (what general_absolute_url concludes)
    return general_absolute_url(base, raw)


def plain_absolute_url(base: str, raw: str) -> str | None:
    """`general_absolute_url` for the common case, plain ASCII against a plain base, without
    urllib; None when the reference is not plain (it may still resolve generally)."""
    match = _PLAIN_URL.fullmatch(raw)
    if match is None:
        return None
    plain_base = _plain_base(base)
    if plain_base is None:
        return None
    path, query = match["path"], match["query"]
    suffix = f"?{query}" if query else ""
    if match["host"] is not None:
        if path[:1] not in ("", "/"):
            return None
        origin = _plain_origin(match["scheme"] or plain_base.scheme, match["host"], match["port"])
        return None if origin is None else f"{origin}{path or '/'}{suffix}"
    if not path:
        if query is None:
            return None
        query = query or plain_base.query
        return f"{plain_base.origin}{plain_base.path}{'?' if query else ''}{query}"
    if path[0] == "/":
        if path.startswith("//") or "/." in path:
            return None
        return f"{plain_base.origin}{path}{suffix}"
    if plain_base.directory is None or ":" in path or "//" in path or "/." in f"/{path}":
        return None
    return f"{plain_base.origin}{plain_base.directory}{path}{suffix}"


def general_absolute_url(base: str, raw: str) -> str | None:
    """`absolute_url` by urllib: join, split, IDN-encode the host, quote path and query."""
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


@lru_cache(maxsize=BASE_CACHE_ENTRIES)
def _plain_base(base: str) -> PlainBase | None:
    """`base` taken apart if it is a plain http(s) URL, else None."""
    match = _PLAIN_URL.fullmatch(base)
    if match is None or match["scheme"] is None or match["path"][:1] not in ("", "/"):
        return None
    origin = _plain_origin(match["scheme"], match["host"], match["port"])
    if origin is None:
        return None
    path = match["path"]
    segments = path.split("/")[:-1] or [""]
    directory = None
    if "." not in segments and ".." not in segments:
        directory = "/" + "".join(f"{s}/" for s in segments if s)
    return PlainBase(match["scheme"], origin, path or "/", match["query"] or "", directory)


def _plain_origin(scheme: str, host: str, port: str | None) -> str | None:
    """`scheme://host[:port]` as urllib would normalise it; None for a port out of range."""
    origin = f"{scheme}://{host.lower()}"
    if port:
        number = int(port)
        if number > 65535:
            return None
        if number != DEFAULT_PORTS[scheme]:
            origin += f":{number}"
    return origin


def parse_html(body: bytes, url: str, content_type: str) -> Document:
    """The links and sub-resources of an HTML page fetched from `url`, respecting `<base href>`."""
    tree = LexborHTMLParser(decode_html(body, content_type))
    elements = _elements(tree)
    base = url
    hrefs = [(e.tag, e.attributes["href"] or "") for e in elements if "href" in e.attributes]
    base_href = next((href for tag, href in hrefs if tag == "base"), None)
    if base_href is not None:
        base = absolute_url(url, base_href) or url
    links = _unique(absolute_url(base, href) for tag, href in hrefs if tag in LINK_TAGS)
    # a browser running scripts loads nothing inside <noscript>
    hidden = {n.mem_id for e in elements if e.tag == "noscript" for n in e.node.traverse()}
    shown = [e for e in elements if e.node.mem_id not in hidden] if hidden else elements
    return Document(tuple(links), _page_resources(shown, base))


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


def _elements(tree: LexborHTMLParser) -> list[Element]:
    """The elements ELEMENT_SELECTOR matches, each once, in document order."""
    seen: set[int] = set()
    elements = []
    for node in tree.css(ELEMENT_SELECTOR):
        if node.mem_id not in seen:  # a node comes once for every selector it matches
            seen.add(node.mem_id)
            elements.append(Element(node, node.tag or "", node.attributes))
    return elements


def _page_resources(elements: list[Element], base: str) -> tuple[Resource, ...]:
    """Every sub-resource of a parsed page: link[href][rel] first, then RESOURCE_ATTRIBUTES in
    their order, style attributes and style elements last; document order within each."""
    linked: list[Resource] = []
    by_attribute: list[list[Resource]] = [[] for _ in RESOURCE_ATTRIBUTES]
    styled: list[Resource] = []
    embedded: list[Resource] = []
    for node, tag, attributes in elements:
        if tag == "link" and "href" in attributes and "rel" in attributes:
            rels = set((attributes["rel"] or "").lower().split())
            url = absolute_url(base, attributes["href"] or "")
            if url is not None and ("stylesheet" in rels or rels & LINK_RESOURCE_RELS):
                linked.append(Resource(url, stylesheet="stylesheet" in rels))
        for index, attribute, is_srcset in _RESOURCE_ATTRIBUTES_BY_TAG.get(tag, ()):
            if attribute in attributes:
                value = attributes[attribute] or ""
                for raw in parse_srcset(value) if is_srcset else [value]:
                    url = absolute_url(base, raw)
                    if url is not None:
                        by_attribute[index].append(Resource(url))
        if "style" in attributes:
            styled += css_resources(attributes["style"] or "", base)
        if tag == "style":
            embedded += css_resources(node.text(deep=True), base)
    return _unique_resources([*linked, *(r for rs in by_attribute for r in rs), *styled, *embedded])


def _resource_attributes_by_tag() -> dict[str, list[tuple[int, str, bool]]]:
    """RESOURCE_ATTRIBUTES by tag: (position in the list, attribute, holds a srcset)."""
    by_tag: dict[str, list[tuple[int, str, bool]]] = {}
    for index, (tag, attribute, is_srcset) in enumerate(RESOURCE_ATTRIBUTES):
        by_tag.setdefault(tag, []).append((index, attribute, is_srcset))
    return by_tag


_RESOURCE_ATTRIBUTES_BY_TAG = _resource_attributes_by_tag()


def _unique(urls: Iterable[str | None]) -> list[str]:
    """The URLs that are not None, first occurrence kept."""
    return list(dict.fromkeys(u for u in urls if u is not None))


def _unique_resources(resources: list[Resource]) -> tuple[Resource, ...]:
    """One entry per URL in first-seen order; a URL loaded as a stylesheet anywhere is one."""
    sheets = {r.url for r in resources if r.stylesheet}
    urls = dict.fromkeys(r.url for r in resources)
    return tuple(Resource(u, stylesheet=u in sheets) for u in urls)
