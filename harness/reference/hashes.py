"""Golden digests for the hash ops of the determinism suite.

The probe computes SHA-256, SHA-512, SHA3-256, Keccak-256 and BLAKE2b-512 with
hand-written C (``native/probe/hashes.c``); the golden side must not share a line
with it.  Four of the five come from :mod:`hashlib` (OpenSSL, or CPython's own
C where OpenSSL lacks them).  Keccak-256 does not: hashlib's ``sha3_256`` is FIPS 202 SHA3,
whose padding starts with the domain bits 0x06, while the original Keccak
submission that Ethereum adopted as ``keccak256`` pads with 0x01, and the two
digests differ completely.  So :func:`keccak_sponge` is a pure-Python
Keccak-f[1600] sponge written from FIPS 202.  With ``domain=0x06`` it must equal
``hashlib.sha3_256``, which checks the permutation, the absorbing and the padding
against an independent implementation; only the domain byte is left, and
published Keccak-256 known answers check that (tests/reference/test_hash_reference.py).

Speed: the permutation is unrolled over 25 local variables, because CPython spends
its time per operation and loops over lists cost twice as much.  Measured on the
development machine (CPython 3.11.7, x86-64): 135 to 150 µs per 136-byte block
(one permutation plus absorbing), so a 2 KB message takes about 2.3 ms and a few
thousand of them a few seconds.  hashlib's SHA3 takes about 0.3 µs per block, some
500 times less; that is fine for a golden reference.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

from ..errors import MalformedInput, UsageError

#: The hashes of the determinism suite: name -> digest size in bytes.  The names
#: are those of ``teecert_hash`` in the probe.
HASHES: dict[str, int] = {
    "sha256": 32,
    "sha512": 64,
    "sha3_256": 32,
    "keccak256": 32,
    "blake2b512": 64,
}

#: Rate in bytes of Keccak-256 and SHA3-256 (capacity 512 bits).
RATE_256 = 136
#: Padding domain bytes: the suffix bits followed by the first bit of pad10*1.
#: FIPS 202 SHA3 appends the bits 01 (0x06); original Keccak appends none (0x01).
SHA3_DOMAIN = 0x06
KECCAK_DOMAIN = 0x01

_M64 = (1 << 64) - 1

#: iota's round constants: RC[i] of FIPS 202 Algorithm 6, built from rc(t) of
#: Algorithm 5 (an LFSR); bit 2**j - 1 of RC[i] is rc(j + 7i).
_KECCAK_RC: tuple[int, ...] = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)

_STATE = struct.Struct("<25Q")


def _keccak_f1600(lanes: list[int]) -> list[int]:
    """Keccak-f[1600] (FIPS 202 Algorithm 7) on 25 lanes, lane (x, y) at x + 5y.

    Unrolled for speed (see the module docstring).  The rotation offsets of rho are
    (t+1)(t+2)/2 mod 64 along the walk of FIPS 202 Algorithm 2:
    0 1 62 28 27 / 36 44 6 55 20 / 3 10 43 25 39 / 41 45 15 21 8 / 18 2 61 56 14
    for x + 5y = 0..24.
    """
    (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12,
     a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24) = lanes
    for rc in _KECCAK_RC:
        # theta: every lane takes the parities of the columns x-1 and x+1 (rotated by 1)
        c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20
        c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21
        c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22
        c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23
        c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24
        d0 = c4 ^ (((c1 << 1) | (c1 >> 63)) & _M64)
        d1 = c0 ^ (((c2 << 1) | (c2 >> 63)) & _M64)
        d2 = c1 ^ (((c3 << 1) | (c3 >> 63)) & _M64)
        d3 = c2 ^ (((c4 << 1) | (c4 >> 63)) & _M64)
        d4 = c3 ^ (((c0 << 1) | (c0 >> 63)) & _M64)
        # rho and pi: lane (x, y) with theta applied, rotated, becomes lane (y, 2x + 3y)
        b0 = a0 ^ d0
        t = a6 ^ d1
        b1 = ((t << 44) | (t >> 20)) & _M64
        t = a12 ^ d2
        b2 = ((t << 43) | (t >> 21)) & _M64
        t = a18 ^ d3
        b3 = ((t << 21) | (t >> 43)) & _M64
        t = a24 ^ d4
        b4 = ((t << 14) | (t >> 50)) & _M64
        t = a3 ^ d3
        b5 = ((t << 28) | (t >> 36)) & _M64
        t = a9 ^ d4
        b6 = ((t << 20) | (t >> 44)) & _M64
        t = a10 ^ d0
        b7 = ((t << 3) | (t >> 61)) & _M64
        t = a16 ^ d1
        b8 = ((t << 45) | (t >> 19)) & _M64
        t = a22 ^ d2
        b9 = ((t << 61) | (t >> 3)) & _M64
        t = a1 ^ d1
        b10 = ((t << 1) | (t >> 63)) & _M64
        t = a7 ^ d2
        b11 = ((t << 6) | (t >> 58)) & _M64
        t = a13 ^ d3
        b12 = ((t << 25) | (t >> 39)) & _M64
        t = a19 ^ d4
        b13 = ((t << 8) | (t >> 56)) & _M64
        t = a20 ^ d0
        b14 = ((t << 18) | (t >> 46)) & _M64
        t = a4 ^ d4
        b15 = ((t << 27) | (t >> 37)) & _M64
        t = a5 ^ d0
        b16 = ((t << 36) | (t >> 28)) & _M64
        t = a11 ^ d1
        b17 = ((t << 10) | (t >> 54)) & _M64
        t = a17 ^ d2
        b18 = ((t << 15) | (t >> 49)) & _M64
        t = a23 ^ d3
        b19 = ((t << 56) | (t >> 8)) & _M64
        t = a2 ^ d2
        b20 = ((t << 62) | (t >> 2)) & _M64
        t = a8 ^ d3
        b21 = ((t << 55) | (t >> 9)) & _M64
        t = a14 ^ d4
        b22 = ((t << 39) | (t >> 25)) & _M64
        t = a15 ^ d0
        b23 = ((t << 41) | (t >> 23)) & _M64
        t = a21 ^ d1
        b24 = ((t << 2) | (t >> 62)) & _M64
        # chi, row by row (b is below 2**64, so ~b & b' is too); iota on lane (0, 0)
        a0 = b0 ^ (~b1 & b2)
        a1 = b1 ^ (~b2 & b3)
        a2 = b2 ^ (~b3 & b4)
        a3 = b3 ^ (~b4 & b0)
        a4 = b4 ^ (~b0 & b1)
        a5 = b5 ^ (~b6 & b7)
        a6 = b6 ^ (~b7 & b8)
        a7 = b7 ^ (~b8 & b9)
        a8 = b8 ^ (~b9 & b5)
        a9 = b9 ^ (~b5 & b6)
        a10 = b10 ^ (~b11 & b12)
        a11 = b11 ^ (~b12 & b13)
        a12 = b12 ^ (~b13 & b14)
        a13 = b13 ^ (~b14 & b10)
        a14 = b14 ^ (~b10 & b11)
        a15 = b15 ^ (~b16 & b17)
        a16 = b16 ^ (~b17 & b18)
        a17 = b17 ^ (~b18 & b19)
        a18 = b18 ^ (~b19 & b15)
        a19 = b19 ^ (~b15 & b16)
        a20 = b20 ^ (~b21 & b22)
        a21 = b21 ^ (~b22 & b23)
        a22 = b22 ^ (~b23 & b24)
        a23 = b23 ^ (~b24 & b20)
        a24 = b24 ^ (~b20 & b21)
        a0 ^= rc
    return [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12,
            a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24]


def keccak_sponge(msg: bytes, rate: int, domain: int, out_len: int) -> bytes:
    """The Keccak[c] sponge of FIPS 202 section 5 on a byte string.

    ``rate`` is in bytes (a multiple of 8 below 200; capacity = 200 - rate);
    ``domain`` is the first padding byte, i.e. the domain suffix bits followed by
    the first 1 of pad10*1, read LSB first (0x06 SHA3, 0x1F SHAKE, 0x01 original
    Keccak); the final 1 of pad10*1 is 0x80 in the last byte of the block, the same
    byte when only one is left.  Returns ``out_len`` bytes, squeezing as needed.
    """
    if not (isinstance(rate, int) and 0 < rate < 200 and rate % 8 == 0):
        raise UsageError(f"keccak_sponge: rate must be a multiple of 8 in 8..192, not {rate!r}")
    if not (isinstance(domain, int) and 0 < domain < 0x80):
        raise UsageError(f"keccak_sponge: domain byte must be in 0x01..0x7f, not {domain!r}")
    if not (isinstance(out_len, int) and out_len >= 0):
        raise UsageError(f"keccak_sponge: out_len must be a non-negative integer, not {out_len!r}")
    n = rate // 8
    block = struct.Struct(f"<{n}Q")
    padded = bytearray(msg)
    padded.extend(bytes(rate - len(padded) % rate))
    padded[len(msg)] ^= domain
    padded[-1] ^= 0x80
    state = [0] * 25
    for off in range(0, len(padded), rate):
        words = block.unpack_from(padded, off)
        state = _keccak_f1600([s ^ w for s, w in zip(state[:n], words, strict=True)] + state[n:])
    out = bytearray(_STATE.pack(*state)[:rate])
    while len(out) < out_len:
        state = _keccak_f1600(state)
        out += _STATE.pack(*state)[:rate]
    return bytes(out[:out_len])


def _keccak256(msg: bytes) -> bytes:
    return keccak_sponge(msg, RATE_256, KECCAK_DOMAIN, 32)


def _blake2b512(msg: bytes) -> bytes:
    return hashlib.blake2b(msg, digest_size=64).digest()


_DIGESTERS: dict[str, Callable[[bytes], bytes]] = {
    "sha256": lambda m: hashlib.sha256(m).digest(),
    "sha512": lambda m: hashlib.sha512(m).digest(),
    "sha3_256": lambda m: hashlib.sha3_256(m).digest(),
    "keccak256": _keccak256,
    "blake2b512": _blake2b512,
}


def digest(name: str, msg: bytes) -> bytes:
    """The golden digest of ``msg`` under hash ``name`` (one of :data:`HASHES`).

    An unknown name is an error of the vector set or op catalogue naming it, hence
    :class:`MalformedInput`, never a silent fallback to some other hash.
    """
    fn = _DIGESTERS.get(name) if isinstance(name, str) else None
    if fn is None:
        raise MalformedInput(f"unknown hash {name!r}: expected one of {', '.join(HASHES)}")
    return fn(msg)
