#!/usr/bin/env bash
# Prepare every dataset, train every reference model from scratch, check each export
# with the independent float64 interpreter, and print the README table.
# Arguments were chosen on the validation splits with experiments/train/sweep.py
# (see experiments/README.md). About 5 minutes on one core.
#   bash experiments/train/train_all.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PY=${PYTHON:-python3}
T=experiments/train

$PY experiments/test_export.py          # the exporter and checker on random models first
$PY experiments/data/prepare.py all

run() {   # run NAME SCRIPT ARGS...: train into models/NAME, then check the export
    local name=$1; shift
    echo "== $name"
    $PY "$@" --name "$name"
    $PY experiments/check_export.py "models/$name"
}

run fastgrnn-japanesevowels $T/train_fastgrnn.py --dataset japanesevowels --hidden 16 \
    --epochs 300 --lr 0.01 --weight-decay 0.0001 --input-noise 0.8 --seed 1
run fastgrnn-basicmotions $T/train_fastgrnn.py --dataset basicmotions --hidden 16 --w-rank 4 --u-rank 8 \
    --epochs 150 --lr 0.03 --batch-size 8 --weight-decay 0.0001 --seed 1
run gru-italypowerdemand $T/train_rnn.py --cell gru --dataset italypowerdemand --hidden 16 \
    --epochs 200 --lr 0.01 --weight-decay 0.0001 --input-noise 0.2 --seed 1
run lstm-japanesevowels $T/train_rnn.py --cell lstm --dataset japanesevowels --hidden 16 \
    --epochs 150 --lr 0.01 --weight-decay 0.0001 --input-noise 0.8 --seed 1
run lenet-digits $T/train_cnn.py --arch lenet --epochs 60 --lr 0.01 --weight-decay 0.0001 --input-noise 0.1 --seed 1
run dscnn-digits $T/train_cnn.py --arch dscnn --epochs 120 --lr 0.01 --weight-decay 0.0001 --input-noise 0.1 --seed 1
run mlp-digits $T/train_cnn.py --arch mlp --epochs 60 --lr 0.01 --weight-decay 0.0001 --input-noise 0.1 --seed 1
run protonn-digits $T/train_protonn.py --dataset digits --proj-dim 10 --prototypes 20 --gamma-factor 0.5 \
    --epochs 100 --lr 0.03 --input-noise 0.1 --seed 1

echo "== all exports checked"
$PY experiments/check_export.py models/fastgrnn-japanesevowels models/fastgrnn-basicmotions \
    models/gru-italypowerdemand models/lstm-japanesevowels models/lenet-digits models/dscnn-digits \
    models/mlp-digits models/protonn-digits
$PY experiments/summarize.py models/fastgrnn-japanesevowels models/fastgrnn-basicmotions \
    models/gru-italypowerdemand models/lstm-japanesevowels models/lenet-digits models/dscnn-digits \
    models/mlp-digits models/protonn-digits
