//===- QdqModel.cpp - post-training quantization of ONNX models -----------===//

#include "compiler/onnx/QdqModel.h"
#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/ModelLoader.h"
#include "compiler/onnx/TensorConversion.h"
#include "compiler/support/DurableFile.h"

#include "onnx/defs/tensor_proto_util.h"
#include "llvm/Support/FileSystem.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

namespace strata {
namespace {

using onnx::NodeProto;
using onnx::TensorProto;

std::string nodeName(const NodeProto &n, int index) {
  return n.name().empty() ? "node " + std::to_string(index) : n.name();
}

int64_t attrInt(const NodeProto &n, const std::string &name, int64_t dflt) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return a.i();
  return dflt;
}

float attrFloat(const NodeProto &n, const std::string &name, float dflt) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return a.f();
  return dflt;
}

/// The model's graph, read and shape-inferred (symbolic dimensions kept).
struct Graph {
  onnx_import::LoadedModel loaded;
  std::map<std::string, TensorProto *> initializers;
  std::map<std::string, std::vector<int>> consumers; ///< tensor -> node indices

  explicit Graph(const std::string &path) : loaded(onnx_import::readModelFile(path)) {
    onnx_import::checkAndInferShapes(loaded);
    onnx::GraphProto *g = loaded.model.mutable_graph();
    for (TensorProto &t : *g->mutable_initializer()) {
      if (t.data_location() == TensorProto::EXTERNAL)
        onnx_import::inlineExternalData(t, loaded.modelDir, path + ": initializer '" + t.name() + "'");
      initializers[t.name()] = &t;
    }
    for (int i = 0; i < g->node_size(); ++i)
      for (const std::string &in : g->node(i).input())
        consumers[in].push_back(i);
  }
  onnx::GraphProto &graph() { return *loaded.model.mutable_graph(); }
  TensorProto *floatInitializer(const std::string &name, int rank) {
    auto it = initializers.find(name);
    if (it == initializers.end() || it->second->data_type() != TensorProto::FLOAT ||
        (rank >= 0 && it->second->dims_size() != rank))
      return nullptr;
    return it->second;
  }
  /// The single node reading `tensor`, if exactly one does.
  const NodeProto *onlyConsumer(const std::string &tensor) {
    auto it = consumers.find(tensor);
    if (it == consumers.end() || it->second.size() != 1)
      return nullptr;
    for (const auto &o : graph().output())
      if (o.name() == tensor)
        return nullptr;
    return &graph().node(it->second[0]);
  }
};

/// The weight's input index and the axis of its output channels, or -1.
int weightAxis(const NodeProto &n, int &weightInput) {
  weightInput = 1;
  if (n.op_type() == "Conv")
    return 0;
  if (n.op_type() == "Gemm")
    return attrInt(n, "transB", 0) ? 0 : 1;
  if (n.op_type() == "MatMul")
    return 1;
  return -1;
}

bool isQuantizableLayer(Graph &g, const NodeProto &n) {
  int w;
  if (weightAxis(n, w) < 0 || n.input_size() < 2)
    return false;
  if (n.op_type() == "Gemm" && (attrInt(n, "transA", 0) || attrFloat(n, "alpha", 1) != 1 ||
                                attrFloat(n, "beta", 1) != 1))
    return false;
  int rank = n.op_type() == "Conv" ? 4 : 2;
  return g.floatInitializer(n.input(w), rank) && !g.initializers.count(n.input(0));
}

bool isPassthrough(const std::string &op) {
  return op == "MaxPool" || op == "Reshape" || op == "Flatten" || op == "Transpose" ||
         op == "Squeeze" || op == "Unsqueeze";
}

std::vector<float> floats(const TensorProto &t) { return onnx::ParseData<float>(&t); }

TensorProto tensor(const std::string &name, TensorProto::DataType type,
                   const std::vector<int64_t> &dims, const void *data, size_t bytes) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (int64_t d : dims)
    t.add_dims(d);
  t.set_raw_data(std::string((const char *)data, bytes)); // little-endian hosts
  return t;
}

NodeProto node(const std::string &op, const std::vector<std::string> &in, const std::string &out,
               int64_t axis = -1) {
  NodeProto n;
  n.set_op_type(op);
  n.set_name(out + "_" + op);
  for (const auto &i : in)
    n.add_input(i);
  n.add_output(out);
  if (axis >= 0) {
    auto *a = n.add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
  }
  return n;
}

