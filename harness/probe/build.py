"""Build probe libraries: the reference probe, variants of it, and the broken probes
of the test zoo, all from the C sources under ``native/``.

The reference probe is compiled at install time into the package
(``teecert/libteecert_probe.so``); :func:`reference_probe_path` returns it, or
builds it on demand into a cache directory when it is missing or older than the
sources next to it (an editable install whose C changed).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# cache_dir is re-exported (callers name it here); relative imports: setup.py loads this
# module before teecert is installed
from .._internal.cachedir import cache_dir as cache_dir
from ..errors import BuildError  # relative: setup.py loads this module before teecert is installed

#: the package's root folder (harness/ in a checkout), where the built probe and host live
PACKAGE_ROOT = Path(__file__).resolve().parent.parent

#: Flags of the reference probe.  The C is correct *because* of them: no
#: contraction into FMA, no constant folding across rounding-mode changes, no
#: fast-math licence, and only the ABI functions exported.
REFERENCE_CFLAGS: tuple[str, ...] = (
    "-std=c99",
    "-O2",
    "-fPIC",
    "-shared",
    "-ffp-contract=off",
    "-frounding-math",
    "-fno-fast-math",
    "-fvisibility=hidden",
)

#: Added to REFERENCE_CFLAGS where the compiler accepts them (clang does not know
#: -fexcess-precision=standard; GCC implies it in ISO C mode, but says it anyway).
OPTIONAL_CFLAGS: tuple[str, ...] = ("-fexcess-precision=standard",)

#: Libraries every probe links: libm for fma/fmaf/sqrt.
LDLIBS: tuple[str, ...] = ("-lm",)

#: File name of the reference probe inside the package, and of its stamp: the
#: build key of the sources it was built from (see :func:`reference_build_key`).
PROBE_LIB_NAME = "libteecert_probe.so"
PROBE_STAMP_NAME = "libteecert_probe.key"

_COMPILER_CANDIDATES = ("cc", "gcc", "clang")


def native_dir() -> Path:
    """The directory holding ``teecert_probe.h`` and the probe sources: the installed
    ``teecert.native`` package, or ``native/`` of a source tree."""
    candidates: list[Path] = []
    try:
        native_pkg = importlib.import_module(".native", __package__)
        candidates.extend(Path(p) for p in native_pkg.__path__)
    except ImportError:  # a source tree put on sys.path (teecert -> harness/)
        pass
    candidates.append(PACKAGE_ROOT.parent / "native")
    for cand in candidates:
        if (cand / "teecert_probe.h").is_file() and (cand / "probe" / "probe.c").is_file():
            return cand
    raise BuildError(
        "the probe sources are not installed (looked for teecert_probe.h and probe/probe.c in "
        + ", ".join(str(c) for c in candidates)
        + ")"
    )


def reference_source() -> Path:
    """``native/probe/probe.c``: the reference probe."""
    return native_dir() / "probe" / "probe.c"


def support_sources() -> tuple[Path, ...]:
    """Sources compiled into every probe next to the main one (the portable SHA-256
    the transcript needs, the attestation evidence collection), so a variant can
    simply ``#include "probe.c"``."""
    nd = native_dir()
    return (nd / "probe" / "sha256.c", nd / "probe" / "attest.c", nd / "probe" / "hwchar.c",
            nd / "probe" / "clocks.c", nd / "probe" / "intops.c", nd / "probe" / "hashes.c")


def _inputs_of_reference() -> list[Path]:
    """Every file the reference probe is built from: the sources, their headers."""
    nd = native_dir()
    sources = [reference_source(), *support_sources()]
    return [nd / "teecert_probe.h", nd / "fpenv.h",
            *(p for src in sources for p in (src, src.with_suffix(".h")) if p.is_file())]


def find_compiler(cc: str | None = None) -> list[str]:
    """The C compiler command as argv words: ``cc`` if given, else ``$CC``, cc, gcc,
    clang, the first found on PATH."""
    if cc:
        words = shlex.split(cc)
        if words and shutil.which(words[0]):
            return words
        raise BuildError(f"C compiler {cc!r} not found on PATH")
    env_cc = os.environ.get("CC", "").strip()
    tried = []
    if env_cc:
        words = shlex.split(env_cc)
        if words and shutil.which(words[0]):
            return words
        tried.append(f"$CC={env_cc}")
    else:
        tried.append("$CC")
    for name in _COMPILER_CANDIDATES:
        if shutil.which(name):
            return [name]
        tried.append(name)
    raise BuildError(f"no C compiler found (tried {', '.join(tried)}): install gcc")


