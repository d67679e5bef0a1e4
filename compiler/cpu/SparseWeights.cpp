//===- SparseWeights.cpp - layers with mostly-zero weights, nonzeros only --===//
//
// A pruned network (strata prune) keeps 8-10% of its weights; its dense
// program still reads and multiplies every zero. Here a fully connected
// layer or convolution whose constant weight is sparse enough computes only
// the nonzeros, as Han et al. ran their pruned layers on the CPU.
//
// The weight becomes CSR rows, one per output feature (gemm/matmul) or
// output channel (conv). A row keeps its nonzeros as pairs (offset into the
// flattened input, value), padded with zero values to whole vectors so the
// inner loop has no tail. For a fully connected layer the offset is the
// input feature; for a convolution it is the tap's place in the zero-padded
// input image, c*Hp*Wp + ky*dy*Wp + kx*dx, so that one output position
// (oh, ow) reads input[n][base + offset] with base = oh*sy*Wp + ow*sx: the
// same gather as a fully connected row, at a moving base. No patch matrix.
//
// One work item per (batch row, output row) loops over output positions;
// each position gathers a vector of inputs at the row's offsets
// (vector.gather, AVX-512/AVX2 gathers), multiplies it into a vector
// accumulator, and reduces it at the end, plus the bias.
//
// The padding costs little (rows of LeNet-300-100's first layer at 92%
// sparsity hold ~63 nonzeros: 64 in 16-lane vectors). Measured threshold
// for --sparse=auto: bench/RESULTS.md ("Sparse kernels").
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "compiler/cpu/VectorBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"
#include "dialects/nn/NodeLocation.h"
#include "passes/Passes.h"
#include "passes/graph/ConstantValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <numeric>

