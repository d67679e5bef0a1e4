//===- TrainingStep.cpp - a compiled training step from a forward graph ---===//

#include "passes/train/TrainingStep.h"
#include "passes/compress/Pruning.h"
#include "passes/graph/ConstantValues.h"
#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/NNOps.h"
#include "passes/train/Autodiff.h"
#include "passes/train/SharedParameters.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/GlobPattern.h"

#include <cstring>

using namespace mlir;

namespace strata::train {
namespace {

constexpr const char *kInitializerAttr = "onnx.initializer";

bool parseNumber(llvm::StringRef text, double &out) {
  return !text.trim().getAsDouble(out);
}

std::vector<int64_t> shapeOf(Type t) {
  auto r = cast<RankedTensorType>(t);
  return {r.getShape().begin(), r.getShape().end()};
}

/// Running statistics of a batch norm are not trained by gradients.
bool isNormStatistic(Value v) {
  for (OpOperand &use : v.getUses())
    if (isa<nn::BatchNormOp>(use.getOwner()) && use.getOperandNumber() >= 3)
      return true;
  return false;
}

/// A quantization scale, read by nn.fake_quantize (perhaps through
/// reshapes): learned without weight decay, and kept positive.
bool isQuantizationScale(Value v) {
  for (Operation *user : v.getUsers()) {
    if (auto r = dyn_cast<nn::ReshapeOp>(user); r && isQuantizationScale(r.getResult()))
      return true;
    if (auto fq = dyn_cast<nn::FakeQuantizeOp>(user); fq && fq.getScale() == v)
      return true;
  }
  return false;
}

struct Parameter {
  std::string name;
  nn::ConstantOp constant;
};

/// Replaces each parameter's constant with a new leading argument of @main.
SmallVector<Value> liftToArguments(func::FuncOp main, ArrayRef<Parameter> params) {
  SmallVector<Value> args;
  OpBuilder b(main.getContext());
  for (auto [i, p] : llvm::enumerate(params)) {
    nn::ConstantOp c = p.constant;
    auto attrs = b.getDictionaryAttr(
        {b.getNamedAttr("onnx.name", b.getStringAttr(p.name))});
    main.insertArgument(i, c.getType(), attrs, c.getLoc());
    Value arg = main.getArgument(i);
    c.getResult().replaceAllUsesWith(arg);
    c->erase();
    args.push_back(arg);
  }
  return args;
}

/// The parameters of @main by name, in order of appearance.
SmallVector<Parameter> parametersOf(func::FuncOp main, ArrayRef<std::string> names) {
  SmallVector<Parameter> out;
  for (const std::string &n : names)
    for (auto c : main.getOps<nn::ConstantOp>())
      if (auto a = c->getAttrOfType<StringAttr>(kInitializerAttr); a && a.getValue() == n) {
        out.push_back({n, c});
        break;
      }
  return out;
}

/// loss = sum(mask * per_sample) / sum(mask).
Value buildLoss(nn::NNBuilder &b, LossKind kind, Value prediction, Value labels,
                Value mask) {
  auto pt = nn::NNBuilder::typeOf(prediction);
  Type f32 = pt.getElementType();
  int64_t batch = pt.getDimSize(0);
  Value perSample;
  if (kind == LossKind::CrossEntropy) {
    // -log_softmax(x)[label] as a one-hot product, so that only ops with
    // gradient rules are on the path.
    int64_t classes = pt.getDimSize(1);
    Value logp = b.builder().create<nn::LogSoftmaxOp>(b.location(), pt, prediction,
                                                      b.builder().getI64IntegerAttr(1));
    SmallVector<int64_t> iota;
    for (int64_t c = 0; c < classes; ++c)
      iota.push_back(c);
    auto iotaType = RankedTensorType::get({classes}, b.builder().getI64Type());
    Value classIds = b.builder().create<nn::ConstantOp>(
        b.location(), DenseElementsAttr::get(iotaType, ArrayRef<int64_t>(iota)));
    Value oneHot = b.cast(b.compare(nn::ComparePredicate::eq,
                                    b.reshape(labels, {batch, 1}), classIds),
                          f32);
    perSample = b.neg(b.reduce(nn::ReduceKind::sum, b.mul(logp, oneHot), {1}, false));
  } else {
    Value d = b.sub(prediction, labels);
    SmallVector<int64_t> axes;
    for (int64_t i = 1; i < pt.getRank(); ++i)
      axes.push_back(i);
    perSample = b.mul(d, d);
    if (!axes.empty())
      perSample = b.reduce(nn::ReduceKind::mean, perSample, axes, false);
  }
  Value total = b.reduce(nn::ReduceKind::sum, b.mul(perSample, mask), {0}, false);
  Value count = b.reduce(nn::ReduceKind::sum, mask, {0}, false);
  return b.div(total, count);
}

/// Training-mode batch normalization: every nn.batch_norm whose statistics
/// are among `stats` normalizes with the statistics of the batch's real
/// samples (`mask`) instead, and the running statistics move towards them
/// (ONNX's default momentum 0.9; the running variance is the unbiased one,
/// as PyTorch keeps it). Returns the new value of each statistic.
llvm::DenseMap<Value, Value> useBatchStatistics(func::FuncOp main, ArrayRef<Value> stats,
                                                Value mask) {
  llvm::DenseMap<Value, Value> updated;
  llvm::DenseSet<Value> isStat(stats.begin(), stats.end());
  SmallVector<nn::BatchNormOp> norms;
  main.walk([&](nn::BatchNormOp bn) {
    if (isStat.contains(bn.getMean()) && isStat.contains(bn.getVariance()))
      norms.push_back(bn);
  });
  constexpr double kMomentum = 0.9;
  for (nn::BatchNormOp bn : norms) {
    OpBuilder builder(bn);
    nn::NNBuilder b(builder, bn.getLoc());
    Value x = bn.getInput();
    auto xt = nn::NNBuilder::typeOf(x);
    Type et = xt.getElementType();
    SmallVector<int64_t> perChannel(xt.getRank(), 1), perSample(xt.getRank(), 1), axes{0};
    perChannel[1] = xt.getDimSize(1);
    perSample[0] = xt.getDimSize(0);
    int64_t spatial = 1;
    for (int64_t i = 2; i < xt.getRank(); ++i) {
      axes.push_back(i);
      spatial *= xt.getDimSize(i);
    }
    auto channelSum = [&](Value v) {
      return b.reduce(nn::ReduceKind::sum, v, axes, /*keepDims=*/false);
    };
    Value m = b.reshape(mask, perSample);
    Value count = b.mulScalar(b.reduce(nn::ReduceKind::sum, mask, {0}, false), (double)spatial);
    Value mean = b.div(channelSum(b.mul(x, m)), count);
    Value centered = b.sub(x, b.reshape(mean, perChannel));
    Value var = b.div(channelSum(b.mul(b.mul(centered, centered), m)), count);
    Value scale = b.div(bn.getScale(),
                        b.sqrt(b.add(var, b.scalar(et, bn.getEpsilon().convertToDouble()))));
    Value y = b.add(b.mul(centered, b.reshape(scale, perChannel)),
                    b.reshape(bn.getBias(), perChannel));
    bn.getOutput().replaceAllUsesWith(y);
    Value one = b.scalar(et, 1.0);
    Value unbiased = b.mul(var, b.div(count, b.max(b.sub(count, one), one)));
    updated[bn.getMean()] =
        b.add(b.mulScalar(bn.getMean(), kMomentum), b.mulScalar(mean, 1.0 - kMomentum));
    updated[bn.getVariance()] = b.add(b.mulScalar(bn.getVariance(), kMomentum),
                                      b.mulScalar(unbiased, 1.0 - kMomentum));
    bn->erase();
  }
  // A statistic no training-mode norm read keeps its value.
  for (Value s : stats)
    if (!updated.count(s))
      updated[s] = s;
  return updated;
}

/// Appends the optimizer's update of every parameter; its state tensors
/// become arguments after the parameters (recorded in `layout.state`, zeros
/// initially). Returns the new parameters; `newState` gets the new state.
SmallVector<Value> appendOptimizer(nn::NNBuilder &b, func::FuncOp main,
                                   const OptimizerConfig &opt, ArrayRef<Value> args,
                                   ArrayRef<Value> grads, ArrayRef<Value> masks,
                                   ArrayRef<Parameter> params,
                                   int64_t stateIndex, TrainingLayout &layout,
                                   SmallVectorImpl<Value> &newState) {
  OpBuilder ob(main.getContext());
  Location loc = main.getLoc();
  Type f32 = ob.getF32Type();
  SmallVector<Value> newParams;
  auto addState = [&](const std::string &name, Type type) {
    main.insertArgument(stateIndex, type,
                        ob.getDictionaryAttr({ob.getNamedAttr("onnx.name", ob.getStringAttr(name))}),
                        loc);
    TensorSlot slot{name, shapeOf(type), {}};
    int64_t n = 1;
    for (int64_t d : slot.shape)
      n *= d;
    slot.initial.assign(n, 0.0f);
    layout.state.push_back(slot);
    return main.getArgument(stateIndex++);
  };
  Value step, beta1Power, beta2Power;
  if (opt.kind == OptimizerConfig::Adam) {
    Value t = addState("adam.step", RankedTensorType::get({}, f32));
    step = b.add(t, b.scalar(f32, 1.0));
    beta1Power = b.pow(b.scalar(f32, opt.beta1), step);
    beta2Power = b.pow(b.scalar(f32, opt.beta2), step);
  }
  for (auto [i, w] : llvm::enumerate(args)) {
    Value g = grads[i];
    // A pruned weight's zeros get no gradient, so no momentum or Adam state
    // either: retraining never revives a pruned connection.
    if (masks[i])
      g = b.mul(g, masks[i]);
    bool isScale = isQuantizationScale(w);
    if (opt.weightDecay != 0.0 && !isScale)
      g = b.add(g, b.mulScalar(w, opt.weightDecay));
    Value update;
    if (opt.kind == OptimizerConfig::SGD) {
      update = g;
      if (opt.momentum != 0.0) {
        Value v = addState(params[i].name + ".momentum", w.getType());
        Value v2 = b.add(b.mulScalar(v, opt.momentum), g);
        newState.push_back(v2);
        update = opt.nesterov ? b.add(g, b.mulScalar(v2, opt.momentum)) : v2;
      }
    } else {
      Value m = addState(params[i].name + ".adam_m", w.getType());
      Value v = addState(params[i].name + ".adam_v", w.getType());
      Value m2 = b.add(b.mulScalar(m, opt.beta1), b.mulScalar(g, 1.0 - opt.beta1));
      Value v2 = b.add(b.mulScalar(v, opt.beta2), b.mulScalar(b.mul(g, g), 1.0 - opt.beta2));
      newState.push_back(m2);
      newState.push_back(v2);
      Value one = b.scalar(f32, 1.0);
      Value mHat = b.div(m2, b.sub(one, beta1Power));
      Value vHat = b.div(v2, b.sub(one, beta2Power));
      update = b.div(mHat, b.add(b.sqrt(vHat), b.scalar(f32, opt.epsilon)));
    }
    Value next = b.sub(w, b.mulScalar(update, opt.lr));
    // A learned scale stays at least float32's epsilon, as PyTorch's
    // _LearnableFakeQuantize clamps it.
    if (isScale)
      next = b.max(next, b.scalar(f32, 1.1920928955078125e-07));
    // Exactly zero even if the optimizer state came in nonzero (a resumed
    // dense run).
    newParams.push_back(masks[i] ? b.mul(next, masks[i]) : next);
  }
  if (step)
    newState.insert(newState.begin(), step);
  return newParams;

}

} // namespace

bool parseOptimizer(const std::string &text, OptimizerConfig &out,
                    std::string &error) {
  llvm::StringRef s = llvm::StringRef(text).trim();
  llvm::StringRef name = s.take_until([](char c) { return c == '('; }).trim();
  llvm::StringRef args = s.drop_front(name.size()).trim();
  out = OptimizerConfig();
  if (name.equals_insensitive("sgd")) {
    out.kind = OptimizerConfig::SGD;
  } else if (name.equals_insensitive("adam")) {
    out.kind = OptimizerConfig::Adam;
    out.lr = 1e-3;
  } else {
    error = "unknown optimizer '" + name.str() + "' (sgd or adam)";
    return false;
  }
  if (!args.empty()) {
    if (!args.consume_front("(") || !args.consume_back(")")) {
      error = "optimizer arguments go in parentheses: sgd(lr=0.05,momentum=0.9)";
      return false;
    }
    SmallVector<llvm::StringRef> items;
    args.split(items, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef item : items) {
      auto [key, value] = item.split('=');
      key = key.trim();
      double v;
      if (!parseNumber(value, v)) {
        error = "optimizer argument '" + item.trim().str() + "' is not key=number";
        return false;
      }
      bool sgd = out.kind == OptimizerConfig::SGD;
      if (key == "lr")
        out.lr = v;
      else if (key == "weight_decay")
        out.weightDecay = v;
      else if (sgd && key == "momentum")
        out.momentum = v;
      else if (sgd && key == "nesterov")
        out.nesterov = v != 0.0;
      else if (!sgd && key == "beta1")
        out.beta1 = v;
      else if (!sgd && key == "beta2")
        out.beta2 = v;
      else if (!sgd && key == "eps")
        out.epsilon = v;
      else {
        error = "unknown argument '" + key.str() + "' for " + name.lower() +
                (sgd ? " (lr, momentum, nesterov, weight_decay)"
                     : " (lr, beta1, beta2, eps, weight_decay)");
        return false;
      }
    }
  }
  if (!(out.lr > 0)) {
    error = "the learning rate must be positive";
    return false;
  }
  if (out.momentum < 0 || out.momentum >= 1 || out.beta1 < 0 || out.beta1 >= 1 ||
      out.beta2 < 0 || out.beta2 >= 1 || out.weightDecay < 0) {
    error = "momentum and betas must be in [0, 1), weight_decay >= 0";
    return false;
  }
  if (out.nesterov && out.momentum == 0.0) {
    error = "nesterov needs momentum > 0";
    return false;
  }
  return true;
}

bool buildTrainingModules(ModuleOp forward, const TrainConfig &config,
                          OwningOpRef<ModuleOp> &train, OwningOpRef<ModuleOp> &eval,
                          TrainingLayout &layout, std::string &error) {
  auto fwdMain = forward.lookupSymbol<func::FuncOp>("main");
  if (!fwdMain || fwdMain.getNumResults() == 0) {
    error = "the model has no output to train";
    return false;
  }
  auto predType = dyn_cast<RankedTensorType>(fwdMain.getResultTypes()[0]);
  if (!predType || !predType.hasStaticShape() || predType.getRank() < 1 ||
      !predType.getElementType().isF32()) {
    error = "the model's first output must be a static f32 tensor with the batch first";
    return false;
  }
  if (config.loss == LossKind::CrossEntropy && predType.getRank() != 2) {
    error = "cross-entropy needs a [batch, classes] output; the model's first "
            "output has rank " + std::to_string(predType.getRank());
    return false;
  }
  int64_t batch = predType.getDimSize(0);
  layout = TrainingLayout();
  layout.batch = batch;

  std::vector<llvm::GlobPattern> frozen;
  for (const std::string &f : config.freeze) {
    auto g = llvm::GlobPattern::create(f);
    if (!g) {
      error = "bad --freeze pattern '" + f + "': " + llvm::toString(g.takeError());
      return false;
    }
    frozen.push_back(std::move(*g));
  }

  train = OwningOpRef<ModuleOp>(forward.clone());
  auto main = train->lookupSymbol<func::FuncOp>("main");
  MLIRContext *ctx = forward.getContext();
  OpBuilder ob(ctx);

  // Shared weights (strata-share-weights) train through their codebooks:
  // the codebook becomes the parameter, the weight is expanded from it.
  if (!findSharedParameters(main, layout.shared, error))
    return false;
  SmallVector<Value> expanded = expandSharedWeights(main, layout.shared);

  // Candidates: every f32 initializer the graph reads, except frozen ones.
  // Batch-norm statistics are not trained by gradients but updated with
  // the batch's (running averages); they follow the trainable parameters.
  std::vector<std::string> names, statNames;
  for (auto c : main.getOps<nn::ConstantOp>()) {
    auto a = c->getAttrOfType<StringAttr>(kInitializerAttr);
    if (!a || c.use_empty() || !c.getType().getElementType().isF32())
      continue;
    std::string name = a.getValue().str();
    if (llvm::any_of(frozen, [&](const llvm::GlobPattern &g) { return g.match(name); })) {
      layout.frozen.push_back(name);
      continue;
    }
    (isNormStatistic(c) ? statNames : names).push_back(name);
  }
  size_t trainable = names.size();
  names.insert(names.end(), statNames.begin(), statNames.end());
  SmallVector<Parameter> all = parametersOf(main, names);
  std::vector<std::vector<float>> initial;
  std::vector<bool> pruned;
  for (Parameter &p : all) {
    initial.push_back(f32Values(p.constant).value_or(std::vector<float>()));
    pruned.push_back(p.constant->hasAttr(kPrunedAttr));
  }
  SmallVector<Value> allArgs = liftToArguments(main, all);
  SmallVector<Parameter> params(all.begin(), all.begin() + trainable);
  SmallVector<Value> args(allArgs.begin(), allArgs.begin() + trainable);

  // Labels and mask after the model's inputs.
  Block &body = main.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  Location loc = main.getLoc();
  Type labelType = config.loss == LossKind::CrossEntropy
                       ? Type(RankedTensorType::get({batch}, ob.getI64Type()))
                       : Type(predType);
  auto named = [&](const char *n) {
    return ob.getDictionaryAttr({ob.getNamedAttr("onnx.name", ob.getStringAttr(n))});
  };
  main.insertArgument(main.getNumArguments(), labelType, named("labels"), loc);
  Value labels = main.getArgument(main.getNumArguments() - 1);
  main.insertArgument(main.getNumArguments(), RankedTensorType::get({batch}, ob.getF32Type()),
                      named("mask"), loc);
  Value mask = main.getArgument(main.getNumArguments() - 1);

  OpBuilder builder(ret);
  nn::NNBuilder b(builder, loc);
  llvm::DenseMap<Value, Value> newStats =
      useBatchStatistics(main, ArrayRef<Value>(allArgs).drop_front(trainable), mask);
  Value loss = buildLoss(b, config.loss, ret.getOperand(0), labels, mask);
  // A codebook's gradient comes from its expanded weight's.
  SmallVector<Value> wrt(args);
  SmallVector<int> sharedOf(args.size(), -1);
  for (auto [i, p] : llvm::enumerate(params))
    for (auto [j, s] : llvm::enumerate(layout.shared))
      if (p.name == codebookName(s.weight)) {
        wrt[i] = expanded[j];
        sharedOf[i] = static_cast<int>(j);
      }
  auto grads = buildGradients(builder, loss, wrt);
  if (failed(grads)) {
    error = "cannot differentiate the model";
    return false;
  }
  for (auto [i, j] : llvm::enumerate(sharedOf))
    if (j >= 0)
      (*grads)[i] = centroidGradient(b, (*grads)[i], layout.shared[j]);

  // Results: the loss, then the new parameters and state (or, with
  // gradientsOnly, the gradients), each named.
  SmallVector<Value> results{loss};
  SmallVector<std::string> resultNames{"loss"};
  if (config.gradientsOnly) {
    results.append(grads->begin(), grads->end());
    for (const Parameter &p : params)
      resultNames.push_back(p.name + ".grad");
    for (auto [i, stat] : llvm::enumerate(ArrayRef<Value>(allArgs).drop_front(trainable))) {
      results.push_back(newStats.lookup(stat));
      resultNames.push_back(all[trainable + i].name);
    }
  } else {
    // Pruned weights (strata-prune-weights): a 0/1 mask of their nonzeros.
    SmallVector<Value> masks;
    for (auto [i, p] : llvm::enumerate(params)) {
      if (!pruned[i]) {
        masks.push_back(Value());
        continue;
      }
      std::vector<float> keep(initial[i].size());
      for (size_t j = 0; j < keep.size(); ++j)
        keep[j] = initial[i][j] != 0.0f ? 1.0f : 0.0f;
      masks.push_back(makeConstant<float>(builder, loc, cast<RankedTensorType>(args[i].getType()),
                                          keep, p.name + ".mask"));
    }
    SmallVector<Value> newState;
    SmallVector<Value> newParams = appendOptimizer(b, main, config.optimizer, args, *grads,
                                                   masks, params, all.size(), layout, newState);
    results.append(newParams);
    for (Value stat : ArrayRef<Value>(allArgs).drop_front(trainable))
      results.push_back(newStats.lookup(stat));
    results.append(newState);
    for (const Parameter &p : all)
      resultNames.push_back(p.name);
    for (const TensorSlot &slot : layout.state)
      resultNames.push_back(slot.name);
  }
  ret->setOperands(results);
  SmallVector<Type> types;
  for (Value v : results)
    types.push_back(v.getType());
  main.setFunctionType(FunctionType::get(ctx, main.getArgumentTypes(), types));
  SmallVector<DictionaryAttr> resultAttrs;
  for (const std::string &n : resultNames)
    resultAttrs.push_back(
        ob.getDictionaryAttr({ob.getNamedAttr("onnx.name", ob.getStringAttr(n))}));
  main.setAllResultAttrs(resultAttrs);

  for (auto [i, p] : llvm::enumerate(all)) {
    TensorSlot slot{p.name, shapeOf(allArgs[i].getType()), std::move(initial[i])};
    layout.params.push_back(std::move(slot));
  }
  layout.trainable = trainable;

  // Eval: the forward graph reading the same parameters as arguments.
  eval = OwningOpRef<ModuleOp>(forward.clone());
  auto evalMain = eval->lookupSymbol<func::FuncOp>("main");
  expandSharedWeights(evalMain, layout.shared);
  liftToArguments(evalMain, parametersOf(evalMain, names));
  return true;
}

} // namespace strata::train
