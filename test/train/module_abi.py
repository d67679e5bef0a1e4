"""Calling a strata module's entry point from Python (ctypes), as C does.

strata_model_run(void **buffers) takes the inputs, the outputs, then the
arena when the signature has an "arena BYTES" line, then a zeroed
strata_run_context (runtime/include/strata/module_abi.h, 512 bytes). A module
that exports strata_model_unpack (compiled from a .stz package) is unpacked
first.
"""
import ctypes

import numpy as np

RUN_CONTEXT_BYTES = 512


def signature(lib):
    """The module's signature text."""
    text = ctypes.c_char_p.in_dll(lib, "strata_model_signature")
    # The symbol is an array, not a pointer: read it from its address.
    return ctypes.string_at(ctypes.addressof(text)).decode()


def aligned_zeros(nbytes, alignment=64):
    """A zeroed byte buffer whose data starts on an `alignment` boundary."""
    raw = np.zeros(nbytes + alignment, np.uint8)
    shift = (-raw.ctypes.data) % alignment
    return raw[shift:shift + nbytes]


class Runner:
    """Calls strata_model_run with caller-owned arena and run context."""

    def __init__(self, lib):
        self.run = lib.strata_model_run
        self.run.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        arena = 0
        for line in signature(lib).split("\n"):
            if line.startswith("arena "):
                arena = int(line.split()[1])
        self.extra = ([aligned_zeros(arena)] if arena else []) + \
            [aligned_zeros(RUN_CONTEXT_BYTES)]
        # A program compiled from a package decodes its packed layers first,
        # as the runtime's loader does.
        if hasattr(lib, "strata_model_unpack"):
            lib.strata_model_unpack.restype = ctypes.c_char_p
            error = lib.strata_model_unpack()
            if error:
                raise RuntimeError(f"packed weights do not decode: {error.decode()}")

    def __call__(self, buffers):
        """Runs on numpy arrays (inputs then outputs); returns the status."""
        arrays = list(buffers) + self.extra
        self.extra[-1][:] = 0
        ptrs = (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
        return self.run(ptrs)
