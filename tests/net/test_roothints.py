"""Root hints: parsing named.root-style files and the built-in IANA list."""

from __future__ import annotations

from pathlib import Path

import pytest

from v6pilot.errors import RootHintsError
from v6pilot.lab.catalogue import load_catalogue
from v6pilot.lab.zones import root_hints
from v6pilot.net.roothints import BUILTIN_ROOT_HINTS, NameServer, load_root_hints, parse_root_hints

NAMED_ROOT_EXCERPT = """\
;       This file holds the information on root name servers needed to
;       initialize cache of Internet domain name servers
;
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
;
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
; End of file
"""


def test_parses_named_root_format() -> None:
    hints = parse_root_hints(NAMED_ROOT_EXCERPT)
    assert hints.servers == [
        NameServer("a.root-servers.net.", ["2001:503:ba3e::2:30", "198.41.0.4"]),
        NameServer("m.root-servers.net.", ["202.12.27.33"]),
    ]
    assert hints.servers[1].addresses_in(frozenset({6})) == []
    assert hints.servers[0].addresses_in(frozenset({4, 6})) == ["2001:503:ba3e::2:30", "198.41.0.4"]


def test_builtin_hints_list_the_thirteen_iana_root_servers() -> None:
    names = [server.name for server in BUILTIN_ROOT_HINTS.servers]
    assert names == [f"{letter}.root-servers.net." for letter in "abcdefghijklm"]
    for server in BUILTIN_ROOT_HINTS.servers:
        assert len(server.addresses_in(frozenset({4}))) == 1, server.name
        assert len(server.addresses_in(frozenset({6}))) == 1, server.name


def test_loads_the_lab_root_hints_file(tmp_path: Path) -> None:
    path = tmp_path / "root.hints"
    path.write_text(root_hints(load_catalogue()))
    hints = load_root_hints(path)
    assert hints.servers and all(server.addresses for server in hints.servers)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.root. 3600 A 192.0.2.1\n", "no NS records"),
        (". 3600 NS a.root.\n", "no address"),
        (". 3600 NS\n", "do not parse"),
    ],
)
def test_rejects_unusable_hints(text: str, message: str) -> None:
    with pytest.raises(RootHintsError, match=message):
        parse_root_hints(text)


def test_missing_file_is_a_root_hints_error(tmp_path: Path) -> None:
    with pytest.raises(RootHintsError, match="cannot read root hints"):
        load_root_hints(tmp_path / "absent")
