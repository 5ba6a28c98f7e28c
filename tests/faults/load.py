#!/usr/bin/env python3
"""Load driver, probes and verifier for the troupe fault-injection drills.

Python 3 standard library only. Used by tests/faults/*.sh (through lib.sh);
every subcommand is bounded in time and talks to 127.0.0.1 only.

Subcommands
  run            C concurrent clients POST /v1/orders (keep-alive, one
                 connection per thread, short timeouts) spread over the given
                 resources until --duration / --max-requests / --stop-file.
                 Every request is sent once (no retries) and recorded as one
                 JSON line: {"t": start epoch ms, "ms": latency, "st": HTTP
                 status (0 = no answer: refused, reset, client timeout),
                 "rid", "q", "oid" (2xx: orderId), "ost" (2xx: order status),
                 "type" (problem type of an error), "err" (exception name),
                 "c": client number, "new": sent on a new connection,
                 "ra": the Retry-After header of a 503, "amt" (2xx: amount),
                 "oid_err" (error with an orderId: 402/503 after the hold),
                 "brk": 1 (a 503 refused by the open circuit breaker),
                 "cust" (with --customers: the customer id)}.
                 --customers N draws each order's customer from a pool of N
                 (default: a new customer per order). --cancel-rate P: after
                 a 201, with probability P, the client cancels one of its own
                 confirmed orders (POST /v1/orders/{id}/cancel, sent once),
                 recorded in --cancel-out (default OUT.cancels) as {"op":
                 "cancel", "t", "ms", "st", "oid", "ost", "type", "err", "c"}.
  wait-ready     poll GET /health/ready until 200; print the ms it took.
  probe-order    wait for ready, then POST one order at a time until one gets
                 a 2xx; every attempt is recorded (JSONL, like run); print ms.
  register       POST /v1/resources for each "id:capacity"; write the list.
  wait-resources poll until every resource answers GET 200; print ms.
  crash-loop     POST /admin/faults {"crash":{"randomResources":N}} every
                 --interval-ms; write the epoch ms of the last crash.
  verify         the invariants, after the drill, against the running server
                 (and, with --redis, the Redis store behind it). See verify().
  get            GET one path; print its JSON (exit 1 unless 200).
  fault          POST one JSON body to /admin/faults (exit 1 unless 200).
  wait-breaker   poll /admin/payments/breaker until its state is --state;
                 print the epoch ms when it was seen.
  wait-caught-up poll /admin/subscribers until every subscriber runs with
                 lag 0; print the ms it took.
  overload-report  figures and money checks of overload.sh and
                 overload_kill9.sh (throughput, answer shares, latency
                 percentiles, breaker, /admin/reconcile vs the client's 201s);
                 prints the drill's summary line.
  outage-verify  the checks of consumer_outage.sh (notifications, mypage and
                 resource reports against the client's own record); prints
                 the drill's summary line.

Times exchanged with the shell scripts are wall-clock epoch milliseconds
(`date +%s%3N`), so they can be compared with the "t" of the records.
"""

import argparse
import collections
import http.client
import json
import os
import random
import signal
import socket
import sys
import threading
import time


def now_ms():
    return int(time.time() * 1000)


def err(*a):
    print(*a, file=sys.stderr, flush=True)


def split_url(url):
    u = url
    if u.startswith("http://"):
        u = u[len("http://"):]
    u = u.rstrip("/")
    host, _, port = u.partition(":")
    return host or "127.0.0.1", int(port or 80)


class Client:
    """One keep-alive connection; reconnects after any transport error."""

    def __init__(self, url, timeout):
        self.host, self.port = split_url(url)
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None

    def request(self, method, path, body=None):
        """-> (status, parsed json or None, headers dict, error name or None).
        status 0 = no HTTP answer. Never retries."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Connection": "keep-alive"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            if hdrs.get("connection", "").lower() == "close":
                self.close()
            try:
                j = json.loads(raw) if raw else None
            except ValueError:
                j = None
            return resp.status, j, hdrs, None
        except socket.timeout:
            self.close()
            return 0, None, {}, "timeout"
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return 0, None, {}, type(e).__name__


def get_json(url, path, timeout=2.0):
    c = Client(url, timeout)
    try:
        st, j, _, _ = c.request("GET", path)
        return st, j
    finally:
        c.close()


def read_resources(path):
    with open(path) as f:
        return json.load(f)


# ----------------------------------------------------------------------------
# run: the load driver


def cmd_run(a):
    resources = [r["id"] for r in read_resources(a.resources)]
    if a.only:
        resources = [r for r in resources if r in set(a.only.split(","))]
    stop = threading.Event()
    deadline = time.monotonic() + a.duration
    lock = threading.Lock()
    sent = [0]
    out = open(a.out, "a", buffering=1)
    cancel_out = open(a.cancel_out or a.out + ".cancels", "a", buffering=1) if a.cancel_rate > 0 else None

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def take_ticket():
        with lock:
            if a.max_requests and sent[0] >= a.max_requests:
                return False
            sent[0] += 1
            return True

    def cancel_one(n, rnd, cli, mine):
        """Cancel one of this client's confirmed orders (sent once, recorded)."""
        oid = mine.pop(rnd.randrange(len(mine)))
        t0 = now_ms()
        m0 = time.monotonic()
        st, j, _, e = cli.request("POST", "/v1/orders/%s/cancel" % oid)
        rec = {"op": "cancel", "t": t0, "ms": int((time.monotonic() - m0) * 1000), "st": st, "oid": oid, "c": n}
        if isinstance(j, dict):
            if 200 <= st < 300:
                rec["ost"] = j.get("status")
            elif st:
                rec["type"] = j.get("type")
        if e:
            rec["err"] = e
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        with lock:
            cancel_out.write(line)
        return st

    def worker(n):
        rnd = random.Random(a.seed * 1000 + n)
        cli = Client(a.url, a.timeout)
        k = 0
        mine = []  # this client's confirmed orders not cancelled yet (--cancel-rate)
        while not stop.is_set() and time.monotonic() < deadline:
            if a.stop_file and os.path.exists(a.stop_file):
                break
            if not take_ticket():
                break
            rid = rnd.choice(resources)
            if a.customers:
                cust = "cust-%s-%d" % (a.tag, rnd.randrange(a.customers))
            else:
                cust = "c-%s-%d-%d" % (a.tag, n, k)
            body = {"resourceId": rid, "customerId": cust, "quantity": a.quantity}
            k += 1
            fresh = cli.conn is None  # this request opens a new connection
            t0 = now_ms()
            m0 = time.monotonic()
            st, j, hdrs, e = cli.request("POST", "/v1/orders", body)
            rec = {"t": t0, "ms": int((time.monotonic() - m0) * 1000), "st": st, "rid": rid, "q": a.quantity,
                   "c": n, "new": fresh}
            if a.customers:
                rec["cust"] = cust
            if 200 <= st < 300:
                rec["oid"] = j.get("orderId") if isinstance(j, dict) else None
                rec["ost"] = j.get("status") if isinstance(j, dict) else None
                rec["amt"] = j.get("amount") if isinstance(j, dict) else None
            elif st:
                if st == 503:
                    rec["ra"] = hdrs.get("retry-after")
                if isinstance(j, dict):
                    rec["type"] = j.get("type")
                    if j.get("orderId"):
                        rec["oid_err"] = j.get("orderId")
                    if st == 503 and "circuit breaker" in str(j.get("detail", "")):
                        rec["brk"] = 1
            if e:
                rec["err"] = e
            line = json.dumps(rec, separators=(",", ":")) + "\n"
            with lock:
                out.write(line)
            if cancel_out is not None and 200 <= st < 300 and rec.get("oid"):
                mine.append(rec["oid"])
                if rnd.random() < a.cancel_rate and not stop.is_set() and time.monotonic() < deadline:
                    st = cancel_one(n, rnd, cli, mine)
            # Do not spin on a dead or refusing server (this is not a retry:
            # the next request is a new order).
            if st == 0:
                time.sleep(a.pause_on_error_ms / 1000.0)
            elif st >= 500:
                time.sleep(a.pause_on_503_ms / 1000.0)
        cli.close()

    # Stall detector: if this process itself is not scheduled for a while
    # (the machine or VM stalls), its timings say nothing about the server.
    done = threading.Event()
    stalls = open(a.out + ".stalls", "a", buffering=1)

    def watch():
        last = time.monotonic()
        while not done.is_set():
            time.sleep(0.05)
            now = time.monotonic()
            gap_ms = int((now - last) * 1000)
            if gap_ms >= a.stall_ms:
                stalls.write(json.dumps({"t": now_ms() - gap_ms, "ms": gap_ms}) + "\n")
                err("load: this client was not scheduled for %d ms (machine stall)" % gap_ms)
            last = now

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(a.clients)]
    for t in threads:
        t.start()
    hard_deadline = time.monotonic() + a.duration + a.timeout + 5
    for t in threads:
        while t.is_alive() and time.monotonic() < hard_deadline:
            t.join(0.2)
    done.set()
    watcher.join(1)
    stalls.close()
    out.close()
    if cancel_out is not None:
        cancel_out.close()
    alive = sum(t.is_alive() for t in threads)
    if alive:
        err("load: %d client threads still blocked at the hard deadline" % alive)
        return 1
    return 0


