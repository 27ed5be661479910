"""teecert: conformance tests and signed certification reports for consensus TEEs.

The public surface is small: the command line (``teecert``), the pytest plugin and
the modules named by task (``report``, ``verify``, ``profiles``, ``vectors``).
"""

__version__ = "0.1.0"
