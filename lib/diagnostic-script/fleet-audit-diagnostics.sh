#!/bin/sh
# fleet-audit VM diagnostics: prints the output format v1 of docs/diagnostic-output.md on stdout.
#
# Read-only: it changes nothing on the VM, loads no kernel module and installs nothing; its only writes
# are temporary files in one mktemp -d directory, removed on exit. It never prints a private key, a
# bearer token, a JWT, a URL's password or a value whose name looks secret, and reads regular files
# only, each up to a bound.
# Inputs, overridable so it can run against a fake VM: FLEET_AUDIT_ROOT (prefix of every file path),
# ENVOY_ADMIN_URL, AGENT_READY_URL, and every tool found on PATH; FLEET_AUDIT_TOOL_TIMEOUT and
# FLEET_AUDIT_BUDGET may lower the seconds a tool and all tools may take. Every tool that can hang runs
# under a timeout, within a budget that ends the run well inside SSM's execution timeout.
# Runs under dash, bash and busybox ash. Everything is inside functions and the last lines call
# main with stdin from /dev/null, so `fleet-audit script | ssh vm sudo sh` neither runs a partly
# received script nor lets a tool swallow the rest of it from stdin.

SCRIPT_VERSION=1.2.0

# Appends a tool to the current section's missing list unless it is on PATH.
need() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  MISS=${MISS:+$MISS,}$1
  return 1
}

have() {
  command -v "$1" >/dev/null 2>&1
}

# Runs a tool that can hang (docs/diagnostic-output.md, "Timeouts"): for at most TOOL_LIMIT seconds,
# and only within what is left of the run's BUDGET. One that runs out leaves $T/to, which makes its
# section's rc 124, and $T/hung.<tool> holding the seconds it was given: a tool that hung is not run
# again, and once the budget is spent no tool is, each reported as timed out. busybox's timeout and the
# watcher kill the command, whose status is then 143 or 137.
tmo() {
  if [ -e "$T/hung.$1" ] || ! budget_left; then
    : > "$T/to"
    return 124
  fi
  if [ -n "$TMO" ]; then
    timeout -k "$GRACE" "$LEFT" "$@"
  elif [ -n "$WATCH" ]; then
    watched "$@"
  else
    "$@"
  fi
  set -- "$1" $?
  case $2 in
    124 | 137 | 143)
      : > "$T/to"
      echo "$LEFT" > "$T/hung.$1"
      return 124
      ;;
  esac
  return "$2"
}

# Sets LEFT to the seconds the next tool may take: TOOL_LIMIT, or less when the budget is nearly spent;
# fails when it is spent. What is spent is the time since the start, or, without a clock, at least the
# seconds given to every tool that timed out.
budget_left() {
  spent=0
  if [ -n "$START" ]; then
    now=$(date +%s 2>/dev/null) || now=
    case $now in '' | *[!0-9]*) ;; *) spent=$((now - START)) ;; esac
  fi
  waited=0
  for f in "$T"/hung.*; do
    [ -f "$f" ] || continue
    read -r n < "$f" || n=0
    waited=$((waited + n))
  done
  [ "$waited" -le "$spent" ] || spent=$waited
  LEFT=$((BUDGET - spent))
  [ "$LEFT" -gt 0 ] || return 1
  [ "$LEFT" -le "$TOOL_LIMIT" ] || LEFT=$TOOL_LIMIT
}

# Without a working timeout: the command runs in the background and a watcher sends it TERM after LEFT
# seconds, KILL after GRACE more. The watcher's own sleep outlives it, holding nothing of the run.
watched() {
  "$@" &
  pid=$!
  (
    sleep "$LEFT"
    kill -TERM "$pid" 2>/dev/null || exit 0
    sleep "$GRACE"
    kill -KILL "$pid" 2>/dev/null
  ) > /dev/null 2>&1 &
  watcher=$!
  wait "$pid"
  set -- $?
  kill "$watcher" 2>/dev/null
  return "$1"
}

# Succeeds when $1 is a regular file (after links): not a FIFO, which blocks, nor an endless device.
# Sets CUT when it holds more than the $2 bytes read of it.
reg() {
  [ -f "$1" ] || return 1
  n=$(head -c $(($2 + 1)) "$1" 2>/dev/null | wc -c)
  [ $((n)) -le "$2" ] || CUT=1
}

