// word2vec's per-example SGD with negative sampling, as one TensorFlow op.
//
// `KerasSeqWord2VecSgd` applies, for each example of a batch in order, the
// update of word2vec.c / gensim to two resource variables in place: the input
// vectors (`embeddings`) and the output vectors (`context_embeddings`).
// The batch is split between the CPU worker threads, which update the shared
// rows without locks ("Hogwild", as word2vec.c and gensim do); with one
// thread the result is deterministic. keras_seq/embeddings/kernels.py builds
// and loads this file; tests/embeddings/test_kernels.py checks it against a
// NumPy loop of the same formulas.
//
// For one example with hidden vector h, target t and negatives n_1..n_k
// (drawn from the alias table of unigram^0.75, unless given), with the
// learning rate a:
//   for (w, label) in [(t, 1), (n_1, 0), ..., (n_k, 0)] (a negative equal to
//   t is skipped, as word2vec.c does):
//     f = h . u_w;  g = a * (label - sigmoid(f))
//     e += g * u_w;  u_w += g * h
//   then the input rows that built h get e (skip-gram: the centre's row;
//   CBOW: each context row, times `context_scale`, see the attr).
// The loss returned is the sum over the batch of
//   -log sigmoid(h . u_t) - sum_j log sigmoid(-h . u_{n_j}),
// computed with each u before its update.

#define EIGEN_USE_THREADS

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/resource_var.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/kernels/training_op_helpers.h"
#include "tensorflow/core/util/work_sharder.h"

namespace keras_seq {

using ::tensorflow::DEVICE_CPU;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using CPUDevice = Eigen::ThreadPoolDevice;

REGISTER_OP("KerasSeqWord2VecSgd")
    .Input("embeddings: resource")
    .Input("context_embeddings: resource")
    .Input("inputs: int32")
    .Input("targets: int32")
    .Input("negatives: int32")
    .Input("keep: float")
    .Input("alias: int32")
    .Input("learning_rate: float")
    .Input("seed: int64")
    .Output("loss: double")
    .Output("count: int64")
    .Attr("negative: int >= 0")
    .Attr("cbow_mean: bool = true")
    .Attr("context_scale: {'gradient', 'word2vec'} = 'gradient'")
    .Attr("threads: int >= 0 = 0")
    .SetIsStateful()
    .SetShapeFn([](::tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Scalar());
      c->set_output(1, c->Scalar());
      return absl::OkStatus();
    })
    .Doc(R"doc(
word2vec's per-example SGD with negative sampling, in place.

embeddings: (vocabulary, dim) float32 input vectors.
context_embeddings: (vocabulary, dim) float32 output vectors.
inputs: (examples,) centre ids (skip-gram) or (examples, slots) context ids
  padded with -1 (CBOW).
targets: (examples,) ids to predict; -1 marks padding (no update).
negatives: (examples, negative) ids, or an empty tensor to draw them.
keep, alias: (vocabulary,) alias table of the negative-sampling distribution
  (KerasSeqWord2VecAliasTable).
learning_rate: scalar rate per example.
seed: scalar seed of the negative draws.
loss: sum of the examples' losses.
count: number of examples (targets >= 0).
)doc");

REGISTER_OP("KerasSeqWord2VecAliasTable")
    .Input("weights: double")
    .Output("keep: float")
    .Output("alias: int32")
    .SetShapeFn([](::tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(0));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Walker's alias table (Vose's construction) of the distribution `weights`.
)doc");

REGISTER_OP("KerasSeqWord2VecNegatives")
    .Input("keep: float")
    .Input("alias: int32")
    .Input("count: int64")
    .Input("seed: int64")
    .Output("ids: int32")
    .SetIsStateful()
    .SetShapeFn([](::tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Vector(c->UnknownDim()));
      return absl::OkStatus();
    })
    .Doc(R"doc(
`count` ids drawn from the alias table with the draws of the SGD op.
)doc");

namespace {

// splitmix64: a small, fast generator; each thread seeds its own.
struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }
};

