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
                 "ra": the Retry-After header of a 503}.
  wait-ready     poll GET /health/ready until 200; print the ms it took.
  probe-order    wait for ready, then POST one order at a time until one gets
                 a 2xx; every attempt is recorded (JSONL, like run); print ms.
  register       POST /v1/resources for each "id:capacity"; write the list.
  wait-resources poll until every resource answers GET 200; print ms.
  crash-loop     POST /admin/faults {"crash":{"randomResources":N}} every
                 --interval-ms; write the epoch ms of the last crash.
  verify         the invariants, after the drill, against the running server
                 (and, with --redis, the Redis store behind it). See verify().

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

    def worker(n):
        rnd = random.Random(a.seed * 1000 + n)
        cli = Client(a.url, a.timeout)
        k = 0
        while not stop.is_set() and time.monotonic() < deadline:
            if a.stop_file and os.path.exists(a.stop_file):
                break
            if not take_ticket():
                break
            rid = rnd.choice(resources)
            body = {"resourceId": rid, "customerId": "c-%s-%d-%d" % (a.tag, n, k), "quantity": a.quantity}
            k += 1
            fresh = cli.conn is None  # this request opens a new connection
            t0 = now_ms()
            m0 = time.monotonic()
            st, j, hdrs, e = cli.request("POST", "/v1/orders", body)
            rec = {"t": t0, "ms": int((time.monotonic() - m0) * 1000), "st": st, "rid": rid, "q": a.quantity,
                   "c": n, "new": fresh}
            if 200 <= st < 300:
                rec["oid"] = j.get("orderId") if isinstance(j, dict) else None
                rec["ost"] = j.get("status") if isinstance(j, dict) else None
            elif st:
                if st == 503:
                    rec["ra"] = hdrs.get("retry-after")
                if isinstance(j, dict):
                    rec["type"] = j.get("type")
                    if j.get("orderId"):
                        rec["oid_err"] = j.get("orderId")
            if e:
                rec["err"] = e
            line = json.dumps(rec, separators=(",", ":")) + "\n"
            with lock:
                out.write(line)
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
                    o = json.loads(v)
                except ValueError:
                    bad("store", "order record %s is not JSON" % oid)
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
                        qty += int(json.loads(v).get("quantity", 0))
                    except ValueError:
                        bad("store", "alloc record %s/%s is not JSON" % (rid, oid))
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

    a = p.parse_args()
    fn = {"run": cmd_run, "wait-ready": cmd_wait_ready, "probe-order": cmd_probe_order,
          "register": cmd_register, "wait-resources": cmd_wait_resources, "crash-loop": cmd_crash_loop,
          "verify": cmd_verify}[a.cmd]
    return fn(a)


if __name__ == "__main__":
    sys.exit(main())
