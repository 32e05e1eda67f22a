"""Zoo entries reproducing Megatron-LM models (``megatron.core``); each module registers its entries on import."""
