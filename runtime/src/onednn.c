/* The runtime side of convolutions, max pooling, fully connected layers and
 * batched matrix products (Winograd convolutions) that the compiler gave to
 * oneDNN (passes/graph/OneDnnConvs.cpp, compiler/cpu/LowerOneDnnCalls.cpp).
 *
 * Linked, with libdnnl, only into modules that call it. Each call site in
 * the generated code owns a zeroed state word where the oneDNN primitive is
 * kept after the first run creates it (the cache: with constant weights,
 * they are reordered into oneDNN's preferred layout once). A call site's
 * descriptor is a list of int64 written by the compiler; the indices below
 * must match compiler/cpu/OneDnnBufferization.cpp.
 *
 * Errors never abort: the first failure of a run is recorded with the ONNX
 * node's name, later calls of that run do nothing, and strata_model_run
 * returns 1 (strata_onednn_run_status), which the loader reports with
 * strata_onednn_last_error(). The functions are hidden in shared-library
 * modules except these two, which the loader looks up. */
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API __attribute__((visibility("default")))
#define HIDDEN __attribute__((visibility("hidden")))

/* From libstrata_parallel.a, linked into every module. */
int strata_model_get_threads(void);

enum { KIND_CONV = 1, KIND_POOL = 2, KIND_INNER_PRODUCT = 3, KIND_BATCH_MATMUL = 4 };
enum { POST_SUM = 1, POST_RELU = 2, POST_CLIP = 3 };
/* Conv descriptor. */
enum {
  C_N = 1, C_IC, C_IH, C_IW, C_OC, C_OH, C_OW, C_KH, C_KW, C_SH, C_SW, C_PT,
  C_PL, C_PB, C_PR, C_DH, C_DW, C_G, C_SRC_BLOCKED, C_DST_BLOCKED, C_HAS_BIAS,
  C_WEIGHTS_CONST, C_NUM_POST, C_POST
};
/* Inner product descriptor. */
enum { I_M = 1, I_K, I_N, I_HAS_BIAS, I_WEIGHTS_CONST, I_NUM_POST, I_POST };
/* Batched matmul descriptor: [G, M, K] x [G, K, N]. */
enum { B_G = 1, B_M, B_K, B_N, B_WEIGHTS_CONST };
/* Pool descriptor. */
enum {
  P_N = 1, P_C, P_IH, P_IW, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_PT, P_PL,
  P_PB, P_PR, P_BLOCKED
};

typedef struct {
  dnnl_primitive_t prim;
  dnnl_memory_t src, weights, bias, dst; /* data handles set per run */
  /* Weights arrive as oihw/goihw; when the primitive wants another layout
   * they are reordered into `reordered`: once if they are constants (for
   * the user pointer `reordered_of`), else on every run. */
  dnnl_primitive_t reorder;
  dnnl_memory_t user_weights;
  void *reordered;
  const void *reordered_of;
  int threads; /* oneDNN sizes its work split for this count at creation */
} site_state;

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int run_failed;
static char last_error[1024];

API const char *strata_onednn_last_error(void) { return last_error; }

/* 1 if a call failed since the last check (then cleared): strata_model_run
 * returns it. */
API int strata_onednn_run_status(void) {
  int failed = run_failed;
  run_failed = 0;
  return failed;
}

static int fail(const char *node, const char *what, dnnl_status_t status) {
  if (!run_failed)
    snprintf(last_error, sizeof last_error,
             "oneDNN failed at node '%s': %s (dnnl status %d)",
             node[0] ? node : "?", what, (int)status);
  run_failed = 1;
  return 1;
}

#define CHECK(call, what)                                                      \
  do {                                                                         \
    dnnl_status_t status_ = (call);                                            \
    if (status_ != dnnl_success)                                               \
      return fail(node, what, status_);                                        \
  } while (0)

static int ensure_engine(const char *node) {
  if (stream)
    return 0;
  CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine");
  CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags),
        "creating a stream");
  return 0;
}

