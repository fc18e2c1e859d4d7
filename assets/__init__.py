"""Data shipped with swarmzoo: density maps, sprites, small pretrained policies."""
