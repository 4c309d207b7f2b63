#!/usr/bin/env bash
# The board measurements of experiments/README.md ("Boards in the loop"), from a checkout:
#   bash experiments/devices/run.sh [calibrate]
# With "calibrate", first refits every board's cost model on its simulator (about 45 minutes on
# two cores) and writes configs/targets/*.json; then, for the reference models, checks the cost
# model against the simulators (uno, nano33ble; with the profile, without it, and with measured runs) and measures float C against the tuner's pick
# (uno, nano33iot, nano33ble), and the specialised kernels against plain C (uno, nano33ble).
# Each table goes to experiments/devices/NAME.txt with its command.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$root/experiments/devices"
"$root/scripts/install-system-packages"
swift build -c release --package-path "$root" --product tune --quiet
tune="$root/.build/release/tune"
run() {  # run NAME ARGS...: the command's table into NAME.txt, headed by the command itself
  local name=$1; shift
  { echo "\$ tune $*"; "$tune" "$@"; } | tee "$out/$name.txt"
}
if [[ "${1:-}" == calibrate ]]; then
  for t in uno mega2560; do run "calibrate-$t" calibrate --target "$t" --programs 600 --seed 1; done
  for t in nano33ble nano33iot stm32f746disco; do run "calibrate-$t" calibrate --target "$t" --programs 400 --seed 1; done
fi
for t in uno nano33ble; do
  run "cost-model-$t" bench --cost-model --target "$t" --candidates 30
  run "cost-model-$t-no-profile" bench --cost-model --no-profile --target "$t" --candidates 30
  run "cost-model-$t-measure-runs" bench --cost-model --measure-runs --target "$t" --candidates 30
done
run device-uno bench --device --target uno
# The Uno's pick within its 2 KB; a Cortex-M board's within its whole RAM.
run float-uno bench --float --target uno --budget-ram 2048
run float-nano33iot bench --float --target nano33iot --budget-ram 32768
run float-nano33ble bench --float --target nano33ble --budget-ram 262144
# The specialised kernels against the plain C of every kernel, under all8 and the pick.
run kernels-uno bench --kernels --target uno --budget-ram 2048
run kernels-nano33ble bench --kernels --target nano33ble --budget-ram 262144
