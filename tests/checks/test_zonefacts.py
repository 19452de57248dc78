"""Shared DNS facts: the enclosing zone found via SOA, its name servers and a domain's MX hosts."""

from __future__ import annotations

import pytest

from v6pilot.checks.context import ScanOptions, ScanShared, Target, TargetContext
from v6pilot.checks.facts import Addresses
from v6pilot.checks.zonefacts import (
    display_name,
    enclosing_zone,
    failure_reason,
    mail_hosts,
    parse_mx,
    zone_servers,
)
from v6pilot.errors import DnsServFail, DnsTimeout, NetError, NetRefused, NetUnreachable
from v6pilot.net.mock import MockNetwork

SOA = "ns1.good.test. hostmaster.good.test. 1 3600 600 86400 300"


def make_ctx(net: MockNetwork, host: str = "www.good.test") -> TargetContext:
    shared = ScanShared(net, ScanOptions(allow_private=True))
    return TargetContext(Target(host, host, f"http://{host}/"), shared)


def soa_calls(net: MockNetwork) -> list[str]:
    return [call[1] for call in net.calls if call[0] == "resolve" and call[2] == "SOA"]


async def test_zone_found_at_the_parent_of_the_host() -> None:
    net = MockNetwork()
    net.add_host("www.good.test", v6=["2001:db8::80"])
    net.add_record("good.test", "SOA", [SOA])
    assert await enclosing_zone(make_ctx(net), "www.good.test") == "good.test"
    assert soa_calls(net) == ["www.good.test", "good.test"]


async def test_zone_apex_is_its_own_zone_and_the_name_is_normalised() -> None:
    net = MockNetwork()
    net.add_record("good.test", "SOA", [SOA])
    assert await enclosing_zone(make_ctx(net), "Good.Test.") == "good.test"


async def test_walk_passes_nonexistent_names_and_reaches_the_root() -> None:
    net = MockNetwork()
    net.add_record("", "SOA", ["a.root. hostmaster.root. 1 3600 600 86400 300"])
    ctx = make_ctx(net)
    assert await enclosing_zone(ctx, "a.b.test") == ""
    assert soa_calls(net) == ["a.b.test", "b.test", "test", "."]


async def test_no_soa_anywhere_gives_none() -> None:
    assert await enclosing_zone(make_ctx(MockNetwork()), "www.good.test") is None


async def test_an_soa_reached_through_a_cname_is_not_the_hosts_zone() -> None:
    net = MockNetwork()
    net.cnames["www.good.test"] = "cdn.test"
    net.add_record("cdn.test", "SOA", [SOA])
    net.add_record("good.test", "SOA", [SOA])
    assert await enclosing_zone(make_ctx(net), "www.good.test") == "good.test"


async def test_apex_answers_are_shared_by_the_whole_scan() -> None:
    net = MockNetwork()
    net.add_record("good.test", "SOA", [SOA])
    ctx = make_ctx(net)
    other = TargetContext(Target("a", "mail.good.test", "http://mail.good.test/"), ctx.shared)
    await enclosing_zone(ctx, "www.good.test")
    await enclosing_zone(other, "mail.good.test")
    assert soa_calls(net) == ["www.good.test", "good.test", "mail.good.test"]


async def test_resolver_failure_propagates_from_the_walk() -> None:
    net = MockNetwork()
    net.failing_names["www.good.test"] = DnsServFail("192.0.2.53", 53, "SERVFAIL", "x")
    with pytest.raises(DnsServFail):
        await enclosing_zone(make_ctx(net), "www.good.test")


async def test_zone_servers_lists_each_name_servers_usable_aaaa() -> None:
    net = MockNetwork()
    net.add_record("good.test", "SOA", [SOA])
    net.add_record("good.test", "NS", ["ns2.good.test.", "ns1.good.test."])
    net.add_host("ns1.good.test", v4=["192.0.2.1"], v6=["2001:db8::1", "::ffff:192.0.2.1"])
    net.add_host("ns2.good.test", v4=["192.0.2.2"])
    servers = await zone_servers(make_ctx(net), "www.good.test")
    assert servers.zone == "good.test"
    assert servers.error == ""
    assert servers.usable_v6() == {"ns1.good.test": ["2001:db8::1"], "ns2.good.test": []}
    assert servers.lookup_errors() == {}


