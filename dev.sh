#!/usr/bin/env bash
# strata's one entry point for a fresh Debian 12 machine.
#
#   ./dev.sh demo   install what is missing, build, train the bundled LeNet-5
#                   on Fashion-MNIST for one epoch, compile the trained network
#                   into an executable and run it on test images
#   ./dev.sh test   install what is missing, build, run the whole test suite,
#                   then the same suite on a sanitizer build (test-sanitize)
#   ./dev.sh build  install what is missing and build
#   ./dev.sh test-sanitize   only the second half of test: build-sanitize/
#                   with AddressSanitizer and UndefinedBehaviorSanitizer and
#                   the test suite on it (docs/testing.md)
#   ./dev.sh fuzz [ARGS]     bench/fuzz.sh: the libFuzzer targets
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
  # strata train: Fashion-MNIST (gzip idx files, read through zlib)
  dataset-fashion-mnist zlib1g-dev
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

# Tests whose processes load a compiled module into Python (ctypes): the
# sanitizer runtime is not in those processes, so they cannot run there.
SANITIZE_EXCLUDED='gradcheck|train-gradients-vs-pytorch|train-centroid-gradients'

test_sanitize() {
  if [ ! -f build-sanitize/build.ninja ]; then
    echo "==> configuring build-sanitize/ (Release, ASan + UBSan)"
    cmake -G Ninja -B build-sanitize -DCMAKE_BUILD_TYPE=Release -DSTRATA_SANITIZE=ON
  fi
  echo "==> building build-sanitize/"
  cmake --build build-sanitize
  echo "==> ctest (sanitized; excluded: $SANITIZE_EXCLUDED)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
  LSAN_OPTIONS=suppressions=$PWD/test/sanitize/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-sanitize --output-on-failure -E "$SANITIZE_EXCLUDED"
}

demo() {
  local dir=build/examples
  echo
  echo "==> strata train $dir/lenet.onnx --data fashion-mnist --epochs 1   (compiled forward + backward + SGD)"
  build/bin/strata train "$dir/lenet.onnx" --data fashion-mnist --epochs 1 -o "$dir/lenet-trained.onnx"
  echo
  echo "==> strata compile $dir/lenet-trained.onnx --batch 1000 -o $dir/lenet-trained   (a self-contained executable)"
  build/bin/strata compile "$dir/lenet-trained.onnx" --batch 1000 -o "$dir/lenet-trained"
  echo
  echo "==> $dir/lenet-trained on 1000 Fashion-MNIST test images"
  /usr/bin/python3 examples/fashion_mnist.py to-npy /usr/share/datasets/fashion-mnist "$dir/fmnist-test" 1000
  "$dir/lenet-trained" --input "input=$dir/fmnist-test/x.npy" --output-dir "$dir/fmnist-test/out"
  /usr/bin/python3 examples/fashion_mnist.py accuracy "$dir/fmnist-test/out/logits.npy" "$dir/fmnist-test/y.npy"
  echo
  echo "==> strata inspect $dir/lenet-trained.onnx"
  build/bin/strata inspect "$dir/lenet-trained.onnx"
}

case "${1:-demo}" in
  demo) install_missing; build; demo ;;
  test) install_missing; build; echo "==> ctest"; ctest --test-dir build --output-on-failure
        test_sanitize ;;
  build) install_missing; build ;;
  test-sanitize) install_missing; test_sanitize ;;
  fuzz) shift; install_missing; exec bench/fuzz.sh "$@" ;;
  *) echo "usage: $0 [demo|test|build|test-sanitize|fuzz]" >&2; exit 2 ;;
esac
