#!/bin/sh
# token-api's hook for Claude Code: forwards the hook JSON that Claude Code writes on stdin to
# token-api's POST /api/hooks unchanged, with where it came from as query parameters. POSIX sh,
# curl and the POSIX tools (no Node, Python or jq); always exits 0 with nothing on stdout, within
# TOKEN_API_HOOK_TIMEOUT whatever token-api does, so the agent is never blocked or fed text;
# spools the event when token-api cannot be reached, in the order the hooks ran, and says so
# when it cannot keep it either. hooks/README.md describes the control flow.
#
#   sh token-api-hook.sh EVENT      what `token-api hooks install` writes for each event
#   sh token-api-hook.sh --check    prints what the script would use (`token-api hooks doctor`)
#
# Environment: TOKEN_API_URL (default http://127.0.0.1:$TOKEN_API_PORT, port 7777),
# TOKEN_API_TOKEN (sent as a bearer token), TOKEN_API_HOME (default ~/.token-api: spool and
# log), TOKEN_API_TAB (this terminal's tab name), TOKEN_API_SESSION (set by token-api in the
# agents it starts: the managed session, forwarded as managed_session), TOKEN_API_HOOK_TIMEOUT
# (seconds, default 2), TOKEN_API_SPOOL_PIECE_BYTES (largest spool upload, default 1048576).

LC_ALL=C
export LC_ALL
event=${1:-}
home=${TOKEN_API_HOME:-${HOME:-.}/.token-api}
url=${TOKEN_API_URL:-http://127.0.0.1:${TOKEN_API_PORT:-7777}}
url=${url%/}
spool_dir=$home/spool
spool=$spool_dir/hooks.ndjson
lockdir=$spool_dir/hooks.lock
uplock=$spool_dir/upload.lock
seqfile=$spool_dir/seq
retryfile=$spool_dir/retry-after
rejected=$spool_dir/rejected.ndjson
log=$home/logs/hooks.log
nl='
'

# Seconds (as TOKEN_API_HOOK_TIMEOUT or curl's time_total write them) -> $ms; $2 when unreadable.
# (sh has no local variables: helpers use names of their own, starting with _.)
to_ms() {
  ms=$2
  case $1 in '' | . | *[!0-9.]* | *.*.*) return ;; esac
  _i=${1%%.*}
  _f=
  case $1 in *.*) _f=${1#*.} ;; esac
  _f=${_f}000
  _f=${_f%"${_f#???}"}
  while :; do case $_i in 0?*) _i=${_i#0} ;; *) break ;; esac; done
  while :; do case $_f in 0?*) _f=${_f#0} ;; *) break ;; esac; done
  ms=$((${_i:-0} * 1000 + _f))
}

# Milliseconds -> $secs, as curl takes them ("1.750").
to_secs() {
  _r=$(($1 % 1000))
  case ${#_r} in 1) _r=00$_r ;; 2) _r=0$_r ;; esac
  secs="$(($1 / 1000)).$_r"
}

# The time budget: everything below, lock waits and uploads included, fits in it; `reserve` is
# kept for what follows the last curl (spooling the event, exiting).
to_ms "${TOKEN_API_HOOK_TIMEOUT:-2}" 2000
budget=$ms
[ "$budget" -ge 300 ] || budget=300
reserve=250
spent=0
piece=${TOKEN_API_SPOOL_PIECE_BYTES:-1048576}
case $piece in '' | *[!0-9]* | 0*) piece=1048576 ;; esac
to_secs $((budget - reserve))
post_time=$secs
connect_time=1
[ "$budget" -gt 1250 ] || connect_time=$post_time

if [ "$event" = "--check" ]; then
  echo "url=$url"
  echo "home=$home"
  echo "spool=$spool"
  if { mkdir -p "$spool_dir" && : >>"$spool"; } 2>/dev/null; then
    echo "spool_writable=yes"
  else
    why=$({ mkdir -p "$spool_dir" && : >>"$spool"; } 2>&1)
    echo "spool_writable=no: ${why##*: }"
  fi
  if ! command -v curl >/dev/null 2>&1; then
    echo "curl=missing"
    exit 0
  fi
  echo "curl=$(command -v curl)"
  echo "health=$(curl -q -s --noproxy '*' --connect-timeout "$connect_time" --max-time "$post_time" -o /dev/null -w '%{http_code}' "$url/health" 2>/dev/null)"
  exit 0
