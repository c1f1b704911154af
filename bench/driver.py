#!/usr/bin/env python3
"""Runs every measurement of swiftfab's benchmark and prints the table.

Called by bench/run, which builds, installs the peers, starts the test hosts
and cleans up; this script only measures. Standard library only.

    driver.py --repo DIR --hosts-dir DIR --tmp DIR --python VENV_PYTHON --out FILE [--quick]

Every external command is timed as a whole process (fork/exec to exit) with
time.perf_counter, its exit status and output are checked, and each one is
killed after a timeout so nothing can hang. In-process numbers come from
swiftfab-bench (Swift) and fab_bench.py (Fabric) themselves.
"""
import argparse
import hashlib
import json
import shutil
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time

TIMEOUT = 180  # seconds, for any single command


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, *, timeout=TIMEOUT, check=True, shell=False):
    """Runs cmd once; returns (seconds, stdout). Raises on failure."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout, text=True)
    dt = time.perf_counter() - t0
    if check and p.returncode != 0:
        shown = cmd if isinstance(cmd, str) else shlex.join(cmd)
        raise RuntimeError(f"command failed ({p.returncode}): {shown}\n{p.stderr[-2000:]}")
    return dt, p.stdout


CLK_TCK = os.sysconf("SC_CLK_TCK")


SSHD_PIDS = []  # the test hosts' listening sshds, set in main()


def machine_busy_s():
    """CPU seconds the whole machine (all CPUs) has spent busy, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK


def hosts_cpu_s():
    """CPU seconds used by the test hosts: each listening sshd's own time plus that
    of its reaped descendants (per-connection sshds, their shells and commands)."""
    total = 0
    for pid in SSHD_PIDS:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / CLK_TCK


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(name, cmd, runs, *, warmup=1, expect_lines=None, before=None, after=None,
          json_field=None, shell=False):
    """Median over `runs` whole-process timings of cmd (after `warmup` untimed runs).
    before/after are untimed callables run around every run (also warm-ups).
    Also records, per run, the CPU time of the measured process tree (client_cpu),
    of the test hosts' sshds and their children (hosts_cpu) and of the whole
    machine (machine_cpu: client + hosts + anything else running)."""
    samples, fields, client_cpu, hosts_cpu, machine_cpu = [], [], [], [], []
    for i in range(warmup + runs):
        if before:
            before()
        c0, h0, m0 = children_cpu_s(), hosts_cpu_s(), machine_busy_s()
        dt, out = run(cmd, shell=shell)
        c1, m1 = children_cpu_s(), machine_busy_s()
        time.sleep(0.1)  # let the sshds reap their finished connections
        h1 = hosts_cpu_s()
        if expect_lines is not None:
            lines = [l for l in out.splitlines() if l.strip()]
            if len(lines) != expect_lines:
                raise RuntimeError(f"{name}: expected {expect_lines} output lines, got {len(lines)}:\n{out[-1500:]}")
        if after:
            after()
        if i >= warmup:
            samples.append(dt)
            client_cpu.append(c1 - c0)
            hosts_cpu.append(h1 - h0)
            machine_cpu.append(m1 - m0)
            if json_field:
                fields.append(json.loads(out.strip().splitlines()[-1]))
    res = {"name": name, "samples_s": samples, "median_s": statistics.median(samples),
           "min_s": min(samples), "max_s": max(samples),
           "client_cpu_s": statistics.median(client_cpu), "hosts_cpu_s": statistics.median(hosts_cpu),
           "machine_cpu_s": statistics.median(machine_cpu)}
    for f in json_field or ():
        res[f] = statistics.median(d[f] for d in fields)
    log(f"{name}: median {res['median_s'] * 1000:.1f} ms (min {res['min_s'] * 1000:.1f}, "
        f"max {res['max_s'] * 1000:.1f}, n={runs})")
    return res


