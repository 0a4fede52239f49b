"""PowerTuning: Lambda Power Tuning as a native state machine, and its chart."""
