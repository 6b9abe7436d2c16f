"""https through the guard: the socket goes to the checked address, while TLS still checks the
certificate against the host name in the URL (SNI + hostname verification)."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shelfready_core.fetch_guard import FetchFailed, FetchPolicy, guarded_get

NAME = "photos.tls.test"
BODY = b"\xff\xd8 a photo \xff\xd9"


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for NAME signed by it: (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ShelfReady test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """An https server on 127.0.0.2 for NAME; NAME resolves to it; our CA is trusted."""
    ca, cert, key = _certificates(tmp_path)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    real = socket.getaddrinfo

    def test_dns(name: str, port: object, *args: object, **kwargs: object) -> object:
        if name == NAME:  # only the test's own name; everything else is the real resolver
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]
        return real(name, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", test_dns)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # httpx trusts this bundle (trust_env)
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_verifies_the_name_while_connecting_to_the_checked_address(tls_host: int) -> None:
    policy = FetchPolicy.build(["127.0.0.2"], timeout_seconds=5)
    assert guarded_get(f"https://{NAME}:{tls_host}/photo", policy) == BODY


def test_https_to_the_bare_address_fails_verification(tls_host: int) -> None:
    """The certificate names NAME, not 127.0.0.2: without SNI/hostname checks this passed."""
    policy = FetchPolicy.build(["127.0.0.2"], timeout_seconds=5)
    with pytest.raises(FetchFailed):
        guarded_get(f"https://127.0.0.2:{tls_host}/photo", policy)
