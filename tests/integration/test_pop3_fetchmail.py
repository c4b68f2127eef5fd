# SPDX-License-Identifier: AGPL-3.0-or-later
"""fetchmail against chapar-pop3d: mail delivered through chapar-smtpd is fetched over STLS
with the certificate checked, first keeping the messages on the server, then deleting them."""

import email
import getpass
import os
import poplib
import shutil
import smtplib
import subprocess
import tempfile
import unittest

from chapar_harness import Chapar

PASSWORD = "fetch-secret"
SENDER = "sender@example.net"
CONFIG = """
[smtpd.connections]
new_connections_per_ip_per_minute = 100000

[pop3d.connections]
new_connections_per_ip_per_minute = 100000
"""

# Each message fetchmail hands over is written to its own file.
MDA = """#!/bin/sh
exec cat > "$(mktemp "{}/message.XXXXXX")"
"""


class FetchmailTest(unittest.TestCase):
    def setUp(self):
        self.chapar = Chapar(users={}, extra_config=CONFIG)
        self.addCleanup(self.chapar.close)
        self.chapar.start("smtpd", "pop3d")
        self.address = self.chapar.add_user("fetch", PASSWORD)
        self.work = tempfile.mkdtemp(prefix="chapar-fetchmail-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.mail_dir = os.path.join(self.work, "mail")
        os.mkdir(self.mail_dir)
        self.mda = os.path.join(self.work, "mda")
        with open(self.mda, "w", encoding="utf-8") as f:
            f.write(MDA.format(self.mail_dir))
        os.chmod(self.mda, 0o700)

    def deliver(self, subject, body):
        message = "From: {}\r\nTo: {}\r\nSubject: {}\r\n\r\n{}".format(
            SENDER, self.address, subject, body)
        with smtplib.SMTP("127.0.0.1", self.chapar.ports["smtp"], timeout=30) as smtp:
            smtp.sendmail(SENDER, [self.address], message.encode())

    def fetchmail(self, keep):
        """Runs fetchmail once; returns its exit status (0: mail fetched, 1: none)."""
        rc = os.path.join(self.work, "fetchmailrc")
        with open(rc, "w", encoding="utf-8") as f:
            f.write(
                'poll {host} via 127.0.0.1 port {port} proto POP3 uidl\n'
                '  user "{user}" there with password "{password}" is "{local}" here\n'
                '  mda "{mda}"\n'
                '  sslproto "TLS1.2+" sslcertck sslcertfile "{cert}" sslcommonname "{host}"\n'
                '  {keep} fetchall\n'.format(
                    host=self.chapar.hostname, port=self.chapar.ports["pop3"],
                    user=self.address, password=PASSWORD, local=getpass.getuser(),
                    mda=self.mda, cert=self.chapar.cert_path,
                    keep="keep" if keep else "no keep"))
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=self.work, FETCHMAILHOME=self.work)
        result = subprocess.run(
            ["fetchmail", "--fetchmailrc", rc, "--idfile", os.path.join(self.work, "ids"),
             "--pidfile", os.path.join(self.work, "pid"), "--nosyslog", "--verbose"],
            env=env, capture_output=True, text=True, timeout=120)
        self.assertIn(result.returncode, (0, 1), result.stdout + result.stderr)
        return result

    def fetched(self):
        subjects = []
        for name in sorted(os.listdir(self.mail_dir)):
            with open(os.path.join(self.mail_dir, name), "rb") as f:
                message = email.message_from_bytes(f.read())
            subjects.append((message["Subject"], message.get_payload()))
            os.unlink(os.path.join(self.mail_dir, name))
        return sorted(subjects)

    def server_count(self):
        pop = poplib.POP3("127.0.0.1", self.chapar.ports["pop3"], timeout=30)
        pop.user(self.address)
        pop.pass_(PASSWORD)
        count = pop.stat()[0]
        pop.quit()
        return count

    def test_keep_then_delete(self):
        self.deliver("first", "one\r\n.dotted line\r\n")
        self.deliver("second", "two\r\n")

        result = self.fetchmail(keep=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("STLS", result.stdout + result.stderr)
        self.assertEqual(self.fetched(), [("first", "one\n.dotted line\n"), ("second", "two\n")])
        self.assertEqual(self.server_count(), 2)

        result = self.fetchmail(keep=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual([s for s, _ in self.fetched()], ["first", "second"])
        self.assertEqual(self.server_count(), 0)

        # Nothing left: fetchmail says so with status 1.
        self.assertEqual(self.fetchmail(keep=False).returncode, 1)
        self.assertEqual(self.fetched(), [])


if __name__ == "__main__":
    unittest.main()
