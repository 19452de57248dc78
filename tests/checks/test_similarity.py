# ruff: noqa: RUF001 -- the pages' Chinese text uses full-width punctuation on purpose
"""The page similarity behind web.consistency: robust to per-request noise, sensitive to order
and content, and fast enough for every scanned homepage."""

from __future__ import annotations

import base64
import random
import secrets

from v6pilot.checks.decode import decode_html
from v6pilot.checks.similarity import similarity

HANZI = [chr(0x4E00 + 37 * i) for i in range(500)]
ENGLISH = ["portal", "district", "services", "citizens", "channels", "offers", "news", "data"]
NAV = ["首页", "政务公开", "政务服务", "互动交流", "走进示范区", "数据开放"]


def paragraph(rng: random.Random) -> str:
    """One paragraph of mixed Chinese and English text."""
    chinese = "".join(rng.choice(HANZI) for _ in range(rng.randint(40, 80)))
    english = " ".join(rng.choice(ENGLISH) for _ in range(rng.randint(5, 12)))
    return f"{chinese}。{english}."


def noise(rng: random.Random) -> dict[str, str]:
    """What a dynamic page changes on every request (as the lab's `dynamic` site does)."""
    return {
        "csrf": secrets.token_hex(32),
        "nonce": secrets.token_urlsafe(16),
        "render_id": secrets.token_hex(8),
        "now": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} {rng.randint(10, 23)}:"
        f"{rng.randint(10, 59)}:{rng.randint(10, 59)}",
        "viewstate": base64.b64encode(secrets.token_bytes(225)).decode(),
        "ms": f"{rng.uniform(5, 250):.3f}",
        "version": str(rng.randint(10**9, 10**10)),
        "token": secrets.token_hex(16),
    }


def portal(paragraphs: list[str], *, seed: int = 0, charset: str = "utf-8") -> str:
    """A government-portal-like homepage with the given paragraphs and fresh noise."""
    rng = random.Random(seed)
    n = noise(rng)
    nav = "".join(f'<li><a href="/col/{i}.html">{w}</a></li>' for i, w in enumerate(NAV))
    body = "".join(
        f'<div class="item"><h3><a href="/art/{i}.html">第{i}条</a></h3><p>{p}</p></div>\n'
        for i, p in enumerate(paragraphs)
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}">'
        f'<meta name="csrf-token" content="{n["csrf"]}"><title>示范区人民政府门户网站</title>'
        f'<link rel="stylesheet" href="/r/site.css?v={n["version"]}">'
        f'<script nonce="{n["nonce"]}">window.__renderId = "{n["render_id"]}";</script>'
        "<style>.item { margin: 4px; }</style></head><body>"
        f'<header><h1>示范区人民政府</h1><ul class="nav">{nav}</ul></header>'
        f'<main><p>更新时间：<span class="updated">{n["now"]}</span></p>{body}'
        f'<form method="post" action="/search.html?token={n["token"]}">'
        f'<input type="hidden" name="__VIEWSTATE" value="{n["viewstate"]}">'
        '<input type="text" name="q"></form></main>'
        f"<!-- rendered in {n['ms']} ms --><footer><p>版权所有 示范区大数据中心</p></footer>"
        "</body></html>"
    )


