# lit configuration for strata's FileCheck tests.
import os

import lit.formats

config.name = "strata"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.strata_obj_root, "test", "lit")

# strata's tools first, then FileCheck/not/count from LLVM 19.
config.environment["PATH"] = os.pathsep.join(
    [config.strata_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("%python", config.test_python))
config.substitutions.append(("%models", config.test_python + " " +
                             os.path.join(config.test_source_root, "Inputs", "onnx_models.py")))
config.substitutions.append(("%runtime_include", config.strata_runtime_include))
config.substitutions.append(("%strata_lib", config.strata_lib_dir))
# Programs built against libstrata_runtime.a: with its sanitizers when the
# build has them (STRATA_SANITIZE).
config.substitutions.append(("%cc", config.c_compiler))
if "-fsanitize" in config.c_compiler:
    config.available_features.add("sanitize")
# LeakSanitizer's tracer itself crashes (SIGSEGV while suspending threads) at
# the exit of a process whose modules ran OpenMP worker threads and were then
# unloaded; such commands run without the leak check in sanitizer builds.
# (The 8-contexts x 1-thread load test keeps it.)
config.substitutions.append(
    ("%no-leak-check", "env ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1"
     if "-fsanitize" in config.c_compiler else ""))
config.substitutions.append(("%examples", os.path.join(config.strata_obj_root, "examples")))

# GPU: ptxas (CUDA Toolkit) assembles the PTX where present; a CUDA driver
# (libcuda.so.1) decides whether CUDA executables run or must fail clearly.
import ctypes  # noqa: E402
import shutil  # noqa: E402

ptxas = shutil.which("ptxas") or next(
    (p for p in ["/usr/local/cuda/bin/ptxas"] if os.path.exists(p)), None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass

# Executables compiled for an AVX-512 CPU (--cpu=skylake-avx512) run only on
# one; the compile steps are checked on any host.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        if " avx512f" in cpuinfo.read():
            config.available_features.add("avx512")
except OSError:
    pass
