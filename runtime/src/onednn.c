/* The runtime side of convolutions, max pooling, fully connected layers and
 * batched matrix products (Winograd convolutions) that the compiler gave to
 * oneDNN (passes/graph/OneDnnConvs.cpp, compiler/cpu/LowerOneDnnCalls.cpp).
 *
 * Linked, with libdnnl, only into modules that call it. Each call site in
 * the generated code owns a zeroed state word where the site's oneDNN
 * primitive is kept once created (at load, by strata_model_prepare, for the
 * module's thread count; again when the count changes). The primitive, and
 * constant weights reordered into its preferred layout, are shared by every
 * context running the module. What a run needs for itself lives in its
 * strata_run_context: a stream, the scratchpad (primitives are created in
 * oneDNN's user scratchpad mode, which makes concurrent executions of one
 * primitive safe) and room for weights that are not constants. Memory
 * objects are made per call around the caller's buffers (a few
 * microseconds per call).
 *
 * Locking: runs hold a shared lock on the primitives; creating or replacing
 * them (prepare, a changed thread count) takes it exclusively, so a
 * primitive is never destroyed under a run. Constant weights are reordered
 * once, under a mutex.
 *
 * A call site's descriptor is a list of int64 written by the compiler, its
 * fields defined in strata/onednn_calls.h.
 *
 * Errors never abort: the first failure of a run is recorded in its context
 * with the ONNX node's name (strata_run_fail), later calls of that run do
 * nothing, and strata_model_run returns 1. Failures at load are reported by
 * strata_onednn_prepare_status / strata_onednn_last_error. The functions
 * are hidden in shared-library modules except the ABI's. */
#include "run_checks.h"
#include "strata/onednn_calls.h"
#include "strata/runtime.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API __attribute__((visibility("default")))

/* From libstrata_parallel.a, linked into every module. */
int strata_model_get_threads(void);

/* One call site's shared objects. */
typedef struct site_state {
  dnnl_primitive_t prim;
  /* The primitive's memory descriptors (weights in its chosen layout). */
  dnnl_memory_desc_t src_md, weights_md, bias_md, dst_md;
  int has_weights, has_bias;
  dnnl_memory_desc_t scratch_md, reorder_scratch_md;
  size_t scratch_bytes;
  /* Weights arrive as oihw/goihw; when the primitive wants another layout
   * they are reordered: once into `reordered` if they are constants (for
   * the user pointer `reordered_of`), else on every run into the context. */
  dnnl_primitive_t reorder;
  dnnl_memory_desc_t user_weights_md;
  size_t reorder_scratch_bytes, weights_bytes;
  void *reordered;
  const void *reordered_of; /* read and written atomically */
  int threads; /* oneDNN sizes its work split for this count at creation */
  int64_t *state; /* the generated code's state word pointing here */
  struct site_state *next;
} site_state;

/* One context's objects (strata_run_context.onednn). */
typedef struct {
  dnnl_stream_t stream;
  void *scratch;
  size_t scratch_bytes;
  void *weights; /* non-constant weights, reordered for this run */
  size_t weights_bytes;
} context_state;

static dnnl_engine_t engine;
static site_state *sites; /* every site created, for strata_model_release */
static pthread_rwlock_t primitives_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t reorder_lock = PTHREAD_MUTEX_INITIALIZER;
/* Failures outside a run (creating primitives at load). */
static int prepare_failed;
static char prepare_error[1024];

API const char *strata_onednn_last_error(void) { return prepare_error; }

/* 1 if creating some primitive failed since the last call (then cleared):
 * what strata_model_prepare returns. */
API int strata_onednn_prepare_status(void) {
  int failed = prepare_failed;
  prepare_failed = 0;
  return failed;
}

/* Records a failure: in the run's context, or (context NULL) as a failure
 * to prepare. Returns 1. */
static int fail(strata_run_context *context, const char *node, const char *what,
                dnnl_status_t status) {
  if (context)
    return strata_run_fail(context, "oneDNN failed at node '%s': %s (dnnl status %d)",
                           node[0] ? node : "?", what, (int)status);
  if (!prepare_failed)
    snprintf(prepare_error, sizeof prepare_error,
             "oneDNN failed at node '%s': %s (dnnl status %d)", node[0] ? node : "?",
             what, (int)status);
  prepare_failed = 1;
  return 1;
}

