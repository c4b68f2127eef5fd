# SPDX-License-Identifier: AGPL-3.0-or-later
"""chapar-smtpd under load and under SIGKILL: 50 clients sending 20 messages each at once
all arrive intact, and a message answered 250 survives the daemon being killed at once."""

import smtplib
import threading
import unittest

from chapar_harness import Chapar
from test_smtp import CONFIG, SENDER, split_trace, stored_messages

CLIENTS = 50
MESSAGES_PER_CLIENT = 20


def load_message(client, number, recipient):
    """A message unique to (client, number), with lines long and short, a leading dot and
    8-bit text, so that any mix-up or damage shows."""
    lines = ["From: load-{}@example.net".format(client),
             "To: {}".format(recipient),
             "Subject: load {} {}".format(client, number),
             "Message-ID: <load-{}-{}@example.net>".format(client, number),
             "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8",
             "Content-Transfer-Encoding: 8bit",
             ""]
    for n in range(1 + (client * 7 + number) % 40):
        lines.append("{}line {} of message {} from client {}: {}".format(
            "." if n % 9 == 0 else "", n, number, client, "\u00e9" * (n % 5) + "x" * (n * 13 % 90)))
    return ("\r\n".join(lines) + "\r\n").encode()


class SmtpLoadTest(unittest.TestCase):
    def test_concurrent_clients_all_messages_intact(self):
        users = {"load{}".format(n): "pw-{}".format(n) for n in range(5)}
        with Chapar(users=users, extra_config=CONFIG) as chapar:
            chapar.start("smtpd")
            port = chapar.ports["smtp"]
            recipients = ["load{}@{}".format(n, chapar.domain) for n in range(5)]
            sent = {}  # (recipient, subject) -> bytes
            errors = []
            lock = threading.Lock()

            def client(number):
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
                        for m in range(MESSAGES_PER_CLIENT):
                            recipient = recipients[(number + m) % len(recipients)]
                            message = load_message(number, m, recipient)
                            refused = smtp.sendmail(SENDER, [recipient], message)
                            if refused:
                                raise AssertionError(refused)
                            with lock:
                                sent[(recipient, "load {} {}".format(number, m))] = message
                except Exception as e:  # reported below, with the client's number
                    with lock:
                        errors.append("client {}: {!r}".format(number, e))

            threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
            self.assertEqual(errors, [])
            self.assertEqual(len(sent), CLIENTS * MESSAGES_PER_CLIENT)

            found = {}
            for recipient in recipients:
                for stored in stored_messages(chapar, recipient):
                    _, content = split_trace(stored)
                    subject = content.split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0]
                    key = (recipient, subject.decode())
                    self.assertNotIn(key, found, "delivered twice")
                    found[key] = content
            self.assertEqual(set(found), set(sent))
            for key, message in sent.items():
                self.assertEqual(found[key], message, key)


class SmtpCrashTest(unittest.TestCase):
    def test_message_answered_250_survives_sigkill(self):
        with Chapar(extra_config=CONFIG) as chapar:
            chapar.start("smtpd")
            message = (b"From: crash@example.net\r\nSubject: survives sigkill\r\n\r\n"
                       b"answered, then killed\r\n")
            recipient = "alice@" + chapar.domain
            smtp = smtplib.SMTP("127.0.0.1", chapar.ports["smtp"], timeout=30)
            smtp.ehlo()
            smtp.mail(SENDER)
            smtp.rcpt(recipient)
            code, text = smtp.data(message)
            self.assertEqual(code, 250, text)
            # No QUIT, no grace: the daemon dies the moment the client has its 250.
            chapar.kill("smtpd")
            smtp.close()
            # chaparctl opens the store as any process would after a crash.
            listing = chapar.ctl("mailbox", "list", recipient).stdout
            inbox = [line.split() for line in listing.splitlines() if line.startswith("INBOX")]
            self.assertEqual(inbox[0][1], "1", listing)
            stored = stored_messages(chapar, recipient)
            self.assertEqual(len(stored), 1)
            self.assertEqual(split_trace(stored[0])[1], message)
            # And the daemon comes back on the same store.
            chapar.start("smtpd")
            with smtplib.SMTP("127.0.0.1", chapar.ports["smtp"], timeout=30) as again:
                again.sendmail(SENDER, [recipient], message)
            self.assertEqual(len(stored_messages(chapar, recipient)), 2)


if __name__ == "__main__":
    unittest.main()
