"""portal/services/demo"""
