/* Modules: a compiled model's entry point plus its parsed signature. */
#include "internal.h"
#include "strata/module_abi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct strata_module {
  void *library; /* dlopen handle, or NULL for a linked-in model */
  int (*run)(void **);
  int num_inputs, num_outputs;
  strata_tensor_info *infos; /* inputs, then outputs */
};

static int parse_signature(const char *text, strata_module *m) {
  int version = 0, n = 0, consumed = 0;
  if (sscanf(text, "strata-module %d\ninputs %d\n%n", &version, &n, &consumed) != 2 ||
      version != 1)
    return strata_fail("the module's signature is not one this runtime reads");
  const char *p = text + consumed;
  m->num_inputs = n;
  int capacity = 64;
  m->infos = calloc((size_t)capacity, sizeof *m->infos);
  int count = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < n; ++i, ++count) {
      if (count >= capacity) {
        capacity *= 2;
        m->infos = realloc(m->infos, (size_t)capacity * sizeof *m->infos);
      }
      strata_tensor_info *t = &m->infos[count];
      memset(t, 0, sizeof *t);
      const char *tab = strchr(p, '\t');
      if (!tab)
        return strata_fail("malformed signature line");
      size_t len = (size_t)(tab - p) < sizeof t->name - 1 ? (size_t)(tab - p)
                                                          : sizeof t->name - 1;
      memcpy(t->name, p, len);
      char dtype[32];
      int rank;
      if (sscanf(tab + 1, "%31s %d%n", dtype, &rank, &consumed) != 2 ||
          rank > STRATA_MAX_RANK)
        return strata_fail("malformed signature line for '%s'", t->name);
      t->dtype = strata_dtype_from_name(dtype);
      t->rank = rank;
      p = tab + 1 + consumed;
      for (int d = 0; d < rank; ++d) {
        long long v;
        if (sscanf(p, "%lld%n", &v, &consumed) != 1)
          return strata_fail("malformed shape for '%s'", t->name);
        t->dims[d] = v;
        p += consumed;
      }
      p = strchr(p, '\n');
      if (!p)
        return strata_fail("truncated signature");
      ++p;
    }
    if (pass == 0) {
      if (sscanf(p, "outputs %d\n%n", &n, &consumed) != 1)
        return strata_fail("signature lacks outputs");
      p += consumed;
      m->num_outputs = n;
    }
  }
  return 0;
}

int strata_module_from_symbols(int (*run)(void **), const char *signature,
                               strata_module **out) {
  strata_module *m = calloc(1, sizeof *m);
  if (!m)
    return strata_fail("out of memory");
  m->run = run;
  if (parse_signature(signature, m)) {
    strata_module_free(m);
    return 1;
  }
  *out = m;
  return 0;
}

int strata_module_load(const char *path, strata_module **out) {
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return strata_fail("%s: cannot load: %s", path, dlerror());
  void *run = dlsym(lib, STRATA_MODEL_RUN_SYMBOL);
  const char *sig = dlsym(lib, STRATA_MODEL_SIGNATURE_SYMBOL);
  if (!run || !sig) {
    dlclose(lib);
    return strata_fail("%s: not a strata module (no %s)", path,
                       STRATA_MODEL_RUN_SYMBOL);
  }
  if (strata_module_from_symbols((int (*)(void **))run, sig, out)) {
    dlclose(lib);
    return 1;
  }
  (*out)->library = lib;
  return 0;
}

void strata_module_free(strata_module *m) {
  if (!m)
    return;
  if (m->library)
    dlclose(m->library);
  free(m->infos);
  free(m);
}

int strata_module_num_inputs(const strata_module *m) { return m->num_inputs; }
int strata_module_num_outputs(const strata_module *m) { return m->num_outputs; }

const strata_tensor_info *strata_module_input(const strata_module *m, int i) {
  return i >= 0 && i < m->num_inputs ? &m->infos[i] : NULL;
}
const strata_tensor_info *strata_module_output(const strata_module *m, int i) {
  return i >= 0 && i < m->num_outputs ? &m->infos[m->num_inputs + i] : NULL;
}

int strata_module_run(strata_module *m, const strata_tensor *inputs,
                      strata_tensor *outputs) {
  int total = m->num_inputs + m->num_outputs;
  void **buffers = calloc((size_t)(total ? total : 1), sizeof(void *));
  if (!buffers)
    return strata_fail("out of memory");
  for (int i = 0; i < m->num_inputs; ++i) {
    const strata_tensor_info *info = &m->infos[i];
    const strata_tensor *t = &inputs[i];
    int same = t->rank == info->rank && t->dtype == info->dtype;
    for (int d = 0; same && d < t->rank; ++d)
      same = t->dims[d] == info->dims[d];
    if (!same) {
      char want[256], got[256];
      strata_format_shape(want, sizeof want, info->rank, info->dims);
      strata_format_shape(got, sizeof got, t->rank, t->dims);
      free(buffers);
      return strata_fail("input '%s' expects %s %s, got %s %s", info->name,
                         strata_dtype_name(info->dtype), want,
                         strata_dtype_name(t->dtype), got);
    }
    buffers[i] = t->data;
  }
  for (int i = 0; i < m->num_outputs; ++i) {
    const strata_tensor_info *info = &m->infos[m->num_inputs + i];
    if (strata_tensor_alloc_uninitialized(info->dtype, info->rank, info->dims,
                                          &outputs[i])) {
      for (int j = 0; j < i; ++j)
        strata_tensor_free(&outputs[j]);
      free(buffers);
      return 1;
    }
    buffers[m->num_inputs + i] = outputs[i].data;
  }
  int rc = m->run(buffers);
  free(buffers);
  return rc ? strata_fail("the model returned error %d", rc) : 0;
}
