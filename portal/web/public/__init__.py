"""portal/web/public"""
