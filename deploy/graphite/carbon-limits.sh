#!/bin/sh
# Run once by the graphiteapp/graphite-statsd image before carbon starts (mounted into /etc/run_once/).
# The image's carbon.conf creates at most 50 new series a minute and silently drops the points of the
# rest, while flowbridge's first intervals bring thousands of new series; and it caps whisper updates at
# 500 a second, below what a busy interval needs (docs/sinks.md). Lift both.
set -eu
conf="${CARBON_CONF:-/opt/graphite/conf/carbon.conf}"
sed -i \
  -e 's/^MAX_CREATES_PER_MINUTE *=.*/MAX_CREATES_PER_MINUTE = inf/' \
  -e 's/^MAX_UPDATES_PER_SECOND *=.*/MAX_UPDATES_PER_SECOND = 2000/' \
  -e 's/^MAX_CACHE_SIZE *=.*/MAX_CACHE_SIZE = inf/' \
  "$conf"
# a line missing from [cache] would leave carbon's default in force: say so in the container log
grep -q '^MAX_CREATES_PER_MINUTE = inf$' "$conf" || { echo "flowbridge: $conf has no MAX_CREATES_PER_MINUTE line" >&2; exit 1; }
echo "flowbridge: $conf: MAX_CREATES_PER_MINUTE = inf, MAX_UPDATES_PER_SECOND = 2000, MAX_CACHE_SIZE = inf"
