"""freq_unlearn.tasks"""
