//===- CpuTarget.cpp - what the CPU passes know about the target ----------===//

#include "compiler/cpu/CpuTarget.h"
#include "runtime/include/strata/onednn_calls.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"

#include <memory>

namespace strata::cpu {

bool describeCpu(const std::string &cpu, CpuTarget &target, std::string &error) {
  llvm::InitializeNativeTarget();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!t)
    return false;
  target = CpuTarget();
  target.cpu = cpu.empty() ? llvm::sys::getHostCPUName().str() : cpu;
  // The host's own feature list, not its model's: a virtual machine may
  // hide some of what the model name implies.
  if (cpu.empty())
    for (auto &f : llvm::sys::getHostCPUFeatures())
      target.features += (target.features.empty() ? "" : ",") +
                         std::string(f.second ? "+" : "-") + f.first().str();
  // Asked of a generic subtarget first: LLVM warns on stderr when it makes
  // one for a name it does not know.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      t->createMCSubtargetInfo(triple, "generic", ""));
  std::unique_ptr<llvm::MCSubtargetInfo> sti;
  if (generic && generic->isCPUStringValid(target.cpu))
    sti.reset(t->createMCSubtargetInfo(triple, target.cpu, target.features));
  if (!sti) {
    error = "unknown CPU '" + target.cpu + "' for " + triple +
            " (names as LLVM knows them: haswell, skylake-avx512, znver4, ...; "
            "see llc-19 -mcpu=help)";
    return false;
  }
  auto has = [&](const char *f) { return sti->checkFeatures(f); };
  target.avx2 = has("+avx2");
  target.fma = has("+fma");
  target.avx512 = has("+avx512f,+avx512bw,+avx512vl,+avx512dq");
  target.avx512vnni = target.avx512 && has("+avx512vnni");
  target.avx512bf16 = target.avx512 && has("+avx512bf16");
  target.amx = has("+amx-tile,+amx-int8,+amx-bf16");
  target.vectorBits = has("+avx512f") ? 512 : has("+avx") ? 256 : 128;
  target.vectorRegisters = has("+avx512f") ? 32 : 16;
  // One block per vector register of floats: nChw16c with AVX-512, so that
  // oneDNN runs its AVX-512 kernels and the blocked kernels use the same
  // width as the rest (nChw8c are oneDNN's AVX2 kernels). A blocked region
  // whose channels are not all multiples of 16 keeps 8-channel blocks
  // (OneDnnConvs.cpp, planBlocks). Measured on Zen 4 against nChw8c:
  // ResNet-18 ~3% and AlexNet ~4% faster, MobileNetV2 the same
  // (bench/RESULTS.md).
  target.channelBlock = target.avx512 ? 16 : 8;
  return true;
}

int64_t CpuTarget::oneDnnIsa() const {
  if (amx && avx512bf16)
    return STRATA_ONEDNN_ISA_AVX512_CORE_AMX;
  if (avx512bf16)
    return STRATA_ONEDNN_ISA_AVX512_CORE_BF16;
  if (avx512vnni)
    return STRATA_ONEDNN_ISA_AVX512_CORE_VNNI;
  if (avx512)
    return STRATA_ONEDNN_ISA_AVX512_CORE;
  if (avx2)
    return STRATA_ONEDNN_ISA_AVX2;
  return STRATA_ONEDNN_ISA_SSE41;
}

std::string CpuTarget::summary() const {
  std::string isa;
  for (auto [on, name] : {std::pair{avx2, "avx2"}, {fma, "fma"}, {avx512, "avx512"},
                          {avx512vnni, "vnni"}, {avx512bf16, "bf16"}, {amx, "amx"}})
    if (on)
      isa += std::string(isa.empty() ? "" : ",") + name;
  return llvm::formatv("{0}: {1}-bit vectors x {2}, blocked layout {3}, isa {4}", cpu,
                       vectorBits, vectorRegisters, blockedLayout(),
                       isa.empty() ? "sse" : isa)
      .str();
}

} // namespace strata::cpu
