"""mail.smtp_v6 against a scripted network: every status of docs/checks.md, in en and zh."""

from __future__ import annotations

from v6pilot.checks import mail
from v6pilot.checks.context import ScanOptions, ScanShared, Target, TargetContext
from v6pilot.checks.registry import REGISTRY
from v6pilot.checks.result import Status
from v6pilot.errors import DnsServFail, DnsTimeout, NetRefused
from v6pilot.net.mock import MockNetwork
from v6pilot.net.types import SmtpReply

HOST = "www.good.test"
MX1_V6, MX1_V6B, MX2_V6 = "2001:db8::25", "2001:db8::26", "2001:db8::27"
GOOD_EHLO = ["250-mail.good.test", "250 SIZE 1000000"]


def make_ctx(
    net: MockNetwork, host: str = HOST, *, shared: ScanShared | None = None
) -> TargetContext:
    shared = shared or ScanShared(net, ScanOptions(allow_private=True))
    return TargetContext(Target(host, host, f"http://{host}/"), shared)


def mail_net(mx: dict[str, list[str]]) -> MockNetwork:
    """good.test with the MX hosts `mx` (in preference order) and their IPv6 addresses."""
    net = MockNetwork()
    net.add_record("good.test", "MX", [f"{10 * i} {h}." for i, h in enumerate(mx, start=1)])
    for host, v6 in mx.items():
        net.add_host(host, v4=["192.0.2.25"], v6=v6)
    return net


def greets(net: MockNetwork, address: str) -> None:
    net.mail[address] = SmtpReply(address, "220 mail.good.test ESMTP", GOOD_EHLO)


def test_registered_in_the_standard_profile() -> None:
    assert REGISTRY["mail.smtp_v6"].profile == "standard"
    assert REGISTRY["mail.smtp_v6"].indicator is None


async def test_pass_when_every_address_of_every_mx_greets_and_answers_ehlo() -> None:
    net = mail_net({"mx1.good.test": [MX1_V6, MX1_V6B], "mx2.good.test": [MX2_V6]})
    for address in (MX1_V6, MX1_V6B, MX2_V6):
        greets(net, address)
    result = await mail.smtp_v6(make_ctx(net))
    assert result.status is Status.PASS
    assert result.value == {"ok": [MX1_V6, MX1_V6B, MX2_V6], "failed": {}}
    assert [c for c in net.calls if c[0] == "smtp"] == [
        ("smtp", MX1_V6),
        ("smtp", MX1_V6B),
        ("smtp", MX2_V6),
    ]


async def test_warn_names_the_timed_out_address_and_its_host() -> None:
    net = mail_net({"mx1.good.test": [MX1_V6], "mx2.good.test": [MX2_V6]})
    greets(net, MX1_V6)
    result = await mail.smtp_v6(make_ctx(net))
    assert result.status is Status.WARN
    assert result.value["ok"] == [MX1_V6]
    assert result.value["failed"][MX2_V6].startswith("timeout")
    for message in (result.message, result.message_zh):
        assert MX2_V6 in message and "mx2.good.test" in message and "timeout" in message


async def test_fail_names_refusals_bad_banners_and_ehlo_errors() -> None:
    net = mail_net({"mx1.good.test": [MX1_V6, MX1_V6B], "mx2.good.test": [MX2_V6]})
    net.mail[MX1_V6] = NetRefused(MX1_V6, 25, "connection refused")
    net.mail[MX1_V6B] = SmtpReply(MX1_V6B, "554 no service here")
    net.mail[MX2_V6] = SmtpReply(MX2_V6, "220 hello", ["502 command not implemented"])
    result = await mail.smtp_v6(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.value == {
        "ok": [],
        "failed": {
            MX1_V6: "refused: connection refused",
            MX1_V6B: "banner 554 no service here",
            MX2_V6: "EHLO answered 502 command not implemented",
        },
    }
    for message in (result.message, result.message_zh):
        assert MX1_V6 in message and "refused" in message and "25" in message


async def test_skipped_when_no_mx_host_has_usable_aaaa() -> None:
    net = mail_net({"mail.good.test": ["::ffff:192.0.2.25"]})
    result = await mail.smtp_v6(make_ctx(net))
    assert result.status is Status.SKIPPED
    assert "dns.mx_aaaa" in result.message and "dns.mx_aaaa" in result.message_zh
    assert not [c for c in net.calls if c[0] == "smtp"]


async def test_info_without_mx_and_with_null_mx() -> None:
    net = MockNetwork()
    net.add_record("null.test", "MX", ["0 ."])
    none = await mail.smtp_v6(make_ctx(net))
    assert (none.status, none.code) == (Status.INFO, "mail.smtp_v6.no_mx")
    assert "good.test" in none.message and "good.test" in none.message_zh
    null = await mail.smtp_v6(make_ctx(net, "www.null.test"))
    assert (null.status, null.code) == (Status.INFO, "mail.smtp_v6.null_mx")


async def test_error_when_the_mx_lookup_fails() -> None:
    net = MockNetwork()
    net.failing_names["good.test"] = DnsServFail("192.0.2.1", 53, "answered SERVFAIL", "q")
    result = await mail.smtp_v6(make_ctx(net))
    assert result.status is Status.ERROR
    assert "SERVFAIL" in result.message and "SERVFAIL" in result.message_zh


async def test_error_when_mx_address_lookups_fail() -> None:
    net = mail_net({"mail.good.test": []})
    net.failing_names["mail.good.test"] = DnsTimeout("192.0.2.1", 53, "no answer", "q")
    result = await mail.smtp_v6(make_ctx(net))
    assert (result.status, result.code) == (Status.ERROR, "mail.smtp_v6.lookup_error")
    assert "mail.good.test" in result.message


async def test_each_address_is_probed_once_per_scan() -> None:
    net = mail_net({"mail.good.test": [MX1_V6]})
    greets(net, MX1_V6)
    first = make_ctx(net)
    await mail.smtp_v6(first)
    second = await mail.smtp_v6(make_ctx(net, "shop.good.test", shared=first.shared))
    assert second.status is Status.PASS
    assert [c for c in net.calls if c[0] == "smtp"] == [("smtp", MX1_V6)]
