"""Every outbound HTTP request Vexil makes goes through this module.

It owns the rules an outbound request must keep, in one place:

* only ``http`` and ``https`` URLs, without credentials in them;
* the host is resolved here, each resolved address is checked, and the connection is opened to
  the **checked address** itself (never by name again), for every attempt, so a DNS answer that
  changes between the check and the connection (DNS rebinding) cannot reach a refused network;
* refused: loopback, private (RFC 1918, ULA), link-local, shared (CGN), multicast, reserved,
  documentation and unspecified ranges, IPv4 and IPv6, looking through IPv4-mapped, NAT64 and
  6to4 addresses to the IPv4 address inside; ``settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS`` opens
  chosen networks on purpose (an internal receiver);
* a total time limit per request, redirects never followed, bounded request and response bodies,
  Vexil's User-Agent.

A refusal raises :class:`OutboundRefusedError` (with the reason) before any connection is made; a
network failure raises :class:`OutboundNetworkError`. Neither is a crash for the caller: both
carry a message fit for a delivery log.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

from vexil import __version__

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

USER_AGENT = f"Vexil/{__version__} (webhooks; +https://github.com/vexil)"
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_REQUEST_BYTES = 1024 * 1024
MAX_RESPONSE_BYTES = 64 * 1024
_SCHEMES = {"http": 80, "https": 443}


class OutboundError(Exception):
    """An outbound request that did not produce an HTTP response."""


class OutboundRefusedError(OutboundError):
    """The request breaks a rule (scheme, credentials, a refused address); nothing was sent."""


class OutboundNetworkError(OutboundError):
    """Resolution, connection, TLS or timeout failure: worth retrying later."""


# --- The address classifier ----------------------------------------------------------------
# Why each range is refused; the first match wins, so narrower entries come first.
_V4_REFUSED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "shared"),
    ("169.254.0.0/16", "link-local"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_V6_REFUSED: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "reserved"),  # IPv4-compatible (deprecated)
    ("64:ff9b:1::/48", "private"),  # local-use NAT64
    ("100::/64", "reserved"),  # discard-only
    ("2001::/23", "reserved"),  # IETF protocol assignments: Teredo, ORCHID, benchmarking
    ("2001:db8::/32", "reserved"),  # documentation
    ("3fff::/20", "reserved"),  # documentation
    ("5f00::/16", "reserved"),  # SRv6 SIDs
    ("fc00::/7", "private"),  # unique local (ULA)
    ("fe80::/10", "link-local"),
    ("fec0::/10", "private"),  # site-local (deprecated)
    ("ff00::/8", "multicast"),
)
_V4_TABLE = tuple((ipaddress.IPv4Network(net), why) for net, why in _V4_REFUSED)
_V6_TABLE = tuple((ipaddress.IPv6Network(net), why) for net, why in _V6_REFUSED)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal_reason(address: IPAddress) -> str | None:
    """Why a destination address is refused (``"loopback"``, ``"private"``...), or None.

    Pure: it never resolves or connects. The operator allowlist is not consulted here.
    """
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = refusal_reason(inner)
        return f"{reason} (IPv4 inside {address})" if reason else None
    table: Iterable[tuple[IPNetwork, str]] = (
        _V4_TABLE if isinstance(address, ipaddress.IPv4Address) else _V6_TABLE
    )
    for network, why in table:
        if address in network:
            return why
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def allowed_networks() -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(n) for n in settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS)


def address_refusal(address: IPAddress) -> str | None:
    """:func:`refusal_reason`, unless the operator's allowlist names the address."""
    reason = refusal_reason(address)
    if reason is None:
        return None
    candidates = [address, *([inner] if (inner := embedded_ipv4(address)) else [])]
    for network in allowed_networks():
        if any(c.version == network.version and c in network for c in candidates):
            return None
    return reason


