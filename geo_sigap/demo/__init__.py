"""Deterministic generator of the SYNTHETIC Paal Merah demo area.

Only the names and Kemendagri codes of the six kelurahan of Kecamatan Paal Merah
(15.71.11, Kota Jambi) are real; every polygon, road, landmark position, team and
incident is invented. Run ``python -m geo_sigap.demo.generate``.
"""
