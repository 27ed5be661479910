"""What every explicit vector design shares: groups of cases, a deterministic source
of choices, and bit patterns of powers of two."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...ops import FloatFormat
from ..streams import mix as generator

Case = tuple[tuple[int, ...], tuple[str, ...], str]


@dataclass
class Group:
    name: str
    comment: str
    cases: list[Case] = field(default_factory=list)

    def add(self, inputs: tuple[int, ...], flags: tuple[str, ...] = (), comment: str = "") -> None:
        self.cases.append((inputs, flags, comment))


class Rand:
    """A small deterministic source of choices (SplitMix64 over a named seed)."""

    def __init__(self, name: str) -> None:
        self.s0 = generator.initial_state("explicit:" + name, 0)
        self.k = 0

    def next(self) -> int:
        v = generator.draw(self.s0, self.k)
        self.k += 1
        return v

    def below(self, n: int) -> int:
        return self.next() % n


def float_bits(fmt: FloatFormat, sign: int, e: int, frac: int) -> int:
    return (sign << (fmt.width - 1)) | (e << fmt.frac_bits) | frac


def pow2(fmt: FloatFormat, k: int, sign: int = 0) -> int:
    """Bits of 2**k (normal or subnormal) in ``fmt``."""
    e = k + fmt.bias
    if e >= 1:
        return float_bits(fmt, sign, e, 0)
    shift = fmt.frac_bits - 1 + e  # subnormal: 2**k = frac * 2**(emin - frac_bits)
    return float_bits(fmt, sign, 0, 1 << shift)


