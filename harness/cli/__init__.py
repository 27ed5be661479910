"""The ``teecert`` command: one module per command group, argparse and exit codes
only, over the library.
"""
