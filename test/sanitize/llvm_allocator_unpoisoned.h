/* Force-included in sanitizer builds (CMakeLists.txt, STRATA_SANITIZE).
 *
 * LLVM's BumpPtrAllocator, a header template, poisons the unused part of its
 * slabs when the including code is built with AddressSanitizer. strata's
 * code is; Debian's libMLIR.so, which allocates from the same allocators
 * (MLIR's storage uniquer), is not, so it writes into memory the
 * instrumented half still believes poisoned, and ASan reports
 * use-after-poison in a correct program (found by the importer's fuzzer).
 * Declaring the interface first and then turning the two calls into no-ops
 * keeps every other check. */
#ifndef STRATA_LLVM_ALLOCATOR_UNPOISONED_H
#define STRATA_LLVM_ALLOCATOR_UNPOISONED_H
#include <sanitizer/asan_interface.h>
#undef ASAN_POISON_MEMORY_REGION
#undef ASAN_UNPOISON_MEMORY_REGION
#define __asan_poison_memory_region(p, size) ((void)(p), (void)(size))
#define __asan_unpoison_memory_region(p, size) ((void)(p), (void)(size))
#endif
