# SPDX-License-Identifier: AGPL-3.0-or-later
"""chapar-smtpd against real clients: python's smtplib (plain on the MX port, STARTTLS and
AUTH on submission, implicit TLS on submissions, SMTPUTF8), raw sockets (BDAT, pipelining,
smuggling), swaks and curl. What was accepted is checked in the store itself, read-only."""

import os
import re
import shutil
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import unittest

from chapar_harness import Chapar

# Every test connects from 127.0.0.1, many times and at once.
CONFIG = """
[smtpd.connections]
max_connections_per_ip = 500
new_connections_per_ip_per_minute = 100000
"""

SENDER = "sender@example.net"
USERS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}

# Return-Path and our Received field, which ends with the date (RFC 5321 §4.4).
TRACE = re.compile(rb"\AReturn-Path: <[^>\r\n]*>\r\nReceived: from [^\r\n]*\r\n"
                   rb"(?:\t[^\r\n]*\r\n)*?\t\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n")


# --- reading the store (read-only, beside the running daemon) ------------------------------

def connect_store(chapar):
    path = os.path.join(chapar.data_dir, "chapar.db")
    db = sqlite3.connect("file:{}?mode=ro".format(path), uri=True, timeout=30)
    db.execute("PRAGMA busy_timeout = 30000")
    return db


def stored_messages(chapar, address):
    """The content of every message in the INBOX of `address`, by UID."""
    db = connect_store(chapar)
    try:
        rows = db.execute(
            "SELECT c.content FROM accounts a"
            " JOIN mailboxes m ON m.account_id = a.id AND m.name = 'INBOX'"
            " JOIN entries e ON e.mailbox_id = m.id"
            " JOIN message_content c ON c.message_id = e.message_id"
            " WHERE a.address_key = ? ORDER BY e.uid", (address.lower(),)).fetchall()
    finally:
        db.close()
    return [bytes(row[0]) for row in rows]


def queued(chapar):
    """The outbound queue: (sender, ret, envid, requiretls, [(address, notify, orcpt)], content)."""
    db = connect_store(chapar)
    try:
        entries = []
        for qid, sender, ret, envid, requiretls, message in db.execute(
                "SELECT id, sender, dsn_ret, dsn_envid, requiretls, message_id FROM queue"
                " ORDER BY id").fetchall():
            recipients = db.execute(
                "SELECT address, notify, orcpt FROM queue_recipients WHERE queue_id = ?"
                " ORDER BY position", (qid,)).fetchall()
            content = db.execute("SELECT content FROM message_content WHERE message_id = ?",
                                 (message,)).fetchone()[0]
            entries.append((sender, ret, envid, bool(requiretls), recipients, bytes(content)))
        return entries
    finally:
        db.close()


def split_trace(stored):
    """(trace header fields, the rest) of a stored message; fails without our trace."""
    match = TRACE.match(stored)
    if match is None:
        raise AssertionError("no trace header fields at the top of {!r}".format(stored[:300]))
    return stored[:match.end()], stored[match.end():]


def make_message(subject, body="Hello.\r\n", sender=SENDER, to="alice@example.test"):
    return ("From: {}\r\nTo: {}\r\nSubject: {}\r\nMessage-ID: <{}@example.net>\r\n\r\n{}".format(
        sender, to, subject, re.sub(r"\W", "-", subject), body)).encode()


# --- a raw SMTP client ----------------------------------------------------------------------

