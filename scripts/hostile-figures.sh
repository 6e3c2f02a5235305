#!/usr/bin/env bash
# SECURITY.md's figures for hostile input: writes the inputs of scripts/hostile-inputs.py
# (and takes the largest zoo model as a real one), then runs the release CLI on each under
# /usr/bin/time -v and prints the input's (inflated) size, peak RSS, CPU seconds and both per
# input byte, with the CLI's first line of output (a graph summary or the error).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-target/hostile}
cargo build --release --bin cgpredict >&2
[ -f "$dir/chain.json" ] || python3 scripts/hostile-inputs.py "$dir"
cli=target/release/cgpredict
real=data/zoo/torchvision/Swin_V2_B_Weights.IMAGENET1K_V1.onnx.gz
printf '| input | bytes (inflated) | peak RSS | RSS / byte | CPU s | CPU ns / byte | result |\n|---|---|---|---|---|---|---|\n'
for file in "$dir"/attributes.onnx.gz "$dir"/initializers.onnx "$dir"/value_infos.onnx \
    "$dir"/dimensions.onnx "$dir"/packed_zeros.onnx "$dir"/fan_out.onnx "$dir"/chain.json "$real"; do
    case $file in
        *.gz) bytes=$(gzip -dc "$file" | wc -c) ;;
        *) bytes=$(stat -c %s "$file") ;;
    esac
    case $file in
        *.json) command=("$cli" graph info "$file") ;;
        *) command=("$cli" graph from-onnx "$file") ;;
    esac
    result=$( { /usr/bin/time -v "${command[@]}" 2>&1 >/dev/null | cat; } || true)
    rss_kb=$(grep 'Maximum resident set size' <<<"$result" | awk '{print $NF}')
    user=$(grep 'User time' <<<"$result" | awk '{print $NF}')
    system=$(grep 'System time' <<<"$result" | awk '{print $NF}')
    first=$( { "${command[@]}" 2>&1 || true; } | head -n 1 | cut -c 1-120)
    awk -v f="$(basename "$file")" -v b="$bytes" -v r="$rss_kb" -v u="$user" -v s="$system" -v o="$first" \
        'BEGIN { c = u + s; printf "| %s | %d | %.1f MB | %.2f | %.2f | %.1f | %s |\n", f, b, r / 1000, r * 1000 / b, c, c * 1e9 / b, o }'
done
