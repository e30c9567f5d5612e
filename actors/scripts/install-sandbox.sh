#!/usr/bin/env bash
# Installs what the harness sandbox needs when it is missing: Debian's bubblewrap (bwrap), which
# confines every run_command, start_process and a run's browser, and slirp4netns,
# which gives a run's network namespace egress when a run policy allows it, and curl, which
# makes http_probe's requests from inside the run's network, and iproute2, whose `ip netns` the
# tests use (a host namespace that egress must leave alone; the partition test's hosts). The
# build runs this before the actors module's tests; ./tether dev runs it before starting a node.
# Needs root (CI and the dev machines run as root) or all of them already there.
set -euo pipefail
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "install-sandbox: ${missing[*]} missing; run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
bwrap --version
slirp4netns --version | head -1
