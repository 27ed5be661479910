"""The zoo of deliberately broken probes, built on demand for teecert's own tests.

Each entry is the reference probe with one thing wrong: a build flag (FMA
contraction, fast-math, x87 math) or a seam of ``native/probe/probe.c`` redefined by
a source in ``tests/probes/`` (FTZ/DAZ at load, raw NaNs, a one-ULP error, a wrong
ABI version).  ``build_zoo_probe(name)`` compiles one (about 0.3 s) into a cache
directory keyed by the sources and flags, so every test and every xdist worker
reuses the same library; builds are atomic (``teecert.probe.build.build_probe``).
"""

from __future__ import annotations

import hashlib
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from teecert.probe import build as probe_build

PROBES_DIR = Path(__file__).resolve().parent / "probes"

IS_X86_64 = platform.machine().lower() in ("x86_64", "amd64")


@dataclass(frozen=True)
class ZooProbe:
    """How to build one zoo probe and what it gets wrong."""

    name: str
    what: str
    source: str | None = None  # file in tests/probes/, None: the reference source
    extra_cflags: tuple[str, ...] = ()
    defines: dict[str, str | None] = field(default_factory=dict)
    x86_only: bool = False


def _named(name: str) -> dict[str, str | None]:
    return {"TEECERT_PROBE_NAME": f'"teecert-zoo-{name}"'}


ZOO: dict[str, ZooProbe] = {
    z.name: z
    for z in (
        ZooProbe("reference", "nothing: the reference probe, built like the zoo"),
        ZooProbe("contraction", "a*b+c contracted into an FMA (-ffp-contract=fast -mfma)",
                 extra_cflags=("-ffp-contract=fast", "-mfma"), defines=_named("contraction"),
                 x86_only=True),
        ZooProbe("fast_math", "built with -ffast-math: isnan() folded away, no canonical NaNs",
                 extra_cflags=("-ffast-math",), defines=_named("fast-math")),
        ZooProbe("x87", "evaluated in x87 80-bit registers (-mfpmath=387)",
                 extra_cflags=("-mfpmath=387",), defines=_named("x87"), x86_only=True),
        ZooProbe("ftz_at_load", "FTZ/DAZ set by a constructor, never reset at entry",
                 source="ftz_at_load.c"),
        ZooProbe("raw_nan", "no NaN canonicalization", source="raw_nan.c"),
        ZooProbe("one_ulp", "f64.div.rne one ULP too large on subnormal quotients",
                 source="one_ulp.c"),
        ZooProbe("wrong_abi", "reports ABI version 2", source="wrong_abi.c"),
        ZooProbe("heap_leak", "NaN outputs carry a word of uninitialized heap memory",
                 source="heap_leak.c"),
        ZooProbe("aslr", "subnormal f64.div.rne quotients depend on the library's address",
                 source="aslr.c"),
        ZooProbe("coarse_clock", "every clock it reads ticks in 4 ms steps",
                 defines={**_named("coarse-clock"),
                          "TEECERT_CLOCK_HOOK(v)": "((v)/4000000*4000000)"}),
        ZooProbe("clock_backwards", "its clocks step back 2 us every 2 us",
                 defines={**_named("clock-backwards"),
                          "TEECERT_CLOCK_HOOK(v)": "((v)-(((v)>>11)&1)*2000)"}),
        ZooProbe("other_exp", "f64.exp.rne from another implementation (exp2(x log2 e))",
                 source="other_exp.c"),
        ZooProbe("table_div", "f64.div.rne answered from a table of the fixed vectors "
                 "($TEECERT_ZOO_TABLE); other inputs one bit off", source="table_div.c"),
        ZooProbe("locale_decimal", "f64.from_dec double-checks with strtod, whose decimal point "
                 "follows the locale", source="locale_decimal.c"),
        ZooProbe("libm_caller_rounding", "its exp runs in the caller's rounding mode; the basic "
                 "ops are right", source="libm_caller_rounding.c"),
        ZooProbe("caller_rounding", "computes in the caller's rounding mode when it is not "
                 "round-to-nearest", source="caller_rounding.c"),
        ZooProbe("unstable_sort", "u64.sort_stable is a heapsort: equal keys change order",
                 source="unstable_sort.c"),
        ZooProbe("keccak_sha3", "hash.keccak256 pads with SHA-3's domain byte 0x06: it is SHA3-256",
                 defines={**_named("keccak-sha3"), "TEECERT_KECCAK_DOMAIN": "0x06"}),
        ZooProbe("no_data_ops", "declares none of the data ops (a probe from before them)",
                 defines={**_named("no-data-ops"), "TEECERT_NO_DATA_OPS": None}),
        ZooProbe("padding_leak", "rec.serialize copies its last byte from uninitialized struct "
                 "padding on the heap", source="padding_leak.c"),
        ZooProbe("poison_noop", "fpenv_poison reports success and applies nothing; the caller's "
                 "FTZ/DAZ leak into its arithmetic", source="poison_noop.c"),
        ZooProbe("fp_async", "a SIGALRM handler sets MXCSR rounding toward zero in its host "
                 "between calls, after load", source="fp_async.c", x86_only=True),
        ZooProbe("lying_arch", "describes itself as aarch64 on x86-64", source="lying.c",
                 defines={"TEECERT_ZOO_LIE": "1"}, x86_only=True),
        ZooProbe("lying_fpenv_entry", "describes an all-zero FP state at entry", source="lying.c",
                 defines={"TEECERT_ZOO_LIE": "2"}),
        ZooProbe("lying_compiler", "names a clang it was not built with", source="lying.c",
                 defines={"TEECERT_ZOO_LIE": "3"}),
        ZooProbe("lying_abi", "describes ABI 2 while teecert_probe_abi_version() returns 1",
                 source="lying.c", defines={"TEECERT_ZOO_LIE": "4"}),
        ZooProbe("lenient_args", "takes the buffer sizes from n instead of checking them",
                 source="lenient_args.c"),
        ZooProbe("round_ties_away", "f64.round_integral.rne is C's round(): ties away from zero, "
                 "not to even", source="round_ties_away.c"),
        ZooProbe("narrow_twice", "f64.to_f32 of a tiny value scales into the normal range, "
                 "narrows, scales back: two roundings", source="narrow_twice.c"),
        ZooProbe("minimum_fmin", "f64.minimum is C's fmin(): a NaN operand is ignored",
                 source="minimum_fmin.c"),
        ZooProbe("wrong_after_data", "i64.mul flips the lowest bit of every product after "
                 "its first 10,000 vectors in a process", source="wrong_after_data.c"),
    )
}


