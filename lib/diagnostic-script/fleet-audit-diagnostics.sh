#!/bin/sh
# fleet-audit VM diagnostics: prints the output format v1 of docs/diagnostic-output.md on stdout.
#
# Read-only: it changes nothing on the VM and installs nothing; its only writes are temporary files in
# one mktemp -d directory, removed on exit. It never prints a private key, a bearer token or a
# cluster.env value whose name looks secret.
# Inputs, overridable so it can run against a fake VM: FLEET_AUDIT_ROOT (prefix of every file path),
# ENVOY_ADMIN_URL, AGENT_READY_URL, and every tool found on PATH.
# Runs under dash, bash and busybox ash. Everything is inside functions and the last lines call
# main with stdin from /dev/null, so `fleet-audit script | ssh vm sudo sh` neither runs a partly
# received script nor lets a tool swallow the rest of it from stdin.

SCRIPT_VERSION=1.0.0

# Appends a tool to the current section's missing list unless it is on PATH.
need() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  MISS=${MISS:+$MISS,}$1
  return 1
}

have() {
  command -v "$1" >/dev/null 2>&1
}

# Prints "$T/out" as section $1 bounded to $2 bytes, with rc $3; then resets the per-section state.
# rc is the exit status of the section's main command: curl for HTTP sections, hostname -s (identity),
# journalctl (logs), the package query (versions), stat (certs), reading the file for file sections
# (1 when it is absent), 127 when the tool is not installed.
emit() {
  size=$(wc -c < "$T/out")
  size=$((size + 0))
  printf '%s BEGIN %s\n' "$B" "$1"
  if [ "$size" -gt "$2" ]; then
    CUT=1
    head -c "$2" "$T/out"
  else
    cat "$T/out"
  fi
  printf '\n%s END %s rc=%s cut=%s missing=%s\n' "$B" "$1" "$3" "$CUT" "${MISS:--}"
  SECTIONS=$((SECTIONS + 1))
  MISS=
  CUT=0
  : > "$T/out"
}

