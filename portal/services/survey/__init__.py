"""portal/services/survey"""
