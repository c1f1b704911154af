# Shared by bench/deploy.sh, deploy-containers.sh and deploy-docker.sh (sourced, not run):
# their arguments, timing helpers, the example app as a git repository, and
# nginx on th1 in front of an app's live socket.
repo=$1 hosts_dir=$2 tmp=$3 quick=${4:-}
sf="$repo/.build-bench/release/swiftfab"
config="$hosts_dir/ssh_config"
runs=3; [[ $quick == --quick ]] && runs=1
export SWIFTFAB_CACHE_DIR="$tmp/deploy-cache" NO_COLOR=1
say() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Prints how long a command took, in seconds; its output is dropped.
timed() { local t0; t0=$(now); "$@" >/dev/null; echo "$(now) - $t0" | bc; }
git_() { git -C "$app" -c user.name=Bench -c user.email=bench@example.com "$@"; }
commit() { echo "$1" > "$app/VERSION"; git_ commit -qam "$1"; }
remote() { ssh -F "$config" th1 "$@"; }
field() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
pass() { if [ "$(echo "$1" | bc)" = 1 ]; then echo pass; else echo '**FAIL**'; fi; }

# The example app in $app, committed as v0, with the Deployfile on stdin.
make_app() {
    mkdir -p "$app"
    cp "$repo/examples/shop/app.py" "$app/"
    echo v0 > "$app/VERSION"
    printf '.swiftfab/\n' > "$app/.gitignore"
    cat > "$app/Deployfile.swift"
    git_ init -q -b main
    git_ add -A
    git_ commit -qm v0
}

# nginx on th1 (state in /srv/NAME) listening on 127.0.0.2:PORT for app APP.
start_nginx() {
    local name=$1 port=$2 app_name=$3
    local conf="worker_processes 2; pid /srv/$name/nginx.pid; error_log /srv/$name/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path /srv/$name/b; proxy_temp_path /srv/$name/p;
  fastcgi_temp_path /srv/$name/f; uwsgi_temp_path /srv/$name/u; scgi_temp_path /srv/$name/s;
  upstream app { server unix:/srv/$app_name/run/live.sock; }
  server { listen 127.0.0.2:$port; location / { proxy_pass http://app; } } }"
    remote "mkdir -p /srv/$name && printf '%s' '$conf' > /srv/$name/nginx.conf && nginx -c /srv/$name/nginx.conf"
}
stop_nginx() { remote "nginx -c /srv/$1/nginx.conf -s quit" || true; }

# HTTP load through nginx on PORT for SECONDS (6 clients), JSON summary to FILE; in the background.
load() { /usr/bin/python3 "$repo/examples/load.py" "http://127.0.0.2:$1/version" "$2" 6 > "$3" & }

# Container apps: the recipe's image holds the dependencies only (the release is mounted at /app),
# so its fingerprint is the Dockerfile and requirements.txt; the seeds' image (Dockerfile.rebuild)
# bakes the code in and is rebuilt for every change. Committed in $app.
container_images() {
    echo 'gunicorn==20.1' > requirements.txt
    printf 'FROM localhost/swiftfab-base:bookworm\nCOPY requirements.txt /deps/requirements.txt\n' > Dockerfile
    printf 'FROM localhost/swiftfab-base:bookworm\nCOPY requirements.txt /deps/requirements.txt\nCOPY . /app\nWORKDIR /app\n' > Dockerfile.rebuild
    git_ add -A
    git_ commit -qm "container images"
}

# $runs rounds on environment `one`: a code-only deploy, a dependency-changing deploy, a rollback;
# their times in $tmp/PREFIX-code, -deps, -rollback.
deploy_rounds() {
    local prefix=$1
    : > "$tmp/$prefix-code"; : > "$tmp/$prefix-deps"; : > "$tmp/$prefix-rollback"
    for i in $(seq "$runs"); do
        commit "c$i"
        timed "$sf" deploy -e one -q >> "$tmp/$prefix-code"
        echo "gunicorn==20.1  # change $i" > requirements.txt
        commit "d$i"
        timed "$sf" deploy -e one -q >> "$tmp/$prefix-deps"
        timed "$sf" rollback -e one -q >> "$tmp/$prefix-rollback"
    done
}

# The seeds' way, $runs times on th1 with ENGINE for app APP: rebuild the image with the code in it,
# replace the live slot's container, wait until it answers; times in $tmp/PREFIX-rebuild.
# Shipping the source is not timed: only the build and the restart are.
rebuild_rounds() {
    local prefix=$1 engine=$2 app_name=$3 serve=$4
    local live src=/srv/$prefix-src run=/srv/$app_name/run
    live=$(remote "readlink $run/live.sock | sed s/.sock//")
    remote "mkdir -p $src"
    : > "$tmp/$prefix-rebuild"
    for i in $(seq "$runs"); do
        commit "r$i"
        git_ archive HEAD | remote "rm -rf $src/* && tar -x -C $src"
        timed remote "cd $src && $engine build -q -t $app_name:rebuilt -f Dockerfile.rebuild . >/dev/null && \
            $engine rm -f $app_name-$live >/dev/null && rm -f $run/$live.sock && \
            $engine run -d --name $app_name-$live --network=host -v $run:$run -w /app $app_name:rebuilt \
            /bin/sh -c 'exec ${serve/\{socket\}/$run/$live.sock}' >/dev/null && \
            for t in \$(seq 100); do curl -sf --unix-socket $run/$live.sock http://localhost/healthz >/dev/null && break; sleep 0.1; done" >> "$tmp/$prefix-rebuild"
        sleep 2
    done
}
