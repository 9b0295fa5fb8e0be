"""Test suite for listing-dedup (a package so tests can import tests.services)."""
