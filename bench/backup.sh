#!/usr/bin/env bash
# Database backup benchmark (called by bench/run): the Postgres recipe on a
# ~200 MB PostgreSQL database on th1 (a real cluster started for the run, in
# /srv, listening on th1's own 127.0.0.x with a password), whole `swiftfab`
# commands against the same work done by hand over OpenSSH:
#   a) `swiftfab backup` vs `ssh th1 'pg_dump -Fc ... > FILE && sync FILE'`
#      (same pg_dump, flags and connection), and vs the hand-written
#      equivalent of everything the recipe does (pg_dump, sha256sum, fsync, renames);
#   b) downloading the dump: `swiftfab get` (the SFTP download the recipe's
#      --download uses) vs `scp`, in MB/s, and `swiftfab backup --download`
#      as a whole vs ssh pg_dump + scp + a local sha256 check.
# Median of 3 (1 with --quick), the variants interleaved; every backup and
# download is checked (sha256, untimed). The cluster and all files are removed
# on exit, also on failure. Prints a markdown table on stdout.
set -euo pipefail
source "$(dirname "$0")/deploy-common.sh"

app="$tmp/backup-app"
dl="$tmp/backup-dl"
pgdir=/srv/pgbench
backups=/srv/pgbench-backups
db=benchdb
password="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
pgbin=/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -n 1)/bin
ip=$(ssh -G -F "$config" th1 2>/dev/null | awk '$1 == "hostname" {print $2}')
psql_() { remote "$pgbin/psql -h $pgdir -p 5432 -U postgres -d ${2:-$db} -Atq -v ON_ERROR_STOP=1 -c \"$1\""; }

