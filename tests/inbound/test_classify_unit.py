"""Behaviour of classify_message on hand-built messages, one idea per test."""

from __future__ import annotations

import json
import os
from datetime import date
from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from cadence.inbound import BouncedRecipient, InboundKind, InboundMessage, classify_message

OUR_ID = "<20260105.abc123@cadence.example.com>"


def _our_message() -> EmailMessage:
    sent = EmailMessage()
    sent["From"] = "Rep <rep@cadence.example.com>"
    sent["To"] = "lead@customer.example.org"
    sent["Subject"] = "Quick question"
    sent["Date"] = "Mon, 05 Jan 2026 09:00:00 +0000"
    sent["Message-ID"] = OUR_ID
    sent.set_content("Hi, do you have 10 minutes this week?\n")
    return sent


def _dsn(status: str, diagnostic: str, action: str = "failed", recipient: str = "") -> bytes:
    recipient = recipient or "lead@customer.example.org"
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.cadence.example.com>"
    report["To"] = "rep@cadence.example.com"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = "Mon, 05 Jan 2026 09:01:00 +0000"
    report["Message-ID"] = "<bounce.1@mx.cadence.example.com>"
    report.attach(MIMEText("This is the mail system. Your message could not be delivered.\n"))
    fields = Message()
    fields["Reporting-MTA"] = "dns; mx.cadence.example.com"
    block = Message()
    block["Final-Recipient"] = f"rfc822; {recipient}"
    block["Action"] = action
    if status:
        block["Status"] = status
    if diagnostic:
        block["Diagnostic-Code"] = f"smtp; {diagnostic}"
    status_part = Message()
    status_part["Content-Type"] = "message/delivery-status"
    status_part.set_payload([fields, block])
    report.attach(status_part)
    report.attach(MIMEMessage(_our_message()))
    return report.as_bytes()


def _prose_bounce(body: str, subject: str = "failure notice") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\n"
        "To: rep@cadence.example.com\n"
        f"Subject: {subject}\n"
        "Date: Mon, 05 Jan 2026 09:01:00 +0000\n"
        "Message-ID: <qmail.1@mx.example.net>\n"
        "\n" + body
    ).encode()


def _auto_reply(subject: str, body: str, **headers: str) -> bytes:
    reply = EmailMessage()
    reply["From"] = "Lead <lead@customer.example.org>"
    reply["To"] = "rep@cadence.example.com"
    reply["Subject"] = subject
    reply["Date"] = headers.pop("date", "Mon, 05 Jan 2026 09:02:00 +0000")
    reply["In-Reply-To"] = OUR_ID
    for name, value in headers.items():
        reply[name.replace("_", "-")] = value
    reply.set_content(body)
    return reply.as_bytes()


def test_human_reply_with_in_reply_to_is_a_reply_pointing_at_our_message() -> None:
    reply = EmailMessage()
    reply["From"] = "Lead <lead@customer.example.org>"
    reply["To"] = "rep@cadence.example.com"
    reply["Subject"] = "Re: Quick question"
    reply["Date"] = "Mon, 05 Jan 2026 10:00:00 +0000"
    reply["Message-ID"] = "<reply.1@customer.example.org>"
    reply["In-Reply-To"] = OUR_ID
    reply["References"] = OUR_ID
    reply.set_content("Sure, Thursday works.\n\n> Hi, do you have 10 minutes this week?\n")

    result = classify_message(reply.as_bytes())

    assert result.kind is InboundKind.REPLY
    assert result.in_reply_to == OUR_ID
    assert result.references == [OUR_ID]
    assert result.original_message_id == OUR_ID
    assert result.message_id == "<reply.1@customer.example.org>"
    assert result.from_address == "lead@customer.example.org"
    assert result.recipients == []


def test_copy_of_an_ordinary_message_is_other() -> None:
    result = classify_message(_our_message().as_bytes())

    assert result.kind is InboundKind.OTHER
    assert result.message_id == OUR_ID
    assert result.subject == "Quick question"


