"""Evidence records and their files, for those allowed to see them."""
