"""portal/domain"""
