#!/usr/bin/env bash
# lm_ptb `medium` on one GPU: the preset and one variant trained side by side.
#
#   KERAS_BACKEND=jax bash bench/lm_ptb_gpu.sh [OUTDIR] [-- VARIANT ARGS]
#
# The variant's default is `--set decay_after=7`: Zaremba's Lua code
# (main.lua) keeps rate 1 for seven epochs, one longer than the paper's text and
# TensorFlow's PTB tutorial (our preset). Each run writes its Keras log,
# metrics.json and training curve to OUTDIR (default $OUT, else /tmp/lm_ptb_gpu).
# A watchdog stops the variant if sharing the GPU would keep the preset's run
# from ending inside BUDGET seconds (default 540): the preset's figure comes first.
# SOLO=1 trains one run alone, PRESET (default medium) with the variant's
# arguments, none if none are given (8 s an epoch on an H200 instead of 14
# when two runs share it; the preset's own figures are in
# zoo/language_model/README.md), e.g. Zaremba's code as it stands (two biases
# per LSTM layer, biases drawn like the weights, float32 matmuls), or the tied
# model:
#
#   SOLO=1 JAX_DEFAULT_MATMUL_PRECISION=highest bash bench/lm_ptb_gpu.sh \
#       "$OUT" -- --set recurrent_bias=true --set uniform_biases=true --set decay_after=7
#   SOLO=1 PRESET=medium_tied bash bench/lm_ptb_gpu.sh "$OUT"
# A SOLO run has BUDGET 570 s (for a 600-s device call) and stops `fit` after
# the last epoch that ends inside TIME_LIMIT (default BUDGET - 90) seconds
# (`--set time_limit`), so a run slower than planned still evaluates and
# writes its figures, for the epochs it reached (`stopped_by_time_limit`).
set -u
out=${OUT:-/tmp/lm_ptb_gpu}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out=$1; shift; fi
[ "${1:-}" = "--" ] && shift
variant=("$@")
[ ${#variant[@]} -eq 0 ] && [ -z "${SOLO:-}" ] && variant=(--set decay_after=7)
budget=${BUDGET:-$([ -n "${SOLO:-}" ] && echo 570 || echo 540)}
preset=${PRESET:-medium} # tiny: a check of this script on a CPU
epochs=39
mkdir -p "$out"
# A stale workdir would hand its metrics.json, or its BackupAndRestore epoch,
# to this run.
rm -rf /tmp/lm_medium /tmp/lm_variant
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false # two processes share the GPU's memory
start=$(date +%s)
echo "preset $preset, variant: ${variant[*]:-none} (matmul precision ${JAX_DEFAULT_MATMUL_PRECISION:-default})" \
    >"$out/variant.txt"
if [ -n "${SOLO:-}" ]; then
    timeout "$budget" python3 -m zoo train lm_ptb --preset "$preset" \
        --set time_limit="${TIME_LIMIT:-$((budget - 90))}" \
        ${variant[@]+"${variant[@]}"} --workdir /tmp/lm_variant >"$out/variant.log" 2>&1
    cp /tmp/lm_variant/metrics.json "$out/variant.json" 2>/dev/null
    cp /tmp/lm_variant/training_curves.png "$out/variant.png" 2>/dev/null
    echo "done in $(($(date +%s) - start))s"
    grep -h -E '"(valid|test)_perplexity(_batched)?"|"train_seconds"|"epochs_run"|"stopped_by' \
        "$out/variant.json"
    exit 0
fi
timeout "$budget" python3 -m zoo train lm_ptb --preset "$preset" \
    --workdir /tmp/lm_medium >"$out/medium.log" 2>&1 &
a=$!
timeout "$budget" python3 -m zoo train lm_ptb --preset "$preset" "${variant[@]}" \
    --workdir /tmp/lm_variant >"$out/variant.log" 2>&1 &
b=$!
t2=""
while kill -0 $a 2>/dev/null; do
    sleep 10
    now=$(($(date +%s) - start))
    n=$(grep -c "^Epoch [0-9]*/" "$out/medium.log")
    [ -z "$t2" ] && [ "$n" -ge 2 ] && t2=$now && n2=$n
    if [ -n "$t2" ] && [ "$n" -ge $((n2 + 2)) ] && kill -0 $b 2>/dev/null; then
        # seconds an epoch since the second epoch began (compilation excluded)
        left=$(((now - t2) * (epochs - n + 1) / (n - n2) + 40))
        echo "t=${now}s preset epoch $n/$epochs, ${left}s to go"
        if [ $((now + left)) -gt "$budget" ]; then
            echo "stopping the variant: the preset would end at $((now + left))s"
            kill $b
        fi
    fi
done
wait $b
for run in medium variant; do
    cp "/tmp/lm_$run/metrics.json" "$out/$run.json" 2>/dev/null
    cp "/tmp/lm_$run/training_curves.png" "$out/$run.png" 2>/dev/null
done
echo "done in $(($(date +%s) - start))s"
grep -h -E '"(valid|test)_perplexity(_batched)?"|"train_seconds"' "$out"/*.json
