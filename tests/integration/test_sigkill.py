# SPDX-License-Identifier: AGPL-3.0-or-later
"""SIGKILL under load: real SMTP, IMAP and POP3 traffic runs in threads while each daemon is
killed with SIGKILL at random moments and started again. At the end every message that was
acknowledged (250 after DATA, OK after APPEND) must be in its mailbox, byte for byte; every
POP3 deletion acknowledged by +OK after QUIT must have happened; and no message whose
deletion was acknowledged may reappear.

Each message carries a unique token in its body. The figures (messages acknowledged, kills,
messages checked) are printed. CHAPAR_SIGKILL_SEED repeats a run's random choices."""

import imaplib
import os
import poplib
import random
import re
import smtplib
import socket
import threading
import time
import unittest

from chapar_harness import Chapar, bin_dir

PASSWORD = "kill-pw"
KILLS = 24
CONFIG = """
[smtpd.connections]
new_connections_per_ip_per_minute = 1000000

[pop3d.connections]
new_connections_per_ip_per_minute = 1000000

[imapd.connections]
new_connections_per_ip_per_minute = 1000000
"""
TOKEN = re.compile(rb"token-[0-9a-f]{16}")
DAEMONS = ("smtpd", "pop3d", "imapd")
CLIENT_TIMEOUT = 20


def close_quietly(imap):
    """Closes the connection of an imaplib client whether or not it logged out."""
    try:
        imap.shutdown()
    except OSError:
        pass


