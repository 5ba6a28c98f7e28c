#!/usr/bin/env python3
"""Helpers of bench/run.sh (Python 3 standard library only, 127.0.0.1 only,
every wait bounded).

Subcommands
  wait-ready  poll GET /health/ready until 200; print the seconds it took.
  register    POST /v1/resources PREFIX1..PREFIXn (capacity mode), keep-alive.
  load        --clients closed-loop clients POST orders for --duration s
              (the seeds' load); one BENCH line with 2xx / 503 percentiles.
  seed        POST --orders orders over --resources resources and --customers
              customers (a few keep-alive clients); write the GET paths of the
              orders (/v1/orders/ID) and of the customers' pages
              (/v1/customers/ID/mypage), one per line, for bench/get.lua.
  wait-idle   poll /admin/subscribers until every subscriber runs with lag 0.
  metric      print the values of /metrics lines, one per name (0 if absent).
  check       the invariants: /admin/reconcile balanced (bounded poll), no
              order half-done, and, over every resource (paginated list),
              nothing held at rest, available >= 0, seats sold (capacity -
              available) = confirmed orders (times the quantity, 1). Prints
              one line; exit 1 if anything is violated.
  redis-info  INFO of a redis-server (raw socket): total commands, read
              events, per-command calls, used_memory, as JSON.
  redis-delta the per-order figures between two redis-info snapshots.
  report      the table: medians over the runs of every cell, ratios to the
              ceiling at the same c, the notes and the scale figures.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time


def err(*a):
    print(*a, file=sys.stderr, flush=True)


def split_url(url):
    u = url[len("http://"):] if url.startswith("http://") else url
    host, _, port = u.rstrip("/").partition(":")
    return host or "127.0.0.1", int(port or 80)


class Client:
    """One keep-alive connection; reconnects after a transport error."""

    def __init__(self, url, timeout=5.0):
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
        """-> (status, parsed JSON or raw text or None); status 0 = no answer."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
            if (resp.getheader("connection") or "").lower() == "close":
                self.close()
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, raw.decode(errors="replace")
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, None


def parallel(n_threads, items, fn):
    """fn(client_index, item) over items split among n_threads; -> list of errors."""
    errors = []
    lock = threading.Lock()

    def run(k):
        for i in range(k, len(items), n_threads):
            e = fn(k, items[i])
            if e:
                with lock:
                    errors.append(e)
                    if len(errors) > 20:
                        return

    ts = [threading.Thread(target=run, args=(k,)) for k in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


# ---------------------------------------------------------------- commands


def cmd_wait_ready(a):
    t0 = time.monotonic()
    c = Client(a.url, 1.0)
    while time.monotonic() - t0 < a.timeout:
        st, _ = c.request("GET", "/health/ready")
        if st == 200:
            print("%.2f" % (time.monotonic() - t0))
            return 0
        time.sleep(0.02)
    err("wait-ready: %s not ready within %ss" % (a.url, a.timeout))
    return 1


def cmd_register(a):
    clients = [Client(a.url, 10.0) for _ in range(a.threads)]

    def one(k, i):
        body = {"id": "%s%d" % (a.prefix, i), "type": a.type, "name": "Bench %d" % i,
                "mode": "capacity", "capacity": a.capacity, "price": a.price}
        st, j = clients[k].request("POST", "/v1/resources", body)
        return None if st == 201 else "register %s%d: HTTP %s %s" % (a.prefix, i, st, j)

    errors = parallel(a.threads, list(range(1, a.count + 1)), one)
    for e in errors[:5]:
        err(e)
    return 1 if errors else 0


def cmd_seed(a):
    clients = [Client(a.url, 10.0) for _ in range(a.threads)]
    orders = []
    lock = threading.Lock()

    def one(k, i):
        cust = "%s%d" % (a.customer_prefix, i % a.customers)
        body = {"resourceId": "%s%d" % (a.prefix, i % a.resources + 1), "customerId": cust, "quantity": 1}
        st, j = clients[k].request("POST", "/v1/orders", body)
        if st != 201 or not isinstance(j, dict) or "orderId" not in j:
            return "seed order %d: HTTP %s %s" % (i, st, j)
        with lock:
            orders.append(j["orderId"])
        return None

    errors = parallel(a.threads, list(range(a.orders)), one)
    for e in errors[:5]:
        err(e)
    if errors:
        return 1
    with open(a.orders_out, "w") as f:
        f.writelines("/v1/orders/%s\n" % o for o in sorted(orders))
    with open(a.mypage_out, "w") as f:
        f.writelines("/v1/customers/%s%d/mypage\n" % (a.customer_prefix, k)
                     for k in range(min(a.customers, a.orders)))
    return 0


def pct(xs, p):
    """the p-th percentile (nearest rank) of a sorted list; 0 when empty"""
    if not xs:
        return 0
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))]


