"""The probe loader and the reference probe: ABI checks, hand-checked results,
FP-environment handling, the transcript, and the zoo of broken probes.

Expected values are worked out by hand from IEEE 754 (comments show the
arithmetic), never taken from the code under test.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from teecert import ops
from teecert.errors import BuildError, ProbeError, UsageError
from teecert.probe import build as probe_build
from teecert.probe.library import (
    E_ARGS,
    E_UNSUPPORTED,
    POISON_FTZ_DAZ,
    POISON_ROUND_UP,
    POISON_ROUND_ZERO,
    TRANSCRIPT_T0,
    Probe,
    UnsupportedOp,
    ffi,
    load_probe,
    transcript_step,
)
from teecert.vectors import merkle
from teecert.vectors.streams import inputs as stream_inputs

from probezoo import IS_X86_64, PROBES_DIR, build_zoo_probe

x86_only = pytest.mark.skipif(not IS_X86_64, reason="needs x86-64 (MXCSR, -mfma, -mfpmath=387)")

CONTRACTION = (0x3FF0000000000001, 0x3FEFFFFFFFFFFFFF, 0xBFF0000000000000)
F64_QNAN = 0x7FF8000000000000
F32_QNAN = 0x7FC00000


@pytest.fixture(scope="module")
def ref() -> Probe:
    return load_probe(build_zoo_probe("reference"))


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Build tests/probes/fake_minimal.c with the given -D macros."""
    cache: dict[str, Path] = {}
    base = tmp_path_factory.mktemp("fake")

    def build(**defines: str | None) -> Path:
        key = hashlib.sha256(json.dumps(sorted(defines.items())).encode()).hexdigest()[:12]
        if key not in cache:
            cache[key] = probe_build.build_probe(base / f"fake-{key}.so",
                                                 source=PROBES_DIR / "fake_minimal.c",
                                                 defines=defines)
        return cache[key]

    return build


def one(p: Probe, op_id: str, *vec: int) -> int:
    return p.run_values(ops.get(op_id), [vec])[0]


# ------------------------------------------------------------------ loading


def test_reference_probe_loads_and_describes_itself(ref: Probe) -> None:
    d = ref.description
    assert ref.abi_version == 1
    assert d["name"] == "teecert-reference-probe"
    assert d["abi"] == 1
    for key in ("version", "compiler", "cflags", "byte_order", "arch", "fpenv_at_entry", "attestation"):
        assert isinstance(d[key], str) and d[key], key
    assert isinstance(d["flt_eval_method"], int) and d["flt_eval_method"] == 0
    assert isinstance(d["ldbl_mant_dig"], int)
    assert isinstance(d["char_signed"], bool)
    assert d["byte_order"] == "little"
    assert d["attestation"] == "none"
    assert len(d["fpenv_at_entry"]) == 16 and int(d["fpenv_at_entry"], 16) >= 0
    for flag in ("-ffp-contract=off", "-frounding-math", "-fno-fast-math"):
        assert flag in d["cflags"].split()
    assert d["ops"] == list(ops.CATALOGUE)  # every op, in catalogue order
    assert ref.ops == frozenset(ops.CATALOGUE)


def test_digest_is_the_sha256_of_the_library_file(ref: Probe) -> None:
    assert ref.digest == hashlib.sha256(ref.path.read_bytes()).hexdigest()


def test_missing_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.so"
    with pytest.raises(ProbeError, match=rf"^probe {re.escape(str(path))}: no such file$"):
        load_probe(path)


def test_a_file_that_is_not_a_library_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.so"
    path.write_text("not an ELF file\n")
    with pytest.raises(ProbeError) as info:
        load_probe(path)
    msg = str(info.value)
    assert msg.startswith(f"probe {path}: not a loadable shared library")
    assert "\n" not in msg


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="not a file"):
        load_probe(tmp_path)


def test_wrong_abi_version_is_refused_naming_path_and_version() -> None:
    path = build_zoo_probe("wrong_abi")
    with pytest.raises(ProbeError) as info:
        load_probe(path)
    assert str(info.value) == f"probe {path}: exports ABI version 2, this teecert speaks 1"


