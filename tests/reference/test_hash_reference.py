"""The golden hashes (``teecert.reference.hashes``) against independent truth.

The pure-Python Keccak sponge is the only hash teecert computes itself, so:

(a) with SHA3's domain byte it must equal ``hashlib.sha3_256`` for every length
    0..400 (every position of the padding in the first three 136-byte blocks) and
    for a few large messages; other rates and domains against the rest of
    hashlib's FIPS 202 family, including SHAKE output longer than one block;
(b) with Keccak's domain byte it must give published Keccak-256 digests, each
    value found in several unrelated public sources (Ethereum's empty-code hash,
    the ERC-20 Transfer topic, test suites of Keccak libraries in several
    languages), none derived from this code;
(c) Keccak-256 and SHA3-256 differ for every length, so a probe that confuses
    them cannot pass;
(d) unknown names and bad sponge parameters are refused.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import cast

import pytest

from teecert.errors import MalformedInput, UsageError
from teecert.reference import hashes
from teecert.reference.hashes import HASHES, digest, keccak_sponge

RATE_256, SHA3_DOMAIN, KECCAK_DOMAIN = hashes.RATE_256, hashes.SHA3_DOMAIN, hashes.KECCAK_DOMAIN


def message(n: int, seed: int = 0) -> bytes:
    """``n`` pseudo-random bytes, the same on every run."""
    return random.Random(f"hash-ref-{seed}-{n}").randbytes(n)


def test_sponge_with_the_sha3_domain_is_sha3_256_for_lengths_0_to_400() -> None:
    for n in range(401):
        msg = message(n)
        assert keccak_sponge(msg, RATE_256, SHA3_DOMAIN, 32) == hashlib.sha3_256(msg).digest(), n


@pytest.mark.parametrize("n", [1 << 12, 65_537, 136 * 300])
def test_sponge_with_the_sha3_domain_is_sha3_256_for_large_messages(n: int) -> None:
    msg = message(n, seed=1)
    assert keccak_sponge(msg, RATE_256, SHA3_DOMAIN, 32) == hashlib.sha3_256(msg).digest()


FIPS202: list[tuple[str, int, int, Callable[[bytes], bytes]]] = [
    ("sha3_224", 144, 0x06, lambda m: hashlib.sha3_224(m).digest()),
    ("sha3_384", 104, 0x06, lambda m: hashlib.sha3_384(m).digest()),
    ("sha3_512", 72, 0x06, lambda m: hashlib.sha3_512(m).digest()),
    # Output longer than the rate: the squeeze loop runs several permutations.
    ("shake_128", 168, 0x1F, lambda m: hashlib.shake_128(m).digest(700)),
    ("shake_256", 136, 0x1F, lambda m: hashlib.shake_256(m).digest(300)),
]


@pytest.mark.parametrize(
    ("rate", "domain", "want"), [f[1:] for f in FIPS202], ids=[f[0] for f in FIPS202]
)
def test_sponge_is_generic_in_rate_domain_and_output_length(
    rate: int, domain: int, want: Callable[[bytes], bytes]
) -> None:
    for n in (0, 1, rate - 1, rate, rate + 1, 2 * rate, 1000):
        msg = message(n, seed=2)
        expected = want(msg)
        assert keccak_sponge(msg, rate, domain, len(expected)) == expected, n
    assert keccak_sponge(b"abc", rate, domain, 0) == b""


#: Published Keccak-256 digests.  Each value appears in several unrelated public
#: sources (checked while writing this file): Ethereum itself (EIP-1052's code hash
#: of an account without code, the ERC-20 Transfer event topic, the transfer()
#: selector), and the test vectors of Keccak libraries in Zig, Rust, JavaScript,
#: C++, Python and Swift.
KECCAK256_KNOWN: list[tuple[bytes, str]] = [
    (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    (b"\x00", "bc36789e7a1e281436464229828f817d6612f7b477d66591ff96a9e064bcc98a"),
    (
        b"The quick brown fox jumps over the lazy dog",
        "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15",
    ),
    (
        b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
        b"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        "f519747ed599024f3882238e5ab43960132572b7345fbeb9a90769dafd21ad67",
    ),
    (
        b"Transfer(address,address,uint256)",
        "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
    ),
    # Exactly one rate block: the padding needs a block of its own.
    (bytes(136), "3a5912a7c5faa06ee4fe906253e339467a9ce87d533c65be3c15cb231cdb25f9"),
    (b"a" * 136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e"),
    (b"a" * 200, "96ea54061def936c4be90b518992fdc6f12f535068a256229aca54267b4d084d"),
]


@pytest.mark.parametrize(
    ("msg", "want"), KECCAK256_KNOWN, ids=[f"len{len(m)}" for m, _ in KECCAK256_KNOWN]
)
def test_keccak256_known_answers(msg: bytes, want: str) -> None:
    assert digest("keccak256", msg).hex() == want
    assert keccak_sponge(msg, RATE_256, KECCAK_DOMAIN, 32).hex() == want


def test_keccak256_known_answer_transfer_selector() -> None:
    """The ERC-20 ``transfer(address,uint256)`` selector: the first 4 digest bytes."""
    assert digest("keccak256", b"transfer(address,uint256)")[:4].hex() == "a9059cbb"


def test_keccak256_of_a_million_a() -> None:
    """The long-message vector of the Keccak team's test suites (about 1 s here)."""
    want = "fadae6b49f129bbb812be8407b7b2894f34aecf6dbd1f9b0f0c7e9853098fc96"
    assert digest("keccak256", b"a" * 1_000_000).hex() == want


