"""Downloading a seller's URL without letting it reach our own network (no SSRF).

Every path that fetches a seller URL goes through `guarded_get`: http/https only, the host
resolved and every address checked (loopback, private, link-local, unique-local, CGNAT,
multicast, unspecified, reserved and IPv4-mapped/translated addresses are refused), the
connection made to the address that was checked (no DNS rebinding between check and connect),
every redirect checked the same way (at most 5), default ports only, and one deadline for the
whole download. Errors are one sentence naming the host, never the exception class, so the
answers cannot be used to scan ports.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from shelfready_core import defaults
from shelfready_core.errors import InvalidInput, ReadableStageError
from shelfready_core.url_masking import mask_url

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Prefixes whose addresses embed an IPv4 address we would then reach: refused outright.
_TRANSLATED = (
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.ip_network("2002::/16"),  # 6to4
    ipaddress.ip_network("2001::/32"),  # Teredo
)


class FetchRefused(InvalidInput):
    """The URL or an address it leads to is not one we fetch; retrying would not help."""

    def __init__(self, host: str, why: str) -> None:
        super().__init__(f"could not download the photo from {host}: refused")
        self.host = host
        self.why = why  # for the log only


class FetchTimedOut(ReadableStageError):
    def __init__(self, host: str) -> None:
        super().__init__(f"could not download the photo from {host}: timed out")


class FetchFailed(ReadableStageError):
    """Connection-level trouble, deliberately without detail (closed port, TLS, protocol)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"could not download the photo from {host}: unreachable")