static void release(site_state *s) {
  dnnl_primitive_t prims[] = {s->prim, s->reorder};
  for (int i = 0; i < 2; ++i)
    if (prims[i])
      dnnl_primitive_destroy(prims[i]);
  dnnl_memory_t mems[] = {s->src, s->weights, s->bias, s->dst, s->user_weights};
  for (int i = 0; i < 5; ++i)
    if (mems[i])
      dnnl_memory_destroy(mems[i]);
  free(s->reordered);
  memset(s, 0, sizeof *s);
}

/* A memory object for argument `what` (index `index`) of `pd`, no data. */
static int memory_for(dnnl_memory_t *out, const_dnnl_primitive_desc_t pd,
                      dnnl_query_t what, int index, const char *node) {
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, index);
  CHECK(dnnl_memory_create(out, md, engine, DNNL_MEMORY_NONE),
        "creating a memory object");
  return 0;
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
    if (p[0] == POST_SUM)
      st = dnnl_post_ops_append_sum(post, 1.0f);
    else if (p[0] == POST_RELU)
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

static int finish_weighted(site_state *s, const_dnnl_primitive_desc_t pd,
                           const dnnl_memory_desc_t *w_user_md, int64_t has_bias,
                           const char *node);

/* The primitive of operation descriptor `op_desc` (a convolution or inner
 * product) with `num_post` post-ops at `post`, in `s`. */
static int create_weighted(site_state *s, const_dnnl_op_desc_t op_desc,
                           int64_t num_post, const int64_t *post,
                           const dnnl_memory_desc_t *w_user_md, int64_t has_bias,
                           const char *unsupported, const char *node) {
  dnnl_primitive_attr_t attr;
  CHECK(dnnl_primitive_attr_create(&attr), "creating attributes");
  if (add_post_ops(attr, num_post, post, node)) {
    dnnl_primitive_attr_destroy(attr);
    return 1;
  }
  dnnl_primitive_desc_t pd;
  dnnl_status_t st = dnnl_primitive_desc_create(&pd, op_desc, attr, engine, NULL);
  dnnl_primitive_attr_destroy(attr);
  CHECK(st, unsupported);
  int rc = finish_weighted(s, pd, w_user_md, has_bias, node);
  dnnl_primitive_desc_destroy(pd);
  return rc;
}

/* Creates the convolution for descriptor `d` in `s`. */
static int create_conv(site_state *s, const int64_t *d, const char *node) {
  int grouped = d[C_G] != 1, wrank = grouped ? 5 : 4;
  dnnl_dims_t src_dims = {d[C_N], d[C_IC], d[C_IH], d[C_IW]};
  dnnl_dims_t dst_dims = {d[C_N], d[C_OC], d[C_OH], d[C_OW]};
  dnnl_dims_t w_dims = {d[C_OC], d[C_IC], d[C_KH], d[C_KW]};
  if (grouped) {
    dnnl_dims_t g = {d[C_G], d[C_OC] / d[C_G], d[C_IC] / d[C_G], d[C_KH], d[C_KW]};
    memcpy(w_dims, g, sizeof g);
  }
  dnnl_dims_t b_dims = {d[C_OC]};
  dnnl_memory_desc_t src_md, dst_md, w_md, w_user_md, b_md;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32,
                                     d[C_SRC_BLOCKED] ? dnnl_nChw8c : dnnl_nchw),
        "describing the input");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32,
                                     d[C_DST_BLOCKED] ? dnnl_nChw8c : dnnl_nchw),
        "describing the output");
  CHECK(dnnl_memory_desc_init_by_tag(&w_md, wrank, w_dims, dnnl_f32,
                                     dnnl_format_tag_any),
        "describing the weights");
  CHECK(dnnl_memory_desc_init_by_tag(&w_user_md, wrank, w_dims, dnnl_f32,
                                     grouped ? dnnl_goihw : dnnl_oihw),
        "describing the weights");
  CHECK(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_x),
        "describing the bias");
  dnnl_dims_t strides = {d[C_SH], d[C_SW]};
  dnnl_dims_t dilates = {d[C_DH] - 1, d[C_DW] - 1}; /* oneDNN counts from 0 */
  dnnl_dims_t pad_l = {d[C_PT], d[C_PL]}, pad_r = {d[C_PB], d[C_PR]};
  dnnl_convolution_desc_t desc;
  CHECK(dnnl_dilated_convolution_forward_desc_init(
            &desc, dnnl_forward_inference, dnnl_convolution_direct, &src_md,
            &w_md, d[C_HAS_BIAS] ? &b_md : NULL, &dst_md, strides, dilates,
            pad_l, pad_r),
        "describing the convolution");
  return create_weighted(s, &desc, d[C_NUM_POST], d + C_POST, &w_user_md,
                         d[C_HAS_BIAS], "no convolution implementation for this shape",
                         node);
}

