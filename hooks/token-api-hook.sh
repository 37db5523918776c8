#!/bin/sh
# token-api's hook for Claude Code: forwards the hook JSON that Claude Code writes on stdin to
# token-api's POST /api/hooks unchanged, with where it came from as query parameters. POSIX sh
# and curl only (no Node, Python or jq); always exits 0 with nothing on stdout, so the agent is
# never blocked or fed text; spools the event when token-api cannot be reached. hooks/README.md
# describes the control flow.
#
#   sh token-api-hook.sh EVENT      what `token-api hooks install` writes for each event
#   sh token-api-hook.sh --check    prints what the script would use (`token-api hooks doctor`)
#
# Environment: TOKEN_API_URL (default http://127.0.0.1:$TOKEN_API_PORT, port 7777),
# TOKEN_API_TOKEN (sent as a bearer token), TOKEN_API_HOME (default ~/.token-api: spool and
# log), TOKEN_API_TAB (this terminal's tab name), TOKEN_API_HOOK_TIMEOUT (seconds, default 2).

LC_ALL=C
export LC_ALL
event=${1:-}
home=${TOKEN_API_HOME:-${HOME:-.}/.token-api}
url=${TOKEN_API_URL:-http://127.0.0.1:${TOKEN_API_PORT:-7777}}
url=${url%/}
spool_dir=$home/spool
spool=$spool_dir/hooks.ndjson
lockdir=$spool_dir/hooks.lock
log=$home/logs/hooks.log
max_time=${TOKEN_API_HOOK_TIMEOUT:-2}
nl='
'

if [ "$event" = "--check" ]; then
  echo "url=$url"
  echo "home=$home"
  echo "spool=$spool"
  if ! command -v curl >/dev/null 2>&1; then
    echo "curl=missing"
    exit 0
  fi
  echo "curl=$(command -v curl)"
  echo "health=$(curl -q -s --noproxy '*' --connect-timeout 1 --max-time "$max_time" -o /dev/null -w '%{http_code}' "$url/health" 2>/dev/null)"
  exit 0
fi

# Failures go to the hook log (never stdout: Claude Code reads it), kept under about 1 MB.
log_line() {
  [ -d "$home/logs" ] || mkdir -p "$home/logs" 2>/dev/null || return 0
  if [ -f "$log" ] && [ "$(wc -c <"$log" 2>/dev/null || echo 0)" -gt 1048576 ]; then mv -f "$log" "$log.1" 2>/dev/null; fi
  printf '%s %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${event:-?}" "$*" >>"$log" 2>/dev/null
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

# The spool's lock is a directory (mkdir is atomic). A lock older than a minute was left by a
# process that died holding it.
take_lock() {
  mkdir -p "$spool_dir" 2>/dev/null
  i=0
  while ! mkdir "$lockdir" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -ge 40 ]; then
      if [ -n "$(find "$lockdir" -maxdepth 0 -mmin +1 2>/dev/null)" ]; then
        rmdir "$lockdir" 2>/dev/null
        mkdir "$lockdir" 2>/dev/null && return 0
      fi
      return 1
    fi
    sleep 0.05 2>/dev/null || sleep 1
  done
  return 0
}

release_lock() {
  rmdir "$lockdir" 2>/dev/null
}

# Appends this event to the spool: one line with its id, time, query and the body unchanged
# (a JSON body holds newlines only between its tokens, so dropping them keeps it the same).
spool_event() {
  line_body=$(printf '%s' "$body" | tr -d '\r\n')
  line="{\"event_id\":\"$event_id\",\"spooled_at\":$(date +%s)000,\"query\":\"$q\",\"body\":$line_body}"
  if take_lock; then
    printf '%s\n' "$line" >>"$spool"
    release_lock
  else
    printf '%s\n' "$line" >>"$spool"
    log_line "spool lock busy for 2 s; appended without it"
  fi
  [ -n "$1" ] && log_line "$1; event spooled"
}

# Offers the spool to token-api: batches left from before go first; then the file is renamed
# (under the lock) to a batch, so that appends go to a new file, and uploaded. A batch is
# deleted once token-api has committed it; token-api skips events it already has.
drain() {
  upload_batches "$@" || return
  if [ -s "$spool" ] && take_lock; then
    [ -s "$spool" ] && mv -f "$spool" "$spool_dir/batch-$(date +%s)-$$.ndjson" 2>/dev/null
    release_lock
    upload_batches "$@"
  fi
}

# Uploads every batch, oldest first; fails (leaving the rest) at the first that does not go through.
upload_batches() {
  for f in "$spool_dir"/batch-*.ndjson; do
    [ -e "$f" ] || continue
    resp=$(curl "$@" --max-time 5 -w "$nl%{http_code}" -H 'Content-Type: application/x-ndjson' --data-binary @"$f" "$url/api/hooks/spool" 2>/dev/null)
    rc=$?
    code=${resp##*"$nl"}
    answer=${resp%"$nl"*}
    case $code in
      2??)
        rm -f "$f"
        case $answer in *'"invalid":[]'*) ;; *) log_line "some spooled events were refused: $answer" ;; esac
        ;;
      4??)
        mv -f "$f" "${f%.ndjson}.rejected" 2>/dev/null
        log_line "token-api refused spool batch ${f##*/} (HTTP $code): $answer; kept as ${f##*/}.rejected"
        ;;
      *)
        log_line "spool upload failed (curl exit $rc, HTTP $code); kept for the next event"
        return 1
        ;;
    esac
  done
  return 0
}

why() {
  case $1 in
    22) echo "token-api answered with an error (HTTP 400 or more; see its log)" ;;
    6) echo "cannot resolve the host of $url" ;;
    7) echo "cannot connect to $url (is token-api running?)" ;;
    28) echo "no answer from $url within ${max_time} s" ;;
    127) echo "curl is not installed" ;;
    *) echo "curl exit $1 talking to $url" ;;
  esac
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

# curl's options, shared by every call (-q first: a ~/.curlrc must not change them).
set -- -q -s --noproxy '*' --connect-timeout 1
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
if [ -z "$pending" ]; then
  curl "$@" --fail --max-time "$max_time" -o /dev/null -H 'Content-Type: application/json' --data-binary @- "$url/api/hooks?$q&reply=none" 2>/dev/null <<EOF
$body
EOF
  rc=$?
  [ "$rc" -eq 0 ] && exit 0
  spool_event "$(why "$rc")"
  exit 0
fi

# Events wait in the spool: this one joins them, so order is kept, and the spool is offered.
spool_event ""
drain "$@"
exit 0
