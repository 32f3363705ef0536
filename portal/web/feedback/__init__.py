"""portal/web/feedback"""
