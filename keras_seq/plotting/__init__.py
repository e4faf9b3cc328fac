from keras_seq.plotting.attention_heatmap import plot_attention

__all__ = ["plot_attention"]
