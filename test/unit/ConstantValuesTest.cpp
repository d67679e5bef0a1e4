// Constants of every numeric element type round-trip through the helpers
// graph passes use to read and write weights (passes/graph/ConstantValues.h),
// inline (<= 16 elements) and as resource blobs; bf16/f16 round to nearest even.
#include "dialects/nn/NNDialect.h"
#include "dialects/nn/NNOps.h"
#include "passes/graph/ConstantValues.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

using namespace mlir;

namespace {

struct Fixture {
  MLIRContext ctx;
  OpBuilder b{&ctx};
  Location loc = UnknownLoc::get(&ctx);
  ModuleOp module;
  Fixture() {
    ctx.loadDialect<strata::nn::NNDialect>();
    module = ModuleOp::create(loc);
    b.setInsertionPointToEnd(module.getBody());
  }
  ~Fixture() { module->erase(); }
};

template <typename T> void roundTrip(Fixture &f, Type element, int64_t count) {
  std::vector<T> values(count);
  for (int64_t i = 0; i < count; ++i)
    values[i] = T((i * 37) % 101 - 50);
  auto type = RankedTensorType::get({count}, element);
  Value c = strata::makeConstant<T>(f.b, f.loc, type, values, "w");
  std::optional<std::vector<T>> back = strata::constantValues<T>(c);
  REQUIRE(back);
  CHECK(*back == values);
  // A reader of another type refuses rather than reinterpreting bytes.
  if (!element.isF64())
    CHECK_FALSE(strata::constantValues<double>(c).has_value());
}

} // namespace

TEST_CASE("constant helpers round-trip every numeric element type", "[constants]") {
  Fixture f;
  for (int64_t count : {4, 300}) { // inline and resource-blob constants
    roundTrip<float>(f, f.b.getF32Type(), count);
    roundTrip<double>(f, f.b.getF64Type(), count);
    roundTrip<int8_t>(f, f.b.getIntegerType(8), count);
    roundTrip<uint8_t>(f, f.b.getIntegerType(8, /*isSigned=*/false), count);
    roundTrip<int32_t>(f, f.b.getI32Type(), count);
    roundTrip<int64_t>(f, f.b.getI64Type(), count);
  }
}

TEST_CASE("a u8 constant is not read as i8, nor i8 as u8", "[constants]") {
  Fixture f;
  auto u8 = RankedTensorType::get({2}, f.b.getIntegerType(8, false));
  Value c = strata::makeConstant<uint8_t>(f.b, f.loc, u8, std::vector<uint8_t>{200, 3}, "u");
  CHECK_FALSE(strata::constantValues<int8_t>(c));
  REQUIRE(strata::constantValues<uint8_t>(c));
  CHECK((*strata::constantValues<uint8_t>(c))[0] == 200);
}

TEST_CASE("bf16 and f16 constants are written rounded and read widened", "[constants]") {
  Fixture f;
  // 1 + 2^-9 is between two bf16 values (8 significant bits): ties go to even, i.e. 1.0;
  // 1 + 3 * 2^-9 rounds up to 1 + 2^-7. f16 (11 bits) keeps both exactly.
  std::vector<float> values{1.0f, 1.0f + std::ldexp(1.0f, -9), 1.0f + 3 * std::ldexp(1.0f, -9),
                            -2.5f};
  for (int64_t count : {4, 64}) {
    std::vector<float> input;
    for (int64_t i = 0; i < count; ++i)
      input.push_back(values[i % 4]);
    auto bf16 = RankedTensorType::get({count}, f.b.getBF16Type());
    auto bfBack = strata::floatValuesAsF32(strata::makeFloatConstant(f.b, f.loc, bf16, input, "b"));
    REQUIRE(bfBack);
    CHECK((*bfBack)[1] == 1.0f);
    CHECK((*bfBack)[2] == 1.0f + std::ldexp(1.0f, -7));
    CHECK((*bfBack)[3] == -2.5f);
    auto f16 = RankedTensorType::get({count}, f.b.getF16Type());
    auto hBack = strata::floatValuesAsF32(strata::makeFloatConstant(f.b, f.loc, f16, input, "h"));
    REQUIRE(hBack);
    CHECK(std::vector<float>(hBack->begin(), hBack->begin() + 4) == values);
  }
}

TEST_CASE("splat constants expand to one value per element", "[constants]") {
  Fixture f;
  auto type = RankedTensorType::get({3, 5}, f.b.getI32Type());
  Value c = f.b.create<strata::nn::ConstantOp>(
      f.loc, DenseElementsAttr::get(type, f.b.getI32IntegerAttr(7).cast<Attribute>()));
  auto back = strata::constantValues<int32_t>(c);
  REQUIRE(back);
  CHECK(*back == std::vector<int32_t>(15, 7));
}
