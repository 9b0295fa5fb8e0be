"""The decider: labeled data, synthetic catalogs and the models that score candidate pairs."""