namespace strata {
#define GEN_PASS_DEF_SPARSEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata::cpu;
namespace nn = strata::nn;

namespace {

/// Input values one in-register permute reaches (two 16-lane registers).
constexpr int64_t kChunk = 32;

/// A weight as sliced rows: rows in slices of `lanes`, computed together in
/// one vector. Each slice is a list of blocks; a block is a window of the
/// input at `blockOffset` (kChunk wide for the permute kernel, the whole
/// input for the gather kernel, offset 0) and columns, as many as the
/// slice's row with the most nonzeros in the window has; column j holds
/// entry j of each row, (index into the window, value), (0, 0.0) past a
/// row's end and for rows past the last.
struct SparseSlices {
  int64_t lanes = 0, slices = 0;
  std::vector<int32_t> sliceBlocks; ///< slices + 1: each slice's first block
  std::vector<int32_t> blockOffset; ///< where each block's window starts
  std::vector<int32_t> blockColumns; ///< blocks + 1: each block's first column
  std::vector<int32_t> indices;     ///< columns x lanes
  std::vector<float> values;        ///< columns x lanes
  /// Rows are taken in order of falling nonzero count, so that a slice's
  /// rows are alike and its columns carry little padding (SELL-C-sigma;
  /// LeNet-300-100's fc1 after prune-and-retrain: 3.6x padding in row
  /// order, 2.4x sorted). Lane i of slice k is row rowOrder[k*lanes + i];
  /// slotOf[r] is row r's place in that order.
  std::vector<int64_t> rowOrder, slotOf;
  int64_t nonzeros = 0;
};

/// Builds the slices from `rows` x `entries` weights: `value(r, e)` is
/// entry e of row r, read at input offset `offset(e)`. With `window` 0 one
/// block per slice holds the offsets themselves; otherwise entries are
/// grouped into windows of `window` inputs (offsets aligned down) and
/// indices are relative to them.
SparseSlices buildSlices(int64_t rows, int64_t entries, int64_t lanes, int64_t window,
                         llvm::function_ref<float(int64_t, int64_t)> value,
                         llvm::function_ref<int64_t(int64_t)> offset) {
  SparseSlices s;
  s.lanes = lanes;
  s.slices = (rows + lanes - 1) / lanes;
  std::vector<int64_t> count(rows, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t e = 0; e < entries; ++e)
      count[r] += value(r, e) != 0.0f;
  s.rowOrder.resize(rows);
  std::iota(s.rowOrder.begin(), s.rowOrder.end(), 0);
  std::stable_sort(s.rowOrder.begin(), s.rowOrder.end(),
                   [&](int64_t a, int64_t b) { return count[a] > count[b]; });
  s.slotOf.resize(rows);
  for (int64_t i = 0; i < rows; ++i)
    s.slotOf[s.rowOrder[i]] = i;
  s.sliceBlocks.push_back(0);
  s.blockColumns.push_back(0);
  // window start -> per lane, the (index, value) entries
  std::map<int64_t, std::vector<std::vector<std::pair<int32_t, float>>>> blocks;
  for (int64_t first = 0; first < rows; first += lanes) {
    blocks.clear();
    for (int64_t i = 0; i < lanes && first + i < rows; ++i)
      for (int64_t e = 0; e < entries; ++e) {
        float v = value(s.rowOrder[first + i], e);
        if (v == 0.0f)
          continue;
        int64_t at = offset(e), start = window ? at / window * window : 0;
        auto &lists = blocks[start];
        lists.resize(lanes);
        lists[i].push_back({static_cast<int32_t>(at - start), v});
        ++s.nonzeros;
      }
    for (auto &[start, lists] : blocks) {
      size_t columns = 0;
      for (auto &list : lists)
        columns = std::max(columns, list.size());
      for (size_t j = 0; j < columns; ++j)
        for (int64_t i = 0; i < lanes; ++i) {
          bool present = j < lists[i].size();
          s.indices.push_back(present ? lists[i][j].first : 0);
          s.values.push_back(present ? lists[i][j].second : 0.0f);
        }
      s.blockOffset.push_back(static_cast<int32_t>(start));
      s.blockColumns.push_back(static_cast<int32_t>(s.indices.size() / lanes));
    }
    s.sliceBlocks.push_back(static_cast<int32_t>(s.blockOffset.size()));
  }
  // No constant may be an empty tensor: one unused zero block.
  if (s.indices.empty()) {
    s.indices.assign(lanes, 0);
    s.values.assign(lanes, 0.0f);
  }
  if (s.blockOffset.empty())
    s.blockOffset.push_back(0);
  return s;
}

/// The vector width for slices of `rows` rows on a target of `maxLanes`:
/// maxLanes, or for fewer rows the smallest power of two (at least 4) that
/// holds them all.
int64_t sliceLanes(int64_t rows, int64_t maxLanes) {
  int64_t lanes = 4;
  while (lanes < rows && lanes < maxLanes)
    lanes *= 2;
  return lanes;
}

/// How each output position finds its inputs: P = oh * ow positions, the
/// one at (y, x) reading from base y*rowStep + x*colStep (fully connected
/// layers: one position at base 0).
struct Positions {
  int64_t oh = 1, ow = 1;
  int64_t rowStep = 0, colStep = 0;
};

double zeroFraction(const std::vector<float> &w) {
  if (w.empty())
    return 0.0;
  int64_t zeros = llvm::count(w, 0.0f);
  return static_cast<double>(zeros) / static_cast<double>(w.size());
}

template <typename T>
Value constant1D(OpBuilder &b, Location loc, Type elementType, const std::vector<T> &v,
                 StringRef name) {
  auto type = RankedTensorType::get({(int64_t)v.size()}, elementType);
  return strata::makeConstant<T>(b, loc, type, v, name);
}

/// The slices' constants in the IR.
struct SliceConstants {
  Value sliceBlocks, blockOffset, blockColumns, indices, values;
};

/// i32 element at `i` of a 1-D tensor, as an index.
Value indexAt(OpBuilder &b, Location loc, Value tensor, Value i) {
  Value v = b.create<tensor::ExtractOp>(loc, tensor, ValueRange{i});
  return b.create<arith::IndexCastOp>(loc, b.getIndexType(), v);
}

/// The kernels' inner loop: `acc` plus, for the columns [first, last) of a
/// block whose window starts at `window` in row `n` of x, values times the
/// inputs the indices pick.
using ColumnsBody = llvm::function_ref<Value(OpBuilder &, Location, Value n, Value window,
                                             Value first, Value last, Value acc)>;

/// Gather kernel: each column's inputs by one vector.gather (any target).
Value gatherColumns(OpBuilder &b, Location loc, Value x, const SliceConstants &k,
                    int64_t lanes, Value n, Value window, Value first, Value last, Value acc) {
  auto accType = VectorType::get({lanes}, b.getF32Type());
  auto indexType = VectorType::get({lanes}, b.getI32Type());
  auto maskType = VectorType::get({lanes}, b.getI1Type());
  Value allLanes = b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(maskType, true));
  Value zero = zeros(b, loc, accType);
  auto loop = b.create<scf::ForOp>(
      loc, first, last, index(b, loc, 1), ValueRange{acc},
      [&](OpBuilder &b, Location loc, Value j, ValueRange acc) {
        Value at = b.create<arith::MulIOp>(loc, j, index(b, loc, lanes));
        Value idx = b.create<vector::TransferReadOp>(loc, indexType, k.indices, ValueRange{at},
                                                     ArrayRef<bool>{true});
        Value w = b.create<vector::TransferReadOp>(loc, accType, k.values, ValueRange{at},
                                                   ArrayRef<bool>{true});
        Value in = b.create<vector::GatherOp>(loc, accType, x, ValueRange{n, window}, idx,
                                              allLanes, zero);
        b.create<scf::YieldOp>(loc, b.create<vector::FMAOp>(loc, w, in, acc[0]).getResult());
      });
  return loop.getResult(0);
}

/// result[i] = from[indices[i]], as the extract/insert chain LLVM's x86
/// backend turns into one variable permute (vpermi2ps for 32 f32 sources
/// on AVX-512; LowerBUILD_VECTORAsVariablePermute) and other targets into
/// what they have.
Value pickLanes(OpBuilder &b, Location loc, Value from, Value indices) {
  auto type = cast<VectorType>(indices.getType());
  auto resultType = VectorType::get(type.getShape(), b.getF32Type());
  SmallVector<Value> picked;
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    Value at = b.create<vector::ExtractElementOp>(
        loc, indices, b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(i)));
    picked.push_back(b.create<vector::ExtractElementOp>(loc, from, at));
  }
  return b.create<vector::FromElementsOp>(loc, resultType, picked);
}

