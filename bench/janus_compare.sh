#!/bin/bash
# Janus vs bwlive through the external sfu-bench tool (../shared/sfu-bench, not part of
# this repo), both servers in its network namespace, configurations interleaved.
#   bench/janus_compare.sh 4:4 8:4 16:4        (root; Debian's janus installed)
#   RECORDING=off bench/janus_compare.sh 8:4   (neither server records; default: both record,
#                                               Janus through bench/janus_record.py)
#   WORKERS="1 2" bench/janus_compare.sh 8:4   (one bwlive per count of media workers, label
#                                               bwlive-wN; default 0: the SFU in one process,
#                                               label bwlive. With workers the tool's CPU
#                                               figures are the front's only: read loss and
#                                               forwarded packets/s, not µs per packet)
#   TREES="before=/tmp/a after=." bench/janus_compare.sh 8:4
#                                              (one bwlive per source tree, each on its own
#                                               PYTHONPATH, label bwlive-NAME: two commits
#                                               against the same Janus in one run; not with WORKERS)
# Results: JSONL in $OUT (default /tmp/sfubench/compare.jsonl), tables printed at the end.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
TOOL=${SFU_BENCH:-$(cd "$BENCH/../.." && pwd)/shared/sfu-bench}
PY=${PY:-$(command -v python3)}
OUT=${OUT:-/tmp/sfubench/compare.jsonl}
WORK=/tmp/sfubench/bwlive
NS=sfubench
IP=198.18.0.1
ARGS=${SFUBENCH_ARGS:---baseline 5}
RECORDING=${RECORDING:-on}
WORKERS=${WORKERS:-0}
TREES=${TREES:-}
case "$RECORDING" in on) NO_RECORDING=() ;; off) NO_RECORDING=(--no-recording) ;;
  *) echo "RECORDING must be on or off" >&2; exit 2 ;; esac
ip netns list | grep -qw "$NS" || "$TOOL/netns.sh" up
[ -f /tmp/sfubench/janus.pid ] && kill -0 "$(cat /tmp/sfubench/janus.pid)" 2>/dev/null || "$TOOL/janus.sh" start

# bwlive: fresh key pair, ICE on the namespace address, sessionless viewers act as the
# bench admin (the tool cannot sign in), viewers never time out (the tool
# sends no keepalive). The tool cannot set headers either: the bench server puts the
# credential of the bench camera given to each publisher name in the Authorization
# header (--query-credentials); the key envelope goes in the WHIP query string.
rm -rf "$WORK" && mkdir -p "$WORK"
"$PY" -c "import sys; from pathlib import Path; from bwlive_rtc.crypto.system_key import SystemKeyPair; SystemKeyPair.generate().save(Path(sys.argv[1]))" "$WORK/keys"
ENVELOPE=$("$PY" -c "import sys; from pathlib import Path; from bwlive_rtc.crypto.content_key import KeyEnvelope; from bwlive_rtc.crypto.sframe import StreamKey; from bwlive_rtc.crypto.system_key import SystemPublicKey; print(KeyEnvelope.seal(StreamKey.new(), SystemPublicKey.load(Path(sys.argv[1]))).to_header())" "$WORK/keys")
RECORDER_PID=
if [ "$RECORDING" = on ]; then
  rm -rf /tmp/sfubench/janus-recordings && mkdir -p /tmp/sfubench/janus-recordings
  ip netns exec "$NS" "$PY" "$BENCH/janus_record.py" --rec-dir /tmp/sfubench/janus-recordings > "$WORK/janus_record.log" 2>&1 &
  RECORDER_PID=$!
fi
declare -A PIDS URLS LABELS
trap 'kill ${PIDS[*]} $RECORDER_PID 2>/dev/null || true' EXIT
INSTANCES=$WORKERS
[ -n "$TREES" ] && INSTANCES=$TREES
for w in $INSTANCES; do
  WORKER_ARGS=() TREE_PATH=${PYTHONPATH:-} LABELS[$w]=bwlive
  if [ -n "$TREES" ]; then
    TREE_PATH=$(cd "${w#*=}" && pwd) LABELS[$w]=bwlive-${w%%=*}
  elif [ "$w" -gt 0 ]; then
    WORKER_ARGS=(--workers "$w") LABELS[$w]=bwlive-w$w
  fi
  ip netns exec "$NS" env PYTHONPATH="$TREE_PATH" "$PY" "$BENCH/serve_for_bench.py" --keys-dir "$WORK/keys" \
      --data-dir "$WORK/data-${LABELS[$w]}" --ice-ip "$IP" --consumer-timeout 3600 --open-viewing --query-credentials \
      "${NO_RECORDING[@]}" "${WORKER_ARGS[@]}" > "$WORK/server-${LABELS[$w]}.log" 2>&1 &
  PIDS[$w]=$!
  for _ in $(seq 100); do grep -q "listening on" "$WORK/server-${LABELS[$w]}.log" 2>/dev/null && break; sleep 0.2; done
  URLS[$w]=$(grep -o 'http://[0-9.:]*' "$WORK/server-${LABELS[$w]}.log")
  echo "${LABELS[$w]}: pid ${PIDS[$w]} at ${URLS[$w]} (in netns $NS, PYTHONPATH=$TREE_PATH); recording $RECORDING"
done
echo "janus pid $(cat /tmp/sfubench/janus.pid)"

for cfg in "$@"; do
  IFS=: read -r N M W <<< "$cfg"
  W=${W:-1}
  echo "=== janus $N:$M $(date -Is) load $(cut -d' ' -f1-3 /proc/loadavg)"
  ip netns exec "$NS" "$PY" "$TOOL/sfubench.py" --server-pid "$(cat /tmp/sfubench/janus.pid)" -N "$N" -M "$M" \
      --sub-workers "$W" --out "$OUT" --label janus $ARGS
  sleep 3
  for w in $INSTANCES; do
    label=${LABELS[$w]}
    echo "=== $label $N:$M $(date -Is) load $(cut -d' ' -f1-3 /proc/loadavg)"
    ip netns exec "$NS" "$PY" "$TOOL/sfubench.py" --server-pid "${PIDS[$w]}" -N "$N" -M "$M" \
        --sub-workers "$W" --out "$OUT" --label "$label" $ARGS --adapter http-sdp --url "${URLS[$w]}" \
        --adapter-opt "publish_path=/whip?camera={name}&key=$ENVELOPE" --adapter-opt "subscribe_path=/whep/{stream}"
    sleep 3
  done
done
[ "$RECORDING" = on ] && echo "janus recorded $(du -sh /tmp/sfubench/janus-recordings | cut -f1) ($(ls /tmp/sfubench/janus-recordings | wc -l) files)"
for label in janus $(for w in $INSTANCES; do echo "${LABELS[$w]}"; done); do echo "## $label"; "$TOOL/summarize.py" "$OUT" "$label"; done
