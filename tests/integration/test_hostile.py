# SPDX-License-Identifier: AGPL-3.0-or-later
"""Hostile clients against the real daemons: many idle connections, clients that trickle a
byte a second, clients that never read, oversized IMAP literals, connection limits per
address and per minute, and growing delays after failed logins.

Timeouts and limits are lowered in the configuration so that each test takes seconds. No
test asserts that something happens quickly: a limit must act before a generous deadline,
and a delay is checked only from below."""

import os
import resource
import select
import socket
import threading
import time
import unittest

from chapar_harness import Chapar, bin_dir, wait_for

PASSWORD = "hostile-pw"
# Instance A: many connections allowed; short command/idle timeouts for SMTP and IMAP; a
# tiny output buffer for SMTP; a small literal limit for IMAP.
CONFIG_A = """
[smtpd]
command_timeout_seconds = 2
data_timeout_seconds = 2

[smtpd.connections]
new_connections_per_ip_per_minute = 100000
max_output_buffer = 1024

[pop3d.connections]
max_connections = 1200
max_connections_per_ip = 1200
new_connections_per_ip_per_minute = 100000

[imapd]
idle_timeout_seconds = 2
max_literal_size = 1024

[imapd.connections]
new_connections_per_ip_per_minute = 100000
"""
# Instance B: tight per-address limits; a short POP3 idle timeout; fast login throttling.
CONFIG_B = """
[auth]
failure_delay_ms = 200
max_failure_delay_ms = 1600

[smtpd.connections]
new_connections_per_ip_per_minute = 5

[pop3d]
idle_timeout_seconds = 6

[pop3d.connections]
new_connections_per_ip_per_minute = 100000

[imapd.connections]
max_connections_per_ip = 3
new_connections_per_ip_per_minute = 100000
"""

IDLE_CONNECTIONS = 1000
CUT_OFF_DEADLINE = 20  # seconds a trickling client may last at most (timeouts are 2-6 s)


def raise_file_limit(needed):
    """Lets this process, and the daemons it starts, hold `needed` descriptors (as far as the
    hard limit allows)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def have(*daemons):
    return all(os.path.exists(os.path.join(bin_dir(), "chapar-" + d)) for d in daemons)


def start_available(chapar, *daemons):
    started = [d for d in daemons if have(d)]
    chapar.start(*started)
    return started


class Client:
    """A raw line-oriented connection."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server; had {!r}".format(self.buffer))
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line + b"\r\n"

    def until(self, prefix):
        """Lines up to and including the first that starts with `prefix`."""
        lines = []
        while True:
            lines.append(self.line())
            if lines[-1].startswith(prefix):
                return lines

    def send(self, data):
        self.sock.sendall(data)

    def command(self, data, prefix):
        self.send(data)
        return self.until(prefix)

    def close(self):
        self.sock.close()


def closed_by_server(sock, timeout):
    """Waits up to `timeout` s for the server to close `sock` (reading whatever it sends);
    True when it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if readable:
            try:
                if not sock.recv(65536):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True
    return False


def trickle(sock, byte, deadline):
    """Sends `byte` once a second until the server closes the connection (True) or
    `deadline` seconds have passed (False). Whatever the server says meanwhile is read."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if closed_by_server(sock, 1.0):
            return True
        try:
            sock.send(byte)
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