/* Creates the fully connected layer for descriptor `d` in `s`. */
static int create_inner_product(site_state *s, const int64_t *d, const char *node) {
  dnnl_dims_t src_dims = {d[I_M], d[I_K]}, w_dims = {d[I_N], d[I_K]};
  dnnl_dims_t dst_dims = {d[I_M], d[I_N]}, b_dims = {d[I_N]};
  dnnl_memory_desc_t src_md, dst_md, w_md, w_user_md, b_md;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, src_dims, dnnl_f32, dnnl_nc),
        "describing the input");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dst_dims, dnnl_f32, dnnl_nc),
        "describing the output");
  CHECK(dnnl_memory_desc_init_by_tag(&w_md, 2, w_dims, dnnl_f32, dnnl_format_tag_any),
        "describing the weights");
  CHECK(dnnl_memory_desc_init_by_tag(&w_user_md, 2, w_dims, dnnl_f32, dnnl_oi),
        "describing the weights");
  CHECK(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_x),
        "describing the bias");
  dnnl_inner_product_desc_t desc;
  CHECK(dnnl_inner_product_forward_desc_init(&desc, dnnl_forward_inference, &src_md,
                                             &w_md, d[I_HAS_BIAS] ? &b_md : NULL,
                                             &dst_md),
        "describing the inner product");
  return create_weighted(s, &desc, d[I_NUM_POST], d + I_POST, &w_user_md,
                         d[I_HAS_BIAS], "no inner product implementation for this shape",
                         node);
}

/* Creates the batched matrix product for descriptor `d` in `s`. */
static int create_batch_matmul(site_state *s, const int64_t *d, const char *node) {
  dnnl_dims_t src_dims = {d[B_G], d[B_M], d[B_K]}, w_dims = {d[B_G], d[B_K], d[B_N]};
  dnnl_dims_t dst_dims = {d[B_G], d[B_M], d[B_N]};
  dnnl_memory_desc_t src_md, dst_md, w_md, w_user_md;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 3, src_dims, dnnl_f32, dnnl_abc),
        "describing the left operand");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 3, dst_dims, dnnl_f32, dnnl_abc),
        "describing the result");
  CHECK(dnnl_memory_desc_init_by_tag(&w_md, 3, w_dims, dnnl_f32,
                                     d[B_WEIGHTS_CONST] ? dnnl_format_tag_any : dnnl_abc),
        "describing the right operand");
  CHECK(dnnl_memory_desc_init_by_tag(&w_user_md, 3, w_dims, dnnl_f32, dnnl_abc),
        "describing the right operand");
  dnnl_matmul_desc_t desc;
  CHECK(dnnl_matmul_desc_init(&desc, &src_md, &w_md, NULL, &dst_md),
        "describing the matrix product");
  return create_weighted(s, &desc, 0, NULL, &w_user_md, 0,
                         "no matrix product implementation for this shape", node);
}

/* The primitive and memory objects of a convolution or inner product `pd`,
 * and the reorder of the weights from the user's layout `w_user_md` into
 * the one the primitive chose (unless they agree). */
