#!/bin/bash
# Start the shards, wait for every index to complete, then run the merge.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl apply -f "$here/shards.yaml"
kubectl wait --for=condition=complete --timeout=72h job/advkit-shards
kubectl apply -f "$here/merge.yaml"
kubectl wait --for=condition=complete --timeout=1h job/advkit-merge
kubectl logs job/advkit-merge
