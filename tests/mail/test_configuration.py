"""E-mail configured by Flagsmith's variable names, end to end: a Vexil process started with
``EMAIL_HOST``, ``EMAIL_PORT``, ``EMAIL_USE_TLS``, ``EMAIL_HOST_USER``, ``EMAIL_HOST_PASSWORD``,
``SENDER_EMAIL`` and ``FLAGSMITH_DOMAIN`` delivers to a real SMTP server on loopback, signed in
with those credentials, from that sender, with links on that domain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.mail.conftest import RecordingHandler
from tests.processes import free_port, run_vexil, vexil_environment

MAILER, MAILER_PASSWORD = "vexil-mailer", "mailer passphrase 3"


class _Authenticator:
    """Accepts only the mailer's credentials; records every login tried."""

    def __init__(self) -> None:
        self.logins: list[tuple[str, bytes, bytes]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((mechanism, auth_data.login, auth_data.password))
        accepted = (auth_data.login, auth_data.password) == (
            MAILER.encode(),
            MAILER_PASSWORD.encode(),
        )
        return AuthResult(success=accepted)


@pytest.fixture
def authenticating_smtp() -> Iterator[tuple[int, RecordingHandler, _Authenticator]]:
    handler, authenticator, port = RecordingHandler(), _Authenticator(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # loopback only; STARTTLS would need a certificate
    )
    controller.start()
    try:
        yield port, handler, authenticator
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_flagsmith_email_variables__vexil_process__sent_over_smtp_with_credentials(
    tmp_path: Path, authenticating_smtp: tuple[int, RecordingHandler, _Authenticator]
) -> None:
    # Given a Vexil configured only by Flagsmith's variable names
    port, handler, authenticator = authenticating_smtp
    env = vexil_environment(
        VEXIL_DATA_DIR=str(tmp_path / "data"),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_USE_TLS="false",
        EMAIL_HOST_USER=MAILER,
        EMAIL_HOST_PASSWORD=MAILER_PASSWORD,
        SENDER_EMAIL="flags@acme.test",
        FLAGSMITH_DOMAIN="flags.acme.test",
        EMAIL_RETRY_BACKOFF_SECONDS="0.05",
    )
    # When it sends its set-up e-mail
    result = run_vexil(
        "bootstrap", "--email", "ops@acme.test", "--password", "a long passphrase 7", env=env
    )
    # Then the SMTP server received it, after a login with the configured credentials
    assert result.returncode == 0, result.stderr
    assert [(login, password) for _, login, password in authenticator.logins] == [
        (MAILER.encode(), MAILER_PASSWORD.encode())
    ]
    [message] = handler.received
    assert (message["From"], message["To"]) == ("flags@acme.test", "ops@acme.test")
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Sign in:            https://flags.acme.test/admin/" in text.get_content()
    assert 'href="https://flags.acme.test/admin/"' in html.get_content()
    # and not to the log, where the embedded default (no EMAIL_HOST) writes e-mails
    assert "https://flags.acme.test/admin/" not in result.stderr + result.stdout