def test_missing_symbol_is_refused(fake: Callable[..., Path]) -> None:
    path = fake(FAKE_OMIT_RUN=None)
    with pytest.raises(ProbeError, match=rf"^probe {re.escape(str(path))}: missing symbol teecert_probe_run$"):
        load_probe(path)


def test_description_must_be_a_json_object(fake: Callable[..., Path]) -> None:
    path = fake(FAKE_DESCRIPTION='"[1, 2]"')
    with pytest.raises(ProbeError, match=rf"^probe {re.escape(str(path))}: self-description is a JSON list"):
        load_probe(path)
    path = fake(FAKE_DESCRIPTION='"{not json"')
    with pytest.raises(ProbeError, match="self-description is not valid JSON"):
        load_probe(path)
    path = fake(FAKE_NULL_DESCRIPTION=None)
    with pytest.raises(ProbeError, match="returned NULL"):
        load_probe(path)


def test_description_duplicate_keys_are_refused(fake: Callable[..., Path]) -> None:
    path = fake(FAKE_DESCRIPTION=r'"{\"name\": \"a\", \"name\": \"b\"}"')
    with pytest.raises(ProbeError, match="duplicate key 'name'"):
        load_probe(path)


def test_description_floats_become_strings(fake: Callable[..., Path]) -> None:
    path = fake(FAKE_DESCRIPTION=r'"{\"clock_ns\": 1.5, \"big\": 1e400, \"n\": 3, \"ops\": [\"f64.add.rne\", 7]}"')
    p = load_probe(path)
    assert p.description["clock_ns"] == "1.5"
    assert p.description["big"] == "1e400"
    assert p.description["n"] == 3
    assert p.ops == frozenset({"f64.add.rne"})  # non-strings are not op ids


def test_run_status_codes_become_errors(fake: Callable[..., Path]) -> None:
    op = ops.get("f64.add.rne")
    p = load_probe(fake(FAKE_RUN_STATUS=str(E_UNSUPPORTED)))
    with pytest.raises(UnsupportedOp, match=r"does not implement f64\.add\.rne"):
        p.run_values(op, [(0, 0)])
    p = load_probe(fake(FAKE_RUN_STATUS="3"))
    with pytest.raises(ProbeError, match=r"internal failure in f64\.add\.rne") as info:
        p.run_values(op, [(0, 0)])
    assert not isinstance(info.value, UnsupportedOp)
    p = load_probe(fake(FAKE_RUN_STATUS="42"))
    with pytest.raises(ProbeError, match="unknown status 42"):
        p.run_values(op, [(0, 0)])


# ------------------------------------------------------------ argument checks


def test_size_mismatch_is_e_args(ref: Probe) -> None:
    op = ops.get("f64.add.rne")
    with pytest.raises(ProbeError, match=r"rejected the arguments of f64\.add\.rne") as info:
        ref.run(op, b"\0" * 24, 2)  # 2 vectors need 32 bytes
    assert not isinstance(info.value, UnsupportedOp)
    with pytest.raises(ProbeError, match="rejected the arguments"):
        ref.run(op, b"\0" * 40, 2)  # too many bytes is a mismatch too


def test_low_level_argument_checks(ref: Probe) -> None:
    run = ref._lib.teecert_probe_run
    out = ffi.new("uint64_t[1]")
    inp = ffi.new("uint64_t[2]")
    assert run(b"f64.add.rne", inp, 16, out, 8, 1) == 0
    assert run(b"f64.nope.rne", inp, 16, out, 8, 1) == E_ARGS  # unknown op
    assert run(ffi.NULL, inp, 16, out, 8, 1) == E_ARGS
    assert run(b"f64.add.rne", ffi.NULL, 16, out, 8, 1) == E_ARGS
    assert run(b"f64.add.rne", inp, 16, ffi.NULL, 8, 1) == E_ARGS
    assert run(b"f64.add.rne", inp, 16, out, 4, 1) == E_ARGS  # output too small
    assert run(b"f64.add.rne", ffi.NULL, 0, ffi.NULL, 0, 0) == 0  # an empty batch is fine
    assert run(b"f64.add.rne", inp, 2**64 - 16, out, 8, 2**63) == E_ARGS  # n*16 overflows