def test_out_of_office_back_on_monday_12_january_gives_that_return_date() -> None:
    raw = _auto_reply(
        "Automatic reply: Quick question",
        "I am out of the office and will be back on Monday 12 January.",
        Auto_Submitted="auto-replied",
    )

    result = classify_message(raw)

    assert result.kind is InboundKind.AUTO_REPLY
    assert result.return_date == date(2026, 1, 12)
    assert result.original_message_id == OUR_ID


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Returning 2026-01-12.", date(2026, 1, 12)),
        ("I'm away, back on January 12th.", date(2026, 1, 12)),
        ("Out of office until 12/01/2026.", date(2026, 1, 12)),
        ("On leave from 24 December to 9 January, back on 10 January.", date(2026, 1, 10)),
    ],
)
def test_out_of_office_return_date_formats(text: str, expected: date) -> None:
    raw = _auto_reply("Out of Office", text, X_Autoreply="yes")

    assert classify_message(raw).return_date == expected


def test_year_less_return_date_rolls_into_the_next_year_after_the_message_date() -> None:
    raw = _auto_reply(
        "Abwesenheitsnotiz",
        "I am on holiday, back on 5 January.",
        date="Sat, 20 Dec 2025 12:00:00 +0100",
    )

    result = classify_message(raw)

    assert result.kind is InboundKind.AUTO_REPLY
    assert result.return_date == date(2026, 1, 5)


def test_return_date_uses_today_when_the_message_has_no_date() -> None:
    raw = (
        b"From: lead@customer.example.org\nSubject: Out of Office\nAuto-Submitted: auto-replied\n\n"
        b"Back on 3 March.\n"
    )

    result = classify_message(raw, today=date(2027, 2, 1))

    assert result.return_date == date(2027, 3, 3)


def test_auto_reply_without_a_stated_date_has_no_return_date() -> None:
    raw = _auto_reply("Automatic reply", "Thanks for your email.", Precedence="auto_reply")

    result = classify_message(raw)

    assert result.kind is InboundKind.AUTO_REPLY
    assert result.return_date is None


def test_bulk_mail_without_out_of_office_words_is_not_an_auto_reply() -> None:
    raw = (
        b"From: news@vendor.example.com\nTo: rep@cadence.example.com\nSubject: January deals\n"
        b"Precedence: bulk\n\nOur best offers this month.\n"
    )

    assert classify_message(raw).kind is InboundKind.OTHER


def test_dsn_user_unknown_is_a_hard_bounce_with_status_and_reply_code() -> None:
    result = classify_message(_dsn("5.1.1", "550 5.1.1 <lead@customer.example.org>: User unknown"))

    assert result.kind is InboundKind.BOUNCE
    [recipient] = result.recipients
    assert recipient.email == "lead@customer.example.org"
    assert (recipient.status, recipient.reply_code) == ("5.1.1", "550")
    assert recipient.reason == "userunknown"
    assert recipient.hard is True


def test_mailbox_full_is_a_soft_bounce() -> None:
    [recipient] = classify_message(_dsn("5.2.2", "552 5.2.2 Mailbox full")).recipients

    assert recipient.reason == "mailboxfull"
    assert recipient.hard is False


def test_policy_rejection_with_a_permanent_code_is_not_hard() -> None:
    diagnostic = "550 5.7.1 Message rejected due to local policy; client host blocked using RBL"
    [recipient] = classify_message(_dsn("5.7.1", diagnostic)).recipients

    assert recipient.status == "5.7.1"
    assert recipient.reason in ("blocked", "policyviolation", "spamdetected")
    assert recipient.hard is False


def test_null_mx_domain_is_a_hard_bounce() -> None:
    diagnostic = "556 5.1.10 Recipient address has null MX"
    [recipient] = classify_message(_dsn("5.1.10", diagnostic)).recipients

    assert recipient.reason == "notaccept"
    assert recipient.hard is True


def test_status_is_derived_from_the_diagnostic_when_the_field_is_missing() -> None:
    [recipient] = classify_message(_dsn("", "550 5.1.1 User unknown")).recipients

    assert recipient.status == "5.1.1"
    assert recipient.hard is True


def test_delayed_dsn_is_a_soft_bounce() -> None:
    result = classify_message(_dsn("4.4.7", "", action="delayed"))

    [recipient] = result.recipients
    assert result.kind is InboundKind.BOUNCE
    assert recipient.action == "delayed"
    assert recipient.reason == "expired"
    assert recipient.hard is False