/// Permute kernel (AVX-512): the block's kChunk inputs are loaded once into
/// two registers (zeros past the input's end), and each column picks its
/// lanes from them with vpermi2ps by 5-bit indices stored as bytes. On Zen 4
/// this runs LeNet-300-100's 92%-sparse first layer 4x faster than gathers:
/// the kernel is bound by reading its columns, so bytes per column count.
Value permuteColumns(OpBuilder &b, Location loc, Value x, const SliceConstants &k, Value n,
                     Value window, Value first, Value last, Value acc) {
  constexpr int64_t lanes = 16;
  auto accType = VectorType::get({lanes}, b.getF32Type());
  auto byteType = VectorType::get({lanes}, b.getI8Type());
  auto indexType = VectorType::get({lanes}, b.getI32Type());
  Value pad = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0.0f));
  auto chunk = [&](int64_t half) {
    return b.create<vector::TransferReadOp>(loc, accType, x,
                                            ValueRange{n, addIndex(b, loc, window, half)}, pad,
                                            ArrayRef<bool>{false});
  };
  SmallVector<int64_t> concat(2 * lanes);
  std::iota(concat.begin(), concat.end(), 0);
  Value both = b.create<vector::ShuffleOp>(loc, chunk(0), chunk(lanes), concat);
  Value bytePad = b.create<arith::ConstantOp>(loc, b.getI8IntegerAttr(0));
  auto loop = b.create<scf::ForOp>(
      loc, first, last, index(b, loc, 1), ValueRange{acc},
      [&](OpBuilder &b, Location loc, Value j, ValueRange acc) {
        Value at = b.create<arith::MulIOp>(loc, j, index(b, loc, lanes));
        Value bytes = b.create<vector::TransferReadOp>(loc, byteType, k.indices,
                                                       ValueRange{at}, bytePad,
                                                       ArrayRef<bool>{true});
        Value idx = b.create<arith::ExtUIOp>(loc, indexType, bytes);
        Value w = b.create<vector::TransferReadOp>(loc, accType, k.values, ValueRange{at},
                                                   ArrayRef<bool>{true});
        Value in = pickLanes(b, loc, both, idx);
        b.create<scf::YieldOp>(loc, b.create<vector::FMAOp>(loc, w, in, acc[0]).getResult());
      });
  return loop.getResult(0);
}