def test_run_values_checks_arity_and_width(ref: Probe) -> None:
    with pytest.raises(UsageError, match="vector 1 has 3 operands"):
        ref.run_values(ops.get("f64.add.rne"), [(1, 2), (1, 2, 3)])
    with pytest.raises(UsageError, match="32-bit pattern"):
        ref.run_values(ops.get("f32.add.rne"), [(1 << 32, 0)])


def test_attestation_is_declared_unsupported(ref: Probe) -> None:
    with pytest.raises(UnsupportedOp):
        ref.attest(bytes(64))


# ------------------------------------------------------ hand-checked results


@pytest.mark.parametrize(
    ("op_id", "vec", "want", "why"),
    [
        # 1 + 2^-53 is exactly halfway between 1 and 1 + 2^-52: ties to even gives 1.
        ("f64.add.rne", (0x3FF0000000000000, 0x3CA0000000000000), 0x3FF0000000000000, "tie to even"),
        # (1 + 2^-52) + 2^-53: halfway between 1+2^-52 (odd) and 1+2^-51 (even).
        ("f64.add.rne", (0x3FF0000000000001, 0x3CA0000000000000), 0x3FF0000000000002, "tie to even, up"),
        ("f64.add.rup", (0x3FF0000000000000, 0x3CA0000000000000), 0x3FF0000000000001, "toward +inf"),
        ("f64.add.rtz", (0x3FF0000000000001, 0x3CA0000000000000), 0x3FF0000000000001, "toward zero"),
        ("f64.add.rdn", (0xBFF0000000000000, 0xBCA0000000000000), 0xBFF0000000000001, "toward -inf"),
        # x - x is +0 except when rounding toward -inf, where it is -0.
        ("f64.sub.rne", (0x3FF0000000000000, 0x3FF0000000000000), 0x0000000000000000, "x-x=+0"),
        ("f64.sub.rdn", (0x3FF0000000000000, 0x3FF0000000000000), 0x8000000000000000, "x-x=-0 in rdn"),
        # max * 2 overflows: inf in rne, max in rtz, +inf in rup, max in rdn.
        ("f64.mul.rne", (0x7FEFFFFFFFFFFFFF, 0x4000000000000000), 0x7FF0000000000000, "overflow rne"),
        ("f64.mul.rtz", (0x7FEFFFFFFFFFFFFF, 0x4000000000000000), 0x7FEFFFFFFFFFFFFF, "overflow rtz"),
        ("f64.mul.rdn", (0x7FEFFFFFFFFFFFFF, 0x4000000000000000), 0x7FEFFFFFFFFFFFFF, "overflow rdn"),
        ("f64.mul.rup", (0xFFEFFFFFFFFFFFFF, 0x4000000000000000), 0xFFEFFFFFFFFFFFFF, "-overflow rup"),
        # gradual underflow: min normal / 2 is the subnormal 2^-1023.
        ("f64.mul.rne", (0x0010000000000000, 0x3FE0000000000000), 0x0008000000000000, "subnormal result"),
        # min subnormal / 2 = 2^-1075, exactly halfway between 0 and 2^-1074: even is 0.
        ("f64.div.rne", (0x0000000000000001, 0x4000000000000000), 0x0000000000000000, "underflow tie"),
        ("f64.div.rup", (0x0000000000000001, 0x4000000000000000), 0x0000000000000001, "underflow up"),
        # a subnormal operand is not zero (no DAZ): 2^-1074 * 2^52 = 2^-1022.
        ("f64.mul.rne", (0x0000000000000001, 0x4330000000000000), 0x0010000000000000, "subnormal input"),
        # 1/3 = 0x3fd5555555555555 (the pattern 0101... rounds down in rne).
        ("f64.div.rne", (0x3FF0000000000000, 0x4008000000000000), 0x3FD5555555555555, "1/3"),
        ("f64.div.rup", (0x3FF0000000000000, 0x4008000000000000), 0x3FD5555555555556, "1/3 up"),
        ("f64.div.rne", (0xBFF0000000000000, 0x0000000000000000), 0xFFF0000000000000, "-1/+0"),
        ("f64.div.rne", (0x0000000000000000, 0x0000000000000000), F64_QNAN, "0/0"),
        ("f64.sqrt.rne", (0x8000000000000000,), 0x8000000000000000, "sqrt(-0)"),
        ("f64.sqrt.rne", (0xBFF0000000000000,), F64_QNAN, "sqrt(-1)"),
        ("f64.sqrt.rne", (0x4010000000000000,), 0x4000000000000000, "sqrt(4)"),
        # sqrt(2) = 1.41421356237309504880...: 0x3ff6a09e667f3bcc = 1.41421356237309492343
        # lies below it and 0x3ff6a09e667f3bcd = 1.41421356237309514547 above.
        ("f64.sqrt.rtz", (0x4000000000000000,), 0x3FF6A09E667F3BCC, "sqrt(2) rtz"),
        ("f64.sqrt.rup", (0x4000000000000000,), 0x3FF6A09E667F3BCD, "sqrt(2) rup"),
        # NaN operands of any sign/payload/kind give the canonical NaN.
        ("f64.add.rne", (0x7FF0000000000001, 0x3FF0000000000000), F64_QNAN, "sNaN operand"),
        ("f64.mul.rne", (0xFFF8000000000123, 0x3FF0000000000000), F64_QNAN, "-qNaN payload"),
        ("f64.add.rne", (0x7FF0000000000000, 0xFFF0000000000000), F64_QNAN, "inf - inf"),
        # the contraction vector: (1+2^-52)(1-2^-53) = 1 + 2^-53 - 2^-105 lies just below the
        # midpoint 1 + 2^-53, so the product rounds to 1 and 1 - 1 = 0; fused, nothing rounds
        # before the subtraction: 2^-53 - 2^-105 = 0x3c9ffffffffffffe.
        ("f64.mul_add_unfused.rne", CONTRACTION, 0x0000000000000000, "two roundings"),
        ("f64.fma.rne", CONTRACTION, 0x3C9FFFFFFFFFFFFE, "fused: 2^-53 - 2^-105"),
        ("f64.fma.rne", (0x0000000000000000, 0x7FF0000000000000, 0x7FF8000000000001), F64_QNAN, "fma(0,inf,NaN)"),
        # fma: exact zero sum of opposite signs is -0 only in rdn.
        ("f64.fma.rdn", (0x3FF0000000000000, 0x3FF0000000000000, 0xBFF0000000000000), 0x8000000000000000, "fma x-x rdn"),
        # binary32: 1 + 2^-24 is a tie between 1 and 1 + 2^-23.
        ("f32.add.rne", (0x3F800000, 0x33800000), 0x3F800000, "f32 tie to even"),
        ("f32.add.rup", (0x3F800000, 0x33800000), 0x3F800001, "f32 toward +inf"),
        # (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46: truncated 0x3f800002, rounded up 0x3f800003.
        ("f32.mul.rtz", (0x3F800001, 0x3F800001), 0x3F800002, "f32 mul rtz"),
        ("f32.mul.rup", (0x3F800001, 0x3F800001), 0x3F800003, "f32 mul rup"),
        ("f32.div.rne", (0x00000000, 0x00000000), F32_QNAN, "f32 0/0"),
        ("f32.sqrt.rne", (0x80000000,), 0x80000000, "f32 sqrt(-0)"),
        ("f32.sqrt.rne", (0xFFC00001,), F32_QNAN, "f32 sqrt(-qNaN)"),
        # (1+2^-23)(1-2^-24) - 1 = 2^-24 - 2^-47 exactly (fused); two roundings give 0.
        ("f32.mul_add_unfused.rne", (0x3F800001, 0x3F7FFFFF, 0xBF800000), 0x00000000, "f32 two roundings"),
        ("f32.fma.rne", (0x3F800001, 0x3F7FFFFF, 0xBF800000), 0x337FFFFE, "f32 fused"),
        # f32 min normal / 2 = 2^-127, the subnormal 0x00400000.
        ("f32.div.rne", (0x00800000, 0x40000000), 0x00400000, "f32 subnormal"),
    ],
)
def test_hand_checked_values(ref: Probe, op_id: str, vec: tuple[int, ...], want: int, why: str) -> None:
    got = one(ref, op_id, *vec)
    width = 16 if op_id.startswith("f64") else 8
    assert got == want, f"{why}: {op_id}{vec} = {got:0{width}x}, expected {want:0{width}x}"


