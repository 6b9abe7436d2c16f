"""The fetch guard: seller URLs never reach our own network, and one deadline bounds a download.

Every hostile form is tried against a real listener on loopback (the Bystander), which must
see 0 connections. Legitimate downloads come from a second loopback address that the tests
allow through SHELFREADY_FETCH_ALLOW, as an operator would allow a seller's private CDN.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shelfready_core.config import Settings
from shelfready_core.errors import InvalidInput, StageError
from shelfready_core.fetch_guard import (
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    FetchTimedOut,
    check_url,
    guarded_get,
    is_public_address,
    policy_from_settings,
)
from tests.fakes.photo_hosts import Bystander, PhotoHost, serving

PHOTO = (Path(__file__).resolve().parents[2] / "samples" / "ceramic-coffee-mug.jpg").read_bytes()
ALLOW_HOST = FetchPolicy.build(["127.0.0.2"], timeout_seconds=5)


@pytest.fixture
def bystander() -> Iterator[Bystander]:
    target = Bystander("127.0.0.1")
    with serving(target):
        yield target


@pytest.fixture
def host() -> Iterator[PhotoHost]:
    photo_host = PhotoHost(PHOTO, "127.0.0.2")
    with serving(photo_host):
        yield photo_host


def hostile_urls(port: int) -> list[str]:
    """Every form from the issue, and their relatives, aimed at our own network."""
    return [
        f"http://127.0.0.1:{port}/a.jpg",
        f"http://localhost:{port}/a.jpg",  # a host name resolving to 127.0.0.1
        f"http://localhost.:{port}/a.jpg",
        f"http://[::1]:{port}/a.jpg",
        f"http://0.0.0.0:{port}/a.jpg",
        f"http://[::]:{port}/a.jpg",
        f"http://2130706433:{port}/a.jpg",  # 127.0.0.1 as one number
        f"http://0x7f.0.0.1:{port}/a.jpg",
        f"http://0177.0.0.1:{port}/a.jpg",
        f"http://127.1:{port}/a.jpg",
        f"http://[::ffff:127.0.0.1]:{port}/a.jpg",  # IPv4-mapped
        f"http://[::127.0.0.1]:{port}/a.jpg",  # IPv4-compatible
        f"http://[64:ff9b::7f00:1]:{port}/a.jpg",  # NAT64 of 127.0.0.1
        f"HTTP://127.0.0.1:{port}/a.jpg",  # scheme in upper case
        f"hTtPs://127.0.0.1:{port}/a.jpg",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fe80::1]/a.jpg",  # link-local
        "http://10.0.0.5/a.jpg",
        "http://172.16.3.4/a.jpg",
        "http://192.168.1.10/a.jpg",
        "http://100.64.0.1/a.jpg",  # CGNAT
        "http://[fd12:3456::1]/a.jpg",  # unique-local
        "http://224.0.0.1/a.jpg",  # multicast
        "http://[ff02::1]/a.jpg",
        "http://240.0.0.1/a.jpg",  # reserved
        "http://255.255.255.255/a.jpg",
    ]


def test_every_hostile_form_is_refused_and_reaches_nothing(bystander: Bystander) -> None:
    for url in hostile_urls(bystander.port):
        with pytest.raises(FetchRefused) as refused:
            guarded_get(url, FetchPolicy(timeout_seconds=5))
        message = str(refused.value)
        assert message.startswith("could not download the photo from "), url
        assert message.endswith(": refused"), url
        assert "Error" not in message and "Exception" not in message
    assert bystander.connections == 0


def test_redirects_to_hostile_addresses_are_refused(bystander: Bystander, host: PhotoHost) -> None:
    for url in hostile_urls(bystander.port):
        with pytest.raises(FetchRefused):
            guarded_get(f"{host.base}/redirect?to={url}", ALLOW_HOST)
    assert host.connections == len(hostile_urls(bystander.port))  # each redirect was served
    assert bystander.connections == 0


def test_other_schemes_and_user_info_are_refused() -> None:
    for url in (
        "file:///etc/passwd",
        "ftp://example.com/a.jpg",
        "gopher://127.0.0.1:6379/_PING",
        "http://user:pw@93.184.215.14/a.jpg",
        "http:///a.jpg",
        "http://93.184.215.14:99999/a.jpg",
    ):
        with pytest.raises(FetchRefused):
            check_url(url, FetchPolicy())


def test_public_hosts_use_default_ports_unless_a_port_is_allowed() -> None:
    with pytest.raises(FetchRefused):
        check_url("http://93.184.215.14:8080/a.jpg", FetchPolicy())
    target = check_url("http://93.184.215.14:8080/a.jpg", FetchPolicy.build(ports=[8080]))
    assert target.port == 8080
    assert check_url("https://93.184.215.14/a.jpg", FetchPolicy()).port == 443


def test_public_addresses_pass_and_private_ones_do_not() -> None:
    import ipaddress

    for text in ("93.184.215.14", "8.8.8.8", "2606:4700::6810:84e5"):
        assert is_public_address(ipaddress.ip_address(text)), text
    for text in (
        "127.0.0.1",
        "10.1.2.3",
        "100.100.0.1",
        "169.254.1.1",
        "::1",
        "fc00::1",
        "::ffff:8.8.8.8",
        "2002:7f00:1::",
        "0.0.0.0",
        "239.1.1.1",
    ):
        assert not is_public_address(ipaddress.ip_address(text)), text


def test_allow_list_lets_a_private_host_through(host: PhotoHost) -> None:
    assert guarded_get(f"{host.base}/photo", ALLOW_HOST) == PHOTO
    by_name = FetchPolicy.build(["localhost"], timeout_seconds=5)
    assert check_url("http://localhost:1/x", by_name).host == "localhost"


def test_a_name_that_rebinds_after_the_check_still_reaches_only_the_checked_address(
    host: PhotoHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers an allowed address for the check, then our own
    loopback. The attacker's DNS is simulated by answering for one test-only name; every
    other lookup goes to the real resolver."""
    bystander = Bystander("127.0.0.1", host.port)  # the same port, on the address it rebinds to
    answers = iter(["127.0.0.2"])
    real = socket.getaddrinfo

    def attacker_dns(name: str, port: object, *args: object, **kwargs: object) -> object:
        if name == "rebind.photos.test":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(name, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", attacker_dns)
    policy = FetchPolicy.build(["127.0.0.2/32"], timeout_seconds=5)
    with serving(bystander):
        assert guarded_get(f"http://rebind.photos.test:{host.port}/photo", policy) == PHOTO
    assert bystander.connections == 0
    assert host.requests[-1] == ("/photo", f"rebind.photos.test:{host.port}")


def test_at_most_five_redirects(host: PhotoHost) -> None:
    with pytest.raises(FetchRefused):
        guarded_get(f"{host.base}/loop", ALLOW_HOST)
    assert host.connections == 6  # the first request and five redirects


def test_one_deadline_for_the_whole_download(host: PhotoHost) -> None:
    policy = FetchPolicy.build(["127.0.0.2"], timeout_seconds=1.5)
    for path in ("/trickle", "/silent"):
        started = time.monotonic()
        with pytest.raises(FetchTimedOut) as timed_out:
            guarded_get(f"{host.base}{path}", policy)
        elapsed = time.monotonic() - started
        assert elapsed < 2.5, (path, elapsed)
        assert str(timed_out.value) == "could not download the photo from 127.0.0.2: timed out"


def test_connection_failures_all_read_the_same(host: PhotoHost) -> None:
    """A closed port and an open non-HTTP port (one answering like Redis) must not be told
    apart, and no exception class is named: the error cannot be used to scan ports."""
    closed = socket.socket()
    closed.bind(("127.0.0.2", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    redis_like = socket.socket()
    redis_like.bind(("127.0.0.2", 0))
    redis_like.listen()

    def answer_like_redis() -> None:
        connection, _ = redis_like.accept()
        connection.recv(1024)
        connection.sendall(b"-ERR unknown command 'GET'\r\n")
        connection.close()

    threading.Thread(target=answer_like_redis, daemon=True).start()
    policy = FetchPolicy.build(["127.0.0.2"], timeout_seconds=3)
    messages = set()
    try:
        for port in (closed_port, redis_like.getsockname()[1]):
            with pytest.raises(FetchFailed) as failed:
                guarded_get(f"http://127.0.0.2:{port}/a.jpg", policy)
            messages.add(str(failed.value))
    finally:
        redis_like.close()
    assert messages == {"could not download the photo from 127.0.0.2: unreachable"}


def test_status_codes_name_the_host_not_the_url(host: PhotoHost) -> None:
    with pytest.raises(
        InvalidInput, match=r"^could not download the photo from 127\.0\.0\.2: HTTP 404$"
    ):
        guarded_get(f"{host.base}/status/404", ALLOW_HOST)
    with pytest.raises(StageError, match="HTTP 503"):
        guarded_get(f"{host.base}/status/503", ALLOW_HOST)


def test_policy_comes_from_the_settings() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        SHELFREADY_FETCH_ALLOW="cdn.seller.internal, 10.20.0.0/16",
        SHELFREADY_FETCH_PORTS="8443",
        SHELFREADY_FETCH_TIMEOUT="7",
    )
    policy = policy_from_settings(settings)
    assert policy.allow_hosts == {"cdn.seller.internal"}
    assert [str(n) for n in policy.allow_networks] == ["10.20.0.0/16"]
    assert policy.ports == {8443} and policy.timeout_seconds == 7
    assert Settings(_env_file=None).fetch_timeout_seconds == 15  # type: ignore[call-arg]