// Walker's alias method: a draw is one uniform index `i`, kept with
// probability `keep[i]`, else replaced by `alias[i]` (O(1) per draw).
struct AliasTable {
  const float* keep;
  const int32_t* alias;
  uint64_t size;
  int32_t Draw(Random* random) const {
    const uint64_t bits = random->Next();
    const uint64_t index = (bits >> 32) * size >> 32;  // uniform in [0, size)
    const float u = (bits & 0xffffffULL) * (1.0f / 16777216.0f);
    return u < keep[index] ? static_cast<int32_t>(index) : alias[index];
  }
};

// sigmoid(x), from one exp, which also gives the example's likelihood term:
// sigmoid(x) for the target, sigmoid(-x) for a negative, multiplied into
// `likelihood`, so that the example's loss is one log, -log(likelihood),
// instead of one per score. A term below 1e-30 goes to `loss` as its own
// -log (never 0 in the product, which then stays >= 1e-30^(negative+1)).
inline float SigmoidAndLikelihood(float x, bool positive, double* likelihood,
                                  double* loss) {
  const float e = std::exp(-std::fabs(x));  // in [0, 1]
  const float large = 1.0f / (1.0f + e);     // sigmoid(|x|)
  const float small = e * large;             // sigmoid(-|x|)
  if ((x >= 0) == positive) {
    *likelihood *= large;
  } else if (small > 1e-30f) {
    *likelihood *= small;
  } else {
    *loss += std::fabs(x) + std::log1p(static_cast<double>(e));
  }
  return x >= 0 ? large : small;
}

inline void Prefetch(const float* row, int64_t dim) {
  const char* bytes = reinterpret_cast<const char*>(row);
  for (int64_t offset = 0; offset < dim * 4; offset += 64) {
    __builtin_prefetch(bytes + offset, 1, 3);
  }
}

inline float Dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

inline void Axpy(float alpha, const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

absl::Status CheckAlias(const Tensor& keep, const Tensor& alias,
                        int64_t vocabulary) {
  if (keep.dims() != 1 || keep.dim_size(0) != vocabulary ||
      alias.shape() != keep.shape() || vocabulary == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "`keep` and `alias` must have shape (", vocabulary,
        ",), one entry per word; got ", keep.shape().DebugString(), " and ",
        alias.shape().DebugString()));
  }
  auto ids = alias.flat<int32_t>();
  for (int64_t i = 0; i < vocabulary; ++i) {
    if (ids(i) < 0 || ids(i) >= vocabulary) {
      return absl::InvalidArgumentError(
          absl::StrCat("alias id ", ids(i), " is outside [0, ", vocabulary, ")"));
    }
  }
  return absl::OkStatus();
}

AliasTable MakeAliasTable(const Tensor& keep, const Tensor& alias) {
  return AliasTable{keep.flat<float>().data(), alias.flat<int32_t>().data(),
                    static_cast<uint64_t>(keep.NumElements())};
}

class Word2VecAliasTableOp : public OpKernel {
 public:
  explicit Word2VecAliasTableOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& weights = context->input(0);
    OP_REQUIRES(context, weights.dims() == 1 && weights.NumElements() > 0,
                absl::InvalidArgumentError(absl::StrCat(
                    "`weights` must be a non-empty vector; got shape ",
                    weights.shape().DebugString())));
    const int64_t n = weights.NumElements();
    auto w = weights.flat<double>();
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      OP_REQUIRES(context, w(i) >= 0 && std::isfinite(w(i)),
                  absl::InvalidArgumentError(
                      absl::StrCat("weight ", i, " is ", w(i), ", not >= 0")));
      total += w(i);
    }
    OP_REQUIRES(context, total > 0,
                absl::InvalidArgumentError("`weights` must not all be 0."));
    Tensor *keep = nullptr, *alias = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, weights.shape(), &keep));
    OP_REQUIRES_OK(context, context->allocate_output(1, weights.shape(), &alias));
    auto keep_flat = keep->flat<float>();
    auto alias_flat = alias->flat<int32_t>();
    // Vose: scaled probabilities n * p_i; "small" ones (< 1) are topped up
    // from "large" ones.
    std::vector<double> scaled(n);
    std::vector<int64_t> small, large;
    for (int64_t i = 0; i < n; ++i) {
      scaled[i] = w(i) * n / total;
      (scaled[i] < 1.0 ? small : large).push_back(i);
    }
    while (!small.empty() && !large.empty()) {
      const int64_t s = small.back(), l = large.back();
      small.pop_back();
      keep_flat(s) = static_cast<float>(scaled[s]);
      alias_flat(s) = static_cast<int32_t>(l);
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    // What remains has probability 1 up to rounding.
    for (int64_t i : large) keep_flat(i) = 1.0f, alias_flat(i) = i;
    for (int64_t i : small) keep_flat(i) = 1.0f, alias_flat(i) = i;
  }
};