def test_python_floats_agree_on_a_generated_batch(ref: Probe) -> None:
    """CPython's own binary64 arithmetic (round to nearest) is an independent
    reference for add, sub and mul."""

    for name, fn in (("add", float.__add__), ("sub", float.__sub__), ("mul", float.__mul__)):
        op = ops.get(f"f64.{name}.rne")
        vecs = stream_inputs.vectors(op, 99, 0, 3000)
        got = ref.run_values(op, vecs)
        for (a, b), g in zip(vecs, got, strict=True):
            x = fn(struct.unpack("<d", struct.pack("<Q", a))[0], struct.unpack("<d", struct.pack("<Q", b))[0])
            want = F64_QNAN if x != x else struct.unpack("<Q", struct.pack("<d", x))[0]
            assert g == want, f"f64.{name}.rne({a:016x}, {b:016x}) = {g:016x}, expected {want:016x}"


# ------------------------------------------------------------ FP environment


@x86_only
def test_poisoned_caller_gets_consensus_results_and_its_env_back(ref: Probe) -> None:
    vectors = {
        "f64.add.rne": (0x3FF0000000000000, 0x3CA0000000000000),  # a tie: round-up would differ
        "f64.mul.rne": (0x0010000000000000, 0x3FE0000000000000),  # subnormal result: FTZ would flush
        "f64.mul.rtz": (0x0000000000000001, 0x4330000000000000),  # subnormal input: DAZ would zero
    }
    clean = {k: one(ref, k, *v) for k, v in vectors.items()}
    arch, before = ref.fpenv_read()
    assert arch == "x86_64"
    try:
        applied = ref.fpenv_poison(POISON_ROUND_UP | POISON_FTZ_DAZ)
        assert applied == POISON_ROUND_UP | POISON_FTZ_DAZ
        _, poisoned = ref.fpenv_read()
        mxcsr, x87cw = poisoned & 0xFFFFFFFF, poisoned >> 32
        assert mxcsr & 0x6000 == 0x4000  # RC = round up
        assert mxcsr & 0x8040 == 0x8040  # FTZ and DAZ
        assert (x87cw >> 10) & 3 == 2  # x87 RC = round up too
        for k, v in vectors.items():
            assert one(ref, k, *v) == clean[k], k
        _, after = ref.fpenv_read()
        # The probe gives the caller's control bits back untouched (the sticky
        # exception flags, bits 0-5, may have gained the ones the ops raised).
        assert after & ~0x3F == poisoned & ~0x3F
    finally:
        ref.fpenv_reset()
    _, reset = ref.fpenv_read()
    assert reset & 0xFFC0 == 0x1F80 and (reset >> 32) & 0xFFFF == 0x37F
    assert before & 0x6000 == 0  # the test started from round to nearest


