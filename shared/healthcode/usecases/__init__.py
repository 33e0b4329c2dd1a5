"""One module per actor (residents, checkpoints, authority, partners, recompute); ``recolor`` is the
one colour-write path they share, ``changes`` the authority's facts-with-consequences, ``codecheck``
the reading of a scanned code. Use cases get repositories (``adapters.base`` Protocols) injected and
never call each other."""
