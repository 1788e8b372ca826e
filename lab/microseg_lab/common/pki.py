"""The lab's own certificate authority and the certificates it signs.

The CA is created once per state directory (``ca.pem`` + ``ca.key``) and reused afterwards, so
clients that trusted it keep trusting the lab across restarts. Server certificates are cheap and
are re-issued at every start; client certificates (product credentials) are issued on demand.
All keys are ECDSA P-256.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server.key"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def write_private(path: str, data: bytes) -> None:
    """Write a file readable by its owner only (keys, secrets)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def write_public(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class CertificateAuthority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: str
    key_path: str

    @property
    def pem(self) -> bytes:
        return cert_pem(self.cert)

    def _builder(self, subject: x509.Name, public_key, days: int) -> x509.CertificateBuilder:
        now = _now()
        ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        )

    def issue_server(self, hostnames: list[str], addresses: list[str], days: int = 365):
        key = new_key()
        sans: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
        sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0] if hostnames else addresses[0])])
        cert = (
            self._builder(subject, key.public_key(), days)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=True, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert, key

    def issue_client(self, common_name: str, organization: str | None = None, days: int = 3650):
        key = new_key()
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if organization:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        cert = (
            self._builder(x509.Name(attrs), key.public_key(), days)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=True, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert, key

    def signed(self, cert: x509.Certificate) -> bool:
        """True when ``cert`` was issued by this CA (same issuer name and key identifier)."""
        if cert.issuer != self.cert.subject:
            return False
        try:
            aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
            ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            return False
        return aki == ski


def _not_after(cert: x509.Certificate) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)  # cryptography >= 42
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def _create_ca(cert_path: str, key_path: str) -> CertificateAuthority:
    key = new_key()
    now = _now()
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "microseg lab"),
        x509.NameAttribute(NameOID.COMMON_NAME, "microseg lab CA %s" % now.strftime("%Y%m%d%H%M%S")),
    ])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(key_path, key_pem(key))
    write_public(cert_path, cert_pem(cert))
    return CertificateAuthority(cert, key, cert_path, key_path)


def ensure_ca(state_dir: str) -> CertificateAuthority:
    """Load the lab CA of ``state_dir``, creating it the first time."""
    cert_path = os.path.join(state_dir, CA_CERT_FILE)
    key_path = os.path.join(state_dir, CA_KEY_FILE)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        with open(key_path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        if _not_after(cert) > _now() + datetime.timedelta(days=30):
            return CertificateAuthority(cert, key, cert_path, key_path)
    return _create_ca(cert_path, key_path)


def write_server_cert(state_dir: str, ca: CertificateAuthority) -> tuple[str, str]:
    """Issue a fresh loopback server certificate and return (cert_path, key_path)."""
    cert, key = ca.issue_server(["localhost"], ["127.0.0.1", "::1"])
    cert_path = os.path.join(state_dir, SERVER_CERT_FILE)
    key_path = os.path.join(state_dir, SERVER_KEY_FILE)
    write_private(key_path, key_pem(key))
    write_public(cert_path, cert_pem(cert))
    return cert_path, key_path
