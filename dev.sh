#!/usr/bin/env bash
# strata's one entry point for a fresh Debian 12 machine.
#
#   ./dev.sh demo   install what is missing, build, compile the bundled example
#   ./dev.sh test   install what is missing, build, run the whole test suite
#   ./dev.sh build  install what is missing and build
#
# Idempotent: packages already installed are not touched, and an existing
# build/ is rebuilt incrementally (ccache speeds up clean rebuilds).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  # toolchain
  cmake ninja-build ccache g++ git
  llvm-19-dev libmlir-19-dev mlir-19-tools clang-19 llvm-19-tools
  # model formats and kernels
  libprotobuf-dev protobuf-compiler libonnx-dev libdnnl-dev
  # tests: Catch2, and Debian's Python with onnx/numpy to make test models
  catch2 python3 python3-onnx python3-numpy
)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() {
  if [ ! -f build/build.ninja ]; then
    echo "==> configuring build/ (Release)"
    cmake -G Ninja -B build -DCMAKE_BUILD_TYPE=Release
  fi
  echo "==> building"
  cmake --build build
}

demo() {
  local model=build/examples/lenet.onnx
  echo
  echo "==> strata inspect $model"
  build/bin/strata inspect "$model"
  echo
  echo "==> strata compile $model --emit=nn   (the imported graph, weights elided)"
  build/bin/strata compile "$model" --emit=nn
  echo
  echo "==> strata-opt --strata-graph-fold   (run a pass on the IR)"
  build/bin/strata compile "$model" --emit=nn --print-weights -o build/examples/lenet.mlir
  build/bin/strata-opt build/examples/lenet.mlir --strata-graph-fold -o build/examples/lenet.folded.mlir
  echo "wrote build/examples/lenet.mlir and build/examples/lenet.folded.mlir"
}

case "${1:-demo}" in
  demo) install_missing; build; demo ;;
  test) install_missing; build; echo "==> ctest"; ctest --test-dir build --output-on-failure ;;
  build) install_missing; build ;;
  *) echo "usage: $0 [demo|test|build]" >&2; exit 2 ;;
esac