static int finish_weighted(site_state *s, const_dnnl_primitive_desc_t pd,
                           const dnnl_memory_desc_t *w_user_md, int64_t has_bias,
                           const char *node) {
  int rc = 0;
  if (dnnl_primitive_create(&s->prim, pd) != dnnl_success ||
      memory_for(&s->src, pd, dnnl_query_src_md, 0, node) ||
      memory_for(&s->weights, pd, dnnl_query_weights_md, 0, node) ||
      memory_for(&s->dst, pd, dnnl_query_dst_md, 0, node) ||
      (has_bias && memory_for(&s->bias, pd, dnnl_query_weights_md, 1, node)))
    return fail(node, "creating the primitive", dnnl_runtime_error);
  const dnnl_memory_desc_t *chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  if (!dnnl_memory_desc_equal(chosen, w_user_md)) {
    size_t bytes = dnnl_memory_desc_get_size(chosen);
    dnnl_primitive_desc_t rpd;
    s->reordered = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!s->reordered ||
        dnnl_memory_set_data_handle(s->weights, s->reordered) != dnnl_success ||
        dnnl_memory_create(&s->user_weights, w_user_md, engine, DNNL_MEMORY_NONE) !=
            dnnl_success ||
        dnnl_reorder_primitive_desc_create(&rpd, w_user_md, engine, chosen, engine,
                                           NULL) != dnnl_success)
      rc = fail(node, "preparing the weights' reorder", dnnl_out_of_memory);
    else {
      if (dnnl_primitive_create(&s->reorder, rpd) != dnnl_success)
        rc = fail(node, "creating the weights' reorder", dnnl_runtime_error);
      dnnl_primitive_desc_destroy(rpd);
    }
  }
  return rc;
}

/* Creates the max pooling for descriptor `d` in `s`. */
static int create_pool(site_state *s, const int64_t *d, const char *node) {
  dnnl_format_tag_t tag = d[P_BLOCKED] ? dnnl_nChw8c : dnnl_nchw;
  dnnl_dims_t src_dims = {d[P_N], d[P_C], d[P_IH], d[P_IW]};
  dnnl_dims_t dst_dims = {d[P_N], d[P_C], d[P_OH], d[P_OW]};
  dnnl_memory_desc_t src_md, dst_md;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, tag),
        "describing the input");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, tag),
        "describing the output");
  dnnl_dims_t strides = {d[P_SH], d[P_SW]}, kernel = {d[P_KH], d[P_KW]};
  dnnl_dims_t pad_l = {d[P_PT], d[P_PL]}, pad_r = {d[P_PB], d[P_PR]};
  dnnl_pooling_desc_t desc;
  CHECK(dnnl_pooling_forward_desc_init(&desc, dnnl_forward_inference,
                                       dnnl_pooling_max, &src_md, &dst_md,
                                       strides, kernel, pad_l, pad_r),
        "describing the pooling");
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, engine, NULL),
        "no pooling implementation for this shape");
  int rc = 0;
  if (dnnl_primitive_create(&s->prim, pd) != dnnl_success ||
      memory_for(&s->src, pd, dnnl_query_src_md, 0, node) ||
      memory_for(&s->dst, pd, dnnl_query_dst_md, 0, node))
    rc = fail(node, "creating the pooling", dnnl_runtime_error);
  dnnl_primitive_desc_destroy(pd);
  return rc;
}

/* Runs a primitive to completion. The callers set OpenMP's thread count to
 * the module's around it (and restore the caller's). */
static int execute(dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args,
                   const char *node) {
  CHECK(dnnl_primitive_execute(prim, stream, nargs, args), "running");
  CHECK(dnnl_stream_wait(stream), "running");
  return 0;
}

/* The primitive for this site, (re)created for the current thread count. */
static site_state *prepare(int64_t *state, const int64_t *d, const char *node) {
  site_state *s = (site_state *)(intptr_t)*state;
  int threads = strata_model_get_threads();
  if (s && s->prim && s->threads == threads)
    return s;
  if (ensure_engine(node))
    return NULL;
  if (!s) {
    s = calloc(1, sizeof *s);
    if (!s) {
      fail(node, "out of memory", dnnl_out_of_memory);
      return NULL;
    }
    *state = (int64_t)(intptr_t)s;
  }
  release(s);
  int (*create)(site_state *, const int64_t *, const char *) =
      d[0] == KIND_CONV ? create_conv
      : d[0] == KIND_INNER_PRODUCT ? create_inner_product
      : d[0] == KIND_BATCH_MATMUL ? create_batch_matmul
                                  : create_pool;
  if (create(s, d, node)) {
    release(s);
    return NULL;
  }
  s->threads = threads;
  return s;
}