bool serializeChecked(onnx::ModelProto &model, const std::string &outputPath, std::string &error) {
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    error = "cannot serialize the model for " + outputPath;
    return false;
  }
  // What we write must pass the checker and shape inference strata reads with.
  onnx_import::LoadedModel check =
      onnx_import::parseModelBytes(bytes.data(), bytes.size(), outputPath, ".");
  onnx_import::checkAndInferShapes(check);
  return writeFileDurably(outputPath, bytes, error);
}

bool refuseSame(const std::string &source, const std::string &output, std::string &error) {
  bool same = false;
  if (!llvm::sys::fs::equivalent(source, output, same) && same) {
    error = output + " is the input model; choose another -o";
    return true;
  }
  return false;
}

} // namespace

bool planQuantization(const std::string &modelPath, QdqPlan &plan, std::string &error) {
  try {
    Graph g(modelPath);
    std::set<std::string> seen;
    auto addActivation = [&](const std::string &t) {
      if (seen.insert(t).second)
        plan.activations.push_back(t);
    };
    const auto &nodes = g.graph().node();
    for (int i = 0; i < nodes.size(); ++i) {
      const NodeProto &n = nodes[i];
      if (!isQuantizableLayer(g, n))
        continue;
      std::string out = n.output(0);
      // MatMul + Add of a constant bias (Linear on N-d inputs) is one layer.
      if (const NodeProto *add = g.onlyConsumer(out);
          add && n.op_type() == "MatMul" && add->op_type() == "Add" &&
          (g.floatInitializer(add->input(0), 1) || g.floatInitializer(add->input(1), 1)))
        out = add->output(0);
      if (const NodeProto *act = g.onlyConsumer(out);
          act && (act->op_type() == "Relu" || act->op_type() == "Clip"))
        out = act->output(0);
      plan.layers.push_back({nodeName(n, i), n.op_type(), n.input(0), out});
      addActivation(n.input(0));
      addActivation(out);
    }
    for (const auto &o : g.graph().output())
      plan.modelOutputs.push_back(o.name());
    // A quantized tensor computed from another by passthrough ops alone
    // (MaxPool -> Flatten, ...) takes its range: the ops then run on the
    // integers, whatever is quantized between them.
    std::map<std::string, const NodeProto *> producer;
    for (const NodeProto &n : nodes)
      for (const std::string &o : n.output())
        producer[o] = &n;
    for (const NodeProto &n : nodes) {
      if (!isPassthrough(n.op_type()) || !seen.count(n.output(0)))
        continue;
      std::string source = n.input(0);
      while (!seen.count(source)) {
        auto p = producer.find(source);
        if (p == producer.end() || !isPassthrough(p->second->op_type()))
          break;
        source = p->second->input(0);
      }
      if (seen.count(source))
        plan.sameRange.push_back({n.output(0), source});
    }
    if (plan.layers.empty()) {
      error = modelPath + ": no Conv, Gemm or MatMul with a constant weight to quantize";
      return false;
    }
    return true;
  } catch (const onnx_import::ImportError &e) {
    error = e.what();
    return false;
  }
}

bool writeObservedModel(const std::string &modelPath, const std::vector<std::string> &tensors,
                        const std::string &outputPath, std::string &error) {
  try {
    Graph g(modelPath);
    std::map<std::string, const onnx::ValueInfoProto *> types;
    for (const auto &v : g.graph().value_info())
      types[v.name()] = &v;
    for (const auto &v : g.graph().input())
      types[v.name()] = &v;
    std::set<std::string> outputs; // graph inputs too: they are not computed
    for (const auto &v : g.graph().output())
      outputs.insert(v.name());
    for (const auto &v : g.graph().input())
      outputs.insert(v.name());
    std::vector<onnx::ValueInfoProto> added;
    for (const std::string &t : tensors) {
      if (outputs.count(t))
        continue;
      auto it = types.find(t);
      if (it == types.end()) {
        error = modelPath + ": shape inference gives no type for '" + t + "'";
        return false;
      }
      added.push_back(*it->second);
    }
    for (auto &v : added) {
      // Symbolic dimensions become unknown: fixing the inputs' (--batch)
      // then makes them static through shape inference.
      if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
        for (auto &d : *v.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim())
          if (d.has_dim_param())
            d.clear_dim_param();
      *g.graph().add_output() = v;
    }
    g.graph().clear_value_info(); // inferred here, with the symbolic batch
    return serializeChecked(g.loaded.model, outputPath, error);
  } catch (const onnx_import::ImportError &e) {
    error = e.what();
    return false;
  }
}

/// The tensor whose range `t` takes (through plan.sameRange), or `t`.
static std::string rangeOwner(const QdqPlan &plan, std::string t) {
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto &[out, in] : plan.sameRange)
      if (out == t && in != t) {
        t = in;
        moved = true;
        break;
      }
  }
  return t;
}

