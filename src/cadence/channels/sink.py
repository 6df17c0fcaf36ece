"""A local SMTP sink (aiosmtpd) that keeps what it receives: for the demo and for development.

``SmtpSink(reject={"x@example.com": "550 5.1.1 no such user"})`` answers RCPT for that address
with the given reply, to show what a bounce does.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["SmtpSink"]


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        refusal = self.sink.reject.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.sink.lock:
            self.sink.messages.append(parsed)
        return "250 2.0.0 Message accepted"


class SmtpSink:
    """An SMTP server on 127.0.0.1 that accepts all mail but for the addresses told to refuse."""

    def __init__(self, *, port: int = 0, reject: Mapping[str, str] | None = None) -> None:
        if port == 0:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
        self.port = port
        self.reject = {k.lower(): v for k, v in (reject or {}).items()}
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
