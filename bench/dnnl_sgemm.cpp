// oneDNN's single-precision GEMM, timed: the reference for strata's
// generated matmul (bench/README.md). Usage: dnnl_sgemm N [iters]
// Prints one JSON object: {"n":N,"median_ms":...,"gflops":...}.
#include <dnnl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 1024;
  int iters = argc > 2 ? std::atoi(argv[2]) : 20;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  std::vector<double> ms;
  for (int i = 0; i <= iters; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                   c.data(), n) != dnnl_success)
      return 1;
    auto t1 = std::chrono::steady_clock::now();
    if (i) // the first call initializes oneDNN
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  double median = ms[ms.size() / 2];
  std::printf("{\"n\":%ld,\"median_ms\":%.4f,\"gflops\":%.2f}\n", n, median,
              2.0 * n * n * n / (median * 1e6));
  return 0;
}
