//===- ModelExporter.cpp - nn ops back to an ONNX graph -------------------===//
//
// `strata opt` runs graph passes on the imported nn IR and writes the result
// as ONNX again. Nearly every nn op is one ONNX operator (the importer made
// ONNX's optional inputs and defaults explicit, which ONNX accepts back); a
// few need their attributes as constant inputs (Reshape's shape, Slice's
// ranges, Pad's pads, Clip's bounds). The graph's inputs and outputs keep
// their names and declared types (symbolic dimensions included), initializers
// their names; other values are named after the ONNX node that made them.
// Ops that only training steps contain (gradients, im2col) have no ONNX form
// and are an error naming the op. The result is checked by libonnx's checker
// before anything is written.
//
//===----------------------------------------------------------------------===//

#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/ModelLoader.h"
#include "compiler/onnx/OnnxImporter.h"
#include "compiler/onnx/TensorConversion.h"
#include "compiler/support/DurableFile.h"
#include "dialects/nn/NNOps.h"
#include "dialects/nn/NodeLocation.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"

#include "onnx/checker.h"

#include <cstring>

using namespace mlir;
namespace nn = strata::nn;

namespace strata {
namespace {

using onnx_import::onnxDataType;

class Exporter {
public:
  Exporter(onnx::GraphProto &graph) : g(graph) {}

  bool run(func::FuncOp main, const onnx::GraphProto &source, std::string &err);

private:
  onnx::GraphProto &g;
  llvm::DenseMap<Value, std::string> names;
  llvm::StringSet<> used;
  std::string error;

  std::string fresh(const std::string &base) {
    std::string name = base.empty() ? "v" : base;
    for (int i = 1; used.contains(name); ++i)
      name = base + "_" + std::to_string(i);
    used.insert(name);
    return name;
  }

  bool fail(Operation *op, const std::string &why) {
    std::string node = nn::nodeNameOf(op->getLoc());
    error = (node.empty() ? "" : "node '" + node + "': ") + "'" +
            op->getName().getStringRef().str() + "' " + why;
    return false;
  }

  /// An initializer of `type` holding `attr`'s values, named `name`.
  bool addInitializer(const std::string &name, RankedTensorType type, ElementsAttr attr,
                      Operation *op);

  /// A 1-D int64 initializer.
  std::string ints(const std::string &base, llvm::ArrayRef<int64_t> values) {
    onnx::TensorProto *t = g.add_initializer();
    t->set_name(fresh(base));
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    t->set_raw_data(std::string(reinterpret_cast<const char *>(values.data()),
                                values.size() * sizeof(int64_t)));
    return t->name();
  }

  /// A scalar initializer of element type `type` holding `value`.
  std::string scalar(const std::string &base, Type type, double value, Operation *op);

  onnx::NodeProto *node(Operation *op, const char *opType, llvm::ArrayRef<std::string> inputs) {
    onnx::NodeProto *n = g.add_node();
    std::string base = nn::nodeNameOf(op->getLoc());
    n->set_name(fresh(base.empty() ? std::string(opType) : base));
    n->set_op_type(opType);
    for (const std::string &in : inputs)
      n->add_input(in);
    for (Value r : op->getResults()) {
      auto it = names.find(r);
      if (it == names.end())
        it = names.insert({r, fresh(n->name() + "_out")}).first;
      n->add_output(it->second);
    }
    return n;
  }