@functools.cache
def _accepts(compiler: tuple[str, ...], flag: str) -> bool:
    try:
        proc = subprocess.run(
            [*compiler, "-Werror", flag, "-x", "c", "-c", "-o", os.devnull, "-"],
            input="int teecert_flag_probe;\n", capture_output=True, text=True, timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def reference_cflags(compiler: Sequence[str]) -> tuple[str, ...]:
    """REFERENCE_CFLAGS plus the OPTIONAL_CFLAGS this compiler accepts."""
    extra = tuple(f for f in OPTIONAL_CFLAGS if _accepts(tuple(compiler), f))
    return REFERENCE_CFLAGS + extra


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# "file.c:3:5: error: ...", "gcc: fatal error: ...", linker failures; not "In function".
_ERROR_LINE = re.compile(r"\b(?:fatal )?error:|undefined reference|cannot find|No such file")


def _first_error_line(stderr: str, returncode: int) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if _ERROR_LINE.search(ln):
            return ln
    return lines[0] if lines else f"exit status {returncode}"


def build_probe(
    out_path: str | os.PathLike[str],
    source: str | os.PathLike[str] | None = None,
    cc: str | None = None,
    cflags: Sequence[str] | None = None,
    extra_cflags: Sequence[str] = (),
    defines: Mapping[str, str | None] | None = None,
) -> Path:
    """Compile a probe shared library and return its path.

    ``source`` is the main C file (default: the reference probe); it is compiled
    with :func:`support_sources` and ``-I native -I native/probe``, so a variant can
    ``#define`` the seams of ``probe.c`` and then ``#include "probe.c"``.  ``cflags``
    replaces the reference flags entirely (keep ``-shared -fPIC``); ``extra_cflags``
    is appended after them, so it wins where flags conflict (``-ffp-contract=fast``
    after ``-ffp-contract=off``).  ``defines`` maps macro names to values (``None``:
    defined without a value).  ``TEECERT_CFLAGS``, which the probe reports in its
    self-description, is set to the flags used unless ``defines`` sets it.

    The library is written to a temporary file and renamed, so a concurrent reader
    sees either the old library or the new one.  Raises :class:`BuildError` with one
    line: the missing compiler or source, or the compiler's first error line.
    """
    out = Path(out_path)
    nd = native_dir()
    src = Path(source) if source is not None else nd / "probe" / "probe.c"
    if not src.is_file():
        raise BuildError(f"probe source {src} not found")
    compiler = find_compiler(cc)
    flags = list(cflags) if cflags is not None else list(reference_cflags(compiler))
    flags.extend(extra_cflags)
    defs = dict(defines or {})
    def_args = [f"-D{k}" if v is None else f"-D{k}={v}" for k, v in defs.items()]
    if "TEECERT_CFLAGS" not in defs:
        def_args.append("-DTEECERT_CFLAGS=" + _c_string(" ".join(flags + def_args)))
    includes = ["-I", str(nd), "-I", str(nd / "probe")]
    sources = [str(src), *(str(s) for s in support_sources() if s.resolve() != src.resolve())]

    out.parent.mkdir(parents=True, exist_ok=True)
    return _compile(compiler, [*flags, *includes, *def_args, *sources], LDLIBS, out)


def reference_build_key() -> str:
    """SHA-256 over the reference probe's sources and REFERENCE_CFLAGS: equal keys
    mean the same probe source, so a library built from them can be reused."""
    h = hashlib.sha256(b"teecert-probe-build-v1\0")
    h.update("\0".join(REFERENCE_CFLAGS + OPTIONAL_CFLAGS + LDLIBS).encode() + b"\0")
    for path in _inputs_of_reference():
        data = path.read_bytes()
        h.update(path.name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def install_reference_probe(dest_dir: str | os.PathLike[str], cc: str | None = None) -> list[Path]:
    """Build the reference probe into ``dest_dir`` with its stamp (used by
    ``setup.py`` at install time); returns the files written."""
    dest = Path(dest_dir)
    lib = build_probe(dest / PROBE_LIB_NAME, cc=cc)
    stamp = dest / PROBE_STAMP_NAME
    _write_atomic(stamp, reference_build_key() + "\n")
    return [lib, stamp]


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def reference_probe_path() -> Path:
    """The reference probe library: the one installed with the package when it was
    built from the sources installed next to it, else one built on demand into
    :func:`cache_dir` (keyed by :func:`reference_build_key`, written atomically, so
    concurrent workers may race safely)."""
    installed = PACKAGE_ROOT / PROBE_LIB_NAME
    try:
        key: str | None = reference_build_key()
    except (BuildError, OSError):
        key = None  # sources not installed: trust the installed library as it is
    if installed.is_file():
        if key is None:
            return installed
        stamp = installed.with_name(PROBE_STAMP_NAME)
        try:
            if stamp.read_text(encoding="utf-8").strip() == key:
                return installed
        except OSError:
            pass
    if key is None:
        raise BuildError(
            f"no reference probe: {installed} is missing and the probe sources are not installed"
        )
    target = cache_dir() / f"libteecert_probe-{key[:24]}.so"
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot create the probe cache {target.parent}: {exc.strerror or exc}") from None
    return build_probe(target)


# ------------------------------------------------------------------ probe host

#: File name of the probe host (native/host/probe_host.c) inside the package, next
#: to the reference probe it loads by default, and of its stamp.
HOST_NAME = "teecert-probe-host"
HOST_STAMP_NAME = "teecert-probe-host.key"

#: Flags of the probe host: an ordinary warning-clean C99 program.
HOST_CFLAGS: tuple[str, ...] = ("-std=c99", "-O2", "-Wall", "-Wextra")

#: The host dlopen()s probes (older glibc keeps dlopen in libdl), makes and uses its
#: Ed25519 key with OpenSSL's libcrypto, and its data-stream generator builds a table
#: once with pthread_once (older glibc keeps it in libpthread).
HOST_LDLIBS: tuple[str, ...] = ("-ldl", "-lcrypto", "-pthread")

#: The host without libcrypto (``native/host/hostkey_none.c``): only for a cross build
#: whose target has no OpenSSL; such a host has no key, so it signs and attests nothing.
HOST_LDLIBS_NO_CRYPTO: tuple[str, ...] = ("-ldl", "-pthread")


def host_sources(crypto: bool = True) -> tuple[Path, ...]:
    """The probe host, the facts of its machine, its key (OpenSSL, or none), the
    SHA-256 it hashes the loaded library with, and the stream generators it makes
    RUN_GEN's inputs with."""
    nd = native_dir()
    key = "hostkey_openssl.c" if crypto else "hostkey_none.c"
    return (nd / "host" / "probe_host.c", nd / "host" / "hostfacts.c", nd / "host" / key,
            nd / "probe" / "sha256.c", nd / "accel" / "mixgen.c", nd / "accel" / "datagen.c")


def host_build_key() -> str:
    """SHA-256 over the host's sources and flags (see :func:`reference_build_key`)."""
    nd = native_dir()
    h = hashlib.sha256(b"teecert-host-build-v1\0")
    h.update("\0".join(HOST_CFLAGS + HOST_LDLIBS).encode() + b"\0")
    for path in (*host_sources(), nd / "host" / "hostkey.h", nd / "host" / "hostfacts.h",
                 nd / "probe" / "sha256.h", nd / "accel" / "mixgen.h", nd / "accel" / "accel.h",
                 nd / "accel" / "splitmix.h",
                 nd / "teecert_probe.h", nd / "fpenv.h"):
        data = path.read_bytes()
        h.update(path.name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def openssl_package(target: str | None = None) -> str:
    """``libssl-dev``, or ``libssl-dev:ARCH`` (Debian's architecture name) for a target."""
    if target is None:
        return "libssl-dev"
    deb = {"x86_64": "amd64", "aarch64": "arm64"}.get(target_arch(target), target_arch(target))
    return f"libssl-dev:{deb}"


@functools.cache
def _has_openssl(compiler: tuple[str, ...]) -> str | None:
    """None when ``compiler`` can build and link against OpenSSL's libcrypto, else
    the compiler's first error line."""
    with tempfile.TemporaryDirectory(prefix="teecert-openssl-") as tmp:
        src = Path(tmp) / "t.c"
        src.write_text("#include <openssl/evp.h>\n"
                       "int main(void) { return EVP_PKEY_ED25519 == 0; }\n")
        try:
            proc = subprocess.run([*compiler, str(src), "-o", str(Path(tmp) / "t"), "-lcrypto"],
                                  capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
    return None if proc.returncode == 0 else _first_error_line(proc.stderr, proc.returncode)


def build_host(out_path: str | os.PathLike[str], cc: str | None = None, *,
               crypto: bool | None = None, target: str | None = None) -> Path:
    """Compile the probe host executable (``teecert probe build --host``), atomically.
    ``crypto`` True requires OpenSSL's libcrypto (:class:`BuildError` naming the Debian
    package when its headers or library are missing); False builds the keyless host
    (:data:`HOST_LDLIBS_NO_CRYPTO`); None (the default) builds with OpenSSL where it
    is there and otherwise the keyless host, saying so on stderr: a machine with only
    Python, gcc and pip still gets a host, one that attests nothing (fail closed).
    Else :class:`BuildError` with the compiler's first error line."""
    out = Path(out_path)
    nd = native_dir()
    compiler = find_compiler(cc)
    if crypto is not False:
        missing = _has_openssl(tuple(compiler))
        if missing is not None and crypto:
            raise BuildError(f"the probe host needs OpenSSL's libcrypto to build: install Debian's "
                             f"{openssl_package(target)} ({compiler[0]}: {missing})")
        if missing is not None:
            sys.stderr.write(f"teecert: building the probe host without a key: no OpenSSL "
                             f"(install Debian's {openssl_package(target)}); it attests nothing\n")
        crypto = missing is None
    for src in host_sources(crypto):
        if not src.is_file():
            raise BuildError(f"probe host source {src} not found")
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [*HOST_CFLAGS, "-I", str(nd), "-I", str(nd / "probe"), *(str(s) for s in host_sources(crypto))]
    return _compile(compiler, args, HOST_LDLIBS if crypto else HOST_LDLIBS_NO_CRYPTO, out)


def _compile(compiler: list[str], args: Sequence[str], libs: Sequence[str], out: Path) -> Path:
    """Run the compiler into a temporary file beside ``out`` and rename it into place,
    so a failed or interrupted build never leaves a half-written library or program."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = [*compiler, *args, "-o", str(tmp), *libs]
    try:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        except OSError as exc:
            raise BuildError(f"{compiler[0]}: cannot run: {exc.strerror or exc}") from None
        except subprocess.TimeoutExpired:
            raise BuildError(f"{compiler[0]}: building {out.name} timed out") from None
        if proc.returncode != 0:
            line = _first_error_line(proc.stderr, proc.returncode)
            raise BuildError(f"{compiler[0]} failed to build {out.name}: {line}")
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def install_host(dest_dir: str | os.PathLike[str], cc: str | None = None) -> list[Path]:
    """Build the probe host into ``dest_dir`` with its stamp (``setup.py``)."""
    dest = Path(dest_dir)
    exe = build_host(dest / HOST_NAME, cc=cc)
    stamp = dest / HOST_STAMP_NAME
    _write_atomic(stamp, host_build_key() + "\n")
    return [exe, stamp]


def host_path() -> Path:
    """The probe host executable: the one installed with the package when it was
    built from the sources installed next to it, else one built on demand into
    :func:`cache_dir` (keyed by :func:`host_build_key`)."""
    installed = PACKAGE_ROOT / HOST_NAME
    try:
        key: str | None = host_build_key()
    except (BuildError, OSError):
        key = None
    if installed.is_file():
        if key is None:
            return installed
        try:
            if installed.with_name(HOST_STAMP_NAME).read_text(encoding="utf-8").strip() == key:
                return installed
        except OSError:
            pass
    if key is None:
        raise BuildError(f"no probe host: {installed} is missing and its sources are not installed")
    target = cache_dir() / f"{HOST_NAME}-{key[:24]}"
    if target.is_file():
        return target
    return build_host(target)


# ------------------------------------------------------------ other architectures

#: Debian packages that provide what ``teecert probe build --target`` needs
#: (``native/cross/install-deps.sh`` installs them).
CROSS_PACKAGES = {
    "aarch64-linux-gnu": ("gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"),
    "riscv64-linux-gnu": ("gcc-riscv64-linux-gnu", "libc6-dev-riscv64-cross"),
}


def native_arch() -> str:
    """The machine's own architecture as a triple's first word (``x86_64``)."""

    return {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(),
                                                        platform.machine().lower())


def target_arch(target: str) -> str:
    """``aarch64`` of ``aarch64-linux-gnu``; refuses what is not a Linux triple."""
    words = target.split("-")
    if len(words) < 3 or "linux" not in words or not re.fullmatch(r"[a-z0-9_]+", words[0]):
        raise BuildError(f"--target {target}: not a Linux target triple such as aarch64-linux-gnu")
    return words[0]


def find_qemu(arch: str) -> str | None:
    """``qemu-ARCH`` (or ``qemu-ARCH-static``) from Debian's qemu-user, if installed."""
    for name in (f"qemu-{arch}", f"qemu-{arch}-static"):
        if shutil.which(name):
            return name
    return None


def runner_prefix(target: str) -> tuple[list[str], str | None]:
    """The words that run a program built for ``target`` on this machine: nothing
    for the machine's own architecture, else qemu-user with the target's Debian
    sysroot (``-L /usr/TRIPLE``).  The second item says what is missing, if any."""
    arch = target_arch(target)
    if arch == native_arch():
        return [], None
    qemu = find_qemu(arch)
    missing = None if qemu else (
        f"qemu-{arch} not found: install Debian's qemu-user (native/cross/install-deps.sh) to run it")
    words = [qemu or f"qemu-{arch}"]
    sysroot = Path("/usr") / target
    if sysroot.is_dir():
        words += ["-L", str(sysroot)]
    return words, missing


def cross_compiler(target: str, cc: str | None = None) -> list[str]:
    """``TRIPLE-gcc`` (or ``cc``), or a one-line BuildError naming the package."""
    if cc:
        return find_compiler(cc)
    if target_arch(target) == native_arch() and not shutil.which(f"{target}-gcc"):
        return find_compiler()
    name = f"{target}-gcc"
    if shutil.which(name):
        return [name]
    pkgs = CROSS_PACKAGES.get(target, (f"gcc-{target}",))
    raise BuildError(f"{name} not found: install Debian's {' '.join(pkgs)} "
                     "(native/cross/install-deps.sh)")


@dataclass(frozen=True)
class TargetBuild:
    """What ``teecert probe build --target`` made, and the command that serves it."""

    target: str
    probe: Path
    host: Path
    probe_cmd: list[str]
    #: why the command cannot run here yet (qemu-user missing), or None
    missing: str | None
    #: what the host lacks (no OpenSSL for the target: no host key), or None
    degraded: str | None = None


def build_for_target(target: str, out_dir: str | os.PathLike[str],
                     cc: str | None = None) -> TargetBuild:
    """Build the reference probe and the probe host for ``target`` into ``out_dir``
    (``libteecert_probe.so`` and ``teecert-probe-host``), with the target's C
    compiler (Debian's cross gcc), and return the ``--probe-cmd`` that runs them:
    under qemu-user when ``target`` is not this machine's architecture."""
    compiler = cross_compiler(target, cc)
    out = Path(out_dir)
    lib = build_probe(out / PROBE_LIB_NAME, cc=shlex.join(compiler))
    degraded = None
    if target_arch(target) != native_arch() and _has_openssl(tuple(compiler)) is not None:
        # Debian has no OpenSSL for every cross target (riscv64 before trixie): the
        # host is then built without a key rather than not at all.
        degraded = (f"no OpenSSL for {target} (install Debian's {openssl_package(target)}): "
                    "the probe host has no key, so it signs no transcript and attests nothing")
        host = build_host(out / HOST_NAME, cc=shlex.join(compiler), crypto=False)
    else:
        host = build_host(out / HOST_NAME, cc=shlex.join(compiler), target=target)
    prefix, missing = runner_prefix(target)
    cmd = [*prefix, str(host.resolve()), "--probe", str(lib.resolve())]
    return TargetBuild(target, lib, host, cmd, missing, degraded)
