# SPDX-License-Identifier: AGPL-3.0-or-later
"""All outbound mail through a smarthost: STARTTLS or implicit TLS, then AUTH, against an
aiosmtpd server that refuses both plaintext and anonymous relaying."""

import os
import ssl
import unittest

from chapar_harness import wait_for
from test_outbound import OutboundCase, free_port, queue_ids, submit

from aiosmtpd.smtp import AuthResult

RELAY_USER = "relay-user"
RELAY_PASSWORD = "relay secret"


class SmarthostTest(OutboundCase):
    def setUp(self):
        super().setUp()
        self.port = free_port(["127.0.0.2"])
        self.logins = []

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = (auth_data.password.decode() if isinstance(auth_data.password, bytes)
                    else auth_data.password)
        ok = login == RELAY_USER and password == RELAY_PASSWORD
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.logins.append((mechanism, login, ok, encrypted))
        return AuthResult(success=ok, handled=False)

    def local(self, tls_mode, password=RELAY_PASSWORD):
        instance = self.chapar()
        password_file = os.path.join(instance.dir, "relay-password")
        with open(password_file, "w", encoding="utf-8") as f:
            f.write(password + "\n")
        instance.merge_config("""
[smtpd.outbound]
smarthost = "127.0.0.2:{}"
smarthost_tls = "{}"
smarthost_user = "{}"
smarthost_password_file = "{}"
retry_delays_seconds = [3600]
""".format(self.port, tls_mode, RELAY_USER, password_file))
        return instance

    def tls_context(self, instance):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(instance.cert_path, instance.key_path)
        return context

    def test_starttls_then_auth_plain_carries_every_destination(self):
        local = self.local("starttls")
        relay = self.sink("127.0.0.2", self.port, tls_context=self.tls_context(local),
                          require_starttls=True, auth_required=True, auth_require_tls=True,
                          authenticator=self.authenticator)
        local.start("smtpd")
        # No DNS is asked: the smarthost takes mail for every domain.
        submit(local, "alice@example.test", ["a@one.test", "b@two.test"], "via the relay\r\n")
        [received] = wait_for(relay.messages, 30, "the message at the smarthost")
        self.assertEqual(sorted(received.recipients), ["a@one.test", "b@two.test"])
        self.assertEqual(self.logins, [("PLAIN", RELAY_USER, True, True)])
        self.assertEqual(self.dns.queries, [])
        local.wait_for_log("smtpd", r"event=outbound_tls host=127.0.0.2")
        local.wait_for(lambda: queue_ids(local) == [], 20, "an empty queue")

    def test_implicit_tls_with_auth_login(self):
        local = self.local("implicit")
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; the authenticator checks
        # that the password came encrypted.
        relay = self.sink("127.0.0.2", self.port, ssl_context=self.tls_context(local),
                          auth_required=True, auth_require_tls=False,
                          auth_exclude_mechanism=["PLAIN"], authenticator=self.authenticator)
        local.start("smtpd")
        submit(local, "alice@example.test", ["c@three.test"], "implicitly\r\n")
        wait_for(relay.messages, 30, "the message at the smarthost")
        self.assertEqual(self.logins, [("LOGIN", RELAY_USER, True, True)])

    def test_a_wrong_password_keeps_the_mail_queued(self):
        local = self.local("starttls", password="wrong")
        relay = self.sink("127.0.0.2", self.port, tls_context=self.tls_context(local),
                          require_starttls=True, auth_required=True, auth_require_tls=True,
                          authenticator=self.authenticator)
        local.start("smtpd")
        submit(local, "alice@example.test", ["d@four.test"], "not yet\r\n")
        local.wait_for_log("smtpd", r"to=d@four.test .*status=deferred .*reply=\"535")
        self.assertEqual(relay.messages(), [])
        [entry] = queue_ids(local)
        self.assertIn("535", local.ctl("queue", "show", str(entry)).stdout)


if __name__ == "__main__":
    unittest.main()
