"""Open standards out: Open311 GeoReport v2, OGC API – Features, GeoPackage/CSV exports.

Each is read from storage here (no web framework); the routes under
``geo_sigap/web/routes`` only parse and shape. Every output is role-aware and never
carries a reporter's name or phone unless an admin explicitly asks for an export with
personal data.
"""