def test_round_toward_zero_poison(ref: Probe) -> None:
    try:
        applied = ref.fpenv_poison(POISON_ROUND_ZERO | POISON_ROUND_UP)
        assert applied == POISON_ROUND_ZERO  # one direction at a time: toward zero wins
        assert one(ref, "f64.add.rne", 0x3FF0000000000001, 0x3CA0000000000000) == 0x3FF0000000000002
        assert one(ref, "f64.add.rup", 0x3FF0000000000000, 0x3CA0000000000000) == 0x3FF0000000000001
    finally:
        ref.fpenv_reset()


def test_describe_reports_the_environment_at_entry(ref: Probe) -> None:
    try:
        ref.fpenv_poison(POISON_ROUND_ZERO)
        _, bits = ref.fpenv_read()
        described = int(ref.describe()["fpenv_at_entry"], 16)
        assert described & ~0x3F == bits & ~0x3F  # equal but for sticky exception flags
    finally:
        ref.fpenv_reset()


# ----------------------------------------------------------------- transcript


def test_transcript_t0_and_step_follow_the_definition() -> None:
    assert TRANSCRIPT_T0 == hashlib.sha256(b"teecert-transcript-v1").digest()
    leaf = hashlib.sha256(b"\x00" + b"\x01\x02").digest()
    want = hashlib.sha256(TRANSCRIPT_T0 + b"\x0b\x00\x00\x00" + b"f64.add.rne"
                          + b"\x05\x00\x00\x00\x00\x00\x00\x00" + leaf).digest()
    assert transcript_step(TRANSCRIPT_T0, "f64.add.rne", 5, leaf) == want