# ----------------------------------------------------------------------------
# small probes


def cmd_wait_ready(a):
    t0 = time.monotonic()
    c = Client(a.url, 1.0)
    while time.monotonic() - t0 < a.timeout:
        st, _, _, _ = c.request("GET", "/health/ready")
        if st == 200:
            print(int((time.monotonic() - t0) * 1000))
            return 0
        if st == 0:
            c.close()
        time.sleep(a.interval_ms / 1000.0)
    err("wait-ready: %s not ready within %ss" % (a.url, a.timeout))
    return 1


def cmd_probe_order(a):
    """Ready, then POST orders (one at a time) until one is a 2xx."""
    t0 = time.monotonic()
    c = Client(a.url, a.request_timeout)
    out = open(a.out, "a", buffering=1)
    k = 0
    try:
        while time.monotonic() - t0 < a.timeout:
            st, _, _, _ = c.request("GET", "/health/ready")
            if st != 200:
                if st == 0:
                    c.close()
                time.sleep(a.interval_ms / 1000.0)
                continue
            body = {"resourceId": a.resource, "customerId": "probe-%d" % k, "quantity": 1}
            k += 1
            t1 = now_ms()
            m1 = time.monotonic()
            st, j, _, e = c.request("POST", "/v1/orders", body)
            rec = {"t": t1, "ms": int((time.monotonic() - m1) * 1000), "st": st, "rid": a.resource, "q": 1,
                   "probe": True}
            if 200 <= st < 300 and isinstance(j, dict):
                rec["oid"] = j.get("orderId")
                rec["ost"] = j.get("status")
            elif isinstance(j, dict):
                rec["type"] = j.get("type")
            if e:
                rec["err"] = e
            out.write(json.dumps(rec, separators=(",", ":")) + "\n")
            if 200 <= st < 300:
                print(int((time.monotonic() - t0) * 1000))
                return 0
            time.sleep(a.interval_ms / 1000.0)
    finally:
        out.close()
        c.close()
    err("probe-order: no order placed on %s within %ss" % (a.resource, a.timeout))
    return 1


def cmd_register(a):
    specs = []
    for s in a.specs:
        rid, _, cap = s.partition(":")
        specs.append({"id": rid, "capacity": int(cap)})
    c = Client(a.url, 5.0)
    for s in specs:
        body = {"id": s["id"], "type": "musical", "name": "Drill " + s["id"], "mode": "capacity",
                "capacity": s["capacity"], "price": 100}
        st, j, _, e = c.request("POST", "/v1/resources", body)
        if st not in (200, 201):
            err("register %s: HTTP %s %s %s" % (s["id"], st, e or "", j))
            return 1
    with open(a.out, "w") as f:
        json.dump(specs, f)
    return 0


def cmd_wait_resources(a):
    ids = [r["id"] for r in read_resources(a.resources)]
    t0 = time.monotonic()
    c = Client(a.url, 2.0)
    pending = list(ids)
    while time.monotonic() - t0 < a.timeout:
        pending = [rid for rid in pending if c.request("GET", "/v1/resources/" + rid)[0] != 200]
        if not pending:
            print(now_ms() - a.since_ms if a.since_ms else int((time.monotonic() - t0) * 1000))
            return 0
        time.sleep(a.interval_ms / 1000.0)
    err("wait-resources: %d resources still not answering 200: %s" % (len(pending), pending[:10]))
    return 1


def cmd_crash_loop(a):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda s, f: stop.set())
    signal.signal(signal.SIGINT, lambda s, f: stop.set())
    c = Client(a.url, 5.0)
    end = time.monotonic() + a.duration
    n_ok = n_bad = crashed = 0
    while not stop.is_set() and time.monotonic() < end:
        if a.stop_file and os.path.exists(a.stop_file):
            break
        st, j, _, e = c.request("POST", "/admin/faults", {"crash": {"randomResources": a.n}})
        if st == 200:
            n_ok += 1
            crashed += int(j.get("crashed", 0)) if isinstance(j, dict) else 0
            with open(a.last_file, "w") as f:
                f.write("%d\n" % now_ms())
        else:
            n_bad += 1
            err("crash-loop: POST /admin/faults -> %s %s %s" % (st, e or "", j))
        stop.wait(a.interval_ms / 1000.0)
    c.close()
    err("crash-loop: %d crash requests ok (%d actors crashed), %d failed" % (n_ok, crashed, n_bad))
    print(json.dumps({"ok": n_ok, "failed": n_bad, "crashed": crashed}))
    return 0 if n_bad == 0 else 1


# ----------------------------------------------------------------------------
# Redis (read-only, for the store cross-check): a minimal RESP client


