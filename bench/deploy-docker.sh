#!/usr/bin/env bash
# The container runtime on a real Docker Engine (called by bench/run, after
# bench/deploy-containers.sh): Debian's dockerd started inside th1 (bind
# mounts resolve in its mount namespace, so it must run in the host's), the
# base image loaded from the podman sandbox (no registry here). On 1 host under
# real HTTP load through nginx: code-only deploys, dependency-changing deploys,
# rollbacks, and the seeds' way (rebuild the image with the code, replace the
# live container) on the same engine; side by side with podman's medians from
# the run before. Prints a markdown table on stdout.
set -euo pipefail
source "$(dirname "$0")/deploy-common.sh"
app="$tmp/dkr-app"
state=/tmp/swiftfab-bench-docker
sock="unix://$state/docker.sock"
engine="/usr/bin/docker -H $sock"

command -v dockerd >/dev/null || bash "$repo/scripts/ensure-packages" docker.io
say "docker: starting dockerd inside th1 ($state)"
# alive PID: runs and is not a zombie (a daemon whose parent left waits as one until init reaps it).
alive='alive() { kill -0 "$1" 2>/dev/null && ! grep -q "^State:[[:space:]]*Z" /proc/"$1"/status 2>/dev/null; }'
remote "$alive; mkdir -p $state && cd $state || exit 1; old=\$(cat dockerd.pid 2>/dev/null); \
    if [ -n \"\$old\" ] && alive \$old; then kill \$old; while alive \$old; do sleep 0.1; done; fi; \
    rm -f docker.sock dockerd.pid; setsid dockerd --iptables=false --ip6tables=false --bridge=none --data-root $state/data \
    --exec-root $state/exec -H $sock --pidfile $state/dockerd.pid </dev/null >dockerd.log 2>&1 &"
for i in $(seq 300); do $engine info >/dev/null 2>&1 && break; sleep 0.1; done
$engine info >/dev/null || { echo "bench: dockerd did not start: $(tail -5 $state/dockerd.log)" >&2; exit 1; }
stop_docker() {
    $engine rm -f benchdkr-blue benchdkr-green benchdkr-rebuilt >/dev/null 2>&1 || true
    remote "$alive; p=\$(cat $state/dockerd.pid 2>/dev/null) && kill \$p && while alive \$p; do sleep 0.1; done" || true
}
trap stop_docker EXIT
if ! $engine image inspect localhost/swiftfab-base:bookworm >/dev/null 2>&1; then
    say "docker: loading the base image (not timed)"
    base_engine=$(bash "$repo/scripts/podman-sandbox" | tail -n 1)
    eval "$base_engine save localhost/swiftfab-base:bookworm" | $engine load -q >/dev/null
fi
serve='/usr/bin/python3 -m gunicorn --workers 2 --bind unix:{socket} app:app'

make_app <<DEPLOYFILE
import SwiftFab
import SwiftFabRecipes

let deployfile = Deployfile("benchdkr") {
    Environment("one", sshConfig: "$config") { Host("th1", roles: .web) }
    BlueGreen(BlueGreenConfig(app: "benchdkr", command: "$serve", healthTimeout: 30,
                              runtime: .container(ContainerRuntime(engine: "$engine"))))
}
DEPLOYFILE
cd "$app"
container_images
start_nginx nginx-dkr 8092 benchdkr

say "docker: first deploy (builds the dependency image; not timed)"
"$sf" deploy -e one -q >/dev/null

say "docker: $runs code-only deploys, dependency-changing deploys and rollbacks, under load"
load 8092 $((runs * 8 + 3)) "$tmp/load-dkr.json"
sleep 1
deploy_rounds dkr
wait

say "docker: the seeds' way: rebuild the image with the code in it, replace the live container, under load"
load 8092 $((runs * 8 + 3)) "$tmp/load-dkr-rebuild.json"
sleep 1
rebuild_rounds dkr "$engine" benchdkr "$serve"
wait
stop_nginx nginx-dkr

code=$(median < "$tmp/dkr-code"); deps=$(median < "$tmp/dkr-deps"); back=$(median < "$tmp/dkr-rollback"); rebuild=$(median < "$tmp/dkr-rebuild")
read -r p_code p_deps p_back p_rebuild < "$tmp/podman-medians" 2>/dev/null || { p_code=0 p_deps=0 p_back=0 p_rebuild=0; }
ratio() { if [ "$(echo "$2 > 0" | bc)" = 1 ]; then printf '%.2fx' "$(echo "$1 / $2" | bc -l)"; else echo —; fi; }
sf_req=$(field "$tmp/load-dkr.json" requests); sf_fail=$(field "$tmp/load-dkr.json" failed)
rb_req=$(field "$tmp/load-dkr-rebuild.json" requests); rb_fail=$(field "$tmp/load-dkr-rebuild.json" failed)
cat <<TABLE

Deploys (container runtime on Docker Engine $($engine version -f '{{.Server.Version}}' 2>/dev/null), nginx in front; whole \`swiftfab\` commands, 1 host, median of $runs; podman's from the run above):

| metric | Docker Engine | requests failed during it | podman | ratio docker/podman | target | result |
|---|---|---|---|---|---|---|
| 7d. code-only deploy (no image build) | $(printf '%.2f' "$code") s | $sf_fail of $sf_req (all deploys and rollbacks together) | $(printf '%.2f' "$p_code") s | $(ratio "$code" "$p_code") | ≤ 3 s, 0 failed | $(pass "$code <= 3 && $sf_fail == 0") |
| 7d. dependency-changing deploy (one image build) | $(printf '%.2f' "$deps") s | (same load) | $(printf '%.2f' "$p_deps") s | $(ratio "$deps" "$p_deps") | 0 failed | $(pass "$sf_fail == 0") |
| 7d. rollback | $(printf '%.2f' "$back") s | (same load) | $(printf '%.2f' "$p_back") s | $(ratio "$back" "$p_back") | ≤ 1 s | $(pass "$back <= 1") |
| 7d. peer: rebuild the image with the code and replace the live container | $(printf '%.2f' "$rebuild") s | $rb_fail of $rb_req | $(printf '%.2f' "$p_rebuild") s | $(ratio "$rebuild" "$p_rebuild") | — | — |
TABLE