#define CHECK(call, what)                                                      \
  do {                                                                         \
    dnnl_status_t status_ = (call);                                            \
    if (status_ != dnnl_success)                                               \
      return fail(NULL, node, what, status_);                                  \
  } while (0)

/* Called with primitives_lock held exclusively. */
static int ensure_engine(const char *node) {
  if (!engine)
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine");
  return 0;
}

static void release_site(site_state *s) {
  if (s->prim)
    dnnl_primitive_destroy(s->prim);
  if (s->reorder)
    dnnl_primitive_destroy(s->reorder);
  free(s->reordered);
  s->prim = NULL, s->reorder = NULL, s->reordered = NULL, s->reordered_of = NULL;
}

/* `count` (kind, alpha bits, beta bits) triples at `p`. */
static int add_post_ops(dnnl_primitive_attr_t attr, int64_t count,
                        const int64_t *p, const char *node) {
  dnnl_post_ops_t post;
  CHECK(dnnl_post_ops_create(&post), "creating post-ops");
  dnnl_status_t st = dnnl_success;
  for (int64_t i = 0; i < count && st == dnnl_success; ++i, p += 3) {
    int32_t bits[2] = {(int32_t)p[1], (int32_t)p[2]};
    float lo, hi;
    memcpy(&lo, &bits[0], 4);
    memcpy(&hi, &bits[1], 4);
    if (p[0] == STRATA_ONEDNN_POST_SUM)
      st = dnnl_post_ops_append_sum(post, 1.0f);
    else if (p[0] == STRATA_ONEDNN_POST_RELU)
      st = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    else
      st = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_clip, lo, hi);
  }
  if (st == dnnl_success)
    st = dnnl_primitive_attr_set_post_ops(attr, post);
  dnnl_post_ops_destroy(post);
  CHECK(st, "adding post-ops");
  return 0;
}

/* Attributes of every primitive: the caller provides the scratchpad. */
static int make_attr(dnnl_primitive_attr_t *attr, int64_t num_post, const int64_t *post,
                     const char *node) {
  CHECK(dnnl_primitive_attr_create(attr), "creating attributes");
  if (dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user) !=
          dnnl_success ||
      add_post_ops(*attr, num_post, post, node)) {
    dnnl_primitive_attr_destroy(*attr);
    return fail(NULL, node, "setting attributes", dnnl_runtime_error);
  }
  return 0;
}

/* The scratchpad `pd` needs (its descriptor into `out`), in bytes. */
static size_t scratch_of(const_dnnl_primitive_desc_t pd, dnnl_memory_desc_t *out) {
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  if (!md)
    return 0;
  *out = *md;
  return dnnl_memory_desc_get_size(md);
}

/* The primitive, descriptors and weights' reorder of a convolution, inner
 * product or matmul `pd`; `w_user_md` is the layout the weights arrive in. */
static int finish_weighted(site_state *s, const_dnnl_primitive_desc_t pd,
                           const dnnl_memory_desc_t *w_user_md, int64_t has_bias,
                           const char *node) {
  if (dnnl_primitive_create(&s->prim, pd) != dnnl_success)
    return fail(NULL, node, "creating the primitive", dnnl_runtime_error);
  s->src_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  s->weights_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  s->dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  s->has_weights = 1;
  s->has_bias = has_bias != 0;
  if (has_bias)
    s->bias_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1);
  s->scratch_bytes = scratch_of(pd, &s->scratch_md);
  s->user_weights_md = *w_user_md;
  s->weights_bytes = dnnl_memory_desc_get_size(&s->weights_md);
  if (dnnl_memory_desc_equal(&s->weights_md, w_user_md))
    return 0;
  dnnl_primitive_attr_t attr;
  if (make_attr(&attr, 0, NULL, node))
    return 1;
  dnnl_primitive_desc_t rpd;
  dnnl_status_t st = dnnl_reorder_primitive_desc_create(&rpd, w_user_md, engine,
                                                        &s->weights_md, engine, attr);
  dnnl_primitive_attr_destroy(attr);
  if (st != dnnl_success)
    return fail(NULL, node, "preparing the weights' reorder", st);
  s->reorder_scratch_bytes = scratch_of(rpd, &s->reorder_scratch_md);
  st = dnnl_primitive_create(&s->reorder, rpd);
  dnnl_primitive_desc_destroy(rpd);
  if (st != dnnl_success)
    return fail(NULL, node, "creating the weights' reorder", st);
  return 0;
}