@dataclass(frozen=True)
class FetchPolicy:
    """What may be fetched. `allow` entries are host names or IP networks that skip the
    address and port checks (a seller's own private CDN); `ports` are extra ports allowed
    for every public host."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    ports: frozenset[int] = frozenset()
    timeout_seconds: float = defaults.FETCH_TIMEOUT_SECONDS
    max_redirects: int = defaults.FETCH_MAX_REDIRECTS
    max_bytes: int = defaults.MAX_DOWNLOAD_BYTES

    @classmethod
    def build(
        cls,
        allow: Iterable[str] = (),
        ports: Iterable[int] = (),
        timeout_seconds: float = defaults.FETCH_TIMEOUT_SECONDS,
        **extra: int,
    ) -> FetchPolicy:
        hosts, networks = set(), []
        for entry in (item.strip() for item in allow):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks), frozenset(ports), timeout_seconds, **extra)

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allow_networks)


def policy_from_settings(settings: object) -> FetchPolicy:
    """The policy configured by SHELFREADY_FETCH_ALLOW / _PORTS / _TIMEOUT."""
    return FetchPolicy.build(
        getattr(settings, "fetch_allow", ()),
        getattr(settings, "fetch_ports", ()),
        getattr(settings, "fetch_timeout_seconds", defaults.FETCH_TIMEOUT_SECONDS),
    )


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:a.b.c.d (mapped) and ::a.b.c.d (the old "compatible" form) reach IPv4.
        if address.ipv4_mapped is not None or int(address) >> 32 == 0:
            return False
        if any(address in network for network in _TRANSLATED):
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


@dataclass(frozen=True)
class Target:
    """A URL checked against the policy, with the address to connect to."""

    url: str
    scheme: str
    host: str  # as the seller wrote it, lower case, no brackets
    port: int
    address: IPAddress
    addresses: tuple[IPAddress, ...] = field(default=())

    @property
    def connect_url(self) -> str:
        """The same URL with the checked address as its host: no second DNS lookup."""
        parts = urlsplit(self.url)
        ip = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return urlunsplit((self.scheme, f"{ip}:{self.port}", parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or FetchRefused. Scheme in any case."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(_host_for_message(url), "malformed URL") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused(host or "the URL", f"scheme {scheme!r}")
    if not host:
        raise FetchRefused("the URL", "no host")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused(host, "user info in URL")
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _host_for_message(url: str) -> str:
    try:
        return urlsplit(url).hostname or "the URL"
    except ValueError:
        return "the URL"


def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address `host` resolves to (literal and odd numeric forms such as 2130706433,
    0x7f.0.0.1 or 127.1 included: the system resolver reads them as inet_aton does)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchFailed(host) from exc
    addresses: list[IPAddress] = []
    for _, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchFailed(host)
    return tuple(addresses)


def check_url(url: str, policy: FetchPolicy) -> Target:
    """Resolve and check `url`; FetchRefused when it leads anywhere we do not fetch from,
    FetchFailed when the host does not resolve."""
    scheme, host, port = split_url(url)
    addresses = resolve(host, port)
    if host in policy.allow_hosts:
        return Target(url, scheme, host, port, addresses[0], addresses)
    allowed = [a for a in addresses if policy.allows_address(a)]
    if allowed and len(allowed) == len(addresses):
        return Target(url, scheme, host, port, allowed[0], addresses)
    # One refused address refuses the host: a round-robin name cannot smuggle one in.
    refused = [a for a in addresses if not is_public_address(a) and not policy.allows_address(a)]
    if refused:
        raise FetchRefused(host, f"address {refused[0]} is not public")
    if port != DEFAULT_PORTS[scheme] and port not in policy.ports:
        raise FetchRefused(host, f"port {port}")
    return Target(url, scheme, host, port, addresses[0], addresses)


def check_url_before_queueing(url: str, policy: FetchPolicy) -> None:
    """The producer's check: refuse what can be refused now. A host that does not resolve
    yet is left to the worker (DNS trouble may pass; the worker checks again anyway)."""
    try:
        check_url(url, policy)
    except FetchFailed:
        log.info("photo host of %s does not resolve yet; the worker will check it", mask_url(url))


def guarded_get(url: str, policy: FetchPolicy, *, user_agent: str = "ShelfReady/1") -> bytes:
    """The body of `url`, fetched under `policy` with one deadline for the whole download."""
    deadline = time.monotonic() + policy.timeout_seconds
    current = url
    for _ in range(policy.max_redirects + 1):
        target = _checked(current, policy)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimedOut(target.host)
        status, location, body = _request(target, remaining, policy.max_bytes, user_agent)
        if status in REDIRECT_CODES and location:
            current = urljoin(current, location)
            continue
        if status in (401, 403, 404, 410):
            raise InvalidInput(f"could not download the photo from {target.host}: HTTP {status}")
        if status >= 400:
            raise ReadableStageError(
                f"could not download the photo from {target.host}: HTTP {status}"
            )
        if body is None:
            raise ReadableStageError(
                f"could not download the photo from {target.host}: HTTP {status}"
            )
        return body
    raise FetchRefused(_host_for_message(current), "too many redirects")


def _checked(url: str, policy: FetchPolicy) -> Target:
    try:
        return check_url(url, policy)
    except FetchRefused as exc:
        log.warning("refused to fetch %s: %s", mask_url(url), exc.why)
        raise


def _request(
    target: Target, remaining: float, limit: int, user_agent: str
) -> tuple[int, str | None, bytes | None]:
    """(status, redirect location, body of a 2xx answer)."""
    headers = {"Host": target.host_header, "User-Agent": user_agent, "Accept": "image/*"}
    # https: TLS is verified against the host name while the socket goes to the checked IP.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    timer: threading.Timer | None = None
    expired = threading.Event()
    try:
        # The transport, not a Client: a Client parses a redirect's Location itself (and fails
        # on odd forms such as 0177.0.0.1); we check every Location with our own rules.
        with httpx.HTTPTransport(retries=0) as transport:
            request = httpx.Request(
                "GET",
                target.connect_url,
                headers=headers,
                extensions={**extensions, "timeout": httpx.Timeout(remaining).as_dict()},
            )
            response = transport.handle_request(request)
            try:
                # The read timeout restarts on every byte; this cuts a trickling body off.
                timer = threading.Timer(remaining, _cut, (response, expired))
                timer.daemon = True
                timer.start()
                if response.status_code in REDIRECT_CODES:
                    return response.status_code, response.headers.get("location"), None
                if not 200 <= response.status_code < 300:
                    return response.status_code, None, None
                body = _read_body(response, target.host, limit)
                if expired.is_set():  # a close-delimited body cut short looks complete
                    raise FetchTimedOut(target.host)
                return response.status_code, None, body
            finally:
                response.close()
    except httpx.TimeoutException as exc:
        raise FetchTimedOut(target.host) from exc
    except httpx.HTTPError as exc:
        if expired.is_set():
            raise FetchTimedOut(target.host) from exc
        log.info("fetching from %s failed: %s", target.host, type(exc).__name__)
        raise FetchFailed(target.host) from exc
    finally:
        if timer is not None:
            timer.cancel()


def _read_body(response: httpx.Response, host: str, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInput(f"the photo at {host} is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"the photo at {host} is larger than the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _cut(response: httpx.Response, expired: threading.Event) -> None:
    """At the deadline: shut the socket down so the blocked read returns at once."""
    expired.set()
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing to cut
            sock.shutdown(socket.SHUT_RDWR)