#: Probes that hang or crash rather than compute wrongly: a run must end with one
#: line naming the call, never hang, never dump the interpreter, never write a
#: report.  Not in ``ZOO``, whose every probe loads and ends NOT_CERTIFIED.
FAULTY: dict[str, ZooProbe] = {
    z.name: z
    for z in (
        ZooProbe("hang_after", "f64.div.rne never returns after its first call",
                 source="hang_after.c"),
        ZooProbe("run_segv", "f64.div.rne segfaults", source="misbehave.c",
                 defines={"TEECERT_ZOO_MISBEHAVE": "1"}),
        ZooProbe("describe_segv", "teecert_probe_describe() segfaults", source="load_fault.c",
                 defines={"TEECERT_ZOO_LOAD_FAULT": "1"}),
        ZooProbe("describe_hang", "teecert_probe_describe() never returns", source="load_fault.c",
                 defines={"TEECERT_ZOO_LOAD_FAULT": "2"}),
        ZooProbe("load_segv", "a constructor segfaults in dlopen()", source="load_fault.c",
                 defines={"TEECERT_ZOO_LOAD_FAULT": "3"}),
        ZooProbe("load_hang", "a constructor never returns: dlopen() hangs", source="load_fault.c",
                 defines={"TEECERT_ZOO_LOAD_FAULT": "4"}),
    )
}


#: Probes that pass a certification and break later, for ``teecert watch``: not in
#: ``ZOO`` either, since a run made before they break certifies them.
LATE: dict[str, ZooProbe] = {
    z.name: z
    for z in (
        ZooProbe("wrong_after", "one wrong result per call once it has been called "
                 "$TEECERT_ZOO_WRONG_AFTER times (unset: never)", source="wrong_after.c"),
    )
}


def zoo_dir() -> Path:
    """Where zoo probes are cached: ``$TEECERT_ZOO_DIR``, or a per-user temp dir."""
    env = os.environ.get("TEECERT_ZOO_DIR")
    if env:
        return Path(env)
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"teecert-zoo-{uid}"


def _key(z: ZooProbe) -> str:
    h = hashlib.sha256(b"teecert-zoo-v1\0")
    h.update(probe_build.reference_build_key().encode() + b"\0")
    if z.source:
        h.update((PROBES_DIR / z.source).read_bytes() + b"\0")
    h.update(repr((z.extra_cflags, sorted(z.defines.items()))).encode())
    return h.hexdigest()[:20]


def build_zoo_probe(name: str) -> Path:
    """The library of zoo probe ``name`` (see ``ZOO``), built if not cached."""
    return _build(ZOO[name])


def build_faulty_probe(name: str) -> Path:
    """The library of faulty probe ``name`` (see ``FAULTY``), built if not cached."""
    return _build(FAULTY[name])


def build_late_probe(name: str) -> Path:
    """The library of late-breaking probe ``name`` (see ``LATE``), built if not cached."""
    return _build(LATE[name])


def _build(z: ZooProbe) -> Path:
    name = z.name
    out = zoo_dir() / f"{name}-{_key(z)}.so"
    if out.is_file():
        return out
    source = PROBES_DIR / z.source if z.source else None
    return probe_build.build_probe(out, source=source, extra_cflags=z.extra_cflags,
                                   defines=z.defines)


#: the ways tests/probes/misbehave.c breaks (its TEECERT_ZOO_MISBEHAVE values)
MISBEHAVIOURS = {"segv": 1, "hang": 2, "abort": 3, "sigfpe": 4, "exit": 5}


def misbehaving_probe(kind: str) -> Path:
    """tests/probes/misbehave.c built for ``kind`` (cached next to the zoo)."""
    src = PROBES_DIR / "misbehave.c"
    key = hashlib.sha256(src.read_bytes() + probe_build.reference_build_key().encode()).hexdigest()[:16]
    out = zoo_dir() / f"misbehave-{kind}-{key}.so"
    if out.is_file():
        return out
    return probe_build.build_probe(out, source=src,
                                   defines={"TEECERT_ZOO_MISBEHAVE": str(MISBEHAVIOURS[kind])})