/* The primitive of operation descriptor `op_desc` with `num_post` post-ops. */
static int create_weighted(site_state *s, const_dnnl_op_desc_t op_desc,
                           int64_t num_post, const int64_t *post,
                           const dnnl_memory_desc_t *w_user_md, int64_t has_bias,
                           const char *unsupported, const char *node) {
  dnnl_primitive_attr_t attr;
  if (make_attr(&attr, num_post, post, node))
    return 1;
  dnnl_primitive_desc_t pd;
  dnnl_status_t st = dnnl_primitive_desc_create(&pd, op_desc, attr, engine, NULL);
  dnnl_primitive_attr_destroy(attr);
  CHECK(st, unsupported);
  int rc = finish_weighted(s, pd, w_user_md, has_bias, node);
  dnnl_primitive_desc_destroy(pd);
  return rc;
}

/* oneDNN's tag of an activation layout field: 0 plain NCHW, else the
 * channel block of nChw<block>c. */
static int layout_tag(int64_t block, dnnl_format_tag_t *tag, const char *node) {
  switch (block) {
  case 0: *tag = dnnl_nchw; return 0;
  case STRATA_ONEDNN_NHWC: *tag = dnnl_nhwc; return 0;
  case 8: *tag = dnnl_nChw8c; return 0;
  case 16: *tag = dnnl_nChw16c; return 0;
  default: return fail(NULL, node, "the activation layout is not NCHW, NHWC or blocked by 8 or 16",
                       dnnl_unimplemented);
  }
}

/* oneDNN's data type of a strata_dtype field. */
static int data_type(int64_t dtype, dnnl_data_type_t *type, const char *node) {
  switch (dtype) {
  case STRATA_FLOAT: *type = dnnl_f32; return 0;
  case STRATA_BFLOAT16: *type = dnnl_bf16; return 0;
  case STRATA_FLOAT16: *type = dnnl_f16; return 0;
  case STRATA_INT8: *type = dnnl_s8; return 0;
  case STRATA_UINT8: *type = dnnl_u8; return 0;
  case STRATA_INT32: *type = dnnl_s32; return 0;
  default: return fail(NULL, node, "an element type the oneDNN glue does not take",
                       dnnl_unimplemented);
  }
}

