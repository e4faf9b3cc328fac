// The recurrent time loops on the CPU as TensorFlow ops, forward and
// backward: `KerasSeqLstm` (keras_seq.layers.LSTM: sigmoid gates, tanh,
// optional diagonal peepholes), `KerasSeqGru` (GRU, reset gate after the
// recurrent matmul) and `KerasSeqRnn` (SimpleRNN, tanh), each with its
// `...Grad`. keras_seq/layers/rnn/native_rnn.py builds, loads and calls them
// and registers the gradients; tests/layers/rnn/test_native_rnn.py checks
// them against NumPy, TensorFlow autodiff and the layers' compiled loops.
//
// Shapes: inputs x (T, B, I), time-major; h0 (B, H); a cell of G gates has
// kernel W (I, G H) and recurrent kernel U (H, G H), gate blocks side by side
// as in Keras. The LSTM (G = 4, gates i, f, g, o; peepholes P (3, H), rows
// i, f, o, or (0, H) for none; c0 (B, H)), for each step:
//   z = x_t W + b + h_{t-1} U
//   i = sigmoid(z_i + p_i * c_{t-1}),  f = sigmoid(z_f + p_f * c_{t-1})
//   g = tanh(z_g),  c_t = f * c_{t-1} + i * g
//   o = sigmoid(z_o + p_o * c_t),  h_t = o * tanh(c_t)
// The GRU's and SimpleRNN's equations are above their classes.
//
// Why ops of their own: under XLA on a CPU each step's matmuls run on one
// core. Here the units are split between `threads` workers; worker k owns
// units [k H / n, (k + 1) H / n) of every gate, computes their gate columns
// (its own packed slice of W and U, so its matmuls are contiguous) and its
// part of h_t, then waits at a barrier until every worker has written its
// part, which all of them read in the next step. The backward loops split
// the same way: each worker computes the gate gradients of its units and
// its columns of dW, dU and db; after a barrier each computes its units of
// dh_{t-1} = dz U^T. The gradient ops return the input side's gate
// gradients d_pre, (T, B, G H); the caller computes dx = d_pre W^T.

#define EIGEN_USE_THREADS

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "Eigen/Core"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/platform/blocking_counter.h"

namespace keras_seq {

using ::tensorflow::DEVICE_CPU;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::errors::InvalidArgument;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

using Matrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<Matrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using ConstMap =
    Eigen::Map<const Matrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using Row = Eigen::Array<float, 1, Eigen::Dynamic>;
// Row-major like the matrices: a column-major array would transpose at
// every assignment.
using Array =
    Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Shape functions. A forward op's `h` is (T, B, H); `h_last` (and the
// LSTM's `c_last`) the state after the last step, (B, H); what it saves for
// the gradient is (T, B, width), or (0, B, width) with `save_gates` false.
absl::Status ForwardShapes(InferenceContext* c, int h0_input,
                           std::vector<int> saved_outputs, int last_outputs) {
  ShapeHandle x, h0;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &x));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(h0_input), 2, &h0));
  DimensionHandle units = c->Dim(h0, 1);
  c->set_output(0, c->MakeShape({c->Dim(x, 0), c->Dim(x, 1), units}));
  bool save = true;
  if (!saved_outputs.empty()) {
    TF_RETURN_IF_ERROR(c->GetAttr("save_gates", &save));
  }
  int next = 1;
  for (int width : saved_outputs) {
    DimensionHandle w = units;
    if (width > 1) TF_RETURN_IF_ERROR(c->Multiply(units, width, &w));
    c->set_output(next++, c->MakeShape({save ? c->Dim(x, 0) : c->MakeDim(0),
                                        c->Dim(x, 1), w}));
  }
  for (int k = 0; k < last_outputs; ++k) c->set_output(next++, h0);
  return absl::OkStatus();
}

// A gradient op's outputs: d_pre (T, B, gates * H), the gradient of each
// step's pre-activations on the input side (the caller computes
// dx = d_pre W^T, which graph pruning drops when x needs no gradient), then
// the gradients of the inputs listed in `like` (same shapes), with vectors
// of gates * H for the biases (-1).
absl::Status GradShapes(InferenceContext* c, std::vector<int> like) {
  ShapeHandle x, kernel;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &x));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 2, &kernel));
  c->set_output(0, c->MakeShape({c->Dim(x, 0), c->Dim(x, 1), c->Dim(kernel, 1)}));
  int next = 1;
  for (int input : like) {
    c->set_output(next++, input >= 0 ? c->input(input) : c->Vector(c->Dim(kernel, 1)));
  }
  return absl::OkStatus();
}

REGISTER_OP("KerasSeqLstm")
    .Input("inputs: float")
    .Input("kernel: float")
    .Input("bias: float")
    .Input("recurrent_kernel: float")
    .Input("peepholes: float")
    .Input("h0: float")
    .Input("c0: float")
    .Attr("save_gates: bool = true")
    .Attr("threads: int = 0")
    .Output("h: float")
    .Output("c: float")
    .Output("gates: float")
    .Output("h_last: float")
    .Output("c_last: float")
    .SetShapeFn([](InferenceContext* c) {
      return ForwardShapes(c, 5, {1, 4}, 2);
    });

// `dh` is the gradient of every step's h, (T, B, H), or (0, B, H) for
// none; `dh_last`, `dc_last` those of `h_last`, `c_last`.
REGISTER_OP("KerasSeqLstmGrad")
    .Input("inputs: float")
    .Input("kernel: float")
    .Input("recurrent_kernel: float")
    .Input("peepholes: float")
    .Input("h0: float")
    .Input("c0: float")
    .Input("h: float")
    .Input("c: float")
    .Input("gates: float")
    .Input("dh: float")
    .Input("dh_last: float")
    .Input("dc_last: float")
    .Attr("threads: int = 0")
    .Output("d_pre: float")
    .Output("d_kernel: float")
    .Output("d_bias: float")
    .Output("d_recurrent_kernel: float")
    .Output("d_peepholes: float")
    .Output("d_h0: float")
    .Output("d_c0: float")
    .SetShapeFn([](InferenceContext* c) {
      return GradShapes(c, {1, -1, 2, 3, 4, 5});
    });

REGISTER_OP("KerasSeqGru")
    .Input("inputs: float")
    .Input("kernel: float")
    .Input("input_bias: float")
    .Input("recurrent_kernel: float")
    .Input("recurrent_bias: float")
    .Input("h0: float")
    .Attr("save_gates: bool = true")
    .Attr("threads: int = 0")
    .Output("h: float")
    .Output("saved: float")
    .Output("h_last: float")
    .SetShapeFn([](InferenceContext* c) {
      return ForwardShapes(c, 5, {4}, 1);
    });

REGISTER_OP("KerasSeqGruGrad")
    .Input("inputs: float")
    .Input("kernel: float")
    .Input("recurrent_kernel: float")
    .Input("h0: float")
    .Input("h: float")
    .Input("saved: float")
    .Input("dh: float")
    .Input("dh_last: float")
    .Attr("threads: int = 0")
    .Output("d_pre: float")
    .Output("d_kernel: float")
    .Output("d_input_bias: float")
    .Output("d_recurrent_kernel: float")
    .Output("d_recurrent_bias: float")
    .Output("d_h0: float")
    .SetShapeFn([](InferenceContext* c) {
      return GradShapes(c, {1, -1, 2, -1, 3});
    });

REGISTER_OP("KerasSeqRnn")
    .Input("inputs: float")
    .Input("kernel: float")
    .Input("bias: float")
    .Input("recurrent_kernel: float")
    .Input("h0: float")
    .Attr("threads: int = 0")
    .Output("h: float")
    .Output("h_last: float")
    .SetShapeFn([](InferenceContext* c) {
      return ForwardShapes(c, 4, {}, 1);
    });