# Prints "$T/out" as section $1 bounded to $2 bytes, with rc $3 (124 when a command timed out); then
# resets the per-section state.
emit() {
  if [ -e "$T/to" ]; then
    rm -f "$T/to"
    set -- "$1" "$2" 124
  fi
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
    h=$(tmo hostname -s 2>/dev/null)
    rc=$?
    ips=$(tmo hostname -I 2>/dev/null) || ips=
  fi
  if [ -z "$ips" ] && have ip; then
    # `ip -o addr` lines: "<n>: <dev> inet|inet6 <addr>/<len> ... scope <scope> ..."; hostname -I
    # leaves out loopback and link-local addresses, and so does this fallback.
    ips=$(tmo ip -o addr show 2>/dev/null | while read -r _ _ fam addr rest; do
      case $fam in inet | inet6) ;; *) continue ;; esac
      case $rest in *"scope host"* | *"scope link"*) continue ;; esac
      printf '%s ' "${addr%/*}"
    done)
  fi
  if need date; then clock=$(date -u +%s 2>/dev/null); fi
  for f in "$ROOT/etc/os-release" "$ROOT/usr/lib/os-release"; do
    [ -f "$f" ] || continue
    os=$(head -c 65536 "$f" | while IFS= read -r line || [ -n "$line" ]; do
      case $line in PRETTY_NAME=*) printf '%s\n' "${line#PRETTY_NAME=}" ;; esac
    done)
    os=${os##*"$NL"}
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
    uid=$(tmo id -u istio-proxy 2>/dev/null) || uid=
    gid=$(tmo id -g istio-proxy 2>/dev/null) || gid=
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
    tmo systemctl --no-pager show istio --timestamp=unix -p "$props" > "$T/out" 2>/dev/null
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
      # systemd < 248 does not know --timestamp=unix.
      tmo systemctl --no-pager show istio -p "$props" > "$T/out" 2>/dev/null
      rc=$?
    fi
  fi
  emit systemd 4096 "$rc"
}

# curl never reads ~/.curlrc (-q) nor goes through a proxy: every URL is the VM's own loopback. Its -m
# bounds the transfer; the timeout also bounds what -m does not, such as a resolver that never answers.
fetch() {
  tmo curl -q --noproxy '*' "$@"
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

# node.metadata holds every ISTIO_META_* variable.
s_server_info() {
  rc=127
  if need curl; then
    { fetch -sS -m 5 "$ENVOY/server_info" 2>/dev/null; echo $? > "$T/rc"; } | redact_json | redact_values > "$T/out"
    rc=$(cat "$T/rc")
    need awk || rc=127
  fi
  emit envoy-server-info 65536 "$rc"
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

# Counts one LOGS-01 pattern in the pool and keeps its latest line, redacted, cut to 512 bytes. Only
# its first 4096 bytes are redacted (awk's work grows with a line's length), and only 512 are printed.
pattern() {
  grep -a -E -e "$2" "$T/pool" > "$T/match" 2>/dev/null
  c=$(grep -c '' "$T/match")
  c=$((c + 0))
  printf 'count %s %s\n' "$1" "$c" >> "$T/out"
  if [ "$c" -gt 0 ] && have awk; then
    printf 'last %s %s\n' "$1" "$(tail -n 1 "$T/match" | tr -d '\000\r' | head -c 4096 | redact_values each | head -c 512)" >> "$T/last"
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
  # Without awk the latest lines, which cannot be redacted, are left out.
  need awk
  if [ -n "$ok" ]; then
    if need journalctl; then
      tmo journalctl -q -u istio -n 1000 --no-pager -o cat > "$T/src" 2>/dev/null
      rc=$?
      if [ "$rc" -eq 0 ]; then add_source journal ok "$T/src"; else add_source journal error "$T/src"; fi
    else
      add_source journal missing /dev/null
    fi
    for f in istio.log istio.err.log; do
      p=$ROOT/var/log/istio/$f
      if [ ! -e "$p" ]; then
        add_source "$f" missing /dev/null
      # Of a regular file only, the last 4 MiB: a log without newlines is bounded all the same.
      elif [ -f "$p" ] && tail -c 4194304 "$p" > "$T/raw" 2>/dev/null && tail -n 2000 "$T/raw" > "$T/src"; then
        add_source "$f" ok "$T/src"
      else
        add_source "$f" error /dev/null
      fi
    done
    : > "$T/raw"
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

# A name is secret-looking per docs/diagnostic-output.md; a quote closing it is not part of it.
secret_name() {
  case ${1%[\"\']} in
    *[Ss][Ee][Cc][Rr][Ee][Tt]* | *[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]* | *[Pp][Aa][Ss][Ss][Ww][Dd]* | \
      *[Tt][Oo][Kk][Ee][Nn]* | *[Cc][Rr][Ee][Dd][Ee][Nn][Tt][Ii][Aa][Ll]* | *[Pp][Rr][Ii][Vv][Aa][Tt][Ee]* | \
      *[Kk][Ee][Yy]) return 0 ;;
  esac
  return 1
}

# Succeeds when a secret-looking name stands right before any $2 (= or :) of line $1, not just the first.
secret_line() {
  case $1 in *"$2"*) ;; *) return 1 ;; esac
  secret_name "$1" || case $1 in *[Kk][Ee][Yy]*) ;; *) return 1 ;; esac
  secret_words "$@"
}

