# SPDX-License-Identifier: AGPL-3.0-or-later
"""The corpus check through the running chapar-imapd: every message of the corpus APPENDed,
then every FETCH and UID SEARCH the reference server was asked, compared byte for byte with
what it answered (../shared/corpus/FORMAT.md). Departures, each for a reason:

- base64 cut off inside a quantum: BINARY.SIZE fails with NO [PARSE] here, where Dovecot
  drops the connection (RFC 3516 §4.3 asks for a failed FETCH, not a lost session);
- RFC 3516 §4.2: BINARY.SIZE is the size of the decoded section; where Dovecot miscounts it,
  ours must equal the length of what BINARY[section] returns;
- RFC 9051 §6.4.4: SENTBEFORE/SENTSINCE compare the Date: header's date; 027.eml is dated
  1969, which Dovecot cannot represent and counts as sent after 2010.
"""

import os
import re
import socket
import unittest

from chapar_harness import Chapar

PASSWORD = "corpus-secret"
CONFIG = """
[imapd.connections]
new_connections_per_ip_per_minute = 100000
"""
_LITERAL = re.compile(rb"~?\{(\d+)\}\r\n$")


def corpus_dir():
    path = os.environ.get("CHAPAR_CORPUS") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "corpus")
    return os.path.join(path, "open") if os.path.isdir(os.path.join(path, "open")) else None


class RawImap:
    """Just enough of a client to see the server's bytes as they are."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buffer = b""
        self.item()  # the greeting

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        self.buffer += data

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n") + 2
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def _take(self, n):
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def item(self):
        """One response: a line, and each literal it announces with the rest after it."""
        out = b""
        while True:
            line = self._line()
            out += line
            m = _LITERAL.search(line)
            if not m:
                return out
            out += self._take(int(m.group(1)))

    def command(self, text, synchronizing=True):
        """Sends "t TEXT" and returns the untagged responses and the tagged status without
        its tag. With `synchronizing`, each "{N}" CRLF in TEXT waits for the server's
        continuation request; without, TEXT goes as it is (its literals are "{N+}")."""
        parts = re.split(rb"(\{\d+\}\r\n)", text) if synchronizing else [text]
        untagged = []
        self.sock.sendall(b"t " + parts[0])
        for i in range(1, len(parts), 2):
            self.sock.sendall(parts[i])
            while True:
                response = self.item()
                if response.startswith(b"+ "):
                    break
                untagged.append(response)
            self.sock.sendall(parts[i + 1])
        while True:
            response = self.item()
            if response.startswith(b"t "):
                return untagged, response[2:-2].decode()
            untagged.append(response)


def read_item(data, pos):
    """An item of an .expected file at `pos` (FORMAT.md): lines, each announced literal taken
    whole. Returns the item and the position after it."""
    start = pos
    while True:
        end = data.index(b"\r\n", pos) + 2
        m = _LITERAL.search(data[pos:end])
        pos = end + (int(m.group(1)) if m else 0)
        if not m:
            return data[start:pos], pos


def blocks(data):
    """(command, responses, status) of each block of an .expected file."""
    pos = 0
    while pos < len(data):
        assert data[pos:pos + 3] == b"C: "
        command, pos = read_item(data, pos + 3)
        responses = []
        while data[pos:pos + 3] == b"S: ":
            response, pos = read_item(data, pos + 3)
            responses.append(response)
        assert data[pos:pos + 3] == b"R: "
        end = data.index(b"\r\n", pos)
        status = data[pos + 3:end].decode()
        pos = end + 4  # the status line's CRLF and the empty line
        yield command, responses, status


@unittest.skipUnless(corpus_dir(), "the corpus is not beside this checkout")
class ImapCorpusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chapar = Chapar(users={"corpus": PASSWORD}, extra_config=CONFIG)
        try:
            cls.chapar.start("imapd")
            cls.files = sorted(f for f in os.listdir(corpus_dir()) if f.endswith(".eml"))
            cls.imap = RawImap(cls.chapar.ports["imap"])
            _, status = cls.imap.command(
                "LOGIN {} {}\r\n".format(cls.chapar.address("corpus"), PASSWORD).encode())
            assert status.startswith("OK"), status
            cls.imap.command(b"CREATE Corpus\r\n")
            for name in cls.files:
                with open(os.path.join(corpus_dir(), name), "rb") as f:
                    content = f.read()
                _, status = cls.imap.command(
                    b'APPEND Corpus "01-Jan-2020 00:00:00 +0000" {%d+}\r\n' % len(content) +
                    content + b"\r\n", synchronizing=False)
                assert status.startswith("OK [APPENDUID"), (name, status)
            _, status = cls.imap.command(b"EXAMINE Corpus\r\n")
            assert status.startswith("OK"), status
        except BaseException:
            cls.chapar.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.chapar.close()

    def test_fetch_answers(self):
        checked = departures = 0
        for uid, name in enumerate(self.files, start=1):
            number = str(int(name[:3])).encode()
            ours = str(uid).encode()
            with open(os.path.join(corpus_dir(), name[:-4] + ".expected"), "rb") as f:
                data = f.read()
            for command, responses, status in blocks(data):
                command = re.sub(rb"^UID FETCH " + number + rb" ", b"UID FETCH " + ours + b" ",
                                 command)
                closed = status == "(connection closed)"
                prefix = b"* " + number + b" FETCH (UID " + number
                want = [b"* " + ours + b" FETCH (UID " + ours + r[len(prefix):]
                        if r.startswith(prefix) else r
                        for r in responses if not (closed and r.startswith(b"* BYE "))]
                if closed:
                    status = "NO [PARSE] Invalid data in MIME part."
                got, got_status = self.imap.command(command)
                size = re.match(rb"^UID FETCH \d+ \(BINARY\.SIZE\[([0-9.]+)\]\)", command)
                if size and (got, got_status) != (want, status) and got_status.startswith("OK"):
                    value = re.search(rb"BINARY\.SIZE\[[0-9.]+\] (\d+)\)", got[0]).group(1)
                    binary, _ = self.imap.command(
                        b"UID FETCH " + ours + b" (BINARY.PEEK[" + size.group(1) + b"])\r\n")
                    literal = re.search(rb"BINARY\[[0-9.]+\] ~?\{(\d+)\}", binary[0]).group(1)
                    self.assertEqual(literal, value, (name, command))
                    departures += 1
                    continue
                self.assertEqual((got, got_status), (want, status), (name, command))
                checked += 1
        print("corpus FETCH blocks checked: {}, BINARY.SIZE departures: {}".format(
            checked, departures))
        self.assertGreater(checked, 1000)

    def test_search_answers(self):
        dated_1969 = str(self.files.index("027.eml") + 1).encode()
        with open(os.path.join(corpus_dir(), "search.expected"), "rb") as f:
            data = f.read()
        checked = 0
        for command, responses, status in blocks(data):
            want = responses
            if command.startswith(b"UID SEARCH SENTBEFORE 1-Jan-2000") or \
                    command.startswith(b"UID SEARCH SENTSINCE 1-Jan-2010"):
                uids = responses[0][len(b"* SEARCH"):].split()
                if b"SENTBEFORE" in command and dated_1969 not in uids:
                    uids.append(dated_1969)
                if b"SENTSINCE" in command and dated_1969 in uids:
                    uids.remove(dated_1969)
                uids.sort(key=int)
                want = [b" ".join([b"* SEARCH"] + uids) + b"\r\n"]
            got, got_status = self.imap.command(command)
            self.assertEqual((got, got_status), (want, status), command)
            checked += 1
        self.assertEqual(checked, 24)


if __name__ == "__main__":
    unittest.main()
