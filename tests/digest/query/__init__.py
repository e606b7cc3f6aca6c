"""Tests of the query language and matching engine."""