/// out[b, r, p] = flat[b, slotOf[r], p] (+ bias[r]): the kernel's rows in
/// the model's order.
Value rowsInOrder(PatternRewriter &rw, Location loc, Value flat, const SparseSlices &s,
                  int64_t rows, Value bias) {
  auto flatType = cast<RankedTensorType>(flat.getType());
  int64_t batch = flatType.getDimSize(0), positions = flatType.getDimSize(2);
  std::vector<int32_t> slots(s.slotOf.begin(), s.slotOf.end());
  Value slotOf = constant1D(rw, loc, rw.getI32Type(), slots, "sparse_row_slots");
  Value init = rw.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{batch, rows, positions},
                                          rw.getF32Type());
  MLIRContext *ctx = rw.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(3, ctx);
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(AffineMap::get(3, 0, {getAffineDimExpr(1, ctx)}, ctx));
  }
  maps.push_back(identity);
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  auto generic = rw.create<linalg::GenericOp>(
      loc, init.getType(), inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value n = b.create<linalg::IndexOp>(loc, 0), r = b.create<linalg::IndexOp>(loc, 1),
              p = b.create<linalg::IndexOp>(loc, 2);
        Value v = b.create<tensor::ExtractOp>(loc, flat,
                                              ValueRange{n, indexAt(b, loc, slotOf, r), p});
        if (bias)
          v = b.create<arith::AddFOp>(loc, v, args[0]);
        b.create<linalg::YieldOp>(loc, v);
      });
  return generic.getResult(0);
}

