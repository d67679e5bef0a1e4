// libFuzzer target: the runtime's reader of compressed packages (.stz),
// which compiled programs and strata run on user files. The checksum is
// recomputed before opening, so that mutations reach the records and the
// Huffman decoder rather than stopping at the checksum.
#include "strata/package.h"
#include "strata/runtime.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  if (size >= 32) {
    uint32_t crc = strata_crc32(0, bytes.data() + 32, size - 32);
    std::memcpy(&bytes[24], &crc, 4);
  }
  strata_package *p = nullptr;
  if (strata_package_open(bytes.data(), bytes.size(), "fuzz.stz", &p)) {
    if (!strata_last_error()[0])
      std::abort(); // a refusal must say why
    return 0;
  }
  for (int i = 0; i < strata_package_num_layers(p); ++i) {
    strata_packed_layer info;
    if (strata_package_layer(p, i, &info) || info.count > (int64_t(1) << 22))
      continue;
    std::vector<float> out(size_t(info.count));
    if (strata_package_decode_layer(p, i, out.data(), info.count) && !strata_last_error()[0])
      std::abort();
  }
  strata_package_close(p);
  return 0;
}
