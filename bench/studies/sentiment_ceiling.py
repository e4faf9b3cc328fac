"""How far linear n-gram classifiers get on the Chinese reviews (the label ceiling).

TF-IDF logistic regression and NB-SVM (Wang & Manning 2012, the log-count
ratio features with a logistic regression) on character 1- to 4-grams, the
regularisation chosen on the validation split, scored on the test split of
`keras_seq.datasets.load_chinese_reviews()` (seed-0 80/10/10), then the most
confidently wrong test reviews of the best model, printed for reading: most
are mislabelled fragments of longer reviews.

    pip install scikit-learn   # not a keras_seq dependency
    python bench/studies/sentiment_ceiling.py
"""

import numpy as np

from keras_seq.datasets import load_chinese_reviews


def main():
    try:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise SystemExit(
            "bench/studies/sentiment_ceiling.py needs scikit-learn: pip install scikit-learn"
        ) from None
    splits = load_chinese_reviews()
    train, valid, test = splits.train, splits.valid, splits.test
    labels = np.asarray(train.targets)
    classifiers = []  # (name, texts -> class probabilities)
    for high in (2, 3, 4):
        tfidf = TfidfVectorizer(
            analyzer="char", ngram_range=(1, high), sublinear_tf=True
        )
        features = tfidf.fit_transform(list(train.inputs))
        for c in (1.0, 4.0, 16.0):
            model = LogisticRegression(C=c, max_iter=3000).fit(features, labels)
            classifiers.append(
                (
                    f"tf-idf char 1-{high}-grams, logistic regression C={c:g}",
                    lambda texts, m=model, v=tfidf: m.predict_proba(v.transform(texts)),
                )
            )
        counts = CountVectorizer(analyzer="char", ngram_range=(1, high), binary=True)
        binary = counts.fit_transform(list(train.inputs))
        positive = 1 + np.asarray(binary[labels == 1].sum(0))[0]
        negative = 1 + np.asarray(binary[labels == 0].sum(0))[0]
        ratio = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
        for c in (0.1, 1.0):
            model = LogisticRegression(C=c, max_iter=3000).fit(
                binary.multiply(ratio).tocsr(), labels
            )
            classifiers.append(
                (
                    f"NB-SVM char 1-{high}-grams, C={c:g}",
                    lambda texts, m=model, v=counts, r=ratio: m.predict_proba(
                        v.transform(texts).multiply(r).tocsr()
                    ),
                )
            )

    def accuracy(probabilities, split):
        predicted = probabilities(list(split.inputs)).argmax(-1)
        return float(np.mean(predicted == np.asarray(split.targets)))

    results = [
        (accuracy(p, valid), accuracy(p, test), name, p) for name, p in classifiers
    ]
    print("| classifier | valid accuracy | test accuracy |")
    print("|---|---|---|")
    for valid_accuracy, test_accuracy, name, _ in results:
        print(f"| {name} | {valid_accuracy:.3f} | {test_accuracy:.3f} |")
    valid_accuracy, test_accuracy, name, probabilities = max(
        results, key=lambda r: r[0]
    )
    print(f"\nbest on validation: {name}: test {test_accuracy:.3f}")
    p = probabilities(list(test.inputs))[:, 1]
    truth = np.asarray(test.targets)
    wrong = np.flatnonzero((p > 0.5) != truth)
    print(f"{len(wrong)} of {len(truth)} test reviews wrong; the 25 most confident:")
    for i in wrong[np.argsort(-np.abs(p[wrong] - 0.5))][:25]:
        print(f"label {truth[i]}  p(positive) {p[i]:.2f}  {test.inputs[i][:80]}")


if __name__ == "__main__":
    main()