/// out[b, r, p] = bias[r] + sum over row r's entries of value * x[b, base(p) + offset]
/// for x of [batch, L] and `rows` rows; returns the [batch, rows, P] result.
/// Computed as [batch, slices, P, lanes], one work item per (batch row,
/// slice), then laid out.
Value buildSparseProduct(PatternRewriter &rw, Location loc, Value x, const SparseSlices &s,
                         bool permute, int64_t rows, Value bias, const Positions &pos,
                         StringRef name) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t batch = xType.getDimSize(0), lanes = s.lanes;
  int64_t positions = pos.oh * pos.ow;
  SliceConstants k;
  Type i32 = rw.getI32Type();
  k.sliceBlocks = constant1D(rw, loc, i32, s.sliceBlocks, (name + ".sparse_slices").str());
  k.blockOffset = constant1D(rw, loc, i32, s.blockOffset, (name + ".sparse_windows").str());
  k.blockColumns = constant1D(rw, loc, i32, s.blockColumns, (name + ".sparse_blocks").str());
  if (permute) {
    std::vector<int8_t> bytes(s.indices.begin(), s.indices.end());
    k.indices = constant1D(rw, loc, rw.getI8Type(), bytes, (name + ".sparse_indices").str());
  } else {
    k.indices = constant1D(rw, loc, i32, s.indices, (name + ".sparse_indices").str());
  }
  k.values = constant1D(rw, loc, rw.getF32Type(), s.values, (name + ".sparse_values").str());
  auto accType = VectorType::get({lanes}, rw.getF32Type());
  auto tiledType = RankedTensorType::get({batch, s.slices, positions, lanes}, rw.getF32Type());

  Value tiled = forEachItem(
      rw, loc, {batch, s.slices}, tiledType,
      [&](OpBuilder &b, Location loc, ValueRange ivs, Value out,
          SmallVectorImpl<OpFoldResult> &sliceOffsets, SmallVectorImpl<OpFoldResult> &sizes) {
        Value n = ivs[0], slice = ivs[1];
        sliceOffsets.assign({n, slice, b.getIndexAttr(0), b.getIndexAttr(0)});
        sizes.assign({b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(positions),
                      b.getIndexAttr(lanes)});
        Value tile = sliceOf(b, loc, out, sliceOffsets, sizes, {positions, lanes});
        Value firstBlock = indexAt(b, loc, k.sliceBlocks, slice);
        Value lastBlock = indexAt(b, loc, k.sliceBlocks, addIndex(b, loc, slice, 1));
        Value zero = zeros(b, loc, accType);
        auto overPositions = b.create<scf::ForOp>(
            loc, index(b, loc, 0), index(b, loc, positions), index(b, loc, 1),
            ValueRange{tile}, [&](OpBuilder &b, Location loc, Value p, ValueRange iter) {
              Value base = index(b, loc, 0);
              if (positions > 1) {
                Value y = b.create<arith::DivUIOp>(loc, p, index(b, loc, pos.ow));
                Value xx = b.create<arith::RemUIOp>(loc, p, index(b, loc, pos.ow));
                base = b.create<arith::AddIOp>(
                    loc, b.create<arith::MulIOp>(loc, y, index(b, loc, pos.rowStep)),
                    b.create<arith::MulIOp>(loc, xx, index(b, loc, pos.colStep)));
              }
              auto blocks = b.create<scf::ForOp>(
                  loc, firstBlock, lastBlock, index(b, loc, 1), ValueRange{zero},
                  [&](OpBuilder &b, Location loc, Value blk, ValueRange acc) {
                    Value window = b.create<arith::AddIOp>(
                        loc, base, indexAt(b, loc, k.blockOffset, blk));
                    Value first = indexAt(b, loc, k.blockColumns, blk);
                    Value last = indexAt(b, loc, k.blockColumns, addIndex(b, loc, blk, 1));
                    Value sum = permute ? permuteColumns(b, loc, x, k, n, window, first, last,
                                                         acc[0])
                                        : gatherColumns(b, loc, x, k, lanes, n, window, first,
                                                        last, acc[0]);
                    b.create<scf::YieldOp>(loc, sum);
                  });
              Value written = b.create<vector::TransferWriteOp>(
                                   loc, blocks.getResult(0), iter[0],
                                   ValueRange{p, index(b, loc, 0)}, ArrayRef<bool>{true})
                                  .getResult();
              b.create<scf::YieldOp>(loc, written);
            });
        return overPositions.getResult(0);
      });

  // [batch, slices, P, lanes] -> [batch, slices * lanes, P] -> the rows.
  // Marked as layout changes, so that --explain reports the kernel above.
  loc = reorderLoc(loc);
  auto flatType = RankedTensorType::get({batch, s.slices * lanes, positions}, rw.getF32Type());
  Value flat;
  if (positions > 1) {
    Value init = rw.create<tensor::EmptyOp>(
        loc, ArrayRef<int64_t>{batch, s.slices, lanes, positions}, rw.getF32Type());
    Value transposed =
        rw.create<linalg::TransposeOp>(loc, tiled, init, ArrayRef<int64_t>{0, 1, 3, 2})
            .getResult()[0];
    flat = rw.create<tensor::CollapseShapeOp>(loc, flatType, transposed,
                                              ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}});
  } else {
    // [batch, slices, 1, lanes] is already row order.
    Value rowsOnly = rw.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({batch, s.slices * lanes}, rw.getF32Type()), tiled,
        ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    flat = rw.create<tensor::ExpandShapeOp>(loc, flatType, rowsOnly,
                                            ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  }
  bool sorted = llvm::all_of(llvm::enumerate(s.rowOrder),
                             [](auto e) { return int64_t(e.index()) == e.value(); });
  if (!sorted || bias)
    return rowsInOrder(rw, loc, flat, s, rows, bias);
  if (s.slices * lanes == rows)
    return flat;
  SmallVector<OpFoldResult> zeroOffsets(3, rw.getIndexAttr(0)), ones(3, rw.getIndexAttr(1));
  SmallVector<OpFoldResult> sizes = {rw.getIndexAttr(batch), rw.getIndexAttr(rows),
                                     rw.getIndexAttr(positions)};
  return rw.create<tensor::ExtractSliceOp>(
      loc, RankedTensorType::get({batch, rows, positions}, rw.getF32Type()), flat, zeroOffsets,
      sizes, ones);
}