class CrowdAndTimeoutTest(unittest.TestCase):
    """Instance A."""

    @classmethod
    def setUpClass(cls):
        raise_file_limit(IDLE_CONNECTIONS * 2 + 256)
        cls.chapar = Chapar(users={"alice": PASSWORD}, extra_config=CONFIG_A)
        try:
            cls.daemons = start_available(cls.chapar, "smtpd", "pop3d", "imapd")
        except BaseException:
            cls.chapar.close()
            raise
        cls.alice = cls.chapar.address("alice")

    @classmethod
    def tearDownClass(cls):
        cls.chapar.close()

    def need(self, daemon):
        if daemon not in self.daemons:
            self.skipTest("chapar-{} is not built".format(daemon))

    def imap_login(self):
        client = Client(self.chapar.ports["imap"])
        client.until(b"* OK")
        client.command("a LOGIN {} {}\r\n".format(self.alice, PASSWORD).encode(), b"a ")
        return client

    # --- 1,000 idle connections ---

    def test_thousand_idle_connections_do_not_stop_a_new_client(self):
        self.need("pop3d")
        port = self.chapar.ports["pop3"]
        idle = []
        try:
            for _ in range(IDLE_CONNECTIONS):
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=30))
            # Every one of them is a served connection: each gets its greeting.
            for sock in idle[::50]:
                sock.settimeout(30)
                self.assertTrue(sock.recv(512).startswith(b"+OK"))
            client = Client(port)
            self.assertTrue(client.line().startswith(b"+OK"))
            self.assertTrue(client.command(
                "USER {}\r\n".format(self.alice).encode(), b"+OK")[-1].startswith(b"+OK"))
            self.assertTrue(client.command(
                "PASS {}\r\n".format(PASSWORD).encode(), b"+")[-1].startswith(b"+OK"))
            self.assertTrue(client.command(b"STAT\r\n", b"+")[-1].startswith(b"+OK"))
            self.assertTrue(client.command(b"QUIT\r\n", b"+")[-1].startswith(b"+OK"))
            client.close()
            print("served a new client beside {} idle connections".format(len(idle)))
        finally:
            for sock in idle:
                sock.close()

    # --- trickling clients ---

    def run_tricklers(self, cases):
        """Runs each (name, socket, byte) case in its own thread; fails with the names of
        the clients that were not cut off before the deadline."""
        survivors = []
        started = time.monotonic()

        def one(name, sock, byte):
            try:
                if not trickle(sock, byte, CUT_OFF_DEADLINE):
                    survivors.append(name)
            finally:
                sock.close()
        threads = [threading.Thread(target=one, args=case) for case in cases]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("{} trickling clients handled in {:.0f} s".format(
            len(cases), time.monotonic() - started))
        self.assertEqual(survivors, [], "clients trickling a byte a second were not cut off")

    # The timeout runs from the first byte of a command line, of DATA or of a literal, and a
    # byte a second earns almost nothing at min_data_rate: each is cut off near its timeout.
    def test_trickling_clients_are_cut_off(self):
        cases = []
        if "smtpd" in self.daemons:
            port = self.chapar.ports["smtp"]
            command = Client(port)
            command.until(b"220 ")
            data = Client(port)
            data.until(b"220 ")
            data.command(b"EHLO trickle.example.net\r\n", b"250 ")
            data.command(b"MAIL FROM:<t@example.net>\r\n", b"250 ")
            data.command("RCPT TO:<{}>\r\n".format(self.alice).encode(), b"250 ")
            data.command(b"DATA\r\n", b"354 ")
            cases += [("smtp command line", command.sock, b"N"), ("smtp DATA", data.sock, b"x")]
        if "imapd" in self.daemons:
            command = Client(self.chapar.ports["imap"])
            command.until(b"* OK")
            literal = self.imap_login()
            self.assertTrue(
                literal.command(b"b APPEND INBOX {500}\r\n", b"+")[-1].startswith(b"+"))
            cases += [("imap command line", command.sock, b"a"),
                      ("imap literal", literal.sock, b"x")]
        if not cases:
            self.skipTest("neither chapar-smtpd nor chapar-imapd is built")
        self.run_tricklers(cases)

    # --- a client that never reads ---

    def test_client_that_never_reads_is_cut_off_at_the_output_cap(self):
        self.need("smtpd")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", self.chapar.ports["smtp"]))
        sock.setblocking(False)
        batch = b"NOOP\r\n" * 1000
        sent = 0
        stalled_since = None
        deadline = time.monotonic() + 60
        log_before = len(self.chapar.log("smtpd"))
        # Pipelines NOOPs without reading a reply, until the server stops taking them.
        while time.monotonic() < deadline:
            try:
                sent += sock.send(batch)
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 2:
                    break
                select.select([], [sock], [], 0.2)
            except (ConnectionResetError, BrokenPipeError):
                break
        log = lambda: self.chapar.log("smtpd")[log_before:]
        reason = wait_for(lambda: "output_overflow" in log() and "output_overflow" or
                          ("reason=timeout" in log() and "timeout"), timeout=60,
                          message="the server to cut off a client that never reads")
        sock.close()
        print("sent {} bytes of pipelined NOOPs without reading; cut off by {}".format(
            sent, reason))
        self.assertEqual(reason, "output_overflow")

    # --- IMAP literals over the limit ---

    def test_imap_literal_over_the_limit_is_refused_before_it_is_sent(self):
        self.need("imapd")
        client = self.imap_login()
        for tag, command in [(b"c", b"c APPEND INBOX {100000}\r\n"),
                             (b"d", b"d APPEND INBOX (\\Seen) {1025}\r\n")]:
            client.send(command)
            reply = client.line()
            self.assertFalse(reply.startswith(b"+"), "a continuation for an oversized literal")
            self.assertTrue(reply.startswith(tag + b" NO") or reply.startswith(tag + b" BAD"),
                            reply)
        # Within the limit it is accepted, and the connection is still usable.
        self.assertTrue(client.command(b"e APPEND INBOX {12}\r\n", b"+")[-1].startswith(b"+"))
        self.assertTrue(client.command(b"Subject: x\r\n\r\n", b"e ")[-1].startswith(b"e OK"))
        client.close()

    def test_imap_literal_before_login_is_refused_before_it_is_sent(self):
        self.need("imapd")
        client = Client(self.chapar.ports["imap"])
        client.until(b"* OK")
        client.send(b"a LOGIN {1000000}\r\n")
        reply = client.line()
        self.assertFalse(reply.startswith(b"+"), "a continuation for an oversized literal")
        self.assertTrue(reply.startswith(b"a NO") or reply.startswith(b"a BAD") or
                        reply.startswith(b"* BYE"), reply)
        client.close()