# A subshell, for IFS and set -f: it splits, as dash's ${x#pattern} is quadratic in the length matched.
secret_words() (
  set -f
  IFS=$2
  # shellcheck disable=SC2086 # each field of the text up to the last separator ends right before one
  set -- ${1%"$2"*}
  IFS="$IFS0;&|({,"
  for w do
    # shellcheck disable=SC2086 # the name is the field's last word
    set -- $w
    [ $# -gt 0 ] && eval "secret_name \"\${$#}\"" && exit 0
  done
  exit 1
)

# Sets QS to the quoting at the end of line $2 read in state $1: N outside quotes, S in '…', D in "…",
# C after a backslash-newline outside quotes; empty when the logical line ends there. $3 is what
# precedes the line in its logical line: a # starting a word starts a comment, one inside a word not.
quote_end() {
  QS=$1 s=$2 x=''
  [ "$QS" != C ] || QS=N
  case $3 in *[![:space:]]) p=x ;; *) p=' ' ;; esac
  while [ -n "$s" ]; do
    # 512 bytes at a time, as each step copies what is left.
    if [ ${#s} -gt 512 ]; then r=$(printf %.512s "$s") && s=${s#"$r"}; else r=$s s=''; fi
    [ -z "$x" ] || r=${r#?}
    x=''
    while [ -n "$r" ]; do
      if [ "$QS" = S ]; then
        case $r in *\'*) r=${r#*\'} QS=N p=x ;; *) r='' ;; esac
        continue
      fi
      if [ "$QS" = N ]; then w=${r%%[\\\'\"#]*}; else w=${r%%[\\\"]*}; fi
      case $w in *[[:space:]]) p=' ' ;; ?*) p=x ;; esac
      [ "$w" != "$r" ] || break
      r=${r#"$w"}
      case $r in \\*) c=\\ ;; \'*) c=\' ;; \"*) c=\" ;; *) c=\# ;; esac
      r=${r#?}
      case $c in
        \\)
          if [ -n "$r" ]; then r=${r#?}; elif [ -n "$s" ]; then x=1; else
            [ "$QS" = D ] || QS=C
            return
          fi ;;
        \') QS=S ;;
        \") if [ "$QS" = D ]; then QS=N; else QS=D; fi ;;
        *)
          [ "$p" = ' ' ] || continue
          # A comment ends the line, but for systemd, which continues it after a backslash.
          case $r$s in *\\) QS=C ;; *) QS='' ;; esac
          return
          ;;
      esac
      p=x
    done
  done
  [ "$QS" != N ] || QS=
}

# An environment file (cluster.env, sidecar.env) redacted by name, then by value.
redact_env() {
  redact_env_names | redact_values
}

# Copies an environment file a logical line at a time (lines joined by an open quote or a
# backslash-newline, as the shell and systemd read them). One where a secret-looking name stands before
# an `=` is printed up to its first `=`, then `=<redacted>`; any other as it is.
redact_env_names() {
  QS='' all='' buf=''
  while IFS= read -r line || [ -n "$line" ]; do
    case $QS in
      '') all=$line buf='' ;;
      C) all=$all$NL$line buf=${buf%?} ;;
      *) all=$all$NL$line buf=$buf$NL ;;
    esac
    quote_end "${QS:-N}" "$line" "$buf"
    buf=$buf$line
    [ -n "$QS" ] || env_line
  done
  [ -z "$QS" ] || env_line
}

env_line() {
  if secret_line "$buf" =; then printf '%s=<redacted>\n' "${buf%%=*}"; else printf '%s\n' "$all"; fi
}

# Reads $line and into $e the newline ending it, if any: a filter gives a file back byte for byte.
getl() {
  if IFS= read -r line; then e=$NL; else e='' && [ -n "$line" ]; fi
}

# Copies the mesh config (YAML). A line where a secret-looking name stands before a `:` is printed up
# to its first `:`, then `: <redacted>`; the blank or deeper lines after it (a block value) are
# dropped, as are the lines of a quoted value it leaves open.
# shellcheck disable=SC2086,SC2048 # splitting finds the value's first word
redact_yaml() {
  QS='' sk=''
  while getl; do
    if [ -n "$QS" ]; then
      quote_end "$QS" "$line" x
      continue
    fi
    i=${line%%[![:space:]]*}
    if [ -n "$sk" ]; then
      if [ "$i" = "$line" ] || [ "${#i}" -gt "${#ind}" ]; then continue; fi
      sk=
    fi
    if secret_line "$line" :; then
      printf '%s: <redacted>%s' "${line%%:*}" "$e"
      sk=1 ind=$i
      set -f
      IFS=:
      set -- $line
      shift
      IFS=$IFS0
      set -- $*
      set +f
      case $line in "$i"\#*) ;; *) case ${1-} in \'* | \"*) quote_end N "$*" x ;; esac ;; esac
    else
      printf '%s%s' "$line" "$e"
    fi
  done
}

