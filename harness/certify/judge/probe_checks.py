"""The probe suite's and the fpenv suite's judgements of what a probe says about itself
against what teecert observes: its self-description (architecture, byte order,
``char`` signedness, ``long double`` width, FP state at entry, ABI version,
compiler), the FP poisoning it claims to apply, and its answers to the ABI's
argument checks.  A probe's word is recorded; only teecert's observations decide.
"""

from __future__ import annotations

import re
import signal
import struct
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import BuildError
from ...probe.build import find_compiler
from ...probe.library import CONFORMANCE_CASES, E_ARGS, E_INTERNAL, E_UNSUPPORTED, OK, Conformance

#: Names of the ABI's status codes, for messages.
STATUS_NAMES = {OK: "TEECERT_OK", E_UNSUPPORTED: "TEECERT_E_UNSUPPORTED", E_ARGS: "TEECERT_E_ARGS",
                E_INTERNAL: "TEECERT_E_INTERNAL"}

#: Sticky status flags in each layout of the raw FP state (never compared).
STATUS_FLAGS = {"x86_64": 0x3F, "riscv64": 0x1F, "aarch64": 0}

#: platform.machine() spellings of the architectures a probe may name.
ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "aarch64_be": "aarch64"}

#: The predefined macros of a GCC-compatible compiler that answer the two C facts.
_MACROS = re.compile(rb"^#define (__CHAR_UNSIGNED__|__LDBL_MANT_DIG__|__BYTE_ORDER__|__ORDER_BIG_ENDIAN__)"
                     rb"(?: (\S+))?$", re.M)


def normalize_arch(name: str) -> str:
    n = name.strip().lower()
    return ARCH_ALIASES.get(n, n)


# --------------------------------------------------------------- FP state


@dataclass(frozen=True)
class FpMode:
    """The modes a raw FP state sets: rounding direction and flushing."""

    rounding: str  # nearest, up, down, zero, unknown
    flush: bool

    def show(self) -> str:
        return f"rounding {self.rounding}" + (", FTZ/DAZ" if self.flush else "")


_RC = {0: "nearest", 1: "down", 2: "up", 3: "zero"}


def decode_fpenv(arch: str, raw: int) -> FpMode:
    """The modes of a raw FP state in the layout of ``arch`` (docs/probe-abi.md)."""
    if arch == "x86_64":
        return FpMode(_RC[(raw >> 13) & 3], bool(raw & 0x8040))
    if arch == "aarch64":
        return FpMode({0: "nearest", 1: "up", 2: "down", 3: "zero"}[(raw >> 22) & 3], bool(raw >> 24 & 1))
    if arch == "riscv64":
        return FpMode({0: "nearest", 1: "zero", 2: "down", 3: "up"}.get((raw >> 5) & 7, "unknown"), False)
    return FpMode("unknown", False)


def poison_claim(arch: str, asked: int, claimed: int, state: int) -> str | None:
    """Whether the probe's ``fpenv_poison(asked)`` applied the bits it claims
    (``claimed``), judged from the state teecert read after the call; None when it
    did, else one line saying what it claimed and what teecert saw."""
    mode = decode_fpenv(arch, state)
    problems = []
    if claimed & ~asked & 0x7:
        problems.append(f"claims bits {claimed & ~asked:#x} it was not asked for")
    if claimed & 0x2 and mode.rounding != "zero":
        problems.append("claims rounding toward zero")
    elif claimed & 0x1 and not claimed & 0x2 and mode.rounding != "up":
        problems.append("claims rounding toward +inf")
    if claimed & 0x4 and not mode.flush and arch in ("x86_64", "aarch64"):
        problems.append("claims FTZ/DAZ")
    if not problems:
        return None
    return (f"fpenv_poison({asked:#x}) returned {claimed:#x}, but teecert read {arch} {state:#x} "
            f"({mode.show()}) after it: it {' and '.join(problems)} and applied "
            f"{'nothing' if mode == FpMode('nearest', False) else 'something else'}")


# ------------------------------------------------------- self-description


