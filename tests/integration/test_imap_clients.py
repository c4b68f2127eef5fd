# SPDX-License-Identifier: AGPL-3.0-or-later
"""chapar-imapd against real clients: mbsync (isync) syncing a mailbox both ways — new mail,
flag changes, deletions, moves, appends — until a second sync finds nothing to do; and curl
over imap:// (with STARTTLS) and imaps://."""

import imaplib
import os
import re
import shutil
import smtplib
import subprocess
import time
import unittest

from chapar_harness import Chapar

PASSWORD = "client-secret"
SENDER = "sender@example.net"
CONFIG = """
[smtpd.connections]
new_connections_per_ip_per_minute = 100000

[imapd.connections]
new_connections_per_ip_per_minute = 100000
"""


class ImapClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chapar = Chapar(users={"mbsync": PASSWORD, "curl": PASSWORD}, extra_config=CONFIG)
        try:
            cls.chapar.start("smtpd", "imapd")
        except BaseException:
            cls.chapar.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.chapar.close()

    def deliver(self, address, subject, body="Hello.\r\n"):
        message = "From: {}\r\nTo: {}\r\nSubject: {}\r\n\r\n{}".format(
            SENDER, address, subject, body)
        with smtplib.SMTP("127.0.0.1", self.chapar.ports["smtp"], timeout=30) as smtp:
            smtp.sendmail(SENDER, [address], message.encode())

    def imap(self, address):
        imap = imaplib.IMAP4("127.0.0.1", self.chapar.ports["imap"], timeout=30)
        imap.login(address, PASSWORD)
        return imap

    # --- mbsync ---

    def write_mbsync_config(self, address, maildir):
        path = os.path.join(self.chapar.dir, "mbsyncrc")
        with open(path, "w", encoding="utf-8") as f:
            f.write("""IMAPAccount chapar
Host 127.0.0.1
Port {port}
User {user}
Pass {password}
SSLType STARTTLS
CertificateFile {cert}
AuthMechs LOGIN

IMAPStore remote
Account chapar

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns INBOX Archive
Create Both
Expunge Both
SyncState *
""".format(port=self.chapar.ports["imap"], user=address, password=PASSWORD,
           cert=self.chapar.cert_path, maildir=maildir))
        return path

    def mbsync(self, config):
        """Runs a full sync."""
        result = subprocess.run(["mbsync", "-c", config, "-V", "sync"], capture_output=True,
                                text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def state(self, address, maildir):
        """What a sync could change: the server's mailboxes and the maildir's files."""
        imap = self.imap(address)
        server = [imap.status(box, "(MESSAGES UIDNEXT HIGHESTMODSEQ)")[1][0]
                  for box in ("INBOX", "Archive")]
        imap.logout()
        local = sorted(os.path.relpath(os.path.join(root, name), maildir)
                       for root, _, names in os.walk(maildir) for name in names)
        return server, local

    @staticmethod
    def files(folder):
        out = []
        for sub in ("new", "cur"):
            directory = os.path.join(folder, sub)
            if os.path.isdir(directory):
                out += [os.path.join(directory, name) for name in sorted(os.listdir(directory))]
        return out

    @staticmethod
    def subject(path):
        with open(path, "rb") as f:
            return re.search(rb"^Subject: (.*?)\r?$", f.read(), re.M).group(1).decode()

    def server_view(self, imap, mailbox):
        """{subject: flags} of a mailbox on the server."""
        typ, _ = imap.select(mailbox)
        self.assertEqual(typ, "OK")
        typ, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        view = {}
        for item in data:
            if isinstance(item, tuple):
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode()
                subject = item[1].decode().split(":", 1)[1].strip()
                view[subject] = set(flags.split())
        return view

    def test_mbsync_both_ways(self):
        address = self.chapar.address("mbsync")
        maildir = os.path.join(self.chapar.dir, "maildir")
        os.makedirs(maildir)
        config = self.write_mbsync_config(address, maildir)
        for subject in ("first", "second", "third"):
            self.deliver(address, subject)

        # 1. New mail reaches the near side.
        self.mbsync(config)
        inbox = os.path.join(maildir, "INBOX")
        local = {self.subject(p): p for p in self.files(inbox)}
        self.assertEqual(set(local), {"first", "second", "third"})

        # 2. Near-side changes: a flag, a deletion, a move and an appended message.
        os.rename(local["first"], local["first"].split(":2,")[0] + ":2,FS")
        os.remove(local["second"])
        archive = os.path.join(maildir, "Archive")
        os.makedirs(os.path.join(archive, "cur"), exist_ok=True)
        # A mail client moving a file drops mbsync's UID from its name.
        moved = re.sub(r",U=\d+", "", os.path.basename(local["third"]))
        shutil.move(local["third"], os.path.join(archive, "cur", moved))
        with open(os.path.join(inbox, "new", "{}.local.chapar".format(int(time.time()))),
                  "wb") as f:
            f.write(b"From: me@example.test\r\nSubject: appended\r\n\r\nWritten locally.\r\n")
        self.mbsync(config)
        imap = self.imap(address)
        inbox_view = self.server_view(imap, "INBOX")
        self.assertEqual(set(inbox_view), {"first", "appended"})
        self.assertTrue({"\\Seen", "\\Flagged"} <= inbox_view["first"], inbox_view)
        self.assertEqual(set(self.server_view(imap, "Archive")), {"third"})

        # 3. Far-side changes: new mail, a flag, an expunge.
        self.deliver(address, "fourth")
        imap.select("INBOX")
        typ, data = imap.search(None, "SUBJECT", "appended")
        imap.store(data[0], "+FLAGS", "(\\Answered)")
        typ, data = imap.search(None, "SUBJECT", "first")
        imap.store(data[0], "+FLAGS", "(\\Deleted)")
        imap.expunge()
        imap.logout()
        self.mbsync(config)
        local = {self.subject(p): p for p in self.files(inbox)}
        self.assertEqual(set(local), {"appended", "fourth"})
        self.assertIn("R", local["appended"].split(":2,")[1])

        # 4. Nothing changed since: a second sync finds nothing to do (no message, flag or
        # expunge on either side; HIGHESTMODSEQ would move with any of them).
        before = self.state(address, maildir)
        self.mbsync(config)
        self.assertEqual(self.state(address, maildir), before)

    # --- curl ---

    def curl(self, *args):
        result = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "60", *args],
                                capture_output=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        return result.stdout

    def test_curl_imap_and_imaps(self):
        address = self.chapar.address("curl")
        self.deliver(address, "for curl", "Fetched by curl.\r\n")
        user = "{}:{}".format(address, PASSWORD)
        port = self.chapar.ports["imap"]
        listing = self.curl("--user", user, "imap://127.0.0.1:{}/".format(port))
        self.assertIn(b"INBOX", listing)
        self.assertIn(b"\\Sent", listing)
        message = self.curl("--user", user, "imap://127.0.0.1:{}/INBOX;UID=1".format(port))
        self.assertIn(b"Subject: for curl", message)
        self.assertIn(b"Fetched by curl.", message)
        # STARTTLS, required, with the server's certificate.
        host = self.chapar.hostname
        tls = ["--cacert", self.chapar.cert_path]
        message = self.curl("--ssl-reqd", *tls, "--resolve", "{}:{}:127.0.0.1".format(host, port),
                            "--user", user, "imap://{}:{}/INBOX;UID=1".format(host, port))
        self.assertIn(b"Fetched by curl.", message)
        imaps = self.chapar.ports["imaps"]
        message = self.curl(*tls, "--resolve", "{}:{}:127.0.0.1".format(host, imaps),
                            "--user", user, "imaps://{}:{}/INBOX;UID=1".format(host, imaps))
        self.assertIn(b"Fetched by curl.", message)
        search = self.curl("--user", user, "--request", "SEARCH SUBJECT curl",
                           "imap://127.0.0.1:{}/INBOX".format(port))
        self.assertIn(b"* SEARCH 1", search)


if __name__ == "__main__":
    unittest.main()