/// The name the sparse constants are given: the layer's ONNX node.
std::string weightName(Operation *op) {
  std::string name = nn::nodeNameOf(op->getLoc());
  return name.empty() ? "weight" : name;
}

void recordSparse(Operation *kernel, double sparsity, double minSparsity,
                  const SparseSlices &s, bool permute) {
  recordKernel(kernel,
               llvm::formatv("sparse weight (rows in slices of {0}, {1})", s.lanes,
                             permute ? "inputs permuted from 32-wide windows" : "gathered inputs")
                   .str(),
               minSparsity == 0.0
                   ? llvm::formatv("{0:P1} of the weight is zero (--sparse=on), {1} nonzeros",
                                   sparsity, s.nonzeros)
                         .str()
                   : llvm::formatv("{0:P1} of the weight is zero (sparse from {1:P0}), {2} "
                                   "nonzeros",
                                   sparsity, minSparsity, s.nonzeros)
                         .str());
}

/// The output rows of a [M, K] x weight product: gemm with its weight
/// transposed or not, matmul by a [K, N] constant.
struct FullyConnected {
  Value input, weight, bias;
  bool weightIsRows; ///< weight is [N, K] (gemm trans_b); else [K, N]
  float scale;       ///< alpha
};

/// A bias of one value per output row (C of [N] or [1, N]), or null when
/// there is none; fails for other C shapes.
FailureOr<Value> rowBias(PatternRewriter &rw, Location loc, Value c, int64_t rows, float beta) {
  if (!c)
    return Value();
  auto type = cast<RankedTensorType>(c.getType());
  if (!type.hasStaticShape() || type.getNumElements() != rows ||
      type.getDimSize(type.getRank() - 1) != rows || type.getRank() > 2 ||
      !type.getElementType().isF32())
    return failure();
  Value flat = c;
  if (type.getRank() == 2)
    flat = rw.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({rows}, type.getElementType()), c,
        ArrayRef<ReassociationIndices>{{0, 1}});
  if (beta == 1.0f)
    return flat;
  Value scale = rw.create<arith::ConstantOp>(loc, rw.getF32FloatAttr(beta));
  return rw.create<nn::MulOp>(
               loc, flat.getType(), flat,
               rw.create<tensor::FromElementsOp>(
                   loc, RankedTensorType::get({}, rw.getF32Type()), ValueRange{scale}))
      .getResult();
}

/// The scf.forall that computes `y` (under the layout ops after it, which
/// read it through the gather of rowsInOrder: any operand).
Operation *kernelOf(Value y) {
  SmallVector<Value> work = {y};
  while (!work.empty()) {
    Operation *op = work.pop_back_val().getDefiningOp();
    if (!op)
      continue;
    if (isa<scf::ForallOp>(op))
      return op;
    if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
      // The flat result it gathers from is captured by its body.
      generic.getBody()->walk([&](tensor::ExtractOp e) { work.push_back(e.getTensor()); });
    }
    for (Value v : op->getOperands())
      work.push_back(v);
  }
  return nullptr;
}

/// --sparse=auto's rule, measured on LeNet-300-100 (Zen 4, one thread;
/// bench/RESULTS.md "Sparse kernels"): the permute kernel beats the dense
/// matrix-vector product from ~50% zeros for one row and ~85% for 4, 16 or
/// 64 rows (the dense matmul reuses each weight across rows).
constexpr double kAutoSparsityOneRow = 0.6;
constexpr double kAutoSparsityRows = 0.85;

struct SparseLayer {
  bool force;    ///< every eligible weight (--sparse=on)
  int64_t lanes; ///< f32 lanes of the target's vector registers

