"""portal/services/metrics"""
