#!/usr/bin/env python3
"""HTTP load for demos: THREADS loops of GET URL (a new connection each) for
SECONDS, then one JSON line: requests, failures, rate, and the versions served
over time (per 100 ms, repeats folded). URL may be several, comma-separated
(a fleet's proxies): each loop goes round them. Standard library only."""
import http.client
import json
import signal
import sys
import threading
import time
import urllib.parse

urls, seconds = sys.argv[1].split(","), float(sys.argv[2])
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 8
targets = [urllib.parse.urlsplit(url) for url in urls]
lock = threading.Lock()
samples = []  # (time, ok, body)
stop_at = time.time() + seconds


def finish_now(*_):
    """SIGTERM/SIGINT end the load early; the summary is still printed."""
    global stop_at
    stop_at = 0


signal.signal(signal.SIGTERM, finish_now)
signal.signal(signal.SIGINT, finish_now)


def worker(offset):
    turn = offset
    while time.time() < stop_at:
        started = time.time()
        target = targets[turn % len(targets)]
        turn += 1
        try:
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
            connection.request("GET", target.path or "/")
            response = connection.getresponse()
            body = response.read().decode().strip()
            ok = response.status == 200
            connection.close()
        except OSError as error:
            ok, body = False, f"error: {error}"
        with lock:
            samples.append((started, ok, body))


workers = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
for w in workers:
    w.start()
for w in workers:
    while w.is_alive():
        w.join(0.2)  # short joins, so a signal is handled at once
samples.sort()
# What was served over time: the most common version in each 100 ms slice,
# repeats folded (requests started within a few ms of a switch can land on
# either side of it, which is not a change of what is served).
slices = {}
for started, ok, body in samples:
    if ok:
        slices.setdefault(int(started * 10), []).append(body)
versions = []
for key in sorted(slices):
    bodies = slices[key]
    common = max(set(bodies), key=bodies.count)
    if not versions or versions[-1] != common:
        versions.append(common)
failed = [body for _, ok, body in samples if not ok]
span = (samples[-1][0] - samples[0][0]) if samples else 0
print(json.dumps({"requests": len(samples), "failed": len(failed), "rate": round(len(samples) / span) if span else 0,
                  "versions": versions, "examples": failed[:3]}))
