#!/usr/bin/env bash
# Fleet benchmark (called by bench/run): a code-only blue/green deploy to 1,
# 10 and 50 sandbox hosts, in batches of 1, 10 and 50, timed as whole
# commands against the one-host time, with HTTP load going round every host's
# own nginx the whole time, counting failed requests. Prints a markdown table.
set -euo pipefail
source "$(dirname "$0")/deploy-common.sh"
app="$tmp/fleet-app"
name=fleetshop

make_app <<DEPLOYFILE
import Foundation
import SwiftFab
import SwiftFabRecipes

// The batch size comes from the bench, so one compiled Deployfile serves every row.
let batch = Int(ProcessInfo.processInfo.environment["FLEET_BATCH"] ?? "1") ?? 1
let deployfile = Deployfile("$name", history: "/srv/$name/history.log") {
    Environment("one", sshConfig: "$config") { Host("th1", roles: .web) }
    Environment("ten", sshConfig: "$config") { for index in 1...10 { Host("th\(index)", roles: .web) } }
    Environment("fifty", sshConfig: "$config") { for index in 1...50 { Host("th\(index)", roles: .web) } }
    BlueGreen(BlueGreenConfig(app: "$name", command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                              keepReleases: 3, batch: .hosts(batch), runtime: .process))
}
DEPLOYFILE
cd "$app"

ip() { echo "127.0.0.$(($1 + 1))"; }
say "fleet: first deploy to 50 hosts, all at once (compiles the Deployfile, starts every host's supervisord; not timed)"
FLEET_BATCH=50 "$sf" deploy -e fifty -q >/dev/null
# nginx in each host's own namespace (its /srv is private), on the host's address, one worker.
urls=()
for i in $(seq 50); do
    conf="worker_processes 1; pid /srv/nginx-fleet/nginx.pid; error_log /srv/nginx-fleet/error.log;
events { worker_connections 512; }
http { access_log off; client_body_temp_path /srv/nginx-fleet/b; proxy_temp_path /srv/nginx-fleet/p;
  fastcgi_temp_path /srv/nginx-fleet/f; uwsgi_temp_path /srv/nginx-fleet/u; scgi_temp_path /srv/nginx-fleet/s;
  upstream app { server unix:/srv/$name/run/live.sock; }
  server { listen $(ip "$i"):8093; location / { proxy_pass http://app; } } }"
    ssh -F "$config" "th$i" "mkdir -p /srv/nginx-fleet && printf '%s' '$conf' > /srv/nginx-fleet/nginx.conf && nginx -c /srv/nginx-fleet/nginx.conf" &
    urls+=("http://$(ip "$i"):8093/version")
done
wait
stop_fleet_nginx() { for i in $(seq 50); do ssh -F "$config" "th$i" "nginx -c /srv/nginx-fleet/nginx.conf -s quit" 2>/dev/null & done; wait; }
trap stop_fleet_nginx EXIT

rows=("one 1" "ten 1" "ten 10" "fifty 1" "fifty 10" "fifty 50")
# Load for the whole measurement: long enough for every row, ended by the bench when done.
/usr/bin/python3 "$repo/examples/load.py" "$(IFS=,; echo "${urls[*]}")" 100000 8 > "$tmp/load-fleet.json" &
loader=$!
sleep 1
# CPU seconds the whole machine spent (user, nice, system, irq, softirq; USER_HZ is 100): all 50 hosts share its cores.
machine_cpu() { awk '/^cpu /{print ($2 + $3 + $4 + $7 + $8) / 100}' /proc/stat; }
declare -A seconds machine own
for row in "${rows[@]}"; do
    read -r environment batch <<<"$row"
    : > "$tmp/fleet-$environment-$batch"
    c0=$(machine_cpu); : > "$tmp/fleet-cpu"
    for i in $(seq "$runs"); do
        commit "$environment-$batch-$i"
        FLEET_BATCH=$batch timed /usr/bin/time -a -o "$tmp/fleet-cpu" -f '%U %S' "$sf" deploy -e "$environment" -q >> "$tmp/fleet-$environment-$batch"
    done
    seconds[$row]=$(median < "$tmp/fleet-$environment-$batch")
    machine[$row]=$(echo "($(machine_cpu) - $c0) / $runs" | bc -l)
    own[$row]=$(awk -v n="$runs" '{s += $1 + $2} END {print s / n}' "$tmp/fleet-cpu")
    say "fleet: $environment in batches of $batch: ${seconds[$row]} s (machine CPU ${machine[$row]} s, swiftfab's ${own[$row]} s)"
done
kill -TERM "$loader" 2>/dev/null || true
wait "$loader" || true
requests=$(field "$tmp/load-fleet.json" requests 2>/dev/null || echo '?')
failed=$(field "$tmp/load-fleet.json" failed 2>/dev/null || echo '?')

one=${seconds["one 1"]}
ratio() { printf '%.1fx' "$(echo "$1 / $one" | bc -l)"; }
row() {  # hosts batch key [target result]
    printf '| %s | %s | %.2f s | %s | %.1f s | %.2f s | %s | %s |\n' "$1" "$2" "${seconds[$3]}" "$(ratio "${seconds[$3]}")" \
        "${machine[$3]}" "${own[$3]}" "${4:-—}" "${5:-—}"
}
cat <<TABLE

Fleet deploys (process runtime, code-only, whole \`swiftfab deploy\` commands, median of $runs; load going round all 50 hosts' nginx throughout: $failed of $requests requests failed). The 50 hosts share this machine's $(nproc) cores: "machine CPU" is what the whole machine spent per deploy (hosts, load, nginx, swiftfab), "swiftfab" its own share.

| hosts | batch | time | vs one host | machine CPU | swiftfab CPU | target | result |
|---|---|---|---|---|---|---|---|
TABLE
row 1 1 "one 1"
row 10 1 "ten 1"
row 10 10 "ten 10"
row 50 1 "fifty 1"
row 50 10 "fifty 10"
row 50 50 "fifty 50" "≤ 2x one host, 0 failed" "$(pass "${seconds["fifty 50"]} <= 2 * $one && $failed == 0")"