REGISTER_OP("KerasSeqRnnGrad")
    .Input("inputs: float")
    .Input("kernel: float")
    .Input("recurrent_kernel: float")
    .Input("h0: float")
    .Input("h: float")
    .Input("dh: float")
    .Input("dh_last: float")
    .Attr("threads: int = 0")
    .Output("d_pre: float")
    .Output("d_kernel: float")
    .Output("d_bias: float")
    .Output("d_recurrent_kernel: float")
    .Output("d_h0: float")
    .SetShapeFn([](InferenceContext* c) {
      return GradShapes(c, {1, -1, 2, 3});
    });

// Workers that meet after every step. Spins (the steps take microseconds),
// then yields, so that a worker descheduled by the OS does not stall the
// others' cores for long.
class Barrier {
 public:
  explicit Barrier(int count) : count_(count) {}

  void Wait() {
    if (count_ == 1) return;
    const int generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == count_ - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      return;
    }
    for (int spin = 0; generation_.load(std::memory_order_acquire) == generation;
         ++spin) {
      if (spin < 20000) {
        __builtin_ia32_pause();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  const int count_;
  std::atomic<int> arrived_{0};
  std::atomic<int> generation_{0};
};


// How many workers split `units` units for a step of `flops` operations.
int Workers(OpKernelContext* context, int requested, int units, double flops) {
  const int pool =
      context->device()->tensorflow_cpu_worker_threads()->num_threads;
  int count = requested > 0 ? requested : pool;
  // A step under ~2 MFLOP takes less than the barrier's risk of a worker
  // descheduled mid-sequence (batch 1 serving): one worker. With two
  // workers at batch 1, next to other busy threads (PyTorch's OpenMP
  // workers spin after their work), an LSTM(256) forward pass over 50 steps
  // took 3 to 4 times as long.
  if (requested <= 0 && flops < 2e6) count = 1;
  // At least 16 units each, so that the packed slices stay wide. Every
  // worker must run at once (the others wait for it at each step): worker 0
  // is the calling thread, each other one takes a thread of the pool. By
  // default no more workers than the pool's threads, which holds whether or
  // not the calling thread is one of them; a count asked for (`threads`)
  // may add the calling thread where it is not (a test's eager call, next
  // to a pool of one thread).
  auto* workers = context->device()->tensorflow_cpu_worker_threads()->workers;
  const bool caller_outside = workers->CurrentThreadId() < 0;
  const int most = requested > 0 && caller_outside ? pool + 1 : pool;
  count = std::max(1, std::min({count, units / 16, most}));
  return count;
}

// Held by the op running on several workers. Two ops at once (the two
// directions of a Bidirectional layer, which the graph executor runs in
// parallel) would put three or four spinning workers on the cores: a second
// op waits, asleep, for the first to finish and then takes the workers.
// A forward pass of Bidirectional(LSTM(256)) at batch 64 x 100 steps took
// 47 ms so, 69 ms with the second op on one thread beside the first, and
// 57 ms as two XLA loops side by side (one core each). After 200 ms a waiting op runs
// on one thread beside the first, so that an op never waits for one that
// waits for it.
std::timed_mutex several_workers;

// The workers for a step of `flops` operations (`Workers`), holding
// `several_workers` when there are more than one.
class Team {
 public:
  Team(OpKernelContext* context, int requested, int units, double flops)
      : lock_(several_workers, std::defer_lock) {
    count_ = Workers(context, requested, units, flops);
    if (count_ > 1 && !lock_.try_lock_for(std::chrono::milliseconds(200))) {
      count_ = 1;
    }
  }
  int count() const { return count_; }

 private:
  std::unique_lock<std::timed_mutex> lock_;
  int count_;
};

// Runs `work(k)` for k in [0, count): k = 0 on the calling thread, the others
// on the intra-op thread pool.
void RunWorkers(OpKernelContext* context, int count,
                const std::function<void(int)>& work) {
  if (count == 1) {
    work(0);
    return;
  }
  auto* pool = context->device()->tensorflow_cpu_worker_threads()->workers;
  tensorflow::BlockingCounter done(count - 1);
  for (int k = 1; k < count; ++k) {
    pool->Schedule([&work, &done, k] {
      work(k);
      done.DecrementCount();
    });
  }
  work(0);
  done.Wait();
}

struct Slice {
  int begin;
  int size;
};

Slice UnitsOf(int k, int count, int units) {
  const int begin = static_cast<int>(static_cast<int64_t>(units) * k / count);
  const int end = static_cast<int>(static_cast<int64_t>(units) * (k + 1) / count);
  return {begin, end - begin};
}

// Columns [gate * units + begin, + size) of each of the `gates` gates of
// `full` (rows, gates * units), side by side: (rows, gates * size).
Matrix Pack(const ConstMap& full, int units, Slice s, int gates) {
  Matrix packed(full.rows(), gates * s.size);
  for (int gate = 0; gate < gates; ++gate) {
    packed.middleCols(gate * s.size, s.size) =
        full.middleCols(gate * units + s.begin, s.size);
  }
  return packed;
}

// The same slices of a (gates * units) vector.
Row PackRow(const float* full, int units, Slice s, int gates) {
  Row packed(gates * s.size);
  for (int gate = 0; gate < gates; ++gate) {
    packed.segment(gate * s.size, s.size) =
        Eigen::Map<const Row>(full + gate * units + s.begin, s.size);
  }
  return packed;
}

// Writes the packed (rows, gates * size) `part` back into its columns of
// `full` (rows, gates * units).
template <typename Part>
void Unpack(const Part& part, int units, Slice s, int gates, Map full) {
  for (int gate = 0; gate < gates; ++gate) {
    full.middleCols(gate * units + s.begin, s.size) =
        part.middleCols(gate * s.size, s.size);
  }
}

// Small batches take the weight gradients after the loop, as matmuls over
// all steps: per step, `x_t^T dz_t` with a few rows would read and write all
// of dW and dU at every step. Large batches accumulate them step by step,
// on blocks still in cache.
inline bool WeightGradientsAfterLoop(int64_t batch) { return batch < 16; }

// A worker's columns of `d_side` (rows, gates * units) = `inputs^T d`, and of
// `d_bias` their sums, from the stacked step gradients `d` (T * B rows of
// `width`): `inputs` is X (T * B, I) for the kernel; for the recurrent
// kernel, the previous states: h0 (B, H) for step 0, then h_0 .. h_{T-2}.
void SideGradients(const float* first, const float* rest, int64_t T, int64_t B,
                   int64_t features, const float* d, int64_t width, int units,
                   Slice s, int gates, float* d_side, float* d_bias) {
  for (int gate = 0; gate < gates; ++gate) {
    const int64_t column = gate * units + s.begin;
    const ConstMap d_gate(d + column, T * B, s.size, Eigen::OuterStride<>(width));
    Map out(d_side + column, features, s.size, Eigen::OuterStride<>(width));
    if (rest == nullptr) {  // the kernel: `first` is X, all T * B rows
      out.noalias() =
          ConstMap(first, T * B, features, Eigen::OuterStride<>(features))
              .transpose() *
          d_gate;
    } else {
      out.noalias() =
          ConstMap(first, B, features, Eigen::OuterStride<>(features))
              .transpose() *
          d_gate.topRows(B);
      if (T > 1) {
        out.noalias() +=
            ConstMap(rest, (T - 1) * B, features, Eigen::OuterStride<>(features))
                .transpose() *
            d_gate.bottomRows((T - 1) * B);
      }
    }
    Eigen::Map<Row>(d_bias + column, s.size) = d_gate.colwise().sum().array();
  }
}

ConstMap Const2d(const Matrix& m) {
  return ConstMap(m.data(), m.rows(), m.cols(), Eigen::OuterStride<>(m.cols()));
}

ConstMap Const2d(const Tensor& t, int64_t rows, int64_t cols) {
  return ConstMap(t.flat<float>().data(), rows, cols, Eigen::OuterStride<>(cols));
}

Map Mutable2d(Tensor* t, int64_t rows, int64_t cols) {
  return Map(t->flat<float>().data(), rows, cols, Eigen::OuterStride<>(cols));
}

// `weights` (depth, width), row-major, packed once for Eigen's matrix
// product kernel (gebp), for the products `a * weights` of every step. An
// Eigen product `a * weights` packs the weights again at each call: at batch
// 64, a step's 64 x 384 by 384 x 512 product of an LSTM(256) worker spent
// about a sixth of its time there. The depth is cut in Eigen's own blocks,
// so that the sums are Eigen's. Built with KERAS_SEQ_PORTABLE (for an Eigen
// whose internal kernels differ from these), it keeps the weights and takes
// Eigen's product.
class PackedWeights {
 public:
  // `rows`: the rows of the products' `a`, for Eigen's choice of blocks.
  PackedWeights(const ConstMap& weights, Eigen::Index rows)
      : depth_(weights.rows()), width_(weights.cols()) {
#ifdef KERAS_SEQ_PORTABLE
    weights_ = weights;
#else
    Eigen::Index kc = depth_, mc = width_, nc = rows;
    Eigen::internal::computeProductBlockingSizes<float, float>(
        kc, mc, nc, Eigen::Index{1});
    block_ = std::max<Eigen::Index>(1, kc);
    // The kernel reads each packed block with aligned loads: every block
    // starts on a multiple of Eigen's largest alignment.
    constexpr Eigen::Index kAlign =
        std::max<Eigen::Index>(1, EIGEN_MAX_ALIGN_BYTES / sizeof(float));
    stride_ = (block_ * width_ + kAlign - 1) / kAlign * kAlign;
    packed_.resize(((depth_ + block_ - 1) / block_) * stride_);
    // As Eigen sees it: lhs = weights^T, (width, depth) column-major.
    const LhsMapper lhs(weights.data(), weights.outerStride());
    PackLhs pack;
    for (Eigen::Index k = 0; k < depth_; k += block_) {
      const Eigen::Index size = std::min(block_, depth_ - k);
      pack(packed_.data() + Offset(k), lhs.getSubMapper(0, k), size, width_);
    }
#endif
  }

  // out (rows, width; row stride `out_stride`) += a (rows, depth; row
  // stride `a_stride`) * weights.
  void AddProduct(const float* a, Eigen::Index a_stride, Eigen::Index rows,
                  float* out, Eigen::Index out_stride) const {
#ifdef KERAS_SEQ_PORTABLE
    Map(out, rows, width_, Eigen::OuterStride<>(out_stride)).noalias() +=
        ConstMap(a, rows, depth_, Eigen::OuterStride<>(a_stride)) * weights_;
#else
    rhs_.resize(std::min(block_, depth_) * rows);
    const RhsMapper rhs(a, a_stride);
    const ResMapper res(out, out_stride);
    PackRhs pack;
    Gebp gebp;
    for (Eigen::Index k = 0; k < depth_; k += block_) {
      const Eigen::Index size = std::min(block_, depth_ - k);
      pack(rhs_.data(), rhs.getSubMapper(k, 0), size, rows);
      gebp(res, packed_.data() + Offset(k), rhs_.data(), width_, size, rows,
           1.0f);
    }
#endif
  }

 private:
  Eigen::Index depth_, width_;
#ifdef KERAS_SEQ_PORTABLE
  Matrix weights_;
#else
  using Traits = Eigen::internal::gebp_traits<float, float>;
  using LhsMapper =
      Eigen::internal::const_blas_data_mapper<float, Eigen::Index, Eigen::ColMajor>;
  using RhsMapper = LhsMapper;
  using ResMapper = Eigen::internal::blas_data_mapper<float, Eigen::Index,
                                                      Eigen::ColMajor>;
  using PackLhs = Eigen::internal::gemm_pack_lhs<
      float, Eigen::Index, LhsMapper, Traits::mr, Traits::LhsProgress,
      Traits::LhsPacket4Packing, Eigen::ColMajor>;
  using PackRhs = Eigen::internal::gemm_pack_rhs<float, Eigen::Index, RhsMapper,
                                                 Traits::nr, Eigen::ColMajor>;
  using Gebp = Eigen::internal::gebp_kernel<float, float, Eigen::Index, ResMapper,
                                            Traits::mr, Traits::nr>;
  // Where the packed block of the weights' rows [k, k + block_) starts.
  Eigen::Index Offset(Eigen::Index k) const { return k / block_ * stride_; }

  Eigen::Index block_, stride_;
  Eigen::VectorXf packed_;
  mutable Eigen::VectorXf rhs_;  // a's block, packed at each product
#endif
};

// What a forward worker reads of the kernels: its slices of W and U (as
// they are for one worker, packed for several) and x_t W + b for its
// columns. Small batches (serving) project the inputs of all steps in one
// matmul before the loop: a step's x_t W would read all of W for a few
// rows. Large ones project step by step, so that the projections
// (T * B * gates * units floats) need not come back from memory.
class WorkerInputs {
 public:
  WorkerInputs(const Tensor& x, const ConstMap& W, const ConstMap& U,
               const float* bias, int units, Slice s, int gates, int count)
      : W_packed_(count > 1 ? Pack(W, units, s, gates) : Matrix()),
        U_packed_(count > 1 ? Pack(U, units, s, gates) : Matrix()),
        W_(count > 1 ? Const2d(W_packed_) : W),
        U_(count > 1 ? Const2d(U_packed_) : U),
        bias_(PackRow(bias, units, s, gates)),
        x_(x.flat<float>().data()),
        batch_(x.dim_size(1)),
        features_(x.dim_size(2)) {
    const int64_t rows = x.dim_size(0) * batch_;
    if (rows * gates * s.size <= (1 << 18)) {
      projected_.noalias() = ConstMap(x_, rows, features_,
                                      Eigen::OuterStride<>(features_)) * W_;
      projected_.rowwise() += bias_.matrix();
    }
    if (batch_ >= kPackedBatch) {
      if (projected_.size() == 0) {
        W_steps_ = std::make_unique<PackedWeights>(W_, batch_);
      }
      U_steps_ = std::make_unique<PackedWeights>(U_, batch_);
    }
  }

  // z = x_t W + b: (B, gates * size).
  void Project(int64_t t, Matrix* z) const {
    if (projected_.size() > 0) {
      *z = projected_.middleRows(t * batch_, batch_);
      return;
    }
    const float* x_t = x_ + t * batch_ * features_;
    if (W_steps_) {
      z->rowwise() = bias_.matrix();
      W_steps_->AddProduct(x_t, features_, batch_, z->data(), z->cols());
      return;
    }
    z->noalias() =
        ConstMap(x_t, batch_, features_, Eigen::OuterStride<>(features_)) * W_;
    z->rowwise() += bias_.matrix();
  }

  // z += h U for this worker's columns: h (B, H) with row stride H.
  void AddRecurrent(const float* h, int64_t H, Matrix* z) const {
    if (U_steps_) {
      U_steps_->AddProduct(h, H, batch_, z->data(), z->cols());
      return;
    }
    z->noalias() += ConstMap(h, batch_, H, Eigen::OuterStride<>(H)) * U_;
  }

 private:
  // From this batch on, the weights are packed once for all steps
  // (`PackedWeights`); a smaller batch's product is a few matrix-vector
  // products, which Eigen runs without packing.
  static constexpr int64_t kPackedBatch = 8;

  Matrix W_packed_, U_packed_, projected_;
  ConstMap W_, U_;
  Row bias_;
  const float* x_;
  int64_t batch_, features_;
  std::unique_ptr<PackedWeights> W_steps_, U_steps_;
};


// Validates the shapes every op reads, for a cell of `gates` gates; sets
// T, B, I, H.
absl::Status CheckCommon(const Tensor& x, const Tensor& kernel,
                         const Tensor& recurrent_kernel, const Tensor& h0,
                         int gates, int64_t* T, int64_t* B, int64_t* I,
                         int64_t* H) {
  if (x.dims() != 3) {
    return InvalidArgument("inputs must be (time, batch, features), got ",
                           x.shape().DebugString());
  }
  *T = x.dim_size(0);
  *B = x.dim_size(1);
  *I = x.dim_size(2);
  if (h0.dims() != 2 || h0.dim_size(0) != *B) {
    return InvalidArgument("h0 must be (batch, units) with batch ", *B, ", got ",
                           h0.shape().DebugString());
  }
  *H = h0.dim_size(1);
  if (kernel.shape() != TensorShape({*I, gates * *H})) {
    return InvalidArgument("kernel must be (features, ", gates,
                           " * units) = (", *I, ", ", gates * *H, "), got ",
                           kernel.shape().DebugString());
  }
  if (recurrent_kernel.shape() != TensorShape({*H, gates * *H})) {
    return InvalidArgument("recurrent_kernel must be (units, ", gates,
                           " * units) = (", *H, ", ", gates * *H, "), got ",
                           recurrent_kernel.shape().DebugString());
  }
  return absl::OkStatus();
}

absl::Status CheckVector(const Tensor& v, const char* name, int64_t size) {
  if (v.shape() != TensorShape({size})) {
    return InvalidArgument(name, " must be (", size, ",), got ",
                           v.shape().DebugString());
  }
  return absl::OkStatus();
}

absl::Status CheckSequence(const Tensor& v, const char* name, int64_t T,
                           int64_t B, int64_t width) {
  if (v.shape() != TensorShape({T, B, width})) {
    return InvalidArgument(name, " must be (", T, ", ", B, ", ", width,
                           "), got ", v.shape().DebugString());
  }
  return absl::OkStatus();
}

// The upstream gradients of a gradient op: `dh` (T, B, H) or (0, B, H)
// for none, `dh_last` (B, H).
absl::Status CheckUpstream(const Tensor& dh, const Tensor& dh_last, int64_t T,
                           int64_t B, int64_t H) {
  if (dh.shape() != TensorShape({T, B, H}) && dh.shape() != TensorShape({0, B, H})) {
    return InvalidArgument("dh must be (", T, ", ", B, ", ", H, ") or (0, ", B,
                           ", ", H, "), got ", dh.shape().DebugString());
  }
  if (dh_last.shape() != TensorShape({B, H})) {
    return InvalidArgument("dh_last must be (", B, ", ", H, "), got ",
                           dh_last.shape().DebugString());
  }
  return absl::OkStatus();
}

// The LSTM's shapes: the common ones, c0 and the peepholes.
absl::Status CheckShapes(const Tensor& x, const Tensor& kernel,
                         const Tensor& recurrent_kernel, const Tensor& peepholes,
                         const Tensor& h0, const Tensor& c0, int64_t* T,
                         int64_t* B, int64_t* I, int64_t* H) {
  TF_RETURN_IF_ERROR(CheckCommon(x, kernel, recurrent_kernel, h0, 4, T, B, I, H));
  if (c0.shape() != h0.shape()) {
    return InvalidArgument("c0 must have the shape of h0, ",
                           h0.shape().DebugString(), ", got ",
                           c0.shape().DebugString());
  }
  if (peepholes.dims() != 2 ||
      (peepholes.dim_size(0) != 3 && peepholes.dim_size(0) != 0) ||
      peepholes.dim_size(1) != *H) {
    return InvalidArgument("peepholes must be (3, units) or (0, units), got ",
                           peepholes.shape().DebugString());
  }
  return absl::OkStatus();
}

class LstmOp : public OpKernel {
 public:
  explicit LstmOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("save_gates", &save_gates_));
    OP_REQUIRES_OK(context, context->GetAttr("threads", &threads_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    const Tensor& kernel = context->input(1);
    const Tensor& bias = context->input(2);
    const Tensor& recurrent_kernel = context->input(3);
    const Tensor& peepholes = context->input(4);
    const Tensor& h0 = context->input(5);
    const Tensor& c0 = context->input(6);
    int64_t T, B, I, H;
    OP_REQUIRES_OK(context, CheckShapes(x, kernel, recurrent_kernel, peepholes,
                                        h0, c0, &T, &B, &I, &H));
    OP_REQUIRES(context, bias.dims() == 1 && bias.dim_size(0) == 4 * H,
                InvalidArgument("bias must be (4 * units,), got ",
                                bias.shape().DebugString()));
    const int64_t kept = save_gates_ ? T : 0;
    Tensor *h_out, *c_out, *gates_out, *h_last, *c_last;
    OP_REQUIRES_OK(context, context->allocate_output(0, {T, B, H}, &h_out));
    OP_REQUIRES_OK(context, context->allocate_output(1, {kept, B, H}, &c_out));
    OP_REQUIRES_OK(context,
                   context->allocate_output(2, {kept, B, 4 * H}, &gates_out));
    OP_REQUIRES_OK(context, context->allocate_output(3, h0.shape(), &h_last));
    OP_REQUIRES_OK(context, context->allocate_output(4, c0.shape(), &c_last));
    // Without a gradient to come, c of two steps: the one read, the one
    // written.
    Tensor c_steps;
    if (!save_gates_) {
      OP_REQUIRES_OK(context, context->allocate_temp(tensorflow::DT_FLOAT,
                                                     {2 * B, H}, &c_steps));
    }
    float* cs = save_gates_ ? c_out->flat<float>().data()
                            : c_steps.flat<float>().data();
    auto c_at = [&](int64_t t) {
      return cs + (save_gates_ ? t : t % 2) * B * H;
    };
    if (T == 0 || B == 0 || H == 0) {
      h_last->flat<float>() = h0.flat<float>();
      c_last->flat<float>() = c0.flat<float>();
      return;
    }

    const bool peep = peepholes.dim_size(0) == 3;
    const auto W = Const2d(kernel, I, 4 * H);
    const auto U = Const2d(recurrent_kernel, H, 4 * H);
    const float* b = bias.flat<float>().data();
    const float* P = peepholes.flat<float>().data();
    float* hs = h_out->flat<float>().data();
    float* gs = save_gates_ ? gates_out->flat<float>().data() : nullptr;

    const Team team(context, threads_, H, 2.0 * B * (I + H) * 4 * H);
    const int count = team.count();
    Barrier barrier(count);

    auto work = [&](int k) {
      const Slice s = UnitsOf(k, count, H);
      const int n = s.size;
      const WorkerInputs in(x, W, U, b, H, s, 4, count);
      Row pi, pf, po;
      if (peep) {
        pi = Eigen::Map<const Row>(P + s.begin, n);
        pf = Eigen::Map<const Row>(P + H + s.begin, n);
        po = Eigen::Map<const Row>(P + 2 * H + s.begin, n);
      }
      Matrix z(B, 4 * n);
      for (int64_t t = 0; t < T; ++t) {
        const float* h_prev_data = t == 0 ? h0.flat<float>().data() : hs + (t - 1) * B * H;
        const float* c_prev_data =
            (t == 0 ? c0.flat<float>().data() : c_at(t - 1)) + s.begin;
        const ConstMap c_prev(c_prev_data, B, n, Eigen::OuterStride<>(H));
        in.Project(t, &z);
        in.AddRecurrent(h_prev_data, H, &z);
        // The gates in place of their pre-activations.
        auto i = z.middleCols(0, n).array();
        auto f = z.middleCols(n, n).array();
        auto g = z.middleCols(2 * n, n).array();
        auto o = z.middleCols(3 * n, n).array();
        if (peep) {
          i += c_prev.array().rowwise() * pi;
          f += c_prev.array().rowwise() * pf;
        }
        i = i.logistic();
        f = f.logistic();
        g = g.tanh();
        Map c_t(c_at(t) + s.begin, B, n, Eigen::OuterStride<>(H));
        c_t.array() = f * c_prev.array() + i * g;
        if (peep) o += c_t.array().rowwise() * po;
        o = o.logistic();
        Map h_t(hs + t * B * H + s.begin, B, n, Eigen::OuterStride<>(H));
        h_t.array() = o * c_t.array().tanh();
        if (gs != nullptr) {
          Unpack(z, H, s, 4,
                 Map(gs + t * B * 4 * H, B, 4 * H, Eigen::OuterStride<>(4 * H)));
        }
        barrier.Wait();
      }
    };
    RunWorkers(context, count, work);
    std::copy_n(hs + (T - 1) * B * H, B * H, h_last->flat<float>().data());
    std::copy_n(c_at(T - 1), B * H, c_last->flat<float>().data());
  }

 private:
  bool save_gates_;
  int threads_;
};

class LstmGradOp : public OpKernel {
 public:
  explicit LstmGradOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("threads", &threads_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    const Tensor& kernel = context->input(1);
    const Tensor& recurrent_kernel = context->input(2);
    const Tensor& peepholes = context->input(3);
    const Tensor& h0 = context->input(4);
    const Tensor& c0 = context->input(5);
    const Tensor& h = context->input(6);
    const Tensor& c = context->input(7);
    const Tensor& gates = context->input(8);
    const Tensor& dh = context->input(9);
    const Tensor& dh_last = context->input(10);
    const Tensor& dc_last = context->input(11);
    int64_t T, B, I, H;
    OP_REQUIRES_OK(context, CheckShapes(x, kernel, recurrent_kernel, peepholes,
                                        h0, c0, &T, &B, &I, &H));
    OP_REQUIRES_OK(context, CheckSequence(h, "h", T, B, H));
    OP_REQUIRES_OK(context, CheckSequence(c, "c", T, B, H));
    OP_REQUIRES_OK(context, CheckSequence(gates, "gates", T, B, 4 * H));
    OP_REQUIRES_OK(context, CheckUpstream(dh, dh_last, T, B, H));
    OP_REQUIRES(context, dc_last.shape() == h0.shape(),
                InvalidArgument("dc_last must be ", h0.shape().DebugString()));
    const bool each_step = dh.dim_size(0) > 0;

    // dz of every step (T, B, 4H): an output, for dx = dz W^T.
    Tensor *dz_out, *dw_out, *db_out, *du_out, *dp_out, *dh0_out, *dc0_out;
    OP_REQUIRES_OK(context, context->allocate_output(0, {T, B, 4 * H}, &dz_out));
    OP_REQUIRES_OK(context, context->allocate_output(1, kernel.shape(), &dw_out));
    OP_REQUIRES_OK(context, context->allocate_output(2, {4 * H}, &db_out));
    OP_REQUIRES_OK(context,
                   context->allocate_output(3, recurrent_kernel.shape(), &du_out));
    OP_REQUIRES_OK(context, context->allocate_output(4, peepholes.shape(), &dp_out));
    OP_REQUIRES_OK(context, context->allocate_output(5, h0.shape(), &dh0_out));
    OP_REQUIRES_OK(context, context->allocate_output(6, c0.shape(), &dc0_out));
    dw_out->flat<float>().setZero();
    db_out->flat<float>().setZero();
    du_out->flat<float>().setZero();
    dp_out->flat<float>().setZero();
    dh0_out->flat<float>().setZero();
    dc0_out->flat<float>().setZero();
    if (T == 0 || B == 0 || H == 0) {
      dh0_out->flat<float>() = dh_last.flat<float>();
      dc0_out->flat<float>() = dc_last.flat<float>();
      return;
    }
    float* dzs = dz_out->flat<float>().data();

    const bool peep = peepholes.dim_size(0) == 3;
    const float* U = recurrent_kernel.flat<float>().data();
    const float* P = peepholes.flat<float>().data();
    const float* xs = x.flat<float>().data();
    const float* hs = h.flat<float>().data();
    const float* cs = c.flat<float>().data();
    const float* gs = gates.flat<float>().data();
    const float* dhs = dh.flat<float>().data();

    const Team team(context, threads_, H, 2.0 * B * (I + 2 * H) * 4 * H);
    const int count = team.count();
    Barrier barrier(count);

    auto work = [&](int k) {
      const Slice s = UnitsOf(k, count, H);
      const int n = s.size;
      Row pi, pf, po;
      if (peep) {
        pi = Eigen::Map<const Row>(P + s.begin, n);
        pf = Eigen::Map<const Row>(P + H + s.begin, n);
        po = Eigen::Map<const Row>(P + 2 * H + s.begin, n);
      }
      Row dpi = Row::Zero(n), dpf = Row::Zero(n), dpo = Row::Zero(n);
      const bool after = WeightGradientsAfterLoop(B);
      Matrix dWk, dUk;
      Row dbk;
      if (!after) {
        dWk = Matrix::Zero(I, 4 * n);
        dUk = Matrix::Zero(H, 4 * n);
        dbk = Row::Zero(4 * n);
      }
      // U's rows of this worker's units: dh_{t-1}[:, units] = dz U[units]^T.
      const ConstMap Uk(U + s.begin * 4 * H, n, 4 * H, Eigen::OuterStride<>(4 * H));
      Matrix dz(B, 4 * n);
      // The last step's "next" gradients: those of h_last and c_last.
      Array dh_next = ConstMap(dh_last.flat<float>().data() + s.begin, B, n,
                               Eigen::OuterStride<>(H)).array();
      Array dc_next = ConstMap(dc_last.flat<float>().data() + s.begin, B, n,
                               Eigen::OuterStride<>(H)).array();
      Array dh_t(B, n), dc_t(B, n), tc(B, n), dzo(B, n);
      for (int64_t t = T - 1; t >= 0; --t) {
        const int64_t at = t * B * H + s.begin;
        auto sequence_of = [&](const float* data) {
          return ConstMap(data, B, n, Eigen::OuterStride<>(H));
        };
        const float* gate_t = gs + t * B * 4 * H + s.begin;
        auto gate = [&](int index) {
          return ConstMap(gate_t + index * H, B, n, Eigen::OuterStride<>(4 * H))
              .array();
        };
        const auto i = gate(0);
        const auto f = gate(1);
        const auto g = gate(2);
        const auto o = gate(3);
        const auto c_t = sequence_of(cs + at).array();
        const auto c_prev =
            (t == 0 ? sequence_of(c0.flat<float>().data() + s.begin)
                    : sequence_of(cs + at - B * H))
                .array();
        dh_t = dh_next;
        if (each_step) dh_t += sequence_of(dhs + at).array();
        tc = c_t.tanh();
        dzo = dh_t * tc * o * (1.0f - o);
        dc_t = dc_next + dh_t * o * (1.0f - tc * tc);
        if (peep) dc_t += dzo.rowwise() * po;
        auto dzi = dz.middleCols(0, n).array();
        auto dzf = dz.middleCols(n, n).array();
        dzi = dc_t * g * i * (1.0f - i);
        dzf = dc_t * c_prev * f * (1.0f - f);
        dz.middleCols(2 * n, n).array() = dc_t * i * (1.0f - g * g);
        dz.middleCols(3 * n, n).array() = dzo;
        dc_next = dc_t * f;
        if (peep) {
          dc_next += dzi.rowwise() * pi + dzf.rowwise() * pf;
          dpi += (dzi * c_prev).colwise().sum();
          dpf += (dzf * c_prev).colwise().sum();
          dpo += (dzo * c_t).colwise().sum();
        }
        float* dz_t = dzs + t * B * 4 * H;
        Unpack(dz, H, s, 4, Map(dz_t, B, 4 * H, Eigen::OuterStride<>(4 * H)));
        const ConstMap x_t(xs + t * B * I, B, I, Eigen::OuterStride<>(I));
        const float* h_prev_data =
            t == 0 ? h0.flat<float>().data() : hs + (t - 1) * B * H;
        const ConstMap h_prev(h_prev_data, B, H, Eigen::OuterStride<>(H));
        if (!after) {
          dWk.noalias() += x_t.transpose() * dz;
          dUk.noalias() += h_prev.transpose() * dz;
          dbk += dz.colwise().sum().array();
        }
        barrier.Wait();
        const ConstMap dz_full(dz_t, B, 4 * H, Eigen::OuterStride<>(4 * H));
        dh_next = (dz_full * Uk.transpose()).array();
      }
      // Each worker's columns of the weight gradients, back in Keras's layout.
      auto dW = Mutable2d(dw_out, I, 4 * H);
      auto dU = Mutable2d(du_out, H, 4 * H);
      float* db = db_out->flat<float>().data();
      if (!after) {
        Unpack(dWk, H, s, 4, dW);
        Unpack(dUk, H, s, 4, dU);
        Unpack(dbk.matrix(), H, s, 4, Mutable2d(db_out, 1, 4 * H));
      }
      if (peep) {
        float* dp = dp_out->flat<float>().data();
        Eigen::Map<Row>(dp + s.begin, n) = dpi;
        Eigen::Map<Row>(dp + H + s.begin, n) = dpf;
        Eigen::Map<Row>(dp + 2 * H + s.begin, n) = dpo;
      }
      Mutable2d(dh0_out, B, H).middleCols(s.begin, n) = dh_next.matrix();
      Mutable2d(dc0_out, B, H).middleCols(s.begin, n) = dc_next.matrix();
      if (after) {
        SideGradients(xs, nullptr, T, B, I, dzs, 4 * H, H, s, 4, dW.data(), db);
        Row unused(4 * H);
        SideGradients(h0.flat<float>().data(), hs, T, B, H, dzs, 4 * H, H, s, 4,
                      dU.data(), unused.data());
      }
    };
    RunWorkers(context, count, work);
  }

 private:
  int threads_;
};

// GRU with the reset gate after the recurrent matmul (Keras's
// `reset_after=True`, cuDNN's): gates z, r, h; input bias b_i and
// recurrent bias b_r, each (3H).
//   x_z, x_r, x_h = x_t W + b_i;   u_z, u_r, u_h = h_{t-1} U + b_r
//   z = sigmoid(x_z + u_z),  r = sigmoid(x_r + u_r)
//   g = tanh(x_h + r * u_h),  h_t = z * h_{t-1} + (1 - z) * g
// Saved for the gradient, (T, B, 4H): z, r, g, u_h.
class GruOp : public OpKernel {
 public:
  explicit GruOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("save_gates", &save_gates_));
    OP_REQUIRES_OK(context, context->GetAttr("threads", &threads_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    const Tensor& kernel = context->input(1);
    const Tensor& input_bias = context->input(2);
    const Tensor& recurrent_kernel = context->input(3);
    const Tensor& recurrent_bias = context->input(4);
    const Tensor& h0 = context->input(5);
    int64_t T, B, I, H;
    OP_REQUIRES_OK(context, CheckCommon(x, kernel, recurrent_kernel, h0, 3, &T,
                                        &B, &I, &H));
    OP_REQUIRES_OK(context, CheckVector(input_bias, "input_bias", 3 * H));
    OP_REQUIRES_OK(context, CheckVector(recurrent_bias, "recurrent_bias", 3 * H));
    Tensor *h_out, *saved_out, *h_last;
    OP_REQUIRES_OK(context, context->allocate_output(0, {T, B, H}, &h_out));
    OP_REQUIRES_OK(context, context->allocate_output(
                                1, {save_gates_ ? T : 0, B, 4 * H}, &saved_out));
    OP_REQUIRES_OK(context, context->allocate_output(2, h0.shape(), &h_last));
    if (T == 0 || B == 0 || H == 0) {
      h_last->flat<float>() = h0.flat<float>();
      return;
    }

    const auto W = Const2d(kernel, I, 3 * H);
    const auto U = Const2d(recurrent_kernel, H, 3 * H);
    float* hs = h_out->flat<float>().data();
    float* saved = save_gates_ ? saved_out->flat<float>().data() : nullptr;

    const Team team(context, threads_, H, 2.0 * B * (I + H) * 3 * H);
    const int count = team.count();
    Barrier barrier(count);

    auto work = [&](int k) {
      const Slice s = UnitsOf(k, count, H);
      const int n = s.size;
      const WorkerInputs in(x, W, U, input_bias.flat<float>().data(), H, s, 3,
                            count);
      const Row br = PackRow(recurrent_bias.flat<float>().data(), H, s, 3);
      Matrix zx(B, 3 * n), zh(B, 3 * n);
      for (int64_t t = 0; t < T; ++t) {
        const float* h_prev_data =
            t == 0 ? h0.flat<float>().data() : hs + (t - 1) * B * H;
        const ConstMap h_prev(h_prev_data, B, H, Eigen::OuterStride<>(H));
        in.Project(t, &zx);
        zh.rowwise() = br.matrix();
        in.AddRecurrent(h_prev_data, H, &zh);
        // The gates in place of the input projections.
        auto z = zx.middleCols(0, n).array();
        auto r = zx.middleCols(n, n).array();
        auto g = zx.middleCols(2 * n, n).array();
        z = (z + zh.middleCols(0, n).array()).logistic();
        r = (r + zh.middleCols(n, n).array()).logistic();
        g = (g + r * zh.middleCols(2 * n, n).array()).tanh();
        Map h_t(hs + t * B * H + s.begin, B, n, Eigen::OuterStride<>(H));
        h_t.array() = z * h_prev.middleCols(s.begin, n).array() + (1.0f - z) * g;
        if (saved != nullptr) {
          float* saved_t = saved + t * B * 4 * H + s.begin;
          for (int index = 0; index < 3; ++index) {
            Map(saved_t + index * H, B, n, Eigen::OuterStride<>(4 * H)) =
                zx.middleCols(index * n, n);
          }
          Map(saved_t + 3 * H, B, n, Eigen::OuterStride<>(4 * H)) =
              zh.middleCols(2 * n, n);
        }
        barrier.Wait();
      }
    };
    RunWorkers(context, count, work);
    std::copy_n(hs + (T - 1) * B * H, B * H, h_last->flat<float>().data());
  }

 private:
  bool save_gates_;
  int threads_;
};

class GruGradOp : public OpKernel {
 public:
  explicit GruGradOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("threads", &threads_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    const Tensor& kernel = context->input(1);
    const Tensor& recurrent_kernel = context->input(2);
    const Tensor& h0 = context->input(3);
    const Tensor& h = context->input(4);
    const Tensor& saved = context->input(5);
    const Tensor& dh = context->input(6);
    const Tensor& dh_last = context->input(7);
    int64_t T, B, I, H;
    OP_REQUIRES_OK(context, CheckCommon(x, kernel, recurrent_kernel, h0, 3, &T,
                                        &B, &I, &H));
    OP_REQUIRES_OK(context, CheckSequence(h, "h", T, B, H));
    OP_REQUIRES_OK(context, CheckSequence(saved, "saved", T, B, 4 * H));
    OP_REQUIRES_OK(context, CheckUpstream(dh, dh_last, T, B, H));
    const bool each_step = dh.dim_size(0) > 0;
    // The input-side gate gradients of every step (T, B, 3H): an output,
    // for dx = d W^T.
    Tensor *dxg_out, *dw_out, *dbi_out, *du_out, *dbr_out, *dh0_out;
    OP_REQUIRES_OK(context, context->allocate_output(0, {T, B, 3 * H}, &dxg_out));
    OP_REQUIRES_OK(context, context->allocate_output(1, kernel.shape(), &dw_out));
    OP_REQUIRES_OK(context, context->allocate_output(2, {3 * H}, &dbi_out));
    OP_REQUIRES_OK(context,
                   context->allocate_output(3, recurrent_kernel.shape(), &du_out));
    OP_REQUIRES_OK(context, context->allocate_output(4, {3 * H}, &dbr_out));
    OP_REQUIRES_OK(context, context->allocate_output(5, h0.shape(), &dh0_out));
    for (Tensor* out : {dw_out, dbi_out, du_out, dbr_out, dh0_out}) {
      out->flat<float>().setZero();
    }
    if (T == 0 || B == 0 || H == 0) {
      dh0_out->flat<float>() = dh_last.flat<float>();
      return;
    }

    // The recurrent side's gate gradients of one step, twice (a worker may
    // write step t - 1's while another reads step t's), or of every step
    // where the weight gradients come after the loop.
    const bool after = WeightGradientsAfterLoop(B);
    Tensor recurrent_side;
    OP_REQUIRES_OK(context,
                   context->allocate_temp(tensorflow::DT_FLOAT,
                                          {(after ? T : 2) * B, 3 * H},
                                          &recurrent_side));
    float* dxg = dxg_out->flat<float>().data();
    float* drg = recurrent_side.flat<float>().data();
    const float* U = recurrent_kernel.flat<float>().data();
    const float* xs = x.flat<float>().data();
    const float* hs = h.flat<float>().data();
    const float* ss = saved.flat<float>().data();
    const float* dhs = dh.flat<float>().data();

    const Team team(context, threads_, H, 2.0 * B * (I + 2 * H) * 3 * H);
    const int count = team.count();
    Barrier barrier(count);

    auto work = [&](int k) {
      const Slice s = UnitsOf(k, count, H);
      const int n = s.size;
      // U's rows of this worker's units: dh_{t-1}[:, units] = d U[units]^T.
      const ConstMap Uk(U + s.begin * 3 * H, n, 3 * H, Eigen::OuterStride<>(3 * H));
      Matrix dWk, dUk;
      Row dbi, dbr;
      if (!after) {
        dWk = Matrix::Zero(I, 3 * n);
        dUk = Matrix::Zero(H, 3 * n);
        dbi = Row::Zero(3 * n);
        dbr = Row::Zero(3 * n);
      }
      Matrix gx(B, 3 * n), gr(B, 3 * n);
      Array dh_next = ConstMap(dh_last.flat<float>().data() + s.begin, B, n,
                               Eigen::OuterStride<>(H)).array();
      Array dh_t(B, n);
      for (int64_t t = T - 1; t >= 0; --t) {
        const float* saved_t = ss + t * B * 4 * H + s.begin;
        auto part = [&](int index) {
          return ConstMap(saved_t + index * H, B, n, Eigen::OuterStride<>(4 * H))
              .array();
        };
        const auto z = part(0);
        const auto r = part(1);
        const auto g = part(2);
        const auto u_h = part(3);
        const float* h_prev_data =
            t == 0 ? h0.flat<float>().data() : hs + (t - 1) * B * H;
        const ConstMap h_prev(h_prev_data, B, H, Eigen::OuterStride<>(H));
        dh_t = dh_next;
        if (each_step) {
          dh_t += ConstMap(dhs + t * B * H + s.begin, B, n, Eigen::OuterStride<>(H))
                      .array();
        }
        auto dz = gx.middleCols(0, n).array();
        auto dr = gx.middleCols(n, n).array();
        auto dg = gx.middleCols(2 * n, n).array();
        dz = dh_t * (h_prev.middleCols(s.begin, n).array() - g) * z * (1.0f - z);
        dg = dh_t * (1.0f - z) * (1.0f - g * g);
        dr = dg * u_h * r * (1.0f - r);
        gr.middleCols(0, 2 * n) = gx.middleCols(0, 2 * n);
        gr.middleCols(2 * n, n).array() = dg * r;
        Unpack(gx, H, s, 3, Map(dxg + t * B * 3 * H, B, 3 * H,
                                Eigen::OuterStride<>(3 * H)));
        float* drg_t = drg + (after ? t : t % 2) * B * 3 * H;
        Unpack(gr, H, s, 3, Map(drg_t, B, 3 * H, Eigen::OuterStride<>(3 * H)));
        const ConstMap x_t(xs + t * B * I, B, I, Eigen::OuterStride<>(I));
        if (!after) {
          dWk.noalias() += x_t.transpose() * gx;
          dUk.noalias() += h_prev.transpose() * gr;
          dbi += gx.colwise().sum().array();
          dbr += gr.colwise().sum().array();
        }
        barrier.Wait();
        const ConstMap gr_full(drg_t, B, 3 * H, Eigen::OuterStride<>(3 * H));
        dh_next = dh_t * z + (gr_full * Uk.transpose()).array();
      }
      if (!after) {
        Unpack(dWk, H, s, 3, Mutable2d(dw_out, I, 3 * H));
        Unpack(dUk, H, s, 3, Mutable2d(du_out, H, 3 * H));
        Unpack(dbi.matrix(), H, s, 3, Mutable2d(dbi_out, 1, 3 * H));
        Unpack(dbr.matrix(), H, s, 3, Mutable2d(dbr_out, 1, 3 * H));
      }
      Mutable2d(dh0_out, B, H).middleCols(s.begin, n) = dh_next.matrix();
      if (after) {
        SideGradients(xs, nullptr, T, B, I, dxg, 3 * H, H, s, 3,
                      dw_out->flat<float>().data(), dbi_out->flat<float>().data());
        SideGradients(h0.flat<float>().data(), hs, T, B, H, drg, 3 * H, H, s, 3,
                      du_out->flat<float>().data(), dbr_out->flat<float>().data());
      }
    };
    RunWorkers(context, count, work);
  }

 private:
  int threads_;
};

// SimpleRNN with tanh: h_t = tanh(x_t W + b + h_{t-1} U). The gradient
// reads h alone.
class RnnOp : public OpKernel {
 public:
  explicit RnnOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("threads", &threads_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    const Tensor& kernel = context->input(1);
    const Tensor& bias = context->input(2);
    const Tensor& recurrent_kernel = context->input(3);
    const Tensor& h0 = context->input(4);
    int64_t T, B, I, H;
    OP_REQUIRES_OK(context, CheckCommon(x, kernel, recurrent_kernel, h0, 1, &T,
                                        &B, &I, &H));
    OP_REQUIRES_OK(context, CheckVector(bias, "bias", H));
    Tensor *h_out, *h_last;
    OP_REQUIRES_OK(context, context->allocate_output(0, {T, B, H}, &h_out));
    OP_REQUIRES_OK(context, context->allocate_output(1, h0.shape(), &h_last));
    if (T == 0 || B == 0 || H == 0) {
      h_last->flat<float>() = h0.flat<float>();
      return;
    }

    const auto W = Const2d(kernel, I, H);
    const auto U = Const2d(recurrent_kernel, H, H);
    float* hs = h_out->flat<float>().data();

    const Team team(context, threads_, H, 2.0 * B * (I + H) * H);
    const int count = team.count();
    Barrier barrier(count);

    auto work = [&](int k) {
      const Slice s = UnitsOf(k, count, H);
      const int n = s.size;
      const WorkerInputs in(x, W, U, bias.flat<float>().data(), H, s, 1, count);
      Matrix z(B, n);
      for (int64_t t = 0; t < T; ++t) {
        const float* h_prev_data =
            t == 0 ? h0.flat<float>().data() : hs + (t - 1) * B * H;
        in.Project(t, &z);
        in.AddRecurrent(h_prev_data, H, &z);
        Map(hs + t * B * H + s.begin, B, n, Eigen::OuterStride<>(H)).array() =
            z.array().tanh();
        barrier.Wait();
      }
    };
    RunWorkers(context, count, work);
    std::copy_n(hs + (T - 1) * B * H, B * H, h_last->flat<float>().data());
  }

 private:
  int threads_;
};

class RnnGradOp : public OpKernel {
 public:
  explicit RnnGradOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("threads", &threads_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    const Tensor& kernel = context->input(1);
    const Tensor& recurrent_kernel = context->input(2);
    const Tensor& h0 = context->input(3);
    const Tensor& h = context->input(4);
    const Tensor& dh = context->input(5);
    const Tensor& dh_last = context->input(6);
    int64_t T, B, I, H;
    OP_REQUIRES_OK(context, CheckCommon(x, kernel, recurrent_kernel, h0, 1, &T,
                                        &B, &I, &H));
    OP_REQUIRES_OK(context, CheckSequence(h, "h", T, B, H));
    OP_REQUIRES_OK(context, CheckUpstream(dh, dh_last, T, B, H));
    const bool each_step = dh.dim_size(0) > 0;
    // d(pre-activation) of every step, (T, B, H): an output, for dx = d W^T.
    Tensor *dp_out, *dw_out, *db_out, *du_out, *dh0_out;
    OP_REQUIRES_OK(context, context->allocate_output(0, {T, B, H}, &dp_out));
    OP_REQUIRES_OK(context, context->allocate_output(1, kernel.shape(), &dw_out));
    OP_REQUIRES_OK(context, context->allocate_output(2, {H}, &db_out));
    OP_REQUIRES_OK(context,
                   context->allocate_output(3, recurrent_kernel.shape(), &du_out));
    OP_REQUIRES_OK(context, context->allocate_output(4, h0.shape(), &dh0_out));
    for (Tensor* out : {dw_out, db_out, du_out, dh0_out}) {
      out->flat<float>().setZero();
    }
    if (T == 0 || B == 0 || H == 0) {
      dh0_out->flat<float>() = dh_last.flat<float>();
      return;
    }
    float* dps = dp_out->flat<float>().data();
    const float* U = recurrent_kernel.flat<float>().data();
    const float* xs = x.flat<float>().data();
    const float* hs = h.flat<float>().data();
    const float* dhs = dh.flat<float>().data();

    const Team team(context, threads_, H, 2.0 * B * (I + 2 * H) * H);
    const int count = team.count();
    Barrier barrier(count);

    auto work = [&](int k) {
      const Slice s = UnitsOf(k, count, H);
      const int n = s.size;
      const ConstMap Uk(U + s.begin * H, n, H, Eigen::OuterStride<>(H));
      const bool after = WeightGradientsAfterLoop(B);
      Matrix dWk, dUk;
      Row dbk;
      if (!after) {
        dWk = Matrix::Zero(I, n);
        dUk = Matrix::Zero(H, n);
        dbk = Row::Zero(n);
      }
      Matrix dp(B, n);
      Array dh_next = ConstMap(dh_last.flat<float>().data() + s.begin, B, n,
                               Eigen::OuterStride<>(H)).array();
      for (int64_t t = T - 1; t >= 0; --t) {
        const auto own = [&](const float* data) {
          return ConstMap(data + t * B * H + s.begin, B, n, Eigen::OuterStride<>(H))
              .array();
        };
        const auto h_t = own(hs);
        if (each_step) dh_next += own(dhs);
        dp.array() = dh_next * (1.0f - h_t * h_t);
        Map(dps + t * B * H + s.begin, B, n, Eigen::OuterStride<>(H)) = dp;
        const float* h_prev_data =
            t == 0 ? h0.flat<float>().data() : hs + (t - 1) * B * H;
        const ConstMap h_prev(h_prev_data, B, H, Eigen::OuterStride<>(H));
        const ConstMap x_t(xs + t * B * I, B, I, Eigen::OuterStride<>(I));
        if (!after) {
          dWk.noalias() += x_t.transpose() * dp;
          dUk.noalias() += h_prev.transpose() * dp;
          dbk += dp.colwise().sum().array();
        }
        barrier.Wait();
        const ConstMap dp_full(dps + t * B * H, B, H, Eigen::OuterStride<>(H));
        dh_next = (dp_full * Uk.transpose()).array();
      }
      if (!after) {
        Mutable2d(dw_out, I, H).middleCols(s.begin, n) = dWk;
        Mutable2d(du_out, H, H).middleCols(s.begin, n) = dUk;
        Eigen::Map<Row>(db_out->flat<float>().data() + s.begin, n) = dbk;
      }
      Mutable2d(dh0_out, B, H).middleCols(s.begin, n) = dh_next.matrix();
      if (after) {
        SideGradients(xs, nullptr, T, B, I, dps, H, H, s, 1,
                      dw_out->flat<float>().data(), db_out->flat<float>().data());
        Row unused(H);
        SideGradients(h0.flat<float>().data(), hs, T, B, H, dps, H, H, s, 1,
                      du_out->flat<float>().data(), unused.data());
      }
    };
    RunWorkers(context, count, work);
  }

 private:
  int threads_;
};

REGISTER_KERNEL_BUILDER(Name("KerasSeqLstm").Device(DEVICE_CPU), LstmOp);
REGISTER_KERNEL_BUILDER(Name("KerasSeqLstmGrad").Device(DEVICE_CPU), LstmGradOp);
REGISTER_KERNEL_BUILDER(Name("KerasSeqGru").Device(DEVICE_CPU), GruOp);
REGISTER_KERNEL_BUILDER(Name("KerasSeqGruGrad").Device(DEVICE_CPU), GruGradOp);
REGISTER_KERNEL_BUILDER(Name("KerasSeqRnn").Device(DEVICE_CPU), RnnOp);
REGISTER_KERNEL_BUILDER(Name("KerasSeqRnnGrad").Device(DEVICE_CPU), RnnGradOp);

}  // namespace keras_seq