def json_of(cmd):
    _, out = run(cmd)
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--hosts-dir", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    a = ap.parse_args()

    q = a.quick
    N_CMDS = 100
    N_CONNECT = 5 if q else 20
    N_FANOUT = 2 if q else 5
    N_UPLOAD = 1 if q else 3
    N_CM_LOOPS = 1 if q else 3
    UPLOAD_BYTES = (10 if q else 100) * 1024 * 1024

    rel = os.path.join(a.repo, ".build-bench", "release")
    swiftfab = os.path.join(rel, "swiftfab")
    sbench = os.path.join(rel, "swiftfab-bench")
    fab = [a.python, os.path.join(a.repo, "bench", "fab_bench.py")]
    cfg = os.path.join(a.hosts_dir, "ssh_config")
    kh = os.path.join(a.hosts_dir, "known_hosts")
    sock = os.path.join(a.tmp, "cm.sock")
    ssh = ["ssh", "-F", cfg]
    R = {"loadavg_start": os.getloadavg()}
    hosts_root = os.path.join(a.hosts_dir, "hosts")
    for d in sorted(os.listdir(hosts_root)):
        with open(os.path.join(hosts_root, d, "pid")) as f:
            SSHD_PIDS.append(int(f.read().strip()))

    # ---------------------------------------------------------- 1. latency
    log("1. per-command latency over one open connection (100 x true)")
    R["sf_latency"] = json_of([sbench, "latency", cfg, "th1", str(N_CMDS)])
    log(f"swiftfab library: {R['sf_latency']['per_command_ms']:.2f} ms/command "
        f"(median {R['sf_latency']['cmd_median_ms']:.2f})")

    run(ssh + ["-o", "ControlMaster=yes", "-o", f"ControlPath={sock}", "-o", "ControlPersist=no",
               "-fN", "th1"], timeout=30)
    cm = ssh + ["-S", sock, "th1"]
    try:
        run(cm + ["true"], timeout=30)  # warm the master
        loop = (f"for i in $(seq {N_CMDS}); do ssh -F {shlex.quote(cfg)} -S {shlex.quote(sock)} "
                f"th1 true </dev/null || exit 1; done")
        r = timed("ssh ControlMaster 100 x true", ["bash", "-c", loop], N_CM_LOOPS, warmup=0)
        R["cm_latency_ms"] = r["median_s"] * 1000 / N_CMDS
        log(f"OpenSSH ControlMaster: {R['cm_latency_ms']:.2f} ms/command")

        R["fab_latency"] = json_of(fab + ["latency", cfg, kh, "th1", str(N_CMDS)])
        log(f"Fabric: {R['fab_latency']['per_command_ms']:.2f} ms/command")

        # ------------------------------------------------------ 2. connect
        log(f"2. connect + auth + first command (median of {N_CONNECT})")
        R["sf_connect"] = json_of([sbench, "connect", cfg, "th1", str(N_CONNECT)])
        log(f"swiftfab library: {R['sf_connect']['with_close_median_ms']:.1f} ms "
            f"(to first result {R['sf_connect']['first_result_median_ms']:.1f})")
        R["ssh_connect"] = timed("ssh th1 true", ssh + ["th1", "true"], N_CONNECT, warmup=2)
        R["fab_connect"] = json_of(fab + ["connect", cfg, kh, "th1", str(N_CONNECT)])
        log(f"Fabric: {R['fab_connect']['with_close_median_ms']:.1f} ms")
        R["sf_cli_connect"] = timed("swiftfab exec -H th1 -- true (CLI)",
                                    [swiftfab, "exec", "-F", cfg, "-H", "th1", "--", "true"],
                                    N_CONNECT, warmup=2)

        # ------------------------------------------------------ 3. fan-out
        hostsfile = os.path.join(a.tmp, "hosts")
        for n in (10, 50):
            log(f"3. fan-out of hostname to {n} hosts (median of {N_FANOUT}, whole process)")
            hosts = [f"th{i}" for i in range(1, n + 1)]
            with open(hostsfile, "w") as f:
                f.write("\n".join(hosts) + "\n")
            R[f"sf_fan{n}"] = timed(f"swiftfab exec {n}",
                                    [swiftfab, "exec", "-F", cfg, "-H", ",".join(hosts),
                                     "--parallel", str(n), "--", "hostname"],
                                    N_FANOUT, expect_lines=n)
            R[f"fab_fan{n}"] = timed(f"Fabric ThreadingGroup {n}",
                                     fab + ["fanout", cfg, kh, ",".join(hosts)],
                                     N_FANOUT, json_field=("in_script_ms", "run_ms", "import_ms"))
            R[f"pssh_fan{n}"] = timed(f"parallel-ssh -p {n}",
                                      ["parallel-ssh", "-p", str(n), "-h", hostsfile,
                                       "-x", f"-F {cfg}", "hostname"],
                                      N_FANOUT, expect_lines=n)
            loop = (f"for h in {' '.join(hosts)}; do ssh -F {shlex.quote(cfg)} $h hostname "
                    f"</dev/null & done; wait")
            R[f"ssh_fan{n}"] = timed(f"ssh & loop {n}", ["bash", "-c", loop], N_FANOUT,
                                     expect_lines=n)

        # ------------------------------------------------------- 4. upload
        mib = UPLOAD_BYTES // (1024 * 1024)
        log(f"4. {mib} MiB upload to th1:/srv (tmpfs), median of {N_UPLOAD}")
        local = os.path.join(a.tmp, "upload.bin")
        with open(local, "wb") as f:
            for _ in range(mib):
                f.write(os.urandom(1024 * 1024))
        with open(local, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        remote = "/srv/swiftfab-bench-upload.bin"
        batch = os.path.join(a.tmp, "sftp.batch")
        with open(batch, "w") as f:
            f.write(f"put {local} {remote}\n")

        def clear():
            run(cm + [f"rm -f {remote}"], timeout=30)

        def verify():
            _, out = run(cm + [f"sha256sum {remote} && rm -f {remote}"], timeout=60)
            got = out.split()[0] if out.split() else ""
            if got != want:
                raise RuntimeError(f"upload check failed: sha256 {got!r}, want {want}")

        uploads = {
            "sf_put": [swiftfab, "put", "-F", cfg, "-H", "th1", local, remote],
            "scp": ["scp", "-q", "-F", cfg, local, f"th1:{remote}"],
            "scp_O": ["scp", "-O", "-q", "-F", cfg, local, f"th1:{remote}"],
            "sftp": ["sftp", "-q", "-F", cfg, "-b", batch, "th1"],
            # Same crypto as libssh2 1.10 negotiates here (OpenSSH defaults to chacha20-poly1305).
            "sftp_aes": ["sftp", "-q", "-F", cfg, "-c", "aes128-ctr", "-o", "MACs=hmac-sha2-256",
                         "-b", batch, "th1"],
        }
        for key, cmd in uploads.items():
            r = timed(f"upload {key}", cmd, N_UPLOAD, before=clear, after=verify)
            r["mb_per_s"] = UPLOAD_BYTES / 1e6 / r["median_s"]
            R[f"up_{key}"] = r
            log(f"upload {key}: {r['mb_per_s']:.0f} MB/s")
        R["sf_up_lib"] = json_of([sbench, "upload", cfg, "th1", local, remote, str(N_UPLOAD)])
        log(f"swiftfab library upload (open connection): {R['sf_up_lib']['median_mb_per_s']:.0f} MB/s")
        os.unlink(local)
    finally:
        subprocess.run(ssh + ["-S", sock, "-O", "exit", "th1"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)

    # -------------------------------------------------- 5. Deployfile load
    log("5. Deployfile load: cold compile + --list, cached --list, vs fab --list")
    N_LOAD = 3 if q else 10
    project = os.path.join(a.tmp, "deployfile")
    os.makedirs(project, exist_ok=True)
    shutil.copy(os.path.join(a.repo, "Deployfile.swift.example"), os.path.join(project, "Deployfile.swift"))
    cache = os.path.join(a.tmp, "deployfile-cache")
    listing = ["env", f"SWIFTFAB_CACHE_DIR={cache}", "sh", "-c", f"cd {shlex.quote(project)} && exec {shlex.quote(swiftfab)} --list"]
    R["df_cold"] = timed("Deployfile cold compile + --list", listing, N_LOAD, warmup=0,
                         before=lambda: shutil.rmtree(cache, ignore_errors=True))
    R["df_cached"] = timed("Deployfile cached --list", listing, N_LOAD, warmup=1)
    fab_bin = os.path.join(os.path.dirname(a.python), "fab")
    R["fab_list"] = timed("fab --list", ["sh", "-c", f"cd {shlex.quote(os.path.join(a.repo, 'bench', 'fabfile'))} && exec {shlex.quote(fab_bin)} --list"],
                          N_LOAD, warmup=1)

    R["loadavg_end"] = os.getloadavg()
    R["upload_bytes"] = UPLOAD_BYTES
    R["quick"] = q
    with open(os.path.join(a.tmp, "raw.json"), "w") as f:
        json.dump(R, f, indent=1, sort_keys=True)
    R["machine"] = machine(a.python)
    table = report(R, N_CONNECT, N_FANOUT, N_UPLOAD, N_CM_LOOPS)
    print(table)
    with open(a.out, "w") as f:
        f.write(table)
        f.write("\n<details><summary>raw numbers (JSON)</summary>\n\n```json\n")
        json.dump(R, f, indent=1, sort_keys=True)
        f.write("\n```\n</details>\n")


def machine(python):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1) if m else "?"
    except OSError:
        pass
    ssh_v = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    libssh2 = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libssh2-1"],
                             capture_output=True, text=True).stdout.strip() or "?"
    fab = subprocess.run([python, "-c", "import fabric, paramiko; "
                          "print(f'Fabric {fabric.__version__}, paramiko {paramiko.__version__}')"],
                         capture_output=True, text=True).stdout.strip() or "Fabric ?"
    pssh = subprocess.run(["parallel-ssh", "--version"], capture_output=True, text=True)
    pssh_v = (pssh.stdout or pssh.stderr).strip() or "?"
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout
    swift_v = re.search(r"Swift version (\S+)", swift)
    return (f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, {ssh_v}, "
            f"libssh2 {libssh2}, Swift {swift_v.group(1) if swift_v else '?'}, "
            f"Python {platform.python_version()}, {fab}, parallel-ssh {pssh_v}")


