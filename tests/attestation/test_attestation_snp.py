"""AMD SEV-SNP: the real reports of tests/data/realworld/attestation/snp give the outcomes
SOURCES.md states, at the times it states; bit flips, swapped chains, a wrong root and
truncation are refused.  Also the pinned roots and the shared X.509 chain helper."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from teecert.attestation.abi import snp as snp_abi
from teecert.attestation.model import Verified
from teecert.attestation.validate import policy
from teecert.attestation.verify import roots, snp, x509chain
from teecert.cli.common import exit_code_of
from teecert.errors import MalformedInput, NotAuthentic, TeecertError, UsageError

REPO = Path(__file__).resolve().parents[2]
from conftest import REALWORLD as RW  # noqa: E402

SNP = RW / "snp"
pytestmark = pytest.mark.skipif(not SNP.is_dir(), reason=f"real-world SEV-SNP samples not present ({SNP})")

UTC = dt.UTC
T_2025 = dt.datetime(2025, 6, 1, tzinfo=UTC)
NOW = dt.datetime(2026, 11, 21, tzinfo=UTC)  # "now" per SOURCES.md

VCEK_REPORT = "milan_v2_vcek_report"
DEBUG_REPORT = "milan_v2_debug_report"
VLEK_REPORT = "milan_v3_vlek_aws_report"


def _report(name: str) -> bytes:
    return (SNP / f"{name}.bin").read_bytes()


def _cert(name: str) -> bytes:
    ext = "vlek" if "vlek" in name else "vcek"
    return (SNP / f"{name}.{ext}.der").read_bytes()


def _verify(name: str, at: dt.datetime = T_2025, *, report: bytes | None = None, cert: bytes | None = None,
            root_list: list[x509.Certificate] | None = None) -> Verified:
    return snp.verify(_report(name) if report is None else report, cert=_cert(name) if cert is None else cert,
                      roots=root_list, at=at, where=name)


def _flip(data: bytes, offset: int, bit: int = 0) -> bytes:
    b = bytearray(data)
    b[offset] ^= 1 << bit
    return bytes(b)


def _cn(subject: str) -> str:
    return subject.split(",")[0]


# ---- expected outcomes (SOURCES.md 1-3) ------------------------------------------------

@pytest.mark.parametrize("at", [dt.datetime(2024, 1, 1, tzinfo=UTC), T_2025, dt.datetime(2029, 12, 31, tzinfo=UTC)])
def test_vcek_report_valid_and_accepted(at: dt.datetime) -> None:
    v = _verify(VCEK_REPORT, at)
    assert v.format == "snp" and v.signer == "VCEK" and v.time == at
    assert [_cn(s) for s in v.chain] == ["CN=SEV-VCEK", "CN=SEV-Milan", "CN=ARK-Milan"]
    assert v.claims["version"] == 2
    assert "cpuid_fam_id" not in v.claims  # v2 reports have no CPUID fields
    assert v.claims["policy"] == 0x3001F and v.claims["policy_abi_major"] == 0 and v.claims["policy_abi_minor"] == 31
    assert v.claims["policy_smt"] and not v.claims["policy_migrate_ma"]
    assert v.debug is False and v.vmpl == 0 and v.claims["signing_key"] == "VCEK"
    assert v.claims["guest_svn"] == 4 and v.claims["current_version"] == "1.52.4"
    assert v.tcb == {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
    assert v.claims["current_tcb"]["microcode"] == 206  # VCEK chosen by REPORTED_TCB, not CURRENT_TCB
    assert v.claims["chip_id"].startswith("c38427a3") and v.claims["chip_id"].endswith("e477524e")
    assert v.measurements["MEASUREMENT"] == ("a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c"
                                             "23500644e0e692e6be917f9050d3d38c")
    assert v.report_data[:4].hex() == "ec6c52d7" and v.report_data[29:32].hex() == "0ad7e2"
    assert v.report_data[32:] == bytes(32)
    assert any(v.measurements["ID_KEY_DIGEST"])  # launched with an ID block
    assert v.claims["product_name"] == "Milan-B0"
    assert v.tcb_status is None and v.collateral is False
    assert policy.validate(v) == []


def test_debug_report_verified_but_policy_rejects() -> None:
    v = _verify(DEBUG_REPORT, dt.datetime(2025, 1, 1, tzinfo=UTC))
    assert v.signer == "VCEK" and v.debug is True
    assert v.claims["policy"] == 0xB0000 and v.vmpl == 0
    assert v.tcb == {"bootloader": 2, "tee": 0, "snp": 5, "microcode": 68}
    assert v.claims["chip_id"].startswith("3ac3fe21") and v.claims["chip_id"].endswith("8b006b5d")
    assert v.report_data == bytes.fromhex("0102030405") + bytes(59)
    assert v.measurements["MEASUREMENT"].startswith("b07af9620f3b839b")
    assert v.claims["current_version"] == "1.49.3"
    fails = policy.validate(v)
    assert len(fails) == 1 and fails[0].startswith("debug_allowed:") and "bit 19" in fails[0]
    assert policy.validate(v, {"debug_allowed": True}) == []


def test_vlek_report_accepted_at_2025_06_01() -> None:
    v = _verify(VLEK_REPORT, T_2025)
    assert v.signer == "VLEK" and v.claims["signing_key"] == "VLEK"
    assert [_cn(s) for s in v.chain] == ["CN=SEV-VLEK", "CN=SEV-VLEK-Milan", "CN=ARK-Milan"]
    assert v.claims["version"] == 3
    assert (v.claims["cpuid_fam_id"], v.claims["cpuid_mod_id"], v.claims["cpuid_step"]) == (0x19, 0x01, 0x01)
    assert v.vmpl == 1 and v.claims["policy"] == 0x30000 and not v.debug
    assert v.claims["chip_id"] == "00" * 64 and v.claims["platform_info"] == 0x27
    assert v.claims["current_version"] == "1.55.29"
    assert v.tcb == {"bootloader": 4, "tee": 0, "snp": 24, "microcode": 217}
    assert v.claims["committed_tcb"]["microcode"] == 219
    assert v.claims["product_name"] == "Milan"
    assert any("cc-us-east-2.amazonaws.com" in n for n in v.notes)
    assert policy.validate(v) == []


def test_vlek_report_expired_now() -> None:
    with pytest.raises(NotAuthentic, match="expired") as exc:
        _verify(VLEK_REPORT, NOW)
    assert str(exc.value).startswith(VLEK_REPORT + ":") and "\n" not in str(exc.value)
    assert exit_code_of(exc.value) == 2


def test_vlek_vmpl_policy() -> None:
    v = _verify(VLEK_REPORT, T_2025)
    fails = policy.validate(v, {"vmpl": 0})
    assert len(fails) == 1 and fails[0].startswith("vmpl:") and "VMPL 1" in fails[0]
    assert policy.validate(v, {"vmpl": 1}) == []


def test_vcek_report_policy_knobs_on_real_evidence() -> None:
    v = _verify(VCEK_REPORT)
    m = v.measurements["MEASUREMENT"]
    assert policy.validate(v, {"allowed_measurements": [{"MEASUREMENT": m.upper()}]}) == []
    assert policy.validate(v, {"allowed_measurements": [{"MEASUREMENT": "00" * 48}]})[0].startswith(
        "allowed_measurements:")
    assert policy.validate(v, {"min_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}}) == []
    assert policy.validate(v, {"min_tcb": {"microcode": 116}}) == ["min_tcb.microcode: evidence has 115, "
                                                                    "the minimum is 116"]
    assert policy.validate(v, {"report_data": v.report_data[:32].hex()}) == []
    assert policy.validate(v, {"report_data": "ec6c52d7"})[0].startswith("report_data:")
    assert policy.validate(v, {"vmpl": 0}) == []  # an AMD CRL is not required by default...
    assert policy.validate(v, {"vmpl": 0, "require_collateral": True}) == [  # ...but can be
        "require_collateral: no AMD CRL was supplied and checked (ASK/VCEK revocation unknown)"]


def test_vcek_not_yet_valid_before_issue() -> None:
    with pytest.raises(NotAuthentic, match="not yet valid"):
        _verify(VCEK_REPORT, dt.datetime(2022, 6, 1, tzinfo=UTC))


def test_naive_time_refused() -> None:
    with pytest.raises(UsageError, match="time zone"):
        _verify(VCEK_REPORT, dt.datetime(2025, 1, 1))


def test_pem_certificate_and_explicit_roots() -> None:
    pem = x509chain.load_certificates(_cert(VCEK_REPORT), "vcek")[0].public_bytes(serialization.Encoding.PEM)
    rl = roots.load_roots(SNP / "root_ask_ark_milan.pem")
    assert _verify(VCEK_REPORT, cert=pem, root_list=rl).signer == "VCEK"
    assert _verify(VLEK_REPORT, root_list=roots.load_roots(SNP / "root_ask_ark_asvk_milan.pem")).signer == "VLEK"


# ---- negative tests built from the real samples ----------------------------------------

@pytest.mark.parametrize("offset", [0x004, 0x008, 0x050, 0x090, 0x0E0, 0x180, 0x1A0, 0x1E0, 0x29F])
def test_flipped_bit_in_signed_part(offset: int) -> None:
    with pytest.raises(NotAuthentic, match="signature does not verify"):
        _verify(VCEK_REPORT, report=_flip(_report(VCEK_REPORT), offset))


@pytest.mark.parametrize("offset", [0x2A0, 0x2C0, 0x2CF, 0x2E8, 0x300, 0x317])
def test_flipped_bit_in_signature(offset: int) -> None:
    with pytest.raises(NotAuthentic):
        _verify(VCEK_REPORT, report=_flip(_report(VCEK_REPORT), offset))


def test_high_bytes_of_signature_fields_refused() -> None:
    with pytest.raises(NotAuthentic, match="384 bits"):
        _verify(VCEK_REPORT, report=_flip(_report(VCEK_REPORT), 0x2E7))


def test_flipped_bit_in_certificate_public_key() -> None:
    der = _cert(VCEK_REPORT)
    cert = x509chain.load_certificates(der, "vcek")[0]
    point = cert.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    at = der.index(point) + 20
    with pytest.raises((NotAuthentic, MalformedInput)):
        _verify(VCEK_REPORT, cert=_flip(der, at))


def test_flipped_bit_in_certificate_hwid_breaks_chain() -> None:
    der = _cert(VCEK_REPORT)
    at = der.index(bytes.fromhex("c38427a3")) + 1  # inside the hwID extension (signed by the ASK)
    with pytest.raises(NotAuthentic, match="no chain"):
        _verify(VCEK_REPORT, cert=_flip(der, at))


@pytest.mark.parametrize("offset", range(0, 1360, 97))
def test_flipped_bit_anywhere_in_certificate(offset: int) -> None:
    with pytest.raises((NotAuthentic, MalformedInput)):
        _verify(VCEK_REPORT, cert=_flip(_cert(VCEK_REPORT), offset, offset % 8))


def test_swapped_chain_vcek_of_other_report() -> None:
    with pytest.raises(NotAuthentic, match="signature does not verify"):
        _verify(VCEK_REPORT, cert=_cert(DEBUG_REPORT))
    with pytest.raises(NotAuthentic, match="signature does not verify"):
        _verify(DEBUG_REPORT, cert=_cert(VCEK_REPORT))


def test_vlek_report_with_vcek_certificate() -> None:
    with pytest.raises(NotAuthentic, match="SIGNING_KEY says VLEK"):
        _verify(VLEK_REPORT, cert=_cert(VCEK_REPORT))


@pytest.mark.parametrize("name", [VCEK_REPORT, VLEK_REPORT])
def test_different_root_genoa(name: str) -> None:
    genoa = roots.load_roots(SNP / "root_ask_ark_genoa.pem")
    with pytest.raises(NotAuthentic, match="no chain"):
        _verify(name, root_list=genoa)


def test_vlek_without_asvk_has_no_chain() -> None:
    with pytest.raises(NotAuthentic, match="no chain"):
        _verify(VLEK_REPORT, root_list=roots.load_roots(SNP / "root_ask_ark_milan.pem"))


def test_unpinned_roots_are_not_anchors() -> None:
    ark = [c for c in roots.bundled_roots() if "ARK-Milan" in c.subject.rfc4514_string()]
    ask = [c for c in roots.bundled_roots() if "CN=SEV-Milan" in c.subject.rfc4514_string()]
    with pytest.raises(NotAuthentic, match="no pinned AMD root"):
        _verify(VCEK_REPORT, root_list=ask)
    assert _verify(VCEK_REPORT, root_list=ark + ask).signer == "VCEK"


@pytest.mark.parametrize("length", [0, 1, 0x2A0, 0x4A0 - 1])
def test_truncated_report(length: int) -> None:
    with pytest.raises(MalformedInput, match="truncated") as exc:
        _verify(VCEK_REPORT, report=_report(VCEK_REPORT)[:length])
    assert "1184" in str(exc.value)


def test_overlong_report() -> None:
    with pytest.raises(MalformedInput, match="too long"):
        _verify(VCEK_REPORT, report=_report(VCEK_REPORT) + b"\0")


@pytest.mark.parametrize("length", [0, 10, 500, 1359])
def test_truncated_certificate(length: int) -> None:
    with pytest.raises(MalformedInput, match="certificate"):
        _verify(VCEK_REPORT, cert=_cert(VCEK_REPORT)[:length])


def test_unknown_version_and_algorithm_named_with_offset() -> None:
    bad = bytearray(_report(VCEK_REPORT))
    bad[0] = 1
    with pytest.raises(MalformedInput, match=r"VERSION \(offset 0x000\) = 1"):
        _verify(VCEK_REPORT, report=bytes(bad))
    bad = bytearray(_report(VCEK_REPORT))
    bad[0x34] = 2
    with pytest.raises(MalformedInput, match=r"SIGNATURE_ALGO \(offset 0x034\)"):
        _verify(VCEK_REPORT, report=bytes(bad))
    bad = bytearray(_report(VCEK_REPORT))
    bad[0x48] |= 0x1C  # SIGNING_KEY = 7: not signed
    with pytest.raises(NotAuthentic, match="not signed"):
        _verify(VCEK_REPORT, report=bytes(bad))


def test_every_error_exits_2() -> None:
    for err in (MalformedInput("x"), NotAuthentic("x")):
        assert isinstance(err, TeecertError) and exit_code_of(err) == 2


# ---- parser details ------------------------------------------------------------------

def test_parse_v5_fields_and_turin_tcb_layout() -> None:
    raw = bytearray(_report(VLEK_REPORT))
    raw[0:4] = (5).to_bytes(4, "little")
    raw[0x1F8:0x200] = (0x1234).to_bytes(8, "little")
    raw[0x200:0x208] = (0x5678).to_bytes(8, "little")
    r = snp_abi.parse_report(bytes(raw), "v5")
    assert r.version == 5 and r.launch_mit_vector == 0x1234 and r.current_mit_vector == 0x5678
    assert r.cpuid_fam_id == 0x19 and r.signing_key == 1 and r.vmpl == 1
    assert snp_abi.parse_report(_report(VCEK_REPORT), "v2").launch_mit_vector is None
    tcb = int.from_bytes(bytes([1, 2, 3, 4, 0, 0, 0, 9]), "little")
    assert snp_abi.tcb_components(tcb, "Turin") == {"fmc": 1, "bootloader": 2, "tee": 3, "snp": 4, "microcode": 9}
    assert snp_abi.tcb_components(tcb, "Milan") == {"bootloader": 1, "tee": 2, "snp": 0, "microcode": 9}
    assert snp_abi.product_from_cpuid(0x19, 0x01) == "Milan"
    assert snp_abi.product_from_cpuid(0x19, 0x11) == "Genoa"
    assert snp_abi.product_from_cpuid(0x1A, 0x02) == "Turin"


def test_v5_version_change_is_not_authentic() -> None:
    raw = bytearray(_report(VLEK_REPORT))
    raw[0:4] = (5).to_bytes(4, "little")
    with pytest.raises(NotAuthentic):
        _verify(VLEK_REPORT, report=bytes(raw))


# ---- pinned roots and the chain helper ---------------------------------------------------

def test_bundled_roots_are_the_pinned_ones() -> None:
    bundled = roots.bundled_roots()
    names = {roots.pinned_name(c) for c in roots.anchors(bundled)}
    assert names == set(roots.PINNED)
    mids = {c.subject.rfc4514_string().split(",")[0] for c in roots.intermediates(bundled)}
    assert mids == {"CN=SEV-Milan", "CN=SEV-VLEK-Milan", "CN=SEV-Genoa", "CN=SEV-Turin"}
    assert len({x509chain.fingerprint(c) for c in bundled}) == len(bundled)


@pytest.mark.parametrize("rel", ["snp/root_ask_ark_milan.pem", "snp/root_ask_ark_genoa.pem",
                                 "snp/root_ask_ark_turin.pem", "snp/root_ask_ark_asvk_milan.pem",
                                 "tdx/root_intel_sgx_root_ca.pem", "nitro/root_aws_nitro_enclaves_g1.pem"])
def test_shared_root_files_load_and_match_bundled(rel: str) -> None:
    if not (RW / rel).is_file():
        pytest.skip(f"{rel} not present")
    loaded = roots.load_roots(RW / rel)
    assert len(roots.anchors(loaded)) == 1
    bundled = {x509chain.fingerprint(c) for c in roots.bundled_roots()}
    assert {x509chain.fingerprint(c) for c in loaded} <= bundled


def _self_signed(tmp: Path) -> Path:
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ARK-Milan")])
    now = dt.datetime(2024, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA384()))
    path = tmp / "fake-ark.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_load_roots_refuses_unpinned_root(tmp_path: Path) -> None:
    with pytest.raises(NotAuthentic, match="not a pinned vendor root"):
        roots.load_roots(_self_signed(tmp_path))


def test_load_roots_refuses_orphan_intermediate(tmp_path: Path) -> None:
    ask = (SNP / "root_ask_ark_genoa.pem").read_text().split("-----END CERTIFICATE-----")[0]
    (tmp_path / "ask.pem").write_text(ask + "-----END CERTIFICATE-----\n")
    assert len(roots.load_roots(tmp_path / "ask.pem")) == 1  # signed by the bundled pinned ARK-Genoa
    (tmp_path / "ask.pem").unlink()
    _self_signed(tmp_path)
    with pytest.raises(NotAuthentic):
        roots.load_roots(tmp_path)


def test_load_roots_directory_and_errors(tmp_path: Path) -> None:
    for name in ("root_ask_ark_milan.pem", "root_ask_ark_asvk_milan.pem"):
        (tmp_path / name).write_bytes((SNP / name).read_bytes())
    loaded = roots.load_roots(tmp_path)
    assert len(loaded) == 3  # ASK, ARK, ASVK: duplicates removed
    with pytest.raises(MalformedInput):
        roots.load_roots(tmp_path / "missing")
    (tmp_path / "junk.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(MalformedInput):
        roots.load_roots(tmp_path)


def test_ecdsa_raw_to_der() -> None:
    with pytest.raises(NotAuthentic):
        x509chain.ecdsa_raw_to_der(b"\x01" * 95, "x")
    with pytest.raises(NotAuthentic):
        x509chain.ecdsa_raw_to_der(bytes(96), "x")
    assert x509chain.ecdsa_raw_to_der(b"\x01" * 96, "x")[0] == 0x30


def test_random_damage_gives_only_documented_errors() -> None:
    import random

    rng = random.Random(5)
    report, cert = _report(VCEK_REPORT), _cert(VCEK_REPORT)
    for i in range(300):
        which = i % 2
        b = bytearray(report if which == 0 else cert)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        data = bytes(b[: rng.randint(0, len(b))]) if rng.random() < 0.2 else bytes(b)
        try:
            if which == 0:
                _verify(VCEK_REPORT, report=data)
            else:
                _verify(VCEK_REPORT, cert=data)
        except TeecertError as exc:
            assert exit_code_of(exc) == 2 and "\n" not in str(exc)
        else:
            raise AssertionError(f"damaged input #{i} accepted")


def test_a_certificate_name_with_a_line_break_stays_on_one_line() -> None:
    """A forged certificate's subject may hold control characters; the refusal that
    quotes it is still one line."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def cert(cn: str) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, cn)])
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))

    with pytest.raises(NotAuthentic, match=r"^w: no chain from CN=evil\\nline \(issuer CN=evil\\nline\)") as exc:
        x509chain.verify_chain(cert("evil\nline"), [], [cert("root")], now, "w")
    assert "\n" not in str(exc.value)
