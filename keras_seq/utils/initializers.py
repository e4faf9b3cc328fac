"""One initializer per weight, so that weights sharing an argument start apart."""

import zlib

import keras


def fresh(initializer, salt):
    """A copy of `initializer` for one weight, drawing values of its own.

    Keras initializers are stateless: an instance returns the same values on
    every call (an unseeded one fixes its seed when it is made). A layer that
    passes one `kernel_initializer` to several weights therefore starts them
    identical: the query, key and value kernels of an attention layer, say,
    which then begin as a symmetric score. Keras's own MultiHeadAttention
    clones its initializers per sublayer for this reason; keras_seq layers
    call `fresh` for each weight.

    Args:
        initializer: Anything `keras.initializers.get` takes.
        salt: A string naming the weight (`"query_kernel"`). An initializer
            with an integer seed gets a seed derived from it and `salt`, so
            seeded layers stay reproducible and their weights still differ;
            an unseeded one draws a new seed (from Python's `random`, which
            `keras.utils.set_random_seed` seeds).

    Returns:
        A new initializer of the same class and configuration; `initializer`
        itself when it holds no seed (constants such as `"zeros"` give equal
        values by design) or its seed is a `keras.random.SeedGenerator`
        (which already draws anew on each call).
    """
    initializer = keras.initializers.get(initializer)
    config = initializer.get_config()
    if "seed" not in config or isinstance(
        getattr(initializer, "seed", None), keras.random.SeedGenerator
    ):
        return initializer
    if isinstance(config["seed"], int):
        config["seed"] = zlib.crc32(f"{config['seed']}/{salt}".encode()) % 2**31
    return initializer.__class__.from_config(config)
