"""portal/web/survey"""
