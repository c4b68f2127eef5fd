# SPDX-License-Identifier: AGPL-3.0-or-later
"""Runs a throw-away Chapar installation for integration tests (standard library only).

    with Chapar() as chapar:                 # chaparctl init in a temporary directory,
        chapar.start("smtpd", "imapd")        # every listener on a free port
        smtp = smtplib.SMTP("127.0.0.1", chapar.ports["smtp"])
        ...

Chapar(domain, users, extra_config) runs `chaparctl init --dir TMP --domain DOMAIN
--hostname mail.DOMAIN`, sets every listener's port to 0 (the daemons bind free ports and log
them), merges `extra_config` into the file and adds the users (local part or full address ->
password). start() runs $CHAPAR_BIN/chapar-<daemon> --config FILE and returns once each of its
listeners has logged `event=listening name=NAME ... port=PORT` and the daemon has logged
`event=started` (it is then serving and handles signals); the ports are then in self.ports by
listener name. Everything a daemon writes to stderr is kept (self.log(daemon)).

close() stops the daemons and removes the directory. It fails (AssertionError) when a daemon
died on its own, did not exit cleanly on SIGTERM, or its log holds a sanitizer report, so
that tests notice crashes they did not provoke.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import types

DEFAULT_USERS = types.MappingProxyType({"alice": "alice-pw", "bob": "bob-pw"})

START_TIMEOUT = 20  # seconds for a daemon to report all its listeners
STOP_TIMEOUT = 20  # seconds for a daemon to exit after SIGTERM
COMMAND_TIMEOUT = 120  # seconds for one chaparctl run

_LISTENING = re.compile(r"\bevent=listening\b.*?\bname=(\S+).*?\bport=(\d+)")
# Logged once the daemon has installed its signal handlers and accepts connections.
_STARTED = re.compile(r"\bevent=started\b")
_SANITIZER = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]\s]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\-\"]+)\s*=")


def bin_dir():
    """Where the binaries are: $CHAPAR_BIN, else build/test/bin of this checkout."""
    path = os.environ.get("CHAPAR_BIN")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "build", "test", "bin")
    return os.path.abspath(path)


class CommandFailed(subprocess.CalledProcessError):
    """A chaparctl run with a non-zero exit; str() shows its output."""

    def __str__(self):
        return "{} exited {}\nstdout: {}\nstderr: {}".format(
            " ".join(self.cmd), self.returncode, self.stdout, self.stderr)


class DaemonFailed(RuntimeError):
    """A daemon exited or stayed silent before all its listeners were up."""

    def __init__(self, message, returncode, log):
        super().__init__("{}\n--- log ---\n{}".format(message, log))
        self.returncode = returncode
        self.log = log


def run_ctl(*args, input=None, check=True, env=None, new_session=False):
    """Runs $CHAPAR_BIN/chaparctl with exactly these arguments (text in, text out).
    With `new_session` it runs without a controlling terminal."""
    cmd = [os.path.join(bin_dir(), "chaparctl"), *map(str, args)]
    result = subprocess.run(cmd, input=input, capture_output=True, text=True, env=env,
                            timeout=COMMAND_TIMEOUT, start_new_session=new_session)
    if check and result.returncode != 0:
        raise CommandFailed(result.returncode, cmd, result.stdout, result.stderr)
    return result


def wait_for(predicate, timeout=20, message="condition"):
    """Polls `predicate` until it returns something true, which is returned. Raises
    TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after {} s waiting for {}".format(timeout, message))
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.1)


# --- Configuration rewriting -------------------------------------------------------------
#
# The file is handled as a list of blocks: a header line ("[table]" or "[[array]]", None for
# the keys before the first header) with its entries; an entry is a key (None for comments
# and blank lines) with its lines (a value may span lines, e.g. an array).


def _bracket_depth(line):
    depth = 0
    quote = None
    escaped = False
    for c in line:
        if quote:
            if escaped:
                escaped = False
            elif c == "\\" and quote == '"':
                escaped = True
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            break
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
    return depth


def _parse_blocks(text):
    blocks = [[None, None, []]]  # [kind, table name, entries]
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _HEADER.match(line)
        if header:
            kind = "array" if header.group(1) == "[[" else "table"
            blocks.append([kind, header.group(2), [(None, [line])]])
            i += 1
            continue
        key = _KEY.match(line)
        if key:
            entry_lines = [line]
            depth = _bracket_depth(line)
            while depth > 0 and i + 1 < len(lines):
                i += 1
                entry_lines.append(lines[i])
                depth += _bracket_depth(lines[i])
            blocks[-1][2].append((key.group(1).strip('"'), entry_lines))
        else:
            blocks[-1][2].append((None, [line]))
        i += 1
    return blocks


def _render_blocks(blocks):
    out = []
    for _, _, entries in blocks:
        for _, entry_lines in entries:
            out.extend(entry_lines)
    return "\n".join(out) + "\n"