cleanup() {
    local rc=$?
    trap - EXIT
    remote "[ -f $pgdir/data/postmaster.pid ] && runuser -u postgres -- $pgbin/pg_ctl -D $pgdir/data stop -m fast >/dev/null 2>&1; \
        rm -rf $pgdir $backups" || say "backup: warning: could not stop the cluster in th1:$pgdir"
    rm -rf "$app" "$dl" "$tmp"/backup-*
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a command with a time limit, prints its wall time in seconds; its output goes to $tmp/backup-run.log (shown if it fails).
timed_() {
    local t0 t1
    t0=$(now)
    if ! timeout 300 "$@" >"$tmp/backup-run.log" 2>&1; then
        tail -n 20 "$tmp/backup-run.log" >&2
        echo "bench: backup: failed: $*" >&2
        return 1
    fi
    t1=$(now)
    echo "$t1 - $t0" | bc
}

load_start=$(cut -d' ' -f1 /proc/loadavg)
say "backup: starting PostgreSQL on th1 ($ip:5432, $pgdir)"
remote "set -e; cd /; rm -rf $pgdir $backups; mkdir -p $pgdir && chown postgres: $pgdir
    printf '%s\n' '$password' > $pgdir/pw && chown postgres: $pgdir/pw
    runuser -u postgres -- $pgbin/initdb -D $pgdir/data -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --pwfile=$pgdir/pw -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f $pgdir/pw
    runuser -u postgres -- $pgbin/pg_ctl -D $pgdir/data -l $pgdir/server.log -w \
        -o '-c listen_addresses=$ip -p 5432 -k $pgdir' start </dev/null >/dev/null 2>&1 || { tail -5 $pgdir/server.log; exit 1; }"

say "backup: creating a ~200 MB database (not timed)"
psql_ "CREATE DATABASE $db" postgres
# Rows of hex digests (half-random text: pg_dump's zlib gets it to about half), numbers and dates.
psql_ "CREATE TABLE items (id bigint PRIMARY KEY, sku text NOT NULL, price numeric(12,2), added timestamptz, body text);
    INSERT INTO items SELECT g, 'sku-' || md5(g::text), (random() * 10000)::numeric(12,2),
        '2026-01-01'::timestamptz + g * interval '1 second',
        md5(random()::text) || ' ' || md5(random()::text) || ' ' || md5(random()::text) || ' ' || md5(g::text)
    FROM generate_series(1, 760000) g"
psql_ "VACUUM ANALYZE items"
db_bytes=$(psql_ "SELECT pg_database_size('$db')")
say "backup: database $db: $(echo "scale=1; $db_bytes / 1000000" | bc) MB on disk"

mkdir -p "$app" "$dl"
cat > "$app/Deployfile.swift" <<DEPLOYFILE
import SwiftFab
import SwiftFabRecipes

let deployfile = Deployfile("benchdb") {
    Environment("one", sshConfig: "$config") { Host("th1", roles: .db) }
    Setting("db_password", .secret(env: "BENCH_PG_PASSWORD"))
    Postgres(PostgresConfig(database: "$db", user: "postgres", host: "$ip", port: 5432,
                            passwordSetting: "db_password", backups: "$backups"))
}
DEPLOYFILE
cd "$app"
export BENCH_PG_PASSWORD=$password

# The same pg_dump invocation as the recipe's (see `swiftfab backup --dry-run`).
dump="PGPASSWORD='$password' pg_dump -Fc --lock-wait-timeout=60s -U postgres -h $ip -p 5432 -d $db"
# Everything the recipe's backup does, by hand: dump to .partial, sha256 beside it, fsync both, rename, fsync the directory.
same_work="umask 077 && mkdir -p $backups && cd $backups && f=hand.dump && $dump > \$f.partial && \
    sum=\$(sha256sum < \$f.partial | cut -c1-64) && sync \$f.partial && printf '%s  %s\n' \$sum \$f > \$f.sha256.partial && \
    sync \$f.sha256.partial && mv \$f.sha256.partial \$f.sha256 && mv \$f.partial \$f && sync ."
# The whole of `backup --download` by hand: the same work over ssh, scp, the copy checked against the server's sha256.
cat > "$tmp/backup-by-hand.sh" <<SCRIPT
ssh -F '$config' th1 "\$1" && scp -q -F '$config' th1:$backups/hand.dump '$dl/hand.dump' &&
    cd '$dl' && ssh -F '$config' th1 'cat $backups/hand.dump.sha256' | sha256sum -c --status
SCRIPT
clear_backups() { remote "rm -rf $backups/* $backups/.[!.]*"; }
# Every backup in $backups must match its sha256 (untimed).
check_backups() {
    remote "cd $backups && n=\$(ls *.dump | wc -l) && [ \$n -ge 1 ] && sha256sum -c --status *.sha256" \
        || { say "backup: error: a backup does not match its sha256"; exit 1; }
}
# The downloaded file $1 must match the server's sha256 of $2 (untimed).
check_download() {
    local got want
    got=$(sha256sum < "$1" | cut -c1-64); want=$(remote "sha256sum < $2 | cut -c1-64")
    [[ $got == "$want" ]] || { say "backup: error: $1 does not match th1:$2"; exit 1; }
}

say "backup: compiling the Deployfile and a warm-up backup (not timed)"
"$sf" --list >/dev/null
"$sf" backup -e one -q >"$tmp/backup-run.log" 2>&1 || { cat "$tmp/backup-run.log" >&2; exit 1; }
check_backups; clear_backups
remote "mkdir -p $backups && $dump > $backups/ref.dump && sync $backups/ref.dump"
ref=$backups/ref.dump
dump_bytes=$(remote "stat -c %s $ref")
say "backup: dump: $(echo "scale=1; $dump_bytes / 1000000" | bc) MB (pg_dump -Fc)"

say "backup: $runs × (swiftfab backup, ssh pg_dump, ssh same work, swiftfab backup --download, ssh + scp, swiftfab get, scp)"
for f in sf ssh same sfdl sshscp get scp; do : > "$tmp/backup-$f"; done
for i in $(seq "$runs"); do
    timed_ "$sf" backup -e one -q >> "$tmp/backup-sf"
    check_backups; clear_backups
    remote "mkdir -p $backups"
    timed_ ssh -F "$config" th1 "$dump > $backups/plain.dump && sync $backups/plain.dump" >> "$tmp/backup-ssh"
    clear_backups
    timed_ ssh -F "$config" th1 "$same_work" >> "$tmp/backup-same"
    check_backups; clear_backups

    timed_ "$sf" backup -e one -q --download "$dl/sf" >> "$tmp/backup-sfdl"
    check_backups
    name=$(cd "$dl/sf" && ls *.dump)
    check_download "$dl/sf/$name" "$backups/$name"
    rm -rf "$dl/sf"; clear_backups
    timed_ bash "$tmp/backup-by-hand.sh" "$same_work" >> "$tmp/backup-sshscp"
    check_download "$dl/hand.dump" "$backups/hand.dump"
    rm -f "$dl/hand.dump"; clear_backups

    remote "$dump > $ref && sync $ref"
    timed_ "$sf" get -F "$config" -H th1 "$ref" "$dl/get.dump" >> "$tmp/backup-get"
    check_download "$dl/get.dump" "$ref"; rm -f "$dl/get.dump"
    timed_ scp -q -F "$config" "th1:$ref" "$dl/scp.dump" >> "$tmp/backup-scp"
    check_download "$dl/scp.dump" "$ref"; rm -f "$dl/scp.dump"
    say "backup: round $i of $runs done"
done
# The ref dump of the last round is the one downloaded: it is the size used for MB/s.
dump_bytes=$(remote "stat -c %s $ref")

m_sf=$(median < "$tmp/backup-sf"); ssh_=$(median < "$tmp/backup-ssh"); same=$(median < "$tmp/backup-same")
sfdl=$(median < "$tmp/backup-sfdl"); sshscp=$(median < "$tmp/backup-sshscp")
get=$(median < "$tmp/backup-get"); scp_=$(median < "$tmp/backup-scp")
mbs() { echo "scale=6; $dump_bytes / 1000000 / $1" | bc; }
get_mbs=$(mbs "$get"); scp_mbs=$(mbs "$scp_")
r_ssh=$(echo "scale=6; $m_sf / $ssh_" | bc); r_same=$(echo "scale=6; $m_sf / $same" | bc)
r_dl=$(echo "scale=6; $get_mbs / $scp_mbs" | bc); r_whole=$(echo "scale=6; $sfdl / $sshscp" | bc)
s() { printf '%.2f s' "$1"; }
x() { printf '%.2fx' "$1"; }
raw() { tr '\n' ' ' < "$tmp/backup-$1" | xargs printf '%.2f ' | sed 's/ $//'; }
cat <<TABLE

Database backups (Postgres recipe, PostgreSQL $(basename "$(dirname "$pgbin")") on th1 over TCP with a password; database $(echo "$db_bytes / 1000000" | bc) MB on disk (pg_database_size), dump $(echo "$dump_bytes / 1000000" | bc) MB (pg_dump -Fc); whole commands, median of $runs; load average $load_start at start):

| metric | swiftfab | peer | peer value | ratio swiftfab/peer | target | result |
|---|---|---|---|---|---|---|
| 8. backup (\`swiftfab backup -e one -q\`: pg_dump -Fc, sha256, fsync, rename) | $(s "$m_sf") | \`ssh th1 'pg_dump -Fc ... > FILE && sync FILE'\` (same pg_dump and flags) | $(s "$ssh_") | $(x "$r_ssh") | ≤ 1.1x | $(pass "$r_ssh <= 1.1") |
| 8. backup | $(s "$m_sf") | the same work by hand over \`ssh\` (pg_dump, sha256sum, sync, renames) | $(s "$same") | $(x "$r_same") | — | — |
| 8. download of the dump, MB/s (\`swiftfab get\`, SFTP as in \`--download\`) | $(printf '%.0f' "$get_mbs") MB/s | \`scp th1:FILE .\` | $(printf '%.0f' "$scp_mbs") MB/s | $(x "$r_dl") | ≥ 0.9x | $(pass "$r_dl >= 0.9") |
| 8. \`swiftfab backup --download DIR\` (backup, download, sha256 checked here) | $(s "$sfdl") | the same work by hand: \`ssh\` as above, then \`scp\` and \`sha256sum -c\` | $(s "$sshscp") | $(x "$r_whole") | — | — |

Raw times (s): swiftfab backup $(raw sf); ssh pg_dump $(raw ssh); ssh same work $(raw same); swiftfab backup --download $(raw sfdl); ssh + scp $(raw sshscp); swiftfab get $(raw get); scp $(raw scp).
TABLE
