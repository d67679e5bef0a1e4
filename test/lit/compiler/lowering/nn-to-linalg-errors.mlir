// RUN: strata-opt %s --strata-lower-nn-to-linalg --verify-diagnostics

// Dynamic dimensions cannot be lowered yet; the error says how to fix them.
func.func @dynamic(%a: tensor<?x3xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{cannot lower 'nn.relu' for the CPU: it has a dynamic dimension; compile with --batch=N}}
  %0 = nn.relu %a : tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}
