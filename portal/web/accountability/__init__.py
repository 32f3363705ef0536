"""portal/web/accountability"""
