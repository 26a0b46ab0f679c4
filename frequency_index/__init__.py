"""freq_unlearn.frequency_index"""