def _check_transcript(p: Probe) -> None:
    p.transcript_reset()
    assert p.transcript() == (TRANSCRIPT_T0, 0)
    t = TRANSCRIPT_T0
    calls = 0
    # sizes that cross the SHA-256 block and padding boundaries (55, 56, 64 bytes...)
    for k, op_id in enumerate(["f32.add.rne", "f64.mul.rtz", "f32.sqrt.rup", "f64.fma.rdn"] * 12):
        op = ops.get(op_id)
        n = (k * 7) % 41
        vecs = [tuple((0x3F800000 + i * 977 + j) if op.fmt.width == 32 else (0x3FF0000000000000 + i * 10**9 + j)
                      for j in range(op.arity)) for i in range(n)]
        outs = p.run_values(op, vecs)
        packed = struct.pack(f"<{n}{'I' if op.fmt.width == 32 else 'Q'}", *outs)
        t = transcript_step(t, op_id, n, merkle.leaf_hash(packed))
        calls += 1
    # a failed call is not folded in
    with pytest.raises(ProbeError):
        p.run(ops.get("f64.add.rne"), b"\0" * 3, 1)
    assert p.transcript() == (t, calls)


def test_transcript_equals_the_python_recomputation(ref: Probe) -> None:
    _check_transcript(ref)


def test_portable_sha256_gives_the_same_transcript(tmp_path: Path) -> None:
    """The transcript hash with SHA-NI disabled at build time (the portable code)."""
    p = load_probe(probe_build.build_probe(tmp_path / "portable.so", defines={"TEECERT_NO_SHA_NI": None}))
    assert p.description["transcript_sha256"] == "portable"
    _check_transcript(p)


# ------------------------------------------------------------- the zoo


@x86_only
def test_contraction_probe_fuses_the_vector() -> None:
    p = load_probe(build_zoo_probe("contraction"))
    assert one(p, "f64.mul_add_unfused.rne", *CONTRACTION) == 0x3C9FFFFFFFFFFFFE
    assert one(p, "f64.add.rne", 0x3FF0000000000000, 0x3CA0000000000000) == 0x3FF0000000000000


@x86_only
def test_x87_probe_has_excess_precision() -> None:
    p = load_probe(build_zoo_probe("x87"))
    # the product rounded to 64 bits is 1 + 2^-53 (exact in x87 extended), minus 1.
    assert one(p, "f64.mul_add_unfused.rne", *CONTRACTION) == 0x3CA0000000000000
    assert p.description["flt_eval_method"] == 2


def test_fast_math_probe_loses_nan_canonicalization() -> None:
    p = load_probe(build_zoo_probe("fast_math"))
    got = one(p, "f64.div.rne", 0, 0)
    assert got != F64_QNAN and (got & 0x7FF0000000000000) == 0x7FF0000000000000 and got & 0xFFFFFFFFFFFFF
    if IS_X86_64:
        assert got == 0xFFF8000000000000  # the x86 "default NaN"
    assert one(p, "f64.add.rne", 0x3FF0000000000000, 0x3CA0000000000000) == 0x3FF0000000000000


