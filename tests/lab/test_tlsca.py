"""The lab CA issues certificates that Python's ssl and openssl accept for exactly their names."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from v6pilot.errors import LabError
from v6pilot.lab.tlsca import LabCA


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("ca"))


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str) -> None:
    """A complete TLS handshake between the two contexts in memory, without any socket."""
    server_in, server_out, client_in, client_out = (ssl.MemoryBIO() for _ in range(4))
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    client_side = client.wrap_bio(client_in, client_out, server_hostname=hostname)
    pending = {client_side, server_side}
    for _ in range(10):
        for side in list(pending):
            try:
                side.do_handshake()
                pending.discard(side)
            except ssl.SSLWantReadError:
                pass
        server_in.write(client_out.read())
        client_in.write(server_out.read())
        if not pending:
            return
    raise AssertionError("TLS handshake did not finish")


def _client(ca: LabCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca.ca_path))


def test_create_writes_ca_files_and_load_reads_them_back(ca: LabCA) -> None:
    directory = ca.ca_path.parent
    assert ca.ca_path == directory / "ca.pem"
    assert (directory / "ca.key").stat().st_mode & 0o777 == 0o600
    loaded = LabCA.load(directory)
    chain, _ = loaded.issue(["www.good.test"])
    assert chain.endswith(ca.ca_path.read_bytes())


def test_load_without_ca_raises_lab_error(tmp_path: Path) -> None:
    with pytest.raises(LabError):
        LabCA.load(tmp_path)


def test_certificate_verifies_for_each_of_its_names(ca: LabCA) -> None:
    server = ca.server_context(["www.good.test", "good.test", "xn--3ds443g.test"])
    for name in ("www.good.test", "good.test", "xn--3ds443g.test"):
        _handshake(server, _client(ca), name)


def test_certificate_fails_for_another_name(ca: LabCA) -> None:
    server = ca.server_context(["wrong.invalid"])
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _handshake(server, _client(ca), "www.good.test")


def test_certificate_fails_for_a_client_trusting_another_ca(ca: LabCA, tmp_path: Path) -> None:
    other = LabCA.create(tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(ca.server_context(["www.good.test"]), _client(other), "www.good.test")


def test_server_context_is_made_once_per_name_list(ca: LabCA) -> None:
    first = ca.server_context(["a.test", "b.test"])
    assert ca.server_context(("a.test", "b.test")) is first
    assert ca.server_context(["b.test", "a.test"]) is not first


def test_issue_requires_a_name(ca: LabCA) -> None:
    with pytest.raises(LabError):
        ca.issue([])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_verifies_the_leaf_as_a_tls_server_certificate(ca: LabCA, tmp_path: Path) -> None:
    chain, _ = ca.issue(["www.good.test"])
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(chain)
    command = ["openssl", "verify", "-CAfile", str(ca.ca_path), "-purpose", "sslserver"]
    good = subprocess.run([*command, "-verify_hostname", "www.good.test", str(leaf)], check=False)
    bad = subprocess.run(
        [*command, "-verify_hostname", "www.bad.test", str(leaf)], capture_output=True, check=False
    )
    assert good.returncode == 0
    assert bad.returncode != 0
