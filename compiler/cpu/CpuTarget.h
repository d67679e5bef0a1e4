//===- CpuTarget.h - what the CPU passes know about the target --*- C++ -*-===//
//
// Computed once per compilation from --cpu (or the host) and read by every
// CPU pass and by code generation: vector width and registers, the blocked
// activation layout, and the ISA features kernels are chosen by. No CPU pass
// has a vector width or layout name of its own.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_CPU_CPUTARGET_H
#define STRATA_COMPILER_CPU_CPUTARGET_H

#include <cstdint>
#include <string>

namespace strata::cpu {

struct CpuTarget {
  /// LLVM's name of the CPU ("znver4", "skylake-avx512", "haswell").
  std::string cpu;
  /// LLVM feature string code is generated with ("+avx2,+fma,..."); empty
  /// for a named CPU (its own features).
  std::string features;
  bool avx2 = false, fma = false;
  bool avx512 = false;     ///< AVX-512 F, BW, VL and DQ together
  bool avx512vnni = false; ///< int8 dot products (vpdpbusd)
  bool avx512bf16 = false; ///< bf16 dot products (vdpbf16ps)
  bool amx = false;        ///< AMX tiles (int8 and bf16)
  /// Width of a vector register in bits (512 with AVX-512, 256 with AVX2,
  /// else 128) and how many there are (32 with AVX-512, else 16).
  int64_t vectorBits = 128;
  int64_t vectorRegisters = 16;
  /// Channels per block of the blocked activation layout nChw<block>c
  /// that oneDNN convolutions and the generated blocked kernels share.
  int64_t channelBlock = 8;

  /// Elements of `elementBits` bits in one vector register.
  int64_t lanes(int64_t elementBits) const { return vectorBits / elementBits; }
  /// oneDNN's tag of the blocked layout ("nChw8c").
  std::string blockedLayout() const {
    return "nChw" + std::to_string(channelBlock) + "c";
  }
  /// The widest ISA oneDNN may use (a strata_onednn_isa value,
  /// strata/onednn_calls.h): the runtime caps oneDNN there
  /// (dnnl_set_max_cpu_isa), so it uses no wider vectors than this code.
  int64_t oneDnnIsa() const;
  /// One line for --explain: "znver4: 512-bit vectors x 32, nChw8c, ...".
  std::string summary() const;
};

/// Describes `cpu` (LLVM's name; empty: this machine, with the features it
/// reports). Returns false with `error` set for a name LLVM does not know.
bool describeCpu(const std::string &cpu, CpuTarget &target, std::string &error);

} // namespace strata::cpu

#endif // STRATA_COMPILER_CPU_CPUTARGET_H
