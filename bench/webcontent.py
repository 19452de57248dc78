"""The corpus's web content: one SSI template per page level, rendered by nginx per `$host`,
so 10,000 (or 100,000) sites cost three files on disk.

Homepage: about 20 KB, 20 internal links (`/p/1` .. `/p/20`, half of them absolute URLs on the
site's own host) and 10 sub-resources. Each second-level page links back home and to five
third-level pages of its own (`/p/N/1` .. `/p/N/5`), so the full profile finds 100 new links.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HOME_LINKS = 20
L3_LINKS_PER_PAGE = 5
HOMEPAGE_BYTES = 20_000
HOST = '<!--# echo var="host" -->'
SCHEME = '<!--# echo var="scheme" -->'
REQUEST_URI = '<!--# echo var="request_uri" -->'
STYLESHEETS = ("/static/site.css", "/static/print.css")
SCRIPTS = ("/static/app.js", "/static/vendor.js", "/static/analytics.js")
IMAGES = ("/static/logo.svg", "/static/hero.png", "/static/photo1.png", "/static/photo2.png")
ICON = "/favicon.ico"
SUBRESOURCES = (*STYLESHEETS, *SCRIPTS, *IMAGES, ICON)
WORDS = (
    *("network", "address", "service", "pilot", "city", "transition", "readiness", "measure"),
    *("report", "government", "portal", "public", "citizen", "online", "record", "renewal"),
    *("application", "office", "notice", "bulletin", "policy", "guidance", "schedule"),
    *("archive", "contact", "department"),
)


def _paragraph(seed: int, words: int) -> str:
    text = " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words))
    return f"<p>{text.capitalize()}.</p>"


def _filler(target_bytes: int) -> str:
    parts: list[str] = []
    seed = 0
    while sum(len(p) + 1 for p in parts) < target_bytes:
        parts.append(_paragraph(seed, 60))
        seed += 1
    return "\n".join(parts)


def _link(number: int) -> str:
    href = f"/p/{number}" if number <= HOME_LINKS // 2 else f"{SCHEME}://{HOST}/p/{number}"
    return f'<li><a href="{href}">Section {number}</a></li>'


def homepage_template() -> str:
    """The homepage: head with stylesheets, icon and scripts; a nav of 20 links; images; text."""
    head = [f'<link rel="stylesheet" href="{css}">' for css in STYLESHEETS]
    head.append(f'<link rel="icon" href="{ICON}">')
    head += [f'<script src="{js}"></script>' for js in SCRIPTS]
    nav = "\n".join(_link(n) for n in range(1, HOME_LINKS + 1))
    images = "\n".join(f'<img src="{src}" alt="figure">' for src in IMAGES)
    top = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{HOST} - home</title>\n" + "\n".join(head) + "\n</head><body>\n"
        f"<header><h1>Welcome to {HOST}</h1></header>\n<nav><ul>\n{nav}\n</ul></nav>\n"
        f"<main>\n{images}\n"
    )
    bottom = f"</main>\n<footer>{HOST}</footer>\n</body></html>\n"
    return top + _filler(HOMEPAGE_BYTES - len(top) - len(bottom)) + "\n" + bottom


def second_level_template() -> str:
    """A second-level page: a link home and five third-level links below its own path."""
    links = "\n".join(
        f'<li><a href="{REQUEST_URI}/{n}">Item {n}</a></li>'
        for n in range(1, L3_LINKS_PER_PAGE + 1)
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{HOST}{REQUEST_URI}</title>'
        f'</head><body>\n<a href="/">Home</a>\n<ul>\n{links}\n</ul>\n{_filler(2000)}\n'
        "</body></html>\n"
    )


def third_level_template() -> str:
    """A third-level page: text and a link home (nothing new to crawl)."""
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{HOST}{REQUEST_URI}</title>'
        f'</head><body>\n<a href="/">Home</a>\n{_filler(1000)}\n</body></html>\n'
    )


def _png() -> bytes:
    """A valid 1x1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _static_files() -> dict[str, bytes]:
    css = "".join(f".c{i} {{ margin: {i}px; color: #{i:06x}; }}\n" for i in range(120))
    js = "".join(f"function f{i}(x) {{ return x + {i}; }}\n" for i in range(150))
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
        '<rect width="8" height="8"/></svg>'
    )
    files = {path: css.encode() for path in STYLESHEETS}
    files |= {path: js.encode() for path in SCRIPTS}
    files |= {path: _png() for path in IMAGES if path.endswith(".png")}
    files["/static/logo.svg"] = svg.encode()
    files[ICON] = _png()
    return files


def write_site(root: Path) -> None:
    """Write the three page templates and the static sub-resources under `root`."""
    (root / "static").mkdir(parents=True, exist_ok=True)
    (root / "home.html").write_text(homepage_template())
    (root / "l2.html").write_text(second_level_template())
    (root / "l3.html").write_text(third_level_template())
    for path, data in _static_files().items():
        (root / path.lstrip("/")).write_bytes(data)
