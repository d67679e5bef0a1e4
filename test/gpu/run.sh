#!/bin/bash
# strata on an NVIDIA GPU: the ONNX conformance suite, ResNet-18 and
# MobileNetV2 compiled with --target=cuda, checked against ONNX's expected
# outputs, PyTorch and strata's own CPU results, plus the fp32 matmul
# benchmark against cuBLAS. Needs a GPU with its driver (libcuda.so.1).
#
#   test/gpu/run.sh                 build (build/), prepare and run here
#   test/gpu/run.sh --prepare DIR   build machine: compile everything into DIR
#   test/gpu/run.sh --run DIR       GPU machine: run DIR (needs python3 with
#                                   numpy and onnx; no strata, no torch)
#
# Environment: PARTS (default "onnx e2e bench"), E2E_MODELS (default
# "resnet18 mobilenet_v2"), E2E_BATCH (default 1), GPU_ARCH (default
# sm_80), MATMUL_N (default 4096), JOBS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PARTS=${PARTS:-onnx e2e bench}
E2E_MODELS=${E2E_MODELS:-resnet18 mobilenet_v2}
E2E_BATCH=${E2E_BATCH:-1}
GPU_ARCH=${GPU_ARCH:-sm_80}
MATMUL_N=${MATMUL_N:-4096}
JOBS=${JOBS:-$(nproc)}
# The Python with onnx (Debian's on the build machine).
PY=python3
for p in /usr/bin/python3 python3; do
  if "$p" -c "import onnx, numpy" 2>/dev/null; then PY=$p; break; fi
done
has() { [[ " $PARTS " == *" $1 "* ]]; }

prepare() {
  local dir=$1 strata=$ROOT/build/bin/strata
  [ -x "$strata" ] || { echo "run.sh: build strata first (./dev.sh build)"; exit 1; }
  mkdir -p "$dir"
  if has onnx; then
    echo "== ONNX conformance: compiling for --target=cuda --gpu-arch=$GPU_ARCH"
    "$PY" "$ROOT/test/onnx/run_conformance.py" --strata "$strata" --target cuda \
      --gpu-arch "$GPU_ARCH" --jobs "$JOBS" --pack "$dir/onnx"
    echo "== long reductions (warp shuffles; NumPy references)"
    local cases
    cases=$(mktemp -d)
    "$PY" "$ROOT/test/gpu/make_reduction_cases.py" "$cases"
    "$PY" "$ROOT/test/onnx/run_conformance.py" --strata "$strata" --target cuda \
      --gpu-arch "$GPU_ARCH" --data "$cases" --expected-failures /dev/null --pack "$dir/reductions"
    rm -rf "$cases"
  fi
  if has e2e; then
    echo "== torchvision networks: compiling for --target=cuda (batch $E2E_BATCH)"
    /usr/bin/python3 "$ROOT/test/e2e/torchvision_models.py" --strata "$strata" --target cuda \
      --gpu-arch "$GPU_ARCH" --batch "$E2E_BATCH" --pack "$dir/e2e" $E2E_MODELS
  fi
  if has bench; then
    echo "== matmul benchmark: $MATMUL_N x $MATMUL_N x $MATMUL_N"
    mkdir -p "$dir/bench"
    "$PY" "$ROOT/bench/gpu/make_matmul.py" "$dir/bench/matmul.onnx" "$MATMUL_N"
    "$strata" compile "$dir/bench/matmul.onnx" --target=cuda --gpu-arch="$GPU_ARCH" \
      -o "$dir/bench/matmul"
    rm "$dir/bench/matmul.onnx"
    local nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
    if [ -x "$nvcc" ]; then
      "$nvcc" -O2 -arch=sm_80 "$ROOT/bench/gpu/cublas_sgemm.cu" -lcublas -o "$dir/bench/cublas_sgemm"
    else
      cp "$ROOT/bench/gpu/cublas_sgemm.cu" "$dir/bench/"  # built on the GPU machine
    fi
  fi
}

run() {
  local dir=$1 status=0
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  if [ -d "$dir/onnx" ]; then
    echo "== ONNX conformance on the GPU"
    "$PY" "$ROOT/test/onnx/run_conformance.py" --run-pack "$dir/onnx" --jobs "$JOBS" || status=1
  fi
  if [ -d "$dir/reductions" ]; then
    echo "== long reductions on the GPU"
    "$PY" "$ROOT/test/onnx/run_conformance.py" --run-pack "$dir/reductions" --jobs "$JOBS" || status=1
  fi
  if [ -d "$dir/e2e" ]; then
    echo "== torchvision networks on the GPU"
    "$PY" "$ROOT/test/e2e/torchvision_models.py" --run-pack "$dir/e2e" --repeat 20 || status=1
  fi
  if [ -d "$dir/bench" ]; then
    echo "== fp32 matmul: strata's generated kernel and cuBLAS"
    local b=$dir/bench
    if [ ! -x "$b/cublas_sgemm" ] && [ -f "$b/cublas_sgemm.cu" ]; then
      nvcc -O2 -arch=sm_80 "$b/cublas_sgemm.cu" -lcublas -o "$b/cublas_sgemm" || true
    fi
    "$PY" - "$b" <<'PYEOF' || status=1
import os, re, subprocess, sys
import numpy as np
b = sys.argv[1]
exe = os.path.join(b, "matmul")
n = int(re.search(r"\[(\d+)", subprocess.run([exe, "--help"], capture_output=True, text=True).stdout).group(1))
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
w = rng.standard_normal((n, n), dtype=np.float32)
np.save(os.path.join(b, "a.npy"), a)
np.save(os.path.join(b, "b.npy"), w)
env = dict(os.environ, STRATA_CUDA_PROFILE="1")
p = subprocess.run([exe, os.path.join(b, "a.npy"), os.path.join(b, "b.npy"), "--repeat", "5",
                    "--output-dir", os.path.join(b, "out")], capture_output=True, text=True, env=env)
print(p.stdout.strip()); print(p.stderr.strip())
if p.returncode:
    sys.exit(1)
c = np.load(os.path.join(b, "out", "c.npy"))
rows = rng.choice(n, 64, replace=False)
ref = a[rows].astype(np.float64) @ w.astype(np.float64)
err = float(np.abs(c[rows] - ref).max() / np.abs(ref).max())
print(f"strata matmul rel_err vs float64 (64 rows) = {err:.2e}")
kernel_ms = max(float(m) for m in re.findall(r"^\s+([\d.]+) ms\s+[\d.]+%", p.stderr, re.M))
print(f"strata generated matmul n={n}: {kernel_ms:.4f} ms, {2*n**3/(kernel_ms*1e-3)/1e12:.2f} TFLOP/s")
cub = os.path.join(b, "cublas_sgemm")
if os.path.exists(cub):
    q = subprocess.run([cub, str(n)], capture_output=True, text=True)
    print(q.stdout.strip() or q.stderr.strip())
    m = re.search(r": ([\d.]+) ms", q.stdout)
    if m:
        print(f"strata / cuBLAS throughput: {float(m.group(1)) / kernel_ms:.1%}")
sys.exit(0 if err < 1e-3 else 1)
PYEOF
  fi
  return $status
}

case "${1:-}" in
  --prepare) prepare "${2:?--prepare DIR}" ;;
  --run) run "${2:?--run DIR}" ;;
  "")
    cmake --build "$ROOT/build" >/dev/null
    work=$(mktemp -d /tmp/strata-gpu-XXXXXX)
    trap 'rm -rf "$work"' EXIT
    prepare "$work"
    run "$work"
    ;;
  *) sed -n '2,17p' "$0"; exit 2 ;;
esac