bool writeQdqModel(const std::string &modelPath, const QdqPlan &plan,
                   const std::map<std::string, TensorRange> &rangesIn, bool perChannel,
                   const std::string &outputPath, std::string &error, bool trainable) {
  if (refuseSame(modelPath, outputPath, error))
    return false;
  try {
    Graph g(modelPath);
    int64_t opset = g.loaded.opset;
    if (opset < 10 || (perChannel && opset < 13)) {
      error = modelPath + ": opset " + std::to_string(opset) + " has no " +
              (opset < 10 ? "QuantizeLinear (opset 10)" : "per-channel DequantizeLinear (opset 13)") +
              "; convert the model with onnx.version_converter" +
              (opset >= 10 ? " or quantize per tensor" : "");
      return false;
    }
    std::map<std::string, TensorRange> ranges = rangesIn;
    for (const auto &[out, in] : plan.sameRange)
      if (ranges.count(in))
        ranges[out] = ranges[in];

    onnx::GraphProto &graph = g.graph();
    std::vector<NodeProto> front;                 // weight and input Q/DQ
    std::map<std::string, std::vector<NodeProto>> after; // tensor -> its Q/DQ
    std::map<std::string, std::string> renamed;   // activation -> its dequantized
    std::map<std::string, std::string> producedAs; // model output -> <name>_float
    std::map<std::string, float> scaleOf;
    std::set<std::string> graphInputs;
    for (const auto &v : graph.input())
      graphInputs.insert(v.name());

    for (const std::string &t : plan.activations) {
      auto it = ranges.find(t);
      if (it == ranges.end()) {
        error = "no calibrated range for '" + t + "'";
        return false;
      }
      float lo = std::min(0.0f, it->second.min), hi = std::max(0.0f, it->second.max);
      if (!std::isfinite(lo) || !std::isfinite(hi)) {
        error = "the calibrated range of '" + t + "' is not finite (" + std::to_string(lo) +
                ", " + std::to_string(hi) + "): the float model overflows on the data";
        return false;
      }
      float scale = hi > lo ? (hi - lo) / 255.0f : 1.0f;
      // A model output keeps its name on the dequantized value, so the last
      // layer is quantized too; what computed it writes <name>_float.
      std::string source = t, result = plan.dequantizedName(t);
      if (result == t)
        source = t + "_float";
      uint8_t zp = (uint8_t)std::clamp<long>(std::lround(-lo / scale), 0, 255);
      scaleOf[t] = scale;
      // Trained scales (--qat) of tensors that must keep one range (a max
      // pool's input and output) are one initializer, so they stay equal.
      std::string owner = t;
      if (trainable)
        owner = rangeOwner(plan, t);
      if (owner == t) {
        *graph.add_initializer() = tensor(t + "_scale", TensorProto::FLOAT, {}, &scale, 4);
        *graph.add_initializer() = tensor(t + "_zero_point", TensorProto::UINT8, {}, &zp, 1);
      }
      std::string qs = owner + "_scale", qz = owner + "_zero_point";
      std::vector<NodeProto> qdq{node("QuantizeLinear", {source, qs, qz}, t + "_quantized"),
                                 node("DequantizeLinear", {t + "_quantized", qs, qz}, result)};
      if (graphInputs.count(t))
        front.insert(front.end(), qdq.begin(), qdq.end());
      else
        after[t] = qdq;
      renamed[t] = result;
      if (source != t)
        producedAs[t] = source;
    }

    // Weights (int8, symmetric) and biases (int32) of each layer.
    int index = 0;
    std::set<std::string> quantizedWeights;
    for (NodeProto &n : *graph.mutable_node()) {
      ++index;
      if (!isQuantizableLayer(g, n))
        continue;
      int w;
      int axis = weightAxis(n, w);
      std::string wName = n.input(w);
      TensorProto *W = g.floatInitializer(wName, -1);
      std::vector<float> values = floats(*W);
      std::vector<int64_t> dims(W->dims().begin(), W->dims().end());
      int64_t channels = perChannel ? dims[axis] : 1;
      int64_t inner = 1;
      for (size_t d = axis + 1; d < dims.size(); ++d)
        inner *= dims[d];
      auto channelOf = [&](size_t i) { return perChannel ? (int64_t)(i / inner) % dims[axis] : 0; };
      std::vector<float> ws(channels, 0.0f);
      for (size_t i = 0; i < values.size(); ++i)
        ws[channelOf(i)] = std::max(ws[channelOf(i)], std::fabs(values[i]) / 127.0f);
      for (float &s : ws)
        if (!(s > 0))
          s = 1.0f;
      std::string qName = wName + "_quantized";
      if (!quantizedWeights.count(wName) && trainable) {
        quantizedWeights.insert(wName);
        std::vector<int8_t> zeros(channels, 0);
        std::vector<int64_t> sdims = perChannel ? std::vector<int64_t>{channels} : std::vector<int64_t>{};
        *graph.add_initializer() = tensor(wName + "_scale", TensorProto::FLOAT, sdims, ws.data(), 4 * ws.size());
        *graph.add_initializer() = tensor(wName + "_zero_point", TensorProto::INT8, sdims, zeros.data(), zeros.size());
        front.push_back(node("QuantizeLinear", {wName, wName + "_scale", wName + "_zero_point"},
                             qName, perChannel ? axis : -1));
        front.push_back(node("DequantizeLinear", {qName, wName + "_scale", wName + "_zero_point"},
                             wName + "_dequantized", perChannel ? axis : -1));
      } else if (!quantizedWeights.count(wName)) {
        quantizedWeights.insert(wName);
        std::vector<int8_t> q(values.size());
        for (size_t i = 0; i < values.size(); ++i)
          q[i] = (int8_t)std::clamp<long>(std::lround(values[i] / ws[channelOf(i)]), -127, 127);
        std::vector<int8_t> zeros(channels, 0);
        std::vector<int64_t> sdims = perChannel ? std::vector<int64_t>{channels} : std::vector<int64_t>{};
        *graph.add_initializer() = tensor(qName, TensorProto::INT8, dims, q.data(), q.size());
        *graph.add_initializer() = tensor(wName + "_scale", TensorProto::FLOAT, sdims, ws.data(), 4 * ws.size());
        *graph.add_initializer() = tensor(wName + "_zero_point", TensorProto::INT8, sdims, zeros.data(), zeros.size());
        front.push_back(node("DequantizeLinear", {qName, wName + "_scale", wName + "_zero_point"},
                             wName + "_dequantized", perChannel ? axis : -1));
      }
      n.set_input(w, wName + "_dequantized");
      // The bias, in accumulator units.
      int64_t outChannels = dims[axis];
      if (!trainable && n.input_size() > 2 && !n.input(2).empty() &&
          (n.op_type() == "Conv" || n.op_type() == "Gemm")) {
        TensorProto *B = g.floatInitializer(n.input(2), 1);
        auto sx = scaleOf.find(n.input(0));
        if (B && sx != scaleOf.end() && B->dims(0) == outChannels) {
          std::vector<float> b = floats(*B), bs(perChannel ? outChannels : 1);
          std::vector<int32_t> bq(outChannels), bz(bs.size(), 0);
          for (size_t c = 0; c < bs.size(); ++c)
            bs[c] = sx->second * ws[c];
          for (int64_t c = 0; c < outChannels; ++c)
            bq[c] = (int32_t)std::clamp<double>(std::nearbyint(b[c] / bs[perChannel ? c : 0]),
                                                -2147483647.0, 2147483647.0);
          std::string bName = n.input(2) + "_" + std::to_string(index); // per layer: its x_scale
          std::vector<int64_t> sdims = perChannel ? std::vector<int64_t>{outChannels} : std::vector<int64_t>{};
          *graph.add_initializer() = tensor(bName + "_quantized", TensorProto::INT32, {outChannels}, bq.data(), 4 * bq.size());
          *graph.add_initializer() = tensor(bName + "_scale", TensorProto::FLOAT, sdims, bs.data(), 4 * bs.size());
          *graph.add_initializer() = tensor(bName + "_zero_point", TensorProto::INT32, sdims, bz.data(), 4 * bz.size());
          front.push_back(node("DequantizeLinear", {bName + "_quantized", bName + "_scale", bName + "_zero_point"},
                               bName + "_dequantized", perChannel ? 0 : -1));
          n.set_input(2, bName + "_dequantized");
        }
      }
    }

    // Consumers read the dequantized activations; nodes in order, each
    // followed by the Q/DQ of its quantized outputs.
    std::vector<NodeProto> nodes(front.begin(), front.end());
    for (NodeProto n : graph.node()) {
      for (int i = 0; i < n.input_size(); ++i)
        if (auto r = renamed.find(n.input(i)); r != renamed.end())
          n.set_input(i, r->second);
      std::vector<std::string> outs(n.output().begin(), n.output().end());
      for (int i = 0; i < n.output_size(); ++i)
        if (auto p = producedAs.find(n.output(i)); p != producedAs.end())
          n.set_output(i, p->second);
      nodes.push_back(n);
      for (const std::string &out : outs)
        if (auto a = after.find(out); a != after.end())
          nodes.insert(nodes.end(), a->second.begin(), a->second.end());
    }
    graph.clear_node();
    for (auto &n : nodes)
      *graph.add_node() = std::move(n);
    // Float weights nothing reads any more.
    std::set<std::string> read;
    for (const auto &n : graph.node())
      for (const auto &i : n.input())
        read.insert(i);
    std::set<std::string> dropped;
    auto *inits = graph.mutable_initializer();
    for (int i = inits->size() - 1; i >= 0; --i)
      if (!read.count(inits->Get(i).name())) {
        dropped.insert(inits->Get(i).name());
        inits->DeleteSubrange(i, 1);
      }
    // Older models list initializers among the inputs too.
    auto *inputs = graph.mutable_input();
    for (int i = inputs->size() - 1; i >= 0; --i)
      if (dropped.count(inputs->Get(i).name()))
        inputs->DeleteSubrange(i, 1);
    graph.clear_value_info(); // inferred for the float graph
    return serializeChecked(g.loaded.model, outputPath, error);
  } catch (const onnx_import::ImportError &e) {
    error = e.what();
    return false;
  }
}

