"""Native build steps of teecert; the metadata is in pyproject.toml.

Two things are compiled at install time, for ``pip install .`` and ``pip install -e .``
alike:

* ``teecert._accel``, the stream generator in C (cffi API mode, native/build_accel.py);
* ``teecert._jcs``, the one-pass canonical JSON check ``teecert verify`` runs on every
  report (native/accel/jcs.c, a plain extension: it imports in a tenth of a
  millisecond, where a cffi module takes milliseconds of a single ``verify``);
* the reference probe, ``teecert/libteecert_probe.so`` (with its stamp, the build key
  of the sources it came from), built by ``teecert.probe.build`` with exactly the
  flags the harness would use on demand.  Editable installs get it in ``harness/``;
* the probe host, ``teecert/teecert-probe-host`` (native/host/probe_host.c, with its
  stamp), next to the reference probe it serves by default.

Without a C compiler the install stops with one line saying so.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
import sysconfig
import types
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError

HERE = Path(__file__).resolve().parent


def _load_probe_build() -> types.ModuleType:
    """harness/probe/build.py, imported before teecert is installed: under a private
    package name whose path is harness/, so its ``from ..errors import`` resolves
    without running the package's __init__ (and its runtime dependencies)."""
    pkg_name = "_teecert_build"
    if f"{pkg_name}.probe.build" in sys.modules:
        return sys.modules[f"{pkg_name}.probe.build"]
    for name, path in ((pkg_name, HERE / "harness"), (f"{pkg_name}.probe", HERE / "harness" / "probe")):
        pkg = types.ModuleType(name)
        pkg.__path__ = [str(path)]
        sys.modules[name] = pkg
    spec = importlib.util.spec_from_file_location(f"{pkg_name}.probe.build",
                                                  HERE / "harness" / "probe" / "build.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


class BuildExtWithProbe(build_ext):
    """build_ext that also compiles the reference probe into the package."""

    def _compiler(self) -> list[str]:
        pb = _load_probe_build()
        try:
            compiler: list[str] = pb.find_compiler()
        except pb.BuildError as exc:
            raise CompileError(str(exc)) from None
        # distutils compiles _accel with the interpreter's configured CC; where that
        # compiler is absent but another was found, use the one found.
        configured = shlex.split(sysconfig.get_config_var("CC") or "")
        if "CC" not in os.environ and (not configured or not shutil.which(configured[0])):
            os.environ["CC"] = shlex.join(compiler)
        return compiler

    def _probe_dirs(self) -> tuple[Path, Path | None]:
        regular = Path(self.build_lib) / "teecert"
        if not self.inplace:
            return regular, None
        build_py = self.get_finalized_command("build_py")
        return regular, Path(build_py.get_package_dir("teecert"))

    def run(self) -> None:
        compiler = self._compiler()
        super().run()
        pb = _load_probe_build()
        regular, inplace = self._probe_dirs()
        try:
            files = pb.install_reference_probe(regular, cc=shlex.join(compiler))
            # The probe host (native/host/probe_host.c) goes next to the reference
            # probe, which it loads when given no --probe.
            files += pb.install_host(regular, cc=shlex.join(compiler))
        except pb.BuildError as exc:
            raise CompileError(str(exc)) from None
        if inplace is not None:
            inplace.mkdir(parents=True, exist_ok=True)
            for f in files:
                self.copy_file(str(f), str(inplace / f.name), level=self.verbose)

    def _probe_files(self, base: Path) -> list[str]:
        pb = _load_probe_build()
        return [str(base / pb.PROBE_LIB_NAME), str(base / pb.PROBE_STAMP_NAME),
                str(base / pb.HOST_NAME), str(base / pb.HOST_STAMP_NAME)]

    def get_outputs(self) -> list[str]:
        regular, _ = self._probe_dirs()
        return [*super().get_outputs(), *self._probe_files(regular)]

    def get_output_mapping(self) -> dict[str, str]:
        # Editable installs (setuptools >= 64) ask which built file lands where.
        mapping: dict[str, str] = dict(super().get_output_mapping())
        regular, inplace = self._probe_dirs()
        if inplace is not None:
            mapping.update(zip(self._probe_files(regular), self._probe_files(inplace), strict=True))
        return mapping


setup(
    cffi_modules=["native/build_accel.py:ffibuilder"],
    # jcs.c defines Py_LIMITED_API itself: one build runs on every CPython >= 3.11.
    ext_modules=[Extension("teecert._jcs", ["native/accel/jcs.c"], py_limited_api=True,
                           extra_compile_args=["-O2"])],
    cmdclass={"build_ext": BuildExtWithProbe},
)
