"""HTML bytes to text with the charset a browser would use, so pages in GBK, Big5 or UTF-8 that
say the same thing compare as the same text.

The order follows the HTML standard's encoding sniffing: a byte order mark wins, then the
charset of the Content-Type header, then a `<meta charset>` or `<meta http-equiv>` in the first
bytes; an undeclared page is tried as UTF-8, then GB18030, then windows-1252.
"""

from __future__ import annotations

import codecs
import re

META_SCAN_BYTES = 8192
"""How far into the body a `<meta>` charset declaration is looked for."""

UNDECLARED_CODECS = ("utf-8", "gb18030")
"""Tried strictly, in order, on a page declaring no charset (windows-1252 is the last resort)."""

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_ALIASES = {
    # Browsers decode these labels with the superset encoding (WHATWG Encoding Standard).
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "x-user-defined": "cp1252",
}

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def codec_for(label: str) -> str | None:
    """The Python codec a browser would use for charset `label`, or None if it is unknown."""
    name = label.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_codec(body: bytes, content_type: str) -> str | None:
    """The codec the page declares: BOM, then the Content-Type header, then a `<meta>` tag."""
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return bom_codec
    header = _HEADER_CHARSET.search(content_type)
    if header and (header_codec := codec_for(header[1])):
        return header_codec
    meta = _META_CHARSET.search(body[:META_SCAN_BYTES])
    if meta and (meta_codec := codec_for(meta[1].decode("ascii", "replace"))):
        # A <meta> readable as ASCII cannot be UTF-16, so browsers take it as UTF-8.
        return "utf-8" if meta_codec.startswith("utf-16") else meta_codec
    return None


def decode_html(body: bytes, content_type: str = "") -> str:
    """The text of an HTML body; undecodable bytes become U+FFFD instead of raising."""
    codec = declared_codec(body, content_type)
    if codec is not None:
        text = body.decode(codec, errors="replace")
        return text.removeprefix("\ufeff")
    return _undeclared(body)


def _undeclared(body: bytes) -> str:
    """Decode a body without a declared charset: UTF-8, then GB18030, then windows-1252."""
    for codec in UNDECLARED_CODECS:
        try:
            return body.decode(codec)
        except UnicodeDecodeError as exc:
            if exc.start >= len(body) - 4:
                return body.decode(codec, errors="replace")  # a character cut off at the cap
    return body.decode("cp1252", errors="replace")