  /// The fraction of zeros from which `op` computes sparse; above 1 when
  /// never, unless forced.
  double minSparsity(Operation *op, int64_t batchRows) const {
    if (force)
      return 0.0;
    // Measured slower at any sparsity: the gather kernel (Zen 4 gathers 16
    // floats in ~8 cycles) and convolutions (one pass over the slice per
    // output position).
    if (!permute() || isa<nn::ConvOp>(op))
      return 2.0;
    return batchRows == 1 ? kAutoSparsityOneRow : kAutoSparsityRows;
  }

  /// The permute kernel needs AVX-512 (16 lanes); other targets gather.
  bool permute() const { return lanes == 16; }

  /// `rows` rows of `entries` weights as slices for the kernel this target
  /// runs.
  SparseSlices slices(int64_t rows, int64_t entries,
                      llvm::function_ref<float(int64_t, int64_t)> value,
                      llvm::function_ref<int64_t(int64_t)> offset) const {
    if (permute())
      return buildSlices(rows, entries, 16, kChunk, value, offset);
    return buildSlices(rows, entries, sliceLanes(rows, lanes), 0, value, offset);
  }

  /// The weight's values when it is an f32 constant with at least
  /// `minSparsity` zeros.
  std::optional<std::vector<float>> sparseWeight(Value weight, double minSparsity,
                                                 double &sparsity) const {
    auto type = cast<RankedTensorType>(weight.getType());
    if (!type.hasStaticShape() || !strata::cpu::generatedKernelsTake(type.getElementType()))
      return std::nullopt;
    std::optional<std::vector<float>> w = strata::f32Values(weight);
    if (!w)
      return std::nullopt;
    sparsity = zeroFraction(*w);
    if (sparsity < minSparsity)
      return std::nullopt;
    return w;
  }

  LogicalResult rewriteFullyConnected(PatternRewriter &rw, Operation *op,
                                      const FullyConnected &fc, Value c, float beta) const {
    auto in = cast<RankedTensorType>(fc.input.getType());
    auto out = cast<RankedTensorType>(op->getResult(0).getType());
    auto wType = cast<RankedTensorType>(fc.weight.getType());
    if (in.getRank() != 2 || !in.hasStaticShape() || wType.getRank() != 2 ||
        !generatedKernelsTake(in.getElementType()) || !out.getElementType().isF32())
      return rw.notifyMatchFailure(op, "not a static 2-D f32 product");
    double sparsity = 0.0;
    double threshold = minSparsity(op, in.getDimSize(0));
    std::optional<std::vector<float>> w = sparseWeight(fc.weight, threshold, sparsity);
    if (!w)
      return rw.notifyMatchFailure(op, "weight not a sparse enough constant");
    int64_t rows = out.getDimSize(1), k = in.getDimSize(1);
    FailureOr<Value> bias = rowBias(rw, op->getLoc(), c, rows, beta);
    if (failed(bias))
      return rw.notifyMatchFailure(op, "C is not one value per output");
    const std::vector<float> &values = *w;
    SparseSlices s = slices(
        rows, k,
        [&](int64_t r, int64_t e) {
          return fc.scale * (fc.weightIsRows ? values[r * k + e] : values[e * rows + r]);
        },
        [](int64_t e) { return e; });
    Location loc = op->getLoc();
    Value y = buildSparseProduct(rw, loc, fc.input, s, permute(), rows, *bias, Positions{},
                                 weightName(op));
    recordSparse(kernelOf(y), sparsity, threshold, s, permute());
    rw.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, out, y,
                                                   ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    return success();
  }
};

struct SparseGemm : OpRewritePattern<nn::GemmOp> {
  SparseGemm(MLIRContext *ctx, SparseLayer layer) : OpRewritePattern(ctx), layer(layer) {}
  SparseLayer layer;

  LogicalResult matchAndRewrite(nn::GemmOp op, PatternRewriter &rw) const override {
    if (op.getTransA())
      return rw.notifyMatchFailure(op, "A transposed");
    FullyConnected fc{op.getA(), op.getB(), Value(), op.getTransB(),
                      op.getAlpha().convertToFloat()};
    return layer.rewriteFullyConnected(rw, op, fc, op.getC(), op.getBeta().convertToFloat());
  }
};

