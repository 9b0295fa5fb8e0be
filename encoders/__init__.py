"""Listing encoders: turn listing content into fixed-width, L2-normalised float32 vectors.

``encoders.text.TextEncoder`` embeds titles with a local sentence-embedding model
(all-MiniLM-L6-v2 by default, 384-d, mean-pooled). ``encoders.reducer.PcaReducer`` projects
those vectors to 128-d for the cache and the ANN index. Both expose a ``version`` string so that
stored vectors can be tied to the exact weights and projection that produced them.

This package must not import ``stream``: it is a library the service composes, not the reverse.
"""
