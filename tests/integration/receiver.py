"""A webhook receiver for the integration tests: a threaded HTTP/1.1 server
on 127.0.0.1 that a test starts, scripts and stops.

Every request is recorded (method, path, headers, body, arrival time); every
accepted connection is counted, even one that never sends a request (a TLS
hello, a refused address that got through). What it answers is scripted:

    with Receiver() as rx:                      # port: the OS picks a free one
        rx.answer(500)                          # the default answer from now on
        rx.push(Reply(429, {"Retry-After": "120"}))   # one-shot, in order
        rx.rule(lambda req: Reply(500) if ... else None)  # per request
        url = rx.url("/hook")
        reqs = rx.wait_for(2, timeout=10)       # bounded wait

A rule is asked first, then the one-shot queue, then the default. A reply
may wait DELAY seconds, or stall (hold the request until release() or
STALL_MAX seconds) before it answers. Python 3 standard library only.
"""

import http.server
import json
import socketserver
import sys
import threading
import time

STALL_MAX = 30.0     # seconds a stalled request is held at most
READ_TIMEOUT = 10.0  # seconds to read one request from the client
BODY_MAX = 4 * 1024 * 1024


class Reply:
    """What the receiver answers: STATUS, HEADERS (dict or pairs), BODY;
    DELAY seconds before answering; STALL: hold the request until
    release() (bounded by STALL_MAX), then answer."""

    def __init__(self, status=200, headers=None, body=b"", delay=0.0,
                 stall=False):
        self.status = status
        if isinstance(headers, dict):
            headers = list(headers.items())
        self.headers = list(headers or [])
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.delay = delay
        self.stall = stall


class Request:
    """One request as received."""

    def __init__(self, method, path, pairs, body, arrived, peer):
        self.method = method
        self.path = path
        self.pairs = pairs          # [(name, value)] as sent
        self.body = body
        self.arrived = arrived      # time.time() when the headers were read
        self.peer = peer
        self.answered = None        # status sent, or None (stall cut off)

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.pairs:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.pairs if k.lower() == name]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def describe(self):
        lines = ["%s %s at %.3f from %s" % (self.method, self.path,
                                            self.arrived, self.peer)]
        lines += ["  %s: %s" % (k, v) for k, v in self.pairs]
        text = self.body[:400].decode("utf-8", "replace")
        lines.append("  body: " + text.replace("\n", "\\n"))
        return lines


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def verify_request(self, request, client_address):
        self.owner._connected()
        return True

    def handle_error(self, request, client_address):
        """A sender that goes away mid-request (a worker killed during a
        delivery resets its connection) is not an error of the receiver:
        say nothing. Anything else is still printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT

    def log_message(self, fmt, *args):  # quiet: the test reports
        pass

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while len(out) <= BODY_MAX:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
            return out
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, BODY_MAX)) if length > 0 else b""

    def _any(self):
        arrived = time.time()
        rx = self.server.owner
        body = self._read_body()
        req = Request(self.command, self.path, list(self.headers.items()),
                      body, arrived, "%s:%d" % self.client_address)
        reply = rx._decide(req)
        rx._record(req)
        if reply.stall:
            rx._release.wait(STALL_MAX)
        elif reply.delay:
            rx._release.wait(reply.delay)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.body:
                self.wfile.write(reply.body)
            self.wfile.flush()
            req.answered = reply.status
        except OSError:
            self.close_connection = True  # the client gave up (timeout)

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any


class Receiver:
    """A scriptable HTTP receiver on 127.0.0.1:PORT (None: a free port)."""

    def __init__(self, port=None):
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests = []
        self._connections = 0
        self._queue = []
        self._rule = None
        self._default = Reply(200)
        self._release = threading.Event()
        self._server = _Server(("127.0.0.1", port or 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    # -- scripting ------------------------------------------------------
    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def answer(self, status=200, headers=None, body=b"", delay=0.0,
               stall=False):
        """The default answer from now on."""
        with self._lock:
            self._default = Reply(status, headers, body, delay, stall)

    def push(self, *replies):
        """One-shot answers for the next requests, in order."""
        with self._lock:
            self._queue.extend(replies)

    def rule(self, fn):
        """fn(Request) -> Reply, or None to fall through (None: no rule)."""
        with self._lock:
            self._rule = fn

    def release(self):
        """End every stall and delay, now and from now on."""
        self._release.set()

    # -- what it saw ----------------------------------------------------
    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    @property
    def connections(self):
        with self._lock:
            return self._connections

    def wait_for(self, n, timeout):
        """Wait at most TIMEOUT seconds for N requests in all; returns the
        requests seen (maybe fewer)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self._requests)

    def describe(self):
        lines = ["receiver :%d: %d connection(s), %d request(s)"
                 % (self.port, self.connections, len(self.requests))]
        for r in self.requests:
            lines += r.describe()
        return lines

    # -- internals --------------------------------------------------------
    def _connected(self):
        with self._lock:
            self._connections += 1

    def _decide(self, req):
        with self._lock:
            rule = self._rule
        reply = None
        if rule is not None:
            reply = rule(req)
        with self._lock:
            if reply is None and self._queue:
                reply = self._queue.pop(0)
            return reply or self._default

    def _record(self, req):
        with self._cond:
            self._requests.append(req)
            self._cond.notify_all()

    # -- life -------------------------------------------------------------
    def stop(self):
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

