//===- RecurrentOps.cpp - import RNN, GRU and LSTM ------------------------===//
//
// ONNX's recurrent layers are imported as the nn ops of their equations,
// unrolled over the (static) sequence: the input projection of every time
// step is one matmul up front ([T*B, I] x [I, G*H], all gates at once), and
// each step adds one matmul of the previous hidden state by all gates'
// recurrent weights ([B, H] x [H, G*H]), then slices the gates apart. No new
// nn op: autodiff, fusion and the kernel choice handle the pieces as they
// handle any graph, so `strata train` trains these layers too. The cost is
// IR that grows with the sequence length (a few dozen ops per step).
//
// sequence_lens masks steps t >= len[b]: the state is kept and Y is zero
// there, which for the reverse direction also starts each sequence at its
// own last element, as ONNX defines.
//
//===----------------------------------------------------------------------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/ops/Composites.h"
#include "dialects/nn/NNOps.h"

using namespace mlir;

namespace strata::onnx_import {
namespace {
using namespace composite;

enum class Cell { Rnn, Gru, Lstm };

int gateCount(Cell c) { return c == Cell::Rnn ? 1 : c == Cell::Gru ? 3 : 4; }

/// One activation function of the `activations` attribute, with its
/// alpha/beta (ONNX's defaults where the attribute gives none).
struct Activation {
  std::string name;
  std::optional<float> alpha, beta;
};

Value activate(NodeContext &n, const Activation &a, Value x) {
  Type t = typeOf(x).getElementType();
  auto alpha = [&](float d) { return a.alpha.value_or(d); };
  auto beta = [&](float d) { return a.beta.value_or(d); };
  const std::string &f = a.name;
  if (f == "Sigmoid")
    return unary<nn::SigmoidOp>(n, x);
  if (f == "Tanh")
    return unary<nn::TanhOp>(n, x);
  if (f == "Relu")
    return unary<nn::ReluOp>(n, x);
  if (f == "Affine")
    return binary<nn::AddOp>(n, binary<nn::MulOp>(n, x, scalar(n, t, alpha(1))),
                             scalar(n, t, beta(0)));
  if (f == "LeakyRelu") {
    OpBuilder &b = n.builder();
    return b.create<nn::LeakyReluOp>(n.loc(), typeOf(x), x, b.getF32FloatAttr(alpha(0.01f)));
  }
  if (f == "ThresholdedRelu")
    return where(n, compare(n, nn::ComparePredicate::gt, x, scalar(n, t, alpha(1))), x,
                 scalar(n, t, 0.0));
  if (f == "ScaledTanh")
    return binary<nn::MulOp>(
        n, unary<nn::TanhOp>(n, binary<nn::MulOp>(n, x, scalar(n, t, beta(1)))),
        scalar(n, t, alpha(1)));
  if (f == "HardSigmoid")
    return hardSigmoid(n, x, alpha(0.2f), beta(0.5f));
  if (f == "Elu")
    return elu(n, x, alpha(1));
  if (f == "Softsign")
    return binary<nn::DivOp>(n, x, binary<nn::AddOp>(n, unary<nn::AbsOp>(n, x), scalar(n, t, 1)));
  if (f == "Softplus")
    return unary<nn::LogOp>(n, binary<nn::AddOp>(n, unary<nn::ExpOp>(n, x), scalar(n, t, 1)));
  n.fail("activation '" + f + "' is not one ONNX allows for recurrent layers");
}

/// x[start:end] along `axis`.
Value sliceAxis(NodeContext &n, Value x, int64_t axis, int64_t start, int64_t end) {
  auto t = typeOf(x);
  SmallVector<int64_t> starts(t.getRank(), 0), ends(t.getShape()), steps(t.getRank(), 1),
      shape(t.getShape());
  starts[axis] = start;
  ends[axis] = end;
  shape[axis] = end - start;
  OpBuilder &b = n.builder();
  return b.create<nn::SliceOp>(n.loc(), RankedTensorType::get(shape, t.getElementType()), x,
                               b.getDenseI64ArrayAttr(starts), b.getDenseI64ArrayAttr(ends),
                               b.getDenseI64ArrayAttr(steps));
}

Value reshape(NodeContext &n, Value x, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
  return x.getType() == type ? x : n.builder().create<nn::ReshapeOp>(n.loc(), type, x).getResult();
}

/// [M, K] x [K, N]
Value matmul(NodeContext &n, Value a, Value b) {
  auto type = RankedTensorType::get({typeOf(a).getDimSize(0), typeOf(b).getDimSize(1)},
                                    typeOf(a).getElementType());
  return n.builder().create<nn::MatMulOp>(n.loc(), type, a, b);
}

Value transpose2d(NodeContext &n, Value x) {
  auto t = typeOf(x);
  OpBuilder &b = n.builder();
  return b.create<nn::TransposeOp>(
      n.loc(), RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)}, t.getElementType()), x,
      b.getDenseI64ArrayAttr({1, 0}));
}