# --- URLs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _is_localhost_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def parse_target(url: str) -> Target:
    """Split and check a URL's form; raise :class:`OutboundRefusedError` with a reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefusedError(f"Not a valid URL: {exc}.") from None
    if parts.scheme not in _SCHEMES:
        raise OutboundRefusedError("Only http and https URLs are allowed.")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefusedError("URLs must not contain credentials.")
    host = parts.hostname or ""
    if not host:
        raise OutboundRefusedError("The URL has no host.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port or _SCHEMES[parts.scheme], path)


def check_url(url: str) -> None:
    """Save-time check: the URL's form, and its host if it is a literal address or localhost.

    Names are not resolved here (that would send DNS traffic on every save, and the answer may
    change anyway); every request resolves and checks again at connect time.
    """
    target = parse_target(url)
    literal = _literal_address(target.host)
    if literal is not None:
        reason = address_refusal(literal)
        if reason:
            raise OutboundRefusedError(f"The address {literal} is refused ({reason}).")
    elif _is_localhost_name(target.host) and not any(
        address_refusal(a) is None for a in _LOOPBACKS
    ):
        raise OutboundRefusedError(f"The host {target.host} is refused (loopback).")


_LOOPBACKS = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))


# --- Resolution and connection ---------------------------------------------------------------
Resolver = Callable[[str, int], Sequence[IPAddress]]


def system_resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundNetworkError(f"Could not resolve {host}: {exc}.") from None
    seen: dict[IPAddress, None] = {}
    for info in infos:
        seen.setdefault(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]), None)
    return list(seen)


# Tests swap this for a resolver that answers chosen (loopback) addresses for made-up names.
resolve: Resolver = system_resolve


def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """The host's addresses that may be contacted; refuse when none may."""
    literal = _literal_address(host)
    candidates: Sequence[IPAddress] = [literal] if literal is not None else resolve(host, port)
    allowed = [a for a in candidates if address_refusal(a) is None]
    if not allowed:
        reasons = ", ".join(f"{a} ({address_refusal(a)})" for a in candidates)
        raise OutboundRefusedError(f"Refused to connect to {host}: {reasons or 'no address'}.")
    return allowed


def open_socket(address: IPAddress, port: int, timeout: float | None) -> socket.socket:
    """Open the TCP connection to an address :func:`checked_addresses` returned."""
    return socket.create_connection((str(address), port), timeout)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to one already-checked address; the Host header still names the host."""

    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = open_socket(self._address, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's CAs, plus ``VEXIL_OUTBOUND_CA_BUNDLE``'s."""
    context = ssl.create_default_context()
    if settings.VEXIL_OUTBOUND_CA_BUNDLE:
        context.load_verify_locations(cafile=settings.VEXIL_OUTBOUND_CA_BUNDLE)
    return context


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=tls_context())
        self._address = address

    def connect(self) -> None:
        sock = open_socket(self._address, self.port, self.timeout)
        # Certificate and SNI are checked against the host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    elapsed: float
    address: str
    truncated: bool = False  # the body was longer than the limit and was cut


def post(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> OutboundResponse:
    """POST ``body`` to ``url`` under the module's rules; any HTTP status is a response.

    Raises :class:`OutboundRefusedError` before connecting to anything refused, and
    :class:`OutboundNetworkError` when no response arrives within ``timeout`` seconds in total.
    """
    return request(
        "POST",
        url,
        body,
        headers=headers,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
    )


def request(
    method: str,
    url: str,
    body: bytes = b"",
    *,
    headers: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> OutboundResponse:
    """Send one request (``GET``, ``POST``...) under the module's rules, as :func:`post` does.

    A body longer than ``max_response_bytes`` is cut there: callers that parse the body (the
    Flagsmith importer) pass a limit they can hold and check ``truncated``."""
    if len(body) > MAX_REQUEST_BYTES:
        raise OutboundRefusedError(f"The request body is larger than {MAX_REQUEST_BYTES} bytes.")
    target = parse_target(url)
    started = time.monotonic()
    deadline = started + timeout
    last_error: OutboundNetworkError | None = None
    for address in checked_addresses(target.host, target.port):
        try:
            return _send(
                method, target, address, body, headers, deadline, max_response_bytes, started
            )
        except OutboundNetworkError as exc:
            last_error = exc
            if time.monotonic() >= deadline:
                break
    assert last_error is not None
    raise last_error


def _send(
    method: str,
    target: Target,
    address: IPAddress,
    body: bytes,
    headers: Mapping[str, str],
    deadline: float,
    max_response_bytes: int,
    started: float,
) -> OutboundResponse:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundNetworkError("Timed out.")
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, address=address, timeout=remaining)
    try:
        connection.request(
            method,
            target.path,
            body=body if body or method != "GET" else None,
            headers={"User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        payload = _read_bounded(response, deadline, max_response_bytes)
        return OutboundResponse(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=payload,
            elapsed=time.monotonic() - started,
            address=str(address),
            truncated=len(payload) >= max_response_bytes and bool(response.read1(1)),
        )
    except (OSError, http.client.HTTPException) as exc:
        raise OutboundNetworkError(_describe(exc)) from None
    finally:
        connection.close()


def _read_bounded(response: http.client.HTTPResponse, deadline: float, limit: int) -> bytes:
    """Read at most ``limit`` bytes of the body before the deadline; the rest is dropped."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        if time.monotonic() >= deadline:
            raise OutboundNetworkError("Timed out reading the response.")
        chunk = response.read1(min(16384, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "Timed out."
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"