struct SparseMatMul : OpRewritePattern<nn::MatMulOp> {
  SparseMatMul(MLIRContext *ctx, SparseLayer layer) : OpRewritePattern(ctx), layer(layer) {}
  SparseLayer layer;

  LogicalResult matchAndRewrite(nn::MatMulOp op, PatternRewriter &rw) const override {
    FullyConnected fc{op.getLhs(), op.getRhs(), Value(), /*weightIsRows=*/false, 1.0f};
    return layer.rewriteFullyConnected(rw, op, fc, Value(), 1.0f);
  }
};

struct SparseConv : OpRewritePattern<nn::ConvOp> {
  SparseConv(MLIRContext *ctx, SparseLayer layer) : OpRewritePattern(ctx), layer(layer) {}
  SparseLayer layer;

  LogicalResult matchAndRewrite(nn::ConvOp op, PatternRewriter &rw) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    auto wType = cast<RankedTensorType>(op.getWeight().getType());
    if (in.getRank() != 4 || !in.hasStaticShape() || op.getGroup() != 1 ||
        wType.getRank() != 4 || wType.getDimSize(1) != in.getDimSize(1) ||
        !generatedKernelsTake(in.getElementType()) || !out.hasStaticShape())
      return rw.notifyMatchFailure(op, "not a static 2-D f32 convolution of group 1");
    ArrayRef<int64_t> pads = op.getPads(), strides = op.getStrides(),
                      dilations = op.getDilations();
    if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
      return rw.notifyMatchFailure(op, "negative padding");
    Value bias = op.getBias();
    if (bias && !cast<RankedTensorType>(bias.getType()).getElementType().isF32())
      return rw.notifyMatchFailure(op, "bias not f32");
    double sparsity = 0.0;
    double threshold = layer.minSparsity(op, in.getDimSize(0));
    std::optional<std::vector<float>> w = layer.sparseWeight(op.getWeight(), threshold, sparsity);
    if (!w)
      return rw.notifyMatchFailure(op, "weight not a sparse enough constant");
    Location loc = op.getLoc();
    Value x = strata::lowering::padWith(rw, loc, op.getInput(), {0, 0, pads[0], pads[1]},
                                        {0, 0, pads[2], pads[3]}, 0.0);
    auto padded = cast<RankedTensorType>(x.getType());
    int64_t c = padded.getDimSize(1), hp = padded.getDimSize(2), wp = padded.getDimSize(3);
    int64_t kh = wType.getDimSize(2), kw = wType.getDimSize(3);
    int64_t taps = c * kh * kw;
    // Offsets are 32-bit.
    if (c * hp * wp >= (int64_t(1) << 31))
      return rw.notifyMatchFailure(op, "input image too large for 32-bit offsets");
    Value flat = rw.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({padded.getDimSize(0), c * hp * wp}, padded.getElementType()),
        x, ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    const std::vector<float> &values = *w;
    int64_t rows = out.getDimSize(1);
    SparseSlices s = layer.slices(
        rows, taps,
        [&](int64_t r, int64_t e) { return values[r * taps + e]; },
        [&](int64_t e) {
          int64_t ch = e / (kh * kw), ky = e / kw % kh, kx = e % kw;
          return ch * hp * wp + ky * dilations[0] * wp + kx * dilations[1];
        });
    Positions pos{out.getDimSize(2), out.getDimSize(3), strides[0] * wp, strides[1]};
    Value y = buildSparseProduct(rw, loc, flat, s, layer.permute(), rows, bias, pos,
                                 weightName(op));
    recordSparse(kernelOf(y), sparsity, threshold, s, layer.permute());
    rw.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, out, y,
                                                 ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }
};

struct SparseWeightsPass : strata::impl::SparseWeightsBase<SparseWeightsPass> {
  using SparseWeightsBase::SparseWeightsBase;

  void runOnOperation() override {
    SparseLayer layer{force, std::max<int64_t>(vectorBits / 32, 4)};
    RewritePatternSet patterns(&getContext());
    patterns.add<SparseGemm, SparseMatMul, SparseConv>(&getContext(), layer);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
