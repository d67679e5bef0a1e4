// The C runtime on its own: signatures, running through the module ABI,
// .npy and .pb round trips, and the errors users see.
#include "strata/module_abi.h"
#include "strata/runtime.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unistd.h>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

/// One scratch folder for the test run, removed when the test binary exits
/// (each run used to leave a /tmp/strata-runtime-* folder behind).
struct ScratchDir {
  std::string path;
  ScratchDir() {
    char pattern[] = "/tmp/strata-runtime-XXXXXX";
    if (mkdtemp(pattern))
      path = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path.empty())
      std::filesystem::remove_all(path, ignored);
  }
};

std::string tempPath(const char *name) {
  static ScratchDir dir;
  REQUIRE(!dir.path.empty());
  return dir.path + "/" + name;
}

/// A stand-in for a compiled model: out[i] = a[i] + b[i] over 2x3 floats.
/// buffers: a, b, out, the run context (module ABI 2, no arena).
int addModel(void **buffers) {
  auto *a = static_cast<float *>(buffers[0]);
  auto *b = static_cast<float *>(buffers[1]);
  auto *out = static_cast<float *>(buffers[2]);
  for (int i = 0; i < 6; ++i)
    out[i] = a[i] + b[i];
  return static_cast<strata_run_context *>(buffers[3])->failed != 0;
}

const char kAddSignature[] = "strata-module 2\n"
                             "inputs 2\n"
                             "a\tFLOAT\t2\t2\t3\n"
                             "b\tFLOAT\t2\t2\t3\n"
                             "outputs 1\n"
                             "sum:0\tFLOAT\t2\t2\t3\n";

/// As a compiled model uses its arena: out = 2 * x, staged through the
/// arena, with a pause between writing and reading it, so that two runs
/// sharing one arena would mix their values. A negative input fails the run
/// the way generated code does (the context's flag and message).
int stagedModel(void **buffers) {
  auto *x = static_cast<float *>(buffers[0]);
  auto *out = static_cast<float *>(buffers[1]);
  auto *arena = static_cast<float *>(buffers[2]);
  auto *context = static_cast<strata_run_context *>(buffers[3]);
  for (int i = 0; i < 256; ++i)
    arena[i] = 2 * x[i];
  std::this_thread::yield();
  for (int i = 0; i < 256; ++i) {
    if (x[i] < 0 && !context->failed) {
      context->failed = 1;
      std::snprintf(context->message, sizeof context->message,
                    "node 'n' (op Test): input %d is negative", i);
    }
    out[i] = arena[i];
  }
  return context->failed != 0;
}

const char kStagedSignature[] = "strata-module 2\n"
                                "inputs 1\n"
                                "x\tFLOAT\t1\t256\n"
                                "outputs 1\n"
                                "y\tFLOAT\t1\t256\n"
                                "arena 1024\n";

strata_tensor floats(std::initializer_list<float> values, int64_t rows, int64_t cols) {
  strata_tensor t;
  int64_t dims[2] = {rows, cols};
  REQUIRE(strata_tensor_alloc(STRATA_FLOAT, 2, dims, &t) == 0);
  std::copy(values.begin(), values.end(), static_cast<float *>(t.data));
  return t;
}

} // namespace

TEST_CASE("a module's signature and run", "[runtime]") {
  strata_module *m = nullptr;
  REQUIRE(strata_module_from_symbols(addModel, kAddSignature, &m) == 0);
  REQUIRE(strata_module_num_inputs(m) == 2);
  REQUIRE(strata_module_num_outputs(m) == 1);
  const strata_tensor_info *out = strata_module_output(m, 0);
  CHECK(std::string(out->name) == "sum:0");
  CHECK(out->rank == 2);
  CHECK(out->dims[1] == 3);
  CHECK(strata_module_input(m, 2) == nullptr);

  strata_tensor in[2] = {floats({1, 2, 3, 4, 5, 6}, 2, 3),
                         floats({10, 20, 30, 40, 50, 60}, 2, 3)};
  strata_tensor result[1];
  REQUIRE(strata_module_run(m, in, result) == 0);
  auto *r = static_cast<float *>(result[0].data);
  CHECK(r[0] == 11);
  CHECK(r[5] == 66);
  strata_tensor_free(&result[0]);

  SECTION("a wrong shape names the input, expected and given") {
    strata_tensor bad = floats({1, 2, 3}, 1, 3);
    strata_tensor args[2] = {in[0], bad};
    CHECK(strata_module_run(m, args, result) != 0);
    CHECK(std::string(strata_last_error()) ==
          "input 'b' expects FLOAT [2, 3], got FLOAT [1, 3]");
    strata_tensor_free(&bad);
  }
  strata_tensor_free(&in[0]);
  strata_tensor_free(&in[1]);
  strata_module_free(m);
}