def test_successful_delivery_notification_is_a_delivery_report() -> None:
    result = classify_message(_dsn("2.0.0", "250 2.0.0 OK", action="delivered"))

    assert result.kind is InboundKind.DELIVERY_REPORT
    assert result.recipients[0].reason == "delivered"


def test_our_message_id_is_found_in_the_attached_original() -> None:
    result = classify_message(_dsn("5.1.1", "550 5.1.1 User unknown"))

    assert result.original_message_id == OUR_ID
    assert result.message_id == "<bounce.1@mx.cadence.example.com>"


def test_our_message_id_is_found_in_returned_headers_part() -> None:
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.example.net"
    report["Subject"] = "Delivery Status Notification (Failure)"
    status = Message()
    status["Content-Type"] = "message/delivery-status"
    block = Message()
    block["Final-Recipient"] = "rfc822; lead@customer.example.org"
    block["Action"] = "failed"
    block["Status"] = "5.1.1"
    status.set_payload([Message(), block])
    report.attach(status)
    headers = MIMEText(f"From: rep@cadence.example.com\nMessage-ID: {OUR_ID}\n", "rfc822-headers")
    report.attach(headers)

    assert classify_message(report.as_bytes()).original_message_id == OUR_ID


def test_qmail_prose_bounce_takes_status_from_the_hash_code() -> None:
    body = (
        "Hi. This is the qmail-send program at mx.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<lead@customer.example.org>:\n"
        "192.0.2.1 does not like recipient.\n"
        "Remote host said: 550 sorry, no mailbox here by that name. (#5.1.1)\n"
        "Giving up on 192.0.2.1.\n\n"
        "--- Below this line is a copy of the message.\n\n"
        f"Message-ID: {OUR_ID}\nFrom: rep@cadence.example.com\nTo: lead@customer.example.org\n"
        "Subject: Quick question\n\nHi\n"
    )

    result = classify_message(_prose_bounce(body))

    assert result.kind is InboundKind.BOUNCE
    [recipient] = result.recipients
    assert (recipient.email, recipient.status, recipient.reply_code) == (
        "lead@customer.example.org",
        "5.1.1",
        "550",
    )
    assert recipient.hard is True
    assert result.original_message_id == OUR_ID


def test_exim_prose_bounce_lists_recipients_in_report_order() -> None:
    body = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        "  first@customer.example.org\n"
        "    SMTP error from remote mail server after RCPT TO:<first@customer.example.org>:\n"
        "    host mx.customer.example.org [192.0.2.9]: 550 5.1.1 User unknown\n"
        "  second@customer.example.org\n"
        "    SMTP error from remote mail server after RCPT TO:<second@customer.example.org>:\n"
        "    host mx.customer.example.org [192.0.2.9]: 552 5.2.2 Mailbox full\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        "From: rep@cadence.example.com\nSubject: hi\n\nhi\n"
    )

    result = classify_message(_prose_bounce(body, "Mail delivery failed: returning message"))

    assert [(r.email, r.status, r.hard) for r in result.recipients] == [
        ("first@customer.example.org", "5.1.1", True),
        ("second@customer.example.org", "5.2.2", False),
    ]


def test_no_such_user_without_codes_is_user_unknown_with_a_pseudo_status() -> None:
    body = "Your message was not delivered.\n\nlead@customer.example.org: No such user\n"

    [recipient] = classify_message(_prose_bounce(body, "Undeliverable")).recipients

    assert recipient.reason == "userunknown"
    assert recipient.status == "5.0.911"
    assert recipient.reply_code == ""
    assert recipient.hard is True


def test_failed_recipients_header_names_the_recipient() -> None:
    raw = (
        b"From: Mail Delivery Subsystem <mailer-daemon@example.net>\n"
        b"X-Failed-Recipients: group@lists.example.org\n"
        b"Subject: Delivery Status Notification (Failure)\n\n"
        b"Your message could not be delivered to the group.\n"
    )

    [recipient] = classify_message(raw).recipients

    assert recipient.email == "group@lists.example.org"