class LimitsAndThrottleTest(unittest.TestCase):
    """Instance B."""

    @classmethod
    def setUpClass(cls):
        cls.chapar = Chapar(users={"alice": PASSWORD, "bob": PASSWORD}, extra_config=CONFIG_B)
        try:
            cls.daemons = start_available(cls.chapar, "smtpd", "pop3d", "imapd")
        except BaseException:
            cls.chapar.close()
            raise
        cls.alice = cls.chapar.address("alice")

    @classmethod
    def tearDownClass(cls):
        cls.chapar.close()

    def need(self, daemon):
        if daemon not in self.daemons:
            self.skipTest("chapar-{} is not built".format(daemon))

    def refused(self, port):
        """Connects; True when the server closes the connection without a greeting."""
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            data = sock.recv(512)
        except ConnectionResetError:
            data = b""
        finally:
            sock.close()
        return data == b""

    def test_connections_per_address(self):
        self.need("imapd")
        port = self.chapar.ports["imap"]
        held = [Client(port) for _ in range(3)]
        for client in held:
            client.until(b"* OK")
        self.assertTrue(self.refused(port), "a fourth connection from one address was served")
        self.chapar.wait_for_log("imapd", r"reason=max_connections_per_ip")
        held.pop().close()
        # Once one has gone, a new one is served again.

        def served():
            client = Client(port, timeout=10)
            try:
                client.until(b"* OK")
                return client
            except (ConnectionError, OSError):
                client.close()
                return None
        wait_for(served, message="a free connection slot").close()
        for client in held:
            client.close()

    def test_new_connections_per_minute(self):
        self.need("smtpd")
        port = self.chapar.ports["smtp"]
        outcomes = []
        for _ in range(8):
            outcomes.append(self.refused(port))
        print("smtp connection attempts refused in one minute:", outcomes)
        self.assertEqual(outcomes[:5], [False] * 5)
        self.assertEqual(outcomes[5:], [True] * 3)
        self.chapar.wait_for_log("smtpd", r"reason=rate_limit")

    def test_failed_logins_are_delayed_more_and_more(self):
        self.need("pop3d")
        client = Client(self.chapar.ports["pop3"])
        client.line()
        durations = []
        # Guesses spread over several accounts, real and not, from one address.
        for user in ["alice", "bob", "nobody", "alice", "carol"]:
            client.command("USER {}\r\n".format(self.chapar.address(user)).encode(), b"")
            started = time.monotonic()
            reply = client.command(b"PASS wrong-guess\r\n", b"-ERR")[-1]
            durations.append(time.monotonic() - started)
            self.assertTrue(reply.startswith(b"-ERR"), reply)
        client.close()
        print("failed login delays (s):", ["{:.2f}".format(d) for d in durations])
        # Lower bounds only: failure_delay 200 ms, doubled for each failure from the address
        # up to max_failure_delay (below the idle timeout, which would cut the client off).
        for n, duration in enumerate(durations[1:], start=1):
            self.assertGreaterEqual(duration, min(0.2 * 2 ** (n - 1), 1.6) * 0.9,
                                    "failure {} was answered too soon".format(n + 1))
        # The right password is still accepted, after the delay.
        client = Client(self.chapar.ports["pop3"])
        client.line()
        client.command("USER {}\r\n".format(self.alice).encode(), b"")
        reply = client.command("PASS {}\r\n".format(PASSWORD).encode(), b"")[-1]
        self.assertTrue(reply.startswith(b"+OK"), reply)
        client.close()

    def test_trickling_pop3_client_is_cut_off(self):
        self.need("pop3d")
        client = Client(self.chapar.ports["pop3"])
        client.line()
        ok = trickle(client.sock, b"U", CUT_OFF_DEADLINE)
        client.close()
        self.assertTrue(ok, "a POP3 client trickling a byte a second was not cut off")


if __name__ == "__main__":
    unittest.main()
