"""symcount.torch against torch 2.13 (CPU)."""