fi

# Failures go to the hook log (never stdout: Claude Code reads it), kept under about 1 MB.
# Fails when the log cannot be written.
log_line() {
  { [ -d "$home/logs" ] || mkdir -p "$home/logs"; } 2>/dev/null || return 1
  if [ -f "$log" ] && [ "$(wc -c <"$log" 2>/dev/null || echo 0)" -gt 1048576 ]; then mv -f "$log" "$log.1" 2>/dev/null; fi
  { printf '%s %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${event:-?}" "$*" >>"$log"; } 2>/dev/null
}

# Percent-encodes $1 into $enc (builtins only for the characters SSH_CLIENT and tab names use most).
enc() {
  s=$1
  enc=
  while [ -n "$s" ]; do
    rest=${s#?}
    c=${s%"$rest"}
    s=$rest
    case $c in
      [A-Za-z0-9._~-]) enc=$enc$c ;;
      ' ') enc=$enc%20 ;;
      :) enc=$enc%3A ;;
      /) enc=$enc%2F ;;
      *) enc=$enc$(printf '%%%02X' "'$c") ;;
    esac
  done
}

body=$(cat)
if [ -z "$body" ]; then
  log_line "no JSON on stdin; nothing sent"
  exit 0
fi

# The agent's pid: the parent, or the parent's parent when a shell ran us (sh -c '...').
agent_pid=${TOKEN_API_AGENT_PID:-$PPID}
if [ -z "${TOKEN_API_AGENT_PID:-}" ] && [ -r "/proc/$agent_pid/comm" ]; then
  read -r comm <"/proc/$agent_pid/comm"
  case $comm in
    sh | dash | bash | zsh | ash | ksh | mksh | busybox)
      read -r stat <"/proc/$agent_pid/stat"
      stat=${stat##*) }
      # shellcheck disable=SC2086
      set -- $stat
      [ -n "${2:-}" ] && [ "$2" -gt 1 ] 2>/dev/null && agent_pid=$2
      ;;
  esac
fi

# An id for this event, so that a replay of it is recognised.
if [ -r /proc/sys/kernel/random/uuid ]; then
  read -r event_id </proc/sys/kernel/random/uuid
else
  event_id="e$$-$(date +%s)-$agent_pid"
fi

q="event_id=$event_id&pid=$agent_pid"
ssh=${SSH_CLIENT:-${SSH_CONNECTION:-}}
if [ -n "$ssh" ]; then
  enc "$ssh"
  q="$q&ssh_client=$enc"
fi
# The managed session token-api started this agent in (its children carry TOKEN_API_SESSION).
if [ -n "${TOKEN_API_SESSION:-}" ]; then
  enc "$TOKEN_API_SESSION"
  q="$q&managed_session=$enc"
fi
# The tab name and tty cost a process or two: only when a session starts or a prompt is sent.
case $event in
  SessionStart | UserPromptSubmit)
    tab=${TOKEN_API_TAB:-}
    if [ -z "$tab" ] && [ -n "${TMUX:-}" ] && [ -n "${TMUX_PANE:-}" ]; then
      tab=$(tmux display-message -p -t "$TMUX_PANE" '#W' 2>/dev/null)
    fi
    [ -z "$tab" ] && tab=${WT_SESSION:-}
    if [ -n "$tab" ]; then
      enc "$tab"
      q="$q&tab_name=$enc"
    fi
    if [ -e "/proc/$agent_pid/fd/0" ]; then
      tty=$(readlink "/proc/$agent_pid/fd/0" 2>/dev/null)
    else
      tty=$(ps -o tty= -p "$agent_pid" 2>/dev/null)
      tty=${tty%% *}
    fi
    case $tty in
      /dev/tty* | /dev/pts/*) ;;
      tty* | pts/*) tty=/dev/$tty ;;
      *) tty= ;;
    esac
    if [ -n "$tty" ]; then
      enc "$tty"
      q="$q&tty=$enc"
    fi
    ;;
esac

# A PermissionRequest waits for token-api's decision (hooks/README.md, "A permission request"):
# curl holds POST /api/approvals/wait until someone decides (its answer is printed for Claude
# Code), the approval is over (nothing printed: Claude Code asks as usual), or
# TOKEN_API_APPROVAL_WAIT seconds pass. token-api not running: nothing printed, at once. A call
# token-api dropped while stopping is made again (same event id: the same approval) for up to
# TOKEN_API_APPROVAL_RECONNECT seconds. Killed (Esc in the terminal), curl goes too, and
# token-api sees the hook go away. Only entries `token-api hooks install` wrote for waiting
# (they set TOKEN_API_APPROVAL_WAIT, and a timeout above it) wait: an older entry, whose
# timeout is short, reports the event as before.
if [ "$event" = PermissionRequest ] && [ -n "${TOKEN_API_APPROVAL_WAIT:-}" ] && [ "${TOKEN_API_APPROVALS:-1}" != 0 ]; then
  wait_s=$TOKEN_API_APPROVAL_WAIT
  case $wait_s in '' | *[!0-9]* | 0) wait_s=130 ;; esac
  again_s=${TOKEN_API_APPROVAL_RECONNECT:-30}
  case $again_s in '' | *[!0-9]*) again_s=30 ;; esac
  set -- -q -s --noproxy '*' --fail --connect-timeout 1 -H 'Content-Type: application/json'
  [ -n "${TOKEN_API_TOKEN:-}" ] && set -- "$@" -H "Authorization: Bearer $TOKEN_API_TOKEN"
  started=$(date +%s)
  dropped=
  cpid=
  trap '[ -n "$cpid" ] && kill "$cpid" 2>/dev/null; exit 0' TERM INT HUP
  while :; do
    left=$((wait_s - ($(date +%s) - started)))
    [ "$left" -gt 0 ] || exit 0
    printf '%s\n' "$body" | curl "$@" --max-time "$left" --data-binary @- "$url/api/approvals/wait?$q" 2>/dev/null &
    cpid=$!
    wait "$cpid"
    rc=$?
    cpid=
    case $rc in
      0) exit 0 ;;
      # Dropped while waiting (token-api stopped): ask its next start.
      52 | 56) [ -n "$dropped" ] || dropped=$(date +%s) ;;
      # Not running: at once on the first call; after a drop, until it is back or the time is up.
      7) [ -n "$dropped" ] || { log_line "token-api is not running at $url; Claude Code asks as usual"; exit 0; } ;;
      *) log_line "the approval wait failed ($rc); Claude Code asks as usual"; exit 0 ;;
    esac
    [ $(($(date +%s) - dropped)) -lt "$again_s" ] || exit 0
    sleep 1
  done
fi

# curl's options, shared by every call (-q first: a ~/.curlrc must not change them).
set -- -q -s --noproxy '*' --connect-timeout "$connect_time"
if [ -n "${TOKEN_API_TOKEN:-}" ]; then
  set -- "$@" -H "Authorization: Bearer $TOKEN_API_TOKEN"
fi

pending=
if [ -s "$spool" ]; then
  pending=1
else
  for f in "$spool_dir"/batch-*.ndjson; do
    [ -e "$f" ] && pending=1
    break
  done
fi

# The usual case, kept to one process (curl) after the shell: no command substitution here.
# An error answer (--fail) is spooled too: a replay that fails again is kept aside, with why.
post() {
  curl "$@" --fail --max-time "$post_time" -o /dev/null -H 'Content-Type: application/json' --data-binary @- "$url/api/hooks?$q&reply=none" 2>/dev/null <<EOF
$body
EOF
}

if [ -z "$pending" ]; then
  post "$@"
  rc=$?
  [ "$rc" -eq 0 ] && exit 0
fi

# Below: only when the event could not be delivered at once, or events wait in the spool. (The
# shell reads a function when it reaches it: the usual case above never pays for these.)

# An event that could not be kept anywhere: said in the log, or on stderr when the log cannot be written either.
lost() {
  log_line "could not keep the event ($*); it is lost" ||
    printf 'token-api hook: could not keep the %s event (%s) nor write %s; it is lost\n' "${event:-?}" "$*" "$log" >&2
}

# Epoch milliseconds -> $now (where date cannot print milliseconds, the second's start).
now_ms() {
  now=$(date +%s%3N 2>/dev/null)
  case $now in ????????????? ) case $now in *[!0-9]*) now= ;; esac ;; *) now= ;; esac
  [ -n "$now" ] || now=$(date +%s)000
}

# A lock is a directory (mkdir is atomic) holding its owner's pid. Takes lock $1, waiting at most
# $2 ms: 0 taken, 1 held by a live process, 2 cannot be created (the spool is not writable).
take_lock() {
  waited=0
  aged=
  absent=0
  broken=0
  while :; do
    if mkdir "$1" 2>/dev/null; then
      { echo $$ >"$1/pid"; } 2>/dev/null
      return 0
    fi
    # Not there, yet not creatable: released just now (try again), or the spool is not writable.
    if [ ! -d "$1" ]; then
      absent=$((absent + 1))
      [ "$absent" -lt 3 ] || return 2
      continue
    fi
    holder=
    { read -r holder <"$1/pid"; } 2>/dev/null
    # Its owner died holding it (killed): break it at once (if it is still that owner's). One
    # older than a minute, too.
    [ -n "$aged" ] || aged=$(find "$1" -maxdepth 0 -mmin +1 2>/dev/null)-
    if [ "$broken" -lt 3 ] && { { [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; } || [ "$aged" != - ]; }; then
      again=
      { read -r again <"$1/pid"; } 2>/dev/null
      [ "$again" = "$holder" ] && rm -rf "$1" 2>/dev/null
      aged=
      broken=$((broken + 1))
      continue
    fi
    [ "$waited" -lt "$2" ] || return 1
    sleep 0.05 2>/dev/null || return 1
    waited=$((waited + 60))
    spent=$((spent + 60))
  done
}

release_lock() {
  rm -rf "$1" 2>/dev/null
}

# The next sequence number (-> $seq), taken under the spool's lock: the order in which hooks ran,
# across processes and restarts. A lost counter starts again from the time, which is larger.
next_seq() {
  seq=
  { read -r seq <"$seqfile"; } 2>/dev/null
  case $seq in '' | 0* | *[!0-9]*) seq=${now}000 ;; esac
  seq=$((seq + 1))
  { echo "$seq" >"$seqfile"; } 2>/dev/null
}

# Appends this event to the spool: one line with its id, sequence, time, query and the body
# unchanged (a JSON body holds newlines only between its tokens, so dropping them keeps it the
# same). A newline goes first, so a line cut short by a full disk never swallows the next one.
# $1: why it is spooled (empty: it joins events already waiting). Fails when it cannot be kept.
spool_event() {
  now_ms
  line_body=$(printf '%s' "$body" | tr -d '\r\n')
  if ! { [ -d "$spool_dir" ] || mkdir -p "$spool_dir"; } 2>/dev/null; then
    why=$({ mkdir -p "$spool_dir"; } 2>&1)
    kept="cannot create $spool_dir: ${why##*: }"
    return 1
  fi
  wait_ms=$((budget - spent - 100))
  [ "$wait_ms" -le 500 ] || wait_ms=500
  take_lock "$lockdir" "$wait_ms"
  locked=$?
  if [ "$locked" -eq 2 ]; then
    kept="cannot create $lockdir (is $spool_dir writable?)"
    return 1
  fi
  next_seq
  line="{\"event_id\":\"$event_id\",\"seq\":$seq,\"spooled_at\":$now,\"query\":\"$q\",\"body\":$line_body}"
  if { printf '\n%s\n' "$line" >>"$spool"; } 2>/dev/null; then
    written=1
  else
    written=
    why=$({ : >>"$spool"; } 2>&1)
    kept="cannot write $spool: ${why##*: }"
  fi
  [ "$locked" -eq 0 ] && release_lock "$lockdir"
  [ -n "$written" ] || return 1
  [ "$locked" -eq 0 ] || log_line "the spool's lock stayed busy; appended without it"
  [ -n "$1" ] && log_line "$1; event spooled"
  return 0
}

# Pads $1 to 20 digits (-> $padded), so that batch names sort in sequence order.
pad20() {
  padded=00000000000000000000$1
  padded=${padded#"${padded%????????????????????}"}
}

# Under the spool's lock: the spool becomes a batch named by its last sequence number, so that
# appends go to a new file and batches sort in the order their events were spooled.
rotate() {
  [ -s "$spool" ] || return 0
  last=
  { read -r last <"$seqfile"; } 2>/dev/null
  case $last in '' | 0* | *[!0-9]*) last=${now}000 ;; esac
  pad20 "$last"
  target=$spool_dir/batch-s$padded.ndjson
  [ -e "$target" ] && target=$spool_dir/batch-s${padded}_$$.ndjson
  mv -f "$spool" "$target" 2>/dev/null
}

# Cuts batch $1 into pieces of at most $2 bytes, whole lines each, named after it so that they
# sort just before it (…-p00000.ndjson), then removes it. Fails (changing nothing) when it is one line.
split_batch() {
  base=${1%.ndjson}
  awk -v max="$2" -v base="$base" '
    { l = length($0) + 1
      if (n == 0 || (size > 0 && size + l > max)) {
        if (n) close(f)
        f = sprintf("%s-p%05d.ndjson", base, n); n++; size = 0
      }
      print > f; size += l }
    END { if (n) close(f); exit (n > 1 ? 0 : 3) }' "$1" 2>/dev/null
  if [ $? -eq 0 ]; then
    rm -f "$1"
    return 0
  fi
  rm -f "$base"-p00000.ndjson
  return 1
}

# Keeps lines of batch $1 that token-api refused, each with its reason from the answer $2, in
# spool/rejected.ndjson (one JSON object a line, as token-api writes it for its own spool). $3:
# "all" when every line was refused; $4: the reason for lines the answer gives none for. When
# they cannot be written, the batch stays where it is (its other lines are known by then).
set_aside() {
  at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ANSWER=$2 awk -v all="$3" -v fallback="$4" -v at="$at" -v src="${1##*/}" '
    function esc(t,   out, i, c) {
      gsub(/\\/, "\\\\", t); gsub(/"/, "\\\"", t); gsub(/\t/, "\\t", t); gsub(/\r/, "\\r", t)
      if (t !~ /[\001-\037]/) return t
      out = ""
      for (i = 1; i <= length(t); i++) { c = substr(t, i, 1); out = out ((c in ctl) ? ctl[c] : c) }
      return out
    }
    BEGIN {
      for (i = 1; i < 32; i++) ctl[sprintf("%c", i)] = sprintf("\\u%04x", i)
      s = ENVIRON["ANSWER"]
      # {"line":3,"reason":"…"} in a 200 answer, "line 3":"…" in a 400 one.
      while (match(s, /"line":[0-9]+,"reason":"([^"\\]|\\.)*"/) || match(s, /"line [0-9]+":"([^"\\]|\\.)*"/)) {
        m = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        n = m; gsub(/[^0-9]/, " ", n); split(n, d, " "); r = m
        sub(/^"line":[0-9]+,"reason":/, "", r); sub(/^"line [0-9]+":/, "", r)
        why[d[1] + 0] = r
      }
    }
    (NR in why) || (all == "all" && $0 != "") {
      printf "{\"rejected_at\":\"%s\",\"source\":\"%s\",\"reason\":%s,\"line\":\"%s\"}\n", at, src, ((NR in why) ? why[NR] : "\"" esc(fallback) "\""), esc($0)
    }' "$1" 2>/dev/null >>"$rejected" && return 0
  log_line "could not keep refused spooled events in $rejected; spool batch ${1##*/} stays for later"
  return 1
}

