# SPDX-License-Identifier: AGPL-3.0-or-later
"""The Debian packages, end to end, on this machine (a Debian 12 system, as root).

Builds the packages with packaging/build-deb (a release build inside dpkg-buildpackage: the
slowest test), runs lintian on them, installs them with dpkg, checks what the installation
made (system user, configuration, mail store directory, units, man pages), has
systemd-analyze verify the units, then runs the installed daemons as the user chapar from
a copy of the packaged configuration with test ports: chapar-smtpd started as root and
dropping to server.user itself, chapar-pop3d and chapar-imapd started as chapar. Mail sent
with smtplib is read back with imaplib and poplib. Finally the packages are removed (the
mail store stays) and purged (the mail store and /etc/chapar go; the user stays).

It changes the system it runs on, so it runs only as root; it is skipped otherwise. Set
CHAPAR_DEB_DIR to a directory with already built .deb files to skip the build.
"""

import email.message
import glob
import imaplib
import os
import poplib
import pwd
import re
import shutil
import signal
import smtplib
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
PACKAGES = ["chapar", "chapar-common", "chapar-smtpd", "chapar-pop3d", "chapar-imapd"]
UNITS = ["chapar.target", "chapar-smtpd.service", "chapar-pop3d.service",
         "chapar-imapd.service"]
UNIT_DIR = "/lib/systemd/system"
CONFIG = "/etc/chapar/chapar.toml"
DATA_DIR = "/var/lib/chapar"
DOMAIN = "example.test"
HOSTNAME = "mail.example.test"

BUILD_TIMEOUT = 3600
COMMAND_TIMEOUT = 300
LOCK_TIMEOUT = 600  # seconds to wait for another apt or dpkg run to finish
START_TIMEOUT = 30
_LISTENING = re.compile(r"\bevent=listening\b.*?\bname=(\S+).*?\bport=(\d+)")


def run(*cmd, check=True, timeout=COMMAND_TIMEOUT, **kwargs):
    result = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout,
                            **kwargs)
    if check and result.returncode != 0:
        raise AssertionError("{} exited {}\nstdout: {}\nstderr: {}".format(
            " ".join(cmd), result.returncode, result.stdout, result.stderr))
    return result


def dpkg(*args, check=True):
    """dpkg with these arguments, once no other package manager holds the lock."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        result = run("dpkg", *args, check=False)
        if "lock" not in result.stderr or time.monotonic() >= deadline:
            break
        time.sleep(1)
    if check and result.returncode != 0:
        raise AssertionError("dpkg {} exited {}\nstdout: {}\nstderr: {}".format(
            " ".join(args), result.returncode, result.stdout, result.stderr))
    return result


def installed(package):
    result = run("dpkg-query", "-W", "-f=${db:Status-Status}", package, check=False)
    return result.returncode == 0 and result.stdout.strip() not in ("", "not-installed")


def wait_for(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after {} s waiting for {}".format(timeout, message))
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def leftovers():
    """Files and directories named after Chapar in the places packages write to. man-db's
    cache of formatted pages (made when systemd-analyze looked the pages up) is man-db's
    own, and it drops stale entries itself."""
    found = []
    for top in ("/etc", "/usr", "/lib", "/var/lib", "/var/cache", "/var/log"):
        for root, dirs, files in os.walk(top):
            if root.startswith("/var/cache/man"):
                continue
            for name in dirs + files:
                if "chapar" in name:
                    found.append(os.path.join(root, name))
    return sorted(found)


def free_ports(count):
    """Ports that were free on 127.0.0.1 a moment ago, all different."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_config(text, cert, key):
    """The packaged configuration with the test host name and certificate, and every
    listener on 127.0.0.1 at a free port (so that chaparctl check sees them bound)."""
    text = re.sub(r'(?m)^hostname = ".*"$', 'hostname = "{}"'.format(HOSTNAME), text)
    text = re.sub(r'(?m)^certificate = ".*"$', 'certificate = "{}"'.format(cert), text)
    text = re.sub(r'(?m)^key = ".*"$', 'key = "{}"'.format(key), text)
    text = re.sub(r'(?m)^address = ".*"$', 'address = "127.0.0.1"', text)
    ports = iter(free_ports(len(re.findall(r"(?m)^port = \d+$", text))))
    return re.sub(r"(?m)^port = \d+$", lambda _: "port = {}".format(next(ports)), text)


