"""The review console: the queue of evidence awaiting a reviewer, and their decisions."""
