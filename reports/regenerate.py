"""Regenerate the example reports in this folder: ``python reports/regenerate.py``.

Makes a throwaway Ed25519 key (its public key is kept as ``example-signer.pub`` so
readers can pin it with ``--trust``; the private key is discarded), certifies the
reference probe (CERTIFIED) and the zoo probe ``one_ulp`` (one ULP off on subnormal
f64.div.rne quotients: NOT_CERTIFIED with real failures), and renders both reports
and their comparison as HTML and Markdown.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def teecert(*args: str, ok: tuple[int, ...] = (0,)) -> None:
    code = subprocess.run([sys.executable, "-m", "teecert", *args], check=False).returncode
    if code not in ok:
        sys.exit(f"teecert {args[0]} exited {code}")


def main() -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from teecert import keys

    from probezoo import build_zoo_probe

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        key = t / "example-key.pem"
        keys.generate(key)
        keys.write_public(HERE / "example-signer.pub", keys.load_private(key).public_key())
        runs = {"certified": None, "not-certified": build_zoo_probe("one_ulp")}
        for name, probe in runs.items():
            out = t / name
            args = ["run", "--key", str(key), "--out", str(out)]
            if probe is not None:
                args += ["--probe", str(probe)]
            teecert(*args, ok=(0, 1))
            (report,) = out.glob("teecert-report-*.json")
            shutil.copyfile(report, HERE / f"example-{name}.json")
            teecert("render", str(HERE / f"example-{name}.json"), "--trust", str(HERE / "example-signer.pub"),
                    "--html", str(HERE / f"example-{name}.html"), "--md", str(HERE / f"example-{name}.md"),
                    ok=(0, 1))
        teecert("compare", str(HERE / "example-certified.json"), str(HERE / "example-not-certified.json"),
                "--trust", str(HERE / "example-signer.pub"), "--html", str(HERE / "example-compare.html"),
                ok=(0, 1))
    print(f"examples written to {HERE}")


if __name__ == "__main__":
    main()
