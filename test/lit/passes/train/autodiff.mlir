// RUN: strata-opt %s --split-input-file --strata-autodiff | FileCheck %s

// A Linear layer, ReLU and a sum: the seed is ones broadcast to the sum's
// input, ReLU masks it where its output is positive, and Gemm's rules are
// Gemms (dA = dY B, dB = dY^T A) plus a sum over the batch for the bias.
// CHECK-LABEL: func @linear_relu_sum
// CHECK-SAME: -> (tensor<f32>, tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>)
// CHECK: %[[Y:.+]] = nn.gemm %arg0, %arg1, %arg2
// CHECK: %[[R:.+]] = nn.relu %[[Y]]
// CHECK: %[[SEED:.+]] = nn.broadcast_to {{.*}} -> tensor<4x2xf32>
// CHECK: %[[POS:.+]] = nn.compare  gt %[[R]]
// CHECK: %[[DY:.+]] = nn.where %[[POS]], %[[SEED]]
// CHECK: %[[DX:.+]] = nn.gemm %[[DY]], %arg1 {{.*}}trans_a = false, trans_b = false
// CHECK: %[[DW:.+]] = nn.gemm %[[DY]], %arg0 {{.*}}trans_a = true, trans_b = false
// CHECK: %[[DB0:.+]] = nn.reduce  sum %[[DY]] {axes = array<i64: 0>, keepdims = true}
// CHECK: %[[DB:.+]] = nn.reshape %[[DB0]] : (tensor<1x2xf32>) -> tensor<2xf32>
// CHECK: return %{{.+}}, %[[DX]], %[[DW]], %[[DB]]
func.func @linear_relu_sum(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<f32> {
  %y = nn.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
      : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %r = nn.relu %y : tensor<4x2xf32>
  %l = nn.reduce sum %r {axes = array<i64: 0, 1>, keepdims = false} : (tensor<4x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A value used twice gets the sum of both gradients; d(x*x)/dx = dy*x + dy*x.
// CHECK-LABEL: func @fan_out
// CHECK: %[[S:.+]] = nn.constant dense<1.000000e+00> : tensor<3xf32>
// CHECK: %[[A:.+]] = nn.mul %[[S]], %arg0
// CHECK: %[[B:.+]] = nn.mul %[[S]], %arg0
// CHECK: %[[G:.+]] = nn.add %[[B]], %[[A]]
// CHECK: return %{{.+}}, %[[G]]
func.func @fan_out(%x: tensor<3xf32>) -> tensor<3xf32> {
  %y = nn.mul %x, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// Broadcast operands: the gradient is summed back over the broadcast axes.
// CHECK-LABEL: func @broadcast_add
// CHECK: %[[S:.+]] = nn.reduce  sum %{{.+}} {axes = array<i64: 0>, keepdims = true} : (tensor<2x3xf32>) -> tensor<1x3xf32>
// CHECK: %[[R:.+]] = nn.reshape %[[S]] : (tensor<1x3xf32>) -> tensor<3xf32>
// CHECK: return %{{.+}}, %{{.+}}, %[[R]]
func.func @broadcast_add(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %y = nn.add %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Convolution gradients: one nn.conv_input_grad and one nn.conv_filter_grad
// (lowered to W^T dY summed back by nn.col2im and to the input's patch
// columns times dY, or computed directly by the CPU backend when small),
// and the bias's sum of dY.
// CHECK-LABEL: func @conv
// CHECK: %[[DX:.+]] = nn.conv_input_grad %{{.+}}, %arg1 {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x5x5xf32>
// CHECK: %[[DW:.+]] = nn.conv_filter_grad %arg0, %{{.+}} {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x3x5x5xf32>, tensor<2x4x5x5xf32>) -> tensor<4x3x3x3xf32>
// CHECK: nn.reduce  sum {{.*}} {axes = array<i64: 0, 2, 3>, keepdims = false} : (tensor<2x4x5x5xf32>) -> tensor<4xf32>
func.func @conv(%x: tensor<2x3x5x5xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<2x4x5x5xf32> {
  %y = nn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x3x5x5xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x5x5xf32>
  return %y : tensor<2x4x5x5xf32>
}

// -----

// Grouped convolutions: the input's gradient is a grouped convolution of the
// padded output gradient with flipped weights, in/out channels swapped per group.
// CHECK-LABEL: func @depthwise
// CHECK: %[[FLIP:.+]] = nn.slice %arg1 {ends = array<i64: 2, 1, -1, -1>, starts = array<i64: 0, 0, 2, 2>, steps = array<i64: 1, 1, -1, -1>}
// CHECK: nn.conv {{.*}}group = 2 : i64{{.*}} : (tensor<1x2x6x6xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
func.func @depthwise(%x: tensor<1x2x4x4xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32> {
  %y = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Max pooling's gradient is nn.pool_grad with the forward attributes.
// CHECK-LABEL: func @pool
// CHECK: nn.pool_grad  max %arg0, %{{.+}} {{.*}}kernel_shape = array<i64: 2, 2>{{.*}}strides = array<i64: 2, 2>
// CHECK-SAME: (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x4x4xf32>
func.func @pool(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %y = nn.pool max %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>,
                       kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// Integer paths carry no gradient: only the float argument gets one.
// CHECK-LABEL: func @gather_indices
// CHECK-SAME: -> (tensor<2xf32>, tensor<2xf32>)
func.func @gather_indices(%x: tensor<2xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  %c = nn.cast %i : (tensor<2xi64>) -> tensor<2xf32>
  %y = nn.mul %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}


// -----

// Gather's gradient: the one-hot of the indices, transposed, times the
// output gradient (a matmul), reshaped to the data.
// CHECK-LABEL: func @gather
// CHECK: nn.compare  eq {{.*}} : (tensor<3x1xi64>, tensor<5xi64>) -> tensor<3x5xi1>
// CHECK: nn.transpose {{.*}} : (tensor<3x5xf32>) -> tensor<5x3xf32>
// CHECK: nn.matmul {{.*}} : (tensor<5x3xf32>, tensor<1x3x2xf32>) -> tensor<1x5x2xf32>
// CHECK: return %{{.+}}, %{{.+}} : tensor<3x2xf32>, tensor<5x2xf32>
func.func @gather(%x: tensor<5x2xf32>, %i: tensor<3xi64>) -> tensor<3x2xf32> {
  %y = nn.gather %x, %i {axis = 0 : i64} : (tensor<5x2xf32>, tensor<3xi64>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Fake quantization's gradients (LSQ, as PyTorch's learnable fake
// quantization): with v = x/s, r = round(v), q = r + z, dx is dy where q
// stays within [qmin, qmax] (straight-through) and zero outside; ds sums
// dy * (r - v) inside, dy * (qmax - z) above and dy * (qmin - z) below over
// each scale's channel, times 1/sqrt(numel(x) * qmax) = 1/sqrt(6 * 127).
// CHECK-LABEL: func @fake_quantize_ste
// CHECK: %[[V:.+]] = nn.div %arg0, %arg1
// CHECK: %[[R:.+]] = nn.round %[[V]]
// CHECK: %[[Z:.+]] = nn.constant dense<{{\[\[}}0.0{{0*}}e+00], [1.0{{0*}}e+00]]> : tensor<2x1xf32>
// CHECK: %[[Q:.+]] = nn.add %[[R]], %[[Z]]
// CHECK: %[[LOW:.+]] = nn.compare  lt %[[Q]], %{{.+}}
// CHECK: %[[HIGH:.+]] = nn.compare  gt %[[Q]], %{{.+}}
// CHECK: %[[DX1:.+]] = nn.where %[[HIGH]], %[[ZERO:.+]], %[[DY:[^ ]+]]
// CHECK: %[[DX:.+]] = nn.where %[[LOW]], %[[ZERO]], %[[DX1]]
// CHECK: %[[IN:.+]] = nn.sub %[[R]], %[[V]]
// CHECK: %[[ABOVE:.+]] = nn.constant dense<{{\[\[}}1.27{{0*}}e+02], [1.26{{0*}}e+02]]>
// CHECK: %[[R1:.+]] = nn.where %[[HIGH]], %[[ABOVE]], %[[IN]]
// CHECK: %[[BELOW:.+]] = nn.constant dense<{{\[\[}}-1.28{{0*}}e+02], [-1.29{{0*}}e+02]]>
// CHECK: %[[RATIO:.+]] = nn.where %[[LOW]], %[[BELOW]], %[[R1]]
// CHECK: %[[P:.+]] = nn.mul %[[DY]], %[[RATIO]]
// CHECK: %[[G:.+]] = nn.constant dense<0.0362261{{[0-9]*}}> : tensor<f32>
// CHECK: %[[PG:.+]] = nn.mul %[[P]], %[[G]]
// CHECK: %[[DS:.+]] = nn.reduce  sum %[[PG]] {axes = array<i64: 1>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
// CHECK: return %{{.+}}, %[[DX]], %[[DS]]
func.func @fake_quantize_ste(%w: tensor<2x3xf32>, %s: tensor<2x1xf32>) -> tensor<f32> {
  %q = nn.fake_quantize %w, %s {qmax = 127 : i64, qmin = -128 : i64, zero_point = array<i64: 0, 1>} : tensor<2x3xf32>, tensor<2x1xf32>
  %l = nn.reduce sum %q {axes = array<i64: 0, 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
