#!/usr/bin/env bash
# Issue 18: how long a 4-style network takes to reach, on each of its styles, the quality
# a 1-style network reaches in an hour. Run it several times (each call trains MINUTES
# more from the last checkpoint; the first 20 minutes at 128 px crops, then 256 px, the
# schedule of the one-style hour in docs/training.md), then score every style on the
# held-out photos with bench/train_vs_pretrained.py. The 1-style reference is the
# network given as REFERENCE (a scream net trained for an hour) for style 0 (the scream);
# REFERENCE "-" skips scoring it (its held-out figures are in docs/training.md, and the
# scoring is deterministic, so they stand for the network they were measured on).
#   bash bench/multi_style_hours.sh WORK MINUTES REFERENCE.nstw [BUILD]
# Appends one JSON line per call to WORK/progress.jsonl: the training minutes so far and
# each style's mean held-out content and style loss (and the reference's for the scream).
set -euo pipefail
work=${1:?usage: bash bench/multi_style_hours.sh WORK MINUTES REFERENCE.nstw [BUILD]}
minutes=${2:?minutes of training for this call}
reference=${3:?the 1-style network to compare the scream with}
build=${4:-build}
shared=${NST_SHARED:-../shared}
here=$(cd "$(dirname "$0")" && pwd)
S=$shared/images
paintings=(the_scream starry_night shipwreck woman-with-hat-matisse)
mkdir -p "$work"
net=$work/four.nstw
common=(--sample "$S/tubingen.jpg" --sample-every 200 --checkpoint-every 100 --print-every 50
        --threads 2)
if [[ ! -f $net.ckpt ]]; then
  styles=()
  for p in "${paintings[@]}"; do styles+=(--style "$S/$p.jpg"); done
  first=$(( minutes < 20 ? minutes : 20 ))
  "$build/nst" train "${styles[@]}" --images "$S/train" --output "$net" --size 128 \
    --minutes "$first" "${common[@]}"
  minutes=$(( minutes - first ))
fi
if (( minutes > 0 )); then
  "$build/nst" train --resume "$net.ckpt" --size 256 --minutes "$minutes" "${common[@]}"
fi
trained=$(/usr/bin/python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["seconds"] / 60, 1))' "$net.json")
line="{\"minutes\": $trained"
for k in "${!paintings[@]}"; do
  p=${paintings[$k]}
  models=(--model "four=$net@$k")
  [[ $k == 0 && $reference != - ]] && models+=(--model "one=$reference")
  /usr/bin/python3 "$here/train_vs_pretrained.py" --style "$S/$p.jpg" "${models[@]}" \
    --nst "$build/nst" --shared "$shared" --json "$work/score_$k.json" >/dev/null
  line+=", \"$p\": $(/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["means"]))' "$work/score_$k.json")"
done
echo "$line}" | tee -a "$work/progress.jsonl"
