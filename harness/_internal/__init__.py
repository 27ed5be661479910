"""Plumbing with no teecert concept in it: canonical JSON, DSSE envelopes, JSON
Schema, times, atomic writes, bounded file reads, the optional accelerator, the
version. Everything above may use it; it imports nothing of teecert but ``errors``.
"""
