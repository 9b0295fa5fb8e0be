"""Duplicate clusters: duplicate-found and duplicate-retracted pairs in, cluster-updated events out.

``graph`` holds the merge logic (pure: it reads and writes a mapping, which the faust app backs with a
changelog table), ``guard`` the rule against giant clusters, ``changes`` turns a before/after view into
events, ``events`` the cluster-updated schema, ``app`` the faust application behind ``dedup clusters``.
"""
