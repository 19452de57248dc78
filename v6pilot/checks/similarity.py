"""How alike two HTML pages are, robust to per-request noise and sensitive to order.

A page becomes three fingerprints: its DOM structure (shingles of consecutive tag paths in
document order), its visible text (shingles of consecutive tokens: one per CJK character, one
per word elsewhere; and shingles of consecutive text blocks, so moved paragraphs count even
between identical boilerplate) and the set of URLs it links to or loads. Shingles are hashed
to ints; structure and block shingles are counted, so a repeated block weighs as often as it
occurs. Each part is a Dice coefficient; the similarity is their weighted mean over the parts
either page has.

Noise that differs on every request is removed first: comments, scripts and styles (their
URLs stay in the link set), `<meta>` tags (CSRF tokens), hidden inputs (`__VIEWSTATE`), long
random tokens, and numbers (timestamps, dates, times, counters) in the text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

MAX_CHARS = 500_000
"""Only the first this many characters of a page are compared."""

TEXT_SHINGLE = 3
BLOCK_SHINGLE = 3
STRUCTURE_SHINGLE = 3
WEIGHTS = {"text": 0.5, "structure": 0.3, "links": 0.2}
BLOCK_ORDER_SHARE = 1 / 3
"""How much of the text part is the order of text blocks (the rest is their wording)."""

_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "meta"})
_LINK_ATTRIBUTES = {
    "a": "href",
    "area": "href",
    "link": "href",
    "script": "src",
    "img": "src",
    "iframe": "src",
    "frame": "src",
    "embed": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "track": "src",
    "object": "data",
    "form": "action",
}

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_RANDOM_TEXT = re.compile(r"[A-Za-z0-9+/=_-]{16,}")
_RANDOM_LINK = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[A-Za-z0-9]{16,}")
_NUMBER = re.compile(r"\d[\d.,:/-]*")
_LONG_NUMBER = re.compile(r"\d{8,}")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One page reduced to hashed shingle sets: what is compared, nothing else."""

    text: frozenset[int]
    blocks: Counter[int]
    structure: Counter[int]
    links: frozenset[str]


@dataclass(frozen=True, slots=True)
class Similarity:
    """The combined similarity in [0, 1] and its parts (None: neither page has that part)."""

    similarity: float
    text: float | None
    structure: float | None
    links: float | None


def _random_token(match: re.Match[str]) -> str:
    """A long run of token characters is noise when it mixes letters and digits (a UUID too)."""
    token = match[0]
    has_digit = any(c.isdigit() for c in token)
    has_letter = any(c.isalpha() for c in token)
    return "#" if has_digit and has_letter else token


def _shingles(tokens: list[int] | list[str], size: int) -> Iterable[int]:
    """The hash of every run of `size` consecutive tokens (one run if there are fewer)."""
    if len(tokens) < size:
        return [hash(tuple(tokens))] if tokens else []
    return map(hash, zip(*(tokens[i:] for i in range(size)), strict=False))


def _masked_links(urls: list[str]) -> frozenset[str]:
    """Links without fragments, their random tokens and timestamps masked (in one pass)."""
    joined = "\n".join(url.strip().split("#", 1)[0] for url in urls)
    masked = _LONG_NUMBER.sub("0", _RANDOM_LINK.sub(_random_token, joined))
    return frozenset(masked.split("\n")) if urls else frozenset()


def fingerprint(html: str) -> Fingerprint:
    """The fingerprint of a page's first MAX_CHARS characters."""
    root = LexborHTMLParser(html[:MAX_CHARS]).root
    paths: list[int] = []
    texts: list[str] = []
    links: list[str] = []
    stack = [(root, 0)] if root is not None else []
    while stack:
        node, parent_path = stack.pop()
        sibling = node.next
        if sibling is not None:
            stack.append((sibling, parent_path))
        tag = node.tag or ""
        if tag == "-text":
            texts.append(node.text_content or "")
            continue
        if not node.is_element_node:
            continue
        attribute = _LINK_ATTRIBUTES.get(tag)
        if attribute is not None or tag == "input":
            attributes = node.attributes
            if tag == "input" and (attributes.get("type") or "").lower() == "hidden":
                continue
            if attribute is not None and (target := attributes.get(attribute)):
                links.append(target)
        if tag in _SKIPPED_TAGS:
            continue
        path = hash((parent_path, tag))
        paths.append(path)
        child = node.child
        if child is not None:
            stack.append((child, path))
    text = _masked_text("\n".join(texts))
    blocks = [hash(line.strip()) for line in text.split("\n") if line and not line.isspace()]
    return Fingerprint(
        text=frozenset(_shingles(_tokens(text), TEXT_SHINGLE)),
        blocks=Counter(_shingles(blocks, BLOCK_SHINGLE)),
        structure=Counter(_shingles(paths, STRUCTURE_SHINGLE)),
        links=_masked_links(links),
    )


def _masked_text(text: str) -> str:
    """Visible text in lower case with random tokens and numbers (dates, times) masked."""
    return _NUMBER.sub("0", _RANDOM_TEXT.sub(_random_token, text.lower()))


def _tokens(text: str) -> list[str]:
    """Text as tokens: each CJK character is one, each other word one."""
    tokens: list[str] = _TOKEN.findall(text)
    return tokens


def dice(a: AbstractSet[object], b: AbstractSet[object]) -> float | None:
    """The Dice coefficient of two sets; None when both are empty (nothing to compare)."""
    if not a and not b:
        return None
    return 2 * len(a & b) / (len(a) + len(b))


def multiset_dice(a: Counter[int], b: Counter[int]) -> float | None:
    """The Dice coefficient of two multisets; None when both are empty."""
    total = a.total() + b.total()
    if not total:
        return None
    if len(a) > len(b):
        a, b = b, a
    shared = sum(min(count, b[key]) for key, count in a.items() if key in b)
    return 2 * shared / total


def compare(a: Fingerprint, b: Fingerprint) -> Similarity:
    """Similarity of two fingerprints: the weighted mean of the parts either page has."""
    wording = dice(a.text, b.text)
    order = multiset_dice(a.blocks, b.blocks)
    text = (
        wording
        if wording is None or order is None
        else ((1 - BLOCK_ORDER_SHARE) * wording + BLOCK_ORDER_SHARE * order)
    )
    parts = {
        "text": text,
        "structure": multiset_dice(a.structure, b.structure),
        "links": dice(a.links, b.links),
    }
    present = {name: score for name, score in parts.items() if score is not None}
    if present:
        weight = sum(WEIGHTS[name] for name in present)
        combined = sum(WEIGHTS[name] * score for name, score in present.items()) / weight
    else:
        combined = 1.0  # two empty pages are the same page
    return Similarity(
        similarity=round(combined, 4),
        text=_rounded(parts["text"]),
        structure=_rounded(parts["structure"]),
        links=_rounded(parts["links"]),
    )


def _rounded(score: float | None) -> float | None:
    """A score to four decimals, for stable values in reports."""
    return None if score is None else round(score, 4)


def similarity(html_a: str, html_b: str) -> Similarity:
    """How alike two pages are, from 0 (nothing shared) to 1 (the same page)."""
    first = fingerprint(html_a)
    return compare(first, first if html_b == html_a else fingerprint(html_b))
