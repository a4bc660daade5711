#!/usr/bin/env bash
# Creates a demo workspace with an embedded store holding a small ML pipeline, made with the real
# `trove` CLI inside a git repository (so every run records git provenance):
#   ingest     -> raw-data:v0                     (dataset)
#   preprocess -> processed-data:v0               (uses raw-data:v0)
#   train      -> mnist-cnn:v0                    (uses processed-data:v0)
#   train      -> mnist-cnn:v1 [best]             (after a committed change of the learning rate)
#   sweep      -> mnist-ckpt:v0..v6               (one run, 7 checkpoints: a cluster in the lineage)
# plus a second project, "sandbox", with one artifact.
# Usage: make-demo.sh <dir>   -> <dir>/workspace (open this) and <dir>/store. Needs dist/cli.js.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:?usage: make-demo.sh <dir>}
[ -f "$ROOT/dist/cli.js" ] || { echo "make-demo: build first (node esbuild.js)"; exit 1; }
rm -rf "$DIR"; mkdir -p "$DIR/workspace"
DIR=$(cd "$DIR" && pwd)
WS=$DIR/workspace
export TROVE_STORE=$DIR/store TROVE_PROJECT=mnist-demo TROVE="node $ROOT/dist/cli.js"
unset TROVE_RUN_ID
cd "$WS"

git init -q -b main .
git config user.email demo@trove.invalid
git config user.name "Trove Demo"
mkdir -p data/raw data/incoming scripts .vscode
printf 'build/\nartifacts/\n' > .gitignore
for split in train test; do
  { echo "label,pixels"; for i in $(seq 1 40); do echo "$((i % 10)),$(printf '%03d ' $(seq $i $((i + 15))))"; done; } > "data/raw/$split.csv"
done
echo '{"classes": 10, "source": "synthetic digits"}' > data/raw/labels.json
printf 'sample one\n' > data/incoming/a.txt
printf 'sample two\n' > data/incoming/b.txt
mkdir -p data/incoming/nested && printf 'nested sample\n' > data/incoming/nested/c.txt
cat > .vscode/settings.json <<JSON
{
  "trove.storePath": "$TROVE_STORE",
  "trove.project": "mnist-demo",
  "files.exclude": { "**/.git": true }
}
JSON

cat > scripts/preprocess.sh <<'SH'
#!/usr/bin/env bash
# Normalises the raw CSVs into the processed dataset.
set -euo pipefail
rm -rf build/raw build/processed
$TROVE download raw-data:latest --root build/raw >/dev/null
mkdir -p build/processed
for f in build/raw/*.csv; do awk -F, 'NR > 1 { print $1 "," length($2) }' "$f" > "build/processed/$(basename "$f")"; done
cp build/raw/labels.json build/processed/
$TROVE log build/processed --name processed-data --type dataset --description "Normalised features" --metadata '{"rows": 80}'
SH
cat > scripts/train.sh <<'SH'
#!/usr/bin/env bash
# "Trains" a model: a deterministic function of the data and the learning rate.
set -euo pipefail
LR=0.01
rm -rf build/data build/model
$TROVE download processed-data:latest --root build/data >/dev/null
mkdir -p build/model
{ echo "{\"lr\": $LR, \"weights\": \"$(cat build/data/*.csv | sha256sum | cut -c1-32)-$LR\"}"; } > build/model/model.json
echo "epoch,loss" > build/model/history.csv; for e in 1 2 3; do echo "$e,0.$((9 - e))"; done >> build/model/history.csv
$TROVE log build/model --name mnist-cnn --type model --metadata "{\"lr\": $LR, \"epochs\": 3, \"accuracy\": ${ACCURACY:-0.91}}" ${TROVE_ALIAS:+--alias $TROVE_ALIAS}
SH
cat > scripts/sweep.sh <<'SH'
#!/usr/bin/env bash
# A hyper-parameter sweep that keeps one checkpoint per trial (7 versions from one run).
set -euo pipefail
rm -rf build/data && $TROVE download processed-data:latest --root build/data >/dev/null
for trial in 1 2 3 4 5 6 7; do
  rm -rf build/ckpt && mkdir -p build/ckpt && echo "{\"trial\": $trial, \"lr\": 0.00$trial}" > build/ckpt/checkpoint.json
  $TROVE log build/ckpt --name mnist-ckpt --type model --metadata "{\"trial\": $trial}" >/dev/null
done
SH
cat > train.py <<'PY'
# A training script as a W&B user would write it; the Trove language server resolves these references.
import wandb

run = wandb.init(project="mnist-demo", job_type="train")
data = run.use_artifact("processed-data:latest")
model = run.use_artifact("mnist-cnn:best")
PY
git add -A && git commit -q -m "Synthetic digits, preprocessing and training scripts"

T() { $TROVE "$@"; }
T run --job-type ingest --name ingest-raw -- $TROVE log data/raw --name raw-data --type dataset --description "Synthetic digits, as collected" >/dev/null 2>&1
T run --job-type preprocess --name preprocess -- bash scripts/preprocess.sh >/dev/null 2>&1
ACCURACY=0.91 T run --job-type train --name train-lr-0.01 -- bash scripts/train.sh >/dev/null 2>&1
sed -i 's/^LR=0.01/LR=0.003/' scripts/train.sh
git commit -q -am "Lower the learning rate"
ACCURACY=0.94 TROVE_ALIAS=best T run --job-type train --name train-lr-0.003 -- bash scripts/train.sh >/dev/null 2>&1
T run --job-type sweep --name lr-sweep -- bash scripts/sweep.sh >/dev/null 2>&1
mkdir -p "$DIR/sandbox" && echo "scratch notes" > "$DIR/sandbox/notes.md"
T log "$DIR/sandbox" --project sandbox --name notes --type notes >/dev/null 2>&1
rm -rf build
echo "demo workspace: $WS (store: $TROVE_STORE)"
T ls