@dataclass
class Observed:
    """What teecert observed of the probe and the machine it runs on."""

    arch: str | None = None  # the machine the probe runs on (host facts, or this process)
    byte_order: str | None = None
    abi_version: int | None = None  # teecert_probe_abi_version()
    fpenv_first: tuple[str, int] | None = None  # the state teecert read before the first call
    char_signed: tuple[bool, str] | None = None  # value, how teecert knows it
    ldbl_mant_dig: tuple[int, str] | None = None
    compiler_comments: list[str] | None = None  # ELF .comment of the library teecert hashed
    notes: list[str] = field(default_factory=list)


@dataclass
class CrossCheck:
    lies: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)

    def message(self) -> str:
        parts = []
        if self.lies:
            parts.append("the self-description does not match what teecert observes: " + "; ".join(self.lies))
        if self.verified:
            parts.append("verified: " + ", ".join(self.verified))
        if self.unverified:
            parts.append("unverified: " + "; ".join(self.unverified))
        return ". ".join(parts)


def _compiler_family(text: str) -> str:
    t = text.lower()
    return "clang" if "clang" in t else "gcc"


def _version(text: str) -> str | None:
    m = re.search(r"\d+\.\d+(?:\.\d+)?", text)
    return m.group(0) if m else None


def compiler_matches(claim: str, comments: Sequence[str]) -> bool:
    """The compiler a probe names (its ``__VERSION__``) is the one that left an ELF
    ``.comment`` entry: same family (GCC's entries start ``GCC:``, clang's say
    ``clang version``) and the same version number."""
    family, version = _compiler_family(claim), _version(claim)
    if version is None:
        return False
    for c in comments:
        fam = "clang" if "clang" in c.lower() else ("gcc" if c.startswith("GCC:") else None)
        if fam == family and version in c:
            return True
    return False


def cross_check(desc: Mapping[str, Any], obs: Observed) -> CrossCheck:
    """The self-description against ``obs``: a disagreement is a lie; a key teecert
    could not observe is listed as unverified, never as verified."""
    out = CrossCheck()

    def compare(key: str, claimed: Any, seen: Any, how: str) -> None:
        if seen is None:
            out.unverified.append(f"{key} ({how})")
        elif claimed != seen:
            out.lies.append(f"{key} is {claimed!r}, teecert observes {seen!r} ({how})")
        else:
            out.verified.append(key)

    arch = desc.get("arch")
    if isinstance(arch, str):
        compare("arch", normalize_arch(arch), obs.arch and normalize_arch(obs.arch), "the machine it runs on")
    else:
        out.unverified.append("arch (not given)")
    compare("byte_order", desc.get("byte_order"), obs.byte_order, "the machine it runs on")
    compare("abi", desc.get("abi"), obs.abi_version, "teecert_probe_abi_version()")
    entry = desc.get("fpenv_at_entry")
    if obs.fpenv_first is None:
        out.unverified.append("fpenv_at_entry (teecert did not read the state before the first call)")
    elif not isinstance(entry, str) or not re.fullmatch(r"[0-9a-f]{16}", entry):
        out.lies.append(f"fpenv_at_entry is {entry!r}, not 16 lower-case hex digits")
    else:
        farch, first = obs.fpenv_first
        mask = ~STATUS_FLAGS.get(farch, 0)
        if int(entry, 16) & mask != first & mask:
            out.lies.append(f"fpenv_at_entry is {entry}, teecert read {first:016x} ({farch}) just before "
                            "that call (control bits differ)")
        else:
            out.verified.append("fpenv_at_entry")
    for key, seen in (("char_signed", obs.char_signed), ("ldbl_mant_dig", obs.ldbl_mant_dig)):
        compare(key, desc.get(key), None if seen is None else seen[0],
                "unknown" if seen is None else seen[1])
    claim = desc.get("compiler")
    if not isinstance(claim, str):
        out.unverified.append("compiler (not given)")
    elif obs.compiler_comments is None:
        out.unverified.append("compiler (the library file is not readable here)")
    elif not obs.compiler_comments:
        out.unverified.append("compiler (the library has no ELF .comment section)")
    elif compiler_matches(claim, obs.compiler_comments):
        out.verified.append("compiler")
    else:
        out.lies.append(f"compiler is {claim!r}, the library's ELF .comment names "
                        f"{'; '.join(sorted(set(obs.compiler_comments)))[:200]!r}")
    return out