TEST_CASE("malformed signatures are rejected", "[runtime]") {
  strata_module *m = nullptr;
  CHECK(strata_module_from_symbols(addModel, "not a signature", &m) != 0);
  CHECK(std::string(strata_last_error()).find("signature") != std::string::npos);
  CHECK(strata_module_from_symbols(addModel, "strata-module 2\ninputs 1\na\tFLOAT\n", &m) != 0);
  // A module of another ABI version names both versions.
  CHECK(strata_module_from_symbols(addModel, "strata-module 1\ninputs 0\noutputs 0\n", &m) != 0);
  CHECK(std::string(strata_last_error()) ==
        "the module was compiled for module ABI version 1, this runtime reads version 2: "
        "compile the model again with the strata that goes with this runtime");
}

TEST_CASE("contexts run one module on several threads at once", "[runtime]") {
  strata_module *m = nullptr;
  REQUIRE(strata_module_from_symbols(stagedModel, kStagedSignature, &m) == 0);
  CHECK(strata_module_arena_bytes(m) == 1024);
  constexpr int kThreads = 8, kRuns = 2000;
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      strata_context *c = nullptr;
      if (strata_context_create(m, &c) != 0) {
        wrong[t] = -1;
        return;
      }
      int64_t n = 256;
      strata_tensor x, y;
      strata_tensor_alloc(STRATA_FLOAT, 1, &n, &x);
      strata_tensor_alloc(STRATA_FLOAT, 1, &n, &y);
      for (int r = 0; r < kRuns; ++r) {
        for (int i = 0; i < 256; ++i)
          static_cast<float *>(x.data)[i] = float(t * 100000 + r * 10 + i % 7);
        if (strata_context_run_into(c, &x, &y) != 0) {
          ++wrong[t];
          continue;
        }
        for (int i = 0; i < 256; ++i)
          if (static_cast<float *>(y.data)[i] != 2 * static_cast<float *>(x.data)[i]) {
            ++wrong[t];
            break;
          }
      }
      strata_tensor_free(&x);
      strata_tensor_free(&y);
      strata_context_free(c);
    });
  for (auto &th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t)
    CHECK(wrong[t] == 0);

  SECTION("a failed run reports its context's message, and the next run is clean") {
    strata_context *c = nullptr;
    REQUIRE(strata_context_create(m, &c) == 0);
    int64_t n = 256;
    strata_tensor x, y;
    strata_tensor_alloc(STRATA_FLOAT, 1, &n, &x);
    strata_tensor_alloc(STRATA_FLOAT, 1, &n, &y);
    static_cast<float *>(x.data)[5] = -1;
    CHECK(strata_context_run_into(c, &x, &y) != 0);
    CHECK(std::string(strata_last_error()) == "node 'n' (op Test): input 5 is negative");
    static_cast<float *>(x.data)[5] = 1;
    CHECK(strata_context_run_into(c, &x, &y) == 0);
    // strata_module_run takes the module's own context the same way.
    static_cast<float *>(x.data)[9] = -3;
    strata_tensor out;
    CHECK(strata_module_run(m, &x, &out) != 0);
    CHECK(std::string(strata_last_error()) == "node 'n' (op Test): input 9 is negative");
    strata_tensor_free(&x);
    strata_tensor_free(&y);
    strata_context_free(c);
  }
  strata_module_free(m);
}