def cmd_load(a):
    """--clients closed-loop keep-alive clients POST orders for --duration s
    (each request sent once, no pause); prints one BENCH line like
    bench/report.lua's (all answers) plus the 2xx and 503 percentiles."""
    deadline = time.monotonic() + a.duration
    lat = {}
    lock = threading.Lock()

    def client(k):
        c = Client(a.url, a.timeout)
        mine = {}
        n = 0
        while time.monotonic() < deadline:
            body = {"resourceId": "%s%d" % (a.prefix, (k + n) % a.resources + 1),
                    "customerId": "c-%d" % (k * 1000003 + n), "quantity": 1}
            n += 1
            t0 = time.monotonic()
            st, _ = c.request("POST", "/v1/orders", body)
            mine.setdefault(st, []).append(int((time.monotonic() - t0) * 1e6))
        with lock:
            for st, xs in mine.items():
                lat.setdefault(st, []).extend(xs)

    t0 = time.monotonic()
    ts = [threading.Thread(target=client, args=(k,)) for k in range(a.clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dur = time.monotonic() - t0
    every = sorted(x for xs in lat.values() for x in xs)
    ok = sorted(x for st, xs in lat.items() if 200 <= st < 300 for x in xs)
    e503 = sorted(lat.get(503, []))
    other = sum(len(xs) for st, xs in lat.items() if not (200 <= st < 300) and st not in (503, 0))
    print("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.0f connect=0 read=0 write=0 "
          "status=%d timeout=%d ok=%d ok_p50_us=%d ok_p99_us=%d n503=%d e503_p50_us=%d e503_p99_us=%d other=%d" % (
              len(every), dur * 1e6, pct(every, 50), pct(every, 99), statistics.mean(every) if every else 0,
              len(every) - len(ok) - len(lat.get(0, [])), len(lat.get(0, [])), len(ok), pct(ok, 50), pct(ok, 99),
              len(e503), pct(e503, 50), pct(e503, 99), other))
    return 0


def cmd_wait_idle(a):
    t0 = time.monotonic()
    c = Client(a.url, 30.0)
    last = None
    while time.monotonic() - t0 < a.timeout:
        st, j = c.request("GET", "/admin/subscribers")
        if st == 200 and isinstance(j, dict):
            subs = j.get("subscribers", [])
            last = {s.get("name"): s.get("lag") for s in subs}
            if subs and all(s.get("running") and s.get("lag") == 0 for s in subs):
                print("%.2f" % (time.monotonic() - t0))
                return 0
        time.sleep(0.1)
    err("wait-idle: subscribers not caught up within %ss: lag %s" % (a.timeout, last))
    return 1


def parse_metrics(text):
    vals = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, v = line.rpartition(" ")
            try:
                vals[name] = float(v)
            except ValueError:
                pass
    return vals


def cmd_metric(a):
    st, text = Client(a.url, 30.0).request("GET", "/metrics")
    if st != 200 or not isinstance(text, str):
        err("metric: GET /metrics: HTTP %s" % st)
        return 1
    vals = parse_metrics(text)
    for n in a.names:
        v = vals.get(n, 0)
        print(int(v) if v == int(v) else v)
    return 0


def list_resources(c):
    """Every resource (the paginated list); -> list or None on error."""
    out, cursor = [], None
    for _ in range(100000):
        path = "/v1/resources?limit=500" + ("&cursor=" + cursor if cursor else "")
        st, j = c.request("GET", path)
        if st != 200 or not isinstance(j, dict):
            err("check: GET %s: HTTP %s %s" % (path, st, j))
            return None
        out.extend(j.get("items", []))
        cursor = j.get("nextCursor")
        if not cursor:
            return out
    return None


def cmd_check(a):
    """The invariants after a scenario (see the module doc)."""
    c = Client(a.url, 120.0)
    t0 = time.monotonic()
    rec = None
    while time.monotonic() - t0 < a.timeout:
        st, rec = c.request("GET", "/admin/reconcile")
        if st == 200 and isinstance(rec, dict) and rec.get("balanced"):
            break
        time.sleep(0.2)
    problems = []
    if not (isinstance(rec, dict) and rec.get("balanced")):
        problems.append("reconcile not balanced within %ss: %s" % (a.timeout, json.dumps(rec)[:600]))
        rec = rec if isinstance(rec, dict) else {}
    orders = rec.get("orders", {})
    if orders.get("halfDone", 0):
        problems.append("%s half-done orders" % orders.get("halfDone"))
    if rec.get("violationCount", 0):
        problems.append("reconcile violations: %s" % json.dumps(rec.get("violations"))[:600])
    confirmed = orders.get("confirmed", 0)
    res = list_resources(c)
    sold = held = 0
    if res is None:
        problems.append("could not list the resources")
        res = []
    for r in res:
        if r.get("mode") != "capacity":
            continue
        if r.get("available", 0) < 0:
            problems.append("oversold: %s available %s" % (r.get("id"), r.get("available")))
        held += r.get("held", 0)
        sold += r.get("capacity", 0) - r.get("available", 0) - r.get("held", 0)
    if held:
        problems.append("%d units still held at rest" % held)
    if sold != confirmed:
        problems.append("seats sold %d != confirmed orders %d" % (sold, confirmed))
    if a.expect_resources is not None and len(res) != a.expect_resources:
        problems.append("%d resources listed, expected %d" % (len(res), a.expect_resources))
    if a.expect_confirmed is not None and confirmed != a.expect_confirmed:
        problems.append("%d confirmed orders, expected %d" % (confirmed, a.expect_confirmed))
    line = ("%s: reconcile balanced=%s confirmed=%s rejected=%s cancelled=%s net=%s; "
            "%d resources, seats sold=%d, held=%d" % (
                a.label, rec.get("balanced"), confirmed, orders.get("rejected"), orders.get("cancelled"),
                rec.get("gateway", {}).get("net"), len(res), sold, held))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"confirmed": confirmed, "rejected": orders.get("rejected", 0),
                       "cancelled": orders.get("cancelled", 0), "sold": sold,
                       "resources": len(res)}, f)
    if problems:
        err("INVARIANT VIOLATED (%s): %s" % (a.label, "; ".join(problems)))
        print(line + " -> VIOLATED")
        return 1
    print(line + " -> ok")
    return 0


