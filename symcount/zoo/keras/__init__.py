"""Zoo entries reproducing keras models; each module registers its entries on import."""
