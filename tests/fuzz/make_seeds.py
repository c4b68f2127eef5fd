#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Writes the seed inputs of every fuzz target into OUT/<target>/ (see README.md).

Seeds come from three places: the client lines of the conversation scripts in the unit
tests (tests/<part>/*.cpp, lines "C: ..."), the shared corpus next to the checkout when it
is there (CORPUS/open/*.eml messages and the IMAP commands of *.expected), and a few
hand-written inputs below. Nothing is copied into the source tree.

    make_seeds.py OUT [--corpus DIR]
"""

import argparse
import base64
import hashlib
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

# The fuzz store's accounts all have this password (tests/fuzz/fuzz_store.hpp); the unit
# tests use others, rewritten here so that their logins succeed.
PASSWORD = b"secret"
OTHER_PASSWORDS = [b"correct horse"]

_C_LINE = re.compile(r'"C: ?((?:[^"\\]|\\.)*?)(?:\\r)?\\n"')
_ESCAPE = re.compile(r'\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)')
_BASE64 = re.compile(rb"[A-Za-z0-9+/]{8,}={0,2}")


def _unescape(text):
    def one(match):
        e = match.group(1)
        if e[0] == "x":
            return chr(int(e[1:], 16))
        if e[0] in "01234567":
            return chr(int(e, 8))
        return {"n": "\n", "r": "\r", "t": "\t", "0": "\0"}.get(e, e)
    return _ESCAPE.sub(one, text).encode("latin-1", "replace")


def _fix_passwords(data):
    for other in OTHER_PASSWORDS:
        data = data.replace(other, PASSWORD)

    def recode(match):
        token = match.group(0)
        try:
            decoded = base64.b64decode(token, validate=True)
        except ValueError:
            return token
        if not any(other in decoded for other in OTHER_PASSWORDS):
            return token
        for other in OTHER_PASSWORDS:
            decoded = decoded.replace(other, PASSWORD)
        return base64.b64encode(decoded)
    return _BASE64.sub(recode, data)


def test_scripts(part, pattern="*"):
    """The client side of every test case in tests/PART/*.cpp: one list of lines per
    TEST_CASE (and per file, all of them)."""
    scripts = []
    directory = os.path.join(ROOT, "tests", part)
    if not os.path.isdir(directory):
        return scripts
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".cpp") or not re.fullmatch(pattern.replace("*", ".*"), name):
            continue
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for case in re.split(r"\bTEST_CASE", text):
            lines = [_fix_passwords(_unescape(m.group(1))) for m in _C_LINE.finditer(case)]
            if lines:
                scripts.append(lines)
    return scripts


def corpus_messages(corpus):
    if not corpus:
        return []
    directory = os.path.join(corpus, "open")
    out = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".eml"):
            with open(os.path.join(directory, name), "rb") as f:
                out.append(f.read())
    return out


def corpus_imap_commands(corpus):
    """The commands of each CORPUS/open/*.expected file (tag removed, literals kept)."""
    if not corpus:
        return []
    directory = os.path.join(corpus, "open")
    out = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".expected"):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        commands = []
        pos = 0
        while True:
            start = data.find(b"C: ", pos)
            if start < 0:
                break
            end = data.find(b"\r\n", start)
            if end < 0:
                break
            line = data[start + 3:end + 2]
            literal = re.search(rb"~?\{(\d+)\+?\}\r\n$", line)
            if literal:
                n = int(literal.group(1))
                rest_end = data.find(b"\r\n", end + 2 + n)
                line = data[start + 3:rest_end + 2]
                end = rest_end
            commands.append(line)
            pos = end + 2
        out.append(commands)
    return out


class Writer:
    def __init__(self, out):
        self.out = out
        self.counts = {}

    def seed(self, target, data):
        directory = os.path.join(self.out, target)
        os.makedirs(directory, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
        self.counts[target] = self.counts.get(target, 0) + 1


def crlf(lines):
    return b"".join(line if line.endswith(b"\n") else line + b"\r\n" for line in lines)


def b64(text):
    return base64.b64encode(text).decode()


# --- Hand-written seeds ---------------------------------------------------------------------

SMTP_LINES = [
    b"EHLO client.example.net", b"HELO [192.0.2.1]", b"MAIL FROM:<a@example.net> SIZE=100 "
    b"BODY=8BITMIME RET=HDRS ENVID=x+2By AUTH=<>", b"MAIL FROM:<> SMTPUTF8 REQUIRETLS",
    b"MAIL FROM:<\"a b\"@[IPv6:::1]>", b"RCPT TO:<@relay.example:alice@example.org> "
    b"NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice+2B@example.org", b"RCPT TO:<Postmaster>",
    b"RCPT TO:<j\xc3\xbcrgen@example.org>", b"BDAT 100 LAST", b"BDAT 0", b"DATA", b"QUIT",
]

SMTP_CONVERSATIONS = [
    [b"EHLO c.example.net", b"MAIL FROM:<a@example.net>", b"RCPT TO:<alice@example.org>",
     b"DATA", b"Subject: hi", b"", b"..dot", b".", b"QUIT"],
    [b"EHLO c.example.net", b"MAIL FROM:<a@example.net> BODY=BINARYMIME",
     b"RCPT TO:<bob@example.org>", b"BDAT 12", b"Subject: x\r\n", b"BDAT 4 LAST", b"hi\r\n",
     b"QUIT"],
    [b"EHLO c", b"AUTH PLAIN " + b64(b"\0alice@example.org\0" + PASSWORD).encode(),
     b"MAIL FROM:<alice@example.org>", b"RCPT TO:<someone@example.net>",
     b"RCPT TO:<postmaster@example.org>", b"DATA", b"From: alice@example.org", b"", b"x", b".",
     b"RSET", b"QUIT"],
    [b"EHLO c", b"STARTTLS", b"EHLO c", b"AUTH LOGIN", b64(b"alice@example.org").encode(),
     b64(PASSWORD).encode(), b"QUIT"],
]

POP3_CONVERSATIONS = [
    [b"CAPA", b"USER alice@example.org", b"PASS " + PASSWORD, b"STAT", b"LIST", b"UIDL 2",
     b"RETR 2", b"TOP 3 1", b"DELE 1", b"RSET", b"DELE 2", b"NOOP", b"QUIT"],
    [b"AUTH PLAIN " + b64(b"\0alice@example.org\0" + PASSWORD).encode(), b"LIST 9",
     b"RETR 3", b"DELE 3", b"QUIT"],
    [b"STLS", b"AUTH LOGIN", b64(b"bob@example.org").encode(), b64(b"wrong").encode(),
     b"USER carol@example.org", b"PASS " + PASSWORD, b"QUIT"],
]

IMAP_CONVERSATION = [
    b"a CAPABILITY", b"b LOGIN alice@example.org " + PASSWORD, b"c LIST \"\" *",
    b"d SELECT INBOX (CONDSTORE)", b"e FETCH 1:* (FLAGS UID ENVELOPE BODYSTRUCTURE "
    b"BODY.PEEK[HEADER.FIELDS (From Subject)]<0.50> BINARY[1] BINARY.SIZE[3.1] MODSEQ)",
    b"f UID SEARCH CHARSET UTF-8 OR SUBJECT one BODY caf NOT DELETED SINCE 1-Jan-2020",
    b"g STORE 1 +FLAGS (\\Seen $Label)", b"h COPY 1:2 Archive", b"i UID MOVE 3 Trash",
    b"j APPEND Drafts (\\Draft) \"01-Feb-2024 10:00:00 +0100\" {11}\r\nSubject: x",
    b"k EXPUNGE", b"l STATUS INBOX (MESSAGES UIDNEXT UNSEEN HIGHESTMODSEQ)",
    b"m CREATE a/b", b"n RENAME a/b c", b"o DELETE c", b"p IDLE", b"DONE",
    b"q SELECT INBOX (QRESYNC (1 1 1:3))", b"r UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
    b"s LOGOUT",
]

IMAP_LINES = [
    b"a FETCH 1:*,$ (BODY[1.2.HEADER.FIELDS.NOT (\"X\" Y)]<1.2> RFC822.SIZE)",
    b"a SEARCH RETURN (MIN MAX COUNT SAVE) OR (FROM {3+}\r\nabc) HEADER X-Y z MODSEQ 5",
    b"a APPEND INBOX ~{5+}\r\n\x00\x01\x02\x03\x04 (\\Seen) {2}\r\nhi",
    b"a STORE 1:3,5 FLAGS.SILENT (UNCHANGEDSINCE 3) (\\Answered)",
    b"a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"%\" \"&AOk-t&AOk-\") RETURN (CHILDREN "
    b"STATUS (MESSAGES))",
    b"a SELECT \"INBOX\" (QRESYNC (67890007 20050715194045000 41,43:211,214:541 "
    b"(1,3,5 1,3,5)))",
]


def dns_name(name):
    out = b""
    for label in name.split(b"."):
        out += bytes([len(label)]) + label
    return out + b"\0"


def dns_record(rtype, rdata, name=b"\xc0\x0c"):
    return name + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata


def dns_seeds():
    mx = dns_record(15, struct.pack(">H", 10) + dns_name(b"mx1.example.org")) + \
        dns_record(15, struct.pack(">H", 5) + b"\x03mx2\xc0\x0c")
    null_mx = dns_record(15, struct.pack(">H", 0) + b"\0")
    txt = dns_record(16, b"\x0bv=spf1 -all\x05 more") + dns_record(16, b"")
    a = dns_record(1, bytes([192, 0, 2, 1])) + dns_record(28, bytes(15) + b"\x01")
    cname = dns_record(5, dns_name(b"other.example.org")) + dns_record(
        15, struct.pack(">H", 1) + b"\xc0\x0c", name=dns_name(b"other.example.org"))
    return [bytes([0, 2]) + mx, bytes([0, 1]) + null_mx, bytes([1, 2]) + txt,
            bytes([2, 2]) + a, bytes([0, 2]) + cname, bytes([3 << 2, 0]), bytes([1 << 2, 0])]


OUTBOUND_REPLIES = [
    b"220 mx.example.net ESMTP\r\n250-mx.example.net Hello\r\n250-PIPELINING\r\n"
    b"250-SIZE 1000\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
    b"250 STARTTLS\r\n550 5.1.1 <rcpt@example.net>: Recipient address rejected\r\n",
    b"451-4.3.0 first line\r\n451-second line\r\n451 last line\r\n552 too big\r\n",
]

OUTBOUND_MESSAGES = [
    b"From: =?UTF-8?B?w6k=?= <a@example.org>\r\nTo: rcpt@example.net\r\nSubject: a\r\n"
    b" folded\r\n\tsubject\r\nMessage-ID: <1@example.org>\r\nDate: Fri, 1 Mar 2024 12:00:00"
    b" +0000\r\nDKIM-Signature: v=1; a=rsa-sha256\r\n\r\nbody  \r\n\r\n\r\n",
    b"To: \"a\\\"b\" <x@y>,\r\n \r\n c@d\r\nSubject:\r\nFrom:a@example.org\r\n\r\n.\r\n",
]

CONFIG_SEEDS = [
    b"[server]\nhostname = \"mail.example.org\"\nlog_level = \"debug\"\n[store]\n"
    b"data_dir = \"/tmp/x\"\n[smtpd]\nmax_message_size = 1000\n[[smtpd.listeners]]\n"
    b"name = \"submission\"\naddress = \"::\"\nport = 587\ntls = \"starttls\"\n"
    b"[smtpd.outbound]\nretry_delays_seconds = [1, 2]\nsmarthost = \"[::1]:25\"\n",
    b"[imapd]\nmax_literal_size = -1\n[imapd.connections]\nmax_connections = 99999999999\n",
    b"[auth]\nfailure_delay_ms = 1\nunknown = 1\n[pop3d]\nidle_timeout_seconds = \"x\"\n",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--corpus", help="the shared corpus directory (with open/)")
    args = parser.parse_args()
    corpus = args.corpus if args.corpus and os.path.isdir(os.path.join(args.corpus, "open")) \
        else None
    w = Writer(args.out)

    # SMTP: single lines and DATA content for the parsers; conversations for the session.
    smtp_scripts = test_scripts("smtpd", "session*") + [SMTP_CONVERSATIONS[0]]
    for line in SMTP_LINES:
        w.seed("smtp_command", b"\0" + line + b"\r\n")
    for script in test_scripts("smtpd") + SMTP_CONVERSATIONS:
        w.seed("smtp_command", b"\0" + crlf(script))
        w.seed("smtp_command", b"\3" + crlf(script))
    for message in corpus_messages(corpus)[:20]:
        w.seed("smtp_command", b"\2" + message + b"\r\n.\r\n")
    for script in smtp_scripts + SMTP_CONVERSATIONS:
        w.seed("smtp_session", b"\0" + crlf(script))
        w.seed("smtp_session", b"\x25" + crlf(script))  # 7-byte chunks, output held
    w.seed("smtp_session", b"\x40" + crlf(SMTP_CONVERSATIONS[2]))  # submissions, implicit TLS
    w.seed("smtp_session", b"\x80" + crlf(SMTP_CONVERSATIONS[0]))  # from a remote address

    # POP3.
    for script in test_scripts("pop3d", "session*") + POP3_CONVERSATIONS:
        w.seed("pop3_session", b"\0" + crlf(script))
        w.seed("pop3_session", b"\x21" + crlf(script))
    w.seed("pop3_session", b"\x48" + crlf(POP3_CONVERSATIONS[0]))

    # IMAP: every command line alone for the parser; whole conversations for the session.
    imap_scripts = test_scripts("imapd") + [IMAP_CONVERSATION]
    for script in imap_scripts:
        for line in script:
            w.seed("imap_parser", b"\3" + crlf([line]))
        w.seed("imap_parser", b"\3" + crlf(script))
    for line in IMAP_LINES:
        w.seed("imap_parser", b"\3" + crlf([line]))
        w.seed("imap_parser", b"\x10" + crlf([line]))
    login = [b"a LOGIN alice@example.org " + PASSWORD, b"b SELECT INBOX"]
    for n, commands in enumerate(corpus_imap_commands(corpus)):
        tagged = [b"t%d " % i + c for i, c in enumerate(commands)]
        w.seed("imap_parser", b"\3" + b"".join(tagged))
        w.seed("imap_session", b"\0" + crlf(login) + b"".join(tagged))
    for script in test_scripts("imapd", "session*") + [IMAP_CONVERSATION]:
        w.seed("imap_session", b"\0" + crlf(script))
        w.seed("imap_session", b"\x23" + crlf(script))

    # MIME: the corpus and the store's own test messages.
    for message in corpus_messages(corpus):
        w.seed("mime", b"\0" + message)
        w.seed("mime_parser", b"\0" + message)
    w.seed("mime", b"\0From: a@b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\ny\r\n--b--\r\n")
    w.seed("mime", b"\1" + b"Content-Type: multipart/mixed; boundary=a\n\n--a\n" * 8)

    # SASL.
    for seed in [b"\2" + b64(b"\0alice@example.org\0" + PASSWORD).encode(),
                 b"\0" + b64(b"alice\0alice\0pw").encode(), b"\2=", b"\0*",
                 b"\1" + b64(b"alice").encode() + b"\n" + b64(PASSWORD).encode(),
                 b"\3" + b64(b"alice").encode() + b"\n\n"]:
        w.seed("sasl", seed)

    # Configuration: the packaged file and a few hand-written ones.
    packaged = os.path.join(ROOT, "packaging", "chapar.toml")
    if os.path.exists(packaged):
        with open(packaged, "rb") as f:
            w.seed("config", f.read())
    for seed in CONFIG_SEEDS:
        w.seed("config", seed)

    for seed in dns_seeds():
        w.seed("dns", seed)

    # Outbound: a remote server's replies, NUL, a queued message.
    for n, message in enumerate(OUTBOUND_MESSAGES + corpus_messages(corpus)[:30]):
        replies = OUTBOUND_REPLIES[n % len(OUTBOUND_REPLIES)]
        w.seed("outbound", bytes([n & 0xff]) + replies + b"\0" + message)
    for n, replies in enumerate(OUTBOUND_REPLIES):
        w.seed("smtp_reply", bytes([n << 4]) + replies)

    for target in sorted(w.counts):
        print("seeds {}: {}".format(target, w.counts[target]))


if __name__ == "__main__":
    main()
