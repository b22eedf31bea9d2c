#!/bin/bash
# Submit the shard array and the merge job that waits for all of it.
#   ADVKIT_OUT=runs/cnn ./examples/slurm/submit.sh            # 200 shards, 16 at a time
#   ./examples/slurm/submit.sh --array=0-7                      # other sbatch options for the array
# The environment (ADVKIT, ADVKIT_MODEL, ADVKIT_DATA, ADVKIT_OUT, ADVKIT_FLAGS)
# reaches both jobs (sbatch exports it by default). Run from the folder the
# model and data paths are relative to, on a file system every node sees.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable "$@" "$here/eval-array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" "$here/merge.sbatch")
merge=${merge%%;*}
echo "array job $array, merge job $merge (runs after every task of $array succeeds)"
