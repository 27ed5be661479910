"""Fuzzing of every attestation parser and verifier (long-running; not collected by default).

Every case starts from a real sample (``tests/data/realworld/attestation``, see its
SOURCES.md) and mutates it (truncation at any length, 1-32 bit flips, 1-32 byte
replacements, insertions/deletions/extensions of random length, corruption of the known
length fields, or fully random bytes of 0-10 KiB; for the collateral JSON also field-level corruption,
and for the JSON and the CBOR deeply nested containers), then calls ``evidence.detect``,
``evidence.verify`` (with the right certificate/collateral and a time inside the validity
window) and, when the evidence still verifies, ``policy.validate`` under two policies.

Checked per case: only ``MalformedInput`` and ``NotAuthentic`` escape (``UsageError`` is a
caller mistake and never the data's fault, so it counts as a failure here too); no hang
(hypothesis ``deadline`` of 2 s, plus a hard 20 s ``SIGALRM`` guard for real endless
loops); per target, bounded memory (peak RSS growth below ``TEECERT_FUZZ_MAX_RSS_MB``,
default 200 MB; the command-line runner also caps the address space so that a runaway
allocation surfaces as ``MemoryError`` instead of swapping the machine).

Targets (one per format, plus the two side inputs)::

    snp           SEV-SNP report (VCEK, debug and VLEK samples)     cert fixed
    snp_cert      the VCEK/VLEK certificate (DER)                    report fixed
    tdx_v4        TDX v4 quote + collateral at 2025-07-01
    tdx_v5        TDX v5 (TD 1.5) quote at 2026-02-03
    sgx_v3_coll   SGX v3 quote + collateral at 2025-07-01
    sgx_v3        SGX v3 quotes without collateral at 2025-07-01
    nitro         Nitro COSE_Sign1 (prod, debug) at the document's timestamp
    dcap_coll     the DCAP collateral JSON (TDX and SGX)             quote fixed

Run (``TEECERT_FUZZ_EXAMPLES`` cases per target, default 100,000)::

    TEECERT_FUZZ_EXAMPLES=100000 python -m pytest tests/attestation/fuzz_attestation.py -p no:cacheprovider -s
    TEECERT_FUZZ_EXAMPLES=100000 python tests/attestation/fuzz_attestation.py [TARGET ...]

The runner prints progress after every batch and per-target counts (by mutation kind
and by outcome) at the end.  ``tests/attestation/test_fuzz_smoke.py`` runs the same strategies for
a few hundred cases per target in the default test run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from teecert.attestation import evidence
from teecert.attestation.validate import policy
from teecert.errors import MalformedInput, NotAuthentic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import REALWORLD

ALLOWED = (MalformedInput, NotAuthentic)
UTC = dt.UTC
DEADLINE_MS = 2000
HARD_TIMEOUT_S = 20.0
RANDOM_MAX = 10 * 1024
KINDS = ("truncate", "bitflip", "replace", "insdel", "lenfield", "random", "jsonfield", "nesting")


class Hang(BaseException):
    """A single case ran longer than HARD_TIMEOUT_S (raised by SIGALRM)."""


# ---------------------------------------------------------------------------------------
# Known length fields of the samples
# ---------------------------------------------------------------------------------------

#: (offset, width, encoding) of a length/type field; encoding "le" (DCAP), "cbor" (a
#: CBOR head: width = head length) or "der" (a DER length: width = length-octet count).
Field = tuple[int, int, str]


def dcap_fields(q: bytes) -> list[Field]:
    """The length and type fields of a DCAP quote, walked from its own structure."""
    out: list[Field] = []
    u16 = lambda o: int.from_bytes(q[o:o + 2], "little")  # noqa: E731
    version = u16(0)
    tee = int.from_bytes(q[4:8], "little")
    out += [(0, 2, "le"), (2, 2, "le"), (4, 4, "le")]  # version, att key type, tee type
    if version == 5:
        out += [(48, 2, "le"), (50, 4, "le")]  # body type, body size
        signed = 54 + int.from_bytes(q[50:54], "little")
    else:
        signed = 48 + (584 if tee == 0x81 else 384)
    out.append((signed, 4, "le"))  # signature data size
    sig = signed + 4
    if version == 3:
        qe = sig + 128
    else:
        out += [(sig + 128, 2, "le"), (sig + 130, 4, "le")]  # certification data type, size
        qe = sig + 134
    out.append((qe + 448, 2, "le"))  # QE authentication data size
    c = qe + 450 + u16(qe + 448)
    out += [(c, 2, "le"), (c + 2, 4, "le")]  # PCK certification data type, size
    assert c + 6 + int.from_bytes(q[c + 2:c + 6], "little") <= len(q)
    return out


def _cbor_item(b: bytes, off: int, out: list[Field], nested: bool) -> int:
    """Record every CBOR head of the item at ``off`` (definite lengths only); return its end."""
    ib = b[off]
    major, ai = ib >> 5, ib & 0x1F
    hl = 1 + {24: 1, 25: 2, 26: 4, 27: 8}.get(ai, 0)
    arg = ai if ai < 24 else int.from_bytes(b[off + 1:off + hl], "big")
    out.append((off, hl, "cbor"))
    p = off + hl
    if major in (2, 3):
        if nested and major == 2 and arg and b[p] >> 5 in (4, 5):  # a byte string holding CBOR
            mark = len(out)
            try:
                if _cbor_item(b, p, out, nested=False) != p + arg:
                    del out[mark:]
            except (IndexError, ValueError):
                del out[mark:]
        return p + arg
    if major == 4:
        for _ in range(arg):
            p = _cbor_item(b, p, out, nested)
        return p
    if major == 5:
        for _ in range(2 * arg):
            p = _cbor_item(b, p, out, nested)
        return p
    if major == 6:
        return _cbor_item(b, p, out, nested)
    return p


def cbor_fields(doc: bytes) -> list[Field]:
    """Every CBOR head of a COSE_Sign1 document, including those inside the protected
    header and the payload (byte strings holding CBOR)."""
    out: list[Field] = []
    end = _cbor_item(doc, 0, out, nested=True)
    assert end == len(doc)
    # Nested walks inside byte strings use absolute offsets already (same buffer).
    return out


def der_fields(der: bytes) -> list[Field]:
    """Every DER length of a certificate (constructed TLVs walked recursively)."""
    out: list[Field] = []

    def walk(p: int, end: int) -> None:
        while p < end:
            tag = der[p]
            lb = der[p + 1]
            if lb < 0x80:
                n, ll = lb, 1
            else:
                ll = 1 + (lb & 0x7F)
                n = int.from_bytes(der[p + 2:p + 1 + ll], "big")
            out.append((p + 1, ll, "der"))
            body = p + 1 + ll
            if tag & 0x20:
                walk(body, body + n)
            p = body + n

    walk(0, len(der))
    return out


# ---------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------


@dataclass
class Seed:
    name: str
    data: bytes  # the bytes that are mutated
    call: Callable[[bytes], Any]  # runs verify with the mutated bytes, returns Verified
    fields: list[Field] = field(default_factory=list)
    auto_kw: dict[str, Any] = field(default_factory=dict)  # for fmt="auto" on random bytes


@dataclass
class Target:
    name: str
    seeds: list[Seed]
    counts: Counter[str] = field(default_factory=Counter)


def _read(rel: str) -> bytes:
    return (REALWORLD / rel).read_bytes()


def _at(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def _ev(fmt: str, **kw: Any) -> Callable[[bytes], Any]:
    def call(data: bytes) -> Any:
        return evidence.verify(data, "fuzz", fmt=fmt, **kw)
    return call


def build_targets() -> dict[str, Target]:
    snp = [("milan_v2_vcek_report", "vcek", _at(2026, 1, 1)),
           ("milan_v2_debug_report", "vcek", _at(2026, 1, 1)),
           ("milan_v3_vlek_aws_report", "vlek", _at(2025, 6, 1))]
    snp_seeds, cert_seeds = [], []
    vcek = _read("snp/milan_v2_vcek_report.vcek.der")
    for stem, kind, at in snp:
        report = _read(f"snp/{stem}.bin")
        cert = _read(f"snp/{stem}.{kind}.der")
        auto = {"certs": [cert], "at": at}
        snp_seeds.append(Seed(stem, report, _ev("snp", certs=[cert], at=at), [], auto))
        if stem != "milan_v2_debug_report":
            cert_seeds.append(Seed(f"{stem}.{kind}", cert,
                                   (lambda c, r=report, a=at: evidence.verify(r, "fuzz", fmt="snp", certs=[c], at=a)),
                                   der_fields(cert), auto))

    tdx4 = _read("tdx/tdx_v4_quote_uptodate.dat")
    tdx4_coll = _read("tdx/tdx_v4_quote_uptodate.collateral.json")
    tdx5 = _read("tdx/tdx_v5_td15_quote.dat")
    sgx = _read("sgx/sgx_v3_quote_swhardening.dat")
    sgx_coll = _read("sgx/sgx_v3_quote_swhardening.collateral.json")
    sgx_dbg = _read("sgx/sgx_v3_quote_debug_enclave.dat")
    july = _at(2025, 7, 1)

    def dcap_seed(name: str, q: bytes, fmt: str, at: dt.datetime, coll: bytes | None) -> Seed:
        return Seed(name, q, _ev(fmt, collateral=coll, at=at), dcap_fields(q), {"collateral": coll, "at": at, "certs": [vcek]})

    def coll_seed(name: str, q: bytes, fmt: str, coll: bytes) -> Seed:
        return Seed(name, coll, lambda c: evidence.verify(q, "fuzz", fmt=fmt, collateral=c, at=july), [],
                    {"collateral": None, "at": july, "certs": [vcek]})

    nitro = []
    for stem in ("nitro_prod_2022-10-13", "nitro_debug_2022-10-12"):
        doc = _read(f"nitro/{stem}.cose")
        nitro.append(Seed(stem, doc, _ev("nitro", at=None), cbor_fields(doc), {"at": None, "certs": [vcek]}))

    targets = [
        Target("snp", snp_seeds),
        Target("snp_cert", cert_seeds),
        Target("tdx_v4", [dcap_seed("tdx_v4", tdx4, "tdx", july, tdx4_coll)]),
        Target("tdx_v5", [dcap_seed("tdx_v5", tdx5, "tdx", _at(2026, 2, 3), None)]),
        Target("sgx_v3_coll", [dcap_seed("sgx_v3", sgx, "sgx", july, sgx_coll)]),
        Target("sgx_v3", [dcap_seed("sgx_v3", sgx, "sgx", july, None),
                          dcap_seed("sgx_v3_debug", sgx_dbg, "sgx", july, None)]),
        Target("nitro", nitro),
        Target("dcap_coll", [coll_seed("tdx_v4.collateral", tdx4, "tdx", tdx4_coll),
                             coll_seed("sgx_v3.collateral", sgx, "sgx", sgx_coll)]),
    ]
    return {t.name: t for t in targets}


TARGET_NAMES = ("snp", "snp_cert", "tdx_v4", "tdx_v5", "sgx_v3_coll", "sgx_v3", "nitro", "dcap_coll")

#: Exercises every rule of ``policy.validate`` (the default policy is used too).
FULL_POLICY = {
    "formats": ["snp", "tdx", "sgx", "nitro"],
    "debug_allowed": False,
    "accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded"],
    "min_tcb": {"snp": 8, "microcode": 115, "pcesvn": 11},
    "allowed_measurements": [{"MEASUREMENT": "00" * 48}, {"PCR0": "00" * 48, "PCR1": "00" * 48}],
    "vmpl": 0,
    "report_data": "0102030405",
    "require_collateral": True,
}


# ---------------------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------------------


def _truncate(data: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(0, len(data)).map(lambda n: data[:n])


def _bitflip(data: bytes) -> st.SearchStrategy[bytes]:
    def apply(flips: list[tuple[int, int]]) -> bytes:
        b = bytearray(data)
        for pos, bit in flips:
            b[pos] ^= 1 << bit
        return bytes(b)
    return st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 7)), min_size=1,
                    max_size=32).map(apply)


def _replace(data: bytes) -> st.SearchStrategy[bytes]:
    def apply(reps: list[tuple[int, int]]) -> bytes:
        b = bytearray(data)
        for pos, val in reps:
            b[pos] = val
        return bytes(b)
    byte = st.one_of(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]), st.integers(0, 255))
    return st.lists(st.tuples(st.integers(0, len(data) - 1), byte), min_size=1, max_size=32).map(apply)


def _insdel(data: bytes) -> st.SearchStrategy[bytes]:
    op = st.one_of(
        st.tuples(st.just("ins"), st.integers(0, len(data)), st.binary(min_size=1, max_size=64)),
        st.tuples(st.just("del"), st.integers(0, len(data)), st.integers(1, 256)),
        st.tuples(st.just("ext"), st.just(len(data)), st.integers(1, 8192)),  # random length
    )

    def apply(args: tuple[list[tuple[str, int, Any]], int]) -> bytes:
        ops, rnd = args
        b = bytearray(data)
        for kind, pos, arg in ops:
            pos = min(pos, len(b))
            if kind == "ins":
                b[pos:pos] = arg
            elif kind == "del":
                del b[pos:pos + arg]
            else:
                b += random.Random(rnd).randbytes(arg)
        return bytes(b)
    return st.tuples(st.lists(op, min_size=1, max_size=8), st.integers(0, 2**32)).map(apply)


def _lenfield(data: bytes, fields: list[Field]) -> st.SearchStrategy[bytes]:
    def apply(args: tuple[int, int, int, int]) -> bytes:
        idx, choice, delta, rnd = args
        off, width, enc = fields[idx]
        b = bytearray(data)
        if enc == "le":
            old = int.from_bytes(b[off:off + width], "little")
            top = (1 << (8 * width)) - 1
            new = [0, 1, top, old + delta, old - delta, rnd, len(data) - off, old + len(data), top - delta][choice]
            b[off:off + width] = (new & top).to_bytes(width, "little")
        elif enc == "cbor":
            head = b[off]
            if width == 1:  # small immediate: a new small value, or claim a longer head
                new_ai = [0, 23, 24, 25, 26, 27, 28, 31, (head & 0x1F) + 1][choice]
                b[off] = (head & 0xE0) | (new_ai & 0x1F)
            else:
                n = width - 1
                old = int.from_bytes(b[off + 1:off + width], "big")
                top = (1 << (8 * n)) - 1
                new = [0, 1, top, old + delta, old - delta, rnd, len(data), old * 2, 31][choice]
                if choice == 8:  # indefinite length marker
                    b[off] = (head & 0xE0) | 31
                else:
                    b[off + 1:off + width] = (new & top).to_bytes(n, "big")
        else:  # der
            if width == 1:
                b[off] = [0, 0x7F, 0x80, 0x81, 0x84, 0xFF, b[off] + 1, b[off] - 1, rnd & 0xFF][choice] & 0xFF
            else:
                n = width - 1
                old = int.from_bytes(b[off + 1:off + width], "big")
                top = (1 << (8 * n)) - 1
                new = [0, 1, top, old + delta, old - delta, rnd, len(data), old * 2, 0][choice]
                b[off + 1:off + width] = (new & top).to_bytes(n, "big")
                if choice == 8:
                    b[off] = 0x80  # indefinite form, forbidden in DER
        return bytes(b)
    return st.tuples(st.integers(0, len(fields) - 1), st.integers(0, 8), st.integers(1, 4096),
                     st.integers(0, 2**64 - 1)).map(apply)


def _json_field(data: bytes) -> st.SearchStrategy[bytes]:
    """Structural corruption of the collateral JSON (the byte-level kinds mostly give
    'not JSON'; this reaches the checks behind the parser)."""
    doc = json.loads(data)
    keys = sorted(doc)
    values = st.recursive(
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=40),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=8,
    )

    def apply(args: tuple[str, int, Any, int, int]) -> bytes:
        key, action, value, pos, rnd = args
        d = dict(doc)
        v = d[key]
        if action == 0:
            del d[key]
        elif action == 1:
            d[key] = value
        elif action == 2 and isinstance(v, str):
            d[key] = v[: pos % (len(v) + 1)]
        elif action == 3 and isinstance(v, str) and v:
            i = pos % len(v)
            d[key] = v[:i] + random.Random(rnd).choice("0123456789abcdefABCDEF{}[]\":,-xZ \n") + v[i + 1:]
        elif action == 4 and isinstance(v, str) and v[:1] == "{":
            inner = json.loads(v)  # the signed JSON (tcbInfo/enclaveIdentity): corrupt one of its fields
            if isinstance(inner, dict) and inner:
                top = sorted(inner)[pos % len(inner)]
                body = inner[top]
                if isinstance(body, dict) and body:
                    k = sorted(body)[rnd % len(body)]
                    body = {**body, k: value}
                    inner = {**inner, top: body}
                else:
                    inner = {**inner, top: value}
            d[key] = json.dumps(inner, separators=(",", ":"))
        else:
            d[key] = value
        return json.dumps(d).encode()
    return st.tuples(st.sampled_from(keys), st.integers(0, 4), values, st.integers(0, 2**20),
                     st.integers(0, 2**32)).map(apply)


def _nesting(data: bytes, fmt: str, fields: list[Field]) -> st.SearchStrategy[bytes]:
    """Deeply nested containers (recursion limits of the JSON and CBOR decoders)."""
    if fmt == "json":
        doc = json.loads(data)
        keys = sorted(doc)

        def apply_json(args: tuple[int, str, bool, str]) -> bytes:
            depth, opener, closed, key = args
            closer = "]" if opener == "[" else "}"
            deep = opener * depth + ("0" + closer * depth if closed else "")
            if key == "":
                return deep.encode()
            text = json.dumps({**doc, key: None})
            return text.replace(f'"{key}": null', f'"{key}": {deep}').encode()
        return st.tuples(st.integers(1, 100_000), st.sampled_from(["[", '{"a":']), st.booleans(),
                         st.sampled_from(["", *keys])).map(apply_json)

    def apply_cbor(args: tuple[int, int, int]) -> bytes:
        depth, idx, opener = args
        off = fields[idx][0] if fields else 0
        return data[:off] + bytes([opener]) * depth + data[off:]
    return st.tuples(st.integers(1, 60_000), st.integers(0, max(0, len(fields) - 1)),
                     st.sampled_from([0x81, 0x9F, 0xA1, 0xBF, 0xC1, 0xD2])).map(apply_cbor)


def _random_bytes() -> st.SearchStrategy[bytes]:
    # A seed, not st.binary: keeps hypothesis' own bookkeeping small over 100,000 cases.
    prefix = st.sampled_from([b"", b"\x84", b"\xd2", b"\x03\x00\x02\x00", b"\x04\x00\x02\x00\x81\x00\x00\x00",
                              b"\x05\x00\x02\x00\x81\x00\x00\x00", b"\x02\x00\x00\x00", b"{", b"-----BEGIN"])
    return st.tuples(prefix, st.integers(0, RANDOM_MAX), st.integers(0, 2**64 - 1)).map(
        lambda a: (a[0] + random.Random(a[2]).randbytes(a[1]))[:a[1]])


def case_strategy(target: Target) -> st.SearchStrategy[tuple[str, int, bytes]]:
    """(kind, seed index, bytes): every kind for every seed of the target."""
    per_seed = []
    for i, s in enumerate(target.seeds):
        kinds: list[tuple[str, st.SearchStrategy[bytes]]] = [
            ("truncate", _truncate(s.data)), ("bitflip", _bitflip(s.data)), ("replace", _replace(s.data)),
            ("insdel", _insdel(s.data)), ("random", _random_bytes()),
        ]
        if s.fields:
            kinds.append(("lenfield", _lenfield(s.data, s.fields)))
        if target.name == "dcap_coll":
            kinds += [("jsonfield", _json_field(s.data)), ("nesting", _nesting(s.data, "json", []))]
        if target.name == "nitro":
            kinds.append(("nesting", _nesting(s.data, "cbor", s.fields)))
        for kind, strat in kinds:
            per_seed.append(strat.map(lambda b, k=kind, i=i: (k, i, b)))
    return st.one_of(per_seed)


# ---------------------------------------------------------------------------------------
# One case
# ---------------------------------------------------------------------------------------

_POLICIES: list[Any] = []


def _policies() -> list[Any]:
    if not _POLICIES:
        _POLICIES.extend([None, policy.from_document(FULL_POLICY, "fuzz policy")])
    return _POLICIES


def _on_alarm(signum: int, frame: Any) -> None:
    raise Hang(f"case ran longer than {HARD_TIMEOUT_S} s")


def run_case(target: Target, kind: str, seed_idx: int, data: bytes) -> str:
    """Run one case; return the outcome; raise on anything that must not escape."""
    s = target.seeds[seed_idx]
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, HARD_TIMEOUT_S)
    try:
        try:
            detected: str | None = evidence.detect(data, "fuzz")
        except MalformedInput:
            detected = None
        if kind == "random" and detected and target.name not in ("snp_cert", "dcap_coll") and (
                s.auto_kw.get("at") is not None or detected == "nitro"):
            # Random bytes: also verify as whatever format they look like (fmt="auto").
            try:
                evidence.verify(data, "fuzz", fmt="auto", **s.auto_kw)
            except ALLOWED:
                pass
        try:
            v = s.call(data)
        except ALLOWED as exc:
            return type(exc).__name__
        fails = [policy.validate(v, p) for p in _policies()]
        evidence.verified_to_json(v)
        return "verified+rejected" if fails[0] else "verified+accepted"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@dataclass
class Result:
    target: str
    cases: int
    counts: Counter[str]
    failures: list[str]
    rss_growth_mb: float
    seconds: float

    def line(self) -> str:
        kinds = " ".join(f"{k}={self.counts[k]}" for k in KINDS if self.counts[k])
        outs = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()) if k.startswith("out:"))
        return (f"{self.target:12s} cases={self.cases} failures={len(self.failures)} "
                f"rss+={self.rss_growth_mb:.1f}MB time={self.seconds:.0f}s | {kinds} | {outs}")


def fuzz_target(name: str, total: int, *, batch: int = 5000, deadline_ms: int | None = DEADLINE_MS,
                max_failures: int = 3, progress: bool = False) -> Result:
    """Run at least ``total`` cases against one target (in hypothesis runs of ``batch``
    examples, so that hypothesis' own memory does not build up over 100,000 cases)."""
    target = build_targets()[name]
    for s in target.seeds:  # every seed is good evidence before it is mutated
        s.call(s.data)
    _policies()
    counts: Counter[str] = Counter()
    failures: list[str] = []
    rss0, t0 = _rss_mb(), time.monotonic()

    def one_batch(n: int) -> None:
        @settings(max_examples=n, deadline=deadline_ms, database=None, derandomize=False,
                  phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
                  print_blob=True)
        @given(case_strategy(target))
        def case(c: tuple[str, int, bytes]) -> None:
            kind, idx, data = c
            try:
                out = run_case(target, kind, idx, data)
            except ALLOWED:
                out = "allowed"
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                raise AssertionError(
                    f"{name}/{target.seeds[idx].name}/{kind}: {type(exc).__name__} escaped: {exc} "
                    f"(input {len(data)} bytes, head {data[:16].hex()})") from exc
            counts[kind] += 1
            counts["out:" + out] += 1
            counts["cases"] += 1
        case()

    while counts["cases"] < total and len(failures) < max_failures:
        before = counts["cases"]
        try:
            one_batch(min(batch, total - counts["cases"]))
        except Exception:
            failures.append(traceback.format_exc())
            print(f"[{name}] FAILURE after {counts['cases']} cases:\n{failures[-1]}", flush=True)
        if progress:
            print(f"[{name}] {counts['cases']}/{total} cases, {time.monotonic() - t0:.0f}s, "
                  f"peak RSS {_rss_mb():.0f} MB", flush=True)
        if counts["cases"] == before and not failures:
            break  # hypothesis found nothing more to generate
    return Result(name, counts["cases"], counts, failures, _rss_mb() - rss0, time.monotonic() - t0)


def max_rss_growth_mb() -> float:
    return float(os.environ.get("TEECERT_FUZZ_MAX_RSS_MB", "200"))


def examples() -> int:
    return int(os.environ.get("TEECERT_FUZZ_EXAMPLES", "100000"))


@pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"real-world attestation samples absent ({REALWORLD})")
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_fuzz(name: str) -> None:
    res = fuzz_target(name, examples(), progress=True)
    print(res.line())
    assert not res.failures, res.failures[0]
    assert res.cases >= examples()
    assert res.rss_growth_mb < max_rss_growth_mb(), res.line()


def _cap_address_space(extra_gb: float = 2.0) -> None:
    """Make a runaway allocation a MemoryError (reported as an escape) rather than swap."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
        vm = pages * os.sysconf("SC_PAGE_SIZE")
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = vm + int(extra_gb * 2**30)
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        pass


def main(argv: list[str]) -> int:
    names = argv or list(TARGET_NAMES)
    unknown = [n for n in names if n not in TARGET_NAMES]
    if unknown:
        print(f"unknown target(s) {unknown}; known: {', '.join(TARGET_NAMES)}", file=sys.stderr)
        return 2
    if not REALWORLD.is_dir():
        print(f"real-world attestation samples absent ({REALWORLD})", file=sys.stderr)
        return 2
    _cap_address_space()
    total = examples()
    print(f"fuzzing {', '.join(names)}: {total} cases each", flush=True)
    results = [fuzz_target(n, total, progress=True) for n in names]
    print("\nper-target results:")
    bad = 0
    for r in results:
        print(r.line())
        if r.failures or r.rss_growth_mb >= max_rss_growth_mb() or r.cases < total:
            bad += 1
    print("RESULT:", "FAIL" if bad else "PASS", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
