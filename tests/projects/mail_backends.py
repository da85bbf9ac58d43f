"""A real Django email backend for tests: Django's in-memory outbox, except that one address
is refused the way an SMTP server refuses it (smtplib.SMTPRecipientsRefused)."""

import smtplib
import time

from django.core.mail.backends.locmem import EmailBackend


class RefusingOneAddressBackend(EmailBackend):
    refused: set[str] = set()
    attempts: list[str] = []
    delay = 0.0  # seconds a send takes (widens the window a parallel run could slip into)

    def send_messages(self, messages):
        time.sleep(self.delay)
        for message in messages:
            for address in message.recipients():
                type(self).attempts.append(address)
                if address in self.refused:
                    raise smtplib.SMTPRecipientsRefused({address: (550, b"mailbox unavailable")})
        return super().send_messages(messages)
