// libFuzzer target: what strata train reads besides the model: MNIST idx
// files (gzip or not), .npy sample/label pairs, and checkpoints. The first
// byte chooses the reader; idx and .npy inputs are split in two files
// (images and labels) at the position the next two bytes give.
#include "train/Checkpoint.h"
#include "train/Dataset.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" int strata_tensor_parse_npy(const unsigned char *, size_t, const char *,
                                       strata_tensor *);

using namespace strata::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  int which = data[0] % 3;
  size_t split = ((size_t)data[1] << 8 | data[2]) % (size - 2);
  const uint8_t *a = data + 3, *b = data + 3 + split;
  size_t na = split > size - 3 ? size - 3 : split, nb = size - 3 - na;
  std::string error;
  Dataset out;
  if (which == 0) {
    std::vector<uint8_t> images(a, a + na), labels(b, b + nb), pixels, ids;
    std::vector<uint32_t> idims, ldims;
    bool ok = gunzipIfGzip(images, "images", error) && gunzipIfGzip(labels, "labels", error) &&
              parseIdx(images, "images", idims, pixels, error) &&
              parseIdx(labels, "labels", ldims, ids, error) &&
              datasetFromIdx(idims, pixels, ldims, ids, "images", "labels", out, error);
    if (!ok && error.empty())
      std::abort();
  } else if (which == 1) {
    strata_tensor x, y;
    std::memset(&x, 0, sizeof x);
    std::memset(&y, 0, sizeof y);
    if (strata_tensor_parse_npy(a, na, "x.npy", &x) == 0 &&
        strata_tensor_parse_npy(b, nb, "y.npy", &y) == 0 &&
        !datasetFromTensors(x, y, "x.npy", "y.npy", out, error) && error.empty())
      std::abort();
    strata_tensor_free(&x);
    strata_tensor_free(&y);
  } else {
    Checkpoint c;
    std::string bytes(reinterpret_cast<const char *>(data + 1), size - 1);
    if (!parseCheckpoint(bytes, "fuzz.ckpt", c, error) && error.empty())
      std::abort();
  }
  return 0;
}
