# SPDX-License-Identifier: AGPL-3.0-or-later
"""Load generators for IMAP and POP3, standard library only, for either stack by host and port.

    python3 bench/load.py pop3 --port P --users user051@bench.test,... [--clients 50]
    python3 bench/load.py imap --port P --users ... [--clients 50] [--seconds 30]
    python3 bench/load.py idle --port P --users ... --connections 1000

Each prints one JSON object on stdout. pop3 and imap spread their clients over --processes
worker processes (threads inside each), so that the Python interpreter is not the only thing
measured; every client logs in as users[i % len(users)] with --password.
bench/load_client.cpp implements pop3 and imap alike (same options, counts and JSON) at a
fraction of the CPU; bench/check_load_client.py checks that the two agree.

pop3: each client logs in, retrieves every message of its maildrop (RETR 1..STAT count),
without deleting, and quits. Result: messages, octets, seconds, messages_per_second.

imap: each client repeats, until --seconds have passed: connect, LOGIN, SELECT INBOX,
FETCH 1:* (FLAGS ENVELOPE), FETCH 100 consecutive messages BODY.PEEK[] from a random start,
STORE +FLAGS/-FLAGS (\\Flagged) alternately on those 100, SEARCH SUBJECT, LOGOUT. Each
command answered OK counts as one operation. Result: operations, operations_per_second, octets
(of the literals in the answers to those operations), and per command: count and mean latency.

idle: opens --connections connections, each LOGIN, SELECT INBOX, IDLE; prints
{"idling": N, ...} once all are idling (or when no more can be opened), then holds them
until its standard input is closed, then closes them all.
"""

import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import socket
import sys
import threading
import time


class ProtocolError(Exception):
    pass


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def imap_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Imap:
    """A blocking IMAP client that reads whole responses, literals included."""

    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = self.sock.makefile("rb", buffering=256 * 1024)
        self.tag = 0
        greeting = self.reader.readline()
        if not greeting.startswith(b"* OK"):
            raise ProtocolError("greeting: %r" % greeting[:200])

    def command(self, text):
        """Sends one command; returns (status, untagged lines without their literals' data,
        octets of literal data)."""
        self.tag += 1
        tag = b"a%d" % self.tag
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        untagged = []
        literal_octets = 0
        prefix = tag + b" "
        while True:
            line = self.reader.readline()
            if not line:
                raise ProtocolError("connection closed during %s" % text.split()[0])
            while line.endswith(b"}\r\n"):
                start = line.rfind(b"{")
                size = int(line[start + 1:-3].rstrip(b"+"))
                data = self.reader.read(size)
                if len(data) != size:
                    raise ProtocolError("connection closed in a literal")
                literal_octets += size
                line = self.reader.readline()
            if line.startswith(prefix):
                status = line[len(prefix):].split(b" ", 1)[0].decode()
                return status, untagged, literal_octets
            untagged.append(line)

    def close(self):
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass


def exists_of(untagged):
    for line in untagged:
        parts = line.split()
        if len(parts) >= 3 and parts[2] == b"EXISTS":
            return int(parts[1])
    return 0


IMAP_COMMANDS = ("LOGIN", "SELECT", "FETCH_ENVELOPE", "FETCH_BODIES", "STORE", "SEARCH",
                 "LOGOUT")


