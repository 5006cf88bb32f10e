"""From human answers to training data: preference datasets, statistics, export."""
