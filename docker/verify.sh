#!/usr/bin/env bash
# Proves the container: builds docker/Dockerfile unchanged with podman, runs the image, then
# brings the compose file up. These machines reach no container registry, so the images the
# Dockerfile and compose file name are made here first, from Debian's packages:
#   debian:bookworm-slim      debootstrap --variant=minbase bookworm, imported
#   rust:1.95-slim-bookworm   the same + gcc + this machine's Rust toolchain (docker/verify/rust.Containerfile)
#   postgres:15-bookworm      the same + postgresql-15, with an entrypoint honouring POSTGRES_USER,
#                             POSTGRES_PASSWORD(_FILE), POSTGRES_DB (docker/verify/postgres.Containerfile)
# Checks: the image builds; the service runs as uid 10001 and answers /readyz; a token minted
# with the configured secret reads /v1/accounts; the HEALTHCHECK command passes; SIGTERM stops
# it within the grace period; the example secret is refused; the compose file comes up
# (podman-compose), keeps its data across `down` and `up`, serves /metrics only on its own port,
# and refuses to start with the example secret. Prints the image size.
# Podman quirks on these machines: the runc runtime (crun refuses the hybrid cgroup layout) and
# explicit ulimits (the defaults cannot be raised): both set in a containers.conf of our own.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BUYERPATH_VERIFY_DIR:-/tmp/buyerpath-verify}
mkdir -p "$work"
started=$(date +%s)
step() { printf '\n--> %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
fail() {
  echo "verify: FAILED: $*" >&2
  exit 1
}
ok() { echo "    ok: $*"; }

step "podman, runc, debootstrap"
missing=""
for t in podman runc debootstrap curl python3; do command -v "$t" >/dev/null || missing="$missing $t"; done
# Container names resolve on podman networks through the CNI dnsname plugin.
[ -x /usr/lib/cni/dnsname ] || missing="$missing dnsname"
if [ -n "$missing" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc debootstrap curl uidmap fuse-overlayfs slirp4netns python3-venv \
    golang-github-containernetworking-plugin-dnsname >/dev/null
fi
# At most the shell's own soft limits (raising them is refused), and no more than needed.
limit() {
  local v
  v=$(ulimit "$1")
  if [ "$v" = unlimited ] || [ "$v" -gt "$2" ]; then v=$2; fi
  echo "$v"
}
nofile=$(limit -Sn 65536)
nproc=$(limit -Su 8192)
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$work/containers.conf"
podman --version

step "base images from Debian's packages"
if ! podman image exists debian:bookworm-slim; then
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  rm -rf "$work/rootfs"
fi
ok "debian:bookworm-slim"
rust_tag=$(sed -n 's/^FROM \(rust:[^ ]*\) AS build$/\1/p' docker/Dockerfile)
rust_version=${rust_tag#rust:}
rust_version=${rust_version%%-*}
if ! podman image exists "$rust_tag"; then
  rustc --version | grep -q "^rustc $rust_version\." ||
    fail "the Dockerfile builds with $rust_tag but this machine has $(rustc --version)"
  ctx="$work/rust"
  rm -rf "$ctx"
  mkdir -p "$ctx/extra-ca" "$ctx/toolchain"
  sysroot=$(rustc --print sysroot)
  cp -a "$sysroot/bin" "$sysroot/lib" "$ctx/toolchain/"
  # The machine's own certificate authorities (an egress proxy's), so cargo reaches crates.io.
  cp /usr/local/share/ca-certificates/*.crt "$ctx/extra-ca/" 2>/dev/null || true
  cp docker/verify/rust.Containerfile "$ctx/Containerfile"
  podman build -q -t "$rust_tag" "$ctx" >/dev/null
  rm -rf "$ctx"
fi
ok "$rust_tag"
if ! podman image exists postgres:15-bookworm; then
  podman build -q -t postgres:15-bookworm -f docker/verify/postgres.Containerfile docker/verify >/dev/null
fi
ok "postgres:15-bookworm"

step "build docker/Dockerfile (unchanged)"
# docker format keeps the HEALTHCHECK (OCI images have none).
podman build --format docker -f docker/Dockerfile -t buyerpath:latest . >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; fail "the image does not build"; }
size=$(podman image inspect buyerpath:latest --format '{{.Size}}')
ok "buyerpath:latest built, $((size / 1024 / 1024)) MiB"

project_secrets_created=""
compose() { "$work/venv/bin/podman-compose" -f docker/compose.yaml "$@"; }
cleanup() {
  podman rm -f bpv-app bpv-db bpv-bad >/dev/null 2>&1 || true
  podman network rm -f bpv-net >/dev/null 2>&1 || true
  if [ -x "$work/venv/bin/podman-compose" ]; then compose down -v >/dev/null 2>&1 || true; fi
  if [ -n "$project_secrets_created" ]; then rm -rf docker/secrets docker/.env; fi
}
trap cleanup EXIT

wait_ready() { # url seconds
  for _ in $(seq 1 "$(($2 * 4))"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/readyz" || true)" = 200 ] && return 0
    sleep 0.25
  done
  return 1
}
uuid() { cat /proc/sys/kernel/random/uuid; }
random() { head -c "$1" /dev/urandom | base64 | tr -d '/+=\n'; }

step "the image runs"
pw=$(random 18)
secret=$(random 48)
podman network create bpv-net >/dev/null
podman run -d --name bpv-db --network bpv-net -e POSTGRES_USER=buyerpath \
  -e POSTGRES_PASSWORD="$pw" -e POSTGRES_DB=buyerpath postgres:15-bookworm >/dev/null
for _ in $(seq 1 120); do podman exec bpv-db pg_isready -q -U buyerpath -d buyerpath && break; sleep 0.5; done
podman exec bpv-db pg_isready -q -U buyerpath -d buyerpath || fail "postgres did not start"
port=18480
db_url="postgres://buyerpath:$pw@bpv-db:5432/buyerpath"
podman run -d --name bpv-app --network bpv-net -p "127.0.0.1:$port:8080" \
  -e DATABASE_URL="$db_url" -e BUYERPATH_JWT_SECRET="$secret" buyerpath:latest >/dev/null
base="http://127.0.0.1:$port"
wait_ready "$base" 60 || { podman logs bpv-app | tail -20; fail "/readyz"; }
ok "/readyz answers 200"
[ "$(podman exec bpv-app id -u)" = 10001 ] || fail "not uid 10001"
[ "$(podman top bpv-app huser | tail -n +2 | sort -u)" = 10001 ] || fail "the process is not uid 10001"
ok "runs as uid 10001"
token=$(podman exec bpv-app buyerpath token --tenant "$(uuid)" --sub ops --role admin)
body=$(curl -fsS -H "Authorization: Bearer $token" "$base/v1/accounts") || fail "/v1/accounts with a minted token"
echo "$body" | grep -q '"items":\[\]' || fail "unexpected /v1/accounts: $body"
ok "a token minted with the configured secret reads /v1/accounts"
podman healthcheck run bpv-app >/dev/null || fail "HEALTHCHECK"
ok "the HEALTHCHECK command passes"
t0=$(date +%s)
podman stop -t 45 bpv-app >/dev/null
took=$(($(date +%s) - t0))
code=$(podman inspect bpv-app --format '{{.State.ExitCode}}')
[ "$code" = 0 ] && [ "$took" -lt 45 ] || fail "SIGTERM: exit code $code after ${took}s"
ok "SIGTERM stops it cleanly in ${took}s (grace 45 s)"
if podman run --name bpv-bad --network bpv-net -e DATABASE_URL="$db_url" \
  -e BUYERPATH_JWT_SECRET=replace-me-with-the-output-of-openssl-rand-base64-48 \
  buyerpath:latest >"$work/bad.log" 2>&1; then
  fail "started with the example secret"
fi
grep -q BUYERPATH_JWT_SECRET "$work/bad.log" || fail "the refusal does not name the variable"
ok "the example secret is refused: $(tail -1 "$work/bad.log")"
podman rm -f bpv-app bpv-db bpv-bad >/dev/null
podman network rm -f bpv-net >/dev/null

step "compose (podman-compose)"
if [ ! -x "$work/venv/bin/podman-compose" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q --disable-pip-version-check podman-compose==1.2.0
fi
[ -e docker/secrets ] && fail "docker/secrets exists; move it away before verifying"
project_secrets_created=1
mkdir -p docker/secrets
random 48 >docker/secrets/jwt_secret
cpw=$(random 18)
printf %s "$cpw" >docker/secrets/db_password
printf %s "postgres://buyerpath:$cpw@postgres:5432/buyerpath" >docker/secrets/database_url
[ -f docker/.env ] || cp docker/.env.example docker/.env
compose up -d >"$work/compose.log" 2>&1 || { tail -30 "$work/compose.log"; fail "compose up"; }
app=$(podman ps -a --filter label=com.docker.compose.service=buyerpath --format '{{.Names}}' | head -1)
wait_ready "http://127.0.0.1:8080" 120 || { podman logs "$app" 2>&1 | tail -20; fail "compose: /readyz"; }
ok "compose is up; the API answers on 127.0.0.1:8080"
tenant=$(uuid)
ctoken=$(podman exec "$app" buyerpath token --tenant "$tenant" --sub ops --role admin)
curl -fsS -X POST -H "Authorization: Bearer $ctoken" -H 'Content-Type: application/json' \
  -d '{"name":"Survives down and up"}' http://127.0.0.1:8080/v1/accounts >/dev/null || fail "compose: create an account"
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/metrics)" = 404 ] || fail "/metrics on the API port"
ip=$(podman inspect "$app" --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')
curl -fsS "http://$ip:9090/metrics" | grep -q buyerpath_http_requests_total || fail "/metrics on port 9090"
ok "/metrics only on its own port"
hardening=$(podman inspect "$app" --format \
  'ro={{.HostConfig.ReadonlyRootfs}} sec={{.HostConfig.SecurityOpt}} mem={{.HostConfig.Memory}} dropped={{len .HostConfig.CapDrop}} ports={{.HostConfig.PortBindings}}')
case "$hardening" in
  "ro=true sec=[no-new-privileges] mem=268435456 dropped="*" ports="*"{127.0.0.1 8080}"*) ;;
  *) fail "compose hardening: $hardening" ;;
esac
[ "$(podman inspect "$app" --format '{{len .HostConfig.CapDrop}}')" -ge 10 ] || fail "capabilities not dropped: $hardening"
ok "read-only root, no-new-privileges, all capabilities dropped, 256 MiB, API on 127.0.0.1 only"
compose down >>"$work/compose.log" 2>&1
compose up -d >>"$work/compose.log" 2>&1 || fail "compose up (again)"
app=$(podman ps -a --filter label=com.docker.compose.service=buyerpath --format '{{.Names}}' | head -1)
wait_ready "http://127.0.0.1:8080" 120 || fail "compose: /readyz after down and up"
curl -fsS -H "Authorization: Bearer $ctoken" http://127.0.0.1:8080/v1/accounts | grep -q 'Survives down and up' ||
  fail "the data did not survive down and up"
ok "the data survives down and up"
compose down >>"$work/compose.log" 2>&1
printf %s "replace-me-with-the-output-of-openssl-rand-base64-48" >docker/secrets/jwt_secret
compose up -d >>"$work/compose.log" 2>&1 || true
app=$(podman ps -a --filter label=com.docker.compose.service=buyerpath --format '{{.Names}}' | head -1)
refused=""
for _ in $(seq 1 60); do
  if podman logs "$app" 2>&1 | grep -q "BUYERPATH_JWT_SECRET"; then refused=1; break; fi
  sleep 0.5
done
[ -n "$refused" ] || fail "compose started with the example secret"
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/readyz || true)" != 200 ] || fail "compose serves with the example secret"
ok "compose refuses to start with the example secret: $(podman logs "$app" 2>&1 | grep BUYERPATH_JWT_SECRET | tail -1)"

step "done"
echo "image buyerpath:latest: $((size / 1024 / 1024)) MiB"