def report(R, n_connect, n_fan, n_up, n_cm):
    rows = []

    def row(metric, sf, peer, pv, ratio, target, ok):
        rows.append((metric, sf, peer, pv, f"{ratio:.2f}x",
                     target, "—" if ok is None else ("pass" if ok else "**FAIL**")))

    ms = lambda v: f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms"  # noqa: E731
    sfl = R["sf_latency"]["per_command_ms"]
    cml = R["cm_latency_ms"]
    fabl = R["fab_latency"]["per_command_ms"]
    row("1. per-command latency, 100 x `true` on one connection", ms(sfl),
        "OpenSSH ControlMaster (`ssh -S sock th1 true`)", ms(cml), sfl / cml,
        "≤ 5 ms and ≤ 0.35x", sfl <= 5 and sfl / cml <= 0.35)
    row("1. per-command latency, 100 x `true` on one connection", ms(sfl),
        "Fabric `Connection.run('true', hide=True)`", ms(fabl), sfl / fabl, "—", None)

    sfc = R["sf_connect"]["with_close_median_ms"]
    sshc = R["ssh_connect"]["median_s"] * 1000
    fabc = R["fab_connect"]["with_close_median_ms"]
    row(f"2. connect + auth + `true` + close (median of {n_connect})", ms(sfc),
        "`ssh th1 true` (whole process)", ms(sshc), sfc / sshc, "—", None)
    row(f"2. connect + auth + `true` + close (median of {n_connect})", ms(sfc),
        "Fabric new Connection + run + close", ms(fabc), sfc / fabc, "—", None)
    sfcli = R["sf_cli_connect"]["median_s"] * 1000
    row(f"2b. same, swiftfab CLI `exec -H th1 -- true` (whole process)", ms(sfcli),
        "`ssh th1 true` (whole process)", ms(sshc), sfcli / sshc, "—", None)

    for n in (10, 50):
        sf = R[f"sf_fan{n}"]["median_s"] * 1000
        metric = f"3. fan-out `hostname` to {n} hosts, whole process (median of {n_fan})"
        fabv = R[f"fab_fan{n}"]["median_s"] * 1000
        row(metric, ms(sf), "Fabric ThreadingGroup", ms(fabv), sf / fabv,
            "≤ 0.5x" if n == 50 else "—", (sf / fabv <= 0.5) if n == 50 else None)
        pv = R[f"pssh_fan{n}"]["median_s"] * 1000
        row(metric, ms(sf), f"parallel-ssh -p {n}", ms(pv), sf / pv, "—", None)
        sv = R[f"ssh_fan{n}"]["median_s"] * 1000
        row(metric, ms(sf), "OpenSSH `ssh ... &` loop + wait", ms(sv), sf / sv, "—", None)

    cold = R["df_cold"]["median_s"] * 1000
    cached = R["df_cached"]["median_s"] * 1000
    fabl = R["fab_list"]["median_s"] * 1000
    row("5. `swiftfab --list`, Deployfile cached (whole process)", ms(cached), "`fab --list` (equivalent fabfile)", ms(fabl),
        cached / fabl, "≤ 60 ms", cached <= 60)
    row("5. `swiftfab --list`, cold: compile Deployfile.swift + run", ms(cold), "`fab --list` (equivalent fabfile)", ms(fabl),
        cold / fabl, "≤ 5 s", cold <= 5000)

    mib = R["upload_bytes"] // (1024 * 1024)
    sfu = R["up_sf_put"]["mb_per_s"]
    metric = f"4. {mib} MiB upload to tmpfs, MB/s, whole process (median of {n_up})"
    for key, peer, target in (("sftp", "`sftp -b` batch put", "≥ 1.0x"),
                              ("scp", "`scp` (SFTP protocol)", "—"),
                              ("scp_O", "`scp -O` (legacy SCP)", "—"),
                              ("sftp_aes", "`sftp -b` with aes128-ctr + hmac-sha2-256 (libssh2's choice)", "—")):
        pv = R[f"up_{key}"]["mb_per_s"]
        row(metric, f"{sfu:.0f} MB/s", peer, f"{pv:.0f} MB/s", sfu / pv, target,
            (sfu / pv >= 1.0) if target != "—" else None)

    out = [f"swiftfab benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
           + (" (QUICK smoke run: fewer repetitions, 10 MiB upload)" if R["quick"] else ""),
           "", f"Machine: {R['machine']}",
           "", "Load average (1/5/15 min) before the first measurement: {:.2f} {:.2f} {:.2f} "
               "(well above ~1 means other work was sharing the 2 CPUs)".format(*R["loadavg_start"]), "",
           "| metric | swiftfab | peer | peer value | ratio swiftfab/peer | target | result |",
           "|---|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    fan50 = R["fab_fan50"]
    out += ["",
            "Ratios: times are swiftfab/peer (lower is better for swiftfab); "
            "MB/s is swiftfab/peer (higher is better).",
            f"Extra: Fabric fan-out, medians for 10 / 50 hosts: whole process "
            f"{R['fab_fan10']['median_s'] * 1000:.0f} / {fan50['median_s'] * 1000:.0f} ms, in-script "
            f"(from the script's first line, incl. importing fabric) {R['fab_fan10']['in_script_ms']:.0f} / "
            f"{fan50['in_script_ms']:.0f} ms, of which importing fabric {fan50['import_ms']:.0f} ms "
            f"and `ThreadingGroup.run` alone {R['fab_fan10']['run_ms']:.0f} / {fan50['run_ms']:.0f} ms; "
            f"swiftfab library connect to first result {R['sf_connect']['first_result_median_ms']:.1f} ms "
            f"(Fabric {R['fab_connect']['first_result_median_ms']:.1f} ms); "
            f"swiftfab library upload on an open connection {R['sf_up_lib']['median_mb_per_s']:.0f} MB/s; "
            f"per-command latency median (not mean): swiftfab {R['sf_latency']['cmd_median_ms']:.2f} ms, "
            f"Fabric {R['fab_latency']['cmd_median_ms']:.2f} ms."]
    out += ["", "CPU time during the fan-out (medians). client: the measured process tree; "
                "hosts: the test hosts' sshds and everything they ran (per-connection sshd, bash, hostname); "
                "machine: all CPUs, busy for any reason; 2 CPUs give 2 CPU-seconds per second of wall time:", "",
            "| hosts | tool | wall | client CPU | hosts CPU | machine CPU | (client + hosts) / (2 x wall) |",
            "|---|---|---|---|---|---|---|"]
    for n in (10, 50):
        for key, tool in (("sf", "swiftfab exec"), ("fab", "Fabric ThreadingGroup"),
                          ("pssh", "parallel-ssh"), ("ssh", "ssh & loop")):
            r = R[f"{key}_fan{n}"]
            out.append(f"| {n} | {tool} | {r['median_s'] * 1000:.0f} ms | {r['client_cpu_s'] * 1000:.0f} ms | "
                       f"{r['hosts_cpu_s'] * 1000:.0f} ms | {r['machine_cpu_s'] * 1000:.0f} ms | "
                       f"{(r['client_cpu_s'] + r['hosts_cpu_s']) / (2 * r['median_s']) * 100:.0f}% |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        log(f"error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
