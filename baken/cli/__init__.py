"""The `baken` command line. Nothing imports this package."""