class Resp:
    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def close(self):
        try:
            self.f.close()
            self.s.close()
        except Exception:
            pass

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for x in args:
            x = x.encode() if isinstance(x, str) else x
            out += b"$%d\r\n%s\r\n" % (len(x), x)
        self.s.sendall(out)
        return self._read()

    def _read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("redis error: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._read() for _ in range(n)]
        raise RuntimeError("bad RESP line %r" % line)


def stored_order(v):
    """An order record as troupe stores it (domain/order_codec.hpp: tab-separated
    fields tagged O1; older stores: JSON) -> {status, resourceId, quantity}."""
    if v.startswith("{"):
        return json.loads(v)
    fields, cur, i = [], [], 0
    while i < len(v):
        c = v[i]
        if c == "\t":
            fields.append("".join(cur)); cur = []
        elif c == "\\" and i + 1 < len(v):
            i += 1
            cur.append({"t": "\t", "n": "\n"}.get(v[i], v[i]))
        else:
            cur.append(c)
        i += 1
    fields.append("".join(cur))
    if len(fields) < 16 or fields[0] != "O1":
        raise ValueError("not an order record")
    phase, step = fields[5], fields[12]
    return {"status": step if phase == "confirmed" and step else phase,
            "resourceId": fields[2], "quantity": int(fields[7])}


def stored_alloc_quantity(v):
    """The quantity of an allocation record (A1 fields, or older JSON)."""
    if v.startswith("{"):
        return int(json.loads(v).get("quantity", 0))
    f = v.split("\t")
    if len(f) != 5 or f[0] != "A1":
        raise ValueError("not an allocation record")
    return int(f[2])


def hgetall(r, key):
    flat = r.cmd("HGETALL", key) or []
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


# ----------------------------------------------------------------------------
# verify


def load_records(paths):
    recs = []
    for p in paths:
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    err("verify: skipping a torn line in %s: %r" % (p, line[:80]))
    return recs


def fetch_orders(url, oids, threads=8):
    """GET every order (reads may be retried: they do not change anything)."""
    result = {}
    todo = list(oids)
    lock = threading.Lock()

    def worker():
        c = Client(url, 5.0)
        while True:
            with lock:
                if not todo:
                    break
                oid = todo.pop()
            got = (0, None)
            for attempt in range(10):
                st, j, _, _ = c.request("GET", "/v1/orders/" + oid)
                got = (st, j)
                if st in (200, 404):
                    break
                time.sleep(0.2)
            with lock:
                result[oid] = got
        c.close()

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    return result


def answer_kind(r):
    """'201', '409', ... for an HTTP answer; 'timeout' when the client gave up
    waiting; 'conn' for no answer otherwise (refused, reset, closed)."""
    st = r.get("st", 0)
    if st:
        return str(st)
    return "timeout" if r.get("err") == "timeout" else "conn"


def cmd_verify(a):
    """Invariants (every failure is listed on stderr as '# ...'):

    lost_acked  acked (2xx) orders that are not, after recovery, present with
                status "confirmed" on their resource with their quantity
                (also: a 2xx without an orderId, or whose body was not
                "confirmed").
    oversold    sum over resources of max(0, confirmed_qty - capacity), where
                confirmed_qty is the largest of: capacity - available - held
                (server view), the acked quantity, and (with --redis) the
                store's allocations and confirmed order records.
    duplicate   acked responses beyond the first carrying the same orderId.
    Also failing the run (not in the summary line): units still held at rest
    after --settle-timeout; acked orders not counted in the resource's book;
    a view that disagrees with the store; orders left non-terminal in the
    store; more unacked confirmations than non-2xx answers could explain;
    a 503 without Retry-After; and the optional --allowed-statuses /
    --window checks.
    """
    t_start = time.monotonic()
    problems = []  # (kind, text)

    def bad(kind, text):
        problems.append((kind, text))

    recs = load_records(a.records)
    stalls = load_records(a.stalls or [])
    max_stall = max((x["ms"] for x in stalls), default=0)
    if stalls:
        err("# %s: NOTE the load driver itself was descheduled %d times (longest %d ms): machine stalls"
            % (a.label, len(stalls), max_stall))

    def during_stall(r):
        """The request overlapped a stall of the client (its timing is void)."""
        t0, t1 = r.get("t", 0), r.get("t", 0) + r.get("ms", 0)
        return any(x["t"] < t1 and t0 < x["t"] + x["ms"] for x in stalls)
    specs = {r["id"]: r["capacity"] for r in read_resources(a.resources)}
    requests = len(recs)
    acked = [r for r in recs if 200 <= r.get("st", 0) < 300]
    status_hist = collections.Counter(answer_kind(r) for r in recs)
    err("# %s: %d requests, statuses %s" % (a.label, requests, dict(sorted(status_hist.items()))))
    errs = collections.Counter(r.get("err") for r in recs if r.get("err"))
    if errs:
        err("# %s: transport errors %s" % (a.label, dict(errs)))

    # duplicate
    by_oid = collections.Counter(r.get("oid") for r in acked if r.get("oid"))
    duplicate = sum(c - 1 for c in by_oid.values() if c > 1)
    for oid, c in by_oid.items():
        if c > 1:
            bad("duplicate", "order id %s acked %d times" % (oid, c))

    lost = set()
    no_id = [r for r in acked if not r.get("oid")]
    for r in no_id:
        bad("lost_acked", "2xx without orderId: %s" % r)
    for r in acked:
        if r.get("oid") and r.get("ost") != "confirmed":
            lost.add(r["oid"])
            bad("lost_acked", "2xx answered with status %r: %s" % (r.get("ost"), r))

    # settle: nothing held at rest (in-doubt units are resolved in the background)
    views = {}
    settle_end = time.monotonic() + a.settle_timeout
    while True:
        views = {}
        for rid in specs:
            st, j = get_json(a.url, "/v1/resources/" + rid, timeout=5.0)
            views[rid] = j if st == 200 and isinstance(j, dict) else None
        held = {rid: v.get("held") for rid, v in views.items() if v and v.get("held")}
        missing = [rid for rid, v in views.items() if v is None]
        if not held and not missing:
            break
        if time.monotonic() > settle_end:
            for rid in missing:
                bad("view", "resource %s does not answer GET 200" % rid)
            for rid, h in held.items():
                bad("held", "resource %s still has held=%s at rest" % (rid, h))
            break
        time.sleep(0.25)

    # lost_acked: every acked order present and confirmed
    oids = sorted(by_oid)
    got = fetch_orders(a.url, oids)
    acked_qty = collections.Counter()
    acked_by_oid = {r["oid"]: r for r in acked if r.get("oid")}
    for oid in oids:
        st, j = got.get(oid, (0, None))
        r = acked_by_oid[oid]
        if st != 200 or not isinstance(j, dict):
            lost.add(oid)
            bad("lost_acked", "acked order %s (resource %s, acked at %d): GET -> %s %s"
                % (oid, r.get("rid"), r.get("t", 0), st, j))
            continue
        if j.get("status") != "confirmed" or j.get("resourceId") != r.get("rid") or \
                j.get("quantity") != r.get("q"):
            lost.add(oid)
            bad("lost_acked", "acked order %s is now status=%s resource=%s quantity=%s (acked %s x%s)"
                % (oid, j.get("status"), j.get("resourceId"), j.get("quantity"), r.get("rid"), r.get("q")))
            continue
        acked_qty[r["rid"]] += r.get("q", 1)
    lost_acked = len(lost) + len(no_id)

    # store cross-check
    store_alloc = {}
    store_conf = collections.Counter()
    store_conf_ids = collections.defaultdict(set)
    if a.redis:
        try:
            rc = Resp(a.redis)
            orders = hgetall(rc, a.redis_prefix + "order")
            phases = collections.Counter()
            for oid, v in orders.items():
                try:
                    o = stored_order(v)
                except ValueError:
                    bad("store", "order record %s is unreadable" % oid)
                    continue
                phases[o.get("status")] += 1
                if o.get("status") == "confirmed":
                    store_conf[o.get("resourceId")] += o.get("quantity", 0)
                    store_conf_ids[o.get("resourceId")].add(oid)
                elif o.get("status") not in ("rejected", "cancelled"):
                    bad("stuck", "order %s left %r in the store at rest" % (oid, o.get("status")))
            err("# %s: store has %d order records %s" % (a.label, len(orders), dict(phases)))
            for rid in specs:
                allocs = hgetall(rc, a.redis_prefix + "alloc/" + rid)
                qty = 0
                for oid, v in allocs.items():
                    try:
                        qty += stored_alloc_quantity(v)
                    except ValueError:
                        bad("store", "alloc record %s/%s is unreadable" % (rid, oid))
                    if oid not in store_conf_ids[rid]:
                        bad("store", "allocation %s/%s has no confirmed order record" % (rid, oid))
                store_alloc[rid] = qty
                missing_alloc = store_conf_ids[rid] - set(allocs)
                for oid in sorted(missing_alloc)[:10]:
                    bad("store", "confirmed order %s has no allocation on %s" % (oid, rid))
            rc.close()
        except Exception as e:  # a broken cross-check must not pass silently
            bad("store", "store cross-check failed: %r" % (e,))

    # oversold and book consistency, per resource
    indoubt = collections.Counter()  # units whose answer left the outcome open
    for r in recs:
        if r.get("st", 0) in (0, 500, 503, 504):
            indoubt[r.get("rid")] += r.get("q", 1)
    oversold = 0
    for rid, cap in sorted(specs.items()):
        v = views.get(rid)
        used = None
        if v:
            if v.get("capacity") != cap:
                bad("view", "resource %s capacity %s, registered %s" % (rid, v.get("capacity"), cap))
            used = v["capacity"] - v["available"] - v.get("held", 0)
            if v["available"] < 0:
                bad("oversold", "resource %s available=%s < 0" % (rid, v["available"]))
        cands = [acked_qty[rid]]
        if used is not None:
            cands.append(used)
        if a.redis:
            cands += [store_alloc.get(rid, 0), store_conf[rid]]
        conf = max(cands)
        over = max(0, conf - cap)
        if over:
            oversold += over
            bad("oversold", "resource %s: capacity %d, confirmed %d (view %s, acked %d, store allocs %s, "
                "store confirmed orders %s)" % (rid, cap, conf, used, acked_qty[rid], store_alloc.get(rid),
                                                store_conf.get(rid)))
        if used is not None and acked_qty[rid] > used:
            bad("book", "resource %s: %d acked units but the book counts %d" % (rid, acked_qty[rid], used))
        if used is not None and used - acked_qty[rid] > indoubt[rid]:
            bad("phantom", "resource %s: %d confirmed units not acked, but only %d non-2xx answers could "
                "have been in doubt" % (rid, used - acked_qty[rid], indoubt[rid]))
        if a.redis and used is not None and (store_alloc.get(rid, 0) != used or store_conf[rid] != used):
            bad("store", "resource %s: view counts %d units, store allocs %d, store confirmed orders %d"
                % (rid, used, store_alloc.get(rid, 0), store_conf[rid]))

    # a 503 tells the client when to retry
    no_ra = [r for r in recs if r.get("st") == 503 and "ra" in r and not r["ra"]]
    if no_ra:
        bad("retry-after", "%d answers 503 without Retry-After, e.g. %s" % (len(no_ra), no_ra[:3]))

    # optional checks on the answers
    if a.allowed_statuses:
        allowed = set(a.allowed_statuses.split(","))
        void = [r for r in recs if answer_kind(r) == "timeout" and during_stall(r)]
        if void:
            err("# %s: NOTE %d client timeouts overlap a stall of the client itself: not counted, e.g. %s"
                % (a.label, len(void), void[:2]))
        unclean = collections.Counter(answer_kind(r) for r in recs
                                      if answer_kind(r) not in allowed and not (answer_kind(r) == "timeout"
                                                                                and during_stall(r)))
        for kind, n in sorted(unclean.items()):
            ex = [r for r in recs if answer_kind(r) == kind][:3]
            bad("unclean", "%d answers %s (allowed: %s), e.g. %s" % (n, kind, ",".join(sorted(allowed)), ex))
    for w in a.window or []:
        name, t0, t1, limit = w.split(",")
        t0, t1, limit = int(t0), int(t1), int(limit)
        inw = [r for r in recs if t0 <= r.get("t", 0) <= t1]
        e503 = [r for r in inw if r.get("st") == 503 and not during_stall(r)]
        mx503 = max((r["ms"] for r in e503), default=0)
        mxall = max((r["ms"] for r in inw), default=0)
        hist = collections.Counter(answer_kind(r) for r in inw)
        err("# %s: window %s (%d ms): %d requests %s; max latency of 503s %d ms, of all %d ms"
            % (a.label, name, t1 - t0, len(inw), dict(sorted(hist.items())), mx503, mxall))
        if not e503:
            bad("window", "window %s: no 503 answer at all" % name)
        if mx503 > limit:
            slow = sorted(e503, key=lambda r: -r["ms"])[:3]
            bad("window", "window %s: a 503 took %d ms (limit %d), e.g. %s" % (name, mx503, limit, slow))

    # combine with an earlier verification of the same drill
    result = {"requests": requests, "acked": len(acked), "lost_acked": lost_acked, "oversold": oversold,
              "duplicate": duplicate, "failures": len(problems)}
    if a.combine and os.path.exists(a.combine):
        with open(a.combine) as f:
            prev = json.load(f)
        for k in ("lost_acked", "oversold", "duplicate", "failures"):
            result[k] = max(result[k], prev.get(k, 0))
    if a.result_out:
        with open(a.result_out, "w") as f:
            json.dump(result, f)

    kinds = collections.Counter(k for k, _ in problems)
    shown = collections.Counter()
    for k, text in problems:
        shown[k] += 1
        if shown[k] <= 10:
            err("# %s FAIL [%s] %s" % (a.label, k, text))
    for k, n in kinds.items():
        if n > 10:
            err("# %s FAIL [%s] ... and %d more" % (a.label, k, n - 10))
    err("# %s: verified %d acked orders in %d ms" % (a.label, len(oids), int((time.monotonic() - t_start) * 1000)))
    line = "requests=%d acked=%d lost_acked=%d oversold=%d duplicate=%d recovered_in_ms=%s" % (
        result["requests"], result["acked"], result["lost_acked"], result["oversold"], result["duplicate"],
        a.recovered_ms)
    if a.summary == "stdout":
        print(line, flush=True)
    else:  # an intermediate verification: not the drill's summary line
        err("# %s: %s" % (a.label, line))
    return 0 if result["failures"] == 0 else 1


# ----------------------------------------------------------------------------
# small admin helpers (get, fault, wait-breaker, wait-caught-up)


def cmd_get(a):
    st, j = get_json(a.url, a.path, timeout=5.0)
    print(json.dumps(j, separators=(",", ":")))
    if st != 200:
        err("get %s: HTTP %s" % (a.path, st))
        return 1
    return 0


def cmd_fault(a):
    c = Client(a.url, 5.0)
    try:
        st, j, _, e = c.request("POST", "/admin/faults", json.loads(a.body))
    finally:
        c.close()
    if st != 200:
        err("fault %s: HTTP %s %s %s" % (a.body, st, e or "", j))
        return 1
    return 0


def cmd_wait_breaker(a):
    t0 = time.monotonic()
    c = Client(a.url, 2.0)
    last = None
    while time.monotonic() - t0 < a.timeout:
        st, j, _, _ = c.request("GET", "/admin/payments/breaker")
        if st == 200 and isinstance(j, dict):
            last = j.get("state")
            if last == a.state:
                print(now_ms())
                return 0
        time.sleep(a.interval_ms / 1000.0)
    err("wait-breaker: the breaker is still %r, not %r, after %ss" % (last, a.state, a.timeout))
    return 1


def subscribers_caught_up(j):
    subs = j.get("subscribers") if isinstance(j, dict) else None
    return bool(subs) and all(x.get("running") and x.get("lag") == 0 for x in subs)


def cmd_wait_caught_up(a):
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < a.timeout:
        st, j = get_json(a.url, "/admin/subscribers", timeout=5.0)
        if st == 200:
            last = j
            if subscribers_caught_up(j):
                print(int((time.monotonic() - t0) * 1000))
                return 0
        time.sleep(a.interval_ms / 1000.0)
    err("wait-caught-up: subscribers not caught up within %ss: %s" % (a.timeout, json.dumps(last)))
    return 1


# ----------------------------------------------------------------------------
# shared pieces of the money / overload / outage checks


def pct(vals, p):
    """Nearest-rank percentile (None for no values)."""
    if not vals:
        return None
    v = sorted(vals)
    k = max(0, min(len(v) - 1, -(-len(v) * p // 100) - 1))
    return v[int(k)]


def show(x):
    return "-" if x is None else str(x)


def parse_ts(s):
    """RFC 3339 UTC ('2026-11-21T07:56:37.324Z') -> epoch ms (None if not)."""
    import datetime
    try:
        d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return None
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def phase_stats(recs):
    n = len(recs)
    kinds = collections.Counter(answer_kind(r) for r in recs)
    if not n:
        return {"n": 0, "rps": 0.0, "kinds": kinds, "share": lambda k: 0.0}
    t0 = min(r["t"] for r in recs)
    t1 = max(r["t"] + r["ms"] for r in recs)
    span = max(1, t1 - t0) / 1000.0
    lat = {k: [r["ms"] for r in recs if answer_kind(r) == k] for k in ("201", "503")}
    st = {"n": n, "span_s": span, "rps": n / span, "kinds": kinds,
          "share": lambda k: 100.0 * kinds.get(k, 0) / n}
    for k in ("201", "503"):
        st["p50_" + k] = pct(lat[k], 50)
        st["p99_" + k] = pct(lat[k], 99)
    return st


def shares_text(st, named):
    parts = ["%s=%.1f%%" % (k, st["share"](k)) for k in named]
    other = sum(v for k, v in st["kinds"].items() if k not in named)
    parts.append("other=%.1f%%" % (100.0 * other / st["n"] if st["n"] else 0.0))
    return " ".join(parts)


def stall_checker(stalls):
    def during_stall(r):
        t0, t1 = r.get("t", 0), r.get("t", 0) + r.get("ms", 0)
        return any(x["t"] < t1 and t0 < x["t"] + x["ms"] for x in stalls)
    return during_stall


def check_allowed(recs, allowed, during_stall, bad, what):
    """Every answer's kind must be in `allowed` (a client timeout during a
    stall of the client itself is void, as in verify)."""
    unclean = collections.Counter(answer_kind(r) for r in recs
                                  if answer_kind(r) not in allowed
                                  and not (answer_kind(r) == "timeout" and during_stall(r)))
    for kind, n in sorted(unclean.items()):
        ex = [r for r in recs if answer_kind(r) == kind][:3]
        bad("unclean", "%s: %d answers %s (allowed: %s), e.g. %s" % (what, n, kind, ",".join(sorted(allowed)), ex))


def poll_reconcile(url, timeout):
    """GET /admin/reconcile until balanced, halfDone 0 and no violation
    (refunds and voids travel after the durable change): -> (last json, ms or None)."""
    t0 = time.monotonic()
    last = None
    while True:
        st, j = get_json(url, "/admin/reconcile", timeout=5.0)
        if st == 200 and isinstance(j, dict):
            last = j
            if j.get("balanced") is True and (j.get("orders") or {}).get("halfDone") == 0 \
                    and j.get("violationCount") == 0 and not j.get("violations"):
                return j, int((time.monotonic() - t0) * 1000)
        if time.monotonic() - t0 > timeout:
            return last, None
        time.sleep(0.25)


def report_problems(label, problems):
    kinds = collections.Counter(k for k, _ in problems)
    shown = collections.Counter()
    for k, text in problems:
        shown[k] += 1
        if shown[k] <= 10:
            err("# %s FAIL [%s] %s" % (label, k, text))
    for k, n in kinds.items():
        if n > 10:
            err("# %s FAIL [%s] ... and %d more" % (label, k, n - 10))


def check_money(a, recs, bad, exact, cancelled_amt=0, cancelled_n=0):
    """/admin/reconcile (bounded poll) and the gateway's books against the
    client's own record. exact: every answer is known (no kill, no lost
    answer), so the client's 201s are exactly the confirmed orders."""
    rec, ms = poll_reconcile(a.url, a.reconcile_timeout)
    info = {"balanced": 0, "half_done": -1, "violations": -1, "reconciled_in_ms": ms}
    if rec is None:
        bad("reconcile", "GET /admin/reconcile never answered 200")
        return info
    orders = rec.get("orders") or {}
    info.update(balanced=int(rec.get("balanced") is True), half_done=orders.get("halfDone", -1),
                violations=rec.get("violationCount", -1))
    if ms is None:
        bad("reconcile", "not balanced within %ss: %s" % (a.reconcile_timeout, json.dumps(rec)[:2000]))
    err("# %s: reconcile %s (after %s ms)" % (a.label, json.dumps({k: v for k, v in rec.items() if k != "violations"}),
                                             show(ms)))
    for v in (rec.get("violations") or [])[:10]:
        err("# %s: violation %s" % (a.label, json.dumps(v)))
    st, gw = get_json(a.url, "/admin/payments/gateway", timeout=5.0)
    if st != 200 or not isinstance(gw, dict):
        bad("gateway", "GET /admin/payments/gateway -> %s" % st)
        gw = {}
    err("# %s: gateway %s" % (a.label, json.dumps(gw)))
    acked = [r for r in recs if 200 <= r.get("st", 0) < 300 and not r.get("op")]
    for r in acked:
        if not isinstance(r.get("amt"), int):
            bad("amount", "a 201 without an integer amount: %s" % r)
    client_sum = sum(r["amt"] for r in acked if isinstance(r.get("amt"), int))
    client_net = client_sum - cancelled_amt
    n201 = len({r.get("oid") for r in acked})
    rejected_ids = {r["oid_err"] for r in recs if r.get("oid_err") and r.get("st") in (402, 503)}
    indoubt = [r for r in recs if r.get("st", 0) == 0 or (r.get("st") in (500, 503, 504) and not r.get("oid_err"))]
    info.update(client_net=client_net, gateway_net=gw.get("net"), confirmed_amount=rec.get("confirmedAmount"))
    if gw.get("net") != rec.get("confirmedAmount") or (rec.get("gateway") or {}).get("net") != gw.get("net"):
        bad("money", "gateway net %s, reconcile gateway net %s, confirmed amount %s"
            % (gw.get("net"), (rec.get("gateway") or {}).get("net"), rec.get("confirmedAmount")))
    n_conf, n_canc, n_rej = orders.get("confirmed", -1), orders.get("cancelled", -1), orders.get("rejected", -1)
    total = n_conf + n_canc + n_rej + max(0, orders.get("halfDone", 0))
    if exact:
        if client_net != gw.get("net"):
            bad("money", "the client's 201s add up to %d (less %d cancelled), the gateway's net is %s"
                % (client_sum, cancelled_amt, gw.get("net")))
        if n_conf != n201 - cancelled_n or n_canc != cancelled_n:
            bad("count", "reconcile counts %s confirmed and %s cancelled orders; the client got %d 201s and "
                "cancelled %d" % (n_conf, n_canc, n201, cancelled_n))
        if n_rej != len(rejected_ids):
            bad("count", "reconcile counts %s rejected orders; the client got %d 402/503 answers with an "
                "orderId" % (n_rej, len(rejected_ids)))
        if indoubt:
            bad("count", "%d answers without an outcome in a drill where every answer is known, e.g. %s"
                % (len(indoubt), indoubt[:3]))
    else:
        if gw.get("net") is None or client_net > gw.get("net"):
            bad("money", "the client's 201s add up to %d, more than the gateway's net %s" % (client_net, gw.get("net")))
        if n_conf < n201 - cancelled_n:
            bad("count", "reconcile counts %s confirmed orders, the client got %d 201s" % (n_conf, n201))
        if n_conf - (n201 - cancelled_n) > len(indoubt):
            bad("count", "%d confirmed orders the client got no 201 for, but only %d answers were in doubt"
                % (n_conf - (n201 - cancelled_n), len(indoubt)))
        if n_rej < len(rejected_ids):
            bad("count", "reconcile counts %s rejected orders, the client got %d 402/503 with an orderId"
                % (n_rej, len(rejected_ids)))
        if total > n201 + len(rejected_ids) + len(indoubt):
            bad("count", "%d order records, but only %d 201s + %d rejections + %d answers in doubt"
                % (total, n201, len(rejected_ids), len(indoubt)))
    return info


def check_payment_answers(recs, bad, strict_503):
    """402 and payment-unavailable 503 answers carry the orderId; with
    strict_503 every 503 is a payment one (the drill injects nothing else)."""
    for r in recs:
        st, ty = r.get("st"), str(r.get("type") or "")
        if st == 402 and not r.get("oid_err"):
            bad("problem", "a 402 without orderId: %s" % r)
        if st == 503:
            if "payment" in ty and not r.get("oid_err"):
                bad("problem", "a payment 503 without orderId: %s" % r)
            if strict_503 and "payment" not in ty:
                bad("problem", "a 503 whose problem type is not about payment: %s" % r)


# ----------------------------------------------------------------------------
# overload-report


def cmd_overload_report(a):
    problems = []

    def bad(kind, text):
        problems.append((kind, text))

    phases = []  # (name, recs)
    for spec in a.phase:
        name, _, path = spec.partition("=")
        phases.append((name, load_records([path])))
    allowed = {}
    for spec in a.allowed or []:
        name, _, lst = spec.partition("=")
        allowed[name] = set(lst.split(","))
    stalls = load_records(a.stalls or [])
    during_stall = stall_checker(stalls)
    if stalls:
        err("# %s: NOTE the load driver was descheduled %d times (longest %d ms): machine stalls"
            % (a.label, len(stalls), max(x["ms"] for x in stalls)))
    all_recs = [r for _, rs in phases for r in rs]
    by_name = dict(phases)
    for name, rs in phases:
        st = phase_stats(rs)
        err("# %s: phase %s: %d requests in %.1f s (%.1f req/s) %s; 201 p50/p99 %s/%s ms; 503 p50/p99 %s/%s ms"
            % (a.label, name, st["n"], st.get("span_s", 0), st["rps"], dict(sorted(st["kinds"].items())),
               show(st.get("p50_201")), show(st.get("p99_201")), show(st.get("p50_503")), show(st.get("p99_503"))))
        if name in allowed:
            check_allowed(rs, allowed[name], during_stall, bad, "phase " + name)
    check_payment_answers(all_recs, bad, a.strict_503)
    main_name = phases[0][0]
    main = phase_stats(by_name[main_name])
    if main["n"] == 0:
        bad("load", "phase %s sent no request" % main_name)
    elif main["kinds"].get("201", 0) == 0:
        bad("load", "phase %s: not a single 201" % main_name)

    # the breaker
    st, brk = get_json(a.url, "/admin/payments/breaker", timeout=5.0)
    if st != 200 or not isinstance(brk, dict):
        bad("breaker", "GET /admin/payments/breaker -> %s" % st)
        brk = {}
    trans = brk.get("transitions") or []
    for t in trans[-20:]:
        err("# %s: breaker %s -> %s at %s: %s" % (a.label, t.get("from"), t.get("to"), t.get("at"), t.get("why")))
    load_transitions = None
    if a.breaker_after_load:
        with open(a.breaker_after_load) as f:
            b1 = json.load(f)
        load_transitions = b1.get("transitionsTotal")
        err("# %s: breaker after the load: %s, %s transitions, calls %s, failures %s, refused %s"
            % (a.label, b1.get("state"), load_transitions, b1.get("calls"), b1.get("failures"), b1.get("refused")))
    else:
        load_transitions = brk.get("transitionsTotal")
    line = ["store=%s" % a.store, "mode=%s" % a.mode, "requests=%d" % main["n"], "rps=%.1f" % main["rps"],
            shares_text(main, a.shares.split(",")),
            "p50_201_ms=%s" % show(main.get("p50_201")), "p99_201_ms=%s" % show(main.get("p99_201")),
            "p50_503_ms=%s" % show(main.get("p50_503")), "p99_503_ms=%s" % show(main.get("p99_503")),
            "breaker_transitions=%s" % show(load_transitions)]
    if a.kills:
        line += ["kills=%d" % a.kills, "recovered_in_ms=%s" % a.recovered_ms]

    if a.open_phase:
        rs = by_name.get(a.open_phase, [])
        opened = [t for t in trans if t.get("to") == "open" and (parse_ts(t.get("at")) or 0) >= a.fault_at - 5]
        if not opened:
            bad("breaker", "no transition to open after the payment fault (transitions %s)" % trans[-10:])
        open_after = (parse_ts(opened[0]["at"]) - a.fault_at) if opened else None
        refused = [r for r in rs if r.get("brk")]
        counted = [r for r in refused if not during_stall(r)]
        p99_ref = pct([r["ms"] for r in counted], 99)
        p50_ref = pct([r["ms"] for r in counted], 50)
        max_ref = max((r["ms"] for r in counted), default=None)
        after_open = [r for r in rs if r.get("st") == 503 and a.open_at and r["t"] >= a.open_at]
        p99_after = pct([r["ms"] for r in after_open if not during_stall(r)], 99)
        err("# %s: open phase: %d requests, %d refused by the open breaker (p50/p99/max %s/%s/%s ms, %d void "
            "by stalls); all 503s after it was seen open: %d, p99 %s ms"
            % (a.label, len(rs), len(refused), show(p50_ref), show(p99_ref), show(max_ref),
               len(refused) - len(counted), len(after_open), show(p99_after)))
        if not refused:
            bad("breaker", "no 503 refused by the open breaker in phase %s" % a.open_phase)
        elif p99_ref is not None and p99_ref > a.open_p99_limit_ms:
            slow = sorted(counted, key=lambda r: -r["ms"])[:3]
            bad("breaker", "p99 of the open breaker's 503s is %d ms (limit %d), e.g. %s"
                % (p99_ref, a.open_p99_limit_ms, slow))
        for r in refused:
            if "payment" not in str(r.get("type")) or not r.get("ra"):
                bad("breaker", "an open-breaker 503 without a payment problem type or Retry-After: %s" % r)
                break
        line += ["open_after_ms=%s" % show(open_after), "refused_503=%d" % len(refused),
                 "p99_refused_503_ms=%s" % show(p99_ref), "max_refused_503_ms=%s" % show(max_ref)]
    if a.recover_phase:
        rs = by_name.get(a.recover_phase, [])
        if brk.get("state") != "closed":
            bad("breaker", "the breaker is %r at the end, not closed" % brk.get("state"))
        closes = [t for t in trans if t.get("to") == "closed" and (parse_ts(t.get("at")) or 0) >= a.clear_at - 5]
        if not a.closed_at or not closes:
            bad("breaker", "the breaker did not close by itself after the fault was cleared")
        ok_after = [r for r in rs if r.get("st") == 201 and a.closed_at and r["t"] >= a.closed_at]
        if not ok_after:
            bad("breaker", "no 201 after the breaker closed again (phase %s: %s)"
                % (a.recover_phase, dict(collections.Counter(answer_kind(r) for r in rs))))
        closed_after = (parse_ts(closes[0]["at"]) - a.clear_at) if closes else None
        line += ["closed_after_clear_ms=%s" % show(closed_after), "201_after_close=%d" % len(ok_after)]
        line += ["transitions_total=%s" % show(brk.get("transitionsTotal"))]

    money = check_money(a, all_recs, bad, a.exact_money)
    line += ["balanced=%d" % money["balanced"], "half_done=%s" % money["half_done"],
             "violations=%s" % money["violations"], "reconciled_in_ms=%s" % show(money["reconciled_in_ms"]),
             "client_net=%s" % money.get("client_net"), "gateway_net=%s" % show(money.get("gateway_net"))]
    vr = {}
    if a.verify_result and os.path.exists(a.verify_result):
        with open(a.verify_result) as f:
            vr = json.load(f)
    else:
        bad("verify", "no result of the order verification (%s)" % a.verify_result)
    if a.verify_rc:
        bad("verify", "the order verification failed (see above)")
    line += ["lost_acked=%s" % vr.get("lost_acked", -1), "oversold=%s" % vr.get("oversold", -1),
             "duplicate=%s" % vr.get("duplicate", -1)]
    report_problems(a.label, problems)
    line.append("failures=%d" % (len(problems) + vr.get("failures", 0)))
    print(" ".join(line), flush=True)
    return 0 if not problems else 1


# ----------------------------------------------------------------------------
# outage-verify


def cmd_outage_verify(a):
    t_start = time.monotonic()
    problems = []

    def bad(kind, text):
        problems.append((kind, text))

    recs = [r for r in load_records(a.records) if not r.get("op")]
    cancels = load_records(a.cancels or [])
    stalls = load_records(a.stalls or [])
    during_stall = stall_checker(stalls)
    specs = {r["id"]: r["capacity"] for r in read_resources(a.resources)}
    check_allowed(recs, set(a.allowed.split(",")), during_stall, bad, "orders")
    check_payment_answers(recs, bad, True)
    hist = collections.Counter(answer_kind(r) for r in recs)
    err("# %s: %d orders %s, %d cancels %s" % (a.label, len(recs), dict(sorted(hist.items())), len(cancels),
                                                dict(collections.Counter(answer_kind(c) for c in cancels))))

    # the client's own record
    orders = {}  # oid -> {"cust", "rid", "amt", "status"}
    for r in recs:
        if r.get("st") == 201 and r.get("oid"):
            if r["oid"] in orders:
                bad("duplicate", "order %s acked twice" % r["oid"])
            if r.get("ost") != "confirmed":
                bad("unclean", "a 201 with status %r: %s" % (r.get("ost"), r))
            orders[r["oid"]] = {"cust": r.get("cust"), "rid": r["rid"], "amt": r.get("amt"), "status": "confirmed",
                                "acked": True}
        elif r.get("st") in (402, 503) and r.get("oid_err"):
            orders[r["oid_err"]] = {"cust": r.get("cust"), "rid": r["rid"], "amt": None, "status": "rejected",
                                    "acked": False}
    cancelled_amt = cancelled_n = 0
    for c in cancels:
        o = orders.get(c.get("oid"))
        if c.get("st") != 200 or c.get("ost") != "cancelled":
            bad("cancel", "a cancel of a confirmed order answered %s %s: %s" % (answer_kind(c), c.get("type"), c))
            continue
        if o is None or o["status"] != "confirmed":
            bad("cancel", "cancelled an order the client does not hold as confirmed: %s" % c)
            continue
        o["status"] = "cancelled"
        cancelled_n += 1
        cancelled_amt += o["amt"] or 0
    by_cust = collections.defaultdict(dict)
    by_rid = collections.defaultdict(dict)
    for oid, o in orders.items():
        if not o["cust"]:
            bad("record", "order %s without a customer in the record" % oid)
            continue
        by_cust[o["cust"]][oid] = o
        by_rid[o["rid"]][oid] = o
    n_acked = sum(1 for o in orders.values() if o["acked"])
    n_rej = sum(1 for o in orders.values() if o["status"] == "rejected")

    # the outage itself
    acked_during = sum(1 for r in recs if r.get("st") == 201 and a.outage_from <= r["t"] <= a.outage_to)
    if acked_during == 0:
        bad("outage", "no order was accepted (201) during the subscriber outage")
    lag_text = []
    snaps = []
    for path in (a.snap_stopped, a.snap_before_start):
        with open(path) as f:
            snaps.append({x["name"]: x for x in (json.load(f).get("subscribers") or [])})
    for name in a.stopped.split(","):
        s0, s1 = snaps[0].get(name), snaps[1].get(name)
        if not s0 or not s1:
            bad("outage", "subscriber %s missing from /admin/subscribers" % name)
            continue
        lag_text.append("%s:%s->%s" % (name, s0.get("lag"), s1.get("lag")))
        if s0.get("running") or s1.get("running"):
            bad("outage", "subscriber %s reported running while stopped: %s / %s" % (name, s0, s1))
        if not (s1.get("lag", 0) > s0.get("lag", 0)):
            bad("outage", "the lag of the stopped %s did not grow: %s -> %s" % (name, s0.get("lag"), s1.get("lag")))
        if s1.get("cursor") != s0.get("cursor"):
            bad("outage", "the stopped %s moved its cursor %s -> %s" % (name, s0.get("cursor"), s1.get("cursor")))

    money = check_money(a, recs, bad, True, cancelled_amt, cancelled_n)

    # the views, against the client's record (bounded retries: the views are eventual)
    def check_views():
        vp = []

        def vbad(kind, text):
            vp.append((kind, text))

        counts = collections.Counter()
        got = fetch_orders(a.url, sorted(orders))
        for oid, o in orders.items():
            st, j = got.get(oid, (0, None))
            if st != 200 or not isinstance(j, dict) or j.get("status") != o["status"]:
                counts["wrong_status"] += 1
                vbad("order", "order %s (%s): GET -> %s status %s, expected %s"
                     % (oid, o["cust"], st, (j or {}).get("status") if isinstance(j, dict) else None, o["status"]))
        c = Client(a.url, 5.0)
        try:
            for cust in sorted(by_cust):
                mine = by_cust[cust]
                expect = set()
                for oid, o in mine.items():
                    if o["status"] == "rejected":
                        expect.add((oid, "booking-rejected"))
                    else:
                        expect.add((oid, "booking-confirmed"))
                        if o["status"] == "cancelled":
                            expect.add((oid, "booking-cancelled"))
                counts["expected"] += len(expect)
                st, j, _, e = c.request("GET", "/v1/customers/%s/notifications" % cust)
                notes = j.get("notifications") if st == 200 and isinstance(j, dict) else None
                if not isinstance(notes, list):
                    vbad("notifications", "%s: GET notifications -> %s %s" % (cust, st, e or ""))
                    counts["missing"] += len(expect)
                    continue
                counts["notifications"] += len(notes)
                pairs = collections.Counter((n.get("orderId"), n.get("kind")) for n in notes)
                for p, k in pairs.items():
                    if k > 1:
                        counts["duplicate"] += k - 1
                        vbad("duplicate", "%s: notification %s x%d" % (cust, p, k))
                for p in sorted(expect - set(pairs)):
                    counts["missing"] += 1
                    vbad("missing", "%s: no notification %s" % (cust, p))
                for p in sorted(set(pairs) - expect):
                    counts["unexpected"] += 1
                    vbad("unexpected", "%s: notification %s for no order the client knows in that state" % (cust, p))
                for n in notes:
                    o = mine.get(n.get("orderId"))
                    if o and o["amt"] is not None and n.get("kind") != "booking-rejected" and n.get("amount") != o["amt"]:
                        counts["wrong_amount"] += 1
                        vbad("notifications", "%s: notification %s amount %s, the 201 said %s"
                             % (cust, n.get("orderId"), n.get("amount"), o["amt"]))
                    if n.get("customerId") not in (None, cust):
                        counts["unexpected"] += 1
                        vbad("notifications", "%s: notification for customer %s" % (cust, n.get("customerId")))
                st, j, _, e = c.request("GET", "/v1/customers/%s/mypage" % cust)
                mp = j.get("orders") if st == 200 and isinstance(j, dict) else None
                if not isinstance(mp, list):
                    counts["mypage_bad"] += 1
                    vbad("mypage", "%s: GET mypage -> %s %s" % (cust, st, e or ""))
                    continue
                seen = {}
                for x in mp:
                    if x.get("orderId") in seen:
                        counts["mypage_bad"] += 1
                        vbad("mypage", "%s: order %s listed twice" % (cust, x.get("orderId")))
                    seen[x.get("orderId")] = x
                for oid, o in sorted(mine.items()):
                    x = seen.get(oid)
                    want_pay = {"confirmed": "captured", "cancelled": "refunded"}.get(o["status"])
                    if x is None:
                        counts["mypage_bad"] += 1
                        vbad("mypage", "%s: order %s (%s) not on mypage" % (cust, oid, o["status"]))
                    elif x.get("status") != o["status"]:
                        counts["mypage_bad"] += 1
                        vbad("mypage", "%s: order %s is %r on mypage, expected %r" % (cust, oid, x.get("status"),
                                                                                       o["status"]))
                    elif want_pay and (x.get("payment") or {}).get("status") != want_pay:
                        counts["mypage_bad"] += 1
                        vbad("mypage", "%s: order %s payment %r on mypage, expected %r"
                             % (cust, oid, (x.get("payment") or {}).get("status"), want_pay))
                    elif o["amt"] is not None and x.get("amount") != o["amt"]:
                        counts["mypage_bad"] += 1
                        vbad("mypage", "%s: order %s amount %s on mypage, the 201 said %s"
                             % (cust, oid, x.get("amount"), o["amt"]))
                for oid in sorted(set(seen) - set(mine)):
                    counts["mypage_bad"] += 1
                    vbad("mypage", "%s: mypage lists order %s the client never got an answer with" % (cust, oid))
                if isinstance(j.get("notifications"), list) and len(j["notifications"]) != len(notes):
                    counts["mypage_bad"] += 1
                    vbad("mypage", "%s: mypage shows %d notifications, /notifications %d"
                         % (cust, len(j["notifications"]), len(notes)))
            for rid in sorted(specs):
                mine = by_rid.get(rid, {})
                live = [o for o in mine.values() if o["status"] == "confirmed"]
                canc = [o for o in mine.values() if o["status"] == "cancelled"]
                want = {"bookings": len(live) + len(canc), "active": len(live), "cancelled": len(canc),
                        "rejected": sum(1 for o in mine.values() if o["status"] == "rejected"),
                        "captured": sum(o["amt"] for o in live + canc),
                        "refunds": sum(o["amt"] for o in canc),
                        "revenue": sum(o["amt"] for o in live)}
                st, j, _, e = c.request("GET", "/v1/resources/%s/report" % rid)
                if st != 200 or not isinstance(j, dict):
                    counts["report_bad"] += 1
                    vbad("report", "%s: GET report -> %s %s" % (rid, st, e or ""))
                    continue
                diff = {k: (j.get(k), v) for k, v in want.items() if j.get(k) != v}
                if diff:
                    counts["report_bad"] += 1
                    vbad("report", "%s: report (got, expected) %s" % (rid, diff))
                listed = {x.get("orderId"): x for x in (j.get("orders") or [])}
                wrong = [oid for oid, o in mine.items() if (listed.get(oid) or {}).get("status") != o["status"]]
                extra = sorted(set(listed) - set(mine))
                if wrong or extra:
                    counts["report_bad"] += 1
                    vbad("report", "%s: %d orders missing or in another state on the report (e.g. %s), %d not "
                         "known to the client (e.g. %s)" % (rid, len(wrong), wrong[:3], len(extra), extra[:3]))
        finally:
            c.close()
        return vp, counts

    deadline = time.monotonic() + a.views_timeout
    tries = 0
    while True:
        tries += 1
        vp, counts = check_views()
        if not vp or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if tries > 1:
        err("# %s: the views agreed after %d tries" % (a.label, tries) if not vp else
            "# %s: the views still disagree after %d tries (%ss)" % (a.label, tries, a.views_timeout))
    problems += vp
    report_problems(a.label, problems)
    err("# %s: checked %d customers, %d resources, %d orders in %d ms"
        % (a.label, len(by_cust), len(specs), len(orders), int((time.monotonic() - t_start) * 1000)))
    line = ["store=%s" % a.store, "mode=%s" % a.mode, "requests=%d" % len(recs), "acked=%d" % n_acked,
            "rejected=%d" % n_rej, "refused_409=%d" % hist.get("409", 0), "cancelled=%d" % cancelled_n,
            "customers=%d" % len(by_cust), "stopped=%s" % a.stopped,
            "outage_ms=%d" % (a.outage_to - a.outage_from), "acked_during_outage=%d" % acked_during,
            "lag=%s" % ",".join(lag_text), "caught_up_in_ms=%s" % a.caught_up_ms,
            "notifications=%d" % counts["notifications"], "expected=%d" % counts["expected"],
            "missing=%d" % counts["missing"], "unexpected=%d" % counts["unexpected"],
            "duplicate=%d" % counts["duplicate"], "wrong_amount=%d" % counts["wrong_amount"],
            "wrong_status=%d" % counts["wrong_status"],
            "mypage_bad=%d" % counts["mypage_bad"], "report_bad=%d" % counts["report_bad"],
            "balanced=%d" % money["balanced"], "half_done=%s" % money["half_done"],
            "client_net=%s" % money.get("client_net"), "gateway_net=%s" % show(money.get("gateway_net")),
            "failures=%d" % len(problems)]
    print(" ".join(line), flush=True)
    return 0 if not problems else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run")
    r.add_argument("--url", required=True)
    r.add_argument("--resources", required=True, help="JSON list written by register")
    r.add_argument("--only", help="comma-separated subset of resource ids to load")
    r.add_argument("--clients", type=int, default=8)
    r.add_argument("--duration", type=float, required=True, help="seconds (upper bound)")
    r.add_argument("--max-requests", type=int, default=0)
    r.add_argument("--stop-file")
    r.add_argument("--timeout", type=float, default=5.0, help="client timeout per request, seconds")
    r.add_argument("--quantity", type=int, default=1)
    r.add_argument("--pause-on-error-ms", type=int, default=50)
    r.add_argument("--pause-on-503-ms", type=int, default=20)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--stall-ms", type=int, default=1000,
                   help="log to OUT.stalls when this process is not scheduled for this long")
    r.add_argument("--tag", default="l")
    r.add_argument("--customers", type=int, default=0,
                   help="draw customers from a pool of N (default 0: a new customer per order)")
    r.add_argument("--cancel-rate", type=float, default=0.0,
                   help="after a 201, cancel one of the client's own confirmed orders with this probability")
    r.add_argument("--cancel-out", help="records of the cancels (default OUT.cancels)")
    r.add_argument("--out", required=True)

    w = sub.add_parser("wait-ready")
    w.add_argument("--url", required=True)
    w.add_argument("--timeout", type=float, default=30)
    w.add_argument("--interval-ms", type=int, default=20)

    po = sub.add_parser("probe-order")
    po.add_argument("--url", required=True)
    po.add_argument("--resource", required=True)
    po.add_argument("--timeout", type=float, default=30)
    po.add_argument("--request-timeout", type=float, default=5)
    po.add_argument("--interval-ms", type=int, default=20)
    po.add_argument("--out", required=True)

    g = sub.add_parser("register")
    g.add_argument("--url", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("specs", nargs="+", help="id:capacity")

    wr = sub.add_parser("wait-resources")
    wr.add_argument("--url", required=True)
    wr.add_argument("--resources", required=True)
    wr.add_argument("--timeout", type=float, default=30)
    wr.add_argument("--interval-ms", type=int, default=20)
    wr.add_argument("--since-ms", type=int, default=0, help="print the ms since this epoch ms instead")

    c = sub.add_parser("crash-loop")
    c.add_argument("--url", required=True)
    c.add_argument("--n", type=int, default=3)
    c.add_argument("--interval-ms", type=int, default=300)
    c.add_argument("--duration", type=float, required=True)
    c.add_argument("--stop-file")
    c.add_argument("--last-file", required=True)

    v = sub.add_parser("verify")
    v.add_argument("--url", required=True)
    v.add_argument("--records", nargs="+", required=True)
    v.add_argument("--stalls", nargs="*", help="stall files of the load driver (OUT.stalls)")
    v.add_argument("--resources", required=True)
    v.add_argument("--redis", type=int, help="port of the Redis behind the server (store cross-check)")
    v.add_argument("--redis-prefix", default="troupe:")
    v.add_argument("--recovered-ms", default="-1")
    v.add_argument("--settle-timeout", type=float, default=15)
    v.add_argument("--allowed-statuses", help="e.g. 201,409,503,conn: any other answer fails ('conn' = refused/reset, "
                   "'timeout' = the client timed out)")
    v.add_argument("--window", action="append",
                   help="NAME,T0,T1,MAXMS: 503s to requests started in [T0,T1] must take <= MAXMS")
    v.add_argument("--combine", help="result JSON of an earlier verify of the same drill")
    v.add_argument("--result-out")
    v.add_argument("--label", default="verify")
    v.add_argument("--summary", choices=["stdout", "stderr"], default="stdout")

    ge = sub.add_parser("get")
    ge.add_argument("--url", required=True)
    ge.add_argument("--path", required=True)

    fa = sub.add_parser("fault")
    fa.add_argument("--url", required=True)
    fa.add_argument("body", help='JSON, e.g. {"stop":"notifier"}')

    wb = sub.add_parser("wait-breaker")
    wb.add_argument("--url", required=True)
    wb.add_argument("--state", required=True, choices=["closed", "open", "half_open"])
    wb.add_argument("--timeout", type=float, default=30)
    wb.add_argument("--interval-ms", type=int, default=20)

    wc = sub.add_parser("wait-caught-up")
    wc.add_argument("--url", required=True)
    wc.add_argument("--timeout", type=float, default=30)
    wc.add_argument("--interval-ms", type=int, default=100)

    def money_args(q):
        q.add_argument("--url", required=True)
        q.add_argument("--label", required=True)
        q.add_argument("--store", default="embedded")
        q.add_argument("--mode", default="short")
        q.add_argument("--stalls", nargs="*")
        q.add_argument("--reconcile-timeout", type=float, default=20)

    o = sub.add_parser("overload-report")
    money_args(o)
    o.add_argument("--phase", action="append", required=True,
                   help="NAME=RECORDS (the first one is the load the figures are about)")
    o.add_argument("--allowed", action="append", help="NAME=LIST of the answers allowed in that phase")
    o.add_argument("--shares", default="201,503,409", help="answer kinds whose share is printed")
    o.add_argument("--strict-503", action="store_true", help="every 503 must be a payment problem")
    o.add_argument("--breaker-after-load", help="GET /admin/payments/breaker saved after the first phase")
    o.add_argument("--open-phase", help="the phase run while payments time out: the breaker must open")
    o.add_argument("--fault-at", type=int, default=0, help="epoch ms of the payment fault")
    o.add_argument("--open-at", type=int, default=0, help="epoch ms when the breaker was seen open")
    o.add_argument("--open-p99-limit-ms", type=int, default=50)
    o.add_argument("--recover-phase", help="the phase after the fault was cleared: the breaker must close")
    o.add_argument("--clear-at", type=int, default=0)
    o.add_argument("--closed-at", type=int, default=0, help="epoch ms when the breaker was seen closed (0: never)")
    o.add_argument("--exact-money", action="store_true",
                   help="every answer is known: the client's 201s are exactly the confirmed orders")
    o.add_argument("--kills", type=int, default=0)
    o.add_argument("--recovered-ms", default="-1")
    o.add_argument("--verify-result", help="--result-out of the order verification")
    o.add_argument("--verify-rc", type=int, default=0, help="its exit code")

    ov = sub.add_parser("outage-verify")
    money_args(ov)
    ov.add_argument("--resources", required=True)
    ov.add_argument("--records", nargs="+", required=True)
    ov.add_argument("--cancels", nargs="*")
    ov.add_argument("--allowed", default="201,402,409")
    ov.add_argument("--stopped", required=True, help="comma-separated subscribers stopped during the outage")
    ov.add_argument("--outage-from", type=int, required=True)
    ov.add_argument("--outage-to", type=int, required=True)
    ov.add_argument("--snap-stopped", required=True, help="/admin/subscribers right after the stop")
    ov.add_argument("--snap-before-start", required=True, help="/admin/subscribers right before the start")
    ov.add_argument("--caught-up-ms", default="-1")
    ov.add_argument("--views-timeout", type=float, default=10)

    a = p.parse_args()
    fn = {"run": cmd_run, "wait-ready": cmd_wait_ready, "probe-order": cmd_probe_order,
          "register": cmd_register, "wait-resources": cmd_wait_resources, "crash-loop": cmd_crash_loop,
          "verify": cmd_verify, "get": cmd_get, "fault": cmd_fault, "wait-breaker": cmd_wait_breaker,
          "wait-caught-up": cmd_wait_caught_up, "overload-report": cmd_overload_report,
          "outage-verify": cmd_outage_verify}[a.cmd]
    return fn(a)


if __name__ == "__main__":
    sys.exit(main())
