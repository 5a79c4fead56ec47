"""The tiny random-weight student behind every engine fixture (make-fixtures.py, make-fixtures-kv.py):
fixed seed, so re-running gives the same weights and the fixtures agree with each other."""
import torch

import rtok
from student import Cfg, Student

SEED = 1234


def tiny_random():
    torch.manual_seed(SEED)
    c = Cfg(vocab_size=rtok.VOCAB_SIZE, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, intermediate_size=128, max_position_embeddings=512)
    m = Student(c)
    # larger than training init so logits are peaked: greedy ties would make exactness tests flaky
    m.init_weights(torch.Generator().manual_seed(SEED), std=0.25)
    with torch.no_grad():
        for l in m.layers:  # keep residual stream from exploding with the large init
            l.o_proj.weight.mul_(0.5)
            l.down_proj.weight.mul_(0.5)
    return m.eval(), c
