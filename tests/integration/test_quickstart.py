# SPDX-License-Identifier: AGPL-3.0-or-later
"""chaparctl quickstart and check against a real installation and running daemons."""

import os
import poplib
import re
import smtplib
import unittest

from chapar_harness import Chapar, run_ctl


def records(output):
    """(owner, type, data) of every resource record in quickstart's output."""
    found = []
    for line in output.splitlines():
        match = re.match(r"^(\S+)\s+3600 IN (\S+)\s+(.*)$", line)
        if match:
            found.append(match.groups())
    return found


class QuickstartTest(unittest.TestCase):
    def test_quickstart_then_mail_for_postmaster(self):
        with Chapar(domain="example.test", users={}) as chapar:
            chapar.merge_config('[server]\nhostname = "mail.example.test"\n')
            result = chapar.ctl("quickstart", "--domain", "shop.example.test",
                                "--hostname", "mx.example.test")
            out = result.stdout
            password = re.search(r"password of postmaster@shop\.example\.test \(shown only "
                                 r"now\): (\S+)", out)
            self.assertIsNotNone(password, out)
            got = records(out)
            self.assertIn(("shop.example.test.", "MX", "10 mx.example.test."), got)
            self.assertIn(("shop.example.test.", "TXT", '"v=spf1 mx -all"'), got)
            self.assertIn(("_dmarc.shop.example.test.", "TXT",
                           '"v=DMARC1; p=quarantine; rua=mailto:postmaster@shop.example.test"'),
                          got)
            srv = {owner: data for owner, kind, data in got if kind == "SRV"}
            self.assertEqual(set(srv), {"_{}._tcp.shop.example.test.".format(s) for s in (
                "submissions", "submission", "imaps", "imap", "pop3s", "pop3")})
            # The test listeners are on loopback: nothing to announce to the world.
            for data in srv.values():
                self.assertEqual(data, "0 0 0 .")
            if "dkim generate" in run_ctl("--help").stdout:
                dkim = [data for owner, kind, data in got
                        if kind == "TXT" and owner.endswith("._domainkey.shop.example.test.")]
                self.assertEqual(len(dkim), 1, out)
                self.assertRegex(dkim[0], r'^"v=DKIM1; k=(rsa|ed25519); p=')
            with open(chapar.config_path) as f:
                self.assertIn('hostname = "mx.example.test"', f.read())

            again = chapar.ctl("quickstart", "--domain", "shop.example.test")
            self.assertIn("password is unchanged", again.stdout)
            self.assertNotIn("shown only now", again.stdout)

            # The account works: mail to it arrives and it can log in.
            chapar.start("smtpd", "pop3d")
            with smtplib.SMTP("127.0.0.1", chapar.ports["smtp"], timeout=30) as smtp:
                smtp.sendmail("someone@elsewhere.test", ["postmaster@shop.example.test"],
                              "Subject: hello\r\n\r\nfor the postmaster\r\n")
            pop = poplib.POP3("127.0.0.1", chapar.ports["pop3"], timeout=30)
            try:
                pop.user("postmaster@shop.example.test")
                pop.pass_(password.group(1))
                self.assertEqual(pop.stat()[0], 1)
            finally:
                pop.quit()

    def test_check_sees_the_running_daemons_and_the_problems(self):
        with Chapar() as chapar:
            chapar.start("imapd")
            # A copy of the configuration with the ports the daemon bound, so that check
            # finds them in use, by chapar-imapd.
            text = chapar.config_text()
            for name in ("imap", "imaps"):
                text = re.sub(r'(name = "{}"\n(?:[^\[\n]*\n)*?)port = 0'.format(name),
                              r"\g<1>port = {}".format(chapar.ports[name]), text)
            bound = os.path.join(chapar.dir, "bound.toml")
            with open(bound, "w") as f:
                f.write(text)
            result = run_ctl("--config", bound, "check", check=False)
            lines = result.stdout.splitlines()
            self.assertIn("ok: configuration " + bound, lines)
            for name in ("imap", "imaps"):
                self.assertTrue(any(re.match(r"ok: imapd\.listeners\[\d\] \({} on 127\.0\.0\.1 "
                                             r"port {}\) is served by chapar-imapd".format(
                                                 name, chapar.ports[name]), line)
                                    for line in lines), result.stdout)
            self.assertTrue(any(line.startswith("ok: certificate ") for line in lines))
            self.assertTrue(any(line.startswith("ok: store ") for line in lines))
            problems = [line for line in lines if line.startswith("problem: ")]
            if os.geteuid() == 0:
                # As root an empty server.user is a problem; it is the only one.
                self.assertEqual(len(problems), 1, result.stdout)
                self.assertIn("server.user is empty", problems[0])
                self.assertEqual(result.returncode, 65)
            else:
                self.assertEqual(problems, [], result.stdout)
                self.assertEqual(result.returncode, 0, result.stderr)

            # A certificate for another name is one problem line saying what to do.
            chapar.merge_config('[server]\nhostname = "other.example.test"\n')
            mismatch = chapar.ctl("check", check=False)
            self.assertNotEqual(mismatch.returncode, 0)
            self.assertRegex(mismatch.stdout,
                             r"(?m)^problem: tls\.certificate: .* is not issued for "
                             r"other\.example\.test: get one for that name, or set "
                             r"server\.hostname to the name it has$")
            self.assertRegex(mismatch.stderr, r"^chaparctl: \d+ problems? found\n$")


if __name__ == "__main__":
    unittest.main()