static int create_conv(site_state *s, const int64_t *d, const char *node) {
  int grouped = d[STRATA_CONV_GROUPS] != 1, wrank = grouped ? 5 : 4;
  dnnl_dims_t src_dims = {d[STRATA_CONV_N], d[STRATA_CONV_IC], d[STRATA_CONV_IH], d[STRATA_CONV_IW]};
  dnnl_dims_t dst_dims = {d[STRATA_CONV_N], d[STRATA_CONV_OC], d[STRATA_CONV_OH], d[STRATA_CONV_OW]};
  dnnl_dims_t w_dims = {d[STRATA_CONV_OC], d[STRATA_CONV_IC], d[STRATA_CONV_KH], d[STRATA_CONV_KW]};
  if (grouped) {
    dnnl_dims_t g = {d[STRATA_CONV_GROUPS], d[STRATA_CONV_OC] / d[STRATA_CONV_GROUPS], d[STRATA_CONV_IC] / d[STRATA_CONV_GROUPS], d[STRATA_CONV_KH], d[STRATA_CONV_KW]};
    memcpy(w_dims, g, sizeof g);
  }
  dnnl_dims_t b_dims = {d[STRATA_CONV_OC]};
  dnnl_memory_desc_t src_md, dst_md, w_md, w_user_md, b_md;
  dnnl_format_tag_t src_tag, dst_tag;
  dnnl_data_type_t src_type, w_type, dst_type;
  if (layout_tag(d[STRATA_CONV_SRC_BLOCK], &src_tag, node) ||
      layout_tag(d[STRATA_CONV_DST_BLOCK], &dst_tag, node) ||
      data_type(d[STRATA_CONV_SRC_TYPE], &src_type, node) ||
      data_type(d[STRATA_CONV_WEIGHTS_TYPE], &w_type, node) ||
      data_type(d[STRATA_CONV_DST_TYPE], &dst_type, node))
    return 1;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, src_type, src_tag),
        "describing the input");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dst_type, dst_tag),
        "describing the output");
  CHECK(dnnl_memory_desc_init_by_tag(&w_md, wrank, w_dims, w_type, dnnl_format_tag_any),
        "describing the weights");
  CHECK(dnnl_memory_desc_init_by_tag(&w_user_md, wrank, w_dims, w_type,
                                     grouped ? dnnl_goihw : dnnl_oihw),
        "describing the weights");
  CHECK(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dst_type, dnnl_x),
        "describing the bias");
  dnnl_dims_t strides = {d[STRATA_CONV_SH], d[STRATA_CONV_SW]};
  dnnl_dims_t dilates = {d[STRATA_CONV_DH] - 1, d[STRATA_CONV_DW] - 1}; /* oneDNN counts from 0 */
  dnnl_dims_t pad_l = {d[STRATA_CONV_PT], d[STRATA_CONV_PL]}, pad_r = {d[STRATA_CONV_PB], d[STRATA_CONV_PR]};
  dnnl_convolution_desc_t desc;
  CHECK(dnnl_dilated_convolution_forward_desc_init(
            &desc, dnnl_forward_inference, dnnl_convolution_direct, &src_md,
            &w_md, d[STRATA_CONV_HAS_BIAS] ? &b_md : NULL, &dst_md, strides, dilates,
            pad_l, pad_r),
        "describing the convolution");
  return create_weighted(s, &desc, d[STRATA_CONV_NUM_POST], d + STRATA_CONV_POST, &w_user_md,
                         d[STRATA_CONV_HAS_BIAS], "no convolution implementation for this shape",
                         node);
}

static int create_inner_product(site_state *s, const int64_t *d, const char *node) {
  dnnl_dims_t src_dims = {d[STRATA_IP_M], d[STRATA_IP_K]}, w_dims = {d[STRATA_IP_N], d[STRATA_IP_K]};
  dnnl_dims_t dst_dims = {d[STRATA_IP_M], d[STRATA_IP_N]}, b_dims = {d[STRATA_IP_N]};
  dnnl_memory_desc_t src_md, dst_md, w_md, w_user_md, b_md;
  dnnl_data_type_t src_type, w_type, dst_type;
  if (data_type(d[STRATA_IP_SRC_TYPE], &src_type, node) ||
      data_type(d[STRATA_IP_WEIGHTS_TYPE], &w_type, node) ||
      data_type(d[STRATA_IP_DST_TYPE], &dst_type, node))
    return 1;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, src_dims, src_type, dnnl_nc),
        "describing the input");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dst_dims, dst_type, dnnl_nc),
        "describing the output");
  CHECK(dnnl_memory_desc_init_by_tag(&w_md, 2, w_dims, w_type, dnnl_format_tag_any),
        "describing the weights");
  CHECK(dnnl_memory_desc_init_by_tag(&w_user_md, 2, w_dims, w_type, dnnl_oi),
        "describing the weights");
  CHECK(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dst_type, dnnl_x),
        "describing the bias");
  dnnl_inner_product_desc_t desc;
  CHECK(dnnl_inner_product_forward_desc_init(&desc, dnnl_forward_inference, &src_md,
                                             &w_md, d[STRATA_IP_HAS_BIAS] ? &b_md : NULL,
                                             &dst_md),
        "describing the inner product");
  return create_weighted(s, &desc, d[STRATA_IP_NUM_POST], d + STRATA_IP_POST, &w_user_md,
                         d[STRATA_IP_HAS_BIAS], "no inner product implementation for this shape",
                         node);
}

