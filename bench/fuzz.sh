#!/usr/bin/env bash
# Runs strata's libFuzzer targets (test/fuzz) for a number of executions or
# a time, each from a seed corpus made of the test models.
#
#   bench/fuzz.sh [--runs N | --time SECONDS] [--jobs J] [TARGET...]
#
# TARGET: fuzz-onnx-import, fuzz-tensor-files, fuzz-training-data, fuzz-package
# (default: all). Builds build-fuzz/ with clang-19 (-DSTRATA_FUZZ=ON: ASan, UBSan and
# coverage) on first use. Corpora grow in build-fuzz/corpus/<target>/;
# crashing inputs land in build-fuzz/crashes/<target>/ (add each to
# test/fuzz/regressions/<target>/ with its fix). Prints, per target, the
# executions run and whether any input failed; exits non-zero if one did.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000 time= jobs=1 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --time) time=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-onnx-import fuzz-tensor-files fuzz-training-data fuzz-package)

for p in clang-19 libclang-rt-19-dev libomp-19-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    { echo "==> installing $p"; apt-get install -y -qq "$p" >/dev/null; }
done
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-19 CXX=clang++-19 cmake -G Ninja -B build-fuzz -DCMAKE_BUILD_TYPE=Release -DSTRATA_FUZZ=ON >/dev/null
fi
cmake --build build-fuzz --target "${targets[@]}" strata-examples
if [ ! -d build-fuzz/corpus ]; then
  /usr/bin/python3 bench/fuzz_seeds.py build-fuzz/corpus . build-fuzz/examples
fi

failed=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/crashes/$t" "build-fuzz/corpus/$t"
  limit=(-runs="$runs")
  [ -n "$time" ] && limit=(-max_total_time="$time")
  log="build-fuzz/$t.log"
  # Every regression input must still pass before new ones are searched for.
  if [ -d "test/fuzz/regressions/$t" ]; then
    "build-fuzz/fuzz/$t" -runs=0 "test/fuzz/regressions/$t" >"$log.regressions" 2>&1 ||
      { echo "$t: a regression input fails again (see $log.regressions)"; failed=1; continue; }
  fi
  set +e
  parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-fork="$jobs")
  ASAN_OPTIONS=detect_leaks=1 "build-fuzz/fuzz/$t" "${limit[@]}" "${parallel[@]}" \
    -max_len=65536 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crashes/$t/" "build-fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep "stat::number_of_executed_units" "$log" | awk '{n += $2} END {print n + 0}')
  [ "$execs" -gt 0 ] || execs=$(grep -o "Done [0-9]* runs" "$log" | awk '{n += $2} END {print n + 0}')
  crashes=$(ls "build-fuzz/crashes/$t" | wc -l)
  echo "$t: $execs executions, exit $rc, $crashes failing inputs (log: $log)"
  [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] || failed=1
done
exit $failed
