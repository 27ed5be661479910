"""Mutation testing of teecert's own judgement code, with nothing but the standard library.

A line of coverage says a test ran the code, not that a test would notice the code
being wrong.  This script plants one fault at a time (a *mutant*: a comparison
flipped, a constant moved by one, a cross-check or a ``raise`` deleted, a boundary
moved by a second) into the code that decides verdicts and golden values, runs the
tests that own that code, and counts the mutants they catch (*killed*: the tests fail)
and those they let through (*survived*).  A survivor is a fault the suite would ship.

The repository is never touched.  It is copied (``cp -r`` of every top-level entry
but ``.venv``, ``.git`` and tool caches) into a temporary folder, and the copy is
made the ``teecert`` that Python imports: ``teecert`` is an editable install whose
finder maps the name to the original ``harness/``, but that finder sits after the
normal path search, so a ``PYTHONPATH`` entry holding a ``teecert`` symlink to the
copy's ``harness/`` wins (with the package-data folders ``vector_data``, ``native``
and ``suites`` linked inside it, as the installed package has them).  Before any
mutant runs, the script checks that the copy is what gets imported, that every
test selection passes on the unmutated copy, and that a deliberately broken copy
fails (a canary: if it passed, the mutants would not be exercised and every figure
would be meaningless).  Bytecode is not written, so a mutant of the same size and
second as its original is never served from a stale ``.pyc``.

Each mutant runs only the fast tests that own its file, single-process
(``-n 0``), stopping at the first failure; the whole run takes minutes.

    python benchmarks/mutate.py            # every mutant
    python benchmarks/mutate.py --quick    # the canary and three mutants
    python benchmarks/mutate.py --only waiver --keep --json out.json

Exit status: 0 when every mutant was killed, 1 when some survived, 2 when the run
could not be trusted (the copy is not imported, a baseline fails, the canary
survives, or a mutant's snippet is not in its file).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: what the copy leaves out: the environment, version control, and caches
EXCLUDE = {".venv", ".git", ".mypy_cache", ".hypothesis", ".pytest_cache", ".ruff_cache"}
#: package-data folders of the ``teecert`` package, linked into the copy's harness/
PACKAGE_DATA = {"vector_data": "vectors", "native": "native", "suites": "suites"}


# -- which tests own which file --------------------------------------------------------------

VERDICT_TESTS = ("tests/report/test_verdict.py", "-k", "not verify_refuses")
VERIFIER_TESTS = ("tests/report/test_verdict.py::test_verify_refuses_a_verdict_that_relied_on_a_waiver_after_it_expired",)
JUDGE_VECTORS_TESTS = ("tests/certify/test_judge_vectors.py",)
JUDGE_LIBM_TESTS = ("tests/certify/test_judge_libm.py",)
CLOCKS_TESTS = ("tests/certify/test_clocks.py",)
ENVIRONMENT_TESTS = ("tests/certify/test_environment_checks.py",)
DATA_TESTS = ("tests/reference/test_data_reference.py",)
GOLDEN_TESTS = (
    "tests/reference/test_reference.py::test_disagreement_is_raised_when_rational_is_wrong",
    "tests/reference/test_reference.py::test_disagreement_is_raised_when_mpfr_is_wrong",
    "tests/reference/test_reference.py::test_mpfr_fast_path_runs_mpfr_only",
    "tests/reference/test_reference.py::test_malformed_inputs_are_refused",
    "tests/reference/test_reference.py::test_empty_batches",
)
HASHES_TESTS = ("tests/reference/test_hash_reference.py", "tests/reference/test_data_reference.py")
LIBM_REFERENCE_TESTS = (
    "tests/reference/test_libm_reference.py::test_disagreement_is_raised",
    "tests/reference/test_libm_reference.py::test_ulp_error_of_correct_and_wrong_values",
    "tests/reference/test_libm_reference.py::test_ulp_error_specials_and_subnormals",
    "tests/certify/test_judge_libm.py",
)
STORE_TESTS = (
    "tests/vectors/test_store_rehash.py",
    "tests/vectors/test_vectors.py::test_edited_file_is_refused_naming_it",
    "tests/vectors/test_vectors.py::test_stream_root_must_match_its_leaves",
    "tests/vectors/test_vectors.py::test_stream_leaves_must_cover_its_count_exactly",
    "tests/vectors/test_vectors.py::test_malformed_explicit_file_names_the_field",
)
OPS_TESTS = ("tests/certify/test_judge_vectors.py", "-k", "ulp_distance or divergence")
RUN_EVIDENCE_TESTS = ("tests/attestation/test_run_evidence.py",)
CHALLENGE_TESTS = ("tests/certify/test_challenge_suite.py", "-k",
                   "self_consistent_lie or edited_challenge_rows or another_challenge")
STRESS_UNIT_TESTS = ("tests/certify/test_stress.py", "-k", "empty_plans or localedef or locale_sources")
STRESS_CHECKED_TESTS = ("tests/certify/test_stress.py", "-k", "checked or transcript or busy_loops")
PARSE_CACHE_TESTS = ("tests/vectors/test_store_parse_cache.py",)
REGION_POOL_TESTS = ("tests/probe/test_region_pool.py",)
RUN_GEN_TESTS = ("tests/probe/test_run_gen.py",)


@dataclass(frozen=True)
class Mutant:
    name: str  # the fault, in words
    file: str  # relative to the repository
    original: str  # must occur in the file (the ``nth`` occurrence is replaced)
    mutated: str
    tests: tuple[str, ...]  # pytest arguments: test files, node ids, -k expressions
    nth: int = 1


V, VER = "harness/report/verdict.py", "harness/verify/verifier.py"
JV, JL = "harness/certify/judge/vectors.py", "harness/certify/judge/libm.py"
JC, JE = "harness/certify/judge/clocks.py", "harness/certify/judge/environment.py"
RD, RG, RH, RL = ("harness/reference/data.py", "harness/reference/golden.py", "harness/reference/hashes.py",
                  "harness/reference/libm.py")
ST, OPS, RE = "harness/vectors/store.py", "harness/ops.py", "harness/attestation/run_evidence.py"
VC, SS = "harness/verify/challenge.py", "harness/certify/stress.py"

MUTANTS: list[Mutant] = [
    # -- the verdict
    Mutant("verdict: an unknown outcome counts as passed", V,
           '''            reasons.append({"code": "TEST_FAILED", "test": r["id"], "suite": suite,
                            "message": f"unknown outcome {outcome!r}"})''', "            pass", VERDICT_TESTS),
    Mutant("verdict: error is not a failure", V, 'if outcome in ("failed", "error"):',
           'if outcome in ("failed",):', VERDICT_TESTS),
    Mutant("verdict: skipped compared with != ", V, 'elif outcome == "skipped":', 'elif outcome != "skipped":',
           VERDICT_TESTS),
    Mutant("verdict: unsupported ops fail when the profile says pass", V, "if fail_unsupported:",
           "if not fail_unsupported:", VERDICT_TESTS),
    Mutant("verdict: a waiver ends one second early", V, "if at <= expires and", "if at < expires and",
           VERDICT_TESTS),
    Mutant("verdict: a waiver ends one second late", V, "if at <= expires and",
           "if at <= expires + _dt.timedelta(seconds=1) and", VERDICT_TESTS),
    Mutant("verdict: a waiver covers a test it does not name (and -> or)", V,
           "if at <= expires and waiver_covers", "if at <= expires or waiver_covers", VERDICT_TESTS),
    Mutant("verdict: test ids only as fnmatch patterns", V, "any(t == test_id or fnmatch",
           "any(fnmatch", VERDICT_TESTS),
    Mutant("verdict: a missing suite is no reason", V,
           'reasons.extend({"code": "SUITE_MISSING", "suite": s} for s in required - seen)', "pass",
           VERDICT_TESTS),
    Mutant("verdict: only unrequired suites judged", V, "if suite not in required and not",
           "if suite in required and not", VERDICT_TESTS),
    Mutant("verdict: libm that changes under a perturbation judged at the suite's level", V,
           "if suite not in required and not _always_required_failure(r):", "if suite not in required:",
           VERDICT_TESTS),
    Mutant("verdict: a skipped libm determinism check fails an advisory suite", V,
           'and r["outcome"] in ("failed", "error"))', ")", VERDICT_TESTS),
    Mutant("verdict: missing evidence is no reason", V, "if row is None:", "if row is not None:",
           VERDICT_TESTS),
    Mutant("verdict: evidence that is not passed only fails when failed", V,
           'row["outcome"] != "passed":', 'row["outcome"] == "failed":', VERDICT_TESTS),
    Mutant("verdict: evidence judged when the suite is advisory or not passed (and -> or)", V,
           'elif row["suite"] not in required and row[', 'elif row["suite"] not in required or row[',
           VERDICT_TESTS),
    Mutant("verdict: a naive time is not made UTC", V, "if when.tzinfo is None:", "if when.tzinfo is not None:",
           VERDICT_TESTS),
    Mutant("verdict: result inverted", V, '"result": NOT_CERTIFIED if reasons else CERTIFIED',
           '"result": CERTIFIED if reasons else NOT_CERTIFIED', VERDICT_TESTS),
    Mutant("verdict: waived key always present", V, "    if waived:\n", "    if True:\n", VERDICT_TESTS),
    Mutant("verdict: waived entries unsorted", V, "        waived.sort(key=_reason_key)\n", "", VERDICT_TESTS),
    Mutant("verdict: reasons unsorted", V, "    reasons.sort(key=_reason_key)\n", "", VERDICT_TESTS),
    Mutant("summary: vectors counted as rows", V, 'vectors += int(r.get("vectors", 0))', "vectors += 1",
           VERDICT_TESTS),
    # -- the verifier: waivers at verification time, validity bounds
    Mutant("verify: waivers not re-judged at the verification time", VER,
           "now_verdict = verdict.compute(pred[\"results\"], prof, at=when)",
           "now_verdict = verdict.compute(pred[\"results\"], prof, at=nb)", VERIFIER_TESTS),
    Mutant("verify: the re-judged verdict compared with ==", VER, "if now_verdict != computed:",
           "if now_verdict == computed:", VERIFIER_TESTS),
    Mutant("verify: the re-judged verdict dropped", VER, "            computed = now_verdict\n", "", VERIFIER_TESTS),
    Mutant("verify: the claimed verdict judged at the verification time", VER,
           "computed = verdict.compute(pred[\"results\"], prof, at=nb)",
           "computed = verdict.compute(pred[\"results\"], prof, at=when)", VERIFIER_TESTS),
    Mutant("verify: expired one second early", VER, "if when > na:", "if when >= na:", VERIFIER_TESTS),
    Mutant("verify: not yet valid one second late", VER, "if when < nb:", "if when <= nb:", VERIFIER_TESTS),
    # -- judge.vectors
    Mutant("judge: a constant 1 ulp in the record", JV,
           '"ulp": ops.ulp_distance(op.result_fmt, expected, got) if op.float_format else None',
           '"ulp": "1" if op.float_format else None', JUDGE_VECTORS_TESTS),
    Mutant("judge: a constant 1 ulp in the message", JV, """ulp = f" ({d['ulp']} ulp)" if""",
           'ulp = " (1 ulp)" if', JUDGE_VECTORS_TESTS),
    Mutant("judge: explicit vectors of the first group only", JV, "if g != v.expected]",
           "if g != v.expected and v.group == vecs[0].group]", JUDGE_VECTORS_TESTS),
    Mutant("judge: groups of the first bad vector only", JV, "groups = sorted({b[0].group for b in bad})",
           "groups = sorted({bad[0][0].group})", JUDGE_VECTORS_TESTS),
    Mutant("judge: the last bad vector named first", JV, "    v, g = bad[0]\n", "    v, g = bad[-1]\n",
           JUDGE_VECTORS_TESTS),
    Mutant("judge: failures counts every vector", JV, '"failures": len(bad),', '"failures": len(vecs),',
           JUDGE_VECTORS_TESTS),
    Mutant("judge: long operands not shortened", JV, "len(hexval) <= 80", "len(hexval) <= 8000",
           JUDGE_VECTORS_TESTS),
    Mutant("judge: a full stream run states the recomputed root", JV, "full = chunks == st.chunks",
           "full = chunks != st.chunks", JUDGE_VECTORS_TESTS),
    Mutant("judge: vectors of a stream not capped at its count", JV,
           "vectors = min(st.count, chunks * st.chunk_size)", "vectors = chunks * st.chunk_size",
           JUDGE_VECTORS_TESTS),
    Mutant("judge: the last divergent chunk located", JV, "    first = bad[0]\n", "    first = bad[-1]\n",
           JUDGE_VECTORS_TESTS),
    Mutant("judge: only the first block of a chunk searched", JV, "for b in range(0, len(inputs), block):",
           "for b in range(0, min(len(inputs), block), block):", JUDGE_VECTORS_TESTS),
    Mutant("judge: the located index relative to the chunk", JV,
           "return divergence(st.op, start + i, inputs[i], both, g)",
           "return divergence(st.op, i, inputs[i], both, g)", JUDGE_VECTORS_TESTS),
    # -- judge.libm
    Mutant("libm judge: the last error, not the worst", JL, "self.max_ulp = max(self.max_ulp, err)",
           "self.max_ulp = err", JUDGE_LIBM_TESTS),
    Mutant("libm judge: the last difference kept as first", JL, "        if self.first is None:\n",
           "        if True:\n", JUDGE_LIBM_TESTS),
    Mutant("libm judge: 'inf' test inverted", JL, 'worst = "inf" if self.max_ulp == float("inf")',
           'worst = "inf" if self.max_ulp != float("inf")', JUDGE_LIBM_TESTS),
    Mutant("libm judge: pinned_for without the kind check (and -> or)", JL,
           "isinstance(entry, dict) and kind in entry", "isinstance(entry, dict) or kind in entry",
           JUDGE_LIBM_TESTS),
    Mutant("libm judge: any pin passes", JL, "if pinned is not None and got_root == pinned:",
           "if pinned is not None:", JUDGE_LIBM_TESTS),
    Mutant("libm judge: the first hard case ignored", JL, "        if g != v.expected:\n",
           "        if g != v.expected and v.tc_id > 1:\n", JUDGE_LIBM_TESTS),
    Mutant("libm judge: a nondeterministic probe not refused", JL,
           '''        raise AssertionError(f"{op.id}: chunk {index} gave other outputs when run again: "
                             "the probe is not deterministic")''', "        pass", JUDGE_LIBM_TESTS),
    Mutant("libm judge: MPFR not checked against the committed leaf", JL,
           '''        raise AssertionError(f"{op.id}: MPFR does not reproduce the committed leaf of "
                             f"chunk {index}: this host's reference arithmetic is faulty")''', "        pass",
           JUDGE_LIBM_TESTS),
    Mutant("libm judge: any cached dict believed", JL,
           'if isinstance(cached, dict) and set(cached) == {"differ", "max_ulp", "first"}:',
           "if isinstance(cached, dict):", JUDGE_LIBM_TESTS),
    Mutant("libm judge: a stream's worst error is its last chunk's", JL,
           'tally.max_ulp = max(tally.max_ulp, float(c["max_ulp"]))', 'tally.max_ulp = float(c["max_ulp"])',
           JUDGE_LIBM_TESTS),
    Mutant("libm judge: stream indices relative to the chunk", JL, "t.add(op, start + i, args[i], w, g)",
           "t.add(op, i, args[i], w, g)", JUDGE_LIBM_TESTS),
    Mutant("libm judge: a stream judged by the explicit pin", JL, 'pinned_for(pins, op.id, "stream")',
           'pinned_for(pins, op.id, "explicit")', JUDGE_LIBM_TESTS),
    # -- judge.clocks and judge.environment
    Mutant("clocks: a jitter at the limit fails", JC, "bad = value > limit", "bad = value >= limit", CLOCKS_TESTS),
    Mutant("clocks: an equal read counted backward", JC, "if delta < 0:", "if delta <= 0:", CLOCKS_TESTS),
    Mutant("clocks: percentile rank one late", JC, "if seen >= rank:", "if seen > rank:", CLOCKS_TESTS),
    Mutant("clocks: exactly enough samples is too few", JC, "if checks and st.samples < want:",
           "if checks and st.samples <= want:", CLOCKS_TESTS),
    Mutant("environment: a pinned string compared with !=", JE, "return actual == spec, repr(spec)",
           "return actual != spec, repr(spec)", ENVIRONMENT_TESTS),
    Mutant("environment: exactly min_cores is too few", JE, "ok = len(affinity) >= int(min_cores)",
           "ok = len(affinity) > int(min_cores)", ENVIRONMENT_TESTS),
    Mutant("environment: core ranges joined two apart", JE, "if run and c == run[-1] + 1:",
           "if run and c == run[-1] + 2:", ENVIRONMENT_TESTS),
    # -- the data references and their cross-checks
    Mutant("data: decimal parse cross-check deleted", RD,
           "    if other != bits:\n        raise _disagree(op, vec, bits, other)\n", "", DATA_TESTS),
    Mutant("data: a NaN on one side of the parse accepted (and -> or)", RD,
           "if F64.is_nan(bits) and F64.is_nan(other):", "if F64.is_nan(bits) or F64.is_nan(other):", DATA_TESTS),
    Mutant("data: decimal print cross-check deleted", RD,
           "    if other != text:\n        raise _disagree(op, vec, text, other)\n", "", DATA_TESTS),
    Mutant("data: record layout cross-check deleted", RD,
           "    if other != out:\n        raise _disagree(op, vec, out.hex(), other.hex())\n", "", DATA_TESTS),
    Mutant("data: sort cross-check deleted", RD,
           "    if other != out:\n        raise _disagree(op, vec, out, other)\n", "", DATA_TESTS),
    Mutant("data: sort confirmation not decorated with the position", RD,
           "sorted((v >> integers.SORT_KEY_SHIFT, i, v) for", "sorted((v >> integers.SORT_KEY_SHIFT, -i, v) for",
           DATA_TESTS),
    Mutant("data: SHA3 sponge cross-check never runs", RD, 'if op.name == "sha3_256":',
           'if op.name == "sha3-256":', DATA_TESTS),
    Mutant("data: SHA3 sponge cross-check deleted", RD,
           "        if other != out:\n            raise _disagree(op, vec, out.hex(), other.hex())\n", "",
           DATA_TESTS),
    Mutant("data: SHA3 confirmed with Keccak's padding", RD, "hashes.RATE_256, 0x06, 32",
           "hashes.RATE_256, 0x01, 32", DATA_TESTS),
    Mutant("data: a slot one bit too wide accepted", RD, "not 0 <= x < (1 << slot.bits)",
           "not 0 <= x <= (1 << slot.bits)", DATA_TESTS),
    # -- the float references and their cross-check
    Mutant("golden: rational vs MPFR cross-check deleted (one vector)", RG,
           "    if r != m:\n        raise ReferenceDisagreement(op_id, vec, r, m)\n", "", GOLDEN_TESTS),
    Mutant("golden: rational vs MPFR cross-check deleted (batches)", RG,
           "                raise ReferenceDisagreement(op_id, vec, x, y)\n", "                pass\n",
           GOLDEN_TESTS),
    Mutant("libm reference: MPFR vs mpmath cross-check deleted", RL,
           "    if a != b:\n        raise LibmReferenceDisagreement(fn, f, vec, a, b)\n", "",
           LIBM_REFERENCE_TESTS),
    Mutant("libm reference: a NaN for a number is 0 ulp", RL,
           "return 0.0 if cr_nan and got_nan else math.inf", "return 0.0", LIBM_REFERENCE_TESTS),
    # -- the sponge
    Mutant("sponge: the domain byte ignored", RH, "padded[len(msg)] ^= domain", "padded[len(msg)] ^= 0x06",
           HASHES_TESTS),
    Mutant("sponge: the final padding bit moved", RH, "padded[-1] ^= 0x80", "padded[-1] ^= 0x40",
           HASHES_TESTS),
    Mutant("sponge: domain 0x80 accepted", RH, "0 < domain < 0x80", "0 < domain <= 0x80", HASHES_TESTS),
    Mutant("sponge: one squeeze only", RH, "while len(out) < out_len:", "if len(out) < out_len:", HASHES_TESTS),
    # -- the vector store
    Mutant("store: a vector file read without re-hashing", ST,
           '''    if hashlib.sha256(data).hexdigest() != vs.files.get(fname):
        raise MalformedInput(f"{fpath}: changed since the manifest was checked")\n''', "", STORE_TESTS),
    Mutant("store: explicit files read around the check", ST, "    data = _read_checked(vs, fname)\n",
           "    data = (vs.path / fname).read_bytes()\n", STORE_TESTS),
    Mutant("store: stream files read around the check", ST, "    doc = _read_listed(vs, fname)\n",
           "    doc = canonical.loads((vs.path / fname).read_bytes(), where)\n", STORE_TESTS),
    Mutant("store: a parse cache entry of other bytes taken", ST,
           "        if got_sig != sig or type(rows) is not list:", "        if type(rows) is not list:",
           PARSE_CACHE_TESTS),
    Mutant("store: a file that did not parse gets a cache entry", ST,
           "    if entry is not None:\n        put(", "    if False:\n        put(", PARSE_CACHE_TESTS),
    Mutant("store: a file not matching the manifest loaded", ST,
           "        if actual != fdigest:\n", "        if False:\n", STORE_TESTS),
    Mutant("store: a stream root not checked", ST, "if merkle.root(leaves) != root:", "if False:", STORE_TESTS),
    Mutant("store: leaves need only cover or be positive (or -> and)", ST,
           "if count <= 0 or len(leaves) != -(-count // chunk):",
           "if count <= 0 and len(leaves) != -(-count // chunk):", STORE_TESTS),
    # -- ulp_distance
    Mutant("ulp_distance: the sign ignored", OPS, "return -mag if x & fmt.sign_bit else mag", "return mag",
           OPS_TESTS),
    Mutant("ulp_distance: two NaNs 'nan' apart", OPS, 'return "0" if na and nb else "nan"', 'return "nan"',
           OPS_TESTS),
    Mutant("ulp_distance: the sign bit read as magnitude", OPS, "mag = x & ~fmt.sign_bit & fmt.mask",
           "mag = x & fmt.mask", OPS_TESTS),
    Mutant("ulp_distance: one NaN is 0 apart (and -> or)", OPS, 'return "0" if na and nb else "nan"',
           'return "0" if na or nb else "nan"', OPS_TESTS),
    # -- the attestation record
    Mutant("attestation: the recorded outcome not compared", RE,
           'if entry is None or entry["outcome"] != outcome:', "if entry is None:", RUN_EVIDENCE_TESTS),
    Mutant("attestation: the result row not compared", RE,
           "    if entry != _row(outcome, message, failures):\n", "    if False:\n", RUN_EVIDENCE_TESTS),
    Mutant("attestation: the verified record not compared", RE, "    if fields:\n", "    if False:\n",
           RUN_EVIDENCE_TESTS),
    Mutant("data: the integer ops' second answer not compared", RD,
           "        other = int(second(*pre, *vec))\n        if other != out:",
           "        other = int(second(*pre, *vec))\n        if False:", DATA_TESTS),
    # -- fresh challenges, as verify re-checks them
    Mutant("challenge: a passed row over wrong outputs accepted", VC,
           'if row["outcome"] == "passed" and differ:', "if False:", CHALLENGE_TESTS),
    Mutant("challenge: outputs not checked against the root", VC,
           "or not challenge.proves(p, root, n):", ":", CHALLENGE_TESTS),
    Mutant("challenge: the chosen chunks not re-derived", VC,
           "if [p.chunk for p in proofs] != chosen:", "if False:", CHALLENGE_TESTS),
    Mutant("challenge: the fresh stream's seed not re-derived", VC,
           "if (seed, n, size) != want:", "if (n, size) != want[1:]:", CHALLENGE_TESTS),
    # -- stress: a check that compared nothing
    Mutant("stress: outputs taken as checked without comparing them", SS,
           "bytes(outputs) == ref", "True", STRESS_CHECKED_TESTS),
    Mutant("stress: the host's transcript not compared with the outputs read", SS,
           "    if (t, n) == (folded, calls):\n        return []", "    if True:\n        return []",
           STRESS_CHECKED_TESTS),
    Mutant("stress: busy loops under every perturbation", SS,
           "    loops = plan.load_processes if p.load else 0", "    loops = plan.load_processes",
           STRESS_CHECKED_TESTS),
    Mutant("remote: a kept region not scrubbed", "harness/probe/remote.py",
           "            ctypes.memset(int(ffi.cast(\"uintptr_t\", self.ptr)), 0, self.used)\n",
           "            pass\n", REGION_POOL_TESTS),
    Mutant("remote: the region of a host that failed its exit kept", "harness/probe/remote.py",
           "isinstance(chan, _ChildChannel) and chan.exited_cleanly())",
           "isinstance(chan, _ChildChannel))", REGION_POOL_TESTS),
    Mutant("host: RUN_GEN generates the stream from the vector after start", "native/host/probe_host.c",
           "teecert_gen(s0, start, n, prm[0], prm[1], in_copy->p);",
           "teecert_gen(s0, start + 1, n, prm[0], prm[1], in_copy->p);", RUN_GEN_TESTS),
    Mutant("host: RUN_GEN makes a data stream from the vector after start", "native/host/probe_host.c",
           "teecert_gen_data(s0, start, n, prm[0], prm[1], prm[2], in_copy->p)",
           "teecert_gen_data(s0, start + 1, n, prm[0], prm[1], prm[2], in_copy->p)", RUN_GEN_TESTS),
    Mutant("host: RUN_GEN takes a reversed libm domain", "native/host/probe_host.c",
           "lo < emin || hi > emax || lo > hi || sgn > 1", "lo < emin || hi > emax || sgn > 1", RUN_GEN_TESTS),
    Mutant("streams: a libm stream sent as teecert-mix-v1", "harness/probe/streams.py",
           "return GenSpec(GEN_LIBM, s0, (op.arity, op.fmt.width, *(int(x) for d in domain for x in d)))",
           "return GenSpec(GEN_MIX, s0, (op.arity, op.fmt.width))", RUN_GEN_TESTS),
    Mutant("host: RUN_GEN takes a data stream's argument the specification does not use", "native/accel/datagen.c",
           "if ((arg >> 8) > 1 || ((arg & 0xFF) != 24 && (arg & 0xFF) != 53))", "if ((arg >> 8) > 1)",
           RUN_GEN_TESTS),
    Mutant("stress: an empty plan passes", SS,
           "        return NOT_APPLICABLE, record\n    host = host_of(session)",
           "        return PASSED, record\n    host = host_of(session)", STRESS_UNIT_TESTS),
    Mutant("attestation: the failures list not compared", RE, 'if att["failures"] != failures:',
           "if False:", RUN_EVIDENCE_TESTS),
]

#: A copy where this holds must fail the verdict's tests, or the copy is not what runs.
CANARY = Mutant("canary: the verdict module refuses to import", V, '"""The verdict:',
                'raise RuntimeError("mutation canary")\n"""The verdict:', VERDICT_TESTS)