static int create_batch_matmul(site_state *s, const int64_t *d, const char *node) {
  dnnl_dims_t src_dims = {d[STRATA_BMM_G], d[STRATA_BMM_M], d[STRATA_BMM_K]}, w_dims = {d[STRATA_BMM_G], d[STRATA_BMM_K], d[STRATA_BMM_N]};
  dnnl_dims_t dst_dims = {d[STRATA_BMM_G], d[STRATA_BMM_M], d[STRATA_BMM_N]};
  dnnl_memory_desc_t src_md, dst_md, w_md, w_user_md;
  dnnl_data_type_t lhs_type, rhs_type, dst_type;
  if (data_type(d[STRATA_BMM_LHS_TYPE], &lhs_type, node) ||
      data_type(d[STRATA_BMM_RHS_TYPE], &rhs_type, node) ||
      data_type(d[STRATA_BMM_DST_TYPE], &dst_type, node))
    return 1;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 3, src_dims, lhs_type, dnnl_abc),
        "describing the left operand");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 3, dst_dims, dst_type, dnnl_abc),
        "describing the result");
  CHECK(dnnl_memory_desc_init_by_tag(&w_md, 3, w_dims, rhs_type,
                                     d[STRATA_BMM_WEIGHTS_CONST] ? dnnl_format_tag_any : dnnl_abc),
        "describing the right operand");
  CHECK(dnnl_memory_desc_init_by_tag(&w_user_md, 3, w_dims, rhs_type, dnnl_abc),
        "describing the right operand");
  dnnl_matmul_desc_t desc;
  CHECK(dnnl_matmul_desc_init(&desc, &src_md, &w_md, NULL, &dst_md),
        "describing the matrix product");
  return create_weighted(s, &desc, 0, NULL, &w_user_md, 0,
                         "no matrix product implementation for this shape", node);
}

static int create_pool(site_state *s, const int64_t *d, const char *node) {
  dnnl_format_tag_t tag;
  dnnl_data_type_t type;
  if (layout_tag(d[STRATA_POOL_BLOCK], &tag, node) ||
      data_type(d[STRATA_POOL_TYPE], &type, node))
    return 1;
  dnnl_dims_t src_dims = {d[STRATA_POOL_N], d[STRATA_POOL_C], d[STRATA_POOL_IH], d[STRATA_POOL_IW]};
  dnnl_dims_t dst_dims = {d[STRATA_POOL_N], d[STRATA_POOL_C], d[STRATA_POOL_OH], d[STRATA_POOL_OW]};
  dnnl_memory_desc_t src_md, dst_md;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, type, tag),
        "describing the input");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, type, tag),
        "describing the output");
  dnnl_dims_t strides = {d[STRATA_POOL_SH], d[STRATA_POOL_SW]}, kernel = {d[STRATA_POOL_KH], d[STRATA_POOL_KW]};
  dnnl_dims_t pad_l = {d[STRATA_POOL_PT], d[STRATA_POOL_PL]}, pad_r = {d[STRATA_POOL_PB], d[STRATA_POOL_PR]};
  dnnl_pooling_desc_t desc;
  CHECK(dnnl_pooling_forward_desc_init(&desc, dnnl_forward_inference,
                                       dnnl_pooling_max, &src_md, &dst_md,
                                       strides, kernel, pad_l, pad_r),
        "describing the pooling");
  dnnl_primitive_attr_t attr;
  if (make_attr(&attr, 0, NULL, node))
    return 1;
  dnnl_primitive_desc_t pd;
  dnnl_status_t st = dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL);
  dnnl_primitive_attr_destroy(attr);
  CHECK(st, "no pooling implementation for this shape");
  int rc = 0;
  if (dnnl_primitive_create(&s->prim, pd) != dnnl_success) {
    rc = fail(NULL, node, "creating the pooling", dnnl_runtime_error);
  } else {
    s->src_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    s->dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    s->scratch_bytes = scratch_of(pd, &s->scratch_md);
  }
  dnnl_primitive_desc_destroy(pd);
  return rc;
}

/* The site's primitive for `threads`, created or replaced. Called with
 * primitives_lock held exclusively; failures are recorded as a failure to
 * prepare, which a run then reports with its node. */
