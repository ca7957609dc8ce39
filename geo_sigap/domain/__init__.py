"""The domain: administrative units, teams, categories, incidents and the SOP lifecycle.

Imports no web or storage framework (checked by ``tests/test_architecture.py``).
"""
