"""Infrastructure adapters: Milvus store, Redis cache and the embedded local stack."""