# Offers the spool to token-api within what is left of the budget, one replayer at a time
# (upload.lock): batches left from before go first, oldest first; once they are all through, the
# spool file becomes a batch (so appends go to a new file) and goes too. After a timeout or a
# 429, uploads wait 5 s (spool/retry-after).
upload() {
  [ $((budget - spent - reserve)) -ge 150 ] || return 0
  retry=
  { read -r retry <"$retryfile"; } 2>/dev/null
  # (A wait longer than 5 s means the clock went back since: it is over.)
  case $retry in '' | *[!0-9]*) ;; *) [ "$now" -ge "$retry" ] || [ $((retry - now)) -gt 5000 ] || return 0 ;; esac
  take_lock "$uplock" 0 || return 0
  if send_batches "$@" && take_lock "$lockdir" 100; then
    rotate
    release_lock "$lockdir"
    send_batches "$@"
  fi
  release_lock "$uplock"
}

# Uploads every batch to POST /api/hooks/spool in name order (big ones cut into pieces first);
# fails at the first that does not go through, or when the budget is spent. A batch is deleted
# once token-api has committed it; lines token-api refuses as malformed are kept aside with the
# reason; anything else (no answer, 401, 403, 408, 429, 5xx) keeps it for later, and a batch too
# large for token-api (413) is cut in two for the next event.
send_batches() {
  big=$(find "$spool_dir" -maxdepth 1 -name 'batch-*.ndjson' -size +"$piece"c 2>/dev/null)
  if [ -n "$big" ]; then
    set -f
    ifs=$IFS
    IFS=$nl
    for f in $big; do split_batch "$f" "$piece"; done
    IFS=$ifs
    set +f
  fi
  for f in "$spool_dir"/batch-*.ndjson; do
    [ -e "$f" ] || continue
    left=$((budget - spent - reserve))
    [ "$left" -ge 150 ] || return 1
    to_secs "$left"
    resp=$(curl "$@" --max-time "$secs" -w "$nl%{http_code} %{time_total}" -H 'Content-Type: application/x-ndjson' --data-binary @"$f" "$url/api/hooks/spool" 2>/dev/null)
    rc=$?
    tail=${resp##*"$nl"}
    code=${tail%% *}
    answer=${resp%"$nl"*}
    to_ms "${tail#* }" "$left"
    spent=$((spent + ms + 10))
    case $code in
      2??)
        case $answer in *'"invalid":[]'*) ;; *)
          set_aside "$f" "$answer" some "refused by token-api" || return 1
          log_line "token-api refused some spooled events as malformed; kept in $rejected with the reasons"
          ;;
        esac
        rm -f "$f"
        continue
        ;;
      400)
        case $answer in *'"invalid_spool"'*)
          set_aside "$f" "$answer" all "refused by token-api" || return 1
          rm -f "$f"
          log_line "token-api refused every event of spool batch ${f##*/} as malformed; kept in $rejected with the reasons"
          continue
          ;;
        esac
        ;;
      413)
        # Larger than token-api takes in one upload: in two pieces next time; one line alone is kept aside.
        if split_batch "$f" $(($(wc -c <"$f") / 2 + 1)); then
          log_line "spool batch ${f##*/} is larger than token-api accepts (hook_spool_max_bytes); cut in two"
          return 1
        fi
        set_aside "$f" "" all "larger than token-api accepts in one upload (HTTP 413, hook_spool_max_bytes)" || return 1
        rm -f "$f"
        log_line "a spooled event is larger than token-api accepts (hook_spool_max_bytes); kept in $rejected"
        continue
        ;;
    esac
    log_line "spool upload failed (curl exit $rc, HTTP ${code:-none}${answer:+: $answer}); kept for a later event or token-api's start"
    # No answer in time, or "slow down": hooks leave token-api alone for 5 s.
    case $rc/$code in 28/* | */429) { echo $((now + 5000)) >"$retryfile"; } 2>/dev/null ;; esac
    return 1
  done
  return 0
}