def test_arf_report_is_a_complaint_about_the_original_recipient() -> None:
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "fbl@isp.example.net"
    report["Subject"] = "Abuse report"
    report.attach(MIMEText("This is an abuse report.\n"))
    feedback = Message()
    feedback["Content-Type"] = "message/feedback-report"
    fields = Message()
    fields["Feedback-Type"] = "abuse"
    fields["User-Agent"] = "FBL/1.0"
    fields["Version"] = "1"
    fields["Original-Rcpt-To"] = "lead@customer.example.org"
    feedback.set_payload([fields])
    report.attach(feedback)
    report.attach(MIMEMessage(_our_message()))

    result = classify_message(report.as_bytes())

    assert result.kind is InboundKind.COMPLAINT
    assert result.feedback_type == "abuse"
    [recipient] = result.recipients
    assert (recipient.email, recipient.feedback_type, recipient.hard) == (
        "lead@customer.example.org",
        "abuse",
        False,
    )
    assert result.original_message_id == OUR_ID


def test_unsubscribe_request_is_an_opt_out_complaint() -> None:
    raw = b"From: lead@customer.example.org\nSubject: unsubscribe\n\nPlease remove me.\n"

    result = classify_message(raw)

    assert result.kind is InboundKind.COMPLAINT
    assert result.feedback_type == "opt-out"


def test_amazon_ses_json_bounce_notification_is_read() -> None:
    notification = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [
                {
                    "emailAddress": "lead@customer.example.org",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        },
        "mail": {"messageId": "0100abc"},
    }
    raw = (
        b"From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n"
        + json.dumps(notification).encode()
    )

    result = classify_message(raw)

    assert result.kind is InboundKind.BOUNCE
    [recipient] = result.recipients
    assert (recipient.email, recipient.status, recipient.reply_code, recipient.hard) == (
        "lead@customer.example.org",
        "5.1.1",
        "550",
        True,
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe" * 1000,
        os.urandom(4096),
        b"From: a@b.c\nContent-Type: multipart/report; boundary=x\n\n--x\nContent-Type: mess",
        b"Subject: =?utf-8?B?broken?=\nContent-Type: text/plain; charset=no-such-charset\n\n\xff",
        b"Content-Type: multipart/mixed; boundary=never-closed\n\n--never-closed\n\nhello",
        b"From: x\n\n" + b"<" * 10000 + b"@" * 10000,
    ],
)
def test_malformed_input_never_raises(raw: bytes) -> None:
    assert isinstance(classify_message(raw), InboundMessage)


def test_cr_only_and_crlf_line_ends_classify_like_lf() -> None:
    lf = _dsn("5.1.1", "550 5.1.1 User unknown").replace(b"\r\n", b"\n")
    expected = classify_message(lf)

    for variant in (lf.replace(b"\n", b"\r"), lf.replace(b"\n", b"\r\n")):
        result = classify_message(variant)
        assert result.kind is InboundKind.BOUNCE
        assert result.recipients == expected.recipients


def test_truncated_bounce_still_classifies() -> None:
    raw = _dsn("5.1.1", "550 5.1.1 User unknown")
    cut = raw[: raw.index(b"Status: 5.1.1") + len(b"Status: 5.1.1")]

    result = classify_message(cut)

    assert result.kind is InboundKind.BOUNCE
    assert result.recipients[0].status == "5.1.1"


def test_fifty_megabyte_message_is_classified_from_its_head() -> None:
    head = _dsn("5.1.1", "550 5.1.1 User unknown")
    raw = head.replace(b"--\n", b"\n", 1) + b"A" * (50 * 1024 * 1024)

    result = classify_message(raw)

    assert result.kind is InboundKind.BOUNCE
    assert result.recipients[0].hard is True


def test_result_is_frozen_and_serialises_to_json() -> None:
    result = classify_message(_dsn("5.1.1", "550 5.1.1 User unknown"))

    payload = json.loads(result.model_dump_json())

    assert payload["kind"] == "bounce"
    assert payload["recipients"][0]["status"] == "5.1.1"
    assert InboundMessage.model_validate_json(result.model_dump_json()) == result
    with pytest.raises(ValueError):
        result.recipients[0].status = "x"  # type: ignore[misc]
    assert isinstance(result.recipients[0], BouncedRecipient)
