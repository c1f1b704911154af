#!/usr/bin/env bash
# Deploy benchmark (called by bench/run): a code-only blue/green deploy and a
# rollback on 1 and on 10 sandbox hosts, timed as whole commands, with real
# HTTP load through nginx on th1 counting failed requests; against the usual
# hand-made way, restarting the live app server in place under the same load.
# Prints a markdown table on stdout.
set -euo pipefail
repo=$1 hosts_dir=$2 tmp=$3 quick=${4:-}
sf="$repo/.build-bench/release/swiftfab"
config="$hosts_dir/ssh_config"
runs=3; [[ $quick == --quick ]] && runs=1
app="$tmp/deploy-app"
export SWIFTFAB_CACHE_DIR="$tmp/deploy-cache" NO_COLOR=1
say() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
commit() { echo "$1" > "$app/VERSION"; git -C "$app" -c user.name=Bench -c user.email=bench@example.com commit -qam "$1"; }

mkdir -p "$app"
cp "$repo/examples/shop/app.py" "$app/"
echo v0 > "$app/VERSION"
printf '.swiftfab/\n' > "$app/.gitignore"
cat > "$app/Deployfile.swift" <<DEPLOYFILE
import SwiftFab
import SwiftFabRecipes

let deployfile = Deployfile("benchshop") {
    Environment("one", sshConfig: "$config") { Host("th1", roles: .web) }
    Environment("ten", sshConfig: "$config") {
        for index in 1...10 { Host("th\(index)", roles: .web) }
    }
    BlueGreen(BlueGreenConfig(app: "benchshop", command: "/usr/bin/python3 -m gunicorn --workers 2 --bind unix:{socket} app:app"))
}
DEPLOYFILE
git -C "$app" init -q -b main
git -C "$app" -c user.name=Bench -c user.email=bench@example.com add -A
git -C "$app" -c user.name=Bench -c user.email=bench@example.com commit -qm v0
cd "$app"

nginx='worker_processes 2; pid /srv/nginx-bench/nginx.pid; error_log /srv/nginx-bench/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path /srv/nginx-bench/b; proxy_temp_path /srv/nginx-bench/p;
  fastcgi_temp_path /srv/nginx-bench/f; uwsgi_temp_path /srv/nginx-bench/u; scgi_temp_path /srv/nginx-bench/s;
  upstream app { server unix:/srv/benchshop/run/live.sock; }
  server { listen 127.0.0.2:8090; location / { proxy_pass http://app; } } }'
ssh -F "$config" th1 "mkdir -p /srv/nginx-bench && printf '%s' '$nginx' > /srv/nginx-bench/nginx.conf && nginx -c /srv/nginx-bench/nginx.conf"

say "deploy: first deploy to 10 hosts (compiles the Deployfile; not timed)"
"$sf" deploy -e ten -q >/dev/null

load() { /usr/bin/python3 "$repo/examples/load.py" http://127.0.0.2:8090/version "$1" 6 > "$2" & }
field() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

say "deploy: $runs code-only deploys and rollbacks on 1 host, under load"
load $((runs * 6 + 2)) "$tmp/load-swiftfab.json"
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
load $((runs * 3 + 2)) "$tmp/load-restart.json"
sleep 1
: > "$tmp/restart"
for i in $(seq "$runs"); do
    t0=$(now); ssh -F "$config" th1 "supervisorctl -c /srv/benchshop/run/supervisord.conf restart benchshop-$live >/dev/null"; t1=$(now)
    echo "$t1 - $t0" | bc >> "$tmp/restart"
    sleep 2
done
wait
ssh -F "$config" th1 'nginx -c /srv/nginx-bench/nginx.conf -s quit' || true

d1=$(median < "$tmp/deploy1"); r1=$(median < "$tmp/rollback1"); rs=$(median < "$tmp/restart")
sf_req=$(field "$tmp/load-swiftfab.json" requests); sf_fail=$(field "$tmp/load-swiftfab.json" failed)
rs_req=$(field "$tmp/load-restart.json" requests); rs_fail=$(field "$tmp/load-restart.json" failed)
pass() { if [ "$(echo "$1" | bc)" = 1 ]; then echo pass; else echo '**FAIL**'; fi; }
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
