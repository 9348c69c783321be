"""Outbound HTTPS to a local TLS receiver on 127.0.0.1, with a test CA: certificates verified.

trustme makes a throwaway CA and a certificate for ``localhost``; the CA is trusted only through
``VEXIL_OUTBOUND_CA_BUNDLE``, so each test shows what that setting opens and what stays closed.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from django.utils import timezone

from tests.webhooks.conftest import Receiver, deliver_all
from vexil.common import outbound
from vexil.organisations.models import Organisation
from vexil.webhooks import formats, services
from vexil.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_receiver(ca: trustme.CA, name: str) -> Receiver:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return Receiver(tls=context)


@pytest.fixture
def tls_receiver(ca: trustme.CA) -> Iterator[Receiver]:
    server = _tls_receiver(ca, "localhost")
    yield server
    server.close()


@pytest.fixture
def trusted_ca(ca: trustme.CA, tmp_path: Path, settings: Any) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    settings.VEXIL_OUTBOUND_CA_BUNDLE = str(bundle)


def _post(url: str) -> outbound.OutboundResponse:
    return outbound.post(url, b"{}", headers={"Content-Type": "application/json"}, timeout=5)


@pytest.mark.usefixtures("trusted_ca")
def test_post__https_receiver_with_trusted_ca__delivered(tls_receiver: Receiver) -> None:
    response = _post(tls_receiver.url(host="localhost"))

    assert response.status == 200
    assert response.address == "127.0.0.1"
    [request] = tls_receiver.requests
    assert request.body == b"{}"
    assert request.headers["host"] == f"localhost:{tls_receiver.port}"


def test_post__unknown_ca__refused_nothing_received(tls_receiver: Receiver) -> None:
    # Given the test CA is not trusted (the setting is unset)
    with pytest.raises(outbound.OutboundNetworkError) as raised:
        _post(tls_receiver.url(host="localhost"))

    # Then verification fails, and no request got through
    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
    assert tls_receiver.requests == []


@pytest.mark.usefixtures("trusted_ca")
def test_post__certificate_for_another_name__refused(ca: trustme.CA) -> None:
    # Given a receiver whose certificate (from the trusted CA) names another host
    server = _tls_receiver(ca, "receiver.example.com")
    try:
        with pytest.raises(outbound.OutboundNetworkError) as raised:
            _post(server.url(host="localhost"))
        assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
        assert "localhost" in str(raised.value)
        assert server.requests == []
    finally:
        server.close()


@pytest.mark.usefixtures("trusted_ca")
def test_delivery__https_webhook__delivered_and_logged(
    organisation: Organisation, tls_receiver: Receiver
) -> None:
    webhook = services.webhook_create(
        organisation=organisation, url=tls_receiver.url(host="localhost")
    )
    services.deliveries_create(
        event=formats.Event(type="AUDIT_LOG_CREATED", data={"log": "x"}, moment=timezone.now()),
        webhooks=Webhook.objects.filter(pk=webhook.pk),
    )

    deliver_all()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.DELIVERED, "")
    assert delivery.last_status_code == 200
    assert len(tls_receiver.requests) == 1
