# SPDX-License-Identifier: AGPL-3.0-or-later
"""Checks that bench/load_client and bench/load.py count the same: both run against scripted
POP3 and IMAP servers whose answers are awkward to frame, and must report the same numbers.

    python3 bench/check_load_client.py --client build/release/bin/load_client

The servers split every answer into writes of random size (so that terminators, literal
announcements and CRLFs straddle reads), send POP3 bodies with dot-stuffed lines, bare LFs
and a body larger than the clients' read buffer, and IMAP literals that hold CRLFs, tag-like
lines and "{n}" text, one literal larger than the read buffer, and an untagged line longer
than it. The IMAP server serves each user CYCLES whole cycles; the next connection gets
"* BYE" only after the clients' deadline, so that every client ends with exactly one error
and the counts do not depend on timing. It also records the commands each user sent, which
must be the same for both generators (the same FETCH ranges from the same random sequence).
Exits non-zero and says why on the first difference.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
USERS = ["u%d@check.test" % i for i in range(1, 5)]
CYCLES = 3
SECONDS = 8.0
EXISTS = 150


def pop3_bodies(user):
    """The maildrop of `user`, as sent (dot-stuffed); differs per user."""
    n = USERS.index(user)
    big = b"".join(b"%06d %s\r\n" % (i, b"x" * 990) for i in range(300))  # 300 KB
    return [
        b"",
        b"..\r\nafter a stuffed dot\r\n",
        b"bare\n.\nlines\r\n",
        b"ends in a bare LF\n",
        b"Subject: %d\r\n\r\n...\r\n..\r\n.x\r\n" % n,
        big,
        b"y" * (1000 + n) + b"\r\n",
    ][: 4 + n]


async def write_split(writer, data, rng):
    """Writes `data` in pieces of random size, yielding between them."""
    pos = 0
    while pos < len(data):
        size = rng.choice((1, 2, 3, 5, 64, 1500, 70000))
        writer.write(data[pos:pos + size])
        pos += size
        await writer.drain()
        if rng.random() < 0.3:
            await asyncio.sleep(0.0005)


async def pop3_session(reader, writer):
    rng = random.Random()
    writer.transport.get_extra_info("socket").setsockopt(
        socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await write_split(writer, b"+OK check\r\n", rng)
    bodies = []
    while line := await reader.readline():
        verb, _, arg = line.decode().strip().partition(" ")
        if verb == "USER":
            bodies = pop3_bodies(arg)
            answer = b"+OK\r\n"
        elif verb == "STAT":
            answer = b"+OK %d %d\r\n" % (len(bodies), sum(map(len, bodies)))
        elif verb == "RETR":
            message = bodies[int(arg) - 1]
            answer = b"+OK %d octets\r\n" % len(message) + message + b".\r\n"
        elif verb == "QUIT":
            await write_split(writer, b"+OK bye\r\n", rng)
            break
        else:
            answer = b"+OK\r\n"
        await write_split(writer, answer, rng)
    writer.close()


def envelope(n):
    """A FETCH (FLAGS ENVELOPE) answer whose strings are partly literals."""
    if n % 3 == 0:
        return (b"* %d FETCH (FLAGS (\\Seen) ENVELOPE (\"date\" \"subject %d\" NIL NIL NIL NIL NIL"
                b" NIL NIL \"<%d@x>\"))\r\n" % (n, n, n))
    tricky = b"a%d OK not the end\r\n{5}\r\n}\r\n" % n
    return (b"* %d FETCH (FLAGS () ENVELOPE (\"date\" {%d}\r\n" % (n, len(tricky)) + tricky
            + b" {3}\r\n{1}" + b" NIL NIL NIL NIL NIL NIL \"<%d@x>\"))\r\n" % n)


def body(n):
    if n == 77:
        return b"".join(b"%06d %s\r\n" % (i, b"b" * 990) for i in range(300))  # 300 KB
    return b"Subject: bench %d\r\n\r\n%s\r\n* 9 EXISTS\r\n" % (n, b"z" * (n * 13 % 4000))


class ImapServer:
    def __init__(self):
        self.cycles = {}      # user -> cycles served
        self.commands = {}    # user -> commands received, tags removed

    async def session(self, reader, writer):
        rng = random.Random()
        writer.transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await write_split(writer, b"* OK check\r\n", rng)
        user = None
        while line := await reader.readline():
            tag, _, text = line.decode().strip().partition(" ")
            verb = text.split(" ")[0]
            if verb == "LOGIN":
                user = text.split(" ")[1].strip('"')
                if self.cycles.get(user, 0) >= CYCLES:
                    # No further cycle: "* BYE" after the clients' deadline, then close.
                    await asyncio.sleep(SECONDS + 1)
                    writer.write(b"* BYE enough\r\n")
                    break
            self.commands.setdefault(user, []).append(text)
            out = []
            if verb == "SELECT":
                out = [b"* FLAGS (\\Seen \\Flagged)\r\n", b"* %d EXISTS\r\n" % EXISTS,
                       b"* 0 RECENT\r\n", b"* OK [UIDVALIDITY 1] ok\r\n"]
            elif verb == "FETCH" and "ENVELOPE" in text:
                out = [envelope(n) for n in range(1, EXISTS + 1)]
            elif verb == "FETCH":
                first, last = map(int, text.split(" ")[1].split(":"))
                out = [b"* %d FETCH (BODY[] {%d}\r\n" % (n, len(body(n))) + body(n) + b")\r\n"
                       for n in range(first, last + 1)]
            elif verb == "STORE":
                first, last = map(int, text.split(" ")[1].split(":"))
                out = [b"* %d FETCH (FLAGS (\\Flagged))\r\n" % n for n in range(first, last + 1)]
            elif verb == "SEARCH":
                out = [b"* SEARCH" + b"".join(b" %d" % n for n in range(1, 40000)) + b"\r\n"]
            elif verb == "LOGOUT":
                out = [b"* BYE bye\r\n"]
                self.cycles[user] = self.cycles.get(user, 0) + 1
            await write_split(writer, b"".join(out) + tag.encode() + b" OK done\r\n", rng)
            if verb == "LOGOUT":
                break
        writer.close()

    def expected_octets(self):
        """Literal octets in the answers to every command served."""
        total = 0
        for commands in self.commands.values():
            for text in commands:
                if text.startswith("FETCH 1:*"):
                    total += sum(len(b"a%d OK not the end\r\n{5}\r\n}\r\n" % n) + 3
                                 for n in range(1, EXISTS + 1) if n % 3)
                elif text.startswith("FETCH"):
                    first, last = map(int, text.split(" ")[1].split(":"))
                    total += sum(len(body(n)) for n in range(first, last + 1))
        return total


def serve(handler):
    """Starts an asyncio server for `handler` on a free port in a thread; returns the port."""
    ready = threading.Event()
    port = []

    async def main():
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        await server.serve_forever()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    ready.wait()
    return port[0]


def run_generator(cmd, mode, port, extra):
    cmd = cmd + [mode, "--port", str(port), "--users", ",".join(USERS),
                 "--password", "p\"w\\d"] + extra
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if not out.stdout.strip():
        sys.exit("check: %s printed nothing (status %d): %s"
                 % (cmd[0], out.returncode, out.stderr))
    return json.loads(out.stdout), out.returncode, out.stderr


def same(label, a, b, keys):
    for key in keys:
        if a[key] != b[key]:
            sys.exit("check: %s: %s differs: load.py %r, load_client %r"
                     % (label, key, a[key], b[key]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--client", required=True, help="the load_client binary")
    args = parser.parse_args()
    generators = {"load.py": [sys.executable, os.path.join(HERE, "load.py")],
                  "load_client": [args.client]}

    port = serve(pop3_session)
    pop3 = {}
    for name, cmd in generators.items():
        pop3[name], status, err = run_generator(cmd, "pop3", port, ["--clients", "8"])
        if status != 0 or pop3[name]["errors"]:
            sys.exit("check: %s pop3 failed (status %d): %s" % (name, status, err))
    same("pop3", pop3["load.py"], pop3["load_client"],
         ["workload", "clients", "messages", "octets", "errors"])
    expected = 2 * sum(len(b) for u in USERS for b in pop3_bodies(u))
    if pop3["load_client"]["octets"] != expected:
        sys.exit("check: pop3 octets %d, sent %d" % (pop3["load_client"]["octets"], expected))
    if list(pop3["load.py"]) != list(pop3["load_client"]):
        sys.exit("check: pop3 keys differ")
    print("pop3 ok: %s" % json.dumps(pop3["load_client"]))

    imap = {}
    sent = {}
    for name, cmd in generators.items():
        server = ImapServer()
        port = serve(server.session)
        imap[name], status, err = run_generator(
            cmd, "imap", port, ["--clients", "4", "--seconds", str(SECONDS), "--timeout", "30"])
        if imap[name]["errors"] != 4 or imap[name]["cycles"] != 4 * CYCLES:
            sys.exit("check: %s imap: %s %s" % (name, imap[name], err))
        if imap[name]["octets"] != server.expected_octets():
            sys.exit("check: %s imap octets %d, sent %d"
                     % (name, imap[name]["octets"], server.expected_octets()))
        sent[name] = server.commands
    if sent["load.py"] != sent["load_client"]:
        sys.exit("check: the generators sent different commands")
    same("imap", imap["load.py"], imap["load_client"],
         ["workload", "clients", "seconds", "operations", "operations_per_second", "octets",
          "cycles", "errors"])
    for name in imap["load.py"]["commands"]:
        same("imap " + name, imap["load.py"]["commands"][name],
             imap["load_client"]["commands"][name], ["count"])
    if list(imap["load.py"]) != list(imap["load_client"]):
        sys.exit("check: imap keys differ")
    print("imap ok: %s" % json.dumps(imap["load_client"]))


if __name__ == "__main__":
    main()