bool freezeQuantizedWeights(const std::string &trainedPath, const std::string &outputPath,
                            std::string &error) {
  try {
    Graph g(trainedPath);
    onnx::GraphProto &graph = g.graph();
    std::vector<NodeProto> kept;
    // Scales are learned (nn.fake_quantize): a diverged run must not write
    // a model whose scales ONNX refuses.
    for (const NodeProto &n : graph.node()) {
      if (n.op_type() != "QuantizeLinear" && n.op_type() != "DequantizeLinear")
        continue;
      auto s = g.initializers.find(n.input(1));
      if (s == g.initializers.end() || s->second->data_type() != TensorProto::FLOAT)
        continue;
      for (float v : floats(*s->second))
        if (!(v > 0) || !std::isfinite(v)) {
          error = trainedPath + ": training left the scale '" + n.input(1) + "' of node '" +
                  n.name() + "' at " + std::to_string(v) +
                  " (it must be positive and finite): train again with a lower learning rate";
          return false;
        }
    }
    for (const NodeProto &n : graph.node()) {
      TensorProto *w = n.op_type() == "QuantizeLinear" ? g.floatInitializer(n.input(0), -1) : nullptr;
      auto s = w ? g.initializers.find(n.input(1)) : g.initializers.end();
      auto z = w && n.input_size() > 2 ? g.initializers.find(n.input(2)) : g.initializers.end();
      if (!w || s == g.initializers.end() || z == g.initializers.end() ||
          z->second->data_type() != TensorProto::INT8) {
        kept.push_back(n);
        continue;
      }
      std::vector<float> values = floats(*w), scale = floats(*s->second);
      // libonnx has no int8 reader; the zero points are raw bytes (we wrote them).
      const std::string &raw = z->second->raw_data();
      std::vector<int8_t> zp(raw.begin(), raw.end());
      if (zp.size() != scale.size()) {
        kept.push_back(n);
        continue;
      }
      std::vector<int64_t> dims(w->dims().begin(), w->dims().end());
      int64_t axis = attrInt(n, "axis", 1), inner = 1;
      if (axis < 0)
        axis += dims.size();
      for (size_t d = axis + 1; d < dims.size(); ++d)
        inner *= dims[d];
      std::vector<int8_t> q(values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        size_t c = scale.size() == 1 ? 0 : (i / inner) % dims[axis];
        q[i] = (int8_t)std::clamp<long>(std::lrint(values[i] / scale[c]) + zp[c], -128, 127);
      }
      *graph.add_initializer() = tensor(n.output(0), TensorProto::INT8, dims, q.data(), q.size());
    }
    graph.clear_node();
    for (auto &n : kept)
      *graph.add_node() = std::move(n);
    std::set<std::string> read;
    for (const auto &n : graph.node())
      for (const auto &i : n.input())
        read.insert(i);
    auto *inits = graph.mutable_initializer();
    for (int i = inits->size() - 1; i >= 0; --i)
      if (!read.count(inits->Get(i).name()))
        inits->DeleteSubrange(i, 1);
    graph.clear_value_info();
    return serializeChecked(g.loaded.model, outputPath, error);
  } catch (const onnx_import::ImportError &e) {
    error = e.what();
    return false;
  }
}

} // namespace strata