def elf_comments(path: Path) -> list[str] | None:
    """The NUL-separated strings of an ELF file's ``.comment`` section (the compilers
    that built it), ``[]`` when it has none, None when the file is not a readable ELF.
    Hand-written: only the section table is needed, and no ELF library is among
    teecert's dependencies."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    wide, end = data[4] == 2, "<" if data[5] == 1 else ">"
    try:
        if wide:
            shoff, = struct.unpack_from(end + "Q", data, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        else:
            shoff, = struct.unpack_from(end + "I", data, 0x20)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
        if shnum == 0 or shstrndx >= shnum or shoff + shnum * shentsize > len(data):
            return []

        def section(i: int) -> tuple[int, int, int]:
            base = shoff + i * shentsize
            if wide:
                name, = struct.unpack_from(end + "I", data, base)
                off, size = struct.unpack_from(end + "QQ", data, base + 0x18)
            else:
                name, = struct.unpack_from(end + "I", data, base)
                off, size = struct.unpack_from(end + "II", data, base + 0x10)
            return name, off, size

        _n, str_off, str_size = section(shstrndx)
        names = data[str_off:str_off + str_size]
        for i in range(shnum):
            name, off, size = section(i)
            if names[name:name + 9] == b".comment\0" and off + size <= len(data):
                raw = data[off:off + size]
                return [s.decode("utf-8", "replace") for s in raw.split(b"\0") if s]
        return []
    except struct.error:
        return None


def target_facts(arch: str, machine: str) -> tuple[tuple[bool, str] | None, tuple[int, str] | None]:
    """``char`` signedness and ``LDBL_MANT_DIG`` of Linux on ``arch``, from the
    predefined macros of a C compiler for that target (``cc -dM -E``): the native
    compiler when ``arch`` is this machine's, ``ARCH-linux-gnu-gcc`` otherwise.
    ``(None, None)`` when no such compiler is here."""
    arch = normalize_arch(arch)
    try:
        cc = find_compiler() if arch == normalize_arch(machine) else find_compiler(f"{arch}-linux-gnu-gcc")
    except BuildError:
        return None, None
    try:
        proc = subprocess.run([*cc, "-dM", "-E", "-x", "c", "-"], input=b"", capture_output=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    if proc.returncode != 0:
        return None, None
    found = {m.group(1): m.group(2) for m in _MACROS.finditer(proc.stdout)}
    how = f"predefined macros of {' '.join(cc)} for {arch}"
    char = (b"__CHAR_UNSIGNED__" not in found, how)
    ldbl = found.get(b"__LDBL_MANT_DIG__")
    return char, ((int(ldbl), how) if ldbl and ldbl.isdigit() else None)


# ---------------------------------------------------------- conformance


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def conformance_problems(conf: Conformance) -> list[str]:
    """Each argument check the probe failed, one line each; [] when it gave every
    documented status."""
    problems = []
    for (name, want), got in zip(CONFORMANCE_CASES, conf.statuses, strict=False):  # answered only
        if got != want:
            problems.append(f"{name}: {STATUS_NAMES.get(got, f'status {got}')}, the ABI requires "
                            f"{STATUS_NAMES[want]}")
    if conf.outcome != 0:
        case = CONFORMANCE_CASES[len(conf.statuses)][0] if len(conf.statuses) < len(CONFORMANCE_CASES) else "?"
        if conf.outcome == 1:
            problems.append(f"{case}: the probe crashed with {_signal_name(conf.signal)} instead of refusing")
        elif conf.outcome == 2:
            problems.append(f"{case}: the probe did not answer in time instead of refusing")
        else:
            problems.append("no child process could be made to run the checks")
    return problems


#: uname machine names of big-endian Linux machines (every other one is little-endian)
_BIG_ENDIAN_MACHINES = ("s390x", "s390", "ppc64", "ppc", "sparc64", "sparc", "m68k", "mips", "mips64")


def byte_order_of(machine: str) -> str:
    """The byte order of a Linux machine by its uname name (``aarch64_be``, ``armeb``,
    ``mips`` and ``s390x`` are big-endian; ``ppc64le``, ``mipsel``, x86 and the rest little)."""
    m = machine.strip().lower()
    return "big" if m.endswith(("_be", "eb")) or m in _BIG_ENDIAN_MACHINES else "little"
