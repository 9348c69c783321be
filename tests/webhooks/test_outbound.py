"""The outbound client's rules. The classifier is tested on every range without connecting; the
connect-time refusal only against loopback receivers, which record every connection."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from tests.webhooks.conftest import Receiver, Reply
from vexil.common import outbound


@pytest.fixture(autouse=True)
def connected(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address a connection is opened to; one that is not loopback fails the test."""
    real = socket.create_connection
    opened: list[tuple[str, int]] = []

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        assert ipaddress.ip_address(address[0]).is_loopback, f"connection to {address}"
        opened.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return opened


# --- The classifier (pure) -------------------------------------------------------------------
REFUSED = [
    ("0.0.0.0", "unspecified"),  # noqa: S104 (an address to classify, not to bind)
    ("0.1.2.3", "unspecified"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "shared"),
    ("100.127.255.255", "shared"),
    ("169.254.169.254", "link-local"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("198.51.100.7", "reserved"),
    ("203.0.113.9", "reserved"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::127.0.0.1", "reserved"),
    ("::ffff:127.0.0.1", "loopback (IPv4 inside ::ffff:7f00:1)"),
    ("::ffff:10.1.2.3", "private (IPv4 inside ::ffff:a01:203)"),
    ("::ffff:169.254.169.254", "link-local (IPv4 inside ::ffff:a9fe:a9fe)"),
    ("64:ff9b::7f00:1", "loopback (IPv4 inside 64:ff9b::7f00:1)"),
    ("64:ff9b::a9fe:a9fe", "link-local (IPv4 inside 64:ff9b::a9fe:a9fe)"),
    ("64:ff9b:1::1", "private"),
    ("2002:7f00:1::1", "loopback (IPv4 inside 2002:7f00:1::1)"),
    ("2002:c0a8:101::1", "private (IPv4 inside 2002:c0a8:101::1)"),
    ("100::1", "reserved"),
    ("2001::1", "reserved"),
    ("2001:db8::1", "reserved"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("fe80::1", "link-local"),
    ("fec0::1", "private"),
    ("ff02::1", "multicast"),
]

ALLOWED = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_refusal_reason__non_public_address__names_the_range(address: str, reason: str) -> None:
    assert outbound.refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ALLOWED)
def test_refusal_reason__public_address__none(address: str) -> None:
    assert outbound.refusal_reason(ipaddress.ip_address(address)) is None


def test_address_refusal__allowlisted_network__allowed(settings: Any) -> None:
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]

    assert outbound.address_refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert outbound.address_refusal(ipaddress.ip_address("::ffff:10.20.3.4")) is None
    assert outbound.address_refusal(ipaddress.ip_address("10.21.0.1")) == "private"


# --- URL form -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "Only http and https URLs are allowed."),
        ("file:///etc/passwd", "Only http and https URLs are allowed."),
        ("https://user:pw@example.com/", "URLs must not contain credentials."),
        ("https://user@example.com/", "URLs must not contain credentials."),
        ("http:///path", "The URL has no host."),
        ("http://10.0.0.1/", "The address 10.0.0.1 is refused (private)."),
        ("http://[::1]:8000/", "The address ::1 is refused (loopback)."),
        ("http://169.254.169.254/latest", "The address 169.254.169.254 is refused (link-local)."),
        ("http://localhost:9000/", "The host localhost is refused (loopback)."),
        ("http://api.localhost/", "The host api.localhost is refused (loopback)."),
    ],
)
def test_check_url__refused__says_why(url: str, message: str) -> None:
    with pytest.raises(outbound.OutboundRefusedError) as refusal:
        outbound.check_url(url)

    assert str(refusal.value) == message


