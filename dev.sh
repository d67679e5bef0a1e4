#!/usr/bin/env bash
# strata's one entry point for a fresh Debian 12 machine.
#
#   ./dev.sh demo   install what is missing, build, compile the bundled LeNet
#                   into an executable and run it
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
  # end-to-end tests on torchvision networks against PyTorch
  python3-torch python3-torchvision
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
  local dir=build/examples
  echo
  echo "==> strata inspect $dir/lenet.onnx"
  build/bin/strata inspect "$dir/lenet.onnx"
  echo
  echo "==> strata compile $dir/lenet.onnx -o $dir/lenet   (a self-contained executable)"
  build/bin/strata compile "$dir/lenet.onnx" -o "$dir/lenet"
  echo
  echo "==> $dir/lenet --input input=$dir/lenet_input.npy --output-dir $dir/out"
  "$dir/lenet" --input "input=$dir/lenet_input.npy" --output-dir "$dir/out"
  echo "wrote $dir/out/logits.npy; the executable's own summary:"
  "$dir/lenet" "$dir/lenet_input.npy"
  echo
  echo "==> strata compile $dir/lenet.onnx --emit=nn   (the imported graph; see --emit=linalg|llvm|asm)"
  build/bin/strata compile "$dir/lenet.onnx" --emit=nn | head -20
  echo "  ..."
}

case "${1:-demo}" in
  demo) install_missing; build; demo ;;
  test) install_missing; build; echo "==> ctest"; ctest --test-dir build --output-on-failure ;;
  build) install_missing; build ;;
  *) echo "usage: $0 [demo|test|build]" >&2; exit 2 ;;
esac