s_identity() {
  rc=127 h='' ips='' clock='' os='' uid='' gid=''
  if need hostname; then
    h=$(hostname -s 2>/dev/null)
    rc=$?
    ips=$(hostname -I 2>/dev/null) || ips=
  fi
  if [ -z "$ips" ] && have ip; then
    # `ip -o addr` lines: "<n>: <dev> inet|inet6 <addr>/<len> ... scope <scope> ..."; hostname -I
    # leaves out loopback and link-local addresses, and so does this fallback.
    ips=$(ip -o addr show 2>/dev/null | while read -r _ _ fam addr rest; do
      case $fam in inet | inet6) ;; *) continue ;; esac
      case $rest in *"scope host"* | *"scope link"*) continue ;; esac
      printf '%s ' "${addr%/*}"
    done)
  fi
  if need date; then clock=$(date -u +%s 2>/dev/null); fi
  for f in "$ROOT/etc/os-release" "$ROOT/usr/lib/os-release"; do
    [ -r "$f" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in PRETTY_NAME=*) os=${line#PRETTY_NAME=} ;; esac
    done < "$f"
    break
  done
  case $os in
    \"*\")
      os=${os#\"}
      os=${os%\"}
      ;;
    \'*\')
      os=${os#\'}
      os=${os%\'}
      ;;
  esac
  if need id; then
    uid=$(id -u istio-proxy 2>/dev/null) || uid=
    gid=$(id -g istio-proxy 2>/dev/null) || gid=
  fi
  set -f
  # shellcheck disable=SC2086 # splitting joins hostname -I's blanks and newlines into single spaces
  set -- $ips
  set +f
  printf 'hostname=%s\nips=%s\nclock=%s\nos=%s\nproxy_uid=%s\nproxy_gid=%s\nscript_version=%s\n' \
    "$h" "$*" "$clock" "$os" "$uid" "$gid" "$SCRIPT_VERSION" > "$T/out"
  emit identity 4096 "$rc"
}

s_systemd() {
  rc=127
  if need systemctl; then
    props=LoadState,ActiveState,SubState,UnitFileState,NRestarts,ActiveEnterTimestamp,MainPID
    systemctl --no-pager show istio --timestamp=unix -p "$props" > "$T/out" 2>/dev/null
    rc=$?
    if [ "$rc" -ne 0 ]; then
      # systemd < 248 does not know --timestamp=unix.
      systemctl --no-pager show istio -p "$props" > "$T/out" 2>/dev/null
      rc=$?
    fi
  fi
  emit systemd 4096 "$rc"
}

# curl never reads ~/.curlrc (-q) nor goes through a proxy: every URL is the VM's own loopback.
fetch() {
  curl -q --noproxy '*' "$@"
}

s_readiness() {
  rc=127
  if need curl; then
    code=$(fetch -s -o /dev/null -m 5 -w '%{http_code}' "$READY_URL" 2>/dev/null)
    rc=$?
    printf 'url=%s\nhttp_code=%s\ncurl_exit=%s\n' "$READY_URL" "${code:-000}" "$rc" > "$T/out"
  fi
  emit readiness 1024 "$rc"
}

# s_envoy NAME LIMIT PATH [curl arguments]
s_envoy() {
  name=$1 limit=$2 path=$3
  shift 3
  rc=127
  if need curl; then
    fetch -sS -m 5 "$@" "$ENVOY$path" > "$T/out" 2>/dev/null
    rc=$?
  fi
  emit "$name" "$limit" "$rc"
}

# Appends one log source's lines to the pool and its `source` line to the section.
add_source() {
  n=0
  if [ -s "$3" ]; then
    n=$(grep -c '' "$3")
    cat "$3" >> "$T/pool"
    # A last line without newline would run into the next source's first line.
    [ -z "$(tail -c 1 "$3")" ] || printf '\n' >> "$T/pool"
  fi
  printf 'source %s %s %s\n' "$1" "$2" "$((n + 0))" >> "$T/out"
}

# Counts one LOGS-01 pattern in the pool and keeps its latest line, cut to 512 bytes.
pattern() {
  grep -a -E -e "$2" "$T/pool" > "$T/match" 2>/dev/null
  c=$(grep -c '' "$T/match")
  c=$((c + 0))
  printf 'count %s %s\n' "$1" "$c" >> "$T/out"
  if [ "$c" -gt 0 ]; then
    printf 'last %s %s\n' "$1" "$(tail -n 1 "$T/match" | tr -d '\000\r' | head -c 512)" >> "$T/last"
  fi
}

# Raw logs never leave the VM: only pattern counts and the latest matching line of each.
s_logs() {
  rc=127
  : > "$T/pool"
  : > "$T/last"
  ok=1
  need grep || ok=
  need tail || ok=
  if [ -n "$ok" ]; then
    if need journalctl; then
      journalctl -q -u istio -n 1000 --no-pager -o cat > "$T/src" 2>/dev/null
      rc=$?
      if [ "$rc" -eq 0 ]; then add_source journal ok "$T/src"; else add_source journal error "$T/src"; fi
    else
      add_source journal missing /dev/null
    fi
    for f in istio.log istio.err.log; do
      p=$ROOT/var/log/istio/$f
      if [ ! -e "$p" ]; then
        add_source "$f" missing /dev/null
      elif tail -n 2000 "$p" > "$T/src" 2>/dev/null; then
        add_source "$f" ok "$T/src"
      else
        add_source "$f" error "$T/src"
      fi
    done
    # The latest line is the last match in source order: journal, istio.log, istio.err.log.
    pattern warm-cert 'failed to warm certificate'
    pattern not-ready 'Envoy proxy is NOT ready'
    pattern no-workload-group 'cannot find WorkloadGroup'
    pattern token 'token expired|failed to fetch token'
    pattern x509 'x509:'
    pattern istiod-dial '(connection refused|dial tcp).*(istiod|:15012)|(istiod|:15012).*(connection refused|dial tcp)'
    pattern dns-not-ready 'DNS lookup table is not ready'
    pattern stream-closed 'gRPC config stream closed'
    cat "$T/last" >> "$T/out"
  fi
  : > "$T/pool"
  emit logs 16384 "$rc"
}

secret_name() {
  case $1 in
    *[Ss][Ee][Cc][Rr][Ee][Tt]* | *[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]* | *[Pp][Aa][Ss][Ss][Ww][Dd]* | \
      *[Tt][Oo][Kk][Ee][Nn]* | *[Cc][Rr][Ee][Dd][Ee][Nn][Tt][Ii][Aa][Ll]* | *[Pp][Rr][Ii][Vv][Aa][Tt][Ee]* | \
      *[Kk][Ee][Yy]) return 0 ;;
  esac
  return 1
}

# Copies cluster.env from stdin, replacing the value of every secret-looking name by <redacted>.
# The name is whatever precedes the first `=` (comments and `export` included), so a commented-out
# or malformed secret line is redacted too; a quoted secret value running over several lines is
# dropped up to its closing quote.
redact_env() {
  skip=
  while IFS= read -r line || [ -n "$line" ]; do
    if [ -n "$skip" ]; then
      case $line in *"$skip"*) skip= ;; esac
      continue
    fi
    case $line in
      *=*) ;;
      *)
        printf '%s\n' "$line"
        continue
        ;;
    esac
    name=${line%%=*}
    if secret_name "${name%"${name##*[![:space:]]}"}"; then
      printf '%s=<redacted>\n' "$name"
      value=${line#*=}
      case $value in
        \'*) case ${value#\'} in *\'*) ;; *) skip=\' ;; esac ;;
        \"*) case ${value#\"} in *\"*) ;; *) skip=\" ;; esac ;;
      esac
    else
      printf '%s\n' "$line"
    fi
  done
}

s_cluster_env() {
  f=$ROOT/var/lib/istio/envoy/cluster.env
  rc=1
  if [ -f "$f" ] && [ -r "$f" ]; then
    # Bounded before the shell loop reads it; anything past 64 KiB would be cut at 16 KiB anyway.
    head -c 65536 "$f" | redact_env > "$T/out"
    rc=0
  fi
  emit cluster-env 16384 "$rc"
}

# s_file NAME LIMIT PATH
s_file() {
  rc=1
  if [ -e "$3" ]; then
    cat "$3" > "$T/out" 2>/dev/null
    rc=$?
  fi
  emit "$1" "$2" "$rc"
}

# Reports whether legacy iptables has table $2 loaded, per $1 (/proc/net/ip{,6}_tables_names).
table_loaded() {
  [ -r "$1" ] || return 1
  while IFS= read -r t || [ -n "$t" ]; do
    [ "$t" = "$2" ] && return 0
  done < "$1"
  return 1
}

# s_iptables TOOL TABLES-NAMES-FILE [required]: one section per tool that exists; a required tool that does
# not exist still gets its section, empty, naming it as missing.
s_iptables() {
  tool=$1
  if ! have "$tool"; then
    [ -n "${3:-}" ] || return 0
    MISS=$tool
    emit "$tool" 65536 127
    return 0
  fi
  # Legacy iptables loads the kernel module of a table it is asked about: ask only about tables
  # already loaded, so auditing changes nothing. nf_tables loads nothing to read.
  legacy=1
  case $("$tool" --version 2>/dev/null) in *nf_tables*) legacy= ;; esac
  rc=0
  for table in nat raw mangle; do
    if [ -n "$legacy" ] && ! table_loaded "$2" "$table"; then continue; fi
    "$tool" -t "$table" > "$T/table" 2>/dev/null
    r=$?
    if [ "$table" = nat ]; then
      rc=$r
      cat "$T/table" >> "$T/out"
    else
      case $(cat "$T/table") in *ISTIO_*) cat "$T/table" >> "$T/out" ;; esac
    fi
  done
  emit "$tool" 65536 "$rc"
}