# Copies Envoy's JSON, one key a line: a secret-looking key's value, object or array included, becomes
# "<redacted>", and the document stays JSON. Another line holding such a key is cut after its `:`.
redact_json() {
  sk=''
  while getl; do
    i=${line%%[![:space:]]*}
    if [ -n "$sk" ]; then
      # The object or array ends at the first line as little indented as its key.
      case $line in "$ind"[]\}]*) [ "$i" = "$ind" ] || continue ;; *) continue ;; esac
    elif secret_line "$line" :; then
      sk=${line%%:*} ind=$i
      case $line in *[[\{]) continue ;; esac
    else
      printf '%s%s' "$line" "$e"
      continue
    fi
    case $line in *,) c=, ;; *) c='' ;; esac
    printf '%s: "<redacted>"%s%s' "$sk" "$c" "$e"
    sk=
  done
}

# Hides secrets by their look, wherever they stand in text read from the VM (docs/diagnostic-output.md,
# "Redaction"): a PEM block's body whatever its label, an Authorization header's value, a bearer token,
# a URL's userinfo password, a JWT, and a long base64 run, with the lines of base64 that follow it.
# Text read from the VM goes through it after the redaction by name; cluster.env and sidecar.env through
# redact_env. With $1 = each, every line stands alone (the logs' latest lines). A line is cut at 4096
# bytes, and loses its last, partial word. The input is given back line for line, its last
# newline or its absence kept: the boundary, which no content holds, marks the input's end for awk.
# Needs awk (its callers name it as missing): without it nothing is printed.
redact_values() {
  if ! have awk; then
    cat > /dev/null
    return 0
  fi
  { cat; printf '\n%s\n' "$B"; } | awk -v end="$B" -v each="${1:-}" '
function pem(s,   o, p, q) {
  o = ""
  for (;;) {
    p = index(tolower(s), "-----begin")
    if (!p) return o s
    q = index(substr(s, p + 10), "-----")
    q = q ? p + q + 13 : p + 9
    o = o substr(s, 1, q) "<redacted>"
    s = substr(s, q + 1)
    p = index(tolower(s), "-----end")
    if (!p) {
      if (each == "") blk = 1
      return o
    }
    s = substr(s, p)
    o = o substr(s, 1, 8)
    s = substr(s, 9)
  }
}
function authz(s,   o, q, v) {
  o = ""
  while (match(tolower(s), "authorization[\"\047]?[ \t]*[:=][ \t]*")) {
    o = o substr(s, 1, RSTART + RLENGTH - 1)
    s = substr(s, RSTART + RLENGTH)
    q = substr(s, 1, 1)
    if (q == "\"" || q == "\047") {
      o = o q
      s = substr(s, 2)
      v = index(s, q)
      v = v ? v - 1 : length(s)
    } else {
      v = match(s, "[\"\047\\\\]") ? RSTART - 1 : length(s)
    }
    if (v > 0) o = o "<redacted>"
    s = substr(s, v + 1)
  }
  return o s
}
function bearer(s,   o) {
  o = ""
  while (match(tolower(s), "bearer[ \t]+[^ \t\"\047\\\\,;<>(){}]+")) {
    o = o substr(s, 1, RSTART + 5) " <redacted>"
    s = substr(s, RSTART + RLENGTH)
  }
  return o s
}
function userinfo(s,   o, u, c) {
  o = ""
  while (match(s, "://[^/?#<> \t\"\047\\\\]*@")) {
    u = substr(s, RSTART + 3, RLENGTH - 4)
    c = index(u, ":")
    o = o substr(s, 1, RSTART + 2) (c ? substr(u, 1, c) : "") "<redacted>@"
    s = substr(s, RSTART + RLENGTH)
  }
  return o s
}
function jwt(s,   o, r, n, i, g, hit) {
  o = ""
  while (match(s, "[A-Za-z0-9_-]+[.][A-Za-z0-9_.-]*")) {
    r = substr(s, RSTART, RLENGTH)
    n = split(r, g, ".")
    hit = 0
    for (i = 1; i + 2 <= n && !hit; i++)
      if ((g[i] ~ /^eyJ/ && g[i + 1] != "") || (length(g[i]) >= 16 && length(g[i + 1]) >= 16 && length(g[i + 2]) >= 16)) hit = 1
    o = o substr(s, 1, RSTART - 1) (hit ? "<redacted>" : r)
    s = substr(s, RSTART + RLENGTH)
  }
  return o s
}
function b64(s,   o, r, hit) {
  o = ""
  hit = 0
  while (match(s, long)) {
    r = substr(s, RSTART, RLENGTH)
    hit = r ~ /[A-Z]/ && r ~ /[a-z]/ && r ~ /[0-9]/
    o = o substr(s, 1, RSTART - 1) (hit ? "<redacted>" : r)
    s = substr(s, RSTART + RLENGTH)
  }
  if (hit && each == "" && s ~ /^[^A-Za-z0-9]*$/) run = 1
  return o s
}
function out(s, nl,   p, r) {
  if (blk || run) {
    p = blk ? index(tolower(s), "-----end") : 0
    if (p) {
      # What stands before the END marker but base64, such as an indentation, is kept.
      r = substr(s, 1, p - 1)
      gsub(/[A-Za-z0-9+\/=]/, "", r)
      s = r substr(s, p)
    } else if (s ~ /^[^A-Za-z0-9+\/=]*[A-Za-z0-9+\/]*=*[^A-Za-z0-9+\/=:]*$/ && s !~ /[<>;&|(){}]/) {
      # Lines of a PEM body are dropped up to its END; after a base64 run, up to a short line, its last.
      if (!blk) run = gsub(/[A-Za-z0-9+\/]/, "", s) >= 40
      gsub(/[A-Za-z0-9+\/=]/, "", s)
      if (s ~ /[^ \t]/) printf "%s%s", s, nl
      return
    }
    blk = 0
    run = 0
  }
  # The work of the rules grows with the square of the length of a line: it is cut at 4096 bytes, and
  # loses its last word, which may be part of a secret.
  if (length(s) >= 4096) {
    s = substr(s, 1, 4096)
    sub(/[^ \t]+$/, "", s)
  }
  printf "%s%s", b64(jwt(userinfo(bearer(authz(pem(s)))))), nl
}
BEGIN {
  # 40 base64 characters or more, spelled out: not every awk knows {40,}.
  for (i = 0; i < 40; i++) long = long "[A-Za-z0-9+/]"
  long = long "[A-Za-z0-9+/]*=*"
}
$0 == end {
  if (held && prev != "") out(prev, "")
  held = 0
  exit
}
{
  if (held) out(prev, "\n")
  prev = $0
  held = 1
}
END { if (held) out(prev, "\n") }'
}

