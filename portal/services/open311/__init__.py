"""Open311 GeoReport v2: application keys, the catalogue and feedback as Open311 sees them."""
