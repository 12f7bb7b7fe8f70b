"""What the benchmark scripts in ops/bench have in common (Python 3, stdlib only).

Every script (catchup, fanout, gateway, propagation, propagation3, scale,
search, site, sse, tree, upload_rate, webhook) starts its own pgxnd nodes on
free ports in a temp dir, adds accounts to the origin, publishes small
synthetic releases the way pgxn-release does (a multipart form posted to
/upload with Basic auth), polls the nodes over HTTP and prints percentiles.
This module holds those pieces; what a benchmark measures, and how it prints
it, stays in its script. A script imports it from its own directory:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import benchlib

Functions that meet a failure the benchmark cannot go on from end the script
with sys.exit(message), as the scripts themselves do. An HTTP connection or a
Client belongs to one thread; nothing here shares state between threads except
publish_log, which runs its own.
"""
import argparse
import base64
import http.client
import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PGXND = os.path.join(ROOT, "build", "pgxnd", "pgxnd")
PASSWORD = "bench-password"  # every benchmark account's
BOUNDARY = "----pgxnbench7d93b1"
TICKS = os.sysconf("SC_CLK_TCK")


# --- Command line and temp dir ---------------------------------------------

def add_node_flags(parser: argparse.ArgumentParser):
    """Adds --pgxnd (the binary; default build/pgxnd/pgxnd in the checkout)
    and --fsync (run the origin's embedded PostgreSQL with fsync on)."""
    parser.add_argument("--pgxnd", default=DEFAULT_PGXND)
    parser.add_argument("--fsync", action="store_true",
                        help="run the embedded PostgreSQL with fsync on (the default for operators)")


def add_keep_flag(parser: argparse.ArgumentParser):
    """Adds --keep: leave the temp dir (and the nodes' logs in it) behind."""
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (for its logs)")


def make_work_dir():
    """Creates the benchmark's temp dir (readable by all, for PostgreSQL's
    sake); returns its path."""
    work = tempfile.mkdtemp(prefix="pgxn-bench-")
    os.chmod(work, 0o755)
    return work