def _set_entry(entries, key, entry_lines):
    for n, (existing, _) in enumerate(entries):
        if existing == key:
            entries[n] = (key, entry_lines)
            return
    position = len(entries)
    while position > 0 and entries[position - 1][0] is None and \
            not entries[position - 1][1][0].strip():
        position -= 1  # before trailing blank lines
    entries.insert(position, (key, entry_lines))


def merge_toml(base, extra):
    """`base` with the keys of `extra` set: a key of a table present in both replaces the one
    in `base` or is added to it; tables only in `extra` and every [[array]] block of `extra`
    are appended."""
    blocks = _parse_blocks(base)
    for kind, name, entries in _parse_blocks(extra):
        keyed = [(k, v) for k, v in entries if k is not None]
        if kind == "array":
            blocks.append([kind, name, [(None, [""])] + entries])
            continue
        target = next((b for b in blocks if b[0] == kind and b[1] == name), None)
        if target is None:
            if keyed:
                blocks.append([kind, name, [(None, [""])] + entries])
            continue
        for key, entry_lines in keyed:
            _set_entry(target[2], key, entry_lines)
    return _render_blocks(blocks)


def _zero_listener_ports(text):
    blocks = _parse_blocks(text)
    for kind, name, entries in blocks:
        if kind == "array" and name.endswith(".listeners"):
            _set_entry(entries, "port", ["port = 0"])
    return _render_blocks(blocks)


def _listener_names(text, daemon):
    """The names of the [[DAEMON.listeners]] in the configuration text."""
    names = []
    for kind, name, entries in _parse_blocks(text):
        if kind == "array" and name == daemon + ".listeners":
            for key, entry_lines in entries:
                if key == "name":
                    value = entry_lines[0].split("=", 1)[1].split("#", 1)[0].strip()
                    names.append(value.strip("\"'"))
    return names


# --- Daemons ----------------------------------------------------------------------------