Value concat(NodeContext &n, ArrayRef<Value> parts, int64_t axis) {
  if (parts.size() == 1)
    return parts[0];
  SmallVector<int64_t> shape(typeOf(parts[0]).getShape());
  shape[axis] = 0;
  for (Value p : parts)
    shape[axis] += typeOf(p).getDimSize(axis);
  OpBuilder &b = n.builder();
  return b.create<nn::ConcatOp>(n.loc(), RankedTensorType::get(shape, typeOf(parts[0]).getElementType()),
                                parts, b.getI64IntegerAttr(axis));
}

/// Everything one direction's steps read.
struct Direction {
  Value inputGates;   // [T, B, G*H]: X W^T + Wb
  Value recurrentT;   // [H, G*H]: R^T
  Value recurrentBias; // [G*H] or null
  Value peepholes;    // [3H] (LSTM: i, o, f) or null
  Value h, c;         // the state, [B, H]
  std::vector<Activation> activations;
  bool reverse = false;
};

struct Layer {
  Cell cell;
  int64_t steps, batch, hidden, gates;
  std::optional<float> clip;
  bool linearBeforeReset = false, inputForget = false;
  Value seqMask(NodeContext &n, int64_t t) const;
  Value sequenceLens; // [B] i32 or null
};

/// [B, 1] i1: whether step t is inside each batch entry's sequence.
Value Layer::seqMask(NodeContext &n, int64_t t) const {
  Type it = typeOf(sequenceLens).getElementType();
  Value inside = compare(n, nn::ComparePredicate::lt, scalar(n, it, (double)t), sequenceLens);
  return reshape(n, inside, {batch, 1});
}

Value clipped(NodeContext &n, const Layer &l, Value x) {
  if (!l.clip)
    return x;
  OpBuilder &b = n.builder();
  return b.create<nn::ClipOp>(n.loc(), typeOf(x), x, b.getF64FloatAttr(-*l.clip),
                              b.getF64FloatAttr(*l.clip));
}

