#!/usr/bin/env bash
# Installs the Debian packages the project needs (SoftHSM2 for the PKCS#11 key store, chromium for
# the browser tests), once;
# `system-deps.sh bench` also the load generator the benchmarks drive the server with (wrk).
set -euo pipefail
need=()
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The fault and two-node suites start a throwaway redis-server of their own.
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ "${1:-}" = bench ]; then
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
fi
if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${need[*]} (run as root, or install them: apt-get install ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
