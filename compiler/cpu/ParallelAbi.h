//===- ParallelAbi.h - names shared by the parallel-loop passes -*- C++ -*-===//
//
// strata-outline-parallel-loops names the functions it makes; after
// conversion to the LLVM dialect strata-materialize-parallel-launches finds
// them by these names and calls the runtime (runtime/src/parallel.c).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_CPU_PARALLELABI_H
#define STRATA_COMPILER_CPU_PARALLELABI_H

namespace strata::cpu {

/// Body of an outlined loop: `(index lo, index hi, captures...)`.
inline constexpr const char *kParallelBodyPrefix = "__strata_par_";
/// Its launcher, declared by the outliner: `(index count, captures...)`.
inline constexpr const char *kParallelLaunchSuffix = "_launch";
/// The adapter the thread pool calls: `(ptr ctx, i64 lo, i64 hi)`.
inline constexpr const char *kParallelThunkSuffix = "_thunk";
/// Runtime entry: `void strata_parallel_for(void (*)(void *, int64_t,
/// int64_t), void *ctx, int64_t count)`.
inline constexpr const char *kParallelForSymbol = "strata_parallel_for";

} // namespace strata::cpu

#endif