def imap_client(args, index, deadline, stats, lock):
    user = args.users[index % len(args.users)]
    rng = random.Random(index)
    local = {name: [0, 0.0] for name in IMAP_COMMANDS}
    errors = 0
    cycles = 0
    octets = 0
    add = True
    while time.monotonic() < deadline:
        conn = None
        try:
            conn = Imap(args.host, args.port, args.timeout)
            exists = 0
            for name in IMAP_COMMANDS:
                if time.monotonic() >= deadline:
                    break
                if name == "LOGIN":
                    text = "LOGIN %s %s" % (imap_quote(user), imap_quote(args.password))
                elif name == "SELECT":
                    text = "SELECT INBOX"
                elif name == "FETCH_ENVELOPE":
                    text = "FETCH 1:* (FLAGS ENVELOPE)"
                elif name == "FETCH_BODIES":
                    first = rng.randint(1, max(1, exists - 99))
                    last = min(exists, first + 99)
                    text = "FETCH %d:%d BODY.PEEK[]" % (first, last)
                elif name == "STORE":
                    text = "STORE %d:%d %sFLAGS (\\Flagged)" % (first, last, "+" if add else "-")
                    add = not add
                elif name == "SEARCH":
                    text = "SEARCH SUBJECT %s" % imap_quote(args.search)
                else:
                    text = "LOGOUT"
                began = time.monotonic()
                status, untagged, literal_octets = conn.command(text)
                ended = time.monotonic()
                if status != "OK":
                    raise ProtocolError("%s answered %s" % (text.split()[0], status))
                if name == "SELECT":
                    exists = exists_of(untagged)
                    if exists == 0:
                        raise ProtocolError("INBOX of %s is empty" % user)
                if ended <= deadline:
                    local[name][0] += 1
                    local[name][1] += ended - began
                    octets += literal_octets
            else:
                cycles += 1
        except (OSError, ProtocolError) as e:
            errors += 1
            if errors <= 3:
                print("imap client %d: %s" % (index, e), file=sys.stderr)
        finally:
            if conn:
                conn.close()
    with lock:
        for name, (count, seconds) in local.items():
            stats[name][0] += count
            stats[name][1] += seconds
        stats["errors"] += errors
        stats["cycles"] += cycles
        stats["octets"] += octets


def pop3_read_line(reader):
    line = reader.readline()
    if not line:
        raise ProtocolError("connection closed")
    return line


def pop3_command(sock, reader, text):
    sock.sendall(text.encode() + b"\r\n")
    line = pop3_read_line(reader)
    if not line.startswith(b"+OK"):
        raise ProtocolError("%s: %r" % (text.split()[0], line[:200]))
    return line


def pop3_client(args, index, deadline, stats, lock):
    user = args.users[index % len(args.users)]
    messages = octets = errors = 0
    try:
        sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
        reader = sock.makefile("rb", buffering=256 * 1024)
        if not pop3_read_line(reader).startswith(b"+OK"):
            raise ProtocolError("greeting")
        pop3_command(sock, reader, "USER " + user)
        pop3_command(sock, reader, "PASS " + args.password)
        count = int(pop3_command(sock, reader, "STAT").split()[1])
        for number in range(1, count + 1):
            pop3_command(sock, reader, "RETR %d" % number)
            while True:
                line = pop3_read_line(reader)
                if line == b".\r\n":
                    break
                octets += len(line)
            messages += 1
        pop3_command(sock, reader, "QUIT")
        sock.close()
    except (OSError, ProtocolError) as e:
        errors += 1
        print("pop3 client %d: %s" % (index, e), file=sys.stderr)
    with lock:
        stats["messages"] += messages
        stats["octets"] += octets
        stats["errors"] += errors