def paragraphs(count: int = 30, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [paragraph(rng) for _ in range(count)]


TEST_PAGE = (
    "<!DOCTYPE html><html><head><title>IPv6 版本 - IPv6 test page</title>"
    '<link rel="stylesheet" href="/r/site.css"></head><body><div class="v6-test">'
    "<h1>IPv6 测试页面</h1><p>This is the IPv6 test page of www.example.test.</p>"
    "<p>本页面仅用于IPv6连通性测试，正式内容请通过IPv4访问。</p></div></body></html>"
)


def test_identical_pages_score_one() -> None:
    page = portal(paragraphs())
    score = similarity(page, page)
    assert score.similarity == 1.0
    assert (score.text, score.structure, score.links) == (1.0, 1.0, 1.0)


def test_per_request_noise_is_ignored() -> None:
    texts = paragraphs()
    score = similarity(portal(texts, seed=1), portal(texts, seed=2))
    assert score.similarity >= 0.97


def test_gbk_and_utf8_encodings_of_one_page_match() -> None:
    texts = paragraphs()
    gbk = portal(texts, seed=1, charset="gbk").encode("gbk")
    utf8 = portal(texts, seed=2).encode("utf-8")
    score = similarity(decode_html(gbk, "text/html"), decode_html(utf8, "text/html"))
    assert score.similarity >= 0.97


def test_an_unrelated_small_page_scores_low() -> None:
    assert similarity(portal(paragraphs()), TEST_PAGE).similarity < 0.5


def test_swapped_paragraphs_score_below_identical() -> None:
    texts = paragraphs()
    swapped = texts.copy()
    swapped[3], swapped[17] = swapped[17], swapped[3]
    score = similarity(portal(texts), portal(swapped))
    assert score.similarity < 1.0
    assert score.text is not None and score.text < 1.0


def test_three_of_thirty_paragraphs_changed_stays_similar() -> None:
    texts = paragraphs()
    changed = texts.copy()
    fresh = paragraphs(3, seed=99)
    changed[2], changed[15], changed[28] = fresh
    score = similarity(portal(texts), portal(changed))
    assert 0.8 <= score.similarity < 0.97


def test_same_template_with_other_content_fails() -> None:
    score = similarity(portal(paragraphs(seed=1)), portal(paragraphs(seed=2)))
    assert score.structure is not None and score.structure > 0.9
    assert score.similarity < 0.7


def test_missing_parts_are_left_out_not_counted_as_equal() -> None:
    score = similarity("<p>只有文字 only text</p>", "<p>只有文字 only text</p>")
    assert score.links is None
    assert score.similarity == 1.0
    assert similarity("", "").similarity == 1.0
    assert similarity("<p>something</p>", "").similarity < 0.5


def test_repeated_blocks_count_as_often_as_they_occur() -> None:
    ten = "<ul>" + "<li>同一条目 same item</li>" * 10 + "</ul>"
    thirty = "<ul>" + "<li>同一条目 same item</li>" * 30 + "</ul>"
    score = similarity(ten, thirty)
    assert score.structure is not None and score.structure < 0.6


def test_link_changes_lower_the_links_part() -> None:
    a = '<a href="/a.html">x</a><a href="/b.html">y</a><script src="/app.js?v=1714567890"></script>'
    b = '<a href="/a.html">x</a><a href="/c.html">y</a><script src="/app.js?v=1714999999"></script>'
    score = similarity(a, b)
    assert score.links is not None and 0.6 < score.links < 0.7  # 2 of 3 links shared


def test_input_beyond_the_cap_is_ignored() -> None:
    page = portal(paragraphs())
    padding = "<p>" + "无关内容 " * 200_000 + "</p>"
    assert similarity(page + padding, page + "<p>other</p>" + padding).similarity > 0.97


def news_portal(seed: int, size: int = 200_000) -> str:
    """A typical 200 KB portal homepage: boxes of dated headline links, scripts, styles."""
    rng = random.Random(seed)
    style = "<style>" + "".join(f".c{i} {{ margin: {i}px; }}" for i in range(300)) + "</style>"
    parts = [portal([], seed=seed).split("</main>")[0], style]
    box = 0
    while sum(len(p.encode()) for p in parts) < size - 1000:
        box += 1
        parts.append(f'<div class="box"><h3><a href="/col/{box}/">栏目{box}</a></h3><ul>')
        for day in range(1, 9):
            title = "".join(rng.choice(HANZI) for _ in range(rng.randint(14, 30)))
            href = f"/art/2026/5/{day}/art_{box}_{rng.randint(10000, 99999)}.html"
            parts.append(
                f'<li><a href="{href}" target="_blank" title="{title}">{title}</a>'
                f'<span class="date">2026-05-0{day}</span></li>'
            )
        parts.append("</ul></div>")
    return "".join(parts) + "</main></body></html>"


def test_large_portal_pages_compare_by_content() -> None:
    page, same, other = news_portal(1), news_portal(1), news_portal(2)
    assert 195_000 < len(page.encode()) < 205_000
    assert similarity(page, same).similarity == 1.0
    assert similarity(page, other).similarity < similarity(page, same).similarity
