"""The stream generators, specified in docs/vectors.md: ``mix`` (float ops), ``libm``
(libm functions, in each function's domain), ``data`` (integer, conversion and
hash ops); ``inputs`` picks one and packs any span of a stream.
"""
