#!/bin/bash
# Run once by the influxdb:2 image when it sets up an empty volume (mounted into
# /docker-entrypoint-initdb.d/, after the DOCKER_INFLUXDB_INIT_* org, bucket and token exist; the
# entrypoint's influx CLI is already configured with that token).
#
# The dashboards query with InfluxQL, which InfluxDB 2 answers through its v1 API only for buckets with
# a DBRP mapping: database "<bucket>", retention policy "autogen" → the bucket. flowbridge writes
# through /api/v2/write and needs no mapping.
set -euo pipefail

influx v1 dbrp create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --db "${DOCKER_INFLUXDB_INIT_BUCKET}" \
  --rp autogen \
  --default

echo "flowbridge: InfluxQL database \"${DOCKER_INFLUXDB_INIT_BUCKET}\" (rp autogen) maps to bucket ${DOCKER_INFLUXDB_INIT_BUCKET_ID}"