def redis_info(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(b"INFO everything\r\n")
        buf = b""
        while b"\r\n" not in buf:
            buf += s.recv(65536)
        head, _, rest = buf.partition(b"\r\n")
        n = int(head[1:])
        while len(rest) < n + 2:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        text = rest[:n].decode()
    finally:
        s.close()
    out = {"calls": {}}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        if k.startswith("cmdstat_"):
            fields = dict(x.split("=", 1) for x in v.split(","))
            out["calls"][k[len("cmdstat_"):]] = int(fields.get("calls", 0))
        elif k in ("total_commands_processed", "total_reads_processed", "used_memory", "aof_current_size"):
            out[k] = int(v)
        elif k.startswith("db0"):
            out["keys"] = int(v.split(",")[0].split("=")[1])
    return out


def cmd_redis_info(a):
    print(json.dumps(redis_info(a.port)))
    return 0


def cmd_redis_delta(a):
    with open(a.before) as f:
        b = json.load(f)
    with open(a.after) as f:
        x = json.load(f)
    n = max(a.orders, 1)
    # INFO itself (one per snapshot) is not troupe's
    cmds = x["total_commands_processed"] - b["total_commands_processed"] - 1
    reads = x.get("total_reads_processed", 0) - b.get("total_reads_processed", 0) - 1
    per = {k: (v - b["calls"].get(k, 0)) / n for k, v in x["calls"].items()}
    per.pop("info", None)
    top = sorted(((v, k) for k, v in per.items() if v >= 0.05), reverse=True)[:6]
    print("redis commands/order %.2f (%s), read events/order %.2f" % (
        cmds / n, " ".join("%s %.2f" % (k.upper(), v) for v, k in top), reads / n))
    return 0


# ---------------------------------------------------------------- report


def fmt_ms(us):
    if us is None:
        return "-"
    ms = us / 1000.0
    return "%.2f ms" % ms if ms < 100 else "%.0f ms" % ms


def fmt_rate(x):
    return "-" if x is None else "{:,.0f}".format(x)


def cmd_report(a):
    """samples.tsv: label, c, run, 'BENCH k=v ...'; notes.tsv: label, c, text;
    lines.txt: free lines (scale figures, siege, checks); meta.txt: header."""
    cells = {}
    if os.path.exists(a.samples):
        with open(a.samples) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 4:
                    continue
                label, c, _, rest = parts[0], int(parts[1]), parts[2], parts[3]
                kv = dict(x.split("=", 1) for x in rest.split()[1:])
                dur = int(kv["duration_us"]) / 1e6
                cells.setdefault((label, c), []).append({
                    "rps": int(kv["requests"]) / dur if dur else 0,
                    "ok_rps": (int(kv["requests"]) - int(kv["status"])) / dur if dur else 0,
                    "p50": int(kv["p50_us"]), "p99": int(kv["p99_us"]),
                    "non2xx": int(kv["status"]),
                    "ok_p50": int(kv.get("ok_p50_us", 0)), "ok_p99": int(kv.get("ok_p99_us", 0)),
                    "e503_p50": int(kv.get("e503_p50_us", 0)),
                    "share503": 100.0 * int(kv.get("n503", 0)) / max(1, int(kv["requests"])), "sockerr": sum(int(kv[k]) for k in ("connect", "read", "write", "timeout")),
                })
    notes = {}
    if os.path.exists(a.notes):
        with open(a.notes) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:
                    notes.setdefault((parts[0], int(parts[1])), []).append(parts[2])

    def med(label, c, key):
        xs = cells.get((label, c))
        return statistics.median(x[key] for x in xs) if xs else None

    titles = [
        ("ceiling-POST", "ceiling POST (trivial httplib)", None),
        ("ceiling-GET", "ceiling GET (trivial httplib)", None),
        ("s1", "s1 POST /v1/orders, embedded", "ceiling-POST"),
        ("s1r", "s1 POST /v1/orders, Redis", "ceiling-POST"),
        ("s1k", "s1 POST /v1/orders, keyed, embedded", "ceiling-POST"),
        ("s2o", "s2 GET /v1/orders/{id}", "ceiling-GET"),
        ("s2m", "s2 GET /v1/customers/{id}/mypage", "ceiling-GET"),
        ("s3", "s3 seeds' load, 100 clients", None),
        ("s4", "s4 hot spot, 1 resource", "ceiling-POST"),
    ]
    rows = []
    hdr = ("scenario", "c", "req/s", "p50", "p99", "ratio", "note")
    for label, title, ceil in titles:
        cs = sorted(c for (l, c) in cells if l == label)
        for c in cs:
            rps = med(label, c, "rps")
            ratio = "-"
            if ceil:
                cr = med(ceil, c, "rps")
                ratio = "%.3f" % (rps / cr) if cr else "n/a"
            elif label.startswith("ceiling"):
                ratio = "1"
            note = list(notes.get((label, c), []))
            if label == "s3":
                ok = med(label, c, "ok_rps")
                ratio = "%.2f" % (ok / a.s3_can)
                note.insert(0, "ratio = 201/s %.0f / %.0f (100 clients at 510 ms); 201: p50 %s p99 %s; "
                            "503: %.1f %%, p50 %s" % (
                                ok, a.s3_can, fmt_ms(med(label, c, "ok_p50")), fmt_ms(med(label, c, "ok_p99")),
                                med(label, c, "share503"), fmt_ms(med(label, c, "e503_p50"))))
            if label == "s4":
                s1 = med("s1", c, "rps")
                note.insert(0, "vs s1 %.2f%s" % (rps / s1, "" if rps / s1 >= 0.5 else " (<0.5)") if s1 else "vs s1 n/a")
            bad = sum(x["non2xx"] for x in cells[(label, c)])
            sock = sum(x["sockerr"] for x in cells[(label, c)])
            if bad:
                note.append("%d non-2xx" % bad)
            if sock:
                note.append("%d socket errors" % sock)
            rows.append((title, str(c), fmt_rate(rps), fmt_ms(med(label, c, "p50")),
                         fmt_ms(med(label, c, "p99")), ratio, "; ".join(note)))
    widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
    out = []
    if os.path.exists(a.meta):
        with open(a.meta) as f:
            out.extend(l.rstrip("\n") for l in f)
    out.append("")

    def fmt(r):
        return "  ".join(x.ljust(w) if i in (0, 6) else x.rjust(w) for i, (x, w) in enumerate(zip(r, widths))).rstrip()

    if rows:
        out.append(fmt(hdr))
        out.append("  ".join("-" * w for w in widths))
        out.extend(fmt(r) for r in rows)
    if os.path.exists(a.lines):
        with open(a.lines) as f:
            extra = [l.rstrip("\n") for l in f]
        if extra:
            out.append("")
            out.extend(extra)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("wait-ready")
    s.add_argument("--url", required=True)
    s.add_argument("--timeout", type=float, default=60)

    s = sub.add_parser("register")
    s.add_argument("--url", required=True)
    s.add_argument("--prefix", default="bench-")
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--capacity", type=int, required=True)
    s.add_argument("--price", type=int, default=100)
    s.add_argument("--type", default="musical")
    s.add_argument("--threads", type=int, default=4)

    s = sub.add_parser("seed")
    s.add_argument("--url", required=True)
    s.add_argument("--prefix", default="bench-")
    s.add_argument("--resources", type=int, required=True)
    s.add_argument("--orders", type=int, required=True)
    s.add_argument("--customers", type=int, required=True)
    s.add_argument("--customer-prefix", default="sc-")
    s.add_argument("--threads", type=int, default=8)
    s.add_argument("--orders-out", required=True)
    s.add_argument("--mypage-out", required=True)

    s = sub.add_parser("load")
    s.add_argument("--url", required=True)
    s.add_argument("--clients", type=int, default=100)
    s.add_argument("--duration", type=float, required=True)
    s.add_argument("--resources", type=int, default=50)
    s.add_argument("--prefix", default="bench-")
    s.add_argument("--timeout", type=float, default=10)

    s = sub.add_parser("wait-idle")
    s.add_argument("--url", required=True)
    s.add_argument("--timeout", type=float, default=60)

    s = sub.add_parser("metric")
    s.add_argument("--url", required=True)
    s.add_argument("names", nargs="+")

    s = sub.add_parser("check")
    s.add_argument("--url", required=True)
    s.add_argument("--label", default="check")
    s.add_argument("--timeout", type=float, default=30)
    s.add_argument("--expect-resources", type=int)
    s.add_argument("--expect-confirmed", type=int)
    s.add_argument("--json-out")

    s = sub.add_parser("redis-info")
    s.add_argument("--port", type=int, required=True)

    s = sub.add_parser("redis-delta")
    s.add_argument("--before", required=True)
    s.add_argument("--after", required=True)
    s.add_argument("--orders", type=int, required=True)

    s = sub.add_parser("report")
    s.add_argument("--samples", required=True)
    s.add_argument("--notes", required=True)
    s.add_argument("--lines", required=True)
    s.add_argument("--meta", required=True)
    s.add_argument("--out")
    s.add_argument("--s3-can", type=float, default=100 / 0.510)

    a = p.parse_args()
    return globals()["cmd_" + a.cmd.replace("-", "_")](a)


if __name__ == "__main__":
    sys.exit(main())