class Word2VecNegativesOp : public OpKernel {
 public:
  explicit Word2VecNegativesOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& keep = context->input(0);
    const Tensor& alias = context->input(1);
    OP_REQUIRES_OK(context, CheckAlias(keep, alias, keep.NumElements()));
    const AliasTable table = MakeAliasTable(keep, alias);
    const int64_t count = context->input(2).scalar<int64_t>()();
    OP_REQUIRES(context, count >= 0,
                absl::InvalidArgumentError("`count` must be >= 0."));
    Random random(static_cast<uint64_t>(context->input(3).scalar<int64_t>()()));
    Tensor* ids = nullptr;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, TensorShape({count}), &ids));
    auto flat = ids->flat<int32_t>();
    for (int64_t i = 0; i < count; ++i) {
      flat(i) = table.Draw(&random);
    }
  }
};

class Word2VecSgdOp : public OpKernel {
 public:
  explicit Word2VecSgdOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("negative", &negative_));
    OP_REQUIRES_OK(context, context->GetAttr("cbow_mean", &cbow_mean_));
    std::string scale;
    OP_REQUIRES_OK(context, context->GetAttr("context_scale", &scale));
    word2vec_scale_ = scale == "word2vec";
    OP_REQUIRES_OK(context, context->GetAttr("threads", &threads_));
  }

  void Compute(OpKernelContext* context) override {
    // A shared lock and the variables' buffers updated in place, as
    // TensorFlow's sparse apply ops do without `use_locking`.
    auto locks = tensorflow::MaybeLockVariableInputMutexesInOrder<CPUDevice, float>(
        context, /*do_lock=*/false, /*sparse=*/true, {0, 1});
    Tensor embeddings, context_embeddings;
    OP_REQUIRES_OK(context, tensorflow::GetInputTensorFromVariable<CPUDevice, float>(
                                context, 0, false, true, &embeddings));
    OP_REQUIRES_OK(context, tensorflow::GetInputTensorFromVariable<CPUDevice, float>(
                                context, 1, false, true, &context_embeddings));
    OP_REQUIRES(context,
                embeddings.dtype() == tensorflow::DT_FLOAT &&
                    context_embeddings.dtype() == tensorflow::DT_FLOAT &&
                    embeddings.dims() == 2 &&
                    embeddings.shape() == context_embeddings.shape(),
                absl::InvalidArgumentError(absl::StrCat(
                    "The two tables must be float32 of one shape (vocabulary, "
                    "dim); got ",
                    embeddings.shape().DebugString(), " and ",
                    context_embeddings.shape().DebugString())));
    const int64_t vocabulary = embeddings.dim_size(0);
    const int64_t dim = embeddings.dim_size(1);

    const Tensor& inputs = context->input(2);
    const Tensor& targets = context->input(3);
    const Tensor& negatives = context->input(4);
    const Tensor& keep = context->input(5);
    const Tensor& alias = context->input(6);
    OP_REQUIRES(context, targets.dims() == 1,
                absl::InvalidArgumentError(absl::StrCat(
                    "`targets` must have rank 1 (examples,); got shape ",
                    targets.shape().DebugString())));
    const int64_t examples = targets.dim_size(0);
    OP_REQUIRES(
        context,
        (inputs.dims() == 1 || inputs.dims() == 2) &&
            inputs.dim_size(0) == examples,
        absl::InvalidArgumentError(absl::StrCat(
            "`inputs` must be (examples,) centre ids or (examples, slots) "
            "context ids with examples = ",
            examples, "; got shape ", inputs.shape().DebugString())));
    const bool draw = negatives.NumElements() == 0;
    OP_REQUIRES(context,
                draw || (negatives.dims() == 2 &&
                         negatives.dim_size(0) == examples &&
                         negatives.dim_size(1) == negative_),
                absl::InvalidArgumentError(absl::StrCat(
                    "`negatives` must be empty or (", examples, ", ", negative_,
                    "); got shape ", negatives.shape().DebugString())));
    if (draw) OP_REQUIRES_OK(context, CheckAlias(keep, alias, vocabulary));
    const float rate = context->input(7).scalar<float>()();
    const uint64_t seed =
        static_cast<uint64_t>(context->input(8).scalar<int64_t>()());

    // Every id must index the tables: checked up front, so that no row is
    // touched when one is bad.
    const int64_t slots = inputs.dims() == 2 ? inputs.dim_size(1) : 1;
    const int32_t* input_ids = inputs.flat<int32_t>().data();
    const int32_t* target_ids = targets.flat<int32_t>().data();
    const int32_t* negative_ids = draw ? nullptr : negatives.flat<int32_t>().data();
    for (int64_t i = 0; i < examples; ++i) {
      OP_REQUIRES(context, target_ids[i] >= -1 && target_ids[i] < vocabulary,
                  absl::InvalidArgumentError(absl::StrCat(
                      "target id ", target_ids[i], " is outside [0, ", vocabulary,
                      ") (-1 marks padding)")));
      for (int64_t s = 0; s < slots; ++s) {
        const int32_t id = input_ids[i * slots + s];
        const bool padding_allowed = inputs.dims() == 2;
        OP_REQUIRES(context,
                    id < vocabulary && (id >= 0 || (padding_allowed && id == -1)),
                    absl::InvalidArgumentError(absl::StrCat(
                        "input id ", id, " is outside [0, ", vocabulary, ")")));
      }
      for (int64_t k = 0; !draw && k < negative_; ++k) {
        const int32_t id = negative_ids[i * negative_ + k];
        OP_REQUIRES(context, id >= 0 && id < vocabulary,
                    absl::InvalidArgumentError(absl::StrCat(
                        "negative id ", id, " is outside [0, ", vocabulary, ")")));
      }
    }

    float* input_table = embeddings.flat<float>().data();
    float* output_table = context_embeddings.flat<float>().data();
    const AliasTable table =
        draw ? MakeAliasTable(keep, alias) : AliasTable{nullptr, nullptr, 0};

    auto* workers = context->device()->tensorflow_cpu_worker_threads();
    const int parallelism = threads_ > 0 ? threads_ : workers->num_threads;
    const int64_t shards = std::max<int64_t>(
        1, std::min<int64_t>(parallelism, (examples + 255) / 256));
    std::vector<double> losses(shards, 0.0);
    std::vector<int64_t> counts(shards, 0);
    const int64_t per_shard = (examples + shards - 1) / shards;

    auto work = [&](int64_t first_shard, int64_t last_shard) {
      std::vector<float> hidden(dim), error(dim);
      std::vector<int32_t> current(negative_), upcoming(negative_);
      for (int64_t shard = first_shard; shard < last_shard; ++shard) {
        Random random(seed * 0x100000001b3ULL + shard + 1);
        // The negatives of example i, drawn one example ahead so that their
        // rows can be fetched into the cache while the example before runs.
        auto negatives_of = [&](int64_t i, int32_t* out) {
          for (int64_t k = 0; k < negative_; ++k) {
            out[k] = draw ? table.Draw(&random) : negative_ids[i * negative_ + k];
          }
        };
        auto prefetch = [&](int64_t i, const int32_t* negatives_i) {
          for (int64_t s = 0; s < slots; ++s) {
            if (input_ids[i * slots + s] >= 0) {
              Prefetch(input_table + input_ids[i * slots + s] * dim, dim);
            }
          }
          if (target_ids[i] >= 0) Prefetch(output_table + target_ids[i] * dim, dim);
          for (int64_t k = 0; k < negative_; ++k) {
            Prefetch(output_table + static_cast<int64_t>(negatives_i[k]) * dim, dim);
          }
        };
        double loss = 0.0;
        int64_t count = 0;
        const int64_t begin = shard * per_shard;
        const int64_t end = std::min(examples, (shard + 1) * per_shard);
        if (begin < end) negatives_of(begin, current.data());
        for (int64_t i = begin; i < end; ++i) {
          if (i + 1 < end) {
            negatives_of(i + 1, upcoming.data());
            prefetch(i + 1, upcoming.data());
          }
          const int32_t target = target_ids[i];
          const int32_t* rows = input_ids + i * slots;
          int64_t real = 0;
          if (target >= 0) {
            // The hidden vector: the centre's row, or the mean/sum of the
            // context rows.
            std::fill(hidden.begin(), hidden.end(), 0.0f);
            for (int64_t s = 0; s < slots; ++s) {
              if (rows[s] < 0) continue;
              Axpy(1.0f, input_table + rows[s] * dim, hidden.data(), dim);
              ++real;
            }
          }
          if (real > 0) {
            ++count;
            float input_scale = 1.0f;  // what each input row gets of `error`
            if (inputs.dims() == 2) {
              if (cbow_mean_) {
                const float inverse = 1.0f / real;
                for (int64_t d = 0; d < dim; ++d) hidden[d] *= inverse;
                input_scale = word2vec_scale_ ? 1.0f : inverse;
              } else {
                input_scale = word2vec_scale_ ? 1.0f / real : 1.0f;
              }
            }
            std::fill(error.begin(), error.end(), 0.0f);
            double likelihood = 1.0;
            for (int64_t k = 0; k <= negative_; ++k) {
              const int32_t word = k == 0 ? target : current[k - 1];
              if (k > 0 && word == target) continue;
              float* output = output_table + static_cast<int64_t>(word) * dim;
              const float f = Dot(hidden.data(), output, dim);
              const float sigmoid =
                  SigmoidAndLikelihood(f, k == 0, &likelihood, &loss);
              const float g = rate * ((k == 0 ? 1.0f : 0.0f) - sigmoid);
              Axpy(g, output, error.data(), dim);
              Axpy(g, hidden.data(), output, dim);
            }
            loss -= std::log(likelihood);
            for (int64_t s = 0; s < slots; ++s) {
              if (rows[s] < 0) continue;
              Axpy(input_scale, error.data(), input_table + rows[s] * dim, dim);
            }
          }
          std::swap(current, upcoming);
        }
        losses[shard] = loss;
        counts[shard] = count;
      }
    };
    if (shards == 1) {
      work(0, 1);
    } else {
      // One shard per thread (cost per unit set high so Shard does not merge).
      tensorflow::Shard(parallelism, workers->workers, shards, 1LL << 40, work);
    }
    Tensor* loss = nullptr;
    Tensor* count = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({}), &loss));
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape({}), &count));
    double total = 0.0;
    int64_t number = 0;
    for (int64_t s = 0; s < shards; ++s) {
      total += losses[s];
      number += counts[s];
    }
    loss->scalar<double>()() = total;
    count->scalar<int64_t>()() = number;
  }

 private:
  int negative_;
  bool cbow_mean_;
  bool word2vec_scale_;
  int threads_;
};

REGISTER_KERNEL_BUILDER(Name("KerasSeqWord2VecSgd").Device(DEVICE_CPU),
                        Word2VecSgdOp);
REGISTER_KERNEL_BUILDER(Name("KerasSeqWord2VecNegatives").Device(DEVICE_CPU),
                        Word2VecNegativesOp);
REGISTER_KERNEL_BUILDER(Name("KerasSeqWord2VecAliasTable").Device(DEVICE_CPU),
                        Word2VecAliasTableOp);

}  // namespace
}  // namespace keras_seq