static site_state *prepare_locked(int64_t *state, const int64_t *d, const char *node,
                                  int threads) {
  site_state *s = (site_state *)(intptr_t)*state;
  if (s && s->prim && s->threads == threads)
    return s;
  if (ensure_engine(node))
    return NULL;
  if (!s) {
    s = calloc(1, sizeof *s);
    if (!s) {
      fail(NULL, node, "out of memory", dnnl_out_of_memory);
      return NULL;
    }
    s->state = state;
    s->next = sites;
    sites = s;
    *state = (int64_t)(intptr_t)s;
  }
  release_site(s);
  int (*create)(site_state *, const int64_t *, const char *) =
      d[0] == STRATA_ONEDNN_CONV ? create_conv
      : d[0] == STRATA_ONEDNN_INNER_PRODUCT ? create_inner_product
      : d[0] == STRATA_ONEDNN_BATCH_MATMUL ? create_batch_matmul
                                  : create_pool;
  if (create(s, d, node)) {
    release_site(s);
    return NULL;
  }
  s->threads = threads;
  return s;
}

/* Caps oneDNN's instruction set at the one the module was compiled for
 * (strata_onednn_isa). oneDNN takes this once per process, before its first
 * primitive: the first module loaded sets it, later calls change nothing. */
HIDDEN void strata_onednn_limit_isa(int64_t isa) {
  static const dnnl_cpu_isa_t isas[] = {
      [STRATA_ONEDNN_ISA_ALL] = dnnl_cpu_isa_all,
      [STRATA_ONEDNN_ISA_SSE41] = dnnl_cpu_isa_sse41,
      [STRATA_ONEDNN_ISA_AVX2] = dnnl_cpu_isa_avx2,
      [STRATA_ONEDNN_ISA_AVX512_CORE] = dnnl_cpu_isa_avx512_core,
      [STRATA_ONEDNN_ISA_AVX512_CORE_VNNI] = dnnl_cpu_isa_avx512_core_vnni,
      [STRATA_ONEDNN_ISA_AVX512_CORE_BF16] = dnnl_cpu_isa_avx512_core_bf16,
      [STRATA_ONEDNN_ISA_AVX512_CORE_AMX] = dnnl_cpu_isa_avx512_core_amx,
  };
  if (isa > 0 && isa < (int64_t)(sizeof isas / sizeof isas[0]))
    (void)dnnl_set_max_cpu_isa(isas[isa]);
}

/* Creates a site's primitive for the module's current thread count ahead of
 * its first run (called by strata_model_prepare, never during a run). */
HIDDEN void strata_onednn_prepare(int64_t *state, const int64_t *d, const char *node) {
  int threads = strata_model_get_threads();
  int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  pthread_rwlock_wrlock(&primitives_lock);
  prepare_locked(state, d, node, threads);
  pthread_rwlock_unlock(&primitives_lock);
  omp_set_num_threads(saved);
}

/* Takes the shared lock on a site whose primitive fits `threads`, creating
 * or replacing it first if needed. NULL (lock released, failure recorded
 * in `context`) if it cannot be had. */
static site_state *acquire(strata_run_context *context, int64_t *state, const int64_t *d,
                           const char *node, int threads) {
  pthread_rwlock_rdlock(&primitives_lock);
  site_state *s = (site_state *)(intptr_t)*state;
  if (s && s->prim && s->threads == threads)
    return s;
  pthread_rwlock_unlock(&primitives_lock);
  pthread_rwlock_wrlock(&primitives_lock);
  s = prepare_locked(state, d, node, threads);
  if (!s) {
    strata_run_fail(context, "%s", prepare_error);
    prepare_failed = 0;
  }
  pthread_rwlock_unlock(&primitives_lock);
  if (!s)
    return NULL;
  return acquire(context, state, d, node, threads);
}

/* The context's stream and buffers, made on its first oneDNN call; the
 * scratchpad and weight buffers grown to at least the given sizes. */
