#!/usr/bin/env bash
# Installs reasond as a hardened systemd service on a Debian-based board image
# (Raspberry Pi OS, Ubuntu / Jetson Linux; arm64 or x86_64). Issue 8.
#
#   sudo scripts/install.sh [--broker URL] [--device-id NAME] [--memory-max 75%] [--controller]
#   sudo scripts/install.sh --uninstall [--purge]
#
# Idempotent: a second run changes nothing (files are copied only when they
# differ; the config is written only when absent, so an operator's edits stay).
# --root DIR installs into a throwaway root instead of / (users go into
# DIR/etc/passwd through useradd --prefix, units are enabled with
# systemctl --root), which is how the tests run it without touching the host.
# --uninstall removes the package, command and units and keeps /etc/reasond,
# /var/lib/reasond and the user (the data's owner); --purge removes those too.
set -euo pipefail

ROOT=/
FROM="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE="${REASOND_NODE:-$(command -v node || true)}"
ARCH="${REASOND_ARCH:-$(uname -m)}"
DEVICE_ID="$(hostname 2>/dev/null || echo reasond)"
BROKER=""
MEMORY_MAX="80%"
ACTION=install
PURGE=0
CONTROLLER=0
DEPS=1
MIN_NODE_MAJOR=20
USER_NAME=reasond

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "reasond: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$2"; shift ;;
    --from) FROM="$2"; shift ;;
    --node) NODE="$2"; shift ;;
    --device-id) DEVICE_ID="$2"; shift ;;
    --broker) BROKER="$2"; shift ;;
    --memory-max) MEMORY_MAX="$2"; shift ;;
    --controller) CONTROLLER=1 ;;
    --no-deps) DEPS=0 ;;
    --uninstall) ACTION=uninstall ;;
    --purge) PURGE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

ROOT="${ROOT%/}"
OPT="$ROOT/opt/reasond"
ETC="$ROOT/etc/reasond"
DATA="$ROOT/var/lib/reasond"
UNITS="$ROOT/etc/systemd/system"
BIN="$ROOT/usr/local/bin/reasond"
LIVE=0
[ -z "$ROOT" ] && [ -d /run/systemd/system ] && LIVE=1
PREFIX=()
[ -n "$ROOT" ] && PREFIX=(--prefix "$ROOT")
CHANGED=0

[ "$(id -u)" = 0 ] || [ -n "$ROOT" ] || die "run as root (sudo), or pass --root DIR"

# Copies one file when it is missing or differs; counts what changed.
put() { # src dest mode
  if [ -f "$2" ] && cmp -s "$1" "$2"; then chmod "$3" "$2"; return; fi
  mkdir -p "$(dirname "$2")"
  install -m "$3" "$1" "$2"
  CHANGED=$((CHANGED + 1))
}
put_text() { # dest mode text
  local tmp; tmp="$(mktemp)"; printf '%s' "$3" > "$tmp"; put "$tmp" "$1" "$2"; rm -f "$tmp"
}
# Mirrors a folder: copies what differs, deletes files the new version no longer has.
put_tree() { # src dest; private keys (*.key, such as models/dev-keys/dev.key) never reach a board
  local f
  [ -d "$1" ] || return 0
  while IFS= read -r -d '' f; do
    case "$f" in *.key) continue ;; esac
    put "$1/$f" "$2/$f" "$( [ -x "$1/$f" ] && echo 755 || echo 644 )"
  done < <(cd "$1" && find . -type f -print0)
  while IFS= read -r -d '' f; do
    case "$f" in *.key) rm -f "$2/$f"; CHANGED=$((CHANGED + 1)); continue ;; esac
    [ -e "$1/$f" ] || { rm -f "$2/$f"; CHANGED=$((CHANGED + 1)); }
  done < <(cd "$2" && find . -type f -print0)
  find "$2" -mindepth 1 -type d -empty -delete
}
uid_of() { awk -F: -v u="$1" '$1==u {print $3}' "$ROOT/etc/passwd"; }
gid_of() { awk -F: -v g="$1" '$1==g {print $3}' "$ROOT/etc/group"; }
systemctl_() {
  if [ "$LIVE" = 1 ]; then systemctl "$@"; elif command -v systemctl >/dev/null; then systemctl --root="${ROOT:-/}" "$@" >/dev/null 2>&1; else return 0; fi
}

check_platform() {
  case "$ARCH" in
    aarch64|arm64|x86_64|amd64) ;;
    armv7l|armv6l) die "$ARCH is a 32-bit OS: onnxruntime-node ships arm64 and x86_64 builds only; install the 64-bit OS image" ;;
    *) die "unsupported CPU architecture $ARCH (arm64 and x86_64 are supported)" ;;
  esac
  [ -n "$NODE" ] && [ -x "$NODE" ] || die "Node.js $MIN_NODE_MAJOR or newer is needed: apt-get install nodejs (NodeSource for Raspberry Pi OS), then run this again"
  local major; major="$("$NODE" -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge "$MIN_NODE_MAJOR" ] || die "Node.js $("$NODE" --version) is too old: reasond needs $MIN_NODE_MAJOR or newer"
  [ -f "$FROM/dist/cli/index.js" ] || die "$FROM has no dist/: run npm ci (which builds it) in the source first"
}