def test_check_url__public_name__not_resolved_at_save(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_resolving(host: str, port: int) -> list[Any]:
        raise AssertionError("resolved at save time")

    monkeypatch.setattr(outbound, "resolve", no_resolving)

    outbound.check_url("https://hooks.example.com/flagsmith")


# --- Connect time: only loopback receivers --------------------------------------------------
def _refused_post(url: str) -> str:
    with pytest.raises(outbound.OutboundRefusedError) as refusal:
        outbound.post(url, b"{}", headers={})
    return str(refusal.value)


@pytest.fixture
def real_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system resolver; ``localhost`` is answered from /etc/hosts, not by a DNS query."""
    monkeypatch.setattr(outbound, "resolve", outbound.system_resolve)


@pytest.mark.usefixtures("real_resolver")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_post__loopback_by_default__refused_without_connecting(
    receiver: Receiver, host: str, connected: list[tuple[str, int]]
) -> None:
    reason = _refused_post(receiver.url(host=host))

    assert connected == []
    assert reason == f"Refused to connect to {host}: 127.0.0.1 (loopback)."
    assert receiver.connections == 0
    assert receiver.requests == []


def test_post__ipv6_loopback_by_default__refused_without_connecting(
    receiver_v6: Receiver, connected: list[tuple[str, int]]
) -> None:
    reason = _refused_post(receiver_v6.url())

    assert connected == []
    assert reason == "Refused to connect to ::1: ::1 (loopback)."
    assert receiver_v6.connections == 0


def test_post__name_resolving_to_loopback__refused_without_connecting(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, connected: list[tuple[str, int]]
) -> None:
    # A public-looking name whose DNS answer is loopback (a rebinding attack's second answer).
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])

    reason = _refused_post(receiver.url(host="hooks.rebind.test"))

    assert reason == "Refused to connect to hooks.rebind.test: 127.0.0.1 (loopback)."
    assert connected == []
    assert receiver.connections == 0


def test_post__resolved_on_every_request__second_answer_checked(
    monkeypatch: pytest.MonkeyPatch, settings: Any, connected: list[tuple[str, int]]
) -> None:
    # Given a name whose first answer is allowed and whose second is not
    receiver = Receiver("127.0.0.2")
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    answers = iter(["127.0.0.2", "127.0.0.1"])
    monkeypatch.setattr(outbound, "resolve", lambda h, p: [ipaddress.ip_address(next(answers))])
    url = f"http://hooks.rebind.test:{receiver.port}/hook"

    # When it is posted to twice
    first = outbound.post(url, b"{}", headers={})
    refusal = _refused_post(url)

    # Then the first went to the checked address, the second was refused before connecting
    assert first.status == 200
    assert first.address == "127.0.0.2"
    assert refusal == "Refused to connect to hooks.rebind.test: 127.0.0.1 (loopback)."
    assert connected == [("127.0.0.2", receiver.port)]
    assert receiver.requests[0].headers["host"] == f"hooks.rebind.test:{receiver.port}"
    receiver.close()


@pytest.mark.usefixtures("allow_loopback", "real_resolver")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_post__loopback_allowlisted__delivered(receiver: Receiver, host: str) -> None:
    response = outbound.post(
        receiver.url(host=host), b'{"a": 1}', headers={"Content-Type": "application/json"}
    )

    assert response.status == 200
    assert response.body == b"ok"
    assert receiver.requests[0].body == b'{"a": 1}'
    assert receiver.requests[0].headers["user-agent"] == outbound.USER_AGENT


@pytest.mark.usefixtures("allow_loopback")
def test_post__ipv6_loopback_allowlisted__delivered(receiver_v6: Receiver) -> None:
    response = outbound.post(receiver_v6.url(), b"{}", headers={})

    assert response.status == 200
    assert response.address == "::1"
    assert receiver_v6.connections == 1


@pytest.mark.usefixtures("allow_loopback")
def test_post__redirect__returned_not_followed(receiver: Receiver) -> None:
    receiver.replies.append(Reply(302, {"Location": receiver.url("/elsewhere")}))

    response = outbound.post(receiver.url(), b"{}", headers={})

    assert response.status == 302
    assert [r.path for r in receiver.requests] == ["/hook"]


@pytest.mark.usefixtures("allow_loopback")
def test_post__large_response__read_only_up_to_the_limit(receiver: Receiver) -> None:
    receiver.replies.append(Reply(200, body=b"x" * 200_000))

    response = outbound.post(receiver.url(), b"{}", headers={}, max_response_bytes=1000)

    assert response.body == b"x" * 1000


@pytest.mark.usefixtures("allow_loopback")
def test_post__slow_receiver__times_out(receiver: Receiver) -> None:
    receiver.replies.append(Reply(200, delay=1.0))

    with pytest.raises(outbound.OutboundNetworkError) as error:
        outbound.post(receiver.url(), b"{}", headers={}, timeout=0.2)

    assert str(error.value) == "Timed out."


@pytest.mark.usefixtures("allow_loopback")
def test_post__nothing_listening__network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(outbound.OutboundNetworkError) as error:
        outbound.post(f"http://127.0.0.1:{port}/", b"{}", headers={})

    assert "ConnectionRefusedError" in str(error.value)


def test_test_guard__public_literal__never_connected(
    settings: Any, connected: list[tuple[str, int]]
) -> None:
    # The suite-wide guard (tests/conftest.py) stops even an allowlisted public address.
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = ["0.0.0.0/0"]

    with pytest.raises(outbound.OutboundNetworkError):
        outbound.post("http://192.0.2.1/", b"{}", headers={})

    assert connected == []


def test_post__body_too_large__refused() -> None:
    with pytest.raises(outbound.OutboundRefusedError):
        outbound.post("https://example.com/", b"x" * (outbound.MAX_REQUEST_BYTES + 1), headers={})
