/* Failures inside a run (run_checks.c), for the support code linked into
 * compiled modules. */
#ifndef STRATA_RUNTIME_RUN_CHECKS_H
#define STRATA_RUNTIME_RUN_CHECKS_H

#include "strata/module_abi.h"

#define HIDDEN __attribute__((visibility("hidden")))

/* Records the run's first failure (printf-style message); returns 1. */
HIDDEN int strata_run_fail(strata_run_context *context, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* 1 once something in the run failed. */
HIDDEN int strata_run_failed(const strata_run_context *context);

#endif
