// libFuzzer target: the runtime's .npy and ONNX TensorProto .pb readers
// (what compiled programs and strata run read from users). The first byte
// chooses the format.
#include "strata/runtime.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" int strata_tensor_parse_npy(const unsigned char *, size_t, const char *,
                                       strata_tensor *);
extern "C" int strata_tensor_parse_pb(const unsigned char *, size_t, const char *,
                                      strata_tensor *);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  strata_tensor t;
  std::memset(&t, 0, sizeof t);
  int rc = data[0] & 1 ? strata_tensor_parse_pb(data + 1, size - 1, "fuzz.pb", &t)
                       : strata_tensor_parse_npy(data + 1, size - 1, "fuzz.npy", &t);
  if (rc == 0) {
    // A tensor the reader accepts is whole: touch every byte of it.
    size_t bytes = (size_t)strata_tensor_num_elements(&t) * strata_dtype_size(t.dtype);
    volatile unsigned char sum = 0;
    for (size_t i = 0; i < bytes; ++i)
      sum += static_cast<unsigned char *>(t.data)[i];
    strata_tensor_free(&t);
  } else if (!strata_last_error()[0]) {
    std::abort(); // a refusal must say why
  }
  return 0;
}
