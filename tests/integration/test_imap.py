# SPDX-License-Identifier: AGPL-3.0-or-later
"""chapar-imapd against python's imaplib: LOGIN, AUTHENTICATE, STARTTLS, port 993, every
command family, IDLE seeing mail sent through chapar-smtpd, and two sessions on one mailbox
seeing each other's flag changes and expunges."""

import base64
import imaplib
import itertools
import re
import smtplib
import socket
import ssl
import time
import unittest

from chapar_harness import Chapar

PASSWORD = "imap-secret"
SENDER = "sender@example.net"
# Every test connects from 127.0.0.1, many times a minute.
CONFIG = """
[smtpd.connections]
new_connections_per_ip_per_minute = 100000

[imapd.connections]
new_connections_per_ip_per_minute = 100000
"""


class ImapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chapar = Chapar(users={}, extra_config=CONFIG)
        try:
            cls.chapar.start("smtpd", "imapd")
        except BaseException:
            cls.chapar.close()
            raise
        cls.names = itertools.count(1)

    @classmethod
    def tearDownClass(cls):
        cls.chapar.close()

    # --- utilities ---

    def new_user(self):
        """A fresh account, so that tests do not see each other's mail."""
        return self.chapar.add_user("user{}".format(next(self.names)), PASSWORD)

    def deliver(self, address, subject, body="Hello.\r\n"):
        """Sends one message through chapar-smtpd; it is in the store once this returns."""
        message = "From: {}\r\nTo: {}\r\nSubject: {}\r\n\r\n{}".format(
            SENDER, address, subject, body)
        with smtplib.SMTP("127.0.0.1", self.chapar.ports["smtp"], timeout=30) as smtp:
            smtp.sendmail(SENDER, [address], message.encode())

    def tls_context(self):
        context = ssl.create_default_context(cafile=self.chapar.cert_path)
        context.check_hostname = False  # the certificate names mail.example.test, not 127.0.0.1
        return context

    def connect(self):
        return imaplib.IMAP4("127.0.0.1", self.chapar.ports["imap"], timeout=30)

    def login(self, address):
        imap = self.connect()
        imap.login(address, PASSWORD)
        return imap

    def ok(self, result):
        typ, data = result
        self.assertEqual(typ, "OK", data)
        return data

    # --- not authenticated ---

    def test_capability_login_logout(self):
        address = self.new_user()
        imap = self.connect()
        self.assertIn("IMAP4REV2", imap.capabilities)
        self.assertIn("STARTTLS", imap.capabilities)
        self.assertIn("AUTH=PLAIN", imap.capabilities)  # loopback may log in without TLS
        with self.assertRaises(imaplib.IMAP4.error):
            imap.login(address, "wrong")
        typ, data = imap.login(address, PASSWORD)
        self.assertEqual(typ, "OK")
        caps = self.ok(imap.capability())[0].decode()
        for cap in ("IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "QRESYNC", "SPECIAL-USE",
                    "LIST-EXTENDED", "ESEARCH", "APPENDLIMIT=", "BINARY", "NAMESPACE"):
            self.assertIn(cap, caps)
        self.ok(imap.noop())
        typ, _ = imap.logout()
        self.assertEqual(typ, "BYE")

    def test_authenticate_plain_and_login(self):
        address = self.new_user()
        imap = self.connect()
        imap.authenticate("PLAIN", lambda _: "\0{}\0{}".format(address, PASSWORD).encode())
        self.assertEqual(imap.state, "AUTH")
        imap.logout()
        # LOGIN in two steps (imaplib sends the answers to the challenges).
        answers = iter([address.encode(), PASSWORD.encode()])
        imap = self.connect()
        imap.authenticate("LOGIN", lambda _: next(answers))
        self.assertEqual(imap.state, "AUTH")
        imap.logout()

    def test_starttls_and_implicit_tls(self):
        address = self.new_user()
        imap = self.connect()
        self.ok(imap.starttls(self.tls_context()))
        self.assertNotIn("STARTTLS", imap.capabilities)
        imap.login(address, PASSWORD)
        self.ok(imap.select("INBOX"))
        imap.logout()
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.chapar.ports["imaps"],
                                 ssl_context=self.tls_context(), timeout=30)
        self.assertNotIn("STARTTLS", imap.capabilities)
        imap.login(address, PASSWORD)
        self.ok(imap.select("INBOX"))
        imap.logout()

    # --- mailboxes ---

    def test_mailbox_commands(self):
        address = self.new_user()
        imap = self.login(address)
        listing = b"\n".join(self.ok(imap.list()))
        for name, use in (("INBOX", None), ("Drafts", b"\\Drafts"), ("Sent", b"\\Sent"),
                          ("Trash", b"\\Trash"), ("Junk", b"\\Junk"),
                          ("Archive", b"\\Archive")):
            line = next(l for l in listing.split(b"\n") if l.endswith(name.encode()))
            if use:
                self.assertIn(use, line)
        self.ok(imap.create("Projects/2024"))
        self.ok(imap.rename("Projects/2024", "Projects/2025"))
        listing = b"\n".join(self.ok(imap.list("Projects/", "%")))
        self.assertIn(b"Projects/2025", listing)
        self.assertNotIn(b"Projects/2024", listing)
        self.ok(imap.subscribe("Projects/2025"))
        self.assertIn(b"Projects/2025", b"\n".join(self.ok(imap.lsub('""', "Projects/*"))))
        self.ok(imap.unsubscribe("Projects/2025"))
        status = self.ok(imap.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)"))
        self.assertRegex(status[0], rb"MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0 SIZE 0")
        self.ok(imap.delete("Projects/2025"))
        typ, data = imap.delete("Projects/2025")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[NONEXISTENT]", data[0])
        namespace = self.ok(imap.namespace())
        self.assertEqual(namespace[0], b'(("" "/")) NIL NIL')
        typ, data = imap._simple_command("LIST", '(SPECIAL-USE)', '""', "*", "RETURN",
                                         "(STATUS (MESSAGES))")
        self.assertEqual(typ, "OK")
        imap.logout()

    # --- messages ---

    def test_append_fetch_store_search_copy_move_expunge(self):
        address = self.new_user()
        imap = self.login(address)
        message = b"From: a@example.net\r\nSubject: appended\r\n\r\nbody\r\n"
        typ, data = imap.append("INBOX", "(\\Flagged)", '"05-Feb-2024 10:00:00 +0100"', message)
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb"\[APPENDUID \d+ 1\]")
        self.deliver(address, "delivered")
        self.assertEqual(self.ok(imap.select("INBOX"))[0], b"2")
        data = self.ok(imap.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"))
        self.assertIn(b"FLAGS (\\Flagged)", data[0][0])
        self.assertIn(b'INTERNALDATE "05-Feb-2024 09:00:00 +0000"', data[0][0])
        self.assertEqual(data[0][1], message)
        data = self.ok(imap.fetch("2", "(ENVELOPE BODYSTRUCTURE)"))
        self.assertIn(b'"delivered"', data[0])
        self.assertEqual(self.ok(imap.search(None, "UNFLAGGED"))[0], b"2")
        self.assertEqual(self.ok(imap.uid("SEARCH", "SUBJECT", "appended"))[0], b"1")
        self.assertIn(b"\\Seen", self.ok(imap.store("2", "+FLAGS", "(\\Seen)"))[0])
        typ, _ = imap.uid("COPY", "1", "Archive")
        self.assertEqual(typ, "OK")
        self.assertRegex(imap.response("COPYUID")[1][0], rb"^\d+ 1 1$")
        typ, data = imap.uid("MOVE", "2", "Trash")
        self.assertEqual(typ, "OK")
        self.assertEqual(self.ok(imap.search(None, "ALL"))[0], b"1")
        self.ok(imap.store("1", "+FLAGS.SILENT", "(\\Deleted)"))
        self.ok(imap.expunge())
        self.assertEqual(self.ok(imap.search(None, "ALL"))[0], b"")
        self.ok(imap.close())
        self.assertRegex(self.ok(imap.status("Trash", "(MESSAGES)"))[0], rb"MESSAGES 1")
        self.assertRegex(self.ok(imap.status("Archive", "(MESSAGES)"))[0], rb"MESSAGES 1")
        imap.logout()

    def test_a_message_of_50_mb_goes_in_and_out(self):
        address = self.new_user()
        imap = self.login(address)
        line = b"x" * 998 + b"\r\n"
        header = b"From: a@example.net\r\nSubject: large\r\n\r\n"
        limit = 50 * 1024 * 1024
        message = header + line * ((limit - len(header)) // len(line))
        typ, data = imap.append("Archive", None, None, message)
        self.assertEqual(typ, "OK", data)
        self.ok(imap.select("Archive", readonly=True))
        data = self.ok(imap.fetch("1", "(RFC822.SIZE BODY.PEEK[])"))
        self.assertIn(b"RFC822.SIZE %d" % len(message), data[0][0])
        self.assertEqual(len(data[0][1]), len(message))
        self.assertTrue(data[0][1] == message)
        imap.logout()

    # --- changes seen by others ---

    def start_idle(self, imap):
        """Sends IDLE and reads the continuation; returns the command's tag."""
        tag = imap._new_tag()
        imap.send(tag + b" IDLE\r\n")
        self.assertTrue(imap.readline().startswith(b"+"))
        return tag

    def read_until(self, imap, pattern, timeout=10):
        """Reads lines until one matches `pattern`, which is returned."""
        imap.sock.settimeout(timeout)
        while True:
            line = imap.readline()
            self.assertTrue(line, "connection closed")
            if re.search(pattern, line):
                return line

    def test_idle_sees_mail_sent_through_smtpd(self):
        address = self.new_user()
        imap = self.login(address)
        self.ok(imap.select("INBOX"))
        tag = self.start_idle(imap)
        started = time.monotonic()
        self.deliver(address, "while idling")
        line = self.read_until(imap, rb"^\* \d+ EXISTS")
        elapsed = time.monotonic() - started
        self.assertEqual(line.strip(), b"* 1 EXISTS")
        print("IDLE saw the delivery {:.3f} s after SMTP accepted it".format(elapsed))
        imap.send(b"DONE\r\n")
        self.assertTrue(self.read_until(imap, re.escape(tag) + rb" OK").startswith(tag))
        imap.logout()

    def test_two_sessions_see_flags_and_expunges(self):
        address = self.new_user()
        for n in range(3):
            self.deliver(address, "message {}".format(n))
        one, two = self.login(address), self.login(address)
        self.ok(one.select("INBOX"))
        self.ok(two.select("INBOX"))
        self.ok(one.store("2", "+FLAGS", "(\\Flagged)"))
        self.ok(two.noop())
        self.assertIn(b"2 (FLAGS (\\Flagged))", b" ".join(two.untagged_responses.get("FETCH", [])))
        two.untagged_responses.clear()
        self.ok(two.store("1", "+FLAGS.SILENT", "(\\Deleted)"))
        self.ok(two.expunge())
        # The other session hears of the expunge at its next command that allows it.
        tag = self.start_idle(one)
        self.assertEqual(self.read_until(one, rb"EXPUNGE").strip(), b"* 1 EXPUNGE")
        one.send(b"DONE\r\n")
        self.read_until(one, re.escape(tag) + rb" OK")
        self.assertEqual(self.ok(one.search(None, "FLAGGED"))[0], b"1")
        one.logout()
        two.logout()

    def test_append_over_the_limit_is_refused_before_it_is_sent(self):
        address = self.new_user()
        imap = self.login(address)
        # A synchronizing literal over APPENDLIMIT is refused before it is sent.
        limit = int(re.search(r"APPENDLIMIT=(\d+)",
                              self.ok(imap.capability())[0].decode()).group(1))
        tag = imap._new_tag()
        imap.send(tag + b" APPEND INBOX {" + str(limit + 1).encode() + b"}\r\n")
        line = imap.readline()
        self.assertTrue(line.startswith(tag + b" NO [TOOBIG]"), line)
        self.ok(imap.noop())
        imap.logout()


if __name__ == "__main__":
    unittest.main()
