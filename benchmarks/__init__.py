"""Benchmarks of the Lobby server, each measured next to a bare aiohttp baseline in the same run.

``python -m benchmarks`` (``make bench``) starts every server in its own process on a loopback
port, drives it from separate load-generator processes and prints figures, targets and the
ratio to the baseline. The ratio is the figure to trust on a noisy machine: both sides of it
were measured minutes apart on the same cores and the same disk. Nothing here asserts; speed is
reported, not tested.

- durable check-ins per second over HTTP (1 and 32 clients, p50/p99), next to a bare handler
  doing one durable SQLite insert per request (:mod:`benchmarks.bare_insert`);
- call-next to ``ticket.called`` received by every connected display (200 and 1,000 WebSocket
  clients, p50/p99), next to a bare broadcast of one message (:mod:`benchmarks.bare_broadcast`);
- check-ins per second in a busy office (24 counters with a day's history) next to the empty
  office, and staff snapshots on a 2,000-visit day (:mod:`benchmarks.busy_office`);
- the time to the first ``/healthz`` answer and the memory after start with a year of history
  (built once, cached under ``var/bench/``), without and with a snapshot, next to an empty office
  (:mod:`benchmarks.year_start`).
"""