add_user() {
  if [ -z "$(uid_of "$USER_NAME")" ]; then
    useradd "${PREFIX[@]}" --system --user-group --home-dir /var/lib/reasond --no-create-home \
      --shell /usr/sbin/nologin --comment "reasond agent" "$USER_NAME"
    CHANGED=$((CHANGED + 1))
  fi
  # vcgencmd (Raspberry Pi throttling flags) needs /dev/vchiq, owned by group video.
  if [ -n "$(gid_of video)" ] && ! awk -F: '$1=="video"' "$ROOT/etc/group" | grep -qw "$USER_NAME"; then
    usermod "${PREFIX[@]}" -aG video "$USER_NAME"
    CHANGED=$((CHANGED + 1))
  fi
}

write_config() {
  local uid gid; uid="$(uid_of "$USER_NAME")"; gid="$(gid_of "$USER_NAME")"
  mkdir -p "$ETC" "$DATA"
  chown "0:$gid" "$ETC"; chmod 750 "$ETC"
  chown "$uid:$gid" "$DATA"; chmod 750 "$DATA"
  if [ ! -f "$ETC/config.json" ]; then
    put_text "$ETC/config.json" 640 "{
  \"device_id\": \"$DEVICE_ID\",
  \"broker\": \"$BROKER\",
  \"data_dir\": \"/var/lib/reasond\",
  \"model\": \"/opt/reasond/models/reasond-tiny\"
}
"
    chown "0:$gid" "$ETC/config.json"
  fi
}

install_package() {
  local part
  mkdir -p "$OPT"
  for part in package.json package-lock.json .npmrc README.md; do
    [ -f "$FROM/$part" ] && put "$FROM/$part" "$OPT/$part" 644
  done
  for part in dist models systemd scripts docs; do
    [ -d "$FROM/$part" ] && { mkdir -p "$OPT/$part"; put_tree "$FROM/$part" "$OPT/$part"; }
  done
  if [ "$DEPS" = 1 ]; then install_deps; fi
  put_text "$BIN" 755 "#!/bin/sh
exec $NODE /opt/reasond/dist/cli/index.js \"\$@\"
"
}

# The source's node_modules were built by `npm ci` on this board (sqlite3's native
# module included), so they are copied and pruned to the runtime ones: no network
# needed, which suits sites without internet. A stamp of the lock file and Node's
# ABI makes a re-run skip the copy.
install_deps() {
  [ -d "$FROM/node_modules" ] || die "$FROM has no node_modules: run npm ci in the source first (or pass --no-deps)"
  local stamp; stamp="$(cat "$FROM/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1) $("$NODE" -p process.versions.modules)"
  if [ "$(cat "$OPT/node_modules/.reasond-stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  rm -rf "$OPT/node_modules"
  mkdir -p "$OPT/node_modules"
  # "/." copies the folder's contents, so a node_modules that is a symlink is copied, not linked
  cp -a "$FROM/node_modules/." "$OPT/node_modules/"
  (cd "$OPT" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund >&2)
  echo "$stamp" > "$OPT/node_modules/.reasond-stamp"
  CHANGED=$((CHANGED + 1))
}

install_units() {
  put "$FROM/systemd/reasond.service" "$UNITS/reasond.service" 644
  put "$FROM/systemd/reasond-controller.service" "$UNITS/reasond-controller.service" 644
  # Install-time settings live in a drop-in so the shipped unit stays byte-identical.
  put_text "$UNITS/reasond.service.d/10-install.conf" 644 "# Written by scripts/install.sh; run it again to change these.
[Service]
MemoryMax=$MEMORY_MAX
ExecStart=
ExecStart=$NODE /opt/reasond/dist/cli/index.js start --config /etc/reasond/config.json
"
  put_text "$UNITS/reasond-controller.service.d/10-install.conf" 644 "# Written by scripts/install.sh; run it again to change these.
[Service]
ExecStart=
ExecStart=$NODE /opt/reasond/dist/cli/index.js controller --config /etc/reasond/config.json
"
  [ "$LIVE" = 1 ] && systemctl daemon-reload
  enable reasond.service
  [ "$CONTROLLER" = 1 ] && enable reasond-controller.service
  [ "$LIVE" = 1 ] && systemctl restart reasond.service
  return 0
}

enable() {
  local link="$UNITS/multi-user.target.wants/$1"
  [ -L "$link" ] && return 0
  if command -v systemctl >/dev/null; then systemctl_ enable "$1"; else mkdir -p "$(dirname "$link")"; ln -s "/etc/systemd/system/$1" "$link"; fi
  CHANGED=$((CHANGED + 1))
}

uninstall() {
  local unit
  for unit in reasond.service reasond-controller.service; do
    [ "$LIVE" = 1 ] && systemctl disable --now "$unit" 2>/dev/null || true
    rm -f "$UNITS/multi-user.target.wants/$unit"
    rm -rf "$UNITS/$unit" "$UNITS/$unit.d"
  done
  rmdir "$UNITS/multi-user.target.wants" 2>/dev/null || true
  [ "$LIVE" = 1 ] && systemctl daemon-reload
  rm -rf "$OPT" "$BIN"
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ETC" "$DATA"
    if [ -n "$(uid_of "$USER_NAME")" ]; then userdel "${PREFIX[@]}" "$USER_NAME"; fi
    if [ -n "$(gid_of "$USER_NAME")" ]; then groupdel "${PREFIX[@]}" "$USER_NAME"; fi
    say "removed, with config, data and the $USER_NAME user"
  else
    say "removed; kept /etc/reasond, /var/lib/reasond and the $USER_NAME user (--purge removes them)"
  fi
}

if [ "$ACTION" = uninstall ]; then uninstall; exit 0; fi
check_platform
add_user
install_package
write_config
install_units
say "installed for $ARCH with Node $("$NODE" --version); $CHANGED file(s) changed"
[ "$LIVE" = 1 ] && say "check the board with: reasond doctor"
exit 0
