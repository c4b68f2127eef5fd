# SPDX-License-Identifier: AGPL-3.0-or-later
"""chapar-pop3d against real clients: mail goes in through chapar-smtpd, then comes out
through python's poplib (USER/PASS, AUTH, STLS, port 995), curl and raw sockets."""

import base64
import imaplib
import itertools
import poplib
import smtplib
import socket
import ssl
import subprocess
import unittest

from chapar_harness import Chapar, wait_for

PASSWORD = "pop-secret"
SENDER = "sender@example.net"
# Every test connects from 127.0.0.1, many times a minute.
CONFIG = """
[smtpd.connections]
new_connections_per_ip_per_minute = 100000

[pop3d.connections]
new_connections_per_ip_per_minute = 100000

[imapd.connections]
new_connections_per_ip_per_minute = 100000
"""


def plain_response(user, password):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()


class Pop3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chapar = Chapar(users={}, extra_config=CONFIG)
        try:
            cls.chapar.start("smtpd", "pop3d", "imapd")
        except BaseException:
            cls.chapar.close()
            raise
        cls.names = itertools.count(1)

    @classmethod
    def tearDownClass(cls):
        cls.chapar.close()

    # --- helpers ---

    def new_user(self):
        """A fresh account, so that tests do not see each other's mail."""
        return self.chapar.add_user("user{}".format(next(self.names)), PASSWORD)

    def deliver(self, address, subject, body="Hello.\r\n"):
        """Sends one message through chapar-smtpd; it is in the store once this returns."""
        message = ("From: {}\r\nTo: {}\r\nSubject: {}\r\n\r\n{}".format(
            SENDER, address, subject, body))
        with smtplib.SMTP("127.0.0.1", self.chapar.ports["smtp"], timeout=30) as smtp:
            smtp.sendmail(SENDER, [address], message.encode())

    def tls_context(self):
        context = ssl.create_default_context(cafile=self.chapar.cert_path)
        context.check_hostname = False  # the certificate names mail.example.test, not 127.0.0.1
        return context

    def connect(self):
        return poplib.POP3("127.0.0.1", self.chapar.ports["pop3"], timeout=30)

    def login(self, address, password=PASSWORD):
        pop = self.connect()
        pop.user(address)
        pop.pass_(password)
        return pop

    def login_when_free(self, address):
        """Logs in once the maildrop lock of a session that just went is released."""
        def attempt():
            try:
                return self.login(address)
            except poplib.error_proto as e:
                if b"[IN-USE]" in e.args[0]:
                    return None
                raise
        return wait_for(attempt, message="the maildrop lock to be released")

    def subjects(self, pop):
        count, _ = pop.stat()
        out = []
        for n in range(1, count + 1):
            _, lines, _ = pop.top(n, 0)
            out += [l.decode() for l in lines if l.startswith(b"Subject: ")]
        return out

    def inbox_count(self, address):
        """The INBOX message count as chaparctl reads it from the store."""
        listing = self.chapar.ctl("mailbox", "list", address).stdout
        for line in listing.splitlines():
            fields = line.split()
            if fields and fields[0] == "INBOX":
                return int(fields[1])
        self.fail("no INBOX in:\n" + listing)

    def read_line(self, sock):
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(1)
            if not chunk:
                break
            data += chunk
        return data

    # --- tests ---

    def test_user_pass_and_the_transaction_commands(self):
        address = self.new_user()
        body = "first line\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n"
        self.deliver(address, "one", body)
        self.deliver(address, "two")
        pop = self.login(address)
        count, size = pop.stat()
        self.assertEqual(count, 2)
        _, listing, _ = pop.list()
        sizes = [int(line.split()[1]) for line in listing]
        self.assertEqual(sum(sizes), size)
        # RFC 1939 §11: LIST gives the octets RETR sends before byte-stuffing.
        _, lines, octets = pop.retr(1)
        self.assertEqual(octets, sizes[0])
        text = b"\r\n".join(lines).decode()
        self.assertIn("Subject: one", text)
        self.assertIn("\r\n\r\n" + body.rstrip("\r\n"), text)
        _, top, _ = pop.top(2, 0)
        self.assertIn(b"Subject: two", top)
        self.assertEqual(top[-1], b"")
        _, uidl, _ = pop.uidl()
        self.assertEqual(len(uidl), 2)
        self.assertEqual(pop.noop(), b"+OK")
        self.assertEqual(pop.quit(), b"+OK Logging out.")

        # The same unique ids in a later session and after a restart.
        pop = self.login(address)
        self.assertEqual(pop.uidl()[1], uidl)
        pop.quit()
        self.chapar.restart("pop3d")
        pop = self.login(address)
        self.assertEqual(pop.uidl()[1], uidl)
        pop.quit()

    def test_capabilities(self):
        pop = self.connect()
        capa = pop.capa()
        for name in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"):
            self.assertIn(name, capa)
        self.assertEqual(capa["SASL"], ["PLAIN", "LOGIN"])
        self.assertEqual(capa["EXPIRE"], ["NEVER"])
        self.assertEqual(capa["IMPLEMENTATION"], ["Chapar"])
        pop.quit()

    def test_auth_plain_and_login(self):
        address = self.new_user()
        self.deliver(address, "auth")
        pop = self.connect()
        self.assertEqual(pop._shortcmd("AUTH PLAIN " + plain_response(address, PASSWORD)),
                         b"+OK Logged in.")
        self.assertEqual(pop.stat()[0], 1)
        pop.quit()

        pop = self.connect()
        self.assertEqual(pop._shortcmd("AUTH LOGIN"), b"+ VXNlcm5hbWU6")
        self.assertEqual(pop._shortcmd(base64.b64encode(address.encode()).decode()),
                         b"+ UGFzc3dvcmQ6")
        self.assertEqual(pop._shortcmd(base64.b64encode(PASSWORD.encode()).decode()),
                         b"+OK Logged in.")
        pop.quit()

        pop = self.connect()
        with self.assertRaises(poplib.error_proto) as failed:
            pop._shortcmd("AUTH PLAIN " + plain_response(address, "wrong"))
        self.assertEqual(failed.exception.args[0], b"-ERR [AUTH] Authentication failed.")
        pop.quit()
        self.chapar.wait_for_log("pop3d", r"event=auth_failed .*ip=127\.0\.0\.1 .*user=" +
                                 address.replace(".", r"\.") + r" proto=pop3")

    def test_stls(self):
        address = self.new_user()
        self.deliver(address, "stls")
        pop = self.connect()
        pop.stls(self.tls_context())
        self.assertNotIn("STLS", pop.capa())
        pop.user(address)
        pop.pass_(PASSWORD)
        self.assertEqual(self.subjects(pop), ["Subject: stls"])
        pop.quit()

    def test_pop3s(self):
        address = self.new_user()
        self.deliver(address, "pop3s")
        pop = poplib.POP3_SSL("127.0.0.1", self.chapar.ports["pop3s"],
                              context=self.tls_context(), timeout=30)
        self.assertNotIn("STLS", pop.capa())
        pop.user(address)
        pop.pass_(PASSWORD)
        self.assertEqual(self.subjects(pop), ["Subject: pop3s"])
        pop.quit()

    def test_stls_discards_pipelined_plaintext(self):
        # RFC 2595 §3.1: what follows STLS in the same packet may be injected by an attacker.
        address = self.new_user()
        with socket.create_connection(("127.0.0.1", self.chapar.ports["pop3"]), 30) as raw:
            self.assertTrue(self.read_line(raw).startswith(b"+OK"))
            raw.sendall("STLS\r\nUSER {}\r\nPASS {}\r\n".format(address, PASSWORD).encode())
            self.assertEqual(self.read_line(raw), b"+OK Begin TLS negotiation now.\r\n")
            context = ssl.create_default_context(cafile=self.chapar.cert_path)
            with context.wrap_socket(raw, server_hostname=self.chapar.hostname) as tls:
                tls.sendall(b"STAT\r\n")
                self.assertEqual(self.read_line(tls), b"-ERR Not logged in.\r\n")
                tls.sendall("PASS {}\r\n".format(PASSWORD).encode())
                self.assertEqual(self.read_line(tls), b"-ERR No username given.\r\n")
                tls.sendall(b"QUIT\r\n")
                self.assertEqual(self.read_line(tls), b"+OK Logging out.\r\n")

    def test_pipelined_commands_are_answered_in_order(self):
        address = self.new_user()
        self.deliver(address, "pipelined")
        with socket.create_connection(("127.0.0.1", self.chapar.ports["pop3"]), 30) as raw:
            raw.sendall("USER {}\r\nPASS {}\r\nSTAT\r\nRETR 1\r\nNOOP\r\nBOGUS\r\nQUIT\r\n"
                        .format(address, PASSWORD).encode())
            data = b""
            while True:
                chunk = raw.recv(65536)
                if not chunk:
                    break
                data += chunk
        lines = data.split(b"\r\n")
        self.assertEqual(lines[0], b"+OK Chapar ready.")
        self.assertEqual(lines[1:3], [b"+OK", b"+OK Logged in."])
        self.assertTrue(lines[3].startswith(b"+OK 1 "))
        self.assertTrue(lines[4].endswith(b" octets"))
        end = lines.index(b".", 5)
        self.assertIn(b"Subject: pipelined", lines[5:end])
        self.assertEqual(lines[end + 1:], [b"+OK", b"-ERR Unknown command.",
                                           b"+OK Logging out.", b""])

    def test_a_second_session_gets_in_use(self):
        address = self.new_user()
        self.deliver(address, "locked")
        first = self.login(address)
        second = self.connect()
        second.user(address)
        with self.assertRaises(poplib.error_proto) as busy:
            second.pass_(PASSWORD)
        self.assertTrue(busy.exception.args[0].startswith(b"-ERR [IN-USE]"))
        first.quit()
        second.user(address)
        self.assertEqual(second.pass_(PASSWORD), b"+OK Logged in.")
        self.assertEqual(second.stat()[0], 1)
        second.quit()

    def test_a_dropped_connection_deletes_nothing(self):
        address = self.new_user()
        self.deliver(address, "keep me 1")
        self.deliver(address, "keep me 2")
        pop = self.login(address)
        pop.dele(1)
        pop.dele(2)
        pop.close()  # gone without QUIT
        pop = self.login_when_free(address)
        self.assertEqual(pop.stat()[0], 2)
        pop.quit()
        self.assertEqual(self.inbox_count(address), 2)

    def test_quit_deletes_from_the_store(self):
        address = self.new_user()
        for n in range(1, 4):
            self.deliver(address, "number {}".format(n))
        pop = self.login(address)
        pop.dele(1)
        pop.dele(3)
        pop.dele(2)
        pop.rset()
        pop.dele(2)
        self.assertEqual(pop.quit(), b"+OK Logging out, messages deleted.")
        # +OK came after the commit: no waiting needed.
        self.assertEqual(self.inbox_count(address), 2)
        pop = self.login(address)
        self.assertEqual(self.subjects(pop), ["Subject: number 1", "Subject: number 3"])
        pop.quit()

    def test_deletions_are_shared_with_imap(self):
        address = self.new_user()
        for n in range(1, 4):
            self.deliver(address, "shared {}".format(n))
        pop = self.login(address)
        pop.dele(2)
        pop.quit()
        imap = imaplib.IMAP4("127.0.0.1", self.chapar.ports["imap"], timeout=30)
        imap.login(address, PASSWORD)
        _, data = imap.select("INBOX")
        self.assertEqual(int(data[0]), 2)
        _, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        fetched = b"".join(part[1] for part in data if isinstance(part, tuple))
        self.assertIn(b"shared 1", fetched)
        self.assertNotIn(b"shared 2", fetched)
        # And the reverse: expunged over IMAP, gone from the next POP3 session.
        imap.store("1", "+FLAGS", "\\Deleted")
        imap.expunge()
        imap.logout()
        pop = self.login(address)
        self.assertEqual(self.subjects(pop), ["Subject: shared 3"])
        pop.quit()

    def test_curl(self):
        address = self.new_user()
        self.deliver(address, "curl")
        port = self.chapar.ports["pop3"]
        user = "{}:{}".format(address, PASSWORD)
        plain = subprocess.run(
            ["curl", "-sS", "--max-time", "30", "--user", user,
             "pop3://127.0.0.1:{}/1".format(port)], capture_output=True, check=True)
        self.assertIn(b"Subject: curl", plain.stdout)
        resolve = ["--resolve", "{}:{}:127.0.0.1".format(self.chapar.hostname, port),
                   "--resolve", "{}:{}:127.0.0.1".format(self.chapar.hostname,
                                                         self.chapar.ports["pop3s"]),
                   "--cacert", self.chapar.cert_path]
        stls = subprocess.run(
            ["curl", "-sS", "--max-time", "30", "--ssl-reqd", "--user", user, *resolve,
             "pop3://{}:{}/".format(self.chapar.hostname, port)],
            capture_output=True, check=True)
        self.assertRegex(stls.stdout, rb"^1 \d+\r\n$")
        implicit = subprocess.run(
            ["curl", "-sS", "--max-time", "30", "--user", user, *resolve,
             "pop3s://{}:{}/1".format(self.chapar.hostname, self.chapar.ports["pop3s"])],
            capture_output=True, check=True)
        self.assertEqual(implicit.stdout, plain.stdout)
        # The delete request: DELE and QUIT through curl's custom request.
        subprocess.run(
            ["curl", "-sS", "--max-time", "30", "--user", user, "--request", "DELE",
             "--head", "pop3://127.0.0.1:{}/1".format(port)],
            capture_output=True, check=True)
        self.assertEqual(self.inbox_count(address), 0)


if __name__ == "__main__":
    unittest.main()