class RawClient:
    """Bytes out, whole replies (all their lines) in."""

    def __init__(self, port, context=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        if context is not None:
            self.sock = context.wrap_socket(self.sock)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """The next reply: its lines, each without CRLF."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed; so far: {!r}".format(lines))
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def replies(self, count):
        """The last line of each of the next `count` replies."""
        return [self.reply()[-1] for _ in range(count)]

    def close(self):
        self.sock.close()


class SmtpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chapar = Chapar(users=USERS, extra_config=CONFIG)
        try:
            cls.chapar.start("smtpd")
        except BaseException:
            cls.chapar.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.chapar.close()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="chapar-smtp-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers ---

    def port(self, name):
        return self.chapar.ports[name]

    def tls_context(self):
        context = ssl.create_default_context(cafile=self.chapar.cert_path)
        context.check_hostname = False  # the certificate names mail.example.test
        return context

    def find(self, address, marker):
        """The one stored message of `address` that holds `marker`."""
        found = [m for m in stored_messages(self.chapar, address) if marker.encode() in m]
        self.assertEqual(len(found), 1, "messages with {!r} for {}".format(marker, address))
        return found[0]

    def assert_stored(self, address, sent):
        """The message is in the INBOX exactly as sent, below the trace header fields."""
        subject = re.search(rb"^Subject: (.*)\r$", sent, re.M).group(1).decode()
        trace, rest = split_trace(self.find(address, subject))
        self.assertEqual(rest, sent)
        return trace

    # --- the MX port ---

    def test_smtplib_plain_to_local_recipients(self):
        sent = make_message("plain smtplib", ".starts with a dot\r\nand\r\n.\r\nmore\r\n")
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as smtp:
            code, _ = smtp.ehlo("client.example.net")
            self.assertEqual(code, 250)
            for keyword in ("pipelining", "size", "8bitmime", "smtputf8", "chunking", "dsn",
                            "enhancedstatuscodes", "starttls"):
                self.assertTrue(smtp.has_extn(keyword), keyword)
            refused = smtp.sendmail(SENDER, ["alice@example.test", "Bob@Example.Test"], sent)
            self.assertEqual(refused, {})
        trace = self.assert_stored("alice@example.test", sent)
        self.assertIn(b"Received: from client.example.net ([127.0.0.1])\r\n", trace)
        self.assertIn(b"with ESMTP;", trace)
        self.assertTrue(trace.startswith(b"Return-Path: <sender@example.net>\r\n"))
        self.assertEqual(self.assert_stored("bob@example.test", sent), trace)

    def test_unknown_user_refused(self):
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as smtp:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
                smtp.sendmail(SENDER, ["nobody@example.test"], make_message("unknown"))
            code, text = caught.exception.recipients["nobody@example.test"]
            self.assertEqual(code, 550)
            self.assertIn(b"5.1.1", text)

    def test_relay_without_auth_refused(self):
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as smtp:
            smtp.ehlo()
            self.assertEqual(smtp.mail(SENDER)[0], 250)
            code, text = smtp.rcpt("someone@elsewhere.example")
            self.assertEqual(code, 554)
            self.assertIn(b"5.7.1 <someone@elsewhere.example>: Relay access denied", text)
        self.assertEqual([e for e in queued(self.chapar) if b"relay" in e[5]], [])

    def test_pipelined_commands_and_smuggling(self):
        client = RawClient(self.port("smtp"))
        self.assertTrue(client.reply()[0].startswith("220 mail.example.test "))
        # Everything in one write (RFC 2920), with smuggling attempts inside the data: only
        # CRLF.CRLF ends it, so one message arrives holding all of it.
        data = (b"Subject: smuggling\r\n\r\nbody\n.\nMAIL FROM:<evil@example.net>\r\n"
                b"RCPT TO:<bob@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r.\r\n"
                b"end\r\n")
        client.send(b"EHLO raw.example.net\r\nMAIL FROM:<raw@example.net>\r\n"
                    b"RCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n" +
                    data + b".\r\nQUIT\r\n")
        self.assertEqual(client.reply()[0], "250-mail.example.test")
        replies = client.replies(6)
        self.assertEqual(replies[:4], [
            "250 2.1.0 Ok", "250 2.1.5 Ok",
            "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in "
            "local recipient table",
            "354 End data with <CR><LF>.<CR><LF>"])
        self.assertRegex(replies[4], r"^250 2\.0\.0 Ok: queued as \d+$")
        self.assertEqual(replies[5], "221 2.0.0 Bye")
        client.close()
        _, rest = split_trace(self.find("alice@example.test", "Subject: smuggling"))
        self.assertEqual(rest, data.replace(b"body\n.\n", b"body\r\n.\r\n"))
        self.assertEqual([m for m in stored_messages(self.chapar, "bob@example.test")
                          if b"smuggled" in m and b"smuggling" not in m], [])

    def test_bdat_raw(self):
        client = RawClient(self.port("smtp"))
        client.reply()
        chunk1 = b"Subject: bdat raw\r\nX-Test: binary \x00\x01\xff\r\n\r\n"
        chunk2 = b"line one\r\n.\r\nline after a lone dot\r\n"
        client.send(b"EHLO raw.example.net\r\nMAIL FROM:<raw@example.net> BODY=BINARYMIME\r\n"
                    b"RCPT TO:<bob@example.test>\r\n" +
                    b"BDAT %d\r\n" % len(chunk1) + chunk1 +
                    b"BDAT %d LAST\r\n" % len(chunk2) + chunk2 + b"QUIT\r\n")
        ehlo = client.reply()
        self.assertIn("250-CHUNKING", ehlo)
        self.assertIn("250-BINARYMIME", ehlo)
        replies = client.replies(5)
        self.assertEqual(replies[:3], ["250 2.1.0 Ok", "250 2.1.5 Ok",
                                       "250 2.0.0 Ok: {} octets received".format(len(chunk1))])
        self.assertRegex(replies[3], r"^250 2\.0\.0 Ok: queued as \d+$")
        self.assertEqual(replies[4], "221 2.0.0 Bye")
        client.close()
        _, rest = split_trace(self.find("bob@example.test", "Subject: bdat raw"))
        self.assertEqual(rest, chunk1 + chunk2)

    def test_smtputf8(self):
        # chaparctl keeps local parts ASCII; a catch-all leads the UTF-8 address to an account.
        self.chapar.ctl("alias", "add", "@example.test", "carol@example.test")
        try:
            sent = ("From: J\u00f6rg <j\u00f6rg@example.net>\r\nTo: <gr\u00fc\u00dfe@example.test>\r\n"
                    "Subject: smtputf8 \u00fcber\r\n\r\nGr\u00fc\u00dfe\r\n").encode()
            with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as smtp:
                smtp.ehlo()
                self.assertTrue(smtp.has_extn("smtputf8"))
                smtp.sendmail("j\u00f6rg@example.net", ["gr\u00fc\u00dfe@example.test"], sent,
                              mail_options=["SMTPUTF8", "BODY=8BITMIME"])
                # Without SMTPUTF8 a UTF-8 address is refused (RFC 6531 §3.5).
                self.assertEqual(smtp.mail(SENDER)[0], 250)
                code, text = smtp.rcpt("gr\u00fc\u00dfe@example.test")
                self.assertEqual(code, 553)
                self.assertIn(b"5.6.7", text)
                smtp.rset()
            trace, rest = split_trace(self.find("carol@example.test", "smtputf8"))
            self.assertEqual(rest, sent)
            self.assertIn("Return-Path: <j\u00f6rg@example.net>".encode(), trace)
            self.assertIn(b"with UTF8SMTP", trace)
            self.assertIn("for <gr\u00fc\u00dfe@example.test>".encode(), trace)
        finally:
            self.chapar.ctl("alias", "remove", "@example.test")

    # --- submission (587, STARTTLS) and submissions (465, implicit TLS) ---

    def test_submission_starttls_auth_local_and_remote(self):
        sent = make_message("submission starttls", sender="bob@example.test")
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as smtp:
            smtp.ehlo()
            self.assertTrue(smtp.has_extn("starttls"))
            # From loopback a password may travel without TLS, but nobody mails without AUTH.
            self.assertTrue(smtp.has_extn("auth"))
            code, text = smtp.mail("bob@example.test")
            self.assertEqual(code, 530)
            smtp.rset()
            smtp.starttls(context=self.tls_context())
            smtp.ehlo()
            self.assertTrue(smtp.has_extn("auth"))
            self.assertTrue(smtp.has_extn("requiretls"))
            self.assertFalse(smtp.has_extn("starttls"))
            code, text = smtp.mail("bob@example.test")
            self.assertEqual(code, 530)
            self.assertIn(b"5.7.0 Authentication required", text)
            smtp.rset()
            smtp.login("bob@example.test", "bob-pw")
            refused = smtp.sendmail("bob@example.test",
                                    ["alice@example.test", "friend@elsewhere.example"], sent,
                                    mail_options=["RET=HDRS", "ENVID=sub+2B1"],
                                    rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
            self.assertEqual(refused, {})
        trace = self.assert_stored("alice@example.test", sent)
        self.assertIn(b"with ESMTPSA", trace)
        self.assertIn(b"(using TLSv1.3 with cipher ", trace)
        entries = [e for e in queued(self.chapar) if b"submission starttls" in e[5]]
        self.assertEqual(len(entries), 1)
        sender, ret, envid, requiretls, recipients, content = entries[0]
        self.assertEqual((sender, ret, envid, requiretls), ("bob@example.test", "HDRS", "sub+1",
                                                            False))
        self.assertEqual(recipients, [("friend@elsewhere.example", "SUCCESS,FAILURE", "")])
        self.assertEqual(split_trace(content)[1], sent)

    def test_forged_sender_refused(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as smtp:
            smtp.starttls(context=self.tls_context())
            smtp.login("bob@example.test", "bob-pw")
            code, text = smtp.mail("alice@example.test")
            self.assertEqual(code, 553)
            self.assertIn(b"5.7.1 <alice@example.test>: Sender address rejected", text)

    def test_wrong_password(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as smtp:
            smtp.starttls(context=self.tls_context())
            with self.assertRaises(smtplib.SMTPAuthenticationError) as caught:
                smtp.login("bob@example.test", "not-the-password")
            self.assertEqual(caught.exception.smtp_code, 535)
        self.chapar.wait_for_log("smtpd", r"event=auth_failed .*ip=127\.0\.0\.1 .*user=bob@example\.test")

    def test_submissions_implicit_tls(self):
        sent = make_message("submissions implicit", sender="alice@example.test",
                            to="bob@example.test")
        with smtplib.SMTP_SSL("127.0.0.1", self.port("submissions"), timeout=30,
                              context=self.tls_context()) as smtp:
            smtp.ehlo()
            self.assertFalse(smtp.has_extn("starttls"))
            smtp.login("alice@example.test", "alice-pw")
            smtp.sendmail("alice@example.test", ["bob@example.test"], sent,
                          mail_options=["REQUIRETLS"])
        trace = self.assert_stored("bob@example.test", sent)
        self.assertIn(b"with ESMTPSA", trace)

    # --- swaks and curl ---

    def swaks(self, *args):
        result = subprocess.run(["swaks", "--server", "127.0.0.1", "--timeout", "30", *args],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout

    def test_swaks_pipelining(self):
        out = self.swaks("--port", str(self.port("smtp")), "--pipeline",
                         "--from", SENDER, "--to", "alice@example.test,bob@example.test",
                         "--header", "Subject: swaks pipelining", "--body", "piped body")
        self.assertRegex(out, r"250 2\.0\.0 Ok: queued as \d+")
        self.find("alice@example.test", "swaks pipelining")
        self.find("bob@example.test", "swaks pipelining")

    def test_swaks_starttls_auth(self):
        out = self.swaks("--port", str(self.port("submission")), "--tls",
                         "--auth", "PLAIN", "--auth-user", "carol@example.test",
                         "--auth-password", "carol-pw", "--from", "carol@example.test",
                         "--to", "alice@example.test", "--header", "Subject: swaks starttls")
        self.assertIn("235 2.7.0 Authentication successful", out)
        self.find("alice@example.test", "swaks starttls")

    def test_swaks_tls_on_connect_login(self):
        out = self.swaks("--port", str(self.port("submissions")), "--tls-on-connect",
                         "--auth", "LOGIN", "--auth-user", "bob@example.test",
                         "--auth-password", "bob-pw", "--from", "bob@example.test",
                         "--to", "carol@example.test", "--header", "Subject: swaks tls on connect")
        self.assertIn("235 2.7.0 Authentication successful", out)
        self.find("carol@example.test", "swaks tls on connect")

    def curl(self, *args):
        result = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "60", *args],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def message_file(self, sent):
        path = os.path.join(self.tmp, "message.eml")
        with open(path, "wb") as f:
            f.write(sent)
        return path

    def test_curl_smtp(self):
        sent = make_message("curl smtp")
        self.curl("--url", "smtp://127.0.0.1:{}".format(self.port("smtp")),
                  "--mail-from", SENDER, "--mail-rcpt", "alice@example.test",
                  "--upload-file", self.message_file(sent))
        self.assert_stored("alice@example.test", sent)

    def test_curl_smtps_and_starttls(self):
        sent = make_message("curl smtps", sender="alice@example.test", to="bob@example.test")
        host = self.chapar.hostname
        self.curl("--url", "smtps://{}:{}".format(host, self.port("submissions")),
                  "--resolve", "{}:{}:127.0.0.1".format(host, self.port("submissions")),
                  "--cacert", self.chapar.cert_path, "--user", "alice@example.test:alice-pw",
                  "--mail-from", "alice@example.test", "--mail-rcpt", "bob@example.test",
                  "--upload-file", self.message_file(sent))
        self.assert_stored("bob@example.test", sent)
        sent = make_message("curl starttls", sender="alice@example.test", to="bob@example.test")
        self.curl("--url", "smtp://{}:{}".format(host, self.port("submission")), "--ssl-reqd",
                  "--resolve", "{}:{}:127.0.0.1".format(host, self.port("submission")),
                  "--cacert", self.chapar.cert_path, "--user", "alice@example.test:alice-pw",
                  "--mail-from", "alice@example.test", "--mail-rcpt", "bob@example.test",
                  "--upload-file", self.message_file(sent))
        self.assert_stored("bob@example.test", sent)


if __name__ == "__main__":
    unittest.main()
