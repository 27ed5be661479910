"""The judgements the suites make, kept out of the suites so that they stay readable
and have unit tests of their own: vectors and streams against golden values, libm
against correctly rounded, clocks and environment against the profile.
"""
