from keras_seq.testing.test_case import TestCase

__all__ = ["TestCase"]