/* A convolution or inner product: src, weights, optional bias, dst. */
static void run_weighted(int64_t *state, const int64_t *d, const char *node,
                         const float *src, const float *weights,
                         const float *bias, float *dst, int64_t weights_const,
                         int64_t has_bias) {
  if (run_failed)
    return;
  int saved = omp_get_max_threads();
  omp_set_num_threads(strata_model_get_threads());
  site_state *s = prepare(state, d, node);
  if (s && s->reorder && (!weights_const || s->reordered_of != weights)) {
    dnnl_memory_set_data_handle(s->user_weights, (void *)weights);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, s->user_weights},
                              {DNNL_ARG_TO, s->weights}};
    if (execute(s->reorder, 2, args, node) == 0)
      s->reordered_of = weights_const ? weights : NULL;
  } else if (s && !s->reorder) {
    dnnl_memory_set_data_handle(s->weights, (void *)weights);
  }
  if (s && !run_failed) {
    dnnl_memory_set_data_handle(s->src, (void *)src);
    dnnl_memory_set_data_handle(s->dst, dst);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, s->src},
                               {DNNL_ARG_WEIGHTS, s->weights},
                               {DNNL_ARG_DST, s->dst}};
    int n = 3;
    if (has_bias) {
      dnnl_memory_set_data_handle(s->bias, (void *)bias);
      args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, s->bias};
    }
    execute(s->prim, n, args, node);
  }
  omp_set_num_threads(saved);
}

/* Creates a site's primitive for the module's current thread count ahead of
 * its first run (weights are reordered on the first run, which has them). */
HIDDEN void strata_onednn_prepare(int64_t *state, const int64_t *d, const char *node) {
  if (run_failed)
    return;
  int saved = omp_get_max_threads();
  omp_set_num_threads(strata_model_get_threads());
  prepare(state, d, node);
  omp_set_num_threads(saved);
}

HIDDEN void strata_onednn_conv(int64_t *state, const int64_t *d, const char *node,
                               const float *src, const float *weights,
                               const float *bias, float *dst) {
  run_weighted(state, d, node, src, weights, bias, dst, d[C_WEIGHTS_CONST],
               d[C_HAS_BIAS]);
}

HIDDEN void strata_onednn_inner_product(int64_t *state, const int64_t *d,
                                        const char *node, const float *src,
                                        const float *weights, const float *bias,
                                        float *dst) {
  run_weighted(state, d, node, src, weights, bias, dst, d[I_WEIGHTS_CONST],
               d[I_HAS_BIAS]);
}

/* Bias is always null (the compiler passes the conv/inner product ABI). */
HIDDEN void strata_onednn_batch_matmul(int64_t *state, const int64_t *d,
                                       const char *node, const float *lhs,
                                       const float *rhs, const float *bias,
                                       float *dst) {
  (void)bias;
  run_weighted(state, d, node, lhs, rhs, NULL, dst, d[B_WEIGHTS_CONST], 0);
}

HIDDEN void strata_onednn_pool(int64_t *state, const int64_t *d, const char *node,
                            const float *src, float *dst) {
  if (run_failed)
    return;
  int saved = omp_get_max_threads();
  omp_set_num_threads(strata_model_get_threads());
  site_state *s = prepare(state, d, node);
  if (s) {
    dnnl_memory_set_data_handle(s->src, (void *)src);
    dnnl_memory_set_data_handle(s->dst, dst);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, s->src}, {DNNL_ARG_DST, s->dst}};
    execute(s->prim, 2, args, node);
  }
  omp_set_num_threads(saved);
}
