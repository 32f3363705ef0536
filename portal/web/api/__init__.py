"""portal/web/api"""