# Prints "0600" for stat's "600".
mode4() {
  m=000$1
  printf '%s' "${m#"${m%????}"}"
}

# Metadata only: the bytes of key.pem are never read by the shell, only by openssl to derive its
# public key.
s_certs() {
  d=$ROOT/etc/certs
  rc=0
  if [ ! -d "$d" ]; then
    printf 'dir=missing\n' > "$T/out"
    rc=1
  else
    if need stat; then
      for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do
        [ -e "$f" ] || [ -h "$f" ] || continue
        kind=other
        if [ -h "$f" ]; then kind='link'; elif [ -f "$f" ]; then kind='file'; elif [ -d "$f" ]; then kind='dir'; fi
        # -L: for a link, the mode and owner that matter are those of the file it points to.
        if info=$(stat -L -c '%a %u %g %U %s %Y' "$f" 2>/dev/null); then
          read -r m u g o s t <<EOF
$info
EOF
          printf '%s mode=%s uid=%s gid=%s owner=%s size=%s mtime=%s name=%s\n' \
            "$kind" "$(mode4 "$m")" "$u" "$g" "$o" "$s" "$t" "${f##*/}" >> "$T/out"
        else
          rc=1
          printf '%s name=%s\n' "$kind" "${f##*/}" >> "$T/out"
        fi
      done
    else
      rc=127
    fi
    km=unknown
    if need openssl && [ -f "$d/key.pem" ] && [ -f "$d/cert-chain.pem" ]; then
      # An empty passphrase makes openssl fail on an encrypted key instead of prompting.
      a=$(openssl x509 -noout -pubkey -in "$d/cert-chain.pem" 2>/dev/null)
      b=$(openssl pkey -pubout -passin pass: -in "$d/key.pem" 2>/dev/null)
      if [ -n "$a" ] && [ -n "$b" ]; then
        if [ "$a" = "$b" ]; then km=yes; else km=no; fi
      fi
      a='' b=''
    fi
    printf 'key_match=%s\n' "$km" >> "$T/out"
  fi
  emit certs 8192 "$rc"
}