  static void attr(onnx::NodeProto *n, const char *name, int64_t v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  /// I64Attr getters return uint64_t; the bits are the signed value.
  static void attr(onnx::NodeProto *n, const char *name, uint64_t v) {
    attr(n, name, static_cast<int64_t>(v));
  }
  static void attr(onnx::NodeProto *n, const char *name, float v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(onnx::NodeProto *n, const char *name, llvm::ArrayRef<int64_t> v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }
  static void attr(onnx::NodeProto *n, const char *name, const std::string &v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

  std::vector<std::string> inputsOf(Operation *op) {
    std::vector<std::string> in;
    for (Value v : op->getOperands())
      in.push_back(names.lookup(v));
    return in;
  }

  bool exportOp(Operation *op);
};

bool Exporter::addInitializer(const std::string &name, RankedTensorType type, ElementsAttr attr,
                              Operation *op) {
  int32_t dtype = onnxDataType(type.getElementType());
  if (!dtype || !type.hasStaticShape())
    return fail(op, "has a constant of a type ONNX cannot hold");
  // Small constants: the importer's conversion (also what per-node
  // inference reads), splats and booleans included.
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    std::optional<onnx::TensorProto> t = onnx_import::denseToTensor(dense);
    if (!t)
      return fail(op, "has a constant of a type ONNX cannot hold");
    t->set_name(name);
    *g.add_initializer() = std::move(*t);
    return true;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource)
    return fail(op, "has a constant of an unknown kind");
  if (type.getElementType().isInteger(1))
    return fail(op, "has a boolean constant that is not dense");
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return fail(op, "has a constant whose data is missing");
  onnx::TensorProto *t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(dtype);
  for (int64_t d : type.getShape())
    t->add_dims(d);
  llvm::ArrayRef<char> data = blob->getData();
  t->set_raw_data(std::string(data.data(), data.size()));
  return true;
}

std::string Exporter::scalar(const std::string &base, Type type, double value, Operation *op) {
  onnx::TensorProto *t = g.add_initializer();
  t->set_name(fresh(base));
  t->set_data_type(onnxDataType(type));
  std::string raw;
  auto put = [&](auto v) { raw.assign(reinterpret_cast<const char *>(&v), sizeof(v)); };
  if (type.isF32())
    put(static_cast<float>(value));
  else if (type.isF64())
    put(value);
  else if (isa<FloatType>(type)) {
    APFloat f(value);
    bool lost = false;
    f.convert(cast<FloatType>(type).getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    put(static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue()));
  } else if (auto i = dyn_cast<IntegerType>(type)) {
    int64_t v = static_cast<int64_t>(value);
    raw.assign(reinterpret_cast<const char *>(&v), std::max(1u, i.getWidth() / 8));
  }
  t->set_raw_data(raw);
  (void)op;
  return t->name();
}

/// Upper-case ONNX names of the unary ops that are one ONNX operator.
const char *unaryName(llvm::StringRef nnName) {
  static const std::pair<const char *, const char *> table[] = {
      {"sqrt", "Sqrt"}, {"exp", "Exp"}, {"log", "Log"}, {"neg", "Neg"}, {"abs", "Abs"},
      {"relu", "Relu"}, {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}, {"floor", "Floor"},
      {"ceil", "Ceil"}, {"round", "Round"}, {"sign", "Sign"}, {"reciprocal", "Reciprocal"},
      {"erf", "Erf"}, {"sin", "Sin"}, {"cos", "Cos"}, {"tan", "Tan"}, {"asin", "Asin"},
      {"acos", "Acos"}, {"atan", "Atan"}, {"sinh", "Sinh"}, {"cosh", "Cosh"},
      {"asinh", "Asinh"}, {"acosh", "Acosh"}, {"atanh", "Atanh"}, {"add", "Add"},
      {"sub", "Sub"}, {"mul", "Mul"}, {"div", "Div"}, {"pow", "Pow"}, {"max", "Max"},
      {"min", "Min"}, {"and", "And"}, {"or", "Or"}, {"xor", "Xor"}, {"not", "Not"},
      {"where", "Where"}, {"matmul", "MatMul"}};
  for (auto [nnOp, onnxOp] : table)
    if (nnName == nnOp)
      return onnxOp;
  return nullptr;
}

bool Exporter::exportOp(Operation *op) {
  llvm::StringRef name = op->getName().stripDialect();
  std::vector<std::string> in = inputsOf(op);
  auto resultType = [&]() { return cast<RankedTensorType>(op->getResult(0).getType()); };

  if (auto c = dyn_cast<nn::ConstantOp>(op)) {
    auto init = op->getAttrOfType<StringAttr>("onnx.initializer");
    std::string n = fresh(init ? init.getValue().str() : nn::nodeNameOf(op->getLoc()) + "_const");
    names[c.getResult()] = n;
    return addInitializer(n, cast<RankedTensorType>(c.getType()), c.getValue(), op);
  }
  if (auto t = dyn_cast<nn::TransposeOp>(op)) {
    attr(node(op, "Transpose", in), "perm", t.getPerm());
    return true;
  }
  if (auto ge = dyn_cast<nn::GatherElementsOp>(op)) {
    attr(node(op, "GatherElements", in), "axis", ge.getAxis());
    return true;
  }
  if (const char *simple = unaryName(name)) {
    node(op, simple, in);
    return true;
  }
  if (auto m = dyn_cast<nn::ModOp>(op)) {
    attr(node(op, "Mod", in), "fmod", int64_t(m.getFmod()));
    return true;
  }
  if (auto c = dyn_cast<nn::CompareOp>(op)) {
    const char *types[] = {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"};
    node(op, types[static_cast<int>(c.getPredicate())], in);
    return true;
  }
  if (auto l = dyn_cast<nn::LeakyReluOp>(op)) {
    attr(node(op, "LeakyRelu", in), "alpha", l.getAlpha().convertToFloat());
    return true;
  }
  if (auto c = dyn_cast<nn::ClipOp>(op)) {
    Type e = resultType().getElementType();
    std::string lo = c.getMin() ? scalar(in[0] + "_min", e, c.getMin()->convertToDouble(), op) : "";
    std::string hi = c.getMax() ? scalar(in[0] + "_max", e, c.getMax()->convertToDouble(), op) : "";
    node(op, "Clip", {in[0], lo, hi});
    return true;
  }
  if (auto s = dyn_cast<nn::SoftmaxOp>(op)) {
    attr(node(op, "Softmax", in), "axis", s.getAxis());
    return true;
  }
  if (auto s = dyn_cast<nn::LogSoftmaxOp>(op)) {
    attr(node(op, "LogSoftmax", in), "axis", s.getAxis());
    return true;
  }
  if (auto gm = dyn_cast<nn::GemmOp>(op)) {
    onnx::NodeProto *n = node(op, "Gemm", in);
    attr(n, "alpha", gm.getAlpha().convertToFloat());
    attr(n, "beta", gm.getBeta().convertToFloat());
    attr(n, "transA", int64_t(gm.getTransA()));
    attr(n, "transB", int64_t(gm.getTransB()));
    return true;
  }
  if (auto c = dyn_cast<nn::ConvOp>(op)) {
    auto w = cast<RankedTensorType>(c.getWeight().getType());
    onnx::NodeProto *n = node(op, "Conv", in);
    attr(n, "kernel_shape", w.getShape().drop_front(2));
    attr(n, "strides", c.getStrides());
    attr(n, "pads", c.getPads());
    attr(n, "dilations", c.getDilations());
    attr(n, "group", c.getGroup());
    return true;
  }
  if (auto p = dyn_cast<nn::PoolOp>(op)) {
    bool max = p.getKind() == nn::PoolKind::max;
    if (!max && llvm::any_of(p.getDilations(), [](int64_t d) { return d != 1; }))
      return fail(op, "is a dilated average pooling, which ONNX opset 17 lacks");
    onnx::NodeProto *n = node(op, max ? "MaxPool" : "AveragePool", in);
    attr(n, "kernel_shape", p.getKernelShape());
    attr(n, "strides", p.getStrides());
    attr(n, "pads", p.getPads());
    attr(n, "ceil_mode", int64_t(p.getCeilMode()));
    if (max)
      attr(n, "dilations", p.getDilations());
    else
      attr(n, "count_include_pad", int64_t(p.getCountIncludePad()));
    return true;
  }
  if (auto b = dyn_cast<nn::BatchNormOp>(op)) {
    attr(node(op, "BatchNormalization", in), "epsilon", b.getEpsilon().convertToFloat());
    return true;
  }
  if (auto r = dyn_cast<nn::ReduceOp>(op)) {
    if (r.getAxes().empty()) {
      node(op, "Identity", in);
      return true;
    }
    const char *types[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"};
    auto kind = static_cast<int>(r.getKind());
    onnx::NodeProto *n;
    if (r.getKind() == nn::ReduceKind::sum) {
      n = node(op, types[kind], {in[0], ints(in[0] + "_axes", r.getAxes())});
    } else {
      n = node(op, types[kind], in);
      attr(n, "axes", r.getAxes());
    }
    attr(n, "keepdims", int64_t(r.getKeepdims()));
    return true;
  }
  if (auto r = dyn_cast<nn::ReshapeOp>(op)) {
    auto inType = cast<RankedTensorType>(r.getInput().getType());
    std::vector<int64_t> shape;
    int unknown = 0;
    for (auto [i, d] : llvm::enumerate(resultType().getShape())) {
      if (!ShapedType::isDynamic(d)) {
        shape.push_back(d);
      } else if (i < (size_t)inType.getRank() && inType.isDynamicDim(i)) {
        shape.push_back(0); // copied from the input's dimension
      } else {
        shape.push_back(-1);
        ++unknown;
      }
    }
    if (unknown > 1)
      return fail(op, "has two dimensions ONNX Reshape cannot infer");
    node(op, "Reshape", {in[0], ints(in[0] + "_shape", shape)});
    return true;
  }
  if (auto c = dyn_cast<nn::ConcatOp>(op)) {
    attr(node(op, "Concat", in), "axis", c.getAxis());
    return true;
  }
  if (auto s = dyn_cast<nn::SliceOp>(op)) {
    std::vector<int64_t> ends(s.getEnds().begin(), s.getEnds().end()), axes;
    for (size_t i = 0; i < ends.size(); ++i) {
      axes.push_back(int64_t(i));
      // nn's -1 is "before the first element" for negative steps; ONNX's
      // would be the last element.
      if (s.getSteps()[i] < 0 && ends[i] == -1)
        ends[i] = std::numeric_limits<int64_t>::min();
    }
    node(op, "Slice",
         {in[0], ints(in[0] + "_starts", s.getStarts()), ints(in[0] + "_ends", ends),
          ints(in[0] + "_axes", axes), ints(in[0] + "_steps", s.getSteps())});
    return true;
  }
  if (auto gt = dyn_cast<nn::GatherOp>(op)) {
    attr(node(op, "Gather", in), "axis", gt.getAxis());
    return true;
  }
  if (auto p = dyn_cast<nn::PadOp>(op)) {
    const char *modes[] = {"constant", "reflect", "edge"};
    std::vector<std::string> inputs = {in[0], ints(in[0] + "_pads", p.getPads())};
    if (p.getMode() == nn::PadMode::constant)
      inputs.push_back(scalar(in[0] + "_value", resultType().getElementType(),
                              p.getValue().convertToDouble(), op));
    attr(node(op, "Pad", inputs), "mode", std::string(modes[static_cast<int>(p.getMode())]));
    return true;
  }
  if (isa<nn::CastOp>(op)) {
    int32_t to = onnxDataType(resultType().getElementType());
    if (!to)
      return fail(op, "casts to a type ONNX lacks");
    attr(node(op, "Cast", in), "to", int64_t(to));
    return true;
  }
  if (auto a = dyn_cast<nn::ArgReduceOp>(op)) {
    onnx::NodeProto *n =
        node(op, a.getKind() == nn::ArgKind::argmax ? "ArgMax" : "ArgMin", in);
    attr(n, "axis", a.getAxis());
    attr(n, "keepdims", int64_t(a.getKeepdims()));
    attr(n, "select_last_index", int64_t(a.getSelectLastIndex()));
    return true;
  }
  if (isa<nn::BroadcastToOp>(op)) {
    std::vector<int64_t> shape;
    for (int64_t d : resultType().getShape())
      shape.push_back(ShapedType::isDynamic(d) ? 1 : d); // 1 keeps the input's
    node(op, "Expand", {in[0], ints(in[0] + "_shape", shape)});
    return true;
  }
  if (auto t = dyn_cast<nn::TileOp>(op)) {
    node(op, "Tile", {in[0], ints(in[0] + "_repeats", t.getRepeats())});
    return true;
  }
  if (auto t = dyn_cast<nn::TriluOp>(op)) {
    std::string k = t.getKValue() ? in[1] : ints(in[0] + "_k", {t.getK()});
    // Trilu's k is a scalar.
    if (!t.getKValue()) {
      onnx::TensorProto &kt = *g.mutable_initializer(g.initializer_size() - 1);
      kt.clear_dims();
    }
    attr(node(op, "Trilu", {in[0], k}), "upper", int64_t(t.getUpper()));
    return true;
  }
  return fail(op, "has no ONNX form (it appears in compiled training steps only)");
}

bool Exporter::run(func::FuncOp main, const onnx::GraphProto &source, std::string &err) {
  std::map<std::string, const onnx::ValueInfoProto *> declared;
  for (const onnx::ValueInfoProto &v : source.input())
    declared[v.name()] = &v;
  for (const onnx::ValueInfoProto &v : source.output())
    declared[v.name()] = &v;
  auto declare = [&](google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> *list,
                     const std::string &name) {
    auto it = declared.find(name);
    if (it != declared.end())
      *list->Add() = *it->second;
    else
      list->Add()->set_name(name);
  };

  Block &body = main.getBody().front();
  for (BlockArgument arg : body.getArguments()) {
    auto n = main.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name");
    std::string name = fresh(n ? n.getValue().str() : "input" + std::to_string(arg.getArgNumber()));
    names[arg] = name;
    declare(g.mutable_input(), name);
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  std::vector<std::string> outputNames;
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto n = main.getResultAttrOfType<StringAttr>(i, "onnx.name");
    outputNames.push_back(n ? n.getValue().str() : "output" + std::to_string(i));
  }
  // An output computed by an op (not a constant, input or other output) is
  // that op's result under the output's name.
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Operation *def = v.getDefiningOp();
    if (def && !isa<nn::ConstantOp>(def) && !names.count(v) && !used.contains(outputNames[i])) {
      used.insert(outputNames[i]);
      names[v] = outputNames[i];
    }
  }
  for (Operation &op : body.without_terminator())
    if (!exportOp(&op)) {
      err = error;
      return false;
    }
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    if (names[v] != outputNames[i]) {
      onnx::NodeProto *n = g.add_node();
      n->set_name(fresh(outputNames[i] + "_identity"));
      n->set_op_type("Identity");
      n->add_input(names[v]);
      used.insert(outputNames[i]);
      n->add_output(outputNames[i]);
    }
    declare(g.mutable_output(), outputNames[i]);
  }
  return true;
}

} // namespace

bool exportOnnxModel(ModuleOp module, const std::string &sourcePath,
                     const std::string &outputPath, std::string &error) {
  bool same = false;
  if (!llvm::sys::fs::equivalent(sourcePath, outputPath, same) && same) {
    error = outputPath + " is the input model; choose another -o";
    return false;
  }
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main) {
    error = "no @main to write";
    return false;
  }
  onnx::ModelProto model;
  try {
    onnx_import::LoadedModel source = onnx_import::readModelFile(sourcePath);
    model.set_ir_version(8);
    model.set_producer_name("strata opt");
    model.set_model_version(source.model.model_version());
    model.set_doc_string(source.model.doc_string());
    *model.mutable_metadata_props() = source.model.metadata_props();
    auto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(17);
    onnx::GraphProto *graph = model.mutable_graph();
    graph->set_name(source.model.graph().name());
    Exporter exporter(*graph);
    if (!exporter.run(main, source.model.graph(), error)) {
      error = sourcePath + ": cannot write the result as ONNX: " + error;
      return false;
    }
    onnx::checker::CheckerContext ctx;
    ctx.set_ir_version(8);
    ctx.set_opset_imports({{"", 17}});
    onnx::checker::LexicalScopeContext lex;
    onnx::checker::check_graph(model.graph(), ctx, lex);
  } catch (const onnx_import::ImportError &e) {
    error = e.what();
    return false;
  } catch (const std::exception &e) {
    error = "the ONNX checker rejects the written model: " + std::string(e.what());
    return false;
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    error = "cannot serialize the model for " + outputPath;
    return false;
  }
  return writeFileDurably(outputPath, bytes, error);
}

} // namespace strata
