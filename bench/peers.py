"""Timing of strata and its peers on one ONNX model, for the bench scripts.

Every function returns (median_ms, note): a number, or None and a one-line
reason (a peer that is not installed, or failed on the model). Peers come
from pip (see DESIGN.md): onnxruntime, iree-base-compiler/-runtime, openvino.
"""
import json
import os
import re
import subprocess
import sys
import time

import numpy as np


def _median(fn, iters):
    fn()  # warm-up
    ms = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(ms))


def strata(strata_bin, path, threads, iters, env, flags=()):
    out = subprocess.run([strata_bin, "bench", path, "--iters", str(iters), "--threads", str(threads),
                          "--json", *flags], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return None, "strata: " + (out.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(out.stdout)["median_ms"], None


def onnxruntime(path, feeds, threads, iters):
    try:
        import onnxruntime as ort
    except ImportError:
        return None, "onnxruntime not installed (pip install onnxruntime==1.31.1)"
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return _median(lambda: sess.run(None, feeds), iters), None


def openvino(path, feeds, threads, iters, precision=None):
    """precision: None for OpenVINO's default (bf16 on CPUs with AVX512_BF16
    or AMX), or an INFERENCE_PRECISION_HINT such as "f32"."""
    try:
        import openvino as ov
    except ImportError:
        return None, "OpenVINO not installed (pip install openvino)"
    try:
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        if precision:
            config["INFERENCE_PRECISION_HINT"] = precision
        compiled = ov.Core().compile_model(path, "CPU", config)
        request = compiled.create_infer_request()
        return _median(lambda: request.infer(feeds), iters), None
    except Exception as e:  # a peer's failure is a note, not a bench failure
        return None, f"OpenVINO failed: {str(e).splitlines()[0][:120]}"


_iree_modules = {}


def iree(path, feeds, threads, iters, work):
    """IREE's llvm-cpu backend for the host CPU; threads = task topology groups."""
    try:
        import iree.compiler as ic
        import iree.runtime as rt
    except ImportError:
        return None, "IREE not installed (pip install iree-base-compiler iree-base-runtime)"
    try:
        if path not in _iree_modules:
            mlir = os.path.join(work, os.path.basename(path) + ".mlir")
            vmfb = os.path.join(work, os.path.basename(path) + ".vmfb")
            subprocess.run([sys.executable, "-m", "iree.compiler.tools.import_onnx", path, "-o", mlir],
                           check=True, capture_output=True)
            ic.compile_file(mlir, output_file=vmfb, target_backends=["llvm-cpu"],
                            extra_args=["--iree-llvmcpu-target-cpu=host"])
            entry = re.search(r"func.func @(\w+)", open(mlir).read()).group(1)
            _iree_modules[path] = (open(vmfb, "rb").read(), entry)
        data, entry = _iree_modules[path]
        # Thread count is a process-wide flag read when the driver starts; a
        # fresh subprocess per thread count keeps runs independent.
        code = ("import sys, numpy as np, iree.runtime as rt, time\n"
                f"rt.flags.parse_flags('--task_topology_max_group_count={threads}')\n"
                "ctx = rt.SystemContext(config=rt.Config('local-task'))\n"
                "ctx.add_vm_module(rt.VmModule.copy_buffer(ctx.instance, open(sys.argv[1], 'rb').read()))\n"
                f"f = ctx.modules.module['{entry}']\n"
                "args = [np.load(a) for a in sys.argv[3:]]\n"
                "np.asarray(f(*args)) if not isinstance(f(*args), tuple) else None\n"
                "ms = []\n"
                "for _ in range(int(sys.argv[2])):\n"
                "    t = time.perf_counter(); r = f(*args); ms.append((time.perf_counter() - t) * 1e3)\n"
                "print(float(np.median(ms)))\n")
        vmfb = os.path.join(work, "iree.vmfb")
        open(vmfb, "wb").write(data)
        args = []
        for i, (name, value) in enumerate(feeds.items()):
            p = os.path.join(work, f"iree_in{i}.npy")
            np.save(p, value)
            args.append(p)
        out = subprocess.run([sys.executable, "-c", code, vmfb, str(iters)] + args,
                             capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1]), None
    except Exception as e:
        msg = getattr(e, "stderr", None) or str(e)
        msg = msg.decode() if isinstance(msg, bytes) else msg
        return None, f"IREE failed: {msg.strip().splitlines()[-1][:120] if msg.strip() else type(e).__name__}"


def fmt(v, digits=2):
    return "" if v is None else f"{v:.{digits}f}"


def time_all(strata_bin, path, feeds, threads, iters, env, work, notes):
    """Medians of strata and every pip peer on one model; reasons go to `notes`."""
    results = {}
    for name, run in [("strata", lambda: strata(strata_bin, path, threads, iters, env)),
                      ("ort", lambda: onnxruntime(path, feeds, threads, iters)),
                      ("iree", lambda: iree(path, feeds, threads, iters, work)),
                      ("openvino", lambda: openvino(path, feeds, threads, iters))]:
        results[name], err = run()
        if err:
            notes.add(err)
    return results


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else ""