class _Daemon:
    """One running chapar-<name>, with a thread copying its stderr into a buffer."""

    def __init__(self, name, argv, env):
        self.name = name
        self.lines = []
        self.lock = threading.Condition()
        self.eof = False
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=env)
        self.thread = threading.Thread(target=self._read, name="log-" + name, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace")
            with self.lock:
                self.lines.append(line)
                self.lock.notify_all()
        with self.lock:
            self.eof = True
            self.lock.notify_all()

    def text(self):
        with self.lock:
            return "".join(self.lines)

    def wait_listening(self, expected, deadline):
        """Ports by listener name once all `expected` names were logged and the daemon has
        said it started."""
        ports = {}
        started = False
        seen = 0
        with self.lock:
            while True:
                for line in self.lines[seen:]:
                    match = _LISTENING.search(line)
                    if match:
                        ports[match.group(1)] = int(match.group(2))
                    started = started or bool(_STARTED.search(line))
                seen = len(self.lines)
                if started and all(name in ports for name in expected):
                    return ports
                if self.eof:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.lock.wait(remaining)
        returncode = self.process.poll()
        if returncode is None:
            missing = sorted(set(expected) - set(ports))
            reason = "chapar-{} did not report {} within {} s".format(
                self.name, "listeners {}".format(missing) if missing else "event=started",
                START_TIMEOUT)
        else:
            reason = "chapar-{} exited with status {} while starting".format(self.name, returncode)
        raise DaemonFailed(reason, returncode, self.text())

    def send(self, sig):
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def wait(self, timeout):
        returncode = self.process.wait(timeout=timeout)
        self.thread.join(timeout=timeout)
        return returncode


class Chapar:
    """A Chapar installation in a temporary directory; see the module documentation."""

    def __init__(self, domain="example.test", users=DEFAULT_USERS, extra_config=""):
        self.domain = domain
        self.hostname = "mail." + domain
        self.dir = tempfile.mkdtemp(prefix="chapar-it-")
        self.config_path = os.path.join(self.dir, "chapar.toml")
        self.data_dir = os.path.join(self.dir, "data")
        self.cert_path = os.path.join(self.dir, "tls", "cert.pem")
        self.key_path = os.path.join(self.dir, "tls", "key.pem")
        self.bin_dir = bin_dir()
        self.ports = {}
        self.users = {}  # full address -> password
        self._daemons = {}
        self._finished = []  # (daemon, returncode, log) of daemons that are gone
        try:
            run_ctl("init", "--dir", self.dir, "--domain", domain, "--hostname", self.hostname)
            with open(self.config_path, encoding="utf-8") as f:
                text = _zero_listener_ports(f.read())
            self._write_config(merge_toml(text, extra_config) if extra_config else text)
            for user, password in users.items():
                self.add_user(user, password)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    # --- configuration and administration ---

    def address(self, user):
        """The full address of a user given by local part (or already in full)."""
        return user if "@" in user else "{}@{}".format(user, self.domain)

    def add_user(self, user, password):
        address = self.address(user)
        self.ctl("user", "add", address, "--password-stdin", input=password + "\n")
        self.users[address] = password
        return address

    def config_text(self):
        with open(self.config_path, encoding="utf-8") as f:
            return f.read()

    def merge_config(self, extra):
        """Sets the keys in the TOML text `extra` (see merge_toml); takes effect for daemons
        started (or reloaded with SIGHUP) afterwards."""
        self._write_config(merge_toml(self.config_text(), extra))

    def _write_config(self, text):
        temporary = self.config_path + ".new"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, self.config_path)

    def ctl(self, *args, input=None, check=True):
        """Runs chaparctl --config FILE ARGS...; raises CommandFailed on a non-zero exit when
        `check`."""
        return run_ctl("--config", self.config_path, *args, input=input, check=check)

    # --- daemons ---

    def start(self, *daemons):
        """Starts each daemon ("smtpd", "pop3d", "imapd") and waits until all its listeners
        are up; their ports are then in self.ports."""
        for name in daemons:
            if name in self._daemons:
                raise RuntimeError("chapar-{} is already running".format(name))
            expected = _listener_names(self.config_text(), name)
            argv = [os.path.join(self.bin_dir, "chapar-" + name), "--config", self.config_path]
            daemon = _Daemon(name, argv, os.environ.copy())
            try:
                ports = daemon.wait_listening(expected, time.monotonic() + START_TIMEOUT)
            except DaemonFailed:
                daemon.send(signal.SIGKILL)
                daemon.wait(STOP_TIMEOUT)
                raise
            self._daemons[name] = daemon
            self.ports.update(ports)

    def running(self, daemon):
        entry = self._daemons.get(daemon)
        return entry is not None and entry.process.poll() is None

    def pid(self, daemon):
        return self._daemons[daemon].process.pid

    def log(self, daemon):
        """Everything the daemon has written to stderr so far (also after it stopped)."""
        if daemon in self._daemons:
            return self._daemons[daemon].text()
        for name, _, text in reversed(self._finished):
            if name == daemon:
                return text
        return ""

    def wait_for_log(self, daemon, pattern, timeout=20):
        """Waits until the daemon's log matches the regular expression; returns the match."""
        regex = re.compile(pattern)
        return wait_for(lambda: regex.search(self.log(daemon)), timeout,
                        "/{}/ in the log of chapar-{}".format(pattern, daemon))

    def send_signal(self, daemon, sig):
        """Sends a signal (e.g. SIGHUP) without waiting for anything."""
        self._daemons[daemon].process.send_signal(sig)

    def stop(self, daemon, sig=signal.SIGTERM):
        """Sends `sig` and waits for the daemon to exit; returns its exit status."""
        entry = self._daemons.pop(daemon)
        entry.send(sig)
        try:
            returncode = entry.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            entry.send(signal.SIGKILL)
            entry.wait(STOP_TIMEOUT)
            self._finished.append((daemon, None, entry.text()))
            raise AssertionError("chapar-{} did not exit within {} s of signal {}\n{}".format(
                daemon, STOP_TIMEOUT, sig, entry.text()))
        self._finished.append((daemon, returncode, entry.text()))
        return returncode

    def kill(self, daemon):
        """SIGKILL: the daemon gets no chance to clean up."""
        return self.stop(daemon, signal.SIGKILL)

    def restart(self, daemon):
        """Stops (SIGTERM) and starts the daemon again. Its ports change."""
        self.stop(daemon)
        self.start(daemon)

    def wait_for(self, predicate, timeout=20, message="condition"):
        return wait_for(predicate, timeout, message)

    # --- teardown ---

    def close(self):
        """Stops every daemon, removes the directory, then fails if a daemon misbehaved."""
        problems = []
        for name in list(self._daemons):
            entry = self._daemons[name]
            died = entry.process.poll()
            if died is not None:
                problems.append("chapar-{} exited on its own with status {}".format(name, died))
                self._daemons.pop(name)
                entry.wait(STOP_TIMEOUT)
                self._finished.append((name, died, entry.text()))
                continue
            try:
                returncode = self.stop(name)
            except AssertionError as e:
                problems.append(str(e))
                continue
            if returncode != 0:
                problems.append("chapar-{} exited with status {} after SIGTERM".format(
                    name, returncode))
        for name, _, text in self._finished:
            if _SANITIZER.search(text):
                problems.append("chapar-{} reported a sanitizer error".format(name))
        logs = {name: text for name, _, text in self._finished}
        self._finished = []
        shutil.rmtree(self.dir, ignore_errors=True)
        if problems:
            raise AssertionError("\n".join(problems) + "".join(
                "\n--- chapar-{} ---\n{}".format(n, t) for n, t in logs.items()))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.close()
        except AssertionError as problem:
            if exc is None:
                raise
            # The test's own failure is the one to report; keep the daemons' story beside it.
            exc.add_note(str(problem))
        return False
