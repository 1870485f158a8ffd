#!/usr/bin/env bash
# Training throughput (chars/s) of the benchmarks.md M and L LSTM workloads, one process with 2 GEMM threads
# against 2 MPI ranks with 1 thread each (and 1 process × 1 thread as the base, and 1 × 1 on half the rows:
# the work of one of the 2 ranks), through the real CLI:
#   M: hidden 256, batch 32, seq-len 64;  L: hidden 512, batch 64, seq-len 128;  plain SGD lr 0.01, no clipping.
# --batch is the global batch, so the 2-rank runs train 2 × 16 (M) or 2 × 32 (L) rows per step.
#
#   tools/scaleout/measure.sh [rounds] [name-regex]     (needs MPICH: apt-get install mpich)
#   e.g. tools/scaleout/measure.sh 4 'x2|2x'          only the 1 × 2 and 2 × 1 runs
#
# Throughput is taken from the run's loss.csv (step, elapsed seconds): steps after the first 20% of the run over
# the time they took, so start-up and JIT warm-up are left out; validation runs once, at the end, outside it.
# Threads: AUTOGRAD_NUM_THREADS where the engine reads it, and DOTNET_PROCESSOR_COUNT, which the GEMM's default
# thread count follows today. Runs alternate so that load from other jobs on a shared machine hits all alike.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
only=${2:-.}
out=${OUT:-/tmp/autograd-scaleout}
mkdir -p "$out"
dotnet build Autograd.Cli -c Release -v quiet -nologo >/dev/null
cli=Autograd.Cli/bin/Release/net10.0/Autograd.Cli.dll
# The first 400,000 characters of the embedded corpus: the final validation stays short.
zcat Autograd.Cli/Data/tinyshakespeare.txt.gz > "$out/full.txt"
head -c 400000 "$out/full.txt" > "$out/corpus.txt"

# steady_chars_per_second LOSS_CSV BATCH SEQ_LEN
steady() {
  awk -F, -v bt=$(( $2 * $3 )) 'NR > 1 { s[++n] = $1; t[n] = $2 }
    END { k = int(n / 5) + 1; printf "%.0f", (s[n] - s[k]) * bt / (t[n] - t[k]) }' "$1"
}

run() { # NAME SIZE RANKS THREADS HIDDEN BATCH SEQ STEPS
  local name=$1 size=$2 ranks=$3 threads=$4 hidden=$5 batch=$6 seq=$7 steps=$8 dir="$out/$1"
  [[ $name =~ $only ]] || return 0
  rm -rf "$dir"
  local args=(train --data "$out/corpus.txt" --cell lstm --hidden "$hidden" --batch "$batch" --seq-len "$seq"
    --steps "$steps" --optimizer sgd --lr 0.01 --clip 0 --lr-schedule constant --eval-every 1000000 --eval-chars 2
    --sample-length 0 --out "$dir")
  if [ "$ranks" -eq 1 ]; then
    AUTOGRAD_NUM_THREADS=$threads DOTNET_PROCESSOR_COUNT=$threads dotnet "$cli" "${args[@]}" > "$dir.log" 2>&1
  else
    mpiexec -n "$ranks" -genv AUTOGRAD_NUM_THREADS "$threads" -genv DOTNET_PROCESSOR_COUNT "$threads" \
      dotnet "$cli" "${args[@]}" --distributed > "$dir.log" 2>&1
  fi
  printf '%-4s batch %2d, %d process(es) x %d thread(s): %7s chars/s\n' "$size" "$batch" "$ranks" "$threads" "$(steady "$dir/loss.csv" "$batch" "$seq")"
}

for round in $(seq 1 "$rounds"); do
  echo "round $round ($(date +%H:%M), load $(cut -d' ' -f1-3 /proc/loadavg))"
  run M-1x1 M 1 1 256 32 64 150
  run M-1x2 M 1 2 256 32 64 150
  run M-2x1 M 2 1 256 32 64 150
  run M-half M/2 1 1 256 16 64 250   # what each of the 2 ranks computes: half the rows
  run L-1x1 L 1 1 512 64 128 16
  run L-1x2 L 1 2 512 64 128 16
  run L-2x1 L 2 1 512 64 128 16
  run L-half L/2 1 1 512 32 128 24
done
