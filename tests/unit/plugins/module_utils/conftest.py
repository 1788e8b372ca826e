# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted API server on loopback (HTTP, or HTTPS with a CA made for the test run) for the
HTTP client and the product connections' logins."""

import datetime
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Script:
    """Answers requests from a list of (status, headers, body), recording what came in:
    ``requests`` holds (method, path, headers, body, client certificate subject or None)."""

    def __init__(self):
        self.answers = []
        self.requests = []


def _serve(script, context=None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            peer = self.connection.getpeercert() if context is not None else None
            subject = dict(x[0] for x in peer["subject"])["commonName"] if peer else None
            script.requests.append((self.command, self.path, dict(self.headers), body, subject))
            status, headers, payload = script.answers.pop(0) if script.answers else (200, {}, [])
            data = json.dumps(payload).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd


@pytest.fixture()
def server():
    script = Script()
    httpd = _serve(script)
    yield "http://127.0.0.1:%d" % httpd.server_address[1], script
    httpd.shutdown()
    httpd.server_close()


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _certificate(subject, key, issuer, issuer_key, ca=False, server=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                                      crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if server:
        import ipaddress
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM bytes and files."""
    directory = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test CA", ca_key, "test CA", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate("127.0.0.1", server_key, "test CA", ca_key, server=True)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate("app-credential", client_key, "test CA", ca_key)
    files = {}
    for name, data in (("ca.pem", _pem(ca)), ("server.pem", _pem(server)), ("server.key", _key_pem(server_key)),
                       ("client.pem", _pem(client)), ("client.key", _key_pem(client_key))):
        (directory / name).write_bytes(data)
        files[name] = directory / name
    return files


@pytest.fixture()
def tls_server(pki):
    """``(url, script, ca_path)`` of an HTTPS server that asks for (but does not require) a client certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki["server.pem"]), str(pki["server.key"]))
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(str(pki["ca.pem"]))
    script = Script()
    httpd = _serve(script, context)
    yield "https://127.0.0.1:%d" % httpd.server_address[1], script, str(pki["ca.pem"])
    httpd.shutdown()
    httpd.server_close()
