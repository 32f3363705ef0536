"""portal/services/feedback"""
