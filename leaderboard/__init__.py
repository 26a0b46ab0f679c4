"""freq_unlearn.leaderboard"""
