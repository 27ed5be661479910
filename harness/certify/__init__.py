"""One certification run: ``run`` (``teecert run``: preflight, then pytest in a child
process), the pytest plugin and its session, the stress runner, the judgements
(``judge``) and the facts teecert observes (``facts``), and assembling and signing
the report.
"""
