# SPDX-License-Identifier: AGPL-3.0-or-later
"""DKIM signing of outgoing mail, checked by an independent verifier (python3-dkim) with the
public keys that `chaparctl dkim generate` prints as DNS records."""

import re
import unittest

from chapar_harness import wait_for
from test_outbound import OutboundCase, free_port, outbound_config, submit

import dkim


def txt_record(output, selector, domain):
    """The TXT value of the record for selector._domainkey.domain in chaparctl's output."""
    match = re.search(r"^{}\._domainkey\.{}\. IN TXT \((.*?)\)".format(
        re.escape(selector), re.escape(domain)), output, re.M | re.S)
    assert match, "no DNS record for {} in:\n{}".format(selector, output)
    return "".join(re.findall(r'"([^"]*)"', match.group(1)))


class DkimTest(OutboundCase):
    def setUp(self):
        super().setUp()
        self.port = free_port(["127.0.0.2"])
        self.dns.add("remote.test", mx=[(10, "mx.remote.test")])
        self.dns.add("mx.remote.test", a=["127.0.0.2"])
        self.sink_server = self.sink("127.0.0.2", self.port)
        self.local = self.chapar(extra_config=outbound_config(self.dns, self.port))
        self.records = {}

    def generate(self, selector, algorithm):
        out = self.local.ctl("dkim", "generate", "--domain", "example.test", "--selector",
                             selector, "--algorithm", algorithm).stdout
        value = txt_record(out, selector, "example.test")
        self.assertIn("k={};".format(algorithm), value)
        self.records["{}._domainkey.example.test.".format(selector)] = value.encode("ascii")

    def dnsfunc(self, name, timeout=5):
        key = name.decode("ascii") if isinstance(name, bytes) else name
        return self.records.get(key if key.endswith(".") else key + ".")

    def verified(self, content, index):
        try:
            return dkim.DKIM(content).verify(idx=index, dnsfunc=self.dnsfunc)
        except dkim.ValidationError:
            return False

    def send_and_receive(self):
        self.local.start("smtpd")
        submit(self.local, "alice@example.test", ["rcpt@remote.test"],
               "Trailing spaces   \r\n\tand tabs\r\n.a dot line\r\n\r\n\r\n",
               subject="signed  mail,\r\n folded over two lines",
               headers=["Cc: <bob@example.test>", "MIME-Version: 1.0",
                        "Content-Type: text/plain; charset=utf-8"])
        [received] = wait_for(self.sink_server.messages, 30, "the signed message")
        return received.content

    def test_rsa_and_ed25519_signatures_verify(self):
        self.generate("r1", "rsa")
        self.generate("e1", "ed25519")
        content = self.send_and_receive()
        headers = content.split(b"\r\n\r\n", 1)[0]
        self.assertEqual(headers.count(b"DKIM-Signature:"), 2)
        self.assertIn(b"a=rsa-sha256", headers)
        self.assertIn(b"a=ed25519-sha256", headers)
        self.assertRegex(headers, rb"h=from:from:to:cc:\s*subject:date:message-id:")
        self.assertNotIn(b"Return-Path:", headers)
        signatures = re.findall(rb"a=([a-z0-9-]+);", headers)
        for index, algorithm in enumerate(signatures):
            self.assertTrue(self.verified(content, index), algorithm)
        # A changed body no longer verifies.
        tampered = content.replace(b"and tabs", b"and TABS")
        self.assertFalse(self.verified(tampered, 0))
        self.local.wait_for_log("smtpd", r"event=dkim_signed .*domain=example.test")

    def test_unsigned_without_keys_and_the_command_refuses_duplicates(self):
        content = self.send_and_receive()
        self.assertNotIn(b"DKIM-Signature:", content)
        self.generate("same", "rsa")
        again = self.local.ctl("dkim", "generate", "--domain", "example.test", "--selector",
                               "same", check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("exists", again.stderr)
        elsewhere = self.local.ctl("dkim", "generate", "--domain", "not-hosted.test",
                                   check=False)
        self.assertNotEqual(elsewhere.returncode, 0)
        bad = self.local.ctl("dkim", "generate", "--domain", "example.test", "--algorithm",
                             "dsa", check=False)
        self.assertNotEqual(bad.returncode, 0)


if __name__ == "__main__":
    unittest.main()
