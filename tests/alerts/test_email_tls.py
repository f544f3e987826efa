"""STARTTLS, implicit TLS and login against aiosmtpd with a throwaway certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from alerts.email import EmailSender
from alerts.result import FailureReason
from crawler.config import EmailChannel
from tests.alerts.conftest import SmtpHandler, free_port, make_view

USER, PASSWORD = "desk", "s3cret-pass"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(crt)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, crt


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def client_context(crt: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(crt))


def server_context(key: Path, crt: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(crt), str(key))
    return ctx


@pytest.fixture
def starttls_server(cert: tuple[Path, Path]) -> Iterator[tuple[int, SmtpHandler]]:
    handler = SmtpHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(*cert),
        require_starttls=True,
        auth_require_tls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def channel(port: int, **over: object) -> EmailChannel:
    fields: dict[str, object] = {
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "sender": "wirewatch@example.org",
        "to": ["desk@example.org"],
        "timeout": 5.0,
    }
    fields.update(over)
    return EmailChannel(**fields)  # type: ignore[arg-type]


def test_starttls_and_login(
    starttls_server: tuple[int, SmtpHandler], cert: tuple[Path, Path]
) -> None:
    port, handler = starttls_server
    ch = channel(port, starttls=True, username=USER, password=SecretStr(PASSWORD))
    result = EmailSender(ch, ssl_context=client_context(cert[1])).send("msg_t", make_view())
    assert result.ok, result.detail
    assert len(handler.messages) == 1


def test_wrong_password_is_a_permanent_auth_failure(
    starttls_server: tuple[int, SmtpHandler], cert: tuple[Path, Path]
) -> None:
    port, handler = starttls_server
    ch = channel(port, starttls=True, username=USER, password=SecretStr("wrong-one"))
    result = EmailSender(ch, ssl_context=client_context(cert[1])).send("msg_t", make_view())
    assert (result.ok, result.retryable, result.reason) == (False, False, FailureReason.AUTH)
    assert "wrong-one" not in result.detail
    assert handler.messages == []


def test_untrusted_certificate_is_refused(starttls_server: tuple[int, SmtpHandler]) -> None:
    port, handler = starttls_server
    ch = channel(port, starttls=True, username=USER, password=SecretStr(PASSWORD))
    result = EmailSender(ch).send("msg_t", make_view())  # system trust store only
    assert (result.ok, result.reason) == (False, FailureReason.TLS)
    assert handler.messages == []


def test_implicit_tls(cert: tuple[Path, Path]) -> None:
    handler = SmtpHandler()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, ssl_context=server_context(*cert)
    )
    controller.start()
    try:
        ch = channel(port, ssl=True)
        result = EmailSender(ch, ssl_context=client_context(cert[1])).send("msg_s", make_view())
    finally:
        controller.stop()
    assert result.ok, result.detail
    assert len(handler.messages) == 1