def test_raw_nan_probe_returns_hardware_nans() -> None:
    p = load_probe(build_zoo_probe("raw_nan"))
    got = one(p, "f32.sqrt.rne", 0xBF800000)
    assert got != F32_QNAN and (got & 0x7F800000) == 0x7F800000 and got & 0x7FFFFF
    assert one(p, "f64.add.rne", 0x7FF8000000000123, 0) == 0x7FF8000000000123  # payload propagated
    assert one(p, "f64.mul.rne", 0x0010000000000000, 0x3FE0000000000000) == 0x0008000000000000


@x86_only
def test_ftz_at_load_probe_flushes_subnormals() -> None:
    p = load_probe(build_zoo_probe("ftz_at_load"))
    try:
        # min normal / 2 should be the subnormal 0x0008...; FTZ flushes it to +0.
        assert one(p, "f64.mul.rne", 0x0010000000000000, 0x3FE0000000000000) == 0
        # DAZ: the subnormal 2^-1074 is read as zero, so 2^-1074 * 2^52 gives 0.
        assert one(p, "f64.mul.rne", 0x0000000000000001, 0x4330000000000000) == 0
        assert one(p, "f64.add.rne", 0x3FF0000000000000, 0x3CA0000000000000) == 0x3FF0000000000000
    finally:
        p.fpenv_reset()  # the constructor set FTZ/DAZ on this (pytest's) thread
    assert 5e-324 * 1.0 == 5e-324  # Python's own floats are gradual again


def test_one_ulp_probe_is_off_only_on_subnormal_quotients() -> None:
    p = load_probe(build_zoo_probe("one_ulp"))
    # 2^-1022 / 3 = 0x0005555555555555 (subnormal): the zoo probe adds one ULP.
    assert one(p, "f64.div.rne", 0x0010000000000000, 0x4008000000000000) == 0x0005555555555556
    assert one(p, "f64.div.rne", 0x8010000000000000, 0x4008000000000000) == 0x8005555555555556
    assert one(p, "f64.div.rne", 0x3FF0000000000000, 0x4008000000000000) == 0x3FD5555555555555
    assert one(p, "f64.div.rtz", 0x0010000000000000, 0x4008000000000000) == 0x0005555555555555
    assert one(p, "f64.mul.rne", 0x0010000000000000, 0x3FE0000000000000) == 0x0008000000000000


#: Loads each probe and prints the ops it declares, one JSON object.  It runs in a child
#: process: some zoo probes change their process for good when loaded (fp_async arms a
#: timer whose signal handler rewrites MXCSR), and a test worker must not inherit that.
_LOAD_EVERY_PROBE = """
import json, os, sys
from teecert.errors import ProbeError
from teecert.probe.library import load_probe
out = {}
for path in sys.argv[1:]:
    try:
        p = load_probe(path)
    except ProbeError as exc:
        out[path] = str(exc)
        continue
    out[path] = sorted(p.ops)
    p.fpenv_reset()
print(json.dumps(out), flush=True)
# fp_async's timer still runs: unloading its library at a normal exit would leave the
# next SIGALRM a handler that is gone, so leave without unloading anything
os._exit(0)
"""