static context_state *context_objects(strata_run_context *context, size_t scratch,
                                      size_t weights, const char *node) {
  context_state *c = context->onednn;
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c || dnnl_stream_create(&c->stream, engine, dnnl_stream_default_flags) !=
                  dnnl_success) {
      free(c);
      fail(context, node, "creating a stream", dnnl_out_of_memory);
      return NULL;
    }
    context->onednn = c;
  }
  void **bufs[2] = {&c->scratch, &c->weights};
  size_t *have[2] = {&c->scratch_bytes, &c->weights_bytes};
  size_t need[2] = {scratch, weights};
  for (int i = 0; i < 2; ++i) {
    if (need[i] <= *have[i])
      continue;
    free(*bufs[i]);
    *have[i] = 0;
    *bufs[i] = aligned_alloc(64, (need[i] + 63) / 64 * 64);
    if (!*bufs[i]) {
      fail(context, node, "out of memory for the scratchpad", dnnl_out_of_memory);
      return NULL;
    }
    *have[i] = need[i];
  }
  return c;
}

/* Runs `prim` on `args` (room for one more) plus the context's scratchpad
 * of `scratch_md` (when `scratch_bytes`), to completion. */
static int execute(strata_run_context *context, context_state *c, dnnl_primitive_t prim,
                   int nargs, dnnl_exec_arg_t *args, const dnnl_memory_desc_t *scratch_md,
                   size_t scratch_bytes, const char *node) {
  dnnl_memory_t scratch = NULL;
  if (scratch_bytes) {
    if (dnnl_memory_create(&scratch, scratch_md, engine, c->scratch) != dnnl_success)
      return fail(context, node, "wrapping the scratchpad", dnnl_runtime_error);
    args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, scratch};
  }
  dnnl_status_t st = dnnl_primitive_execute(prim, c->stream, nargs, args);
  if (st == dnnl_success)
    st = dnnl_stream_wait(c->stream);
  if (scratch)
    dnnl_memory_destroy(scratch);
  return st == dnnl_success ? 0 : fail(context, node, "running", st);
}

/* A memory object of `md` around the caller's buffer, or NULL (recorded). */
static dnnl_memory_t wrap(strata_run_context *context, const dnnl_memory_desc_t *md,
                          const void *data, const char *node) {
  dnnl_memory_t m = NULL;
  if (dnnl_memory_create(&m, md, engine, (void *)data) != dnnl_success) {
    fail(context, node, "wrapping a buffer", dnnl_runtime_error);
    return NULL;
  }
  return m;
}

/* The weights in the primitive's layout: the caller's, constants reordered
 * once for every context, others reordered into the context. */
static const void *weights_for(strata_run_context *context, context_state *c,
                               site_state *s, const void *weights, int64_t weights_const,
                               const char *node) {
  if (!s->reorder)
    return weights;
  if (weights_const && __atomic_load_n(&s->reordered_of, __ATOMIC_ACQUIRE) == weights)
    return s->reordered;
  void *to = c->weights;
  if (weights_const) {
    pthread_mutex_lock(&reorder_lock);
    if (s->reordered_of == weights) {
      pthread_mutex_unlock(&reorder_lock);
      return s->reordered;
    }
    if (!s->reordered)
      s->reordered = aligned_alloc(64, (s->weights_bytes + 63) / 64 * 64);
    to = s->reordered;
  }
  const void *result = NULL;
  dnnl_memory_t from_m = to ? wrap(context, &s->user_weights_md, weights, node) : NULL;
  dnnl_memory_t to_m = from_m ? wrap(context, &s->weights_md, to, node) : NULL;
  if (to_m) {
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, from_m}, {DNNL_ARG_TO, to_m}};
    if (execute(context, c, s->reorder, 2, args, &s->reorder_scratch_md,
                s->reorder_scratch_bytes, node) == 0)
      result = to;
  } else if (!to) {
    fail(context, node, "out of memory for reordered weights", dnnl_out_of_memory);
  }
  if (from_m)
    dnnl_memory_destroy(from_m);
  if (to_m)
    dnnl_memory_destroy(to_m);
  if (weights_const) {
    if (result)
      __atomic_store_n(&s->reordered_of, weights, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&reorder_lock);
  }
  return result;
}

