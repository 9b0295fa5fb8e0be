"""``dedup reindex``: fill a collection for a new model beside the serving one, then move the alias.

job (plan, passes, switch), stored (from the stored listings), topic (from the listings topic).
"""
