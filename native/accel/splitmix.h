/*
 * The draw both stream generators share (docs/vectors.md): SplitMix64's finalizer
 * over a state that advances by the golden-ratio gamma, in portable C and eight
 * lanes of AVX-512, and the one test of whether the AVX-512 code is compiled in.
 * mixgen.c (teecert-mix-v1, teecert-libm-v1) and datagen.c (teecert-data-v1)
 * include it, so the two cannot draw differently.
 */
#ifndef TEECERT_SPLITMIX_H
#define TEECERT_SPLITMIX_H

#include <stdint.h>

#if !defined(TEECERT_ACCEL_NO_AVX512) && defined(__x86_64__) && \
    ((defined(__GNUC__) && __GNUC__ >= 7) || (defined(__clang__) && __clang_major__ >= 8))
#define TEECERT_HAVE_AVX512 1
#include <immintrin.h>
#else
#define TEECERT_HAVE_AVX512 0
#endif

#define TEECERT_GAMMA UINT64_C(0x9E3779B97F4A7C15)

#if defined(__GNUC__) || defined(__clang__)
#define TEECERT_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define TEECERT_ALWAYS_INLINE inline
#endif

static TEECERT_ALWAYS_INLINE uint64_t teecert_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

#if TEECERT_HAVE_AVX512
#define TEECERT_AVX512 __attribute__((target("avx512f,avx512dq")))

TEECERT_AVX512 static TEECERT_ALWAYS_INLINE __m512i teecert_mix8(__m512i z)
{
    z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 30));
    z = _mm512_mullo_epi64(z, _mm512_set1_epi64((long long)UINT64_C(0xBF58476D1CE4E5B9)));
    z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 27));
    z = _mm512_mullo_epi64(z, _mm512_set1_epi64((long long)UINT64_C(0x94D049BB133111EB)));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}
#endif

#endif /* TEECERT_SPLITMIX_H */
