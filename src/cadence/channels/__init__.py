"""cadence.channels: deliver touches (email over SMTP) and sign the links inside them.

Plain data in, plain data out: no database. The engine builds an :class:`OutgoingEmail` per touch,
hands it to a :class:`Channel` (:class:`SmtpSender`, or a host's own provider) and records the
:class:`SendResult`. :mod:`cadence.channels.links` signs the unsubscribe, click and open URLs.
"""

from cadence.channels.base import (
    Channel,
    ChannelError,
    ChannelSession,
    OutgoingEmail,
    PermanentSendError,
    SendResult,
    SendStatus,
    ThreadRef,
    TransientSendError,
)
from cadence.channels.email import SmtpSecurity, SmtpSender, SmtpSession, result_for_error
from cadence.channels.links import (
    ClickToken,
    InvalidToken,
    OpenToken,
    UnsubscribeToken,
    click_url,
    open_pixel_url,
    sign,
    unsubscribe_url,
    verify,
    verify_click,
    verify_open,
    verify_unsubscribe,
)
from cadence.channels.message import build_message, message_id_for, reply_subject, text_to_html

__all__ = [
    "Channel",
    "ChannelError",
    "ChannelSession",
    "ClickToken",
    "InvalidToken",
    "OpenToken",
    "OutgoingEmail",
    "PermanentSendError",
    "SendResult",
    "SendStatus",
    "SmtpSecurity",
    "SmtpSender",
    "SmtpSession",
    "ThreadRef",
    "TransientSendError",
    "UnsubscribeToken",
    "build_message",
    "click_url",
    "message_id_for",
    "open_pixel_url",
    "reply_subject",
    "result_for_error",
    "sign",
    "text_to_html",
    "unsubscribe_url",
    "verify",
    "verify_click",
    "verify_open",
    "verify_unsubscribe",
]
