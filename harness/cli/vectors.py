"""``teecert vectors generate|check``: the golden vector set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _cmd_vectors(a: argparse.Namespace) -> int:
    # imported when the command runs, so that `teecert` starts without it
    from ..vectors import generate as vector_gen

    if a.vectors_cmd == "generate":
        out = Path(a.out)
        files = vector_gen.generate(out, jobs=a.jobs, op_ids=a.op or None, progress=vector_gen.main_progress)
        # imported when the command runs, so that `teecert` starts without it
        from ..vectors.store import SET_NAME, SET_VERSION, set_digest

        digest = set_digest(SET_NAME, SET_VERSION, dict(sorted(files.items())))
        if a.pin_profiles:
            # imported when the command runs, so that `teecert` starts without it
            from ..profile import update_pinned_vector_digest

            update_pinned_vector_digest(Path(a.pin_profiles), digest)
        print(f"vector set {SET_NAME} v{SET_VERSION}: {len(files)} files, digest {digest}")
        return 0
    result = vector_gen.check(
        Path(a.path) if a.path else None,
        explicit_sample=a.sample,
        stream_chunks=a.chunks,
        seed=a.seed,
        progress=None if a.json else vector_gen.main_progress,
    )
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"vector set OK: digest {result['digest']} (sample seed {result['seed']})")
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``teecert vectors``."""
    vec = sub.add_parser("vectors", help="generate or check the golden vector set")
    vsub = vec.add_subparsers(dest="vectors_cmd", required=True)
    g = vsub.add_parser("generate", help="recompute every golden file with both references")
    g.add_argument("--out", default="vectors", metavar="DIR")
    g.add_argument("--jobs", type=int, default=0, help="worker processes (default: all cores)")
    g.add_argument("--op", action="append", metavar="OP", help="only this op (repeatable)")
    g.add_argument("--pin-profiles", metavar="DIR", help="write the new set digest into the profiles in DIR")
    c = vsub.add_parser("check", help="re-verify the manifest and recompute a random sample")
    c.add_argument("--path", metavar="DIR", help="vector set folder (default: built in)")
    c.add_argument("--sample", type=int, default=2000, help="explicit vectors to recompute")
    c.add_argument("--chunks", type=int, default=2, help="stream chunks to recompute")
    c.add_argument("--seed", type=int, help="seed of the sample")
    c.add_argument("--json", action="store_true")
    vec.set_defaults(func=_cmd_vectors)

