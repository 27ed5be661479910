"""``teecert watch``: continuous assurance between certifications.

A certification says what the machine computed on the day it ran; ``teecert watch``
keeps checking, every ``--interval``, that it still does and still is the machine
the report describes: a rotating slice of the certified streams against the roots
the report recorded (``canary``), the FP state, the environment fingerprint and the
probe's digest, fresh attestation evidence (``checks``), and expiry.  Each cycle is
one signed, hash-chained record of the heartbeat log (``heartbeat``) and sets the
Prometheus metrics (``metrics``); ``watcher`` runs the cycles.  The command line is
``teecert.cli.watch``; the guide is docs/guide-validator.md.
"""