why() {
  case $1 in
    22) echo "token-api answered with an error (HTTP 400 or more; see its log)" ;;
    6) echo "cannot resolve the host of $url" ;;
    7) echo "cannot connect to $url (is token-api running?)" ;;
    28) echo "no answer from $url within $post_time s" ;;
    127) echo "curl is not installed" ;;
    *) echo "curl exit $1 talking to $url" ;;
  esac
}

if [ -z "$pending" ]; then
  spent=$((budget - reserve))
  if spool_event "$(why "$rc")"; then
    # token-api took the connection but did not answer: hooks leave it alone for 5 s.
    [ "$rc" -eq 28 ] && { echo $((now + 5000)) >"$retryfile"; } 2>/dev/null
  else
    lost "$(why "$rc"); $kept"
  fi
  exit 0
fi

# Events wait in the spool: this one joins them, so order is kept, and the spool is offered.
# When it cannot join them, it is sent on its own rather than lost.
if spool_event ""; then
  upload "$@"
  exit 0
fi
left=$((budget - spent - reserve))
if [ "$left" -ge 150 ]; then
  to_secs "$left"
  post_time=$secs
  post "$@"
  rc=$?
else
  rc=28
fi
[ "$rc" -eq 0 ] || lost "$kept; $(why "$rc")"
exit 0
