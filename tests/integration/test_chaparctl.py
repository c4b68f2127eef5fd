# SPDX-License-Identifier: AGPL-3.0-or-later
"""chaparctl end to end: the real binary on a real store in a temporary directory."""

import os
import poplib
import shutil
import signal
import socket
import ssl
import tempfile
import unittest

from chapar_harness import Chapar, CommandFailed, merge_toml, run_ctl

EX_USAGE, EX_DATAERR, EX_NOUSER, EX_CONFIG = 64, 65, 67, 78


class ChaparctlTestCase(unittest.TestCase):
    def assert_rejected(self, result, status, says):
        """A failure is exactly one line on stderr, "chaparctl: ...", and a non-zero status."""
        self.assertEqual(result.returncode, status, result.stderr)
        self.assertRegex(result.stderr, r"\Achaparctl: [^\n]+\n\Z")
        self.assertIn(says, result.stderr)
        self.assertEqual(result.stdout, "")


class InitTest(ChaparctlTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chapar-ctl-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def test_init_writes_a_working_installation(self):
        site = os.path.join(self.dir, "site")
        out = run_ctl("init", "--dir", site, "--domain", "example.test",
                      "--hostname", "mail.example.test", "--port-base", "20000").stdout
        config = os.path.join(site, "chapar.toml")
        self.assertIn("wrote " + config, out)
        for name, port in [("smtp", 20025), ("submission", 20587), ("submissions", 20465),
                           ("pop3", 20110), ("pop3s", 20995), ("imap", 20143),
                           ("imaps", 20993)]:
            self.assertRegex(out, r"(?m)^{} +127\.0\.0\.1:{} ".format(name, port))
        key = os.path.join(site, "tls", "key.pem")
        self.assertEqual(os.stat(key).st_mode & 0o077, 0)
        with open(os.path.join(site, "tls", "cert.pem")) as f:
            self.assertIn("BEGIN CERTIFICATE", f.read())
        self.assertTrue(os.path.isdir(os.path.join(site, "data")))
        self.assertEqual(run_ctl("--config", config, "domain", "list").stdout, "example.test\n")
        # The configuration file is found through CHAPAR_CONFIG too.
        env = dict(os.environ, CHAPAR_CONFIG=config)
        self.assertEqual(run_ctl("domain", "list", env=env).stdout, "example.test\n")

    def test_init_refuses_to_overwrite(self):
        site = os.path.join(self.dir, "site")
        run_ctl("init", "--dir", site)
        config = os.path.join(site, "chapar.toml")
        with open(config) as f:
            before = f.read()
        result = run_ctl("init", "--dir", site, "--domain", "example.test", check=False)
        self.assert_rejected(result, EX_DATAERR, "chapar.toml exists; not overwriting it")
        with open(config) as f:
            self.assertEqual(f.read(), before)

    def test_init_rejects_bad_options(self):
        site = os.path.join(self.dir, "site")
        for args, status, says in [
            ((), EX_USAGE, "'init' needs --dir"),
            (("--dir", site, "--port-base", "70000"), EX_DATAERR, "out of range"),
            (("--dir", site, "--domain", "exa mple.test"), EX_DATAERR, "--domain:"),
            (("--dir", site, "--hostname", "bad..name"), EX_DATAERR, "--hostname:"),
            (("--dir", site, "--config", "x"), EX_USAGE, "does not apply to 'init'"),
        ]:
            with self.subTest(args=args):
                self.assert_rejected(run_ctl("init", *args, check=False), status, says)
        self.assertFalse(os.path.exists(site))

    def test_missing_configuration(self):
        missing = os.path.join(self.dir, "nowhere.toml")
        result = run_ctl("--config", missing, "stats", check=False)
        self.assert_rejected(result, EX_CONFIG, missing + ": configuration file not found")
        env = dict(os.environ, CHAPAR_CONFIG=missing)
        self.assert_rejected(run_ctl("domain", "list", env=env, check=False), EX_CONFIG,
                             "configuration file not found")

    def test_invalid_configuration(self):
        config = os.path.join(self.dir, "chapar.toml")
        with open(config, "w") as f:
            f.write("[server]\nlog_level = \"chatty\"\n")
        result = run_ctl("--config", config, "stats", check=False)
        self.assert_rejected(result, EX_CONFIG, config + ":2")
        self.assertIn("log_level", result.stderr)


class AdministrationTest(ChaparctlTestCase):
    def setUp(self):
        self.chapar = Chapar()
        self.addCleanup(self.chapar.close)

    def ctl(self, *args, input=None):
        return self.chapar.ctl(*args, input=input).stdout

    def test_harness_installation(self):
        self.assertEqual(self.ctl("domain", "list"), "example.test\n")
        self.assertEqual(sorted(self.ctl("user", "list").split()),
                         ["alice@example.test", "bob@example.test"])
        self.assertEqual(self.chapar.users["alice@example.test"], "alice-pw")

    def test_domains(self):
        self.assertEqual(self.ctl("domain", "add", "Second.Test"), "added domain second.test\n")
        self.assertEqual(self.ctl("domain", "list"), "example.test\nsecond.test\n")
        self.ctl("domain", "remove", "second.test")
        self.assertEqual(self.ctl("domain", "list"), "example.test\n")

    def test_users(self):
        self.ctl("user", "add", "carol@example.test", "--password-stdin", "--quota", "2M",
                 input="carol-pw\n")
        self.assertIn("carol@example.test\n", self.ctl("user", "list", "example.test"))
        show = self.ctl("user", "show", "carol@example.test")
        self.assertIn("quota:     2097152 bytes", show)
        self.assertIn("used:      0 bytes", show)
        mailboxes = self.ctl("mailbox", "list", "carol@example.test")
        for name in ["INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"]:
            self.assertRegex(mailboxes, r"(?m)^{} ".format(name))
        self.ctl("user", "quota", "carol@example.test", "0")
        self.assertIn("quota:     unlimited", self.ctl("user", "show", "carol@example.test"))
        self.ctl("user", "remove", "carol@example.test")
        self.assertNotIn("carol", self.ctl("user", "list"))

    def test_aliases(self):
        self.ctl("alias", "add", "sales@example.test", "alice@example.test")
        self.ctl("alias", "add", "@example.test", "bob@example.test")
        self.assertEqual(
            sorted(self.ctl("alias", "list").splitlines()),
            ["@example.test -> bob@example.test", "sales@example.test -> alice@example.test"])
        self.assertIn("alias:     sales@example.test",
                      self.ctl("user", "show", "alice@example.test"))
        self.ctl("alias", "remove", "@example.test")
        self.assertEqual(self.ctl("alias", "list"), "sales@example.test -> alice@example.test\n")

    def test_stats(self):
        stats = dict(line.split(":") for line in self.ctl("stats").splitlines())
        stats = {key.strip(): int(value) for key, value in stats.items()}
        self.assertEqual(stats["domains"], 1)
        self.assertEqual(stats["accounts"], 2)
        self.assertEqual(stats["mailboxes"], 12)
        self.assertEqual(stats["messages"], 0)
        self.assertEqual(stats["queued"], 0)

    def test_password_prompt_needs_a_terminal(self):
        # No --password-stdin and no controlling terminal (a new session has none).
        result = run_ctl("--config", self.chapar.config_path, "user", "passwd",
                         "alice@example.test", check=False, input="", new_session=True)
        self.assert_rejected(result, EX_DATAERR, "give it with --password-stdin")

    def test_wrong_input_is_rejected(self):
        cases = [
            (("frobnicate",), EX_USAGE, "unknown command 'frobnicate'"),
            (("user",), EX_USAGE, "'user' needs a subcommand"),
            (("user", "rename", "a@example.test"), EX_USAGE, "unknown command 'user rename'"),
            (("user", "add"), EX_USAGE, "wrong number of arguments"),
            (("user", "add", "x@example.test", "--color"), EX_USAGE, "unknown option"),
            (("domain", "add", "example.test"), EX_DATAERR, "domain example.test exists"),
            (("domain", "add", "--", "-bad-.test"), EX_DATAERR, "may not begin or end with '-'"),
            (("domain", "remove", "nowhere.test"), EX_NOUSER, "unknown domain nowhere.test"),
            (("domain", "remove", "example.test"), EX_DATAERR, "still has 2 account(s)"),
            (("user", "add", "carol@nowhere.test", "--password-stdin"), EX_NOUSER,
             "unknown domain nowhere.test"),
            (("user", "add", "Alice@example.test", "--password-stdin"), EX_DATAERR,
             "account alice@example.test exists"),
            (("user", "add", "carol.example.test", "--password-stdin"), EX_DATAERR,
             "not an address"),
            (("user", "add", "ca rol@example.test", "--password-stdin"), EX_DATAERR,
             "invalid character in local part"),
            (("user", "add", "carol@example.test", "--password-stdin", "--quota", "1Q"),
             EX_DATAERR, "not a size"),
            (("user", "passwd", "nobody@example.test", "--password-stdin"), EX_NOUSER,
             "no account nobody@example.test"),
            (("user", "remove", "nobody@example.test"), EX_NOUSER, "no account"),
            (("user", "show", "nobody"), EX_DATAERR, "not an address"),
            (("alias", "add", "info@example.test", "nobody@example.test"), EX_NOUSER,
             "no account nobody@example.test"),
            (("alias", "add", "info@nowhere.test", "alice@example.test"), EX_NOUSER,
             "unknown domain nowhere.test"),
            (("alias", "add", "bob@example.test", "alice@example.test"), EX_DATAERR,
             "bob@example.test is an account"),
            (("alias", "remove", "info@example.test"), EX_NOUSER, "no alias info@example.test"),
            (("mailbox", "list", "nobody@example.test"), EX_NOUSER, "no account"),
        ]
        for args, status, says in cases:
            with self.subTest(args=args):
                result = self.chapar.ctl(*args, input="pw\n", check=False)
                self.assert_rejected(result, status, says)
        self.assertEqual(sorted(self.ctl("user", "list").split()),
                         ["alice@example.test", "bob@example.test"])
        self.assertEqual(self.ctl("alias", "list"), "")

    def test_empty_password_on_stdin(self):
        for text in ["", "\n", "\r\n"]:
            with self.subTest(input=text):
                result = self.chapar.ctl("user", "passwd", "alice@example.test",
                                         "--password-stdin", input=text, check=False)
                self.assertEqual(result.returncode, EX_DATAERR)
                self.assertRegex(result.stderr, r"\Achaparctl: (empty|no) password")

    def test_ctl_failure_carries_the_message(self):
        with self.assertRaises(CommandFailed) as caught:
            self.chapar.ctl("user", "show", "nobody@example.test")
        self.assertIn("no account nobody@example.test", str(caught.exception))


class HarnessConfigTest(unittest.TestCase):
    def test_merge_replaces_adds_and_appends(self):
        base = ('[server]\nhostname = "a"\nlog_level = "info"  # comment\n\n'
                '[[smtpd.listeners]]\nname = "smtp"\nport = 0\n')
        merged = merge_toml(base, '[server]\nlog_level = "debug"\nuser = ""\n'
                                  '[smtpd]\nmax_recipients = 5\nretry_delays_seconds = [\n'
                                  '  1,\n  2,\n]\n[[smtpd.listeners]]\nname = "submission"\n')
        self.assertIn('log_level = "debug"\nuser = ""\n', merged)
        self.assertNotIn('"info"', merged)
        self.assertEqual(merged.count("[[smtpd.listeners]]"), 2)
        self.assertIn("retry_delays_seconds = [\n  1,\n  2,\n]\n", merged)
        again = merge_toml(merged, "[smtpd]\nretry_delays_seconds = [3]\n")
        self.assertIn("retry_delays_seconds = [3]\n", again)
        self.assertNotIn("  1,", again)

    def test_extra_config_reaches_the_loader(self):
        with Chapar(users={}, extra_config="[smtpd]\nmax_recipients = 5\n"
                                            "[auth]\nfailure_delay_ms = 10\n") as chapar:
            text = chapar.config_text()
            self.assertIn("max_recipients = 5", text)
            self.assertRegex(text, r"(?m)^port = 0$")
            self.assertNotRegex(text, r"(?m)^port = [1-9]")
            chapar.ctl("stats")  # the merged file loads
            self.assertEqual(chapar.ctl("user", "list").stdout, "")
        self.assertFalse(os.path.exists(chapar.dir))


class EmbeddedDefaultTest(unittest.TestCase):
    """The installation chaparctl init makes serves on every listener."""

    def test_daemons_start_on_free_ports_and_stop_on_sigterm(self):
        with Chapar() as chapar:
            chapar.start("smtpd", "pop3d", "imapd")
            names = ["smtp", "submission", "submissions", "pop3", "pop3s", "imap", "imaps"]
            self.assertEqual(sorted(chapar.ports), sorted(names))
            self.assertEqual(len(set(chapar.ports.values())), len(names))
            for name in names:
                with socket.create_connection(("127.0.0.1", chapar.ports[name]), timeout=10):
                    pass
            for daemon in ["smtpd", "pop3d", "imapd"]:
                self.assertEqual(chapar.stop(daemon, signal.SIGTERM), 0, chapar.log(daemon))

    def test_changed_password_takes_effect(self):
        with Chapar() as chapar:
            chapar.start("pop3d")
            chapar.ctl("user", "passwd", "alice@example.test", "--password-stdin",
                       input="new-secret\n")
            context = ssl.create_default_context(cafile=chapar.cert_path)
            context.check_hostname = False

            def login(password):
                client = poplib.POP3_SSL("127.0.0.1", chapar.ports["pop3s"], context=context,
                                         timeout=30)
                try:
                    client.user("alice@example.test")
                    client.pass_(password)
                    return True
                except poplib.error_proto:
                    return False
                finally:
                    client.close()

            self.assertTrue(login("new-secret"))
            self.assertFalse(login("alice-pw"))


if __name__ == "__main__":
    unittest.main()