# Keeps only the CERTIFICATE blocks of a PEM file, so a private key stored alongside is never shown.
pem_certs() {
  inside=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      -----BEGIN\ CERTIFICATE-----*) inside=1 ;;
      -----BEGIN\ *) inside= ;;
    esac
    [ -z "$inside" ] || printf '%s\n' "$line"
    case $line in -----END\ CERTIFICATE-----*) inside= ;; esac
  done
}

# s_pem NAME LIMIT PATH
s_pem() {
  rc=1
  if [ -f "$3" ] && [ -r "$3" ]; then
    head -c $(($2 * 4)) "$3" | pem_certs > "$T/out"
    rc=0
  fi
  emit "$1" "$2" "$rc"
}

# Only the JWT's payload segment is printed: without its signature it is not a credential. The token
# is read into a variable, never into a file, and dropped right after.
s_token() {
  f=$ROOT/var/run/secrets/tokens/istio-token
  rc=0
  if [ ! -e "$f" ]; then
    printf 'present=no\n' > "$T/out"
  else
    printf 'present=yes\n' > "$T/out"
    if need stat && info=$(stat -L -c '%a %u %g %U %Y' "$f" 2>/dev/null); then
      read -r m u g o t <<EOF
$info
EOF
      printf 'mode=%s uid=%s gid=%s owner=%s mtime=%s\n' "$(mode4 "$m")" "$u" "$g" "$o" "$t" >> "$T/out"
    fi
    tok=$(head -c 16384 "$f" 2>/dev/null) || rc=1
    tok=${tok%%"$NL"*}
    payload=
    case $tok in *.*.*)
      payload=${tok#*.}
      payload=${payload%%.*}
      ;;
    esac
    tok=
    case $payload in *[!A-Za-z0-9_=-]*) payload= ;; esac
    printf 'payload=%s\n' "$payload" >> "$T/out"
  fi
  emit token 8192 "$rc"
}

s_versions() {
  rc=127 pm='' pv='' pa=''
  if have dpkg-query; then
    # shellcheck disable=SC2016 # ${Version} is dpkg-query's format field, not a shell expansion
    v=$(dpkg-query -W -f '${Version}' istio-sidecar 2>/dev/null)
    rc=$?
    if [ "$rc" -eq 0 ] && [ -n "$v" ]; then pm=dpkg pv=$v; fi
  fi
  if [ -z "$pm" ] && have rpm; then
    v=$(rpm -q --qf '%{VERSION}' istio-sidecar 2>/dev/null)
    rc=$?
    if [ "$rc" -eq 0 ] && [ -n "$v" ]; then pm=rpm pv=$v; fi
  fi
  have dpkg-query || have rpm || MISS=dpkg-query,rpm
  if need pilot-agent; then
    pa=$(pilot-agent version -s 2>/dev/null)
    pa=${pa%%"$NL"*}
  fi
  printf 'package_manager=%s\npackage_version=%s\npilot_agent_version=%s\n' "$pm" "$pv" "$pa" > "$T/out"
  emit versions 1024 "$rc"
}

