"""Reviewing reports: verify one (signature first, then schema, pins and the
recomputed verdict), compare many, render them for people, and governance's
signed decisions over verified reports.
"""
