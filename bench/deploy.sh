#!/usr/bin/env bash
# Deploy benchmark (called by bench/run): a code-only blue/green deploy and a
# rollback on 1 and on 10 sandbox hosts, timed as whole commands, with real
# HTTP load through nginx on th1 counting failed requests; against the usual
# hand-made way, restarting the live app server in place under the same load.
# Prints a markdown table on stdout.
set -euo pipefail
source "$(dirname "$0")/deploy-common.sh"
app="$tmp/deploy-app"

make_app <<DEPLOYFILE
import SwiftFab
import SwiftFabRecipes

let deployfile = Deployfile("benchshop") {
    Environment("one", sshConfig: "$config") { Host("th1", roles: .web) }
    Environment("ten", sshConfig: "$config") {
        for index in 1...10 { Host("th\(index)", roles: .web) }
    }
    BlueGreen(BlueGreenConfig(app: "benchshop", command: "/usr/bin/python3 -m gunicorn --workers 2 --bind unix:{socket} app:app",
                              runtime: .process))
}
DEPLOYFILE
cd "$app"
start_nginx nginx-bench 8090 benchshop

say "deploy: first deploy to 10 hosts (compiles the Deployfile; not timed)"
"$sf" deploy -e ten -q >/dev/null


say "deploy: $runs code-only deploys and rollbacks on 1 host, under load"
load 8090 $((runs * 6 + 2)) "$tmp/load-swiftfab.json"
sleep 1
: > "$tmp/deploy1"; : > "$tmp/rollback1"
for i in $(seq "$runs"); do
    commit "v$i"
    t0=$(now); "$sf" deploy -e one -q >/dev/null; t1=$(now)
    "$sf" rollback -e one -q >/dev/null; t2=$(now)
    echo "$t1 - $t0" | bc >> "$tmp/deploy1"
    echo "$t2 - $t1" | bc >> "$tmp/rollback1"
done
wait

say "deploy: 10 hosts, one at a time"
commit "v-ten"
t0=$(now); "$sf" deploy -e ten -q >/dev/null; t1=$(now)
"$sf" rollback -e ten -q >/dev/null; t2=$(now)
deploy10=$(echo "$t1 - $t0" | bc); rollback10=$(echo "$t2 - $t1" | bc)

say "deploy: restarting the live app server in place, under load"
live=$(ssh -F "$config" th1 'readlink /srv/benchshop/run/live.sock | sed s/.sock//')
load 8090 $((runs * 3 + 2)) "$tmp/load-restart.json"
sleep 1
: > "$tmp/restart"
for i in $(seq "$runs"); do
    t0=$(now); ssh -F "$config" th1 "supervisorctl -c /srv/benchshop/run/supervisord.conf restart benchshop-$live >/dev/null"; t1=$(now)
    echo "$t1 - $t0" | bc >> "$tmp/restart"
    sleep 2
done
wait
stop_nginx nginx-bench

d1=$(median < "$tmp/deploy1"); r1=$(median < "$tmp/rollback1"); rs=$(median < "$tmp/restart")
sf_req=$(field "$tmp/load-swiftfab.json" requests); sf_fail=$(field "$tmp/load-swiftfab.json" failed)
rs_req=$(field "$tmp/load-restart.json" requests); rs_fail=$(field "$tmp/load-restart.json" failed)
cat <<TABLE

Deploys (process runtime: gunicorn under supervisor, nginx in front; whole \`swiftfab\` commands, median of $runs):

| metric | time | requests failed during it | target | result |
|---|---|---|---|---|
| 6. code-only deploy, 1 host | $(printf '%.2f' "$d1") s | $sf_fail of $sf_req (deploys and rollbacks together) | ≤ 3 s, 0 failed | $(pass "$d1 <= 3 && $sf_fail == 0") |
| 6. rollback, 1 host | $(printf '%.2f' "$r1") s | (same load) | ≤ 1 s | $(pass "$r1 <= 1") |
| 6. code-only deploy, 10 hosts one at a time | $(printf '%.2f' "$deploy10") s | — | — | — |
| 6. rollback, 10 hosts one at a time | $(printf '%.2f' "$rollback10") s | — | — | — |
| 6. peer: restart the live app server in place (\`supervisorctl restart\`), 1 host | $(printf '%.2f' "$rs") s | $rs_fail of $rs_req | — | — |
TABLE