/// Runs one direction over the sequence; returns Y's steps ([B, H] each, in
/// time order) and leaves the final state in `d`.
std::vector<Value> runDirection(NodeContext &n, const Layer &l, Direction &d) {
  int64_t H = l.hidden, B = l.batch;
  Type et = typeOf(d.h).getElementType();
  std::vector<Value> outputs(l.steps);
  auto gate = [&](Value all, int64_t g) { return sliceAxis(n, all, 1, g * H, (g + 1) * H); };
  for (int64_t s = 0; s < l.steps; ++s) {
    int64_t t = d.reverse ? l.steps - 1 - s : s;
    Value xg = reshape(n, sliceAxis(n, d.inputGates, 0, t, t + 1), {B, l.gates * H});
    Value hr = matmul(n, d.h, d.recurrentT);
    if (d.recurrentBias)
      hr = binary<nn::AddOp>(n, hr, d.recurrentBias);
    Value h, c;
    const auto &act = d.activations;
    if (l.cell == Cell::Rnn) {
      h = activate(n, act[0], clipped(n, l, binary<nn::AddOp>(n, xg, hr)));
    } else if (l.cell == Cell::Gru) {
      // Gates z, r, h.
      Value z = activate(n, act[0], clipped(n, l, binary<nn::AddOp>(n, gate(xg, 0), gate(hr, 0))));
      Value r = activate(n, act[0], clipped(n, l, binary<nn::AddOp>(n, gate(xg, 1), gate(hr, 1))));
      Value candidate;
      if (l.linearBeforeReset) {
        candidate = binary<nn::AddOp>(n, gate(xg, 2), binary<nn::MulOp>(n, r, gate(hr, 2)));
      } else {
        // (r . H) R_h^T + Rb_h: the reset applies before the product.
        Value rh = matmul(n, binary<nn::MulOp>(n, r, d.h), sliceAxis(n, d.recurrentT, 1, 2 * H, 3 * H));
        if (d.recurrentBias)
          rh = binary<nn::AddOp>(n, rh, sliceAxis(n, d.recurrentBias, 0, 2 * H, 3 * H));
        candidate = binary<nn::AddOp>(n, gate(xg, 2), rh);
      }
      Value hh = activate(n, act[1], clipped(n, l, candidate));
      // (1 - z) . hh + z . H = hh + z . (H - hh)
      h = binary<nn::AddOp>(n, hh, binary<nn::MulOp>(n, z, binary<nn::SubOp>(n, d.h, hh)));
    } else {
      // Gates i, o, f, c; peepholes i, o, f.
      Value all = binary<nn::AddOp>(n, xg, hr);
      auto peep = [&](Value pre, int64_t k, Value state) {
        if (!d.peepholes)
          return pre;
        return binary<nn::AddOp>(n, pre, binary<nn::MulOp>(n, sliceAxis(n, d.peepholes, 0, k * H, (k + 1) * H), state));
      };
      Value i = activate(n, act[0], clipped(n, l, peep(gate(all, 0), 0, d.c)));
      Value f = l.inputForget
                    ? binary<nn::SubOp>(n, scalar(n, et, 1.0), i)
                    : activate(n, act[0], clipped(n, l, peep(gate(all, 2), 2, d.c)));
      Value cc = activate(n, act[1], clipped(n, l, gate(all, 3)));
      c = binary<nn::AddOp>(n, binary<nn::MulOp>(n, f, d.c), binary<nn::MulOp>(n, i, cc));
      Value o = activate(n, act[0], clipped(n, l, peep(gate(all, 1), 1, c)));
      h = binary<nn::MulOp>(n, o, activate(n, act[2], c));
    }
    if (l.sequenceLens) {
      Value inside = l.seqMask(n, t);
      outputs[t] = where(n, inside, h, scalar(n, et, 0.0));
      h = where(n, inside, h, d.h);
      if (c)
        c = where(n, inside, c, d.c);
    } else {
      outputs[t] = h;
    }
    d.h = h;
    if (c)
      d.c = c;
  }
  return outputs;
}

