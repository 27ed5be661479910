"""A short run of the attestation fuzzer (``tests/attestation/fuzz_attestation.py``) in the default tests.

Every target (SEV-SNP report and certificate, TDX v4 and v5, SGX v3 with and without
collateral, Nitro, DCAP collateral JSON) gets a couple of hundred cases drawn from all of
its mutation kinds (truncation, bit flips, byte replacements, insertions/deletions,
length-field corruption, random bytes); only ``MalformedInput`` and ``NotAuthentic`` may
escape, and no case may take longer than the hypothesis deadline.  The long run (100,000
cases per target) is ``python tests/attestation/fuzz_attestation.py``.
"""

from __future__ import annotations

import os

import pytest

from conftest import REALWORLD

pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"real-world attestation samples absent ({REALWORLD})")

import fuzz_attestation as fz  # noqa: E402

SMOKE_EXAMPLES = int(os.environ.get("TEECERT_FUZZ_SMOKE_EXAMPLES", "200"))


@pytest.mark.parametrize("name", fz.TARGET_NAMES)
def test_fuzz_smoke(name: str) -> None:
    # A generous per-case deadline: the default test run shares two cores with other
    # tests, and the fuzzer's own 20 s alarm still catches a real hang.
    res = fz.fuzz_target(name, SMOKE_EXAMPLES, batch=SMOKE_EXAMPLES, max_failures=1, deadline_ms=15_000)
    assert not res.failures, res.failures[0]
    assert res.cases >= SMOKE_EXAMPLES, res.line()
    # Peak-RSS growth: the nesting mutations (JSON/CBOR nested ~100,000 deep) briefly
    # take about 200 MB while being refused, so the smoke bound is wider than the long
    # job's per-process figure; unbounded growth would still blow through it.
    assert res.rss_growth_mb < max(fz.max_rss_growth_mb(), 512.0), res.line()
    kinds = {k for k in fz.KINDS if res.counts[k]}
    assert {"truncate", "bitflip", "replace", "insdel", "random"} <= kinds, res.line()


def test_length_fields_found() -> None:
    """The length-field mutations aim at the real fields of each sample."""
    targets = fz.build_targets()
    tdx4 = targets["tdx_v4"].seeds[0].data
    assert (632, 4, "le") in fz.dcap_fields(tdx4)  # signature data size after the TD 1.0 body
    assert (50, 4, "le") in fz.dcap_fields(targets["tdx_v5"].seeds[0].data)  # v5 body size
    assert (432, 4, "le") in fz.dcap_fields(targets["sgx_v3"].seeds[0].data)  # after the SGX body
    nitro = targets["nitro"].seeds[0].data
    assert fz.cbor_fields(nitro)[0] == (0, 1, "cbor") and len(fz.cbor_fields(nitro)) > 40
    assert len(fz.der_fields(targets["snp_cert"].seeds[0].data)) > 50