def test_every_zoo_probe_loads_except_wrong_abi() -> None:
    from probezoo import ZOO

    paths = {name: str(build_zoo_probe(name)) for name, z in ZOO.items()
             if not (z.x86_only and not IS_X86_64)}
    res = subprocess.run([sys.executable, "-c", _LOAD_EVERY_PROBE, *paths.values()],
                         capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    loaded = json.loads(res.stdout)
    for name, path in paths.items():
        got = loaded[path]
        if name == "wrong_abi":
            assert isinstance(got, str) and "ABI" in got, got
            continue
        assert isinstance(got, list), (name, got)
        if name == "no_data_ops":  # a probe from before the data ops
            assert set(got) == {o for o, op in ops.CATALOGUE.items() if op.kind not in ops.DATA_KINDS}
            continue
        assert set(got) == set(ops.CATALOGUE), name


# ------------------------------------------------------------------ building


def test_build_error_names_the_compilers_first_error(tmp_path: Path) -> None:
    src = tmp_path / "broken.c"
    src.write_text("int main(void) { return this_is_not_declared; }\n")
    with pytest.raises(BuildError) as info:
        probe_build.build_probe(tmp_path / "broken.so", source=src)
    msg = str(info.value)
    assert "this_is_not_declared" in msg and "\n" not in msg
    assert not (tmp_path / "broken.so").exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_missing_compiler_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(BuildError, match=r"^no C compiler found \(tried \$CC, cc, gcc, clang\): install gcc$"):
        probe_build.build_probe(tmp_path / "x.so")
    monkeypatch.setenv("CC", "no-such-cc")
    with pytest.raises(BuildError, match=r"tried \$CC=no-such-cc, cc, gcc, clang"):
        probe_build.find_compiler()


def test_missing_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"nope\.c not found"):
        probe_build.build_probe(tmp_path / "x.so", source=tmp_path / "nope.c")


def test_reference_probe_path_builds_into_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = probe_build.reference_probe_path()
    installed = probe_build.PACKAGE_ROOT / probe_build.PROBE_LIB_NAME
    if path == installed:  # installed with a matching stamp: nothing to build
        stamp = installed.with_name(probe_build.PROBE_STAMP_NAME)
        assert stamp.read_text().strip() == probe_build.reference_build_key()
        return
    assert path.parent == tmp_path / "teecert"
    assert probe_build.reference_build_key()[:24] in path.name
    assert load_probe(path).description["name"] == "teecert-reference-probe"
    assert probe_build.reference_probe_path() == path  # cached


def test_a_stale_installed_probe_is_not_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """When the sources no longer match the installed library's stamp (an editable
    install whose C changed), the probe is built afresh into the cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(probe_build, "reference_build_key", lambda: "f" * 64)
    path = probe_build.reference_probe_path()
    assert path == tmp_path / "teecert" / f"libteecert_probe-{'f' * 24}.so"
    assert load_probe(path).description["name"] == "teecert-reference-probe"


def test_build_defines_reach_the_description(tmp_path: Path) -> None:
    p = load_probe(probe_build.build_probe(tmp_path / "named.so",
                                           defines={"TEECERT_PROBE_NAME": '"my-probe"'}))
    assert p.description["name"] == "my-probe"
    assert "-DTEECERT_PROBE_NAME=\"my-probe\"" in p.description["cflags"]


@pytest.mark.skipif(platform.system() != "Linux", reason="ELF symbol visibility")
def test_only_the_abi_is_exported(ref: Probe) -> None:
    import shutil
    import subprocess

    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not installed")
    out = subprocess.run([nm, "-D", "--defined-only", str(ref.path)], capture_output=True, text=True,
                         check=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.strip()}
    assert {n for n in names if n.startswith("teecert")} == set(
        ["teecert_probe_abi_version", "teecert_probe_describe", "teecert_probe_run",
         "teecert_probe_fpenv_read", "teecert_probe_fpenv_poison", "teecert_probe_fpenv_reset",
         "teecert_probe_transcript", "teecert_probe_transcript_reset", "teecert_probe_attest"])


def test_a_library_replaced_after_loading_is_refused(tmp_path: Path) -> None:
    """dlopen returns the already-loaded library for a known path, so reloading a
    changed file would run old code under the new digest: refused instead."""
    path = tmp_path / "swapped.so"
    probe_build.build_probe(path, defines={"TEECERT_PROBE_NAME": '"first"'})
    assert load_probe(path).description["name"] == "first"
    assert load_probe(path).description["name"] == "first"  # same file: fine
    probe_build.build_probe(path, defines={"TEECERT_PROBE_NAME": '"second"'})
    with pytest.raises(ProbeError, match="changed since this process loaded it"):
        load_probe(path)


def test_empty_batches(ref: Probe) -> None:
    assert ref.run_values(ops.get("f64.fma.rne"), []) == []
    assert ref.run(ops.get("f32.sqrt.rne"), b"", 0) == b""