main() {
  LC_ALL=C
  export LC_ALL
  umask 077
  ROOT=${FLEET_AUDIT_ROOT:-}
  ENVOY=${ENVOY_ADMIN_URL:-http://127.0.0.1:15000}
  READY_URL=${AGENT_READY_URL:-http://127.0.0.1:15021/healthz/ready}
  NL='
'
  for tool in cat head wc od tr mktemp rm; do
    if ! have "$tool"; then
      echo "fleet-audit-diagnostics: cannot run: $tool is not installed" >&2
      return 2
    fi
  done
  # The boundary is drawn before anything is read, so no content can hold it. /dev/urandom is not
  # under FLEET_AUDIT_ROOT: it is the auditor's randomness, not the VM's state.
  B=@@fa-$(od -An -N8 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
  hex=${B#@@fa-}
  case $hex in ????????????????) ;; *) hex= ;; esac
  case $hex in
    '' | *[!0-9a-f]*)
      echo "fleet-audit-diagnostics: cannot run: no random boundary from /dev/urandom" >&2
      return 2
      ;;
  esac
  T=$(mktemp -d 2>/dev/null) || T=''
  if [ -z "$T" ] || [ ! -d "$T" ]; then
    echo "fleet-audit-diagnostics: cannot run: mktemp -d failed" >&2
    return 2
  fi
  trap 'rm -rf "$T"' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # A reader gone away (a dropped ssh) must still leave no temporary directory behind.
  trap 'exit 141' PIPE
  : > "$T/out" || return 2
  SECTIONS=0 MISS='' CUT=0

  printf 'FLEET-AUDIT-DIAGNOSTICS v1 boundary=%s\n' "$B"
  s_identity
  s_systemd
  s_readiness
  s_envoy envoy-server-info 65536 /server_info
  s_envoy envoy-stats 8192 /stats -G --data-urlencode \
    'filter=^(control_plane\.connected_state|server\.state|cluster_manager\.cds\.update_(success|rejected)|listener_manager\.lds\.update_(success|rejected))$'
  s_envoy envoy-secrets-active 262144 '/config_dump?resource=dynamic_active_secrets'
  s_envoy envoy-secrets-warming 262144 '/config_dump?resource=dynamic_warming_secrets'
  s_envoy envoy-clusters-active 524288 '/config_dump?resource=dynamic_active_clusters&mask=cluster.name,cluster.type'
  s_envoy envoy-clusters-warming 262144 '/config_dump?resource=dynamic_warming_clusters&mask=cluster.name,cluster.type'
  s_logs
  s_cluster_env
  s_file mesh-config 16384 "$ROOT/etc/istio/config/mesh"
  s_iptables iptables-save "$ROOT/proc/net/ip_tables_names" required
  s_iptables iptables-legacy-save "$ROOT/proc/net/ip_tables_names"
  s_iptables iptables-nft-save "$ROOT/proc/net/ip_tables_names"
  s_iptables ip6tables-save "$ROOT/proc/net/ip6_tables_names" required
  s_iptables ip6tables-legacy-save "$ROOT/proc/net/ip6_tables_names"
  s_iptables ip6tables-nft-save "$ROOT/proc/net/ip6_tables_names"
  s_certs
  s_pem cert-chain-pem 32768 "$ROOT/etc/certs/cert-chain.pem"
  s_pem root-cert-pem 32768 "$ROOT/etc/certs/root-cert.pem"
  s_token
  s_versions
  printf '%s DONE sections=%s\n' "$B" "$SECTIONS"
  return 0
}

main "$@" </dev/null
exit $?
