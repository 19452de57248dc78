"""The lab's certificate authority: issues the TLS certificates the lab's web servers present.

Scanners trust the lab by loading `ca.pem`; nothing here touches a system trust store.
"""

from __future__ import annotations

import datetime
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from v6pilot.errors import LabError

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
CA_VALIDITY = datetime.timedelta(days=3652)
LEAF_VALIDITY = datetime.timedelta(days=365)
BACKDATE = datetime.timedelta(days=1)
MAX_COMMON_NAME = 64


def _new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key: quick to generate and accepted by every TLS stack."""
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM (lab keys guard nothing of value)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class LabCA:
    """A self-signed CA kept in a directory, issuing server certificates for lab names."""

    def __init__(
        self, directory: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ) -> None:
        self._directory = directory
        self._cert = cert
        self._key = key
        self._contexts: dict[tuple[str, ...], ssl.SSLContext] = {}

    @classmethod
    def create(cls, directory: Path) -> LabCA:
        """Make a new CA and write `ca.pem` and `ca.key` into `directory`."""
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "v6pilot lab"),
                x509.NameAttribute(NameOID.COMMON_NAME, "v6pilot lab CA"),
            ]
        )
        now = datetime.datetime.now(datetime.UTC)
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now - BACKDATE + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CA_CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path = directory / CA_KEY_FILE
        key_path.unlink(missing_ok=True)
        key_path.touch(mode=0o600)
        key_path.write_bytes(_key_pem(key))
        return cls(directory, cert, key)

    @classmethod
    def load(cls, directory: Path) -> LabCA:
        """Open the CA that `create` wrote into `directory`."""
        try:
            cert = x509.load_pem_x509_certificate((directory / CA_CERT_FILE).read_bytes())
            key = serialization.load_pem_private_key(
                (directory / CA_KEY_FILE).read_bytes(), password=None
            )
        except (OSError, ValueError) as exc:
            raise LabError(f"cannot load the lab CA from {directory}: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise LabError(f"the lab CA key in {directory} is not an EC key")
        return cls(directory, cert, key)

    @property
    def ca_path(self) -> Path:
        """The CA certificate (PEM) that clients must trust to verify lab servers."""
        return self._directory / CA_CERT_FILE

    def issue(self, names: Sequence[str]) -> tuple[bytes, bytes]:
        """A server certificate for the DNS `names`: (leaf + CA chain PEM, key PEM)."""
        if not names:
            raise LabError("a lab certificate needs at least one name")
        key = _new_key()
        public = key.public_key()
        subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "v6pilot lab")]
        if len(names[0]) <= MAX_COMMON_NAME:
            subject.append(x509.NameAttribute(NameOID.COMMON_NAME, names[0]))
        now = datetime.datetime.now(datetime.UTC)
        ca_ski = self._cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(self._cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now - BACKDATE + LEAF_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        chain = cert.public_bytes(serialization.Encoding.PEM) + self._cert.public_bytes(
            serialization.Encoding.PEM
        )
        return chain, _key_pem(key)

    def server_context(self, names: Sequence[str]) -> ssl.SSLContext:
        """A TLS server context presenting a certificate for `names`, made once per name list."""
        key = tuple(names)
        context = self._contexts.get(key)
        if context is None:
            context = self._new_server_context(key)
            self._contexts[key] = context
        return context

    def _new_server_context(self, names: Sequence[str]) -> ssl.SSLContext:
        """Issue a certificate and load it (ssl only loads chains from files, so via a temp dir)."""
        chain, key = self.issue(names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.set_alpn_protocols(["http/1.1"])
        with tempfile.TemporaryDirectory(prefix="v6pilot-cert-") as tmp:
            chain_path, key_path = Path(tmp, "chain.pem"), Path(tmp, "key.pem")
            chain_path.write_bytes(chain)
            key_path.write_bytes(key)
            context.load_cert_chain(chain_path, key_path)
        return context