class Ledger:
    """What the clients were told, shared by the traffic threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged = {}  # token -> (address, body)
        self.deleted = set()  # tokens whose POP3 deletion was acknowledged
        self.maybe_deleted = set()  # DELE sent, QUIT not acknowledged
        self.attempts = 0
        self.failures = 0

    def ack(self, token, address, body):
        with self.lock:
            self.acknowledged[token] = (address, body)

    def count(self, failed):
        with self.lock:
            self.attempts += 1
            self.failures += int(failed)


class SigkillTest(unittest.TestCase):
    def setUp(self):
        missing = [d for d in DAEMONS if not os.path.exists(os.path.join(bin_dir(), "chapar-" + d))]
        if missing:
            self.skipTest("not built: " + ", ".join(missing))
        seed = int(os.environ.get("CHAPAR_SIGKILL_SEED", str(int(time.time()))))
        print("seed", seed)
        self.random = random.Random(seed)
        self.chapar = Chapar(users={"alice": PASSWORD, "bob": PASSWORD, "carol": PASSWORD},
                             extra_config=CONFIG)
        self.addCleanup(self.chapar.close)
        self.chapar.start(*DAEMONS)
        self.alice = self.chapar.address("alice")
        self.bob = self.chapar.address("bob")  # read and deleted through POP3
        self.carol = self.chapar.address("carol")
        self.ledger = Ledger()
        self.stop = threading.Event()

    # --- traffic ---

    def body(self, rng):
        token = "token-{:016x}".format(rng.getrandbits(64))
        lines = [token] + ["".join(rng.choice("abcdefghij .") for _ in range(rng.randrange(0, 90)))
                           for _ in range(rng.randrange(1, 40))]
        if rng.random() < 0.1:
            lines += ["x" * 998] * rng.randrange(50, 200)  # a few larger messages
        return token, "\r\n".join(lines) + "\r\n"

    def port(self, name):
        return self.chapar.ports[name]

    def smtp_traffic(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            address = rng.choice([self.alice, self.bob, self.carol])
            token, body = self.body(rng)
            message = "From: load@example.net\r\nTo: {}\r\nSubject: {}\r\n\r\n{}".format(
                address, token, body)
            failed = True
            try:
                with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=CLIENT_TIMEOUT) as s:
                    s.sendmail("load@example.net", [address], message.encode())
                    # sendmail returns only after 250 to the data.
                    self.ledger.ack(token, address, body)
                    failed = False
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)
            self.ledger.count(failed)

    def imap_traffic(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            failed = True
            try:
                imap = imaplib.IMAP4("127.0.0.1", self.port("imap"), timeout=CLIENT_TIMEOUT)
                try:
                    imap.login(self.alice, PASSWORD)
                    imap.select("INBOX")
                    for _ in range(rng.randrange(1, 4)):
                        token, body = self.body(rng)
                        message = "From: alice@example.test\r\nSubject: {}\r\n\r\n{}".format(
                            token, body)
                        status, _ = imap.append("INBOX", None, None, message.encode())
                        if status == "OK":
                            self.ledger.ack(token, self.alice, body)
                        imap.fetch("1:*", "(FLAGS)")
                        imap.store("1:*", "+FLAGS", "(\\Seen)")
                    imap.logout()
                    failed = False
                finally:
                    close_quietly(imap)
            except (OSError, imaplib.IMAP4.error, EOFError):
                time.sleep(0.05)
            self.ledger.count(failed)

    def pop3_traffic(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            failed = True
            marked = []
            try:
                pop = poplib.POP3("127.0.0.1", self.port("pop3"), timeout=CLIENT_TIMEOUT)
                try:
                    pop.user(self.bob)
                    pop.pass_(PASSWORD)
                    count, _ = pop.stat()
                    for n in rng.sample(range(1, count + 1), min(count, rng.randrange(0, 4))):
                        _, lines, _ = pop.retr(n)
                        found = TOKEN.search(b"\n".join(lines))
                        if found:
                            marked.append(found.group(0).decode())
                        with self.ledger.lock:
                            self.ledger.maybe_deleted.update(marked)
                        pop.dele(n)
                    reply = pop.quit()
                    if reply.startswith(b"+OK"):
                        with self.ledger.lock:
                            self.ledger.deleted.update(marked)
                        failed = False
                finally:
                    pop.close()
            except (OSError, poplib.error_proto, EOFError):
                time.sleep(0.05)
            self.ledger.count(failed)

    # --- checking ---

    def stored(self, address):
        """token -> list of message bodies (BODY[TEXT]) in the INBOX of `address`."""
        imap = imaplib.IMAP4("127.0.0.1", self.port("imap"), timeout=120)
        try:
            imap.login(address, PASSWORD)
            status, data = imap.select("INBOX", readonly=True)
            self.assertEqual(status, "OK")
            out = {}
            if int(data[0]) == 0:
                return out
            status, items = imap.fetch("1:*", "(BODY.PEEK[TEXT])")
            self.assertEqual(status, "OK")
            for item in items:
                if isinstance(item, tuple):
                    found = TOKEN.search(item[1])
                    if found:
                        out.setdefault(found.group(0).decode(), []).append(item[1])
            imap.logout()
            return out
        finally:
            close_quietly(imap)

    def test_acknowledged_mail_survives_sigkill(self):
        workers = [threading.Thread(target=self.smtp_traffic, args=(self.random.random(),)),
                   threading.Thread(target=self.smtp_traffic, args=(self.random.random(),)),
                   threading.Thread(target=self.imap_traffic, args=(self.random.random(),)),
                   threading.Thread(target=self.pop3_traffic, args=(self.random.random(),))]
        for w in workers:
            w.start()
        kills = {d: 0 for d in DAEMONS}
        started = time.monotonic()
        try:
            for n in range(KILLS):
                time.sleep(self.random.uniform(0.1, 1.2))
                daemon = DAEMONS[n % 3] if n < 3 else self.random.choice(DAEMONS)
                self.chapar.kill(daemon)
                kills[daemon] += 1
                self.chapar.start(daemon)
            time.sleep(1.0)  # traffic against the last restarted daemons
        finally:
            self.stop.set()
            for w in workers:
                w.join(timeout=120)

        ledger = self.ledger
        stored = {a: self.stored(a) for a in (self.alice, self.bob, self.carol)}
        missing, damaged, reappeared = [], [], []
        checked = 0
        for token, (address, body) in ledger.acknowledged.items():
            copies = stored[address].get(token, [])
            if token in ledger.deleted:
                continue
            if address == self.bob and token in ledger.maybe_deleted:
                continue  # DELE without an acknowledged QUIT: either way is right
            checked += 1
            if not copies:
                missing.append(token)
            elif any(copy != body.encode() for copy in copies):
                damaged.append(token)
        for token in ledger.deleted:
            if token in stored[self.bob]:
                reappeared.append(token)
        print("SIGKILL under load: {} s, kills {} ({}), client sessions {} ({} cut short), "
              "messages acknowledged {}, POP3 deletions acknowledged {}, messages checked {}, "
              "deletions checked {}".format(
                  round(time.monotonic() - started), sum(kills.values()),
                  ", ".join("{} {}".format(d, k) for d, k in kills.items()), ledger.attempts,
                  ledger.failures, len(ledger.acknowledged), len(ledger.deleted), checked,
                  len(ledger.deleted)))
        self.assertGreaterEqual(sum(kills.values()), 20)
        self.assertGreater(checked, 0)
        self.assertEqual(missing, [], "acknowledged messages lost")
        self.assertEqual(damaged, [], "acknowledged messages changed")
        self.assertEqual(reappeared, [], "messages whose deletion was acknowledged came back")


if __name__ == "__main__":
    unittest.main()
