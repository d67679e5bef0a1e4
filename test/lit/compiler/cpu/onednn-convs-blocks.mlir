// RUN: strata-opt %s --split-input-file --strata-onednn-convs=channel-block=16 | FileCheck %s

// With 16-channel blocks (AVX-512), a region whose channels are all
// multiples of 16 takes nChw16c; a region with a 24-channel value keeps
// nChw8c throughout (oneDNN has only its reference kernel for a convolution
// that changes block), and a convolution reading more channels than one
// block holds as NCHW is declined (reference kernel too).

// CHECK-LABEL: func @wide_region
// CHECK: onednn.conv {{.*}}dst_layout = "nChw16c"{{.*}}src_layout = "nChw16c"{{.*}} -> tensor<1x2x8x8x16xf32>
// CHECK: onednn.conv {{.*}}dst_layout = "nChw16c"{{.*}}src_layout = "nChw16c"{{.*}} -> tensor<1x1x8x8x16xf32>
func.func @wide_region(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %w1 = nn.constant dense<0.5> : tensor<32x16x1x1xf32>
  %w2 = nn.constant dense<0.5> : tensor<16x32x1x1xf32>
  %0 = nn.conv %x, %w1 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x16x8x8xf32>, tensor<32x16x1x1xf32>) -> tensor<1x32x8x8xf32>
  %1 = nn.relu %0 : tensor<1x32x8x8xf32>
  %2 = nn.conv %1, %w2 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x32x8x8xf32>, tensor<16x32x1x1xf32>) -> tensor<1x16x8x8xf32>
  return %2 : tensor<1x16x8x8xf32>
}

// -----

// CHECK-LABEL: func @region_with_24_channels
// CHECK: onednn.conv {{.*}}dst_layout = "nChw8c"{{.*}}src_layout = "nChw8c"{{.*}}strata.rule = "dense, 32 -> 24 channels in 8-channel blocks"{{.*}} -> tensor<1x3x8x8x8xf32>
// CHECK: onednn.conv {{.*}}dst_layout = "nChw8c"{{.*}}src_layout = "nChw8c"{{.*}} -> tensor<1x6x8x8x8xf32>
// CHECK-NOT: nChw16c
func.func @region_with_24_channels(%x: tensor<1x32x8x8xf32>) -> tensor<1x48x8x8xf32> {
  %w1 = nn.constant dense<0.5> : tensor<24x32x1x1xf32>
  %w2 = nn.constant dense<0.5> : tensor<48x24x1x1xf32>
  %0 = nn.conv %x, %w1 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x32x8x8xf32>, tensor<24x32x1x1xf32>) -> tensor<1x24x8x8xf32>
  %1 = nn.conv %0, %w2 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x24x8x8xf32>, tensor<48x24x1x1xf32>) -> tensor<1x48x8x8xf32>
  return %1 : tensor<1x48x8x8xf32>
}

// -----

// CHECK-LABEL: func @too_many_plain_channels
// CHECK: nn.conv {{.*}}strata.rule = "20 input channels read as NCHW: oneDNN has only its reference kernel for 16 or more (a block's worth)"
func.func @too_many_plain_channels(%x: tensor<1x20x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %w = nn.constant dense<0.5> : tensor<16x20x1x1xf32>
  %0 = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x20x8x8xf32>, tensor<16x20x1x1xf32>) -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}
