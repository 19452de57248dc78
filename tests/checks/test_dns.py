"""DNS checks against a scripted network: every status of docs/checks.md, messages in en and zh."""

from __future__ import annotations

from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import yaml

from v6pilot.checks import dns as dns_checks
from v6pilot.checks.context import ScanOptions, ScanShared, Target, TargetContext
from v6pilot.checks.registry import REGISTRY
from v6pilot.checks.result import Status
from v6pilot.errors import DnsServFail, DnsTimeout, NetRefused
from v6pilot.net.iterative import (
    AddressTry,
    IterativeResult,
    Outcome,
    ServerReport,
    ZoneStep,
)
from v6pilot.net.mock import MockNetwork

HOST = "www.good.test"
SOA = "ns1.good.test. hostmaster.good.test. 1 3600 600 86400 300"
NS1_V6, NS2_V6 = "2001:db8::53", "2001:db8::54"


def make_ctx(
    net: MockNetwork,
    host: str = HOST,
    *,
    allow_private: bool = True,
    shared: ScanShared | None = None,
) -> TargetContext:
    shared = shared or ScanShared(net, ScanOptions(allow_private=allow_private))
    return TargetContext(Target(host, host, f"http://{host}/"), shared)


def good_zone(net: MockNetwork, ns2_v6: list[str] | None = None) -> None:
    """Zone good.test with ns1 (IPv6) and ns2 (IPv6 unless `ns2_v6` says otherwise), and www."""
    net.add_record("good.test", "SOA", [SOA])
    net.add_record("good.test", "NS", ["ns1.good.test.", "ns2.good.test."])
    net.add_host("ns1.good.test", v4=["192.0.2.53"], v6=[NS1_V6])
    net.add_host("ns2.good.test", v4=["192.0.2.54"], v6=[NS2_V6] if ns2_v6 is None else ns2_v6)
    net.add_host(HOST, v4=["192.0.2.80"], v6=["2001:db8::80"])


def soa_reply(
    zone: str = "good.test",
    *,
    aa: bool = True,
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
    soa: bool = True,
) -> dns.message.Message:
    response = dns.message.make_response(dns.message.make_query(zone, "SOA"))
    if aa:
        response.flags |= dns.flags.AA
    response.set_rcode(rcode)
    if soa:
        response.answer.append(dns.rrset.from_text(f"{zone}.", 300, "IN", "SOA", SOA))
    return response


def test_registration_profiles_and_indicators() -> None:
    expected = {
        "dns.aaaa": ("quick", 1),
        "dns.ns_aaaa": ("quick", None),
        "dns.ns_reach_v6": ("quick", None),
        "dns.chain_v6": ("standard", 4),
        "dns.mx_aaaa": ("standard", None),
    }
    for check_id, (profile, indicator) in expected.items():
        assert (REGISTRY[check_id].profile, REGISTRY[check_id].indicator) == (profile, indicator)


# dns.aaaa


async def test_aaaa_pass_follows_cnames() -> None:
    net = MockNetwork()
    net.cnames[HOST] = "edge.cdn.test"
    net.add_host("edge.cdn.test", v6=["2001:db8::80", "::ffff:192.0.2.80"])
    result = await dns_checks.aaaa(make_ctx(net))
    assert result.status is Status.PASS
    assert result.value == {
        "addresses": ["2001:db8::80"],
        "rejected": {"::ffff:192.0.2.80": "IPv4-mapped IPv6 address"},
        "cnames": ["edge.cdn.test"],
    }
    assert "2001:db8::80" in result.message and "2001:db8::80" in result.message_zh