def worker(args, mode, indexes, go, results):
    """One process: a thread per client, started together when `go` is set."""
    raise_fd_limit()
    stats = {"messages": 0, "octets": 0, "errors": 0, "cycles": 0}
    for name in IMAP_COMMANDS:
        stats[name] = [0, 0.0]
    lock = threading.Lock()
    target = imap_client if mode == "imap" else pop3_client
    go.wait()
    deadline = time.monotonic() + args.seconds
    threads = [threading.Thread(target=target, args=(args, i, deadline, stats, lock))
               for i in indexes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put(stats)


def run_workers(args, mode):
    go = multiprocessing.Event()
    results = multiprocessing.Queue()
    processes = []
    for p in range(args.processes):
        indexes = list(range(p, args.clients, args.processes))
        proc = multiprocessing.Process(target=worker, args=(args, mode, indexes, go, results))
        proc.start()
        processes.append(proc)
    time.sleep(0.2)  # let the workers reach go.wait(); the clock starts at go.set()
    began = time.monotonic()
    go.set()
    totals = [results.get() for _ in processes]
    seconds = time.monotonic() - began
    for proc in processes:
        proc.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    merged = {"messages": 0, "octets": 0, "errors": 0, "cycles": 0}
    for name in IMAP_COMMANDS:
        merged[name] = [0, 0.0]
    # The load generator's own CPU time: near processes x seconds, it is the limit.
    merged["client_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    for stats in totals:
        for key, value in stats.items():
            if isinstance(value, list):
                merged[key][0] += value[0]
                merged[key][1] += value[1]
            else:
                merged[key] += value
    return merged, seconds


def cmd_pop3(args):
    args.seconds = 1e9  # pop3 clients stop when done, not at a deadline
    stats, seconds = run_workers(args, "pop3")
    return {
        "workload": "pop3",
        "clients": args.clients,
        "messages": stats["messages"],
        "octets": stats["octets"],
        "errors": stats["errors"],
        "seconds": round(seconds, 3),
        "messages_per_second": round(stats["messages"] / seconds, 1),
        "client_cpu_seconds": stats["client_cpu_seconds"],
    }


def cmd_imap(args):
    stats, _ = run_workers(args, "imap")
    operations = sum(stats[name][0] for name in IMAP_COMMANDS)
    return {
        "workload": "imap",
        "clients": args.clients,
        "seconds": args.seconds,
        "operations": operations,
        "operations_per_second": round(operations / args.seconds, 1),
        "octets": stats["octets"],
        "cycles": stats["cycles"],
        "errors": stats["errors"],
        "client_cpu_seconds": stats["client_cpu_seconds"],
        "commands": {
            name: {"count": stats[name][0],
                   "mean_ms": round(1000 * stats[name][1] / stats[name][0], 2)
                   if stats[name][0] else None}
            for name in IMAP_COMMANDS
        },
    }


async def idle_connection(args, index, gate, writers):
    user = args.users[index % len(args.users)]
    async with gate:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(args.host, args.port, limit=1 << 20), args.timeout)
        try:
            greeting = await asyncio.wait_for(reader.readline(), args.timeout)
            if not greeting.startswith(b"* OK"):
                raise ProtocolError("greeting: %r" % greeting[:100])
            steps = [
                (b"a1 LOGIN %s %s\r\n" % (imap_quote(user).encode(),
                                          imap_quote(args.password).encode()), b"a1 "),
                (b"a2 SELECT INBOX\r\n", b"a2 "),
                (b"a3 IDLE\r\n", b"+"),
            ]
            for text, answer in steps:
                writer.write(text)
                while True:
                    line = await asyncio.wait_for(reader.readline(), args.timeout)
                    if not line:
                        raise ProtocolError("closed after %r" % text[:12])
                    if line.startswith(answer):
                        if answer != b"+" and not line[len(answer):].startswith(b"OK"):
                            raise ProtocolError("%r answered %r" % (text[:12], line[:100]))
                        break
        except BaseException:
            writer.close()
            raise
    writers.append((reader, writer))


async def idle_main(args):
    gate = asyncio.Semaphore(args.concurrency)
    writers = []
    began = time.monotonic()
    tasks = [asyncio.create_task(idle_connection(args, i, gate, writers))
             for i in range(args.connections)]
    errors = []
    for task in tasks:
        try:
            await task
        except (OSError, ProtocolError, asyncio.TimeoutError) as e:
            errors.append(repr(e))
    print(json.dumps({"workload": "idle", "requested": args.connections,
                      "idling": len(writers), "errors": len(errors),
                      "first_errors": errors[:3],
                      "seconds_to_open": round(time.monotonic() - began, 1)}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    for _, writer in writers:
        writer.close()


def cmd_idle(args):
    asyncio.run(idle_main(args))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["pop3", "imap", "idle"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--users", required=True, help="comma-separated login names")
    parser.add_argument("--password", default="bench-password")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--search", default="bench")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50,
                        help="idle: connections being set up at once")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    args.users = args.users.split(",")
    raise_fd_limit()
    if args.mode == "idle":
        cmd_idle(args)
        return
    result = cmd_pop3(args) if args.mode == "pop3" else cmd_imap(args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