# s_filtered NAME FILE: the file, redacted, and bounded before the shell loop reads it; NAME *-env is
# an environment file (cluster.env, and sidecar.env, which istio-start.sh sources the same way), any other YAML.
s_filtered() {
  rc=1
  if ! need awk; then
    rc=127
  elif reg "$2" 65536; then
    case $1 in
      *-env) head -c 65536 "$2" | redact_env ;;
      *) head -c 65536 "$2" | redact_yaml | redact_values ;;
    esac > "$T/out"
    rc=0
  fi
  emit "$1" 16384 "$rc"
}

# The host names the agent is pinned to: CA_ADDR's (sidecar.env, then cluster.env) and the mesh config's
# discoveryAddress, without quotes or port, lower-cased, each after a blank. Only used to choose the
# /etc/hosts lines to print; the audit reads the addresses themselves from the sections above.
discovery_hosts() {
  for f in "$ROOT/var/lib/istio/envoy/sidecar.env" "$ROOT/var/lib/istio/envoy/cluster.env" "$ROOT/etc/istio/config/mesh"; do
    if reg "$f" 65536; then
      head -c 65536 "$f"
      echo
    fi
  done 2>/dev/null | awk -v q="'" '
/^[ \t]*(export[ \t]+)?CA_ADDR=/ { v = $0; sub(/^[^=]*=/, "", v) }
/^[ \t]*discoveryAddress:/ { v = $0; sub(/^[^:]*:/, "", v) }
v != "" {
  gsub(q, "", v)
  gsub(/["\t\r ]/, "", v)
  sub(/:[0-9]+$/, "", v)
  if (v ~ /^[A-Za-z0-9_.-]+$/) printf " %s", tolower(v)
  v = ""
}'
}

# The /etc/hosts lines that pin the control plane, as `istioctl x workload entry configure` appends them
# (`<east-west gateway IP> istiod[-<rev>].<namespace>.svc`): those giving an address to an istiod host or
# to the discovery host, with their comments dropped. The rest of the file is the VM's own business.
s_hosts() {
  rc=1
  if ! need awk; then
    rc=127
  elif [ -f "$ROOT/etc/hosts" ]; then
    wanted="$(discovery_hosts) "
    if reg "$ROOT/etc/hosts" 65536; then
      head -c 65536 "$ROOT/etc/hosts" | awk -v wanted="$wanted" '
{
  sub(/\r$/, "")
  sub(/#.*/, "")
  if (NF < 2 || $1 !~ /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/) next
  for (i = 2; i <= NF; i++) {
    h = tolower($i)
    if (h ~ /^istiod([-.]|$)/ || index(wanted, " " h " ")) {
      print
      next
    }
  }
}' > "$T/out"
      rc=0
    fi
  fi
  emit hosts 4096 "$rc"
}

# Reports whether table $2 is listed in file $1 (/proc/net/ip{,6}_tables_names, /proc/modules).
listed() {
  [ -f "$1" ] || return 1
  head -c 1048576 "$1" | (
    while read -r t _; do
      [ "$t" != "$2" ] || exit 0
    done
    exit 1
  )
}

# Whether the nf_tables module is loaded: listed in /proc/modules, or present in /sys/module.
nf_tables_loaded() {
  [ -d "$ROOT/sys/module/nf_tables" ] || listed "$ROOT/proc/modules" nf_tables
}

# Istio's native nftables mode (1.27+) keeps its rules in inet tables iptables-save cannot show. Only
# when nft is installed (the mode runs it) and nf_tables is loaded; only the tables `nft list tables`
# names, so that no table is created or looked up by guess. Listing reads, it changes nothing.
s_nftables() {
  have nft || return 0
  rc=0
  if nf_tables_loaded; then
    tmo nft list tables inet > "$T/table" 2>/dev/null
    rc=$?
    for table in istio-proxy-nat istio-proxy-mangle istio-proxy-raw; do
      listed_table "$T/table" "$table" || continue
      tmo nft list table inet "$table" >> "$T/out" 2>/dev/null || rc=$?
    done
    : > "$T/table"
  fi
  emit nftables 65536 "$rc"
}

# Reports whether `nft list tables inet` output $1 names table $2 (lines `table inet NAME`).
listed_table() {
  head -c 65536 "$1" | (
    while read -r w f n _; do
      [ "$w $f $n" != "table inet $2" ] || exit 0
    done
    exit 1
  )
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
  # Reading a table loads its kernel module: legacy iptables is asked only about tables already
  # loaded, the nf_tables tools (iptables-save too, when it is one) only when nf_tables is.
  legacy=1
  case $tool in *-nft-*) legacy= ;; *) case $(tmo "$tool" --version 2>/dev/null) in *nf_tables*) legacy= ;; esac ;; esac
  if [ -e "$T/to" ]; then
    emit "$tool" 65536 124
    return 0
  fi
  if [ -z "$legacy" ] && ! nf_tables_loaded; then
    emit "$tool" 65536 0
    return 0
  fi
  rc=0
  for table in nat raw mangle; do
    if [ -n "$legacy" ] && ! listed "$2" "$table"; then continue; fi
    tmo "$tool" -t "$table" > "$T/table" 2>/dev/null
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

# Prints the value the last `NAME=value` line (`export` allowed) of env file $2 gives to $1, with one
# level of quotes removed; fails when no line sets it. The file is read, never sourced: nothing in it runs.
env_value() {
  [ -f "$2" ] || return 1
  head -c 65536 "$2" | (
    found='' val=''
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line#"${line%%[![:space:]]*}"}
      line=${line#export }
      line=${line#"${line%%[![:space:]]*}"}
      case $line in "$1="*) ;; *) continue ;; esac
      found=1 val=${line#"$1="}
      case $val in
        \'*) val=${val#?} val=${val%%\'*} ;;
        \"*) val=${val#?} val=${val%%\"*} ;;
        *) val=${val%%[[:space:]]*} ;;
      esac
    done
    [ -n "$found" ] && printf '%s' "$val"
  )
}

# Sets CD to the directory the agent writes its certificates to, as istio-start.sh hands it over:
# OUTPUT_CERTS, else PROV_CERT, of sidecar.env then cluster.env (cluster.env wins), else /etc/certs
# (istio-start.sh's default ./etc/certs, from /). Only an absolute path of plain characters is taken;
# another value is named in CR and the default is read. CS names where CD came from.
certs_dir() {
  CD=/etc/certs CS=default CR=''
  for name in OUTPUT_CERTS PROV_CERT; do
    v='' given=''
    for f in "$ROOT/var/lib/istio/envoy/sidecar.env" "$ROOT/var/lib/istio/envoy/cluster.env"; do
      if w=$(env_value "$name" "$f"); then v=$w given=1; fi
    done
    [ -n "$given" ] || continue
    case $v in
      ./etc/certs) return 0 ;;
      /*)
        case $v in
          *[!A-Za-z0-9/._-]* | *..*) ;;
          *)
            CD=${v%/} CS=$name
            [ -n "$CD" ] || CD=/
            return 0
            ;;
        esac
        ;;
    esac
    CR=$name
    return 0
  done
}

# Prints "0600" for stat's "600".
mode4() {
  m=000$1
  printf '%s' "${m#"${m%????}"}"
}

# Metadata only: the bytes of key.pem are never read by the shell, only by openssl to derive its
# public key. The first line says which directory was read, and why.
s_certs() {
  d=$ROOT$CD
  rc=0
  printf 'location=%s source=%s%s\n' "$CD" "$CS" "${CR:+ refused=$CR}" > "$T/out"
  if [ ! -d "$d" ]; then
    printf 'dir=missing\n' >> "$T/out"
    rc=1
  else
    if need stat; then
      for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do
        [ -e "$f" ] || [ -h "$f" ] || continue
        kind=other
        if [ -h "$f" ]; then kind='link'; elif [ -f "$f" ]; then kind='file'; elif [ -d "$f" ]; then kind='dir'; fi
        # -L: for a link, the mode and owner that matter are those of the file it points to.
        if info=$(tmo stat -L -c '%a %u %g %U %s %Y' "$f" 2>/dev/null); then
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
      a=$(tmo openssl x509 -noout -pubkey -in "$d/cert-chain.pem" 2>/dev/null)
      [ -e "$T/to" ] || b=$(tmo openssl pkey -pubout -passin pass: -in "$d/key.pem" 2>/dev/null)
      if [ -n "$a" ] && [ -n "$b" ]; then
        if [ "$a" = "$b" ]; then km=yes; else km=no; fi
      fi
      a='' b=''
    fi
    printf 'key_match=%s\n' "$km" >> "$T/out"
  fi
  emit certs 8192 "$rc"
}

# Prints only what parses as a certificate block: a line -----BEGIN CERTIFICATE-----, lines of base64
# only, a line -----END CERTIFICATE----- (blanks around a marker or a line allowed), whose base64 is
# the DER of one X.509 certificate: SEQUENCE { SEQUENCE { [0] version or INTEGER serial, ... } ... },
# exactly as long as its header says. A private key, whatever its label, starts with an INTEGER or is
# longer or shorter than a certificate it follows, and is dropped with everything else; a last line
# dropped_lines=<count> counts the lines dropped, blank ones aside.
pem_certs() {
  awk '
function der(b,   i, v, n, byte, hdr, len, t) {
  if (b !~ /^[A-Za-z0-9+\/]+=?=?$/ || length(b) % 4 != 0 || length(b) < 16) return 0
  for (i = 1; i <= 16; i++) v[i] = index(a64, substr(b, i, 1)) - 1
  n = 0
  for (i = 1; i <= 16; i += 4) {
    byte[n++] = int(v[i] * 4 + v[i + 1] / 16)
    byte[n++] = (v[i + 1] % 16) * 16 + int(v[i + 2] / 4)
    byte[n++] = (v[i + 2] % 4) * 64 + v[i + 3]
  }
  if (byte[0] != 48) return 0
  if (byte[1] < 128) { len = byte[1]; hdr = 2 }
  else if (byte[1] == 129) { len = byte[2]; hdr = 3 }
  else if (byte[1] == 130) { len = byte[2] * 256 + byte[3]; hdr = 4 }
  else if (byte[1] == 131) { len = (byte[2] * 256 + byte[3]) * 256 + byte[4]; hdr = 5 }
  else return 0
  if (byte[hdr] != 48) return 0
  t = byte[hdr + 1]
  t = t < 128 ? hdr + 2 : t == 129 ? hdr + 3 : t == 130 ? hdr + 4 : t == 131 ? hdr + 5 : 0
  if (!t || (byte[t] != 160 && byte[t] != 2)) return 0
  len += hdr
  return length(b) == 4 * int((len + 2) / 3) && (len % 3 == 0 ? b !~ /=$/ : len % 3 == 1 ? b ~ /==$/ : b ~ /[^=]=$/)
}
function drop() {
  if (open) dropped += lines
  open = 0
}
BEGIN { a64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" }
{
  t = $0
  sub(/^[ \t\r]+/, "", t)
  sub(/[ \t\r]+$/, "", t)
}
t == "-----BEGIN CERTIFICATE-----" {
  drop()
  open = 1
  lines = 1
  body = b = ""
  next
}
open && t == "-----END CERTIFICATE-----" {
  if (der(b)) printf "-----BEGIN CERTIFICATE-----\n%s-----END CERTIFICATE-----\n", body
  else dropped += lines + 1
  open = 0
  next
}
open && t ~ /^[A-Za-z0-9+\/]+=*$/ {
  body = body t "\n"
  b = b t
  lines++
  next
}
{
  drop()
  if (t != "") dropped++
}
END {
  drop()
  if (dropped) printf "dropped_lines=%s\n", dropped
}'
}

# s_pem NAME LIMIT PATH
s_pem() {
  rc=1
  if ! need awk; then
    rc=127
  elif reg "$3" $(($2 * 4)); then
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
    if need stat && info=$(tmo stat -L -c '%a %u %g %U %Y' "$f" 2>/dev/null); then
      read -r m u g o t <<EOF
$info
EOF
      printf 'mode=%s uid=%s gid=%s owner=%s mtime=%s\n' "$(mode4 "$m")" "$u" "$g" "$o" "$t" >> "$T/out"
    fi
    tok=
    if [ -f "$f" ]; then tok=$(head -c 16384 "$f" 2>/dev/null) || rc=1; else rc=1; fi
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
    v=$(tmo dpkg-query -W -f '${Version}' istio-sidecar 2>/dev/null)
    rc=$?
    if [ "$rc" -eq 0 ] && [ -n "$v" ]; then pm=dpkg pv=$v; fi
  fi
  if [ -z "$pm" ] && have rpm; then
    v=$(tmo rpm -q --qf '%{VERSION}' istio-sidecar 2>/dev/null)
    rc=$?
    if [ "$rc" -eq 0 ] && [ -n "$v" ]; then pm=rpm pv=$v; fi
  fi
  have dpkg-query || have rpm || MISS=dpkg-query,rpm
  if need pilot-agent; then
    pa=$(tmo pilot-agent version -s 2>/dev/null)
    pa=${pa%%"$NL"*}
  fi
  printf 'package_manager=%s\npackage_version=%s\npilot_agent_version=%s\n' "$pm" "$pv" "$pa" > "$T/out"
  emit versions 1024 "$rc"
}

# Prints $1 when it is a whole number of seconds from 1 to $2, else $2.
seconds() {
  case $1 in '' | *[!0-9]* | 0*) echo "$2" ;; *) if [ "${#1}" -le 4 ] && [ "$1" -le "$2" ]; then echo "$1"; else echo "$2"; fi ;; esac
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
  IFS0=$IFS
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
  SECTIONS=0 MISS='' CUT=0 TMO='' WATCH=''
  # Seconds: what one tool may take, the grace between TERM and KILL, and what all tools together may
  # take, which keeps the run well inside SSM's execution timeout (300 s by default). The first two
  # may be lowered, not raised, through the environment.
  TOOL_LIMIT=$(seconds "${FLEET_AUDIT_TOOL_TIMEOUT:-}" 10)
  GRACE=5
  BUDGET=$(seconds "${FLEET_AUDIT_BUDGET:-}" 120)
  START=$(date +%s 2>/dev/null) || START=
  case $START in *[!0-9]*) START= ;; esac
  # An old busybox's timeout takes -t SECONDS: it is not used, nor one that does not work; a watcher
  # (sleep and kill) bounds the tools instead, and without sleep they run unbounded.
  if timeout -k 5 10 cat /dev/null > /dev/null 2>&1; then TMO=1; elif have sleep; then WATCH=1; fi

  printf 'FLEET-AUDIT-DIAGNOSTICS v1 boundary=%s\n' "$B"
  s_identity
  s_systemd
  s_readiness
  s_server_info
  s_envoy envoy-stats 8192 /stats -G --data-urlencode \
    'filter=^(control_plane\.connected_state|server\.state|cluster_manager\.cds\.update_(success|rejected)|listener_manager\.lds\.update_(success|rejected))$'
  s_envoy envoy-secrets-active 262144 '/config_dump?resource=dynamic_active_secrets'
  s_envoy envoy-secrets-warming 262144 '/config_dump?resource=dynamic_warming_secrets'
  s_envoy envoy-clusters-active 524288 '/config_dump?resource=dynamic_active_clusters&mask=cluster.name,cluster.type'
  s_envoy envoy-clusters-warming 262144 '/config_dump?resource=dynamic_warming_clusters&mask=cluster.name,cluster.type'
  # Every cluster with each endpoint's health: about 700 bytes an endpoint, so 512 KiB holds some 700
  # endpoints, the scale the active clusters' bound allows. A cut answer is never judged (XDS-06 ERROR).
  s_envoy envoy-clusters-health 524288 '/clusters?format=json'
  s_logs
  s_filtered cluster-env "$ROOT/var/lib/istio/envoy/cluster.env"
  # istio-start.sh sources sidecar.env first, then cluster.env over it.
  s_filtered sidecar-env "$ROOT/var/lib/istio/envoy/sidecar.env"
  # istioctl writes cluster.env's variables into the mesh config's proxyMetadata too.
  s_filtered mesh-config "$ROOT/etc/istio/config/mesh"
  s_hosts
  s_iptables iptables-save "$ROOT/proc/net/ip_tables_names" required
  s_iptables iptables-legacy-save "$ROOT/proc/net/ip_tables_names"
  s_iptables iptables-nft-save "$ROOT/proc/net/ip_tables_names"
  s_iptables ip6tables-save "$ROOT/proc/net/ip6_tables_names" required
  s_iptables ip6tables-legacy-save "$ROOT/proc/net/ip6_tables_names"
  s_iptables ip6tables-nft-save "$ROOT/proc/net/ip6_tables_names"
  s_nftables
  certs_dir
  s_certs
  s_pem cert-chain-pem 32768 "$ROOT$CD/cert-chain.pem"
  s_pem root-cert-pem 32768 "$ROOT$CD/root-cert.pem"
  s_token
  s_versions
  printf '%s DONE sections=%s\n' "$B" "$SECTIONS"
  return 0
}

main "$@" </dev/null
exit $?
