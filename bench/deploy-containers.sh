#!/usr/bin/env bash
# Container deploy benchmark (called by bench/run): the blue/green recipe's
# container runtime with rootful podman standing in for docker, on 1 and on 10
# sandbox hosts, under real HTTP load through nginx on th1: a code-only deploy
# (the code is mounted, nothing is built), a dependency-changing deploy (one
# image build per host), and a rollback; against the seeds' way in miniature:
# rebuild the image with the code baked in, then replace the running container.
# Each host gets its own podman storage under its private /srv (as each real
# server has its own docker), loaded with the base image before anything is
# timed. Prints a markdown table on stdout.
set -euo pipefail
source "$(dirname "$0")/deploy-common.sh"
app="$tmp/ctr-app"

say "containers: preparing podman and its base image (cached after the first time)"
base_engine=$(bash "$repo/scripts/podman-sandbox" | tail -n 1)
engine="$base_engine --root /srv/podman/storage --runroot /srv/podman/run"
base_tar=$tmp/base-image.tar
eval "$base_engine save -q -o $base_tar localhost/swiftfab-base:bookworm"
hosts10=$(seq -f 'th%g' 1 10)
say "containers: loading the base image into each host's own storage (not timed)"
for h in $hosts10; do ssh -F "$config" "$h" "mkdir -p /srv/podman && $engine load -q -i $base_tar >/dev/null" & done
wait
cleanup_containers() {
    for h in $hosts10; do ssh -F "$config" "$h" "$engine rm -f benchctr-blue benchctr-green >/dev/null 2>&1; $engine rmi -af >/dev/null 2>&1" & done
    wait
}
trap cleanup_containers EXIT
serve='/usr/bin/python3 -m gunicorn --workers 2 --bind unix:{socket} app:app'

make_app <<DEPLOYFILE
import SwiftFab
import SwiftFabRecipes

let deployfile = Deployfile("benchctr") {
    Environment("one", sshConfig: "$config") { Host("th1", roles: .web) }
    Environment("ten", sshConfig: "$config") {
        for index in 1...10 { Host("th\(index)", roles: .web) }
    }
    BlueGreen(BlueGreenConfig(app: "benchctr", command: "$serve", healthTimeout: 30,
                              runtime: .container(ContainerRuntime(engine: "$engine"))))
}
DEPLOYFILE
cd "$app"
container_images
start_nginx nginx-ctr 8091 benchctr

say "containers: first deploy to 10 hosts (builds the dependency image on each; not timed)"
"$sf" deploy -e ten -q >/dev/null

say "containers: $runs code-only deploys, dependency-changing deploys and rollbacks, under load"
load 8091 $((runs * 12 + 3)) "$tmp/load-ctr.json"
sleep 1
deploy_rounds ctr
wait

say "containers: 10 hosts, one at a time: a code-only deploy, a dependency-changing deploy, a rollback"
commit "ten-code"
code10=$(timed "$sf" deploy -e ten -q)
echo "gunicorn==20.1  # change ten" > requirements.txt
commit "ten-deps"
deps10=$(timed "$sf" deploy -e ten -q)
back10=$(timed "$sf" rollback -e ten -q)

say "containers: the seeds' way: rebuild the image with the code in it, replace the live container, under load"
load 8091 $((runs * 8 + 3)) "$tmp/load-rebuild.json"
sleep 1
rebuild_rounds ctr "$engine" benchctr "$serve"
wait
stop_nginx nginx-ctr
cleanup_containers
trap - EXIT

code=$(median < "$tmp/ctr-code"); deps=$(median < "$tmp/ctr-deps"); back=$(median < "$tmp/ctr-rollback"); rebuild=$(median < "$tmp/ctr-rebuild")
echo "$code $deps $back $rebuild" > "$tmp/podman-medians"   # for bench/deploy-docker.sh's side by side
sf_req=$(field "$tmp/load-ctr.json" requests); sf_fail=$(field "$tmp/load-ctr.json" failed)
rb_req=$(field "$tmp/load-rebuild.json" requests); rb_fail=$(field "$tmp/load-rebuild.json" failed)
cat <<TABLE

Deploys (container runtime: podman as the engine, nginx in front; whole \`swiftfab\` commands; 1 host: median of $runs):

| metric | time | requests failed during it | target | result |
|---|---|---|---|---|
| 7. code-only deploy (no image build), 1 host | $(printf '%.2f' "$code") s | $sf_fail of $sf_req (all deploys and rollbacks together) | ≤ 3 s, 0 failed | $(pass "$code <= 3 && $sf_fail == 0") |
| 7. dependency-changing deploy (one image build), 1 host | $(printf '%.2f' "$deps") s | (same load) | 0 failed | $(pass "$sf_fail == 0") |
| 7. rollback, 1 host | $(printf '%.2f' "$back") s | (same load) | ≤ 1 s | $(pass "$back <= 1") |
| 7. code-only deploy, 10 hosts one at a time | $(printf '%.2f' "$code10") s | — | — | — |
| 7. dependency-changing deploy, 10 hosts one at a time | $(printf '%.2f' "$deps10") s | — | — | — |
| 7. rollback, 10 hosts one at a time | $(printf '%.2f' "$back10") s | — | — | — |
| 7. peer: rebuild the image with the code and replace the live container | $(printf '%.2f' "$rebuild") s | $rb_fail of $rb_req | — | — |
TABLE
