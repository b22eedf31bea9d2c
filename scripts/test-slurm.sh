#!/bin/bash
# `npm run test:slurm`: bring up a one-node Slurm cluster (installing Debian's
# slurm-wlm and munge first when they are missing and this is root), run the
# sbatch --array integration test against it, and stop the daemons again.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v sbatch >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge) >/dev/null
  else
    echo "test:slurm: sbatch not found; install slurm-wlm and munge (as root: apt-get install slurm-wlm munge)" >&2
    exit 3
  fi
fi
dir=$(mktemp -d /tmp/advkit-slurm-cluster-XXXXXX)
trap 'scripts/slurm-local.sh stop "$dir"' EXIT
eval "$(scripts/slurm-local.sh start "$dir")"
node --import tsx --test test/slurm/sbatch-array.ts