/* Every oneDNN call of a run: src, optional weights and bias, dst. */
static void run_site(strata_run_context *context, int64_t *state, const int64_t *d,
                     const char *node, const void *src, const void *weights,
                     const void *bias, void *dst, int64_t weights_const) {
  if (strata_run_failed(context))
    return;
  int threads = strata_model_get_threads();
  int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  site_state *s = acquire(context, state, d, node, threads);
  if (!s) {
    omp_set_num_threads(saved);
    return;
  }
  size_t scratch = s->scratch_bytes > s->reorder_scratch_bytes ? s->scratch_bytes
                                                               : s->reorder_scratch_bytes;
  size_t per_run_weights = s->reorder && !weights_const ? s->weights_bytes : 0;
  context_state *c = context_objects(context, scratch, per_run_weights, node);
  const void *w = c && s->has_weights
                      ? weights_for(context, c, s, weights, weights_const, node)
                      : NULL;
  if (c && (w || !s->has_weights)) {
    dnnl_memory_t mems[4] = {0};
    dnnl_exec_arg_t args[5];
    int n = 0, ok = 1;
    const dnnl_memory_desc_t *mds[4] = {&s->src_md, &s->weights_md, &s->bias_md, &s->dst_md};
    const void *data[4] = {src, w, bias, dst};
    int kinds[4] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
    int used[4] = {1, s->has_weights, s->has_bias, 1};
    for (int i = 0; i < 4 && ok; ++i) {
      if (!used[i])
        continue;
      mems[i] = wrap(context, mds[i], data[i], node);
      ok = mems[i] != NULL;
      args[n++] = (dnnl_exec_arg_t){kinds[i], mems[i]};
    }
    if (ok)
      execute(context, c, s->prim, n, args, &s->scratch_md, s->scratch_bytes, node);
    for (int i = 0; i < 4; ++i)
      if (mems[i])
        dnnl_memory_destroy(mems[i]);
  }
  pthread_rwlock_unlock(&primitives_lock);
  omp_set_num_threads(saved);
}

HIDDEN void strata_onednn_conv(strata_run_context *context, int64_t *state,
                               const int64_t *d, const char *node, const float *src,
                               const float *weights, const float *bias, float *dst) {
  run_site(context, state, d, node, src, weights, bias, dst, d[STRATA_CONV_WEIGHTS_CONST]);
}

HIDDEN void strata_onednn_inner_product(strata_run_context *context, int64_t *state,
                                        const int64_t *d, const char *node,
                                        const float *src, const float *weights,
                                        const float *bias, float *dst) {
  run_site(context, state, d, node, src, weights, bias, dst, d[STRATA_IP_WEIGHTS_CONST]);
}

/* Bias is always null (the compiler passes the conv/inner product ABI). */
HIDDEN void strata_onednn_batch_matmul(strata_run_context *context, int64_t *state,
                                       const int64_t *d, const char *node,
                                       const float *lhs, const float *rhs,
                                       const float *bias, float *dst) {
  (void)bias;
  run_site(context, state, d, node, lhs, rhs, NULL, dst, d[STRATA_BMM_WEIGHTS_CONST]);
}

HIDDEN void strata_onednn_pool(strata_run_context *context, int64_t *state,
                               const int64_t *d, const char *node, const float *src,
                               float *dst) {
  run_site(context, state, d, node, src, NULL, NULL, dst, 0);
}

/* What runs with `context` created: the stream and the buffers. */
API void strata_model_context_release(strata_run_context *context) {
  context_state *c = context ? context->onednn : NULL;
  if (!c)
    return;
  dnnl_stream_destroy(c->stream);
  free(c->scratch);
  free(c->weights);
  free(c);
  context->onednn = NULL;
}

/* Every primitive and reordered weight, and the engine: the module is
 * about to be unloaded and no context is left. */
API void strata_model_release(void) {
  pthread_rwlock_wrlock(&primitives_lock);
  while (sites) {
    site_state *s = sites;
    sites = s->next;
    release_site(s);
    *s->state = 0;
    free(s);
  }
  if (engine)
    dnnl_engine_destroy(engine);
  engine = NULL;
  pthread_rwlock_unlock(&primitives_lock);
}
