"""cffi build script of ``teecert._accel``: the stream generators in C, the stream
loop's Merkle leaves (native/probe/sha256.c) and candidate correctly rounded libm
outputs (native/accel/libm_cr.c), in API mode.

Used by ``setup.py`` (``cffi_modules``), so ``pip install`` compiles it into the
package.  It is an accelerator only: ``teecert.probe.streams`` falls back to the
pure-Python generator, with a warning, when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
ACCEL = HERE / "accel"
#: the probe's SHA-256 (portable C, SHA-NI, Armv8 SHA2), which the leaves use too
SHA256 = HERE / "probe" / "sha256.c"


def _rel(path: Path) -> str:
    # setuptools wants source paths relative to the project directory (where
    # setup.py runs); absolute ones would put objects under build/temp/<abs path>.
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows): absolute is all there is
        return str(path)


#: native/accel/libm_cr.c: candidate correctly rounded libm outputs (in long double) for
#: the libm suite's tally of a diverging chunk; declared here, the one place that calls it
LIBM_CR_DECLS = """
int64_t teecert_libm_cr(const char *name, uint32_t width, const void *in, uint64_t n,
                        void *out, uint32_t *amb);
int64_t teecert_libm_diff(const char *name, uint32_t width, const void *in, const void *a,
                          const void *b, uint64_t n, uint32_t *idx, double *err);
double teecert_libm_err_bound(uint32_t width);
"""

ffibuilder = FFI()
ffibuilder.cdef(
    """
    void teecert_gen(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity, uint32_t width,
                     void *out);
    void teecert_gen_scalar(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity,
                            uint32_t width, void *out);
    const char *teecert_gen_impl(void);
    void teecert_gen_libm(uint64_t s0, uint64_t start, uint64_t n, uint32_t arity,
                          uint32_t width, const int32_t *dom, void *out);
    void teecert_leaves(const void *const *bufs, const size_t *lens, size_t k,
                        unsigned char *out);
    const char *teecert_leaf_impl(void);
    int teecert_gen_data(uint64_t s0, uint64_t start, uint64_t n, uint32_t rule, uint32_t width,
                         uint32_t arg, void *out);
    int64_t teecert_data_in_bytes(uint32_t rule, uint32_t width, uint32_t arg);
    uint64_t teecert_accel_fpenv(char *arch);
    uint64_t teecert_accel_fpenv_set(uint32_t what, uint64_t base, uint32_t *applied);
    uint64_t teecert_accel_fpenv_control_mask(void);
    void teecert_accel_fpenv_restore(uint64_t v);
    int64_t teecert_libm_cr(const char *name, uint32_t width, const void *in, uint64_t n,
                            void *out, uint32_t *amb);
    int64_t teecert_libm_diff(const char *name, uint32_t width, const void *in, const void *a,
                              const void *b, uint64_t n, uint32_t *idx, double *err);
    double teecert_libm_err_bound(uint32_t width);
    """
)
ffibuilder.set_source(
    "teecert._accel",
    '#include "accel.h"\n' + LIBM_CR_DECLS,
    sources=[_rel(ACCEL / "accel.c"), _rel(ACCEL / "mixgen.c"), _rel(ACCEL / "datagen.c"),
             _rel(ACCEL / "libm_cr.c"),
             _rel(SHA256)],
    include_dirs=[_rel(ACCEL), _rel(HERE)],
    # -O2 whatever the interpreter was built with.  No -march: the AVX-512 and SHA
    # paths are compiled with target attributes and chosen at run time, so the
    # module runs on any CPU of the architecture.
    extra_compile_args=["-O2"],
    # libm_cr.c calls the long double functions of the C library's libm
    libraries=[] if os.name == "nt" else ["m"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
