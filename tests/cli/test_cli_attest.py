"""`teecert attest verify` and `teecert trust` through the command line: every real
sample of tests/data/realworld/attestation gives the outcome its SOURCES.md states,
with the documented exit code (0 accepted, 1 policy not met, 2 not authentic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REALWORLD, no_traceback, teecert_cli

SAMPLES = REALWORLD
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"real attestation samples absent ({SAMPLES})")

S = str(SAMPLES)
CASES = [
    ("snp vcek accepted", ["snp/milan_v2_vcek_report.bin", "--cert", "snp/milan_v2_vcek_report.vcek.der",
                           "--at", "2026-01-01T00:00:00Z"], 0, "policy met"),
    ("snp debug rejected", ["snp/milan_v2_debug_report.bin", "--cert", "snp/milan_v2_debug_report.vcek.der",
                            "--at", "2026-01-01T00:00:00Z"], 1, "debug"),
    ("snp vlek 2025", ["snp/milan_v3_vlek_aws_report.bin", "--cert", "snp/milan_v3_vlek_aws_report.vlek.der",
                       "--roots", "snp/root_ask_ark_asvk_milan.pem", "--at", "2025-06-01T00:00:00Z"], 0, "policy met"),
    ("snp vlek expired now", ["snp/milan_v3_vlek_aws_report.bin", "--cert", "snp/milan_v3_vlek_aws_report.vlek.der",
                              "--roots", "snp/root_ask_ark_asvk_milan.pem", "--at", "2026-11-21T00:00:00Z"], 2, "expired"),
    ("tdx v4 uptodate", ["tdx/tdx_v4_quote_uptodate.dat", "--collateral", "tdx/tdx_v4_quote_uptodate.collateral.json",
                         "--at", "2025-07-01T00:00:00Z"], 0, "UpToDate"),
    ("tdx v4 collateral expired", ["tdx/tdx_v4_quote_uptodate.dat", "--collateral",
                                   "tdx/tdx_v4_quote_uptodate.collateral.json", "--at", "2026-11-21T00:00:00Z"],
     2, "collateral expired"),
    ("sgx swhardening strict", ["sgx/sgx_v3_quote_swhardening.dat", "--collateral",
                                "sgx/sgx_v3_quote_swhardening.collateral.json", "--at", "2025-07-01T00:00:00Z"],
     1, "ConfigurationAndSWHardeningNeeded"),
    ("nitro prod at its time", ["nitro/nitro_prod_2022-10-13.cose"], 0, "policy met"),
    ("nitro prod now", ["nitro/nitro_prod_2022-10-13.cose", "--at", "2026-11-21T00:00:00Z"], 2, "expired"),
    ("nitro debug", ["nitro/nitro_debug_2022-10-12.cose"], 1, "debug"),
]


def _abs(args: list[str]) -> list[str]:
    return [f"{S}/{a}" if "/" in a and not a.startswith("-") and not a[0].isdigit() else a for a in args]


@pytest.mark.parametrize(("name", "args", "code", "text"), CASES, ids=[c[0] for c in CASES])
def test_real_sample_outcome(name: str, args: list[str], code: int, text: str) -> None:
    res = teecert_cli(["attest", "verify", *_abs(args)])
    assert no_traceback(res.out + res.err)
    assert res.code == code, res.out + res.err
    first = (res.err if code == 2 else res.out).splitlines()[0]
    assert text.lower() in first.lower(), first


def test_sgx_accepted_by_a_policy_that_accepts_sw_hardening(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}))
    res = teecert_cli(["attest", "verify", *_abs(["sgx/sgx_v3_quote_swhardening.dat", "--collateral",
                                                  "sgx/sgx_v3_quote_swhardening.collateral.json"]),
                       "--at", "2025-07-01T00:00:00Z", "--policy", str(policy), "--json"])
    assert res.code == 0, res.out + res.err
    doc = json.loads(res.out)
    assert doc["verified"]["tcb_status"] == "ConfigurationAndSWHardeningNeeded"
    assert doc["verified"]["advisories"] == ["INTEL-SA-00289", "INTEL-SA-00615"]


def test_flipped_bit_in_signed_part_is_not_authentic(tmp_path: Path) -> None:
    data = bytearray((SAMPLES / "snp/milan_v2_vcek_report.bin").read_bytes())
    data[0x50] ^= 1  # inside the signed part (0x000-0x29F)
    f = tmp_path / "r.bin"
    f.write_bytes(bytes(data))
    res = teecert_cli(["attest", "verify", str(f), "--cert", f"{S}/snp/milan_v2_vcek_report.vcek.der",
                       "--at", "2026-01-01T00:00:00Z"])
    assert res.code == 2 and no_traceback(res.err)
    assert str(f) in res.err.splitlines()[0]


def test_unrecognized_and_missing_time(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 10)
    res = teecert_cli(["attest", "verify", str(junk)])
    assert res.code == 2 and "not a recognized evidence format" in res.err
    res = teecert_cli(["attest", "verify", f"{S}/snp/milan_v2_vcek_report.bin", "--cert",
                       f"{S}/snp/milan_v2_vcek_report.vcek.der"])
    assert res.code == 2 and "--at" in res.err


def test_trust_add_checks_the_pin(tmp_path: Path) -> None:
    ok = teecert_cli(["trust", "add", f"{S}/nitro/root_aws_nitro_enclaves_g1.pem", "--dir", str(tmp_path / "t")])
    assert ok.code == 0, ok.err
    assert len(list((tmp_path / "t").glob("*.pem"))) == 1
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "aws.nitro-enclaves")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA384()))
    fake = tmp_path / "fake-root.pem"
    fake.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    bad = teecert_cli(["trust", "add", str(fake), "--dir", str(tmp_path / "t2")])
    assert bad.code == 2 and "not a pinned vendor root" in bad.err
    assert not (tmp_path / "t2").exists() or not any((tmp_path / "t2").iterdir())


def test_simulated_evidence_meets_no_policy_that_does_not_name_it(tmp_path: Path) -> None:
    """Anyone can make simulated evidence: without a policy that lists ``sim`` (a
    development profile's), `attest verify` says the policy is not met."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ev = tmp_path / "sim.bin"
    assert teecert_cli(["attest", "simulate", "--report-data", "cd" * 64, "--out", str(ev)]).code == 0
    res = teecert_cli(["attest", "verify", str(ev), "--at", now])
    assert res.code == 1, res.out + res.err
    assert no_traceback(res.out + res.err)
    assert "formats: evidence is sim, the policy accepts only snp, tdx, sgx, nitro" in res.out + res.err
    policy = tmp_path / "dev-policy.json"
    policy.write_text(json.dumps({"formats": ["sim"], "require_collateral": False}))
    ok = teecert_cli(["attest", "verify", str(ev), "--policy", str(policy), "--at", now])
    assert ok.code == 0, ok.out + ok.err
