"""portal/services/accountability"""