void importRecurrent(NodeContext &n, Cell cell) {
  const char *op = cell == Cell::Rnn ? "RNN" : cell == Cell::Gru ? "GRU" : "LSTM";
  int64_t layout = n.opset() >= 14 ? n.attrInt("layout", 0) : 0;
  if (layout != 0 && layout != 1)
    n.fail("layout must be 0 or 1");
  Value x = n.input(0);
  auto xt = typeOf(x);
  if (xt.getRank() != 3 || !xt.hasStaticShape())
    n.fail(std::string(op) + " needs a 3-D input of static shape (compile with --batch=N)");
  if (layout == 1) { // [B, T, I] -> [T, B, I]
    OpBuilder &b = n.builder();
    x = b.create<nn::TransposeOp>(
        n.loc(), RankedTensorType::get({xt.getDimSize(1), xt.getDimSize(0), xt.getDimSize(2)}, xt.getElementType()),
        x, b.getDenseI64ArrayAttr({1, 0, 2}));
    xt = typeOf(x);
  }
  Type et = xt.getElementType();
  if (!isa<FloatType>(et))
    n.fail(std::string(op) + " needs a floating-point input");
  Layer l;
  l.cell = cell;
  l.steps = xt.getDimSize(0);
  l.batch = xt.getDimSize(1);
  l.gates = gateCount(cell);
  int64_t inputSize = xt.getDimSize(2);

  std::string direction = n.attrString("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    n.fail("direction '" + direction + "' is not forward, reverse or bidirectional");
  int64_t dirs = direction == "bidirectional" ? 2 : 1;

  Value w = n.input(1), r = n.input(2);
  auto rt = typeOf(r);
  if (rt.getRank() != 3)
    n.fail("R must be 3-D");
  l.hidden = n.attrInt("hidden_size", rt.getDimSize(2));
  int64_t H = l.hidden, G = l.gates;
  auto expectShape = [&](Value v, ArrayRef<int64_t> shape, const char *what) {
    if (typeOf(v).getShape() != shape) {
      std::string want;
      for (int64_t d : shape)
        want += (want.empty() ? "" : "x") + std::to_string(d);
      n.fail(std::string(what) + " must be " + want);
    }
  };
  expectShape(w, {dirs, G * H, inputSize}, "W");
  expectShape(r, {dirs, G * H, H}, "R");
  if (n.hasAttr("clip"))
    l.clip = n.attrFloat("clip", 0);
  if (cell == Cell::Gru)
    l.linearBeforeReset = n.attrInt("linear_before_reset", 0) != 0;
  if (cell == Cell::Lstm)
    l.inputForget = n.attrInt("input_forget", 0) != 0;

  std::vector<std::string> names = n.attrStrings("activations");
  std::vector<float> alphas = n.attrFloats("activation_alpha"),
                     betas = n.attrFloats("activation_beta");
  size_t perDirection = cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 2 : 3;
  if (names.empty()) {
    const char *defaults[] = {cell == Cell::Rnn ? "Tanh" : "Sigmoid", "Tanh", "Tanh"};
    for (int64_t d = 0; d < dirs; ++d)
      names.insert(names.end(), defaults, defaults + perDirection);
  }
  if (names.size() != perDirection * dirs)
    n.fail("activations lists " + std::to_string(names.size()) + " functions; " + op +
           " needs " + std::to_string(perDirection * dirs));

  if (n.hasInput(4)) {
    l.sequenceLens = n.input(4);
    if (typeOf(l.sequenceLens).getShape() != ArrayRef<int64_t>{l.batch})
      n.fail("sequence_lens must have one entry per batch element");
  }
  int hIndex = 5, cIndex = 6, pIndex = 7;
  auto state = [&](int index, const char *what) -> Value {
    if (!n.hasInput(index))
      return {};
    Value v = n.input(index);
    if (layout == 1) { // [B, D, H] -> [D, B, H]
      OpBuilder &b = n.builder();
      auto t = typeOf(v);
      if (t.getRank() == 3)
        v = b.create<nn::TransposeOp>(
            n.loc(), RankedTensorType::get({t.getDimSize(1), t.getDimSize(0), t.getDimSize(2)}, et), v,
            b.getDenseI64ArrayAttr({1, 0, 2}));
    }
    expectShape(v, {dirs, l.batch, H}, what);
    return v;
  };
  Value initialH = state(hIndex, "initial_h");
  Value initialC = cell == Cell::Lstm ? state(cIndex, "initial_c") : Value();
  Value peepholes;
  if (cell == Cell::Lstm && n.hasInput(pIndex)) {
    peepholes = n.input(pIndex);
    expectShape(peepholes, {dirs, 3 * H}, "P");
  }
  Value bias;
  if (n.hasInput(3)) {
    bias = n.input(3);
    expectShape(bias, {dirs, 2 * G * H}, "B");
  }

  std::vector<Value> ys, finalH, finalC;
  Value zeros;
  for (int64_t dir = 0; dir < dirs; ++dir) {
    Direction d;
    d.reverse = direction == "reverse" || dir == 1;
    for (size_t k = 0; k < perDirection; ++k) {
      Activation a{names[dir * perDirection + k], std::nullopt, std::nullopt};
      size_t index = dir * perDirection + k;
      if (index < alphas.size())
        a.alpha = alphas[index];
      if (index < betas.size())
        a.beta = betas[index];
      d.activations.push_back(a);
    }
    Value wT = transpose2d(n, reshape(n, sliceAxis(n, w, 0, dir, dir + 1), {G * H, inputSize}));
    d.recurrentT = transpose2d(n, reshape(n, sliceAxis(n, r, 0, dir, dir + 1), {G * H, H}));
    Value xw = matmul(n, reshape(n, x, {l.steps * l.batch, inputSize}), wT);
    if (bias) {
      Value b = reshape(n, sliceAxis(n, bias, 0, dir, dir + 1), {2 * G * H});
      xw = binary<nn::AddOp>(n, xw, sliceAxis(n, b, 0, 0, G * H));
      d.recurrentBias = sliceAxis(n, b, 0, G * H, 2 * G * H);
    }
    d.inputGates = reshape(n, xw, {l.steps, l.batch, G * H});
    if (peepholes)
      d.peepholes = reshape(n, sliceAxis(n, peepholes, 0, dir, dir + 1), {3 * H});
    auto initial = [&](Value v) {
      if (v)
        return reshape(n, sliceAxis(n, v, 0, dir, dir + 1), {l.batch, H});
      if (!zeros)
        zeros = n.builder().create<nn::ConstantOp>(
            n.loc(), DenseElementsAttr::get(RankedTensorType::get({l.batch, H}, et),
                                            n.builder().getFloatAttr(et, 0.0)));
      return zeros;
    };
    d.h = initial(initialH);
    if (cell == Cell::Lstm)
      d.c = initial(initialC);
    std::vector<Value> steps = runDirection(n, l, d);
    for (Value &s : steps)
      s = reshape(n, s, {1, 1, l.batch, H});
    ys.push_back(concat(n, steps, 0)); // [T, 1, B, H]
    finalH.push_back(reshape(n, d.h, {1, l.batch, H}));
    if (d.c)
      finalC.push_back(reshape(n, d.c, {1, l.batch, H}));
  }

  auto toLayout = [&](Value v, ArrayRef<int64_t> perm) -> Value {
    if (layout == 0)
      return v;
    auto t = typeOf(v);
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(t.getDimSize(p));
    OpBuilder &b = n.builder();
    return b.create<nn::TransposeOp>(n.loc(), RankedTensorType::get(shape, et), v,
                                     b.getDenseI64ArrayAttr(perm));
  };
  auto result = [&](int i, Value v) {
    if (i < n.proto().output_size() && !n.proto().output(i).empty()) {
      if (v.getType() != n.resultType(i))
        n.fail("output #" + std::to_string(i) + " does not have the inferred type");
      n.setResult(i, v);
    }
  };
  result(0, toLayout(concat(n, ys, 1), {2, 0, 1, 3})); // [B, T, D, H] for layout 1
  result(1, toLayout(concat(n, finalH, 0), {1, 0, 2}));
  if (cell == Cell::Lstm)
    result(2, toLayout(concat(n, finalC, 0), {1, 0, 2}));
}

} // namespace

void registerRecurrentImporters(OpTable &t) {
  t.add("RNN", 7, [](NodeContext &n) { importRecurrent(n, Cell::Rnn); });
  t.add("GRU", 7, [](NodeContext &n) { importRecurrent(n, Cell::Gru); });
  t.add("LSTM", 7, [](NodeContext &n) { importRecurrent(n, Cell::Lstm); });
}

} // namespace strata::onnx_import
