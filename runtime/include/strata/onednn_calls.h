/* strata/onednn_calls.h - the oneDNN call descriptors of compiled modules.
 *
 * Each oneDNN call site of a module has a descriptor: a list of int64 the
 * compiler writes (compiler/cpu/OneDnnBufferization.cpp) and the runtime's
 * oneDNN glue reads to create the primitive (runtime/src/onednn.c). This
 * header is the one definition of its fields; both sides include it.
 *
 * Index 0 is the kind. Element types are strata_dtype values (runtime.h);
 * activation layouts are 0 for plain NCHW, STRATA_ONEDNN_NHWC for channels
 * last (int8 convolutions), else the channel block of the blocked layout
 * nChw<block>c (8 or 16). */
#ifndef STRATA_ONEDNN_CALLS_H
#define STRATA_ONEDNN_CALLS_H

#define STRATA_ONEDNN_NHWC (-1)

enum strata_onednn_kind {
  STRATA_ONEDNN_CONV = 1,
  STRATA_ONEDNN_POOL = 2,
  STRATA_ONEDNN_INNER_PRODUCT = 3,
  STRATA_ONEDNN_BATCH_MATMUL = 4
};

/* Post-ops follow a descriptor's *_NUM_POST field as (kind, alpha bits,
 * beta bits) triples; clip's bounds are the f32 bits of min and max. */
enum strata_onednn_post {
  STRATA_ONEDNN_POST_SUM = 1,
  STRATA_ONEDNN_POST_RELU = 2,
  STRATA_ONEDNN_POST_CLIP = 3
};

/* 2-D convolution (plain, grouped or depthwise), NCHW dims. */
enum strata_onednn_conv_field {
  STRATA_CONV_N = 1, STRATA_CONV_IC, STRATA_CONV_IH, STRATA_CONV_IW,
  STRATA_CONV_OC, STRATA_CONV_OH, STRATA_CONV_OW, STRATA_CONV_KH, STRATA_CONV_KW,
  STRATA_CONV_SH, STRATA_CONV_SW, STRATA_CONV_PT, STRATA_CONV_PL, STRATA_CONV_PB,
  STRATA_CONV_PR, STRATA_CONV_DH, STRATA_CONV_DW, STRATA_CONV_GROUPS,
  STRATA_CONV_SRC_BLOCK, STRATA_CONV_DST_BLOCK,
  STRATA_CONV_SRC_TYPE, STRATA_CONV_WEIGHTS_TYPE, STRATA_CONV_DST_TYPE,
  STRATA_CONV_HAS_BIAS, STRATA_CONV_WEIGHTS_CONST, STRATA_CONV_NUM_POST,
  STRATA_CONV_POST
};

/* Fully connected: [M, K] x [N, K]^T (+ bias [N]). */
enum strata_onednn_inner_product_field {
  STRATA_IP_M = 1, STRATA_IP_K, STRATA_IP_N,
  STRATA_IP_SRC_TYPE, STRATA_IP_WEIGHTS_TYPE, STRATA_IP_DST_TYPE,
  STRATA_IP_HAS_BIAS, STRATA_IP_WEIGHTS_CONST, STRATA_IP_NUM_POST, STRATA_IP_POST
};

/* Batched matrix product: [G, M, K] x [G, K, N]. */
enum strata_onednn_batch_matmul_field {
  STRATA_BMM_G = 1, STRATA_BMM_M, STRATA_BMM_K, STRATA_BMM_N,
  STRATA_BMM_LHS_TYPE, STRATA_BMM_RHS_TYPE, STRATA_BMM_DST_TYPE,
  STRATA_BMM_WEIGHTS_CONST
};

/* 2-D max pooling, NCHW dims; input and output share one layout. */
enum strata_onednn_pool_field {
  STRATA_POOL_N = 1, STRATA_POOL_C, STRATA_POOL_IH, STRATA_POOL_IW,
  STRATA_POOL_OH, STRATA_POOL_OW, STRATA_POOL_KH, STRATA_POOL_KW,
  STRATA_POOL_SH, STRATA_POOL_SW, STRATA_POOL_PT, STRATA_POOL_PL,
  STRATA_POOL_PB, STRATA_POOL_PR, STRATA_POOL_BLOCK, STRATA_POOL_TYPE
};

/* The widest instruction set oneDNN may use: the one the module's own code
 * was compiled for (--cpu), so that one program does not mix two vector
 * widths. Passed to strata_onednn_limit_isa before any primitive exists. */
enum strata_onednn_isa {
  STRATA_ONEDNN_ISA_ALL = 0, /* no cap */
  STRATA_ONEDNN_ISA_SSE41 = 1,
  STRATA_ONEDNN_ISA_AVX2 = 2,
  STRATA_ONEDNN_ISA_AVX512_CORE = 3,
  STRATA_ONEDNN_ISA_AVX512_CORE_VNNI = 4,
  STRATA_ONEDNN_ISA_AVX512_CORE_BF16 = 5,
  STRATA_ONEDNN_ISA_AVX512_CORE_AMX = 6
};

#endif /* STRATA_ONEDNN_CALLS_H */