def remove_work_dir(work, keep, file=None):
    """Removes the temp dir, or with `keep` says where it is on `file`
    (default stderr)."""
    if keep:
        print(f"kept {work}", file=file or sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


def load_line():
    """The 1, 5 and 15 minute load averages as one string, or "?"."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# --- Nodes -----------------------------------------------------------------

def start(pgxnd, role, data_dir, *args, procs=None, poll=0.01):
    """Starts `pgxnd ROLE --data-dir DATA_DIR` with HTTP and gRPC on free
    ports, logging to DATA_DIR.log, and waits (up to 120 s, looking every
    `poll` seconds) for it to write DATA_DIR/ports.json. Returns (process,
    ports, perf_counter time of the spawn); ports is {"http": N, "grpc": N}.
    The process is appended to `procs` (if given) as soon as it is spawned,
    so the caller's cleanup stops it even if the wait is interrupted. Exits
    the script if the node does not start."""
    with open(data_dir + ".log", "ab") as log:
        spawned = time.perf_counter()
        proc = subprocess.Popen([pgxnd, role, "--data-dir", data_dir, "--http", "127.0.0.1:0",
                                 "--grpc", "127.0.0.1:0", *args], stdout=log, stderr=log)
    if procs is not None:
        procs.append(proc)
    ports = os.path.join(data_dir, "ports.json")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if os.path.exists(ports) and os.path.getsize(ports) > 0:
            try:
                with open(ports) as f:
                    return proc, json.load(f), spawned
            except ValueError:
                pass  # being written
        if proc.poll() is not None:
            break
        time.sleep(poll)
    proc.kill()
    proc.wait()
    sys.exit(f"pgxnd {role} did not start; see {data_dir}.log")


def start_origin(pgxnd, data_dir, fsync, procs=None, poll=0.01):
    """Starts an origin (embedded PostgreSQL, with --unsafe-no-fsync unless
    `fsync`); returns what start returns."""
    return start(pgxnd, "origin", data_dir, *([] if fsync else ["--unsafe-no-fsync"]),
                 procs=procs, poll=poll)


def start_follower(pgxnd, role, data_dir, upstream, *args, procs=None, poll=0.01):
    """Starts a mirror or an indexer following the node whose ports are
    `upstream` (its gRPC port), with extra flags `args`; returns what start
    returns."""
    return start(pgxnd, role, data_dir, "--upstream", f"127.0.0.1:{upstream['grpc']}", *args,
                 procs=procs, poll=poll)


def stop(proc):
    """Stops a node: SIGTERM, then SIGKILL if it has not exited after 60 s.
    Does nothing if it has already exited."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def add_account(pgxnd, data_dir, nick, name, password=PASSWORD):
    """Adds the account NICK (email NICK@example.com) to the origin whose
    data dir is `data_dir`, with `pgxnd user add`."""
    subprocess.run([pgxnd, "user", "add", "--data-dir", data_dir, nick,
                    "--email", f"{nick}@example.com", "--name", name, "--password-stdin"],
                   input=password.encode(), check=True, stdout=subprocess.DEVNULL)


def proc_stat(pid):
    """(ppid, utime + stime, cutime + cstime) of a process from
    /proc/PID/stat, in clock ticks (TICKS a second), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # fields from the 3rd (state) on
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def memory_bytes(pid):
    """(VmRSS, VmHWM) of a running process in bytes, from /proc/PID/status
    (Linux): its resident set now and at its peak; NaN for what is unknown."""
    found = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(value.split()[0]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return found.get("VmRSS", float("nan")), found.get("VmHWM", float("nan"))


def load_script(name):
    """Imports the benchmark script NAME of this directory (a file without
    .py) as a module, so that another script can reuse its pieces (its main()
    does not run). Each call loads a fresh copy."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    loader = importlib.machinery.SourceFileLoader(f"bench_{name}", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def cpu_seconds(pid):
    """User + system CPU seconds of a running process so far (Linux), or NaN."""
    try:
        stat = proc_stat(pid)
    except (ValueError, IndexError):
        stat = None
    return stat[1] / TICKS if stat is not None else float("nan")


# --- Releases and uploads ----------------------------------------------------

def make_zip(name, version, abstract="Benchmark distribution", tags=None, readme=True,
             random_bytes=0):
    """The zip of a minimal release NAME-VERSION: META.json, README.md (unless
    not `readme`) and sql/NAME.sql; with `tags` (a list) META.json lists them,
    with `random_bytes` the zip also stores that many incompressible bytes."""
    meta = {"name": name, "version": version, "abstract": abstract,
            "maintainer": "Bench <bench@example.com>", "license": "postgresql",
            "provides": {name: {"file": f"sql/{name}.sql", "version": version}}}
    if tags is not None:
        meta["tags"] = tags
    meta["meta-spec"] = {"version": "1.0.0"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}-{version}/META.json", json.dumps(meta))
        if readme:
            z.writestr(f"{name}-{version}/README.md", f"# {name}\n\nA benchmark release.\n")
        z.writestr(f"{name}-{version}/sql/{name}.sql", "SELECT 1;\n")
        if random_bytes:
            z.writestr(f"{name}-{version}/data/random.bin", os.urandom(random_bytes),
                       compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def unique_word(prefix, i):
    """PREFIX + a word of letters only, distinct for each i, + "x" (so not
    English): a term only one release carries."""
    letters = ""
    while True:
        letters = chr(ord("a") + i % 26) + letters
        i //= 26
        if i == 0:
            break
    return prefix + letters + "x"


def basic_auth(user, password=PASSWORD):
    """The Authorization header value for `user`."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def multipart(filename, data):
    """The form pgxn-release posts, fields `submit` and `archive`; returns
    (Content-Type header value, body)."""
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"submit\"\r\n\r\n"
            f"Release It!\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; "
            f"name=\"archive\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/zip\r\n\r\n").encode()
    return (f"multipart/form-data; boundary={BOUNDARY}",
            head + data + f"\r\n--{BOUNDARY}--\r\n".encode())


def post_release(conn, authorization, filename, data):
    """POSTs the zip `data` to /upload over `conn` as pgxn-release does;
    returns (HTTP status, body). Connection errors propagate."""
    content_type, body = multipart(filename, data)
    conn.request("POST", "/upload", body, {
        "Authorization": authorization,
        "Content-Type": content_type,
        "X-Requested-With": "XMLHttpRequest"})
    response = conn.getresponse()
    return response.status, response.read()


def upload(conn, authorization, filename, data):
    """post_release, exiting the script unless the origin answers 200."""
    status, text = post_release(conn, authorization, filename, data)
    if status != 200:
        sys.exit(f"upload of {filename} failed: {status} {text!r}")


def warm_up(port, releases):
    """Uploads `releases`, (user, filename, zip) each, over one connection to
    the origin's HTTP `port`, outside any clock: each account's first request
    pays its password hash (Argon2id), which the origin then caches. Exits
    the script if one is refused."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for user, filename, data in releases:
        status, body = post_release(conn, basic_auth(user), filename, data)
        if status != 200:
            sys.exit(f"warm-up upload by {user}: {status} {body[:300]!r}")
    conn.close()


class _LogUploader(threading.Thread):
    """Publishes its jobs, in order, over one keep-alive connection (see
    publish_log)."""

    def __init__(self, port, jobs, release, barrier):
        """Takes the releases `jobs` (numbers for `release`); starts them
        when `barrier` lets it through."""
        super().__init__(daemon=True)
        self.port, self.jobs, self.release, self.barrier = port, jobs, release, barrier
        self.accepted = 0
        self.bytes = 0
        self.failures = []    # (NAME-VERSION, status, body)
        self.done_times = []  # perf_counter time of each accepted upload
        self.stop = False

    def run(self):
        """Uploads the jobs until done or told to stop, recording each outcome."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.barrier.wait()
        for j in self.jobs:
            if self.stop:
                break
            name, version, user, data = self.release(j)
            try:
                status, body = post_release(conn, basic_auth(user), f"{name}-{version}.zip", data)
            except (OSError, http.client.HTTPException) as e:
                status, body = 0, repr(e).encode()
                conn.close()
            if status == 200:
                self.accepted += 1
                self.bytes += len(data)
                self.done_times.append(time.perf_counter())
            else:
                self.failures.append((f"{name}-{version}", status, body))
        conn.close()


def publish_log(port, releases, uploaders, versions_per_dist, release, progress=None):
    """Publishes releases 0 .. releases-1 to the origin's HTTP `port` from
    `uploaders` concurrent threads, each over one keep-alive connection.
    release(j) returns (name, version, user, zip) and is called in the
    uploading thread, on the clock. Release j is taken to belong to
    distribution j // versions_per_dist; uploader k takes the distributions d
    with d % uploaders == k, so each distribution's versions go out in order
    from one thread. Every 30 s it calls progress(releases accepted so far,
    seconds since the start). Prints the first 10 failures to stderr.

    Returns {"published", "zip_bytes", "seconds", "first_tenth_rate",
    "last_tenth_rate" (the publishing rate over the first and the last tenth
    of the releases), "failures" [(NAME-VERSION, status, body)], "last" (the
    last job of each uploader that had any), "started" and "done_times" (the
    perf_counter time of the start and, sorted, of each accepted upload)}."""
    barrier = threading.Barrier(uploaders + 1)
    threads = [_LogUploader(port, [j for j in range(releases)
                                   if (j // versions_per_dist) % uploaders == k],
                            release, barrier)
               for k in range(uploaders)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    last_report = started
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=1)
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                if progress is not None:
                    progress(sum(t.accepted for t in threads), last_report - started)
    finally:
        for t in threads:
            t.stop = True
    elapsed = time.perf_counter() - started
    failures = [f for t in threads for f in t.failures]
    for name, status, body in failures[:10]:
        print(f"  FAILED {name}: {status} {body[:300]!r}", file=sys.stderr)
    times = sorted(x for t in threads for x in t.done_times)
    tenth = max(1, len(times) // 10)
    first_rate = tenth / (times[tenth - 1] - started) \
        if len(times) >= tenth and times[tenth - 1] > started else 0
    last_rate = tenth / (times[-1] - times[-tenth - 1]) if len(times) > tenth and \
        times[-1] > times[-tenth - 1] else 0
    return {
        "published": sum(t.accepted for t in threads),
        "zip_bytes": sum(t.bytes for t in threads),
        "seconds": elapsed,
        "first_tenth_rate": first_rate,
        "last_tenth_rate": last_rate,
        "failures": failures,
        "last": [max(t.jobs) for t in threads if t.jobs],
        "started": started,
        "done_times": times,
    }


# --- Polling the nodes --------------------------------------------------------

class Client:
    """GETs from one node over a keep-alive connection, reconnecting once if
    it drops; counts the requests answered and the reconnects."""

    def __init__(self, port):
        """A client of the node listening for HTTP on `port` (connects lazily)."""
        self.port = port
        self.conn = None
        self.count = 0
        self.reconnects = 0

    def get(self, path):
        """GET PATH; returns (status, body). Raises if it fails twice."""
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                body = response.read()
                self.count += 1
                return response.status, body
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                self.reconnects += 1
                if attempt:
                    raise

    def json(self, path):
        """GET PATH, parsed as JSON; raises RuntimeError unless 200."""
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
        return json.loads(body)

    def close(self):
        """Closes the connection (a later get opens a new one)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def get_status(conn):
    """GET /_status over `conn`, parsed; raises RuntimeError unless 200."""
    conn.request("GET", "/_status")
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET /_status: {response.status} {body!r}")
    return json.loads(body)


def status_once(port):
    """A node's /_status over a connection of its own (see get_status)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return get_status(conn)
    finally:
        conn.close()


def applied_seq(port):
    """A node's applied_seq from its /_status; exits the script if the GET
    is not answered 200."""
    try:
        return status_once(port)["applied_seq"]
    except RuntimeError as e:
        sys.exit(str(e))


def serves(client, dist, version):
    """Whether the node behind `client` serves a /dist/DIST.json listing
    `version`."""
    status, body = client.get(f"/dist/{dist}.json")
    return status == 200 and f'"{version}"'.encode() in body


def search_path(index, q, o=None, l=None):
    """The path of a search of /search/INDEX/ for `q`, with offset `o` and
    limit `l` if given."""
    params = {"q": q}
    if o is not None:
        params["o"] = o
    if l is not None:
        params["l"] = l
    return f"/search/{index}/?{urllib.parse.urlencode(params)}"


def finds(client, word, dist):
    """Whether the indexer behind `client` answers /search/dists/?q=WORD
    with a hit for `dist`."""
    status, body = client.get(search_path("dists", word))
    if status != 200:
        return False
    return any(h.get("dist") == dist for h in json.loads(body).get("hits", []))


# --- Figures ---------------------------------------------------------------

def percentile(values, fraction):
    """The value at `fraction` (0..1) of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def steady_rate(samples, head, low=0.10, high=0.90):
    """Events per second between the first samples at or past `low` and
    `high` of `head`; samples are (time, seq) in time order and must reach
    head. NaN if both fall on the same sample."""
    def time_at(fraction):
        """The first sample at or past fraction * head: (time, seq)."""
        return next((t, s) for t, s in samples if s >= fraction * head)

    (t_low, s_low), (t_high, s_high) = time_at(low), time_at(high)
    return (s_high - s_low) / (t_high - t_low) if t_high > t_low else float("nan")


def median_run(runs, key="total_seconds"):
    """The run (a dict) with the median `key` (the lower of the two middle
    ones), or None if there is none."""
    if not runs:
        return None
    ordered = sorted(runs, key=lambda r: r[key])
    return ordered[(len(ordered) - 1) // 2]