async def test_aaaa_fail_without_aaaa() -> None:
    net = MockNetwork()
    net.add_host(HOST, v4=["192.0.2.80"])
    result = await dns_checks.aaaa(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.code == "dns.aaaa.no_aaaa"
    assert HOST in result.message and HOST in result.message_zh


async def test_aaaa_fail_on_ipv4_mapped_names_address_and_reason() -> None:
    net = MockNetwork()
    net.add_host(HOST, v4=["192.0.2.80"], v6=["::ffff:192.0.2.80"])
    result = await dns_checks.aaaa(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.code == "dns.aaaa.unusable"
    for message in (result.message, result.message_zh):
        assert "::ffff:192.0.2.80" in message and "IPv4-mapped" in message


async def test_aaaa_fail_on_non_global_without_allow_private() -> None:
    net = MockNetwork()
    net.add_host(HOST, v6=["2001:db8::80"])
    result = await dns_checks.aaaa(make_ctx(net, allow_private=False))
    assert result.status is Status.FAIL
    assert result.value["rejected"] == {
        "2001:db8::80": "non-global (private, link-local, ULA or documentation) address"
    }


async def test_aaaa_fail_on_nxdomain() -> None:
    result = await dns_checks.aaaa(make_ctx(MockNetwork()))
    assert result.status is Status.FAIL
    assert result.code == "dns.aaaa.nxdomain"
    assert "NXDOMAIN" in result.message and "NXDOMAIN" in result.message_zh


async def test_aaaa_error_on_resolver_failure() -> None:
    net = MockNetwork()
    net.failing_names[HOST] = DnsServFail("192.0.2.53", 53, "answered SERVFAIL", f"{HOST} AAAA")
    result = await dns_checks.aaaa(make_ctx(net))
    assert result.status is Status.ERROR
    assert "SERVFAIL" in result.message and "SERVFAIL" in result.message_zh


# dns.ns_aaaa


async def test_ns_aaaa_pass_with_two_name_servers() -> None:
    net = MockNetwork()
    good_zone(net)
    result = await dns_checks.ns_aaaa(make_ctx(net))
    assert result.status is Status.PASS
    assert result.value == {
        "zone": "good.test",
        "nameservers": {"ns1.good.test": [NS1_V6], "ns2.good.test": [NS2_V6]},
    }


async def test_ns_aaaa_warn_with_exactly_one() -> None:
    net = MockNetwork()
    good_zone(net, ns2_v6=["::ffff:192.0.2.54"])
    result = await dns_checks.ns_aaaa(make_ctx(net))
    assert result.status is Status.WARN
    assert result.code == "dns.ns_aaaa.one"
    for message in (result.message, result.message_zh):
        assert "good.test" in message and "ns2.good.test" in message


async def test_ns_aaaa_warn_with_a_single_name_server() -> None:
    net = MockNetwork()
    good_zone(net)
    net.add_record("good.test", "NS", ["ns1.good.test."])
    result = await dns_checks.ns_aaaa(make_ctx(net))
    assert result.status is Status.WARN
    assert "ns1.good.test" in result.message and "ns1.good.test" in result.message_zh


async def test_ns_aaaa_fail_with_none() -> None:
    net = MockNetwork()
    good_zone(net, ns2_v6=[])
    net.add_host("ns1.good.test", v4=["192.0.2.53"])
    result = await dns_checks.ns_aaaa(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.value["nameservers"] == {"ns1.good.test": [], "ns2.good.test": []}
    for message in (result.message, result.message_zh):
        assert "ns1.good.test, ns2.good.test" in message and "good.test" in message


async def test_ns_aaaa_fail_when_the_zone_lists_no_name_servers() -> None:
    net = MockNetwork()
    net.add_record("good.test", "SOA", [SOA])
    result = await dns_checks.ns_aaaa(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.code == "dns.ns_aaaa.no_ns"


async def test_ns_aaaa_error_when_the_zone_cannot_be_found() -> None:
    net = MockNetwork()
    net.failing_names[HOST] = DnsTimeout("192.0.2.1", 53, "no answer within 3s", f"{HOST} SOA")
    result = await dns_checks.ns_aaaa(make_ctx(net))
    assert result.status is Status.ERROR
    assert "192.0.2.1" in result.message and "192.0.2.1" in result.message_zh


async def test_ns_aaaa_error_when_a_name_server_lookup_fails_and_could_change_the_verdict() -> None:
    net = MockNetwork()
    good_zone(net)
    net.failing_names["ns2.good.test"] = DnsTimeout("192.0.2.1", 53, "no answer", "q")
    result = await dns_checks.ns_aaaa(make_ctx(net))
    assert result.status is Status.ERROR
    assert result.code == "dns.ns_aaaa.lookup_error"
    assert "ns2.good.test" in result.message and "ns2.good.test" in result.message_zh


# dns.ns_reach_v6


async def test_ns_reach_v6_pass_when_every_address_answers() -> None:
    net = MockNetwork()
    good_zone(net)
    net.direct[(NS1_V6, "good.test", "SOA")] = soa_reply()
    net.direct[(NS2_V6, "good.test", "SOA")] = soa_reply()
    result = await dns_checks.ns_reach_v6(make_ctx(net))
    assert result.status is Status.PASS
    assert result.value == {"zone": "good.test", "answered": [NS1_V6, NS2_V6], "failed": {}}


async def test_ns_reach_v6_warn_names_the_timed_out_address() -> None:
    net = MockNetwork()
    good_zone(net)
    net.direct[(NS1_V6, "good.test", "SOA")] = soa_reply()
    result = await dns_checks.ns_reach_v6(make_ctx(net))
    assert result.status is Status.WARN
    assert result.value["answered"] == [NS1_V6]
    assert result.value["failed"][NS2_V6].startswith("timeout")
    for message in (result.message, result.message_zh):
        assert NS2_V6 in message and "timeout" in message and "ns2.good.test" in message


async def test_ns_reach_v6_fail_names_refusals_and_non_authoritative_answers() -> None:
    net = MockNetwork()
    good_zone(net)
    net.direct[(NS1_V6, "good.test", "SOA")] = NetRefused(NS1_V6, 53, "connection refused")
    net.direct[(NS2_V6, "good.test", "SOA")] = soa_reply(aa=False)
    result = await dns_checks.ns_reach_v6(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.value["failed"] == {
        NS1_V6: "refused: connection refused",
        NS2_V6: "not authoritative (AA flag not set)",
    }
    for message in (result.message, result.message_zh):
        assert "refused" in message and NS1_V6 in message and "good.test" in message


async def test_ns_reach_v6_rejects_refused_rcode_and_missing_soa() -> None:
    net = MockNetwork()
    good_zone(net)
    net.direct[(NS1_V6, "good.test", "SOA")] = soa_reply(rcode=dns.rcode.REFUSED, soa=False)
    net.direct[(NS2_V6, "good.test", "SOA")] = soa_reply(soa=False)
    result = await dns_checks.ns_reach_v6(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.value["failed"] == {
        NS1_V6: "answered REFUSED",
        NS2_V6: "no SOA record for good.test in the answer",
    }


async def test_ns_reach_v6_fail_without_name_server_aaaa() -> None:
    net = MockNetwork()
    good_zone(net, ns2_v6=[])
    net.add_host("ns1.good.test", v4=["192.0.2.53"])
    result = await dns_checks.ns_reach_v6(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.code == "dns.ns_reach_v6.no_aaaa"
    assert not [call for call in net.calls if call[0] == "query"]


async def test_ns_reach_v6_error_when_the_zone_cannot_be_found() -> None:
    net = MockNetwork()
    net.failing_names[HOST] = DnsServFail("192.0.2.1", 53, "answered SERVFAIL", "q")
    result = await dns_checks.ns_reach_v6(make_ctx(net))
    assert result.status is Status.ERROR


async def test_ns_reach_v6_error_when_name_server_lookups_fail() -> None:
    net = MockNetwork()
    good_zone(net)
    net.failing_names["ns1.good.test"] = DnsTimeout("192.0.2.1", 53, "no answer", "q")
    net.failing_names["ns2.good.test"] = DnsTimeout("192.0.2.1", 53, "no answer", "q")
    result = await dns_checks.ns_reach_v6(make_ctx(net))
    assert result.status is Status.ERROR
    assert result.code == "dns.ns_reach_v6.lookup_error"


async def test_ns_reach_v6_queries_each_address_once_per_scan() -> None:
    net = MockNetwork()
    good_zone(net)
    net.add_host("mail.good.test", v6=["2001:db8::25"])
    net.direct[(NS1_V6, "good.test", "SOA")] = soa_reply()
    net.direct[(NS2_V6, "good.test", "SOA")] = soa_reply()
    first = make_ctx(net)
    await dns_checks.ns_reach_v6(first)
    second = await dns_checks.ns_reach_v6(make_ctx(net, "mail.good.test", shared=first.shared))
    assert second.status is Status.PASS
    assert len([call for call in net.calls if call[0] == "query"]) == 2


# dns.chain_v6


def step(zone: str, servers: dict[str, tuple[str, Outcome]]) -> ZoneStep:
    """A zone step; an empty address stands for a server without an IPv6 address."""
    reports = [
        ServerReport(name, [address], [AddressTry(address, outcome)], outcome)
        if address
        else ServerReport(name, [], [], outcome, "has no AAAA glue")
        for name, (address, outcome) in servers.items()
    ]
    return ZoneStep(zone, reports)


ROOT = step(".", {"a.root.": ("2001:db8::1", Outcome.ANSWERED)})
TEST = step("test.", {"ns.test.": ("2001:db8::2", Outcome.ANSWERED)})
GOOD = step("good.test.", {"ns1.good.test.": (NS1_V6, Outcome.ANSWERED)})


def iteration(
    chain: list[ZoneStep], *, ok: bool = True, cnames: list[str] | None = None, error: str = ""
) -> IterativeResult:
    return IterativeResult(
        qname=f"{HOST}.",
        rdtype="AAAA",
        ok=ok,
        rcode="NOERROR" if ok else "SERVFAIL",
        answer=[],
        authority=[],
        cnames=cnames or [],
        chain=chain,
        error=error,
        queries=len(chain),
    )


def chain_net(result: IterativeResult) -> MockNetwork:
    net = MockNetwork()
    net.iterations[(HOST, "AAAA", frozenset({6}))] = result
    return net


async def test_chain_v6_pass_on_no_data_answer() -> None:
    result = await dns_checks.chain(make_ctx(chain_net(iteration([ROOT, TEST, GOOD]))))
    assert result.status is Status.PASS
    assert result.value == {"zones": [".", "test", "good.test"], "broken_at": None, "cnames": []}
    assert "good.test" in result.message and "good.test" in result.message_zh


async def test_chain_v6_pass_through_cname_targets_lists_every_zone() -> None:
    cdn = step("cdn.test.", {"ns1.cdn.test.": ("2001:db8::3", Outcome.ANSWERED)})
    cached_root = ZoneStep(".", ROOT.servers, cached=True)
    found = iteration([ROOT, TEST, GOOD, cached_root, cdn], cnames=["edge.cdn.test."])
    result = await dns_checks.chain(make_ctx(chain_net(found)))
    assert result.status is Status.PASS
    assert result.value["zones"] == [".", "test", "good.test", "cdn.test"]
    assert result.value["cnames"] == ["edge.cdn.test"]


async def test_chain_v6_fail_names_the_broken_cname_zone_and_its_servers() -> None:
    cdn = step(
        "cdn-v4ns.test.",
        {
            "ns1.cdn-v4ns.test.": ("", Outcome.NO_ADDRESS),
            "ns2.cdn-v4ns.test.": ("", Outcome.NO_ADDRESS),
        },
    )
    error = "zone cdn-v4ns.test.: no name server reachable over IPv6 (...)"
    broken = iteration(
        [ROOT, TEST, GOOD, cdn], ok=False, cnames=["edge.cdn-v4ns.test."], error=error
    )
    result = await dns_checks.chain(make_ctx(chain_net(broken)))
    assert result.status is Status.FAIL
    assert result.code == "dns.chain_v6.broken"
    assert result.value["broken_at"] == "cdn-v4ns.test"
    assert result.value["cnames"] == ["edge.cdn-v4ns.test"]
    for message in (result.message, result.message_zh):
        assert "cdn-v4ns.test" in message
        assert "ns1.cdn-v4ns.test, ns2.cdn-v4ns.test" in message


async def test_chain_v6_fail_on_timeouts_at_the_tld() -> None:
    dead = step("test.", {"ns.test.": ("2001:db8::2", Outcome.TIMEOUT)})
    broken = iteration([ROOT, dead], ok=False, error="zone test.: no name server reachable")
    result = await dns_checks.chain(make_ctx(chain_net(broken)))
    assert result.status is Status.FAIL
    assert result.value["broken_at"] == "test"
    assert "ns.test" in result.message and "ns.test" in result.message_zh


async def test_chain_v6_fail_without_a_broken_zone_explains_why() -> None:
    looped = iteration([ROOT, TEST, GOOD], ok=False, error="CNAME loop at www.good.test.")
    result = await dns_checks.chain(make_ctx(chain_net(looped)))
    assert result.status is Status.FAIL
    assert result.code == "dns.chain_v6.failed"
    assert result.value["broken_at"] is None
    assert "CNAME loop" in result.message and "CNAME loop" in result.message_zh


async def test_chain_v6_error_when_the_walk_raises() -> None:
    class FailingNet(MockNetwork):
        async def iterate(
            self, name: str, rdtype: object, families: frozenset[int]
        ) -> IterativeResult:
            raise DnsTimeout("2001:db8::1", 53, "no answer", "q")

    result = await dns_checks.chain(make_ctx(FailingNet()))
    assert result.status is Status.ERROR
    assert "2001:db8::1" in result.message


async def test_chain_v6_walks_once_per_scan() -> None:
    net = chain_net(iteration([ROOT, TEST, GOOD]))
    first = make_ctx(net)
    await dns_checks.chain(first)
    await dns_checks.chain(make_ctx(net, shared=first.shared))
    assert [call for call in net.calls if call[0] == "iterate"] == [("iterate", HOST, "AAAA", "6")]


# dns.mx_aaaa


def mail_zone(net: MockNetwork, mx: dict[str, list[str]]) -> None:
    net.add_record("good.test", "MX", [f"{10 * i} {h}." for i, h in enumerate(mx, start=1)])
    for mx_host, v6 in mx.items():
        net.add_host(mx_host, v4=["192.0.2.25"], v6=v6)


async def test_mx_aaaa_pass_uses_the_registrable_domain() -> None:
    net = MockNetwork()
    mail_zone(net, {"mail.good.test": ["2001:db8::25"]})
    result = await dns_checks.mx_aaaa(make_ctx(net, "a.b.good.test"))
    assert result.status is Status.PASS
    assert result.value == {"mx": {"mail.good.test": ["2001:db8::25"]}}
    assert ("resolve", "good.test", "MX") in net.calls


async def test_mx_aaaa_warn_names_the_host_without_aaaa() -> None:
    net = MockNetwork()
    mail_zone(net, {"mx1.good.test": ["2001:db8::25"], "mx2.good.test": []})
    result = await dns_checks.mx_aaaa(make_ctx(net))
    assert result.status is Status.WARN
    assert "mx2.good.test" in result.message and "mx2.good.test" in result.message_zh


async def test_mx_aaaa_fail_when_no_mx_host_has_usable_aaaa() -> None:
    net = MockNetwork()
    mail_zone(net, {"mx1.good.test": ["::ffff:192.0.2.25"], "mx2.good.test": []})
    result = await dns_checks.mx_aaaa(make_ctx(net))
    assert result.status is Status.FAIL
    assert result.value == {"mx": {"mx1.good.test": [], "mx2.good.test": []}}
    assert "mx1.good.test, mx2.good.test" in result.message


async def test_mx_aaaa_info_without_mx_and_with_null_mx() -> None:
    net = MockNetwork()
    net.add_record("null.test", "MX", ["0 ."])
    none = await dns_checks.mx_aaaa(make_ctx(net))
    assert (none.status, none.code) == (Status.INFO, "dns.mx_aaaa.no_mx")
    assert "good.test" in none.message and "good.test" in none.message_zh
    null = await dns_checks.mx_aaaa(make_ctx(net, "www.null.test"))
    assert (null.status, null.code) == (Status.INFO, "dns.mx_aaaa.null_mx")


async def test_mx_aaaa_error_on_resolver_failures() -> None:
    net = MockNetwork()
    net.failing_names["good.test"] = DnsServFail("192.0.2.1", 53, "answered SERVFAIL", "q")
    assert (await dns_checks.mx_aaaa(make_ctx(net))).status is Status.ERROR
    net = MockNetwork()
    mail_zone(net, {"mx1.good.test": ["2001:db8::25"], "mx2.good.test": []})
    net.failing_names["mx2.good.test"] = DnsTimeout("192.0.2.1", 53, "no answer", "q")
    result = await dns_checks.mx_aaaa(make_ctx(net))
    assert (result.status, result.code) == (Status.ERROR, "dns.mx_aaaa.lookup_error")


def test_dns_and_mail_catalogues_have_the_same_keys_in_both_languages() -> None:
    root = Path(dns_checks.__file__).parent.parent / "i18n"
    for area in ("dns", "mail"):
        en = yaml.safe_load((root / "en" / f"{area}.yaml").read_text("utf-8"))
        zh = yaml.safe_load((root / "zh" / f"{area}.yaml").read_text("utf-8"))
        assert set(en) == set(zh)
        assert all(key.startswith(f"{area}.") for key in en)
