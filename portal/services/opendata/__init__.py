"""Open data: the portal's figures as CSV downloads, their data dictionary and catalogue.

Each dataset (:mod:`portal.services.opendata.schema`) names its columns, their types, units
and descriptions once; the CSV stream, the Frictionless Data Package and the DCAT catalogue
are all built from that one description, so they cannot disagree.
"""
