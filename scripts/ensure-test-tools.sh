#!/bin/sh
# Makes sure the system tools the tests use are on this machine, before `npm test` runs them: the
# diagnostic script is run under dash, bash and busybox ash and linted by shellcheck; the fake VM needs
# openssl and curl; the iptables fixtures come from the real iptables; the HTML report opens in Chromium.
# Missing Debian packages are installed when that is possible without asking (root, or password-less
# sudo, with apt-get); otherwise this stops with one line naming the command to run.
set -eu

need() { # need <command or absolute path> <Debian package>
  case "$1" in
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac || missing="$missing $2"
}
check() {
  missing=""
  need dash dash
  need bash bash
  need busybox busybox
  need shellcheck shellcheck
  need openssl openssl
  need curl curl
  # Where Debian puts it: /usr/sbin is not on every user's PATH.
  need /usr/sbin/iptables-save iptables
  need "${CHROMIUM_PATH:-/usr/bin/chromium}" chromium
}

check
[ -z "$missing" ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
  else
    as_root="none"
  fi
  if [ "$as_root" != none ]; then
    echo "installing the Debian packages the tests need:$missing" >&2
    # shellcheck disable=SC2086 # word splitting of the package list and of the sudo prefix is intended
    if $as_root apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing >&2; then
      # Installed is not enough: the tests find the tools on PATH (and Chromium at CHROMIUM_PATH).
      check
      [ -z "$missing" ] && exit 0
      echo "npm test still cannot find what these Debian packages install:$missing; check PATH and CHROMIUM_PATH" >&2
      exit 1
    fi
  fi
fi
echo "npm test needs these Debian packages:$missing; install them with: sudo apt-get install -y$missing" >&2
exit 1
