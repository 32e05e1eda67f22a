"""Zoo entries reproducing transformers models; each module registers its entries on import."""
