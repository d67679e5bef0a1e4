// cuBLAS's fp32 matrix product, the yardstick for strata's generated one
// (bench/gpu/matmul_bench.sh). Plain FP32 (CUBLAS_DEFAULT_MATH: no TF32).
// Usage: cublas_sgemm [N]   prints the mean time of 20 N x N x N products.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CHECK(x)                                                              \
  do {                                                                        \
    auto r_ = (x);                                                            \
    if (r_ != 0) {                                                            \
      std::fprintf(stderr, "%s failed: %d\n", #x, (int)r_);                   \
      return 1;                                                               \
    }                                                                         \
  } while (0)

__global__ void fill(float *p, size_t n, float scale) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i < n)
    p[i] = scale * (float)((i * 2654435761u) % 1000) / 1000.0f;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 4096;
  size_t count = (size_t)n * n;
  float *a, *b, *c;
  CHECK(cudaMalloc(&a, count * sizeof(float)));
  CHECK(cudaMalloc(&b, count * sizeof(float)));
  CHECK(cudaMalloc(&c, count * sizeof(float)));
  fill<<<(count + 255) / 256, 256>>>(a, count, 1.0f);
  fill<<<(count + 255) / 256, 256>>>(b, count, 0.5f);
  cublasHandle_t handle;
  CHECK(cublasCreate(&handle));
  const float one = 1.0f, zero = 0.0f;
  for (int i = 0; i < 3; ++i)
    CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, b, n, a, n,
                      &zero, c, n));
  cudaEvent_t start, end;
  cudaEventCreate(&start);
  cudaEventCreate(&end);
  const int runs = 20;
  cudaEventRecord(start);
  for (int i = 0; i < runs; ++i)
    cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, b, n, a, n, &zero, c, n);
  cudaEventRecord(end);
  CHECK(cudaEventSynchronize(end));
  float ms = 0;
  cudaEventElapsedTime(&ms, start, end);
  ms /= runs;
  std::printf("cublas_sgemm n=%d: %.4f ms, %.2f TFLOP/s\n", n, ms,
              2.0 * n * (double)n * n / (ms * 1e-3) / 1e12);
  return 0;
}
