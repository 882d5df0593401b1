"""sampledata"""
