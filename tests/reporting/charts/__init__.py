"""Tests of the report charts."""