#: what --quick runs after the canary
QUICK = ("verdict: a waiver ends one second early", "ulp_distance: the sign ignored",
         "data: SHA3 sponge cross-check deleted")


# -- the copy ------------------------------------------------------------------------------


def make_copy(repo: Path, dest: Path) -> Path:
    """``repo`` copied into ``dest`` with ``cp -r`` (without the environment, version
    control and caches); returns the folder to put on ``PYTHONPATH``."""
    for entry in sorted(repo.iterdir()):
        if entry.name in EXCLUDE:
            continue
        subprocess.run(["cp", "-r", str(entry), str(dest / entry.name)], check=True)
    for cache in list(dest.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    harness = dest / "harness"
    for name, folder in PACKAGE_DATA.items():
        link = harness / name
        if not link.exists() and (dest / folder).is_dir():
            link.symlink_to(Path("..") / folder)
    shim = dest / ".mutate-path"
    shim.mkdir()
    (shim / "teecert").symlink_to(harness)
    return shim


def child_env(shim: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "TEECERT_DEBUG")}
    env["PYTHONPATH"] = str(shim)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no stale .pyc for a mutant of the same size and second
    return env


def check_imports(copy: Path, env: dict[str, str]) -> None:
    code = ("import teecert, teecert.report.verdict as v, teecert.vector_data as d; "
            "print(v.__file__); print(list(d.__path__)[0])")
    out = subprocess.run([sys.executable, "-c", code], cwd=copy, env=env, capture_output=True, text=True,
                         check=False)
    lines = out.stdout.split()
    resolved = [str(Path(x).resolve()) for x in lines]
    if out.returncode != 0 or len(lines) != 2 or not all(r.startswith(str(copy.resolve())) for r in resolved):
        raise SystemExit(f"mutate: the copy is not what Python imports: {out.stdout.strip()} {out.stderr.strip()}")


