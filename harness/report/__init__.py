"""The signed run report: the in-toto statement and its schema, the verdict (a pure
function of results and profile), signing keys.
"""
