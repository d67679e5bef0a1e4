//===- ExternalWeights.cpp - weights as one blob: side file or embedded ---===//

#include "compiler/cpu/ExternalWeights.h"
#include "compiler/lowering/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "runtime/include/strata/module_abi.h"

#include <cstring>

using namespace mlir;

namespace strata::cpu {

namespace {
/// Moves the large constants of @main into `out` (64-byte aligned entries)
/// and makes each a trailing argument of @main.
bool moveWeights(ModuleOp module, int64_t minBytes, ModelSignature &signature,
                 llvm::raw_ostream &out, std::string &error,
                 const std::vector<PackedRecord> &packed = {}) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main) {
    error = "the module has no @main";
    return false;
  }
  uint64_t offset = 0;
  SmallVector<arith::ConstantOp> constants;
  main.walk([&](arith::ConstantOp c) {
    auto attr = dyn_cast<ElementsAttr>(c.getValue());
    if (attr && (int64_t)lowering::rawConstantBytes(attr).size() >= minBytes)
      constants.push_back(c);
  });
  std::vector<bool> used(packed.size(), false);
  for (arith::ConstantOp c : constants) {
    ArrayRef<char> bytes = lowering::rawConstantBytes(c.getValue());
    // A packed layer, as stored or as the compiler laid it out: a 2-D
    // [rows, cols] transposed with each row of `rows` padded to `stride`
    // (a Gemm's B for the vectorized matmul).
    const PackedRecord *record = nullptr;
    int64_t stride = 0;
    for (auto [i, p] : llvm::enumerate(packed)) {
      if (used[i])
        continue;
      if (p.values.size() * sizeof(float) == bytes.size() &&
          std::memcmp(p.values.data(), bytes.data(), bytes.size()) == 0) {
        record = &p;
      } else if (p.shape.size() == 2 && bytes.size() % (4 * p.shape[1]) == 0 &&
                 int64_t(bytes.size() / (4 * p.shape[1])) >= p.shape[0]) {
        int64_t rows = p.shape[0], cols = p.shape[1], s = bytes.size() / (4 * cols);
        const float *f = reinterpret_cast<const float *>(bytes.data());
        bool same = true;
        for (int64_t col = 0; col < cols && same; ++col)
          for (int64_t r = 0; r < s && same; ++r)
            same = f[col * s + r] == (r < rows ? p.values[r * cols + col] : 0.0f);
        if (same) {
          record = &p;
          stride = s;
        }
      }
      if (record) {
        used[i] = true;
        break;
      }
    }
    uint64_t aligned = (offset + 63) / 64 * 64;
    out.write_zeros(aligned - offset);
    if (record)
      out.write(record->record.data(), record->record.size());
    else
      out.write(bytes.data(), bytes.size());
    offset = aligned + (record ? record->record.size() : bytes.size());
    TensorSignature entry;
    entry.name = record ? record->name : "weight" + std::to_string(signature.weights.size());
    entry.offset = aligned;
    entry.bytes = bytes.size();
    entry.packedBytes = record ? record->record.size() : 0;
    if (stride) {
      entry.packedRows = record->shape[0];
      entry.packedCols = record->shape[1];
      entry.packedStride = stride;
    }
    signature.weights.push_back(entry);
    unsigned index = main.getNumArguments();
    (void)main.insertArgument(index, c.getType(), {}, c.getLoc());
    c.getResult().replaceAllUsesWith(main.getArgument(index));
    c.erase();
  }
  return true;
}
} // namespace

bool embedWeights(ModuleOp module, int64_t minBytes, ModelSignature &signature,
                  std::string &error, const std::vector<PackedRecord> &packed) {
  signature.embeddedWeights.clear();
  llvm::raw_string_ostream out(signature.embeddedWeights);
  bool ok = moveWeights(module, minBytes, signature, out, error, packed);
  out.flush();
  return ok;
}

namespace {
/// Passes bytes on to `out` and hashes them (FNV-1a, 64 bits): the weights
/// file's identity, which its header and the module's signature both carry.
class HashingStream : public llvm::raw_ostream {
public:
  explicit HashingStream(llvm::raw_ostream &out) : out(out) { SetUnbuffered(); }
  uint64_t hash = 0xcbf29ce484222325ull;

private:
  void write_impl(const char *p, size_t n) override {
    for (size_t i = 0; i < n; ++i)
      hash = (hash ^ (uint8_t)p[i]) * 0x100000001b3ull;
    out.write(p, n);
    written += n;
  }
  uint64_t current_pos() const override { return written; }
  llvm::raw_ostream &out;
  uint64_t written = 0;
};
} // namespace

bool externalizeWeights(ModuleOp module, const std::string &path,
                        const std::string &finalName, int64_t minBytes,
                        ModelSignature &signature, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  strata_weights_header header{};
  out.write(reinterpret_cast<const char *>(&header), sizeof header);
  signature.weightsFile = llvm::sys::path::filename(finalName).str();
  HashingStream payload(out);
  if (!moveWeights(module, minBytes, signature, payload, error))
    return false;
  payload.flush();
  std::memcpy(header.magic, STRATA_WEIGHTS_MAGIC, sizeof STRATA_WEIGHTS_MAGIC);
  header.version = STRATA_WEIGHTS_VERSION;
  header.id = payload.hash;
  header.bytes = payload.tell();
  signature.weightsId = header.id;
  out.pwrite(reinterpret_cast<const char *>(&header), sizeof header, 0);
  out.close();
  if (out.has_error()) {
    error = "writing " + path + " failed: " + out.error().message();
    out.clear_error();
    return false;
  }
  return true;
}

} // namespace strata::cpu
