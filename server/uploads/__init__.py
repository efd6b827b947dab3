"""Evidence files arrive by the tus resumable upload protocol."""