TEST_CASE(".npy and .pb round trips keep dtype, shape and bytes", "[runtime]") {
  strata_tensor t = floats({1.5f, -2.0f, 3.25f, 0, 7, 8}, 2, 3);
  for (const char *name : {"t.npy", "t.pb"}) {
    std::string path = tempPath(name);
    int rc = std::strstr(name, ".npy") ? strata_tensor_write_npy(path.c_str(), &t)
                                        : strata_tensor_write_pb(path.c_str(), "t", &t);
    REQUIRE(rc == 0);
    strata_tensor back;
    REQUIRE(strata_tensor_read_file(path.c_str(), &back) == 0);
    CHECK(back.dtype == STRATA_FLOAT);
    CHECK(back.rank == 2);
    CHECK(back.dims[0] == 2);
    CHECK(back.dims[1] == 3);
    CHECK(std::memcmp(back.data, t.data, 6 * sizeof(float)) == 0);
    strata_tensor_free(&back);
  }
  // A 1-D int64 tensor too (the "(5,)" shape form of .npy).
  strata_tensor v;
  int64_t five = 5;
  REQUIRE(strata_tensor_alloc(STRATA_INT64, 1, &five, &v) == 0);
  static_cast<int64_t *>(v.data)[4] = -9;
  std::string path = tempPath("v.npy");
  REQUIRE(strata_tensor_write_npy(path.c_str(), &v) == 0);
  strata_tensor back;
  REQUIRE(strata_tensor_read_file(path.c_str(), &back) == 0);
  CHECK(back.rank == 1);
  CHECK(back.dims[0] == 5);
  CHECK(static_cast<int64_t *>(back.data)[4] == -9);
  strata_tensor_free(&back);
  strata_tensor_free(&v);
  strata_tensor_free(&t);
}

TEST_CASE("bad tensor files give errors naming the file", "[runtime]") {
  strata_tensor t;
  std::string missing = tempPath("missing.npy");
  CHECK(strata_tensor_read_file(missing.c_str(), &t) != 0);
  CHECK(std::string(strata_last_error()).find("missing.npy: cannot open") != std::string::npos);

  std::string text = tempPath("text.npy");
  FILE *f = std::fopen(text.c_str(), "w");
  std::fputs("hello", f);
  std::fclose(f);
  CHECK(strata_tensor_read_file(text.c_str(), &t) != 0);
  CHECK(std::string(strata_last_error()).find("not a .npy file") != std::string::npos);

  CHECK(strata_tensor_read_file("x.csv", &t) != 0);
  CHECK(std::string(strata_last_error()).find("use .npy or .pb") != std::string::npos);

  // A truncated .npy: header promises 6 floats, data has 2.
  strata_tensor small = floats({1, 2, 3, 4, 5, 6}, 2, 3);
  std::string cut = tempPath("cut.npy");
  REQUIRE(strata_tensor_write_npy(cut.c_str(), &small) == 0);
  FILE *g = std::fopen(cut.c_str(), "r+");
  std::fseek(g, 0, SEEK_END);
  long size = std::ftell(g);
  std::fclose(g);
  REQUIRE(truncate(cut.c_str(), size - 16) == 0);
  CHECK(strata_tensor_read_file(cut.c_str(), &t) != 0);
  CHECK(std::string(strata_last_error()).find("shorter than its shape") != std::string::npos);
  strata_tensor_free(&small);
}

// The thread pool compiled modules link (runtime/src/parallel.c).
extern "C" void strata_model_set_threads(int n);
extern "C" void strata_parallel_for(void (*body)(void *, int64_t, int64_t),
                                    void *ctx, int64_t count);

namespace {
struct Visits {
  std::vector<int> count;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::mutex lock;
};
void visit(void *ctx, int64_t lo, int64_t hi) {
  auto *v = static_cast<Visits *>(ctx);
  std::lock_guard<std::mutex> guard(v->lock);
  v->ranges.push_back({lo, hi});
  for (int64_t i = lo; i < hi; ++i)
    ++v->count[i];
}
} // namespace

TEST_CASE("parallel_for visits every item once, in contiguous ranges", "[runtime]") {
  for (int threads : {1, 2, 3, 7}) {
    strata_model_set_threads(threads);
    for (int64_t n : {1, 2, 5, 1000}) {
      Visits v;
      v.count.assign(n, 0);
      strata_parallel_for(visit, &v, n);
      for (int64_t i = 0; i < n; ++i)
        REQUIRE(v.count[i] == 1);
      // At most one range per thread, never an empty one.
      CHECK((int64_t)v.ranges.size() <= std::min<int64_t>(threads, n));
      for (auto [lo, hi] : v.ranges)
        CHECK(lo < hi);
    }
  }
  strata_model_set_threads(0);
}

TEST_CASE("a linked-in module's thread count", "[runtime]") {
  strata_module *m = nullptr;
  REQUIRE(strata_module_from_symbols(addModel, kAddSignature, &m) == 0);
  strata_module_set_threads(m, 3);
  CHECK(strata_module_threads(m) == 3);
  strata_module_set_threads(m, 0); // back to all cores
  CHECK(strata_module_threads(m) >= 1);
  strata_module_free(m);
}
