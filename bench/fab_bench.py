#!/usr/bin/env python3
"""Fabric / paramiko side of swiftfab's benchmark, driven by bench/run.

    fab_bench.py latency CONFIG KNOWN_HOSTS HOST COUNT [WARMUP]
        one Connection, then COUNT x run('true', hide=True)
    fab_bench.py connect CONFIG KNOWN_HOSTS HOST COUNT [WARMUP]
        COUNT x (new Connection + run('true') + close)
    fab_bench.py fanout CONFIG KNOWN_HOSTS HOST1,HOST2,...
        ThreadingGroup(*hosts).run('hostname', hide=True) once; prints the
        in-script time (the whole-process time is taken by bench/run)

Prints one JSON object on stdout (times in ms); exits non-zero on any failure.

To compare like with like, every Connection here is set up as the other
clients are: key exchange pinned to curve25519-sha256 (the KexAlgorithms of
the generated ssh_config, which paramiko does not read itself) by disabling
every other kex via `disabled_algorithms`; host keys checked against the test
hosts' known_hosts with RejectPolicy (Fabric's default is AutoAddPolicy, i.e.
no check); only the configured IdentityFile is offered (no agent, no
~/.ssh/id_* search).
"""
import json
import statistics
import sys
import time

T_START = time.monotonic()  # as early as possible: interpreter start is not in it

import paramiko  # noqa: E402
from fabric import Config, Connection, ThreadingGroup  # noqa: E402

T_IMPORTED = time.monotonic()

CURVE25519 = ("curve25519-sha256", "curve25519-sha256@libssh.org")


def disabled_kex():
    return [k for k in paramiko.Transport._preferred_kex if k not in CURVE25519]


def make_connection(config, known_hosts, host):
    conn = Connection(
        host,
        config=config,
        connect_kwargs={
            "disabled_algorithms": {"kex": disabled_kex()},
            "allow_agent": False,
            "look_for_keys": False,
        },
    )
    conn.client.load_host_keys(known_hosts)
    conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return conn


def check_kex(conn):
    """The transport offered curve25519 only (so that is what was negotiated)."""
    offered = conn.transport.preferred_kex if conn.transport else ()
    if not offered or not set(offered) <= set(CURVE25519):
        raise SystemExit(f"fab_bench: kex not pinned to curve25519: {offered!r}")


def run_true(conn):
    result = conn.run("true", hide=True, warn=True)
    if result.exited != 0:
        raise SystemExit(f"fab_bench: `true` exited {result.exited}")


def stats(name, samples):
    return {
        f"{name}_median_ms": statistics.median(samples),
        f"{name}_min_ms": min(samples),
        f"{name}_max_ms": max(samples),
        f"{name}_mean_ms": statistics.fmean(samples),
    }


def latency(config, known_hosts, host, count, warmup):
    conn = make_connection(config, known_hosts, host)
    conn.open()
    check_kex(conn)
    for _ in range(warmup):
        run_true(conn)
    samples = []
    start = time.monotonic()
    for _ in range(count):
        t0 = time.monotonic()
        run_true(conn)
        samples.append((time.monotonic() - t0) * 1000)
    total = (time.monotonic() - start) * 1000
    conn.close()
    out = stats("cmd", samples)
    out.update(mode="latency", count=count, total_ms=total, per_command_ms=total / count)
    return out


def connect(config, known_hosts, host, count, warmup):
    first, with_close = [], []
    for i in range(warmup + count):
        t0 = time.monotonic()
        conn = make_connection(config, known_hosts, host)
        run_true(conn)  # opens the connection on first use, as Fabric does
        t1 = time.monotonic()
        check_kex(conn)
        conn.close()
        t2 = time.monotonic()
        if i >= warmup:
            first.append((t1 - t0) * 1000)
            with_close.append((t2 - t0) * 1000)
    out = stats("first_result", first)
    out.update(stats("with_close", with_close))
    out.update(mode="connect", count=count)
    return out


def fanout(config, known_hosts, hosts):
    t0 = time.monotonic()
    group = ThreadingGroup.from_connections(
        [make_connection(config, known_hosts, h) for h in hosts]
    )
    results = group.run("hostname", hide=True, warn=True)
    t1 = time.monotonic()
    for c in group:
        check_kex(c)
    bad = [c.host for c, r in results.items()
           if isinstance(r, Exception) or r.exited != 0 or not r.stdout.strip()]
    group.close()
    t2 = time.monotonic()
    if bad or len(results) != len(hosts):
        raise SystemExit(f"fab_bench: fan-out failed on {bad or 'some hosts'}")
    return {
        "mode": "fanout",
        "hosts": len(hosts),
        "import_ms": (T_IMPORTED - T_START) * 1000,
        "run_ms": (t1 - t0) * 1000,
        "run_and_close_ms": (t2 - t0) * 1000,
        "in_script_ms": (t2 - T_START) * 1000,
    }


def main(argv):
    if len(argv) < 5:
        raise SystemExit(__doc__)
    mode, cfg_path, known_hosts = argv[1], argv[2], argv[3]
    config = Config(runtime_ssh_path=cfg_path)
    if mode in ("latency", "connect"):
        host, count = argv[4], int(argv[5])
        warmup = int(argv[6]) if len(argv) > 6 else (5 if mode == "latency" else 2)
        fn = latency if mode == "latency" else connect
        out = fn(config, known_hosts, host, count, warmup)
    elif mode == "fanout":
        out = fanout(config, known_hosts, argv[4].split(","))
    else:
        raise SystemExit(__doc__)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
