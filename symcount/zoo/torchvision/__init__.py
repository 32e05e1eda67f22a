"""Zoo entries reproducing torchvision models; each module registers its entries on import."""