def test_keccak256_differs_from_sha3_256_for_every_length() -> None:
    for n in range(401):
        msg = message(n, seed=3)
        assert digest("keccak256", msg) != digest("sha3_256", msg), n


def test_hashes_lists_the_five_names_with_their_sizes() -> None:
    assert HASHES == {"sha256": 32, "sha512": 64, "sha3_256": 32, "keccak256": 32, "blake2b512": 64}


@pytest.mark.parametrize("name", sorted(HASHES))
def test_digest_has_the_listed_size_and_matches_hashlib(name: str) -> None:
    independent: dict[str, Callable[[bytes], bytes]] = {
        "sha256": lambda m: hashlib.new("sha256", m).digest(),
        "sha512": lambda m: hashlib.new("sha512", m).digest(),
        "sha3_256": lambda m: hashlib.new("sha3_256", m).digest(),
        "blake2b512": lambda m: hashlib.new("blake2b512", m).digest(),
        # No hashlib counterpart: the sponge itself, checked above.
        "keccak256": lambda m: keccak_sponge(m, 136, 0x01, 32),
    }
    for n in (0, 1, 63, 64, 127, 128, 135, 136, 137, 1000):
        msg = message(n, seed=4)
        out = digest(name, msg)
        assert len(out) == HASHES[name]
        assert out == independent[name](msg), n


@pytest.mark.parametrize(
    "name",
    ["sha3-256", "SHA256", "keccak", "keccak-256", "blake2b", "sha384", "", " sha256", None, 256],
)
def test_unknown_names_are_refused(name: object) -> None:
    with pytest.raises(MalformedInput) as info:
        digest(cast(str, name), b"abc")
    text = str(info.value)
    assert "\n" not in text
    for accepted in HASHES:
        assert accepted in text


@pytest.mark.parametrize(
    ("rate", "domain", "out_len"),
    [(0, 6, 32), (200, 6, 32), (135, 6, 32), (-8, 6, 32), (136, 0, 32), (136, 0x80, 32),
     (136, 0x106, 32), (136, 6, -1), (136.0, 6, 32)],
)
def test_bad_sponge_parameters_are_refused(rate: int, domain: int, out_len: int) -> None:
    with pytest.raises(UsageError):
        keccak_sponge(b"abc", rate, domain, out_len)


def test_every_listed_name_has_a_digester() -> None:
    """``HASHES`` and the dispatch table cannot drift apart."""
    assert set(hashes._DIGESTERS) == set(HASHES)
