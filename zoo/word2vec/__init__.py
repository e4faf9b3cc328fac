"""Word2vec on a corpus: `python -m zoo.word2vec train --corpus ptb --model sg`."""
