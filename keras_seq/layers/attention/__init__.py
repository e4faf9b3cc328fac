from keras_seq.layers.attention.additive_attention import AdditiveAttention
from keras_seq.layers.attention.attention_pooling import AttentionPooling
from keras_seq.layers.attention.dot_product_attention import DotProductAttention
from keras_seq.layers.attention.luong_attention import LuongAttention
from keras_seq.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = [
    "AdditiveAttention",
    "AttentionPooling",
    "DotProductAttention",
    "LuongAttention",
    "MultiHeadAttention",
]
