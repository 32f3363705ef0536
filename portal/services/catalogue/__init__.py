"""portal/services/catalogue"""