class Daemon:
    """One installed daemon, its stderr in a file."""

    def __init__(self, name, config, log_dir, as_user):
        self.name = name
        self.log_path = os.path.join(log_dir, name + ".log")
        self.log_file = open(self.log_path, "w")
        extra = {"user": "chapar", "group": "chapar", "extra_groups": []} if as_user else {}
        self.process = subprocess.Popen(["/usr/sbin/" + name, "--config", config],
                                        stdin=subprocess.DEVNULL, stdout=self.log_file,
                                        stderr=self.log_file, **extra)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_started(self):
        def started():
            if self.process.poll() is not None:
                raise AssertionError("{} exited {}:\n{}".format(
                    self.name, self.process.returncode, self.log()))
            return "event=started" in self.log()
        wait_for(started, START_TIMEOUT, self.name + " to start")
        return {m.group(1): int(m.group(2)) for m in _LISTENING.finditer(self.log())}

    def uid(self):
        with open("/proc/{}/status".format(self.process.pid)) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return [int(field) for field in line.split()[1:]]
        return []

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        return self.process.returncode


@unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0,
                     "installs Debian packages on this machine: runs only as root")
class PackagingTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="chapar-packaging-")
        os.chmod(cls.work, 0o755)
        given = os.environ.get("CHAPAR_DEB_DIR")
        if given:
            cls.deb_dir = given
        else:
            cls.deb_dir = os.path.join(cls.work, "debs")
            env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2 nocheck noddebs")
            started = time.monotonic()
            result = run(os.path.join(SOURCE, "packaging", "build-deb"), cls.deb_dir,
                         check=False, timeout=BUILD_TIMEOUT, env=env)
            cls.build_seconds = time.monotonic() - started
            if result.returncode != 0:
                raise AssertionError("packaging/build-deb failed:\n{}\n{}".format(
                    result.stdout[-6000:], result.stderr[-6000:]))
            print("packages built in {:.0f} s".format(cls.build_seconds), file=sys.stderr)
        cls.debs = {}
        for package in PACKAGES:
            found = glob.glob(os.path.join(cls.deb_dir, package + "_*.deb"))
            assert len(found) == 1, "no single {} package in {}".format(package, cls.deb_dir)
            cls.debs[package] = found[0]
        # A clean slate: an earlier installation on this machine goes first.
        present = [p for p in PACKAGES if installed(p)]
        if present:
            dpkg("--purge", *present)

    @classmethod
    def tearDownClass(cls):
        present = [p for p in PACKAGES if installed(p)]
        if present:
            dpkg("--purge", *present, check=False)
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_packages(self):
        self.check_lintian()
        dpkg("-i", *self.debs.values())
        self.check_installation()
        self.check_units()
        self.check_mail_flow()
        self.check_remove_and_purge()

    def check_lintian(self):
        result = run("lintian", "--fail-on", "error", "--tag-display-limit", "0",
                     *self.debs.values(), check=False)
        self.assertEqual(result.returncode, 0,
                         "lintian reports errors:\n" + result.stdout + result.stderr)
        self.assertNotRegex(result.stdout, r"(?m)^E: ")

    def check_installation(self):
        user = pwd.getpwnam("chapar")
        self.assertLess(user.pw_uid, 1000, "chapar is a system user")
        self.assertEqual(user.pw_dir, DATA_DIR)
        self.assertIn(user.pw_shell, ("/usr/sbin/nologin", "/bin/false"))

        info = os.stat(DATA_DIR)
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o750)
        self.assertEqual(info.st_uid, user.pw_uid)
        self.assertEqual(info.st_gid, user.pw_gid)

        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "chapar-common").stdout
        self.assertIn(CONFIG, conffiles)
        with open(CONFIG) as f:
            config = f.read()
        for port in (25, 587, 465, 110, 995, 143, 993):
            self.assertRegex(config, r"(?m)^port = {}$".format(port))
        self.assertIn('certificate = "/etc/letsencrypt/live/', config)
        self.assertIn('user = "chapar"', config)

        pages = {"chapar-common": ["man8/chaparctl.8.gz", "man5/chapar.toml.5.gz"],
                 "chapar-smtpd": ["man8/chapar-smtpd.8.gz"],
                 "chapar-pop3d": ["man8/chapar-pop3d.8.gz"],
                 "chapar-imapd": ["man8/chapar-imapd.8.gz"]}
        for package, names in pages.items():
            listed = run("dpkg", "-L", package).stdout.splitlines()
            for name in names:
                self.assertIn("/usr/share/man/" + name, listed, package)
        for program in ("/usr/sbin/chapar-smtpd", "/usr/sbin/chapar-pop3d",
                        "/usr/sbin/chapar-imapd", "/usr/bin/chaparctl"):
            self.assertTrue(os.access(program, os.X_OK), program)
        version = run("/usr/sbin/chapar-smtpd", "--version").stdout
        self.assertIn("chapar-smtpd", version)

    def check_units(self):
        paths = [os.path.join(UNIT_DIR, unit) for unit in UNITS]
        for path in paths:
            self.assertTrue(os.path.exists(path), path)
        result = run("systemd-analyze", "verify", *paths, check=False)
        self.assertEqual(result.returncode, 0,
                         "systemd-analyze verify:\n" + result.stdout + result.stderr)
        self.assertNotIn("chapar", result.stderr)

        for daemon in ("smtpd", "pop3d", "imapd"):
            with open(os.path.join(UNIT_DIR, "chapar-{}.service".format(daemon))) as f:
                unit = f.read()
            for setting in ("User=chapar", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes",
                            "ProtectSystem=strict", "ReadWritePaths=/var/lib/chapar",
                            "PrivateTmp=yes", "ProtectHome=yes", "PrivateDevices=yes",
                            "SystemCallFilter=@system-service",
                            "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                            "PartOf=chapar.target", "WantedBy=chapar.target"):
                self.assertRegex(unit, r"(?m)^" + re.escape(setting) + "$",
                                 "chapar-{}.service: {}".format(daemon, setting))
            # Enabled: chapar.target pulls the service in, and the system pulls the target.
            self.assertTrue(os.path.islink(
                "/etc/systemd/system/chapar.target.wants/chapar-{}.service".format(daemon)))
        self.assertTrue(os.path.islink("/etc/systemd/system/multi-user.target.wants/chapar.target"))

    def check_mail_flow(self):
        cert = os.path.join(self.work, "cert.pem")
        key = os.path.join(self.work, "key.pem")
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "30", "-subj", "/CN=" + HOSTNAME, "-addext",
            "subjectAltName=DNS:" + HOSTNAME, "-keyout", key, "-out", cert)
        shutil.chown(key, group="chapar")
        os.chmod(key, 0o640)
        config = os.path.join(self.work, "chapar.toml")
        with open(CONFIG) as f:
            text = test_config(f.read(), cert, key)
        with open(config, "w") as f:
            f.write(text)
        os.chmod(config, 0o644)

        # As root: quickstart switches to chapar before it creates the store.
        quickstart = run("/usr/bin/chaparctl", "--config", config, "quickstart",
                         "--domain", DOMAIN, "--hostname", HOSTNAME)
        password = re.search(r"password of postmaster@example\.test \(shown only now\): (\S+)",
                             quickstart.stdout)
        self.assertIsNotNone(password, quickstart.stdout)
        password = password.group(1)
        self.assertRegex(quickstart.stdout, r"(?m)^example\.test\.\s+3600 IN MX\s+10 "
                                            r"mail\.example\.test\.$")
        chapar = pwd.getpwnam("chapar")
        self.assertEqual(os.stat(os.path.join(DATA_DIR, "chapar.db")).st_uid, chapar.pw_uid)
        if "dkim generate" in run("/usr/bin/chaparctl", "--help").stdout:
            self.assertRegex(quickstart.stdout, r'(?m)^\S+\._domainkey\.example\.test\.\s+3600 IN '
                                                r'TXT\s+"v=DKIM1; k=')
            for name in os.listdir(os.path.join(DATA_DIR, "dkim")):
                path = os.path.join(DATA_DIR, "dkim", name)
                self.assertEqual(os.stat(path).st_uid, chapar.pw_uid, path)
        # As root too: chaparctl opens the store as chapar, so whatever SQLite creates in the
        # data directory (WAL, shared-memory index) stays usable by the daemons.
        run("/usr/bin/chaparctl", "--config", config, "user", "add", "bob@" + DOMAIN,
            "--password-stdin", input="bob-password\n")
        for directory, _, files in os.walk(DATA_DIR):
            for name in files:
                path = os.path.join(directory, name)
                self.assertEqual(os.stat(path).st_uid, chapar.pw_uid, path)

        daemons = []
        try:
            # chapar-smtpd drops root itself; the other two start as chapar.
            daemons.append(Daemon("chapar-smtpd", config, self.work, as_user=False))
            daemons.append(Daemon("chapar-pop3d", config, self.work, as_user=True))
            daemons.append(Daemon("chapar-imapd", config, self.work, as_user=True))
            ports = {}
            for daemon in daemons:
                ports.update(daemon.wait_started())
                self.assertEqual(daemon.uid(), [chapar.pw_uid] * 4, daemon.name)
            for name in ("smtp", "submission", "submissions", "pop3", "pop3s", "imap",
                         "imaps"):
                self.assertIn(name, ports)

            check = run("/usr/bin/chaparctl", "--config", config, "check", check=False)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            self.assertIn("is served by chapar-imapd", check.stdout)

            # SIGHUP: the key is read again by the user chapar.
            daemons[0].process.send_signal(signal.SIGHUP)
            wait_for(lambda: "event=tls_reloaded" in daemons[0].log(), START_TIMEOUT,
                     "the certificate to be reloaded")

            self.carry_mail(ports, password)
        finally:
            statuses = {d.name: d.stop() for d in daemons}
        for daemon in daemons:
            self.assertEqual(statuses[daemon.name], 0, daemon.log())

    def carry_mail(self, ports, password):
        postmaster = "postmaster@" + DOMAIN
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE

        incoming = email.message.EmailMessage()
        incoming["From"] = "someone@elsewhere.test"
        incoming["To"] = postmaster
        incoming["Subject"] = "from the outside"
        incoming.set_content("Delivered by the packaged chapar-smtpd.\n")
        with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=30) as smtp:
            smtp.starttls(context=tls)
            smtp.send_message(incoming)

        submitted = email.message.EmailMessage()
        submitted["From"] = "bob@" + DOMAIN
        submitted["To"] = postmaster
        submitted["Subject"] = "from bob"
        submitted.set_content("Submitted with authentication.\n")
        with smtplib.SMTP_SSL("127.0.0.1", ports["submissions"], context=tls,
                              timeout=30) as smtp:
            smtp.login("bob@" + DOMAIN, "bob-password")
            smtp.send_message(submitted)

        imap = imaplib.IMAP4("127.0.0.1", ports["imap"], timeout=30)
        try:
            imap.starttls(ssl_context=tls)
            imap.login(postmaster, password)
            status, data = imap.select("INBOX")
            self.assertEqual(status, "OK")
            self.assertEqual(int(data[0]), 2)
            status, data = imap.fetch("1:2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(status, "OK")
            subjects = b"".join(part[1] for part in data if isinstance(part, tuple))
            self.assertIn(b"from the outside", subjects)
            self.assertIn(b"from bob", subjects)
        finally:
            imap.logout()

        pop = poplib.POP3_SSL("127.0.0.1", ports["pop3s"], context=tls, timeout=30)
        try:
            pop.user(postmaster)
            pop.pass_(password)
            count, _ = pop.stat()
            self.assertEqual(count, 2)
            _, lines, _ = pop.retr(1)
            self.assertIn(b"Subject: from the outside", lines)
        finally:
            pop.quit()

    def check_remove_and_purge(self):
        dpkg("--remove", *PACKAGES)
        for package in PACKAGES:
            status = run("dpkg-query", "-W", "-f=${db:Status-Status}", package, check=False)
            self.assertNotEqual(status.stdout, "installed", package)
        self.assertFalse(os.path.exists("/usr/sbin/chapar-smtpd"))
        # Remove keeps the mail and the configuration.
        self.assertTrue(os.path.exists(os.path.join(DATA_DIR, "chapar.db")))
        self.assertTrue(os.path.exists(CONFIG))

        dpkg("--purge", *PACKAGES)
        for package in PACKAGES:
            self.assertFalse(installed(package), package)
        self.assertEqual(leftovers(), [])
        # The system user stays (it may own files elsewhere, such as backups).
        pwd.getpwnam("chapar")


if __name__ == "__main__":
    unittest.main()