async def test_zone_servers_reports_a_missing_zone_and_resolver_failures() -> None:
    missing = await zone_servers(make_ctx(MockNetwork()), "www.good.test")
    assert "no zone" in missing.error and "www.good.test" in missing.error
    net = MockNetwork()
    net.failing_names["www.good.test"] = DnsTimeout("192.0.2.53", 53, "no answer", "q")
    failed = await zone_servers(make_ctx(net), "www.good.test")
    assert "192.0.2.53" in failed.error


async def test_zone_servers_separates_lookup_failures_from_missing_names() -> None:
    net = MockNetwork()
    net.add_record("good.test", "SOA", [SOA])
    net.add_record("good.test", "NS", ["ns1.good.test.", "gone.good.test."])
    net.failing_names["ns1.good.test"] = DnsTimeout("192.0.2.53", 53, "no answer", "q")
    servers = await zone_servers(make_ctx(net), "www.good.test")
    assert list(servers.lookup_errors()) == ["ns1.good.test"]
    assert servers.nameservers["gone.good.test"].error.endswith("(NXDOMAIN)")


def test_parse_mx_handles_preference_host_and_null_mx() -> None:
    assert parse_mx("10 Mail.Good.Test.") == (10, "mail.good.test")
    assert parse_mx("0 .") == (0, "")


async def test_mail_hosts_are_ordered_by_preference_without_duplicates() -> None:
    net = MockNetwork()
    net.add_record("good.test", "MX", ["20 b.good.test.", "10 a.good.test.", "30 a.good.test."])
    net.add_host("a.good.test", v6=["2001:db8::25"])
    net.add_host("b.good.test", v4=["192.0.2.25"])
    mail = await mail_hosts(make_ctx(net), "good.test")
    assert list(mail.hosts) == ["a.good.test", "b.good.test"]
    assert mail.usable_v6() == {"a.good.test": ["2001:db8::25"], "b.good.test": []}
    assert not mail.null_mx and mail.error == ""


async def test_mail_hosts_null_mx_no_mx_and_failure() -> None:
    net = MockNetwork()
    net.add_record("null.test", "MX", ["0 ."])
    net.failing_names["broken.test"] = DnsServFail("192.0.2.53", 53, "answered SERVFAIL", "q")
    ctx = make_ctx(net)
    null = await mail_hosts(ctx, "null.test")
    assert null.null_mx and not null.hosts
    none = await mail_hosts(ctx, "none.test")
    assert not none.null_mx and not none.hosts and none.error == ""
    broken = await mail_hosts(ctx, "broken.test")
    assert "SERVFAIL" in broken.error


def test_failure_reason_names_the_kind() -> None:
    assert failure_reason(DnsTimeout("2001:db8::1", 53, "no answer within 3s", "q")).startswith(
        "timeout: "
    )
    assert failure_reason(NetRefused("2001:db8::1", 25, "connection refused")) == (
        "refused: connection refused"
    )
    assert failure_reason(NetUnreachable("2001:db8::1", 25, "no route")) == "unreachable: no route"
    assert failure_reason(NetError("2001:db8::1", 25, "reset")) == "reset"


def test_lookup_failed_and_display_name() -> None:
    assert Addresses("a", 6, error="[192.0.2.53]:53: timeout").lookup_failed
    assert not Addresses("a", 6, error="a does not exist (NXDOMAIN)", nxdomain=True).lookup_failed
    assert not Addresses("a", 6).lookup_failed
    assert display_name("good.test.") == "good.test"
    assert display_name(".") == "." and display_name("") == "."
