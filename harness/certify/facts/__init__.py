"""What a run observes about where it runs, recorded but not judged here: the
environment fingerprint and the probe's raw hardware characterization.
"""