def run_tests(copy: Path, env: dict[str, str], tests: tuple[str, ...], timeout: float) -> tuple[int, float]:
    """(pytest's exit status, seconds); a timeout is reported as status -1."""
    # -n 0 after the project's "-n auto": one process; -x: the first failure decides
    argv = [sys.executable, "-m", "pytest", "-n", "0", "-x", "-q", "--no-header", *tests]
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return -1, time.perf_counter() - start
    return proc.returncode, time.perf_counter() - start


def apply(copy: Path, m: Mutant) -> str:
    """Write ``m`` into the copy; returns the original text, to restore."""
    path = copy / m.file
    text = path.read_text(encoding="utf-8")
    at = -1
    for _ in range(m.nth):
        at = text.find(m.original, at + 1)
        if at < 0:
            raise LookupError(f"{m.file}: occurrence {m.nth} of {m.original!r} not found")
    path.write_text(text[:at] + m.mutated + text[at + len(m.original):], encoding="utf-8")
    return text


def judge(copy: Path, env: dict[str, str], m: Mutant, timeout: float) -> tuple[str, float]:
    try:
        original = apply(copy, m)
    except LookupError as e:
        return f"missing: {e}", 0.0
    try:
        code, secs = run_tests(copy, env, m.tests, timeout)
    finally:
        (copy / m.file).write_text(original, encoding="utf-8")
    if code == 0:
        return "survived", secs
    if code == 5:  # pytest: no tests collected, which proves nothing
        return "missing: no tests selected", secs
    return ("killed (timeout)" if code == -1 else "killed"), secs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the canary and three mutants")
    ap.add_argument("--only", metavar="TEXT", help="only mutants whose name contains TEXT")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per test run (default 300)")
    ap.add_argument("--keep", action="store_true", help="keep the copy (its path is printed)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    a = ap.parse_args(argv)
    mutants = [m for m in MUTANTS if (not a.only or a.only in m.name) and (not a.quick or m.name in QUICK)]
    if a.list:
        for m in mutants:
            print(f"{m.file}: {m.name}")
        return 0
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="teecert-mutate-"))
    copy = tmp / "repo"
    copy.mkdir()
    try:
        shim = make_copy(REPO, copy)
        env = child_env(shim)
        check_imports(copy, env)
        print(f"copy: {copy} (teecert imported from there)", flush=True)
        for tests in sorted({m.tests for m in [CANARY, *mutants]}):
            code, secs = run_tests(copy, env, tests, a.timeout)
            if code != 0:
                print(f"mutate: the tests fail on the unmutated copy (exit {code}): {' '.join(tests)}")
                return 2
            print(f"baseline passes in {secs:.1f} s: {' '.join(tests)}", flush=True)
        verdict, secs = judge(copy, env, CANARY, a.timeout)
        if not verdict.startswith("killed"):
            print(f"mutate: the canary {verdict}: the copy's code is not what the tests run")
            return 2
        print(f"canary killed in {secs:.1f} s: the copy's code is what runs", flush=True)
        rows: list[dict[str, Any]] = []
        for m in mutants:
            verdict, secs = judge(copy, env, m, a.timeout)
            rows.append({"file": m.file, "mutant": m.name, "result": verdict, "seconds": round(secs, 1),
                         "tests": list(m.tests)})
            print(f"{verdict:16} {secs:6.1f} s  {m.file}: {m.name}", flush=True)
    finally:
        if a.keep:
            print(f"kept: {copy}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    killed = sum(r["result"].startswith("killed") for r in rows)
    survived = [r for r in rows if r["result"] == "survived"]
    missing = [r for r in rows if r["result"].startswith("missing")]
    total = time.perf_counter() - started
    print(f"\n{len(rows)} mutants: {killed} killed, {len(survived)} survived, {len(missing)} not applied; "
          f"mutation score {100.0 * killed / max(1, len(rows) - len(missing)):.1f}% in {total:.1f} s")
    for r in survived:
        print(f"survived: {r['file']}: {r['mutant']}")
    for r in missing:
        print(f"{r['result']}: {r['file']}: {r['mutant']}")
    if a.json:
        Path(a.json).write_text(json.dumps({"mutants": len(rows), "killed": killed, "survived": len(survived),
                                            "not_applied": len(missing), "seconds": round(total, 1),
                                            "results": rows}, indent=1) + "\n", encoding="utf-8")
    if missing:
        return 2
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
