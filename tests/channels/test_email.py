"""Building messages and delivering them through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from cadence.channels import (
    Channel,
    OutgoingEmail,
    PermanentSendError,
    SendResult,
    SmtpSender,
    ThreadRef,
    TransientSendError,
    build_message,
    message_id_for,
)
from cadence.errors import ConfigurationError, InvalidEmail, InvalidInput

from .conftest import PASSWORD, USER, Delivery, SmtpServer, Tls

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
UNSUB = "https://links.example.com/u/eyJkIjp7fX0.c2ln"
POSTAL = "Example Inc., 1 Main Street, Springfield"
FIRST = OutgoingEmail(
    touch_key="t-100-1",
    from_address="rita@example.com",
    from_name="Rita Rep",
    to_address="lee@example.org",
    to_name="Lee Lead",
    subject="Quick question",
    text_body="Hi Lee,\n\nAre you free on Thursday?\n\nRita",
    html_body=None,
    thread=None,
    unsubscribe_url=UNSUB,
    postal_address=POSTAL,
)


def build(email: OutgoingEmail = FIRST) -> EmailMessage:
    return build_message(email, domain="example.com", now=NOW)


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, page = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and page is not None
    return str(text.get_content()), str(page.get_content())


def sender_for(server: SmtpServer, **kwargs: float) -> SmtpSender:
    return SmtpSender(server.url(), domain="example.com", timeout=kwargs.get("timeout", 5.0))


def only(deliveries: list[Delivery]) -> EmailMessage:
    assert len(deliveries) == 1
    return deliveries[0].message()


# --- building ---------------------------------------------------------------------------------


def test_message_is_text_and_html_alternatives_with_deterministic_id() -> None:
    msg = build()
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Message-ID"] == "<t-100-1.cadence@example.com>"
    assert build()["Message-ID"] == msg["Message-ID"]
    assert msg["Date"] == "Tue, 04 Mar 2025 09:30:00 +0000"
    assert msg["Subject"] == "Quick question"
    text, page = parts(msg)
    assert "Are you free on Thursday?" in text
    assert "<p>Are you free on Thursday?</p>" in page


def test_message_id_is_sanitised() -> None:
    assert (
        message_id_for("a b<c>@d..e", "Mail.Example.COM.") == "<a-b-c-d.e.cadence@mail.example.com>"
    )
    assert message_id_for("t1", "bücher.de") == "<t1.cadence@xn--bcher-kva.de>"
    with pytest.raises(InvalidInput):
        message_id_for("...", "example.com")


def test_follow_up_never_gets_re_re() -> None:
    for first_subject in ("Quick question", "Re: Quick question", "RE: re[2]: Quick question"):
        thread = ThreadRef(message_id="<a@x>", references=(), subject=first_subject)
        assert build(replace(FIRST, subject="", thread=thread))["Subject"] == "Re: Quick question"


def test_step_with_own_subject_keeps_it_and_stays_threaded() -> None:
    thread = ThreadRef(message_id="a@x", references=("<r1@x> <r2@x>", "<a@x>"), subject="Hi")
    msg = build(replace(FIRST, subject="New angle", thread=thread))
    assert msg["Subject"] == "New angle"
    assert msg["In-Reply-To"] == "<a@x>"
    assert msg["References"] == "<r1@x> <r2@x> <a@x>"


def test_first_email_needs_a_subject() -> None:
    with pytest.raises(InvalidInput) as err:
        build(replace(FIRST, subject="  "))
    assert err.value.field == "subject"


def test_open_pixel_only_in_html_and_no_precedence_header() -> None:
    pixel = "https://links.example.com/o/tok?x=1&y=2"
    msg = build(replace(FIRST, open_pixel_url=pixel))
    text, page = parts(msg)
    assert '<img src="https://links.example.com/o/tok?x=1&amp;y=2" width="1" height="1"' in page
    assert "/o/tok" not in text
    assert msg["Precedence"] is None
    assert "<img" not in parts(build())[1]


def test_given_html_document_keeps_its_body_and_gets_the_footer() -> None:
    page_in = "<html><body><p>Hello <b>Lee</b></p></body></html>"
    _, page = parts(build(replace(FIRST, html_body=page_in)))
    assert page.startswith("<html><body><p>Hello <b>Lee</b></p>")
    assert page.index("Unsubscribe") < page.index("</body>")


def test_no_footer_without_unsubscribe_or_postal_address() -> None:
    msg = build(replace(FIRST, unsubscribe_url=None, postal_address=None))
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None
    text, page = parts(msg)
    assert "Unsubscribe" not in text and "Unsubscribe" not in page


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "Hi\r\nBcc: victim@example.net"},
        {"from_name": "Rita\nBcc: victim@example.net"},
        {"headers": {"X-Campaign": "a\nb"}},
        {"headers": {"Precedence": "bulk"}},
        {"headers": {"Bcc": "victim@example.net"}},
        {"headers": {"Bad Name": "x"}},
        {"unsubscribe_url": "javascript:alert(1)"},
        {"open_pixel_url": 'https://x.example/"><script>'},
        {"thread": ThreadRef(message_id="not an id", subject="Hi")},
    ],
)
def test_unsafe_input_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        build(replace(FIRST, **change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "address", ["lee", "lee@", "lee @example.org", "<lee@example.org>", "jösé@x.org"]
)
def test_undeliverable_address_is_invalid_email(address: str) -> None:
    with pytest.raises(InvalidEmail):
        build(replace(FIRST, to_address=address))


def test_extra_headers_and_reply_to_are_set() -> None:
    msg = build(
        replace(FIRST, headers={"X-Cadence-Touch": "t-100-1"}, reply_to="inbox@example.com")
    )
    assert msg["X-Cadence-Touch"] == "t-100-1"
    assert msg["Reply-To"] == "inbox@example.com"


# --- delivering through the real server -------------------------------------------------------


def test_follow_up_threads_under_first_email(smtp_server: SmtpServer) -> None:
    with sender_for(smtp_server).session() as session:
        first = session.send(FIRST)
        thread = ThreadRef(message_id=first.message_id, references=(), subject=FIRST.subject)
        second = session.send(replace(FIRST, touch_key="t-100-2", subject="", thread=thread))
    assert first.ok and second.ok
    sent_first, sent_second = (d.message() for d in smtp_server.handler.deliveries)
    assert sent_second["Subject"] == "Re: Quick question"
    assert sent_second["In-Reply-To"] == sent_first["Message-ID"] == first.message_id
    assert sent_second["References"] == first.message_id
    third_thread = ThreadRef(second.message_id, (str(sent_second["References"]),), FIRST.subject)
    third = build(replace(FIRST, touch_key="t-100-3", subject="", thread=third_thread))
    assert third["References"] == f"{first.message_id} {second.message_id}"
    assert third["Subject"] == "Re: Quick question"


def test_list_unsubscribe_one_click_headers(smtp_server: SmtpServer) -> None:
    long_url = "https://links.example.com/u/" + "A" * 180 + ".sig_-"
    assert sender_for(smtp_server).send(replace(FIRST, unsubscribe_url=long_url)).ok
    delivery = smtp_server.handler.deliveries[0]
    msg = delivery.message()
    assert msg["List-Unsubscribe"] == f"<{long_url}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"List-Unsubscribe: <{long_url}>\r\n".encode() in delivery.content  # not folded/encoded
    assert msg["Precedence"] is None
    text, page = parts(msg)
    assert f"Unsubscribe: {long_url}" in text and POSTAL in text
    assert f'<a href="{long_url}">Unsubscribe</a>' in page and POSTAL in page


def test_non_ascii_names_and_subject_round_trip(smtp_server: SmtpServer) -> None:
    email = replace(
        FIRST,
        from_name="Zoë Ångström",
        to_name='José "Pepe" Müller, Jr.',
        to_address="jose@bücher.de",
        subject="Café ☕ — naïve résumé, 東京 " * 3,
        text_body="Grüße aus Köln — ¿qué tal? 🙂",
        postal_address="Straße 1, 50667 Köln",
    )
    assert sender_for(smtp_server).send(email).ok
    delivery = smtp_server.handler.deliveries[0]
    assert delivery.content.isascii()  # encoded words and quoted-printable, no raw 8-bit
    assert delivery.rcpt_tos == ["jose@xn--bcher-kva.de"]
    msg = delivery.message()
    assert msg["Subject"] == email.subject.strip()
    assert msg["From"].addresses[0].display_name == "Zoë Ångström"
    assert msg["To"].addresses[0].display_name == 'José "Pepe" Müller, Jr.'
    text, page = parts(msg)
    assert "Grüße aus Köln — ¿qué tal? 🙂" in text and "Straße 1, 50667 Köln" in text
    assert "Grüße aus Köln" in page


def test_one_connection_reused_across_batch(smtp_server: SmtpServer) -> None:
    batch = [
        replace(FIRST, touch_key=f"t-{i}", to_address=f"lead{i}@example.org") for i in range(5)
    ]
    with sender_for(smtp_server).session() as session:
        results = [session.send(email) for email in batch]
    assert [r.status for r in results] == ["sent"] * 5
    assert smtp_server.connections == 1
    assert [d.rcpt_tos for d in smtp_server.handler.deliveries] == [[e.to_address] for e in batch]


def test_421_is_transient_and_retry_succeeds(smtp_server: SmtpServer) -> None:
    smtp_server.handler.rcpt_replies.append("421 4.7.0 Try again later")
    with sender_for(smtp_server).session() as session:
        first = session.send(FIRST)
        retry = session.send(FIRST)
    assert (first.status, first.transient, first.smtp_code) == ("failed", True, 421)
    assert "Try again later" in first.detail
    assert retry.ok and retry.message_id == first.message_id
    assert len(smtp_server.handler.deliveries) == 1
    assert smtp_server.connections == 2  # 421 means the server closes; the retry reconnects


def test_550_on_rcpt_is_a_bounce(smtp_server: SmtpServer) -> None:
    smtp_server.handler.rcpt_reply_for["gone@example.org"] = "550 5.1.1 No such user"
    with sender_for(smtp_server).session() as session:
        bounced = session.send(replace(FIRST, to_address="gone@example.org"))
        after = session.send(FIRST)
    assert (bounced.status, bounced.transient, bounced.smtp_code) == ("bounced", False, 550)
    assert "No such user" in bounced.detail and "gone@example.org" in bounced.detail
    assert after.ok and smtp_server.connections == 1  # the connection stays usable
    with pytest.raises(PermanentSendError):
        bounced.raise_for_status()


def test_452_on_rcpt_is_transient(smtp_server: SmtpServer) -> None:
    smtp_server.handler.rcpt_replies.append("452 4.2.2 Mailbox full")
    result = sender_for(smtp_server).send(FIRST)
    assert (result.status, result.transient, result.smtp_code) == ("failed", True, 452)
    with pytest.raises(TransientSendError):
        result.raise_for_status()


@pytest.mark.parametrize(
    ("reply", "status", "transient"),
    [
        ("554 5.7.1 Message rejected as spam", "bounced", False),
        ("451 4.3.0 Try later", "failed", True),
    ],
)
def test_data_reply_maps_to_result(
    smtp_server: SmtpServer, reply: str, status: str, transient: bool
) -> None:
    smtp_server.handler.data_replies.append(reply)
    result = sender_for(smtp_server).send(FIRST)
    assert (result.status, result.transient, result.smtp_code) == (
        status,
        transient,
        int(reply[:3]),
    )
    assert smtp_server.handler.deliveries == []


def test_refused_sender_is_a_permanent_failure_not_a_bounce(smtp_server: SmtpServer) -> None:
    smtp_server.handler.mail_replies.append("550 5.7.1 Sender not allowed")
    result = sender_for(smtp_server).send(FIRST)
    assert (result.status, result.transient, result.smtp_code) == ("failed", False, 550)


def test_server_down_is_transient(closed_port: int) -> None:
    sender = SmtpSender(f"smtp://127.0.0.1:{closed_port}", timeout=2)
    with sender.session() as session:
        first = session.send(FIRST)
        rest = session.send(replace(FIRST, touch_key="t-2"))  # fails fast, no second attempt
    assert (first.status, first.transient, first.smtp_code) == ("failed", True, None)
    assert "Refused" in first.detail
    assert (rest.status, rest.transient) == ("failed", True)
    assert rest.message_id == "<t-2.cadence@example.com>"


def test_silent_server_times_out_as_transient(silent_port: int) -> None:
    started = time.monotonic()
    result = SmtpSender(f"smtp://127.0.0.1:{silent_port}", timeout=0.3).send(FIRST)
    assert (result.status, result.transient) == ("failed", True)
    assert time.monotonic() - started < 3


def test_connection_dropped_between_messages_is_reopened(smtp_server: SmtpServer) -> None:
    smtp_server.handler.drop_after_data = True
    with sender_for(smtp_server).session() as session:
        results = [session.send(replace(FIRST, touch_key=f"t-{i}")) for i in range(3)]
    assert all(r.ok for r in results)
    assert len(smtp_server.handler.deliveries) == 3
    assert smtp_server.connections == 3


def test_drop_during_data_is_transient_and_not_resent(smtp_server: SmtpServer) -> None:
    smtp_server.handler.drop_in_data = True
    with sender_for(smtp_server).session() as session:
        dropped = session.send(FIRST)
        smtp_server.handler.drop_in_data = False
        after = session.send(replace(FIRST, touch_key="t-2"))
    assert (dropped.status, dropped.transient, dropped.smtp_code) == ("failed", True, None)
    assert after.ok
    assert smtp_server.connections == 2  # no silent resend of a message that may have gone


def test_421_on_mail_reconnects_once_and_resends(smtp_server: SmtpServer) -> None:
    with sender_for(smtp_server).session() as session:
        assert session.send(FIRST).ok
        smtp_server.handler.mail_replies.append("421 4.3.2 Too many messages on this connection")
        assert session.send(replace(FIRST, touch_key="t-2")).ok
    assert len(smtp_server.handler.deliveries) == 2
    assert smtp_server.connections == 2


def test_prebuilt_message_with_bcc_is_sent_without_the_bcc_header(smtp_server: SmtpServer) -> None:
    msg = build()
    msg["Bcc"] = "crm-log@example.com"
    result = sender_for(smtp_server).send(msg)
    assert result.ok and result.message_id == "<t-100-1.cadence@example.com>"
    delivery = smtp_server.handler.deliveries[0]
    assert delivery.rcpt_tos == ["lee@example.org", "crm-log@example.com"]
    assert delivery.message()["Bcc"] is None


def test_starttls_with_credentials_from_url(starttls_server: SmtpServer, tls: Tls) -> None:
    url = starttls_server.url("smtp+starttls", f"{USER.replace('@', '%40')}:p%40ss%3Aw%2Frd@")
    sender = SmtpSender(url, ssl_context=tls.client, timeout=5)
    assert sender.username == USER and PASSWORD not in repr(sender)
    assert sender.send(FIRST).ok
    assert only(starttls_server.handler.deliveries)["Subject"] == "Quick question"


def test_bad_credentials_are_a_permanent_failure(starttls_server: SmtpServer, tls: Tls) -> None:
    url = starttls_server.url("smtp+starttls", "rep%40example.com:wrong@")
    result = SmtpSender(url, ssl_context=tls.client, timeout=5).send(FIRST)
    assert (result.status, result.transient, result.smtp_code) == ("failed", False, 535)


def test_smtps_implicit_tls(smtps_server: SmtpServer, tls: Tls) -> None:
    sender = SmtpSender(smtps_server.url("smtps"), ssl_context=tls.client, timeout=5)
    assert sender.send(FIRST).ok
    assert len(smtps_server.handler.deliveries) == 1


def test_url_configuration() -> None:
    assert (SmtpSender("smtp://mx.example.com").port, SmtpSender("smtps://h").port) == (25, 465)
    starttls = SmtpSender("smtp+starttls://u:p@h")
    assert (starttls.security, starttls.port, starttls.username) == ("starttls", 587, "u")
    for bad in ("http://h", "smtp://", "smtp://h:notaport", "h:25"):
        with pytest.raises(ConfigurationError):
            SmtpSender(bad)
    assert isinstance(SmtpSender("smtp://h"), Channel)


def test_send_result_is_plain_data() -> None:
    result = SendResult("sent", "<a@b>", False, 250, "ok")
    assert result.ok
    result.raise_for_status()
