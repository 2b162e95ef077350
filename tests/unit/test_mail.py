"""Outgoing mail: well-formed messages, delivered over real SMTP, or written to the outbox without a server."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from portal.services.mail import outgoing
from tests.conftest import _free_port


def settings(tmp_path, **overrides) -> outgoing.MailSettings:
    values = {"mail_from": "Mesa Support <support@mesa.example>", "outbox_dir": str(tmp_path / "outbox")}
    return outgoing.MailSettings(**{**values, **overrides})


def a_message(tmp_path, **overrides):
    arguments = {
        "to": "carmen@example.com",
        "to_name": "Carmen Núñez",
        "subject": "Restablece tu contraseña ✓",
        "text": "Hola Carmen,\nhttps://portal.test/reset-password/abc\n",
        "html": '<html lang="es"><p>Hola Carmen, <a href="https://portal.test/reset-password/abc">enlace</a></p></html>',
        "language": "es",
        "settings": settings(tmp_path),
    }
    return outgoing.build_message(**{**arguments, **overrides})


def test_message_has_text_and_html_alternatives_in_utf8(tmp_path):
    message = message_from_bytes(a_message(tmp_path).as_bytes(), policy=default_policy)
    assert message.get_content_type() == "multipart/alternative"
    assert "Hola Carmen" in message.get_body(("plain",)).get_content()
    assert 'lang="es"' in message.get_body(("html",)).get_content()
    assert message["Subject"] == "Restablece tu contraseña ✓"
    assert message["To"] == "Carmen Núñez <carmen@example.com>"
    assert message["From"] == "Mesa Support <support@mesa.example>"
    assert message["Content-Language"] == "es"
    assert message["Date"]


def test_message_id_is_on_our_domain_and_unique(tmp_path):
    first, second = a_message(tmp_path), a_message(tmp_path)
    assert first["Message-ID"].endswith("@mesa.example>")
    assert first["Message-ID"] != second["Message-ID"]


def test_subject_never_spans_lines(tmp_path):
    message = a_message(tmp_path, subject="Line one\nBcc: victim@example.com")
    assert message["Subject"] == "Line one Bcc: victim@example.com"
    assert message["Bcc"] is None


def test_text_only_message(tmp_path):
    message = a_message(tmp_path, html=None)
    assert message.get_content_type() == "text/plain"


def test_message_arrives_through_real_smtp(tmp_path, smtp_server):
    config = settings(tmp_path, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    assert outgoing.send(a_message(tmp_path), config) is None
    [received] = smtp_server.messages
    assert received.envelope_to == ["carmen@example.com"]
    assert received.envelope_from == "support@mesa.example"
    assert received["Subject"] == "Restablece tu contraseña ✓"
    assert "reset-password/abc" in received.get_body(("plain",)).get_content()
    assert not (tmp_path / "outbox").exists()


def test_smtp_login_is_used_when_configured(tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=_free_port(),
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        outgoing.send(a_message(tmp_path), settings(tmp_path, smtp_host="127.0.0.1", smtp_port=controller.port,
                                                smtp_username="mesa", smtp_password="s3cret"))
    finally:
        controller.stop()
    assert seen == [(b"mesa", b"s3cret")]


def test_unreachable_smtp_server_raises_mail_error(tmp_path):
    config = settings(tmp_path, smtp_host="127.0.0.1", smtp_port=_free_port(), timeout=2)
    with pytest.raises(outgoing.MailError, match="Could not send"):
        outgoing.send(a_message(tmp_path), config)


def test_without_smtp_host_each_message_becomes_one_eml_file(tmp_path, caplog):
    caplog.set_level("INFO", logger="portal.services.mail.outgoing")
    config = settings(tmp_path)
    first = outgoing.send(a_message(tmp_path), config)
    second = outgoing.send(a_message(tmp_path), config)
    files = sorted((tmp_path / "outbox").iterdir())
    assert files == sorted([first, second])
    assert all(path.suffix == ".eml" for path in files)
    saved = message_from_bytes(first.read_bytes(), policy=default_policy)
    assert saved["Subject"] == "Restablece tu contraseña ✓"
    assert "reset-password/abc" in saved.get_body(("plain",)).get_content()
    assert str(first) in caplog.text


def test_settings_come_from_the_app_config_names(tmp_path):
    config = outgoing.MailSettings.from_config({
        "MAIL_FROM": "Help <help@acme.example>", "OUTBOX_DIR": str(tmp_path), "SMTP_HOST": "smtp.acme.example",
        "SMTP_PORT": "587", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p", "SMTP_STARTTLS": True,
    })
    assert (config.smtp_host, config.smtp_port, config.smtp_starttls) == ("smtp.acme.example", 587, True)
    assert config.domain == "acme.example"
    offline = outgoing.MailSettings.from_config({"MAIL_FROM": "x@y.example", "OUTBOX_DIR": str(tmp_path),
                                                 "SMTP_HOST": ""})
    assert offline.smtp_host is None
