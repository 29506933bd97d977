#!/bin/sh
# The demo exporter of the compose stack (profile "demo", docs/deploy.md): a real probe on live packets.
# tcpreplay plays a packet capture onto this container's loopback interface at its recorded speed, over
# and over, and pmacctd captures it there and exports IPFIX, NetFlow v9 and/or sFlow to flowbridge, as
# it would from a mirror port. Flow times are therefore the present, like any live exporter's.
#
# Settings (environment):
#   DEMO_COLLECTOR      flowbridge's host name or address                 (flowbridge)
#   DEMO_EXPORT         comma-separated: ipfix, v9, sflow                 (ipfix)
#                       each one exports the same traffic, so two of them count it twice in the totals;
#                       the exporters panel tells them apart
#   DEMO_NETFLOW_PORT   flowbridge's NetFlow/IPFIX port                   (2055)
#   DEMO_SFLOW_PORT     flowbridge's sFlow port                           (6343)
#   DEMO_TIMEOUTS       pmacctd nfprobe_timeouts                          (maxlife=60:expint=10)
#                       60 s active timeout, expiry checked every 10 s: a record is out within 70 s of
#                       its flow's start, inside flowbridge's aggregate.hold of 75 s (docs/exporters.md)
#   DEMO_AGENT_IP       sFlow agent address                               (this container's address)
#   DEMO_SPEED          replay speed multiplier                           (1 = recorded speed)
#   DEMO_LOOPS          passes over the capture, 0 = forever              (0)
#   DEMO_DRAIN_SECONDS  after the last pass, wait before pmacctd flushes  (2)
#   DEMO_CAPTURE        the capture, pcap or gzipped pcap                 (/demo/traffic.pcap.gz)
#   DEMO_INTERFACE      where the capture is played and captured          (lo)
#   DEMO_WORKDIR        scratch directory                                 (/tmp/flowbridge-demo)
set -eu

COLLECTOR="${DEMO_COLLECTOR:-flowbridge}"
EXPORT="${DEMO_EXPORT:-ipfix}"
NETFLOW_PORT="${DEMO_NETFLOW_PORT:-2055}"
SFLOW_PORT="${DEMO_SFLOW_PORT:-6343}"
TIMEOUTS="${DEMO_TIMEOUTS:-maxlife=60:expint=10}"
SPEED="${DEMO_SPEED:-1}"
LOOPS="${DEMO_LOOPS:-0}"
CAPTURE="${DEMO_CAPTURE:-/demo/traffic.pcap.gz}"
IFACE="${DEMO_INTERFACE:-lo}"
WORK="${DEMO_WORKDIR:-/tmp/flowbridge-demo}"

log() { echo "demo-exporter: $*" >&2; }

mkdir -p "$WORK"
PCAP="$WORK/capture.pcap"
case "$CAPTURE" in
  *.gz) gunzip -c "$CAPTURE" > "$PCAP" ;;
  *) cp "$CAPTURE" "$PCAP" ;;
esac

# pmacctd wants an IPv4 address; Docker's DNS answers for the service name. Retry while the stack starts.
resolve() {
  case "$1" in
    *[!0-9.]*) getent hosts "$1" 2>/dev/null | awk '$1 ~ /^[0-9.]+$/ { print $1; exit }' ;;
    *) echo "$1" ;;
  esac
}
addr=""
for _ in $(seq 1 30); do
  addr="$(resolve "$COLLECTOR")"
  [ -n "$addr" ] && break
  sleep 1
done
[ -n "$addr" ] || { log "cannot resolve $COLLECTOR"; exit 1; }
AGENT="${DEMO_AGENT_IP:-$(hostname -i 2>/dev/null | awk '{ print $1 }')}"
[ -n "$AGENT" ] || AGENT=127.0.0.1

CONF="$WORK/pmacctd.conf"
plugins=""
{
  echo "daemonize: false"
  echo "pcap_interface: $IFACE"
  # the loopback also carries this container's own traffic (Docker's DNS on 127.0.0.11; the exports
  # themselves when flowbridge is local): only the replayed capture is measured
  echo "pcap_filter: not net 127.0.0.0/8 and not host ::1"
  # the loopback interface filters no MAC addresses: promiscuous mode would add nothing there
  echo "promisc: false"
} > "$CONF"
for kind in $(echo "$EXPORT" | tr ',' ' '); do
  case "$kind" in
    ipfix|v9)
      version=10; [ "$kind" = v9 ] && version=9
      plugins="$plugins${plugins:+, }nfprobe[$kind]"
      {
        echo "nfprobe_receiver[$kind]: $addr:$NETFLOW_PORT"
        echo "nfprobe_version[$kind]: $version"
        echo "nfprobe_timeouts[$kind]: $TIMEOUTS"
      } >> "$CONF" ;;
    sflow)
      plugins="$plugins${plugins:+, }sfprobe[sflow]"
      {
        echo "sfprobe_receiver[sflow]: $addr:$SFLOW_PORT"
        echo "sfprobe_agentip[sflow]: $AGENT"
        echo "sfprobe_agentsubid[sflow]: 1"
      } >> "$CONF" ;;
    *) log "unknown DEMO_EXPORT item \"$kind\" (ipfix, v9, sflow)"; exit 2 ;;
  esac
done
[ -n "$plugins" ] || { log "DEMO_EXPORT is empty"; exit 2; }
echo "plugins: $plugins" >> "$CONF"

pmacctd -f "$CONF" &
PM=$!
stop() {
  # SIGINT: pmacctd exports the flows it still holds, then exits
  kill -INT "$PM" 2>/dev/null || true
  wait "$PM" 2>/dev/null || true
}
trap 'stop; exit 0' INT TERM
# let pmacctd open the capture before the first packet is played
sleep 2
kill -0 "$PM" 2>/dev/null || { log "pmacctd did not start"; exit 1; }
log "playing $CAPTURE on $IFACE at ${SPEED}x, exporting $EXPORT to $addr (NetFlow/IPFIX :$NETFLOW_PORT, sFlow :$SFLOW_PORT)"

n=0
while [ "$LOOPS" = 0 ] || [ "$n" -lt "$LOOPS" ]; do
  tcpreplay --quiet --intf1="$IFACE" --multiplier="$SPEED" "$PCAP" > /dev/null &
  wait $! || { log "tcpreplay failed"; stop; exit 1; }
  n=$((n + 1))
done
# a finite run (DEMO_LOOPS): give the active and idle timeouts a chance, then flush the rest
sleep "${DEMO_DRAIN_SECONDS:-2}"
stop
