-- Shared by the bench scripts (dofile'd): done() prints one line that
-- bench/run.sh collects. Latencies in microseconds.
function bench_report(s, latency)
  local e = s.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.0f "
    .. "connect=%d read=%d write=%d status=%d timeout=%d\n",
    s.requests, s.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
function done(s, latency, requests) bench_report(s, latency) end
-- thread number (0, 1, ...) in every thread's state as the global `tid`
local nthreads = 0
function setup(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
