# SPDX-License-Identifier: AGPL-3.0-or-later
"""Outbound delivery by chapar-smtpd's queue runner, on loopback only.

The world outside is made of: a DNS responder on 127.0.0.1 (DnsResponder) that the sending
instance uses through `[smtpd.outbound] resolver`, answering MX, A and AAAA queries from
the test's table; aiosmtpd sinks (Sink) on 127.0.0.x that answer as told; and a second
Chapar instance as the remote MX. Every MX host listens on the same port (`mx_port`) at its
own loopback address.

The helpers here are shared by the other test_outbound*.py modules.
"""

import email
import email.policy
import os
import poplib
import smtplib
import socket
import struct
import threading
import time
import unittest

from chapar_harness import Chapar, wait_for

import aiosmtpd.controller
import aiosmtpd.smtp

# Short timings so that retries, warnings and give-up happen within seconds.
FAST_QUEUE = """
[smtpd.outbound]
retry_delays_seconds = [1]
"""


# --- DNS ---------------------------------------------------------------------------------

TYPE_A, TYPE_MX, TYPE_TXT, TYPE_AAAA = 1, 15, 16, 28


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode("idna")
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def _read_question(packet):
    """(name, type, end offset) of the first question."""
    pos = 12
    labels = []
    while packet[pos]:
        length = packet[pos]
        labels.append(packet[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    qtype, _ = struct.unpack("!HH", packet[pos + 1:pos + 5])
    return ".".join(labels).lower(), qtype, pos + 5


class DnsResponder:
    """A DNS server on 127.0.0.1, UDP, on a free port. Names in the table answer with their
    records of the asked type (none: NODATA); other names are NXDOMAIN.

        dns.add("remote.test", mx=[(10, "mx1.remote.test")])
        dns.add("mx1.remote.test", a=["127.0.0.2"])
        dns.add("nomail.test", null_mx=True)
    """

    def __init__(self):
        self.table = {}
        self.queries = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, name="dns", daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:{}".format(self.port)

    def add(self, name, mx=None, a=None, aaaa=None, txt=None, null_mx=False):
        with self.lock:
            entry = self.table.setdefault(name.lower().rstrip("."), {})
            if null_mx:
                entry[TYPE_MX] = [(0, ".")]
            if mx is not None:
                entry[TYPE_MX] = list(mx)
            if a is not None:
                entry[TYPE_A] = list(a)
            if aaaa is not None:
                entry[TYPE_AAAA] = list(aaaa)
            if txt is not None:
                entry[TYPE_TXT] = list(txt)

    def _rdata(self, qtype, value):
        if qtype == TYPE_A:
            return socket.inet_pton(socket.AF_INET, value)
        if qtype == TYPE_AAAA:
            return socket.inet_pton(socket.AF_INET6, value)
        if qtype == TYPE_MX:
            preference, host = value
            return struct.pack("!H", preference) + _encode_name(host)
        raw = value.encode("ascii")
        return b"".join(bytes([len(raw[i:i + 255])]) + raw[i:i + 255]
                        for i in range(0, len(raw), 255))

    def _answer(self, packet):
        query_id, flags = struct.unpack("!HH", packet[:4])
        name, qtype, end = _read_question(packet)
        with self.lock:
            self.queries.append((name, qtype))
            entry = self.table.get(name)
            records = [] if entry is None else entry.get(qtype, [])
        rcode = 3 if entry is None else 0
        header = struct.pack("!HHHHHH", query_id, 0x8400 | (flags & 0x0100) | 0x0080 | rcode, 1,
                             len(records), 0, 0)
        answers = b""
        for value in records:
            rdata = self._rdata(qtype, value)
            answers += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
        return header + packet[12:end] + answers

    def _serve(self):
        while self.running:
            try:
                packet, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(packet) < 17:
                continue
            try:
                self.sock.sendto(self._answer(packet), peer)
            except (OSError, IndexError, struct.error):
                continue

    def close(self):
        self.running = False
        self.sock.close()


# --- SMTP sinks --------------------------------------------------------------------------


def free_port(addresses):
    """A TCP port that is free on every one of the loopback `addresses`."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind((addresses[0], 0))
        port = probe.getsockname()[1]
        held = [probe]
        try:
            for address in addresses[1:]:
                other = socket.socket()
                held.append(other)
                other.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no port free on all of {}".format(addresses))


class Received:
    def __init__(self, sender, recipients, content, sink):
        self.sender = sender
        self.recipients = recipients
        self.content = content
        self.sink = sink

    def message(self):
        return email.message_from_bytes(self.content, policy=email.policy.default)


class Sink:
    """An aiosmtpd server at ADDRESS:PORT that answers as told.

    `rcpt` maps a recipient to its reply, or is a function (address, attempt number) -> reply;
    anything else gets "250 2.1.5 Ok". `data` is the reply to the end of data. `events` is a
    list shared between sinks that records "ADDRESS connect" and "ADDRESS rcpt ADDR" in
    order.
    """

    def __init__(self, address, port, rcpt=None, data="250 2.0.0 Ok: queued", events=None,
                 data_delay=0.0, **smtp_options):
        self.address = address
        self.port = port
        self.rcpt = rcpt or {}
        self.data = data
        self.data_delay = data_delay
        self.events = events if events is not None else []
        self.received = []
        self.attempts = {}
        self.active = 0  # connections open now, and the most at once
        self.most_active = 0
        self.lock = threading.Lock()
        self.controller = _Controller(self, hostname=address, port=port,
                                      server_hostname="sink." + address, **smtp_options)
        self.controller.start()

    def _rcpt_reply(self, address):
        with self.lock:
            attempt = self.attempts.get(address, 0) + 1
            self.attempts[address] = attempt
            self.events.append("{} rcpt {}".format(self.address, address))
        if callable(self.rcpt):
            return self.rcpt(address, attempt)
        return self.rcpt.get(address, "250 2.1.5 Ok")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._rcpt_reply(address)
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            import asyncio
            await asyncio.sleep(self.data_delay)
        if self.data.startswith("2"):
            with self.lock:
                self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                              envelope.original_content or envelope.content,
                                              self))
        return self.data

    def messages(self):
        with self.lock:
            return list(self.received)

    def close(self):
        self.controller.stop()


if aiosmtpd is not None:
    class _Controller(aiosmtpd.controller.Controller):
        """Records connections in the sink's events."""

        def __init__(self, sink, **kwargs):
            self.sink = sink
            super().__init__(sink, **kwargs)

        def factory(self):
            server = super().factory()
            sink = self.sink
            original = server.connection_made

            original_lost = server.connection_lost

            def connection_made(transport):
                with sink.lock:
                    sink.events.append("{} connect".format(sink.address))
                    sink.active += 1
                    sink.most_active = max(sink.most_active, sink.active)
                return original(transport)

            def connection_lost(error):
                with sink.lock:
                    sink.active -= 1
                return original_lost(error)

            server.connection_made = connection_made
            server.connection_lost = connection_lost
            return server

        def _trigger_server(self):
            # The readiness probe is not a delivery: keep it out of the events.
            super()._trigger_server()
            with self.sink.lock:
                self.sink.events[:] = [e for e in self.sink.events if e != "{} connect".format(
                    self.sink.address)]
                self.sink.most_active = 0


# --- Chapar ------------------------------------------------------------------------------


def outbound_config(dns, mx_port, extra=""):
    # `extra` holds more [smtpd.outbound] keys. The tests poll mailboxes from 127.0.0.1 many
    # times a minute, beyond the default rate of new connections.
    return """
[smtpd.outbound]
resolver = "{}"
mx_port = {}
""".format(dns.address, mx_port) + extra + """
[smtpd.connections]
new_connections_per_ip_per_minute = 100000

[pop3d.connections]
new_connections_per_ip_per_minute = 100000
"""


def submit(chapar, sender, recipients, body, subject="test", headers=None, user=None,
           password=None):
    """Sends a message through the instance's submission port as the sender's account.
    Returns the Message-ID."""
    user = user or sender
    password = password or chapar.users[user]
    message_id = "<{}.{}@{}>".format(time.monotonic_ns(), os.getpid(), chapar.domain)
    lines = ["From: <{}>".format(sender),
             "To: {}".format(", ".join("<{}>".format(r) for r in recipients)),
             "Subject: {}".format(subject),
             "Date: Sun, 22 Nov 2026 10:00:00 +0000",
             "Message-ID: {}".format(message_id)]
    lines += list(headers or [])
    content = "\r\n".join(lines) + "\r\n\r\n" + body
    with smtplib.SMTP("127.0.0.1", chapar.ports["submission"], timeout=30) as client:
        client.ehlo("client.test")
        client.login(user, password)
        client.sendmail(sender, recipients, content.encode("utf-8"))
    return message_id


def pop3_messages(chapar, user):
    """Every message in the account's INBOX, as email.message.EmailMessage, via POP3."""
    client = poplib.POP3("127.0.0.1", chapar.ports["pop3"], timeout=30)
    try:
        client.user(chapar.address(user))
        client.pass_(chapar.users[chapar.address(user)])
        count, _ = client.stat()
        out = []
        for n in range(1, count + 1):
            _, lines, _ = client.retr(n)
            out.append(email.message_from_bytes(b"\r\n".join(lines) + b"\r\n",
                                                policy=email.policy.default))
        return out
    finally:
        client.quit()


def delivery_status(report):
    """The message/delivery-status part of a DSN: [per-message fields, per-recipient...],
    each a dict of field name (lower case) to value."""
    for part in report.walk():
        if part.get_content_type() in ("message/delivery-status",
                                       "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                # The email package parses the blocks as a list of header-only messages.
                return [{k.lower(): str(v) for k, v in block.items()} for block in payload]
            text = payload if isinstance(payload, str) else part.get_payload(decode=True).decode()
            blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
            out = []
            for block in blocks:
                fields = {}
                for line in block.split("\n"):
                    if ":" in line and not line[0].isspace():
                        key, value = line.split(":", 1)
                        fields[key.strip().lower()] = value.strip()
                out.append(fields)
            return out
    raise AssertionError("no delivery-status part in\n{}".format(report.as_string()))


def queue_ids(chapar):
    """The ids listed by `chaparctl queue list`."""
    out = chapar.ctl("queue", "list").stdout
    ids = []
    for line in out.splitlines():
        first = line.split()[0] if line.split() else ""
        if first.isdigit():
            ids.append(int(first))
    return ids


class OutboundCase(unittest.TestCase):
    """A DNS responder for every test, and cleanup of what the test starts."""

    def setUp(self):
        self.dns = DnsResponder()
        self.addCleanup(self.dns.close)

    def chapar(self, **kwargs):
        instance = Chapar(**kwargs)
        self.addCleanup(instance.close)
        return instance

    def sink(self, *args, **kwargs):
        s = Sink(*args, **kwargs)
        self.addCleanup(s.close)
        return s


# --- Tests -------------------------------------------------------------------------------


class TwoInstancesTest(OutboundCase):
    def test_delivery_to_another_chapar_by_mx_lookup(self):
        remote = self.chapar(domain="remote.test", users={"carol": "carol-pw"})
        remote.start("smtpd", "pop3d")
        self.dns.add("remote.test", mx=[(10, "mail.remote.test")])
        self.dns.add("mail.remote.test", a=["127.0.0.1"])
        local = self.chapar(extra_config=outbound_config(self.dns, remote.ports["smtp"]))
        local.start("smtpd")

        message_id = submit(local, "alice@example.test", ["carol@remote.test"],
                            "Hello from one Chapar to another.\r\n")
        wait_for(lambda: pop3_messages(remote, "carol"), 30, "the message at remote.test")
        [message] = pop3_messages(remote, "carol")
        self.assertEqual(message["Message-ID"], message_id)
        self.assertIn("Hello from one Chapar to another.", message.get_content())
        # One Return-Path, the receiving side's; ours stayed home.
        self.assertEqual(message.get_all("Return-Path"), ["<alice@example.test>"])
        self.assertGreaterEqual(len(message.get_all("Received")), 2)
        local.wait_for_log("smtpd", r"event=outbound_delivery .*to=carol@remote.test "
                                    r"relay=mail.remote.test status=sent")
        # Chapar offers STARTTLS, so the hop was encrypted (opportunistically: the remote
        # certificate is self-signed).
        local.wait_for_log("smtpd", r"event=outbound_session host=mail.remote.test .*tls=yes")
        local.wait_for(lambda: queue_ids(local) == [], 20, "an empty queue")


class MxRoutingTest(OutboundCase):
    def test_preference_order_and_fallback_after_4xx_and_refused_connection(self):
        port = free_port(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
        events = []
        # Preference 5 has no server at all; 10 answers 421; 20 takes the message; 30 is
        # never needed.
        self.sink("127.0.0.3", port, events=events,
                  rcpt={"dave@remote.test": "451 4.7.1 greylisted, try later"})
        good = self.sink("127.0.0.2", port, events=events)
        spare = self.sink("127.0.0.4", port, events=events)
        self.dns.add("remote.test", mx=[(30, "mx30.remote.test"), (10, "mx10.remote.test"),
                                        (20, "mx20.remote.test"), (5, "mx5.remote.test")])
        self.dns.add("mx5.remote.test", a=["127.0.0.5"])
        self.dns.add("mx10.remote.test", a=["127.0.0.3"])
        self.dns.add("mx20.remote.test", a=["127.0.0.2"])
        self.dns.add("mx30.remote.test", a=["127.0.0.4"])
        local = self.chapar(extra_config=outbound_config(self.dns, port))
        local.start("smtpd")

        submit(local, "alice@example.test", ["dave@remote.test"], "body\r\n")
        wait_for(good.messages, 30, "the message at the preference 20 host")
        self.assertEqual([e for e in events if "rcpt" in e],
                         ["127.0.0.3 rcpt dave@remote.test", "127.0.0.2 rcpt dave@remote.test"])
        self.assertEqual(spare.messages(), [])
        [received] = good.messages()
        self.assertEqual(received.sender, "alice@example.test")
        self.assertEqual(received.recipients, ["dave@remote.test"])

    def test_implicit_mx_when_the_domain_has_no_mx_record(self):
        port = free_port(["127.0.0.2"])
        sink = self.sink("127.0.0.2", port)
        # No MX at all: the domain's own address (RFC 5321 §5.1).
        self.dns.add("plain.test", a=["127.0.0.2"])
        local = self.chapar(extra_config=outbound_config(self.dns, port))
        local.start("smtpd")
        submit(local, "alice@example.test", ["eve@plain.test"], "body\r\n")
        wait_for(sink.messages, 30, "the message at the implicit MX")

    def test_one_transaction_for_all_recipients_at_a_destination(self):
        port = free_port(["127.0.0.2"])
        sink = self.sink("127.0.0.2", port)
        self.dns.add("remote.test", mx=[(10, "mx.remote.test")])
        self.dns.add("mx.remote.test", a=["127.0.0.2"])
        local = self.chapar(extra_config=outbound_config(self.dns, port))
        local.start("smtpd")
        submit(local, "alice@example.test", ["a@remote.test", "b@remote.test", "c@remote.test"],
               "body\r\n")
        wait_for(sink.messages, 30, "the message")
        [received] = sink.messages()
        self.assertEqual(sorted(received.recipients),
                         ["a@remote.test", "b@remote.test", "c@remote.test"])


class ConcurrencyTest(OutboundCase):
    def test_connections_per_destination_stay_within_the_limit(self):
        port = free_port(["127.0.0.2"])
        slow = self.sink("127.0.0.2", port, data_delay=0.2)
        self.dns.add("remote.test", mx=[(10, "mx.remote.test")])
        self.dns.add("mx.remote.test", a=["127.0.0.2"])
        local = self.chapar(extra_config=outbound_config(
            self.dns, port, "max_per_destination = 2\nmax_concurrent_deliveries = 10\n"))
        local.start("smtpd")
        for n in range(8):
            submit(local, "alice@example.test", ["p{}@remote.test".format(n)], "{}\r\n".format(n))
        wait_for(lambda: len(slow.messages()) == 8, 60, "eight messages")
        self.assertLessEqual(slow.most_active, 2)


class RetryAndBounceTest(OutboundCase):
    def setUp(self):
        super().setUp()
        self.port = free_port(["127.0.0.2"])
        self.dns.add("remote.test", mx=[(10, "mx.remote.test")])
        self.dns.add("mx.remote.test", a=["127.0.0.2"])

    def local(self, extra=FAST_QUEUE):
        instance = self.chapar(extra_config=outbound_config(self.dns, self.port, extra))
        instance.start("smtpd", "pop3d")
        return instance

    def test_retry_after_4xx_then_success(self):
        sink = self.sink("127.0.0.2", self.port, rcpt=lambda address, attempt: (
            "451 4.3.0 not yet" if attempt < 3 else "250 2.1.5 Ok"))
        local = self.local()
        submit(local, "alice@example.test", ["frank@remote.test"], "patience\r\n")
        wait_for(sink.messages, 60, "the message after retries")
        self.assertEqual(sink.attempts["frank@remote.test"], 3)
        log = local.log("smtpd")
        self.assertEqual(log.count("status=deferred"), 2)
        local.wait_for_log("smtpd", r"status=sent .*attempts=3")
        local.wait_for(lambda: queue_ids(local) == [], 20, "an empty queue")
        # No report was asked for or due.
        self.assertEqual(pop3_messages(local, "alice"), [])

    def test_bounce_after_5xx_is_a_well_formed_dsn_in_the_senders_inbox(self):
        self.sink("127.0.0.2", self.port,
                  rcpt={"nobody@remote.test": "550 5.1.1 <nobody@remote.test>: no such user"})
        local = self.local()
        submit(local, "alice@example.test", ["nobody@remote.test", "grace@remote.test"],
               "Is anybody there?\r\n", subject="knock knock",
               headers=["X-Original-Marker: 42"])
        reports = wait_for(lambda: pop3_messages(local, "alice"), 30, "the bounce")
        self.assertEqual(len(reports), 1)
        report = reports[0]
        self.assertEqual(report.get_content_type(), "multipart/report")
        self.assertEqual(report.get_param("report-type"), "delivery-status")
        self.assertIn("MAILER-DAEMON@mail.example.test", report["From"])
        self.assertEqual(report["To"].addresses[0].addr_spec, "alice@example.test")
        self.assertEqual(report["Return-Path"], "<>")
        self.assertEqual(report["Auto-Submitted"], "auto-replied")
        parts = [p.get_content_type() for p in report.iter_parts()]
        self.assertEqual(parts[0], "text/plain")
        self.assertEqual(parts[1], "message/delivery-status")
        self.assertIn(parts[2], ("message/rfc822", "text/rfc822-headers"))
        self.assertIn("nobody@remote.test", next(report.iter_parts()).get_content())
        fields = delivery_status(report)
        self.assertEqual(fields[0]["reporting-mta"], "dns; mail.example.test")
        self.assertIn("arrival-date", fields[0])
        # Only the refused recipient is reported; grace got the message.
        self.assertEqual(len(fields), 2)
        recipient = fields[1]
        self.assertEqual(recipient["final-recipient"], "rfc822; nobody@remote.test")
        self.assertEqual(recipient["action"], "failed")
        self.assertEqual(recipient["status"], "5.1.1")
        self.assertEqual(recipient["remote-mta"], "dns; mx.remote.test")
        self.assertIn("smtp; 550 5.1.1", recipient["diagnostic-code"])
        # A small message comes back whole.
        original = list(report.iter_parts())[2]
        self.assertIn("X-Original-Marker: 42", original.as_string())
        self.assertIn("Is anybody there?", original.as_string())
        local.wait_for(lambda: queue_ids(local) == [], 20, "an empty queue")

    def test_ret_hdrs_envid_orcpt_and_notify_never(self):
        self.sink("127.0.0.2", self.port, rcpt=lambda address, attempt: "550 5.1.1 no")
        local = self.local()
        with smtplib.SMTP("127.0.0.1", local.ports["submission"], timeout=30) as client:
            client.ehlo("client.test")
            client.login("alice@example.test", "alice-pw")
            content = (b"From: <alice@example.test>\r\nSubject: hdrs\r\n\r\nsecret body\r\n")
            client.sendmail("alice@example.test", ["h1@remote.test", "h2@remote.test"], content,
                            mail_options=["RET=HDRS", "ENVID=env+2Bid"],
                            rcpt_options=["NOTIFY=FAILURE ORCPT=rfc822;orig+2B1@remote.test"])
            client.sendmail("alice@example.test", ["quiet@remote.test"], content,
                            rcpt_options=["NOTIFY=NEVER"])
        reports = wait_for(lambda: pop3_messages(local, "alice"), 30, "the bounce")
        local.wait_for_log("smtpd", r"to=quiet@remote.test .*status=bounced")
        local.wait_for(lambda: queue_ids(local) == [], 20, "an empty queue")
        reports = pop3_messages(local, "alice")
        self.assertEqual(len(reports), 1, "NOTIFY=NEVER asks for no report")
        report = reports[0]
        original = list(report.iter_parts())[2]
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        self.assertNotIn("secret body", report.as_string())
        fields = delivery_status(report)
        self.assertEqual(fields[0]["original-envelope-id"], "env+id")
        self.assertEqual(fields[1]["original-recipient"], "rfc822; orig+1@remote.test")

    def test_null_mx_bounces_at_once(self):
        self.dns.add("nomail.test", null_mx=True)
        local = self.local()
        submit(local, "alice@example.test", ["someone@nomail.test"], "nowhere\r\n")
        [report] = wait_for(lambda: pop3_messages(local, "alice"), 30, "the bounce")
        fields = delivery_status(report)
        self.assertEqual(fields[1]["status"], "5.1.10")
        self.assertEqual(fields[1]["action"], "failed")
        self.assertNotIn("remote-mta", fields[1])
        local.wait_for_log("smtpd", r"to=someone@nomail.test .*status=bounced .*attempts=1")

    def test_a_host_that_stops_answering_is_left_at_the_reply_timeout(self):
        silent = socket.create_server(("127.0.0.2", self.port))
        self.addCleanup(silent.close)
        accepted = []

        def greet_then_say_nothing():
            connection, _ = silent.accept()
            accepted.append(connection)
            connection.sendall(b"220 silent.test ESMTP\r\n")

        threading.Thread(target=greet_then_say_nothing, daemon=True).start()
        self.addCleanup(lambda: [c.close() for c in accepted])
        local = self.local("[smtpd.outbound]\nretry_delays_seconds = [3600]\n"
                           "reply_timeout_seconds = 2\n")
        started = time.monotonic()
        submit(local, "alice@example.test", ["mute@remote.test"], "hello?\r\n")
        local.wait_for_log("smtpd", r"to=mute@remote.test .*status=deferred dsn=4.4.2 "
                                    r"reply=\"?timed out waiting for the server")
        # Well before the default of five minutes.
        self.assertLess(time.monotonic() - started, 60)
        self.assertEqual(len(accepted), 1)

    def test_without_ret_a_message_over_the_default_return_limit_comes_back_as_headers(self):
        self.sink("127.0.0.2", self.port, rcpt=lambda address, attempt: "550 5.1.1 no")
        local = self.local(FAST_QUEUE + "default_return_limit = 100\n")
        submit(local, "alice@example.test", ["big@remote.test"], "x" * 200 + "\r\n")
        [report] = wait_for(lambda: pop3_messages(local, "alice"), 30, "the bounce")
        original = list(report.iter_parts())[2]
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        self.assertNotIn("x" * 200, report.as_string())

    def test_delay_warning_once_then_give_up(self):
        self.sink("127.0.0.2", self.port, rcpt=lambda address, attempt: "451 4.4.5 busy")
        local = self.local(FAST_QUEUE + "warn_after_seconds = 1\ngive_up_after_seconds = 8\n")
        submit(local, "alice@example.test", ["slow@remote.test"], "eventually\r\n")
        reports = wait_for(lambda: [m for m in pop3_messages(local, "alice")
                                    if delivery_status(m)[1]["action"] == "failed"],
                           60, "the final bounce")
        local.wait_for(lambda: queue_ids(local) == [], 20, "an empty queue")
        actions = [delivery_status(m)[1]["action"] for m in pop3_messages(local, "alice")]
        self.assertEqual(sorted(actions), ["delayed", "failed"])
        [warning] = [m for m in pop3_messages(local, "alice")
                     if delivery_status(m)[1]["action"] == "delayed"]
        self.assertIn("will-retry-until", delivery_status(warning)[1])
        self.assertEqual(delivery_status(warning)[1]["status"], "4.4.5")
        final = delivery_status(reports[0])[1]
        self.assertIn("451 4.4.5 busy", final["diagnostic-code"])
        self.assertIn("status=expired", local.log("smtpd"))


class QueueCommandTest(OutboundCase):
    def test_list_show_retry_and_delete(self):
        port = free_port(["127.0.0.2"])
        refusing = self.sink("127.0.0.2", port, rcpt=lambda a, n: "451 4.3.0 later")
        self.dns.add("remote.test", mx=[(10, "mx.remote.test")])
        self.dns.add("mx.remote.test", a=["127.0.0.2"])
        # Long delays: nothing moves unless asked to.
        local = self.chapar(extra_config=outbound_config(
            self.dns, port, "retry_delays_seconds = [3600]\n"))
        local.start("smtpd")
        submit(local, "alice@example.test", ["one@remote.test"], "1\r\n")
        submit(local, "alice@example.test", ["two@remote.test"], "2\r\n")
        wait_for(lambda: len(refusing.attempts) == 2, 30, "two first attempts")
        local.wait_for_log("smtpd", r"to=two@remote.test .*status=deferred")
        ids = wait_for(lambda: len(queue_ids(local)) == 2 and queue_ids(local), 20, "two entries")
        listing = local.ctl("queue", "list").stdout
        self.assertIn("alice@example.test", listing)
        shown = local.ctl("queue", "show", str(ids[0])).stdout
        self.assertIn("one@remote.test", shown)
        self.assertIn("451 4.3.0 later", shown)
        self.assertIn("pending", shown)

        local.ctl("queue", "retry", str(ids[0]))
        wait_for(lambda: refusing.attempts.get("one@remote.test") == 2, 30, "a second attempt")
        local.ctl("queue", "retry", "all")
        wait_for(lambda: refusing.attempts.get("two@remote.test") == 2, 30, "another attempt")

        local.ctl("queue", "delete", str(ids[1]))
        self.assertEqual(queue_ids(local), [ids[0]])
        missing = local.ctl("queue", "show", "999999", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("999999", missing.stderr)


class RestartTest(OutboundCase):
    def test_killed_mid_queue_loses_nothing(self):
        port = free_port(["127.0.0.2"])
        slow = self.sink("127.0.0.2", port, data_delay=0.3)
        self.dns.add("remote.test", mx=[(10, "mx.remote.test")])
        self.dns.add("mx.remote.test", a=["127.0.0.2"])
        local = self.chapar(extra_config=outbound_config(
            self.dns, port, FAST_QUEUE + "max_concurrent_deliveries = 2\n"))
        local.start("smtpd")
        sent = set()
        for n in range(12):
            sent.add(submit(local, "alice@example.test", ["r{}@remote.test".format(n)],
                            "message {}\r\n".format(n)))
        wait_for(slow.messages, 30, "the first delivery")
        local.kill("smtpd")
        local.start("smtpd")

        def arrived():
            return {m.message()["Message-ID"] for m in slow.messages()}

        wait_for(lambda: sent <= arrived(), 90, "every message after the restart")
        local.wait_for(lambda: queue_ids(local) == [], 30, "an empty queue")


if __name__ == "__main__":
    unittest.main()
