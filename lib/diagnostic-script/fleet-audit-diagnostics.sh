#!/bin/sh
# fleet-audit VM diagnostics: prints the output format v1 of docs/diagnostic-output.md on stdout.
#
# Read-only: it changes nothing on the VM, loads no kernel module and installs nothing; its only writes
# are temporary files in one mktemp -d directory, removed on exit. It never prints a private key, a
# bearer token or a value whose name looks secret, and reads regular files only, each up to a bound.
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

# Runs a command under timeout where the VM has a working one. One that runs out leaves $T/to, which
# makes its section's rc 124; busybox's timeout kills the command, whose status is then 143 or 137.
tmo() {
  [ -n "$TMO" ] || { "$@"; return; }
  timeout -k 5 10 "$@"
  set -- $?
  case $1 in 124 | 137 | 143) : > "$T/to" && return 124 ;; esac
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
    [ -e "$T/to" ] || gid=$(tmo id -g istio-proxy 2>/dev/null) || gid=
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

# node.metadata holds every ISTIO_META_* variable.
s_server_info() {
  rc=127
  if need curl; then
    { fetch -sS -m 5 "$ENVOY/server_info" 2>/dev/null; echo $? > "$T/rc"; } | redact_json > "$T/out"
    rc=$(cat "$T/rc")
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

# Copies cluster.env a logical line at a time (lines joined by an open quote or a backslash-newline,
# as the shell and systemd read them). One where a secret-looking name stands before an `=` is
# printed up to its first `=`, then `=<redacted>`; any other as it is.
redact_env() {
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

# s_filtered NAME FILE: the file, redacted, and bounded before the shell loop reads it. sidecar.env is
# sourced by istio-start.sh like cluster.env, so it is redacted the same way.
s_filtered() {
  rc=1
  if reg "$2" 65536; then
    head -c 65536 "$2" | case $1 in cluster-env | sidecar-env) redact_env ;; *) redact_yaml ;; esac > "$T/out"
    rc=0
  fi
  emit "$1" 16384 "$rc"
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
    nft list tables inet > "$T/table" 2>/dev/null
    rc=$?
    for table in istio-proxy-nat istio-proxy-mangle istio-proxy-raw; do
      listed_table "$T/table" "$table" || continue
      nft list table inet "$table" >> "$T/out" 2>/dev/null || rc=$?
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
  case $tool in *-nft-*) legacy= ;; *) case $("$tool" --version 2>/dev/null) in *nf_tables*) legacy= ;; esac ;; esac
  if [ -z "$legacy" ] && ! nf_tables_loaded; then
    emit "$tool" 65536 0
    return 0
  fi
  rc=0
  for table in nat raw mangle; do
    if [ -n "$legacy" ] && ! listed "$2" "$table"; then continue; fi
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

# Keeps only the CERTIFICATE blocks of a PEM file: a BEGIN of anything else or a PRIVATE KEY line,
# however indented, stops the printing, and only a BEGIN CERTIFICATE line of its own resumes it.
pem_certs() {
  inside=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      *[Pp][Rr][Ii][Vv][Aa][Tt][Ee]\ [Kk][Ee][Yy]*) inside= ;;
      -----BEGIN\ CERTIFICATE----- | -----BEGIN\ CERTIFICATE-----[[:space:]]) inside=1 ;;
      *-----[Bb][Ee][Gg][Ii][Nn]*) inside= ;;
    esac
    [ -z "$inside" ] || printf '%s\n' "$line"
    case $line in *-----[Ee][Nn][Dd]*) inside= ;; esac
  done
}

# s_pem NAME LIMIT PATH
s_pem() {
  rc=1
  if reg "$3" $(($2 * 4)); then
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
  SECTIONS=0 MISS='' CUT=0 TMO=''
  # An old busybox's timeout takes -t SECONDS: the tools then run unbounded, as without timeout.
  timeout -k 5 10 cat /dev/null > /dev/null 2>&1 && TMO=1

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
  s_logs
  s_filtered cluster-env "$ROOT/var/lib/istio/envoy/cluster.env"
  # istio-start.sh sources sidecar.env first, then cluster.env over it.
  s_filtered sidecar-env "$ROOT/var/lib/istio/envoy/sidecar.env"
  # istioctl writes cluster.env's variables into the mesh config's proxyMetadata too.
  s_filtered mesh-config "$ROOT/etc/istio/config/mesh"
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
