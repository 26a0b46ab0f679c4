"""freq_unlearn.unlearn_methods"""
