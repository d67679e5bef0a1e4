// RUN: strata-opt %s --strata-onednn-convs="channel-block=16 bf16-kernels=true" --mlir-elide-resource-strings-if-larger=8 | FileCheck %s
// RUN: strata-opt %s --strata-onednn-convs="channel-block=16" --strata-widen-half-contractions --mlir-elide-resource-strings-if-larger=8 | FileCheck %s --check-prefix=NOBF16

// Convolutions on bf16 values rounded from f32 (strata-mixed-precision):
// with bf16 kernels (AVX512_BF16 or AMX) the region is channels last, where
// oneDNN's fast bf16 kernels (brgconv, AMX) are. The layout is planned on
// the f32 values; the rounding moves onto the NHWC twin, right before the
// convolution reads it; relu and the residual add still fuse as post-ops,
// and the results stay f32.
// CHECK-LABEL: func @block
// CHECK: %[[T:.+]] = nn.transpose %arg0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x16x8x8xf32>) -> tensor<1x8x8x16xf32>
// CHECK: %[[R:.+]] = nn.cast %[[T]] : (tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xbf16>
// CHECK: %[[C:.+]] = onednn.conv %[[R]], %{{.+}} {{{.*}}dst_layout = "nhwc"{{.*}}post_ops = ["relu"], src_layout = "nhwc", strata.kernel = "oneDNN convolution, bf16", strata.rule = "dense, 16 -> 16 channels, channels last (oneDNN's bf16 kernels)"{{.*}}} : (tensor<1x8x8x16xbf16>, tensor<16x16x3x3xbf16>) -> tensor<1x8x8x16xf32>
// CHECK: %[[R2:.+]] = nn.cast %[[C]] : (tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xbf16>
// CHECK: %[[C2:.+]] = onednn.conv %[[R2]], %{{.+}} sum %[[T]] {{{.*}}post_ops = ["sum"]
// CHECK: nn.transpose %[[C2]] {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x8x8x16xf32>) -> tensor<1x16x8x8xf32>

// Without bf16 kernels the convolutions compute in f32 on the same rounded
// operands: the activations cast back from bf16, the weights widened once.
// NOBF16-LABEL: func @block
// NOBF16-NOT: onednn.conv {{.*}}bf16
// NOBF16-DAG: %[[W:.+]] = nn.constant dense_resource<{{.+}}> : tensor<16x16x3x3xf32>
// NOBF16-DAG: %[[XB:.+]] = nn.cast %arg0 : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xbf16>
// NOBF16: %[[X:.+]] = nn.cast %[[XB]] : (tensor<1x16x8x8xbf16>) -> tensor<1x16x8x8xf32>
// NOBF16: nn.conv %[[X]], %[[W]] {{.*}}strata.rule = "16-bit operands (--precision) but no 16-bit kernel for it on this target: computed in f32"{{.*}} : (tensor<1x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x8x8xf32>
func.func @block(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %w = nn.constant dense<0.5> : tensor<16x16x3x3xbf16>
  %w2 = nn.constant dense<0.25> : tensor<16x16x3x3xbf16>
  %xb = nn.cast %x : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xbf16>
  %c = nn.conv %xb, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xbf16>, tensor<16x16x3x3xbf16>) -> tensor<1x16x8x8xf32>
  %r = nn.relu %c : tensor<1x16x8x8xf32>
  %rb = nn.cast %r : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xbf16>
  %c2 = nn.conv %rb, %w2 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xbf16>, tensor<16x16x3x3xbf16>) -> tensor<1x16x8x8xf32>
  %s = nn.add %c2, %x : (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %s : tensor<1x16x8x8xf32>
}

// One rounding read by two convolutions: each gets the rounded value (once
// on the NHWC twin with bf16 kernels; widened once without them), and the
// rounding is erased once.
// CHECK-LABEL: func @shared
// CHECK: %[[S:.+]] = nn.cast %{{.+}} : (tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xbf16>
// CHECK: onednn.conv %[[S]]
// CHECK: onednn.conv %[[S]]
// NOBF16-LABEL: func @shared
// NOBF16: %[[XB:.+]] = nn.cast %arg0 : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xbf16>
// NOBF16: %[[X:.+]] = nn.cast %[[XB]] : (tensor<1x16x8x8xbf16>) -> tensor<1x16x8x8xf32>
// NOBF16: nn.conv %[[X]]
// NOBF16: nn.conv %[[X]]
func.func @shared(%x: tensor<1x16x8x8xf32>) -> (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) {
  %w = nn.constant dense<0.5> : tensor<16x16x3x3xbf16>
  %xb = nn.cast %x : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xbf16>
  %c = nn.conv %xb, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xbf16>, tensor<16x16x3x3xbf16>) -> tensor<1x16x8x8xf32>
  %c2 = nn.conv %xb, %w {dilations = array<i64: 2, 2>, group = 1 : i64, pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xbf16>, tensor<16x16x3x3xbf16>) -> tensor<1x16x8x8xf32>
  return %c, %c2 : tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>
}
