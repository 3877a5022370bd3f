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
#   bash bench/multi_style_hours.sh WORK step:N REFERENCE.nstw [BUILD]
# step:N trains to step N in all instead, the first 2253 steps at 128 px (what the first
# 20 minutes made on the machine of the one-style hour, docs/training.md): training is
# deterministic in its steps, so this is the same run bit for bit on any machine and under
# any load, and its time is the steps times the step times measured there.
# Appends one JSON line per call to WORK/progress.jsonl: the training minutes so far and
# each style's mean held-out content and style loss (and the reference's for the scream).
set -euo pipefail
work=${1:?usage: bash bench/multi_style_hours.sh WORK MINUTES REFERENCE.nstw [BUILD]}
minutes=${2:?minutes of training for this call, or step:N}
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
styles=()
for p in "${paintings[@]}"; do styles+=(--style "$S/$p.jpg"); done
# The 128 px phase: a new run, or the checkpoint's run continued (LIMIT: --steps/--minutes N).
train_128() {
  if [[ -f $net.ckpt ]]; then
    "$build/nst" train --resume "$net.ckpt" --size 128 "$@" "${common[@]}"
  else
    "$build/nst" train "${styles[@]}" --images "$S/train" --output "$net" --size 128 "$@" "${common[@]}"
  fi
}
if [[ $minutes == step:* ]]; then
  until=${minutes#step:}
  first=$(( until < 2253 ? until : 2253 ))
  done_steps=0
  [[ -f $net.ckpt ]] && done_steps=$(/usr/bin/python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print(d["steps"][-1]["step"] if d["steps"] else 0)' "$net.json")
  (( done_steps < first )) && train_128 --steps "$first"
  if (( until > first )); then
    "$build/nst" train --resume "$net.ckpt" --size 256 --steps "$until" "${common[@]}"
  fi
else
  if [[ ! -f $net.ckpt ]]; then
    first=$(( minutes < 20 ? minutes : 20 ))
    train_128 --minutes "$first"
    minutes=$(( minutes - first ))
  fi
  if (( minutes > 0 )); then
    "$build/nst" train --resume "$net.ckpt" --size 256 --minutes "$minutes" "${common[@]}"
  fi
fi
trained=$(/usr/bin/python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print(round(d["seconds"] / 60, 1), d["steps"][-1]["step"])' "$net.json")
line="{\"minutes\": ${trained% *}, \"steps\": ${trained#* }"
for k in "${!paintings[@]}"; do
  p=${paintings[$k]}
  models=(--model "four=$net@$k")
  [[ $k == 0 && $reference != - ]] && models+=(--model "one=$reference")
  /usr/bin/python3 "$here/train_vs_pretrained.py" --style "$S/$p.jpg" "${models[@]}" \
    --nst "$build/nst" --shared "$shared" --json "$work/score_$k.json" >/dev/null
  line+=", \"$p\": $(/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["means"]))' "$work/score_$k.json")"
done
echo "$line}" | tee -a "$work/progress.jsonl"
