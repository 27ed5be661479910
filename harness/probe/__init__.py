"""Reaching a probe and running ops on it: in process (cffi), through the probe host
(stdio, TCP, Unix socket, vsock; authenticated, with a key its evidence commits to),
the hot stream loop, and building probes.
"""
