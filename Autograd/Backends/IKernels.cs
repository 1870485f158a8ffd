using System.Numerics;

namespace Autograd.Backends;

/// <summary>
/// The kernel seam: every piece of numeric work the engine, the layers and the optimizers do, for one
/// element type. Ops never touch storage themselves; they describe the work in these terms. A backend
/// implements this for float and double (see <see cref="Backend"/>).
/// </summary>
/// <remarks>
/// Shapes are row-major. Reductions and axis ops take a shape split at the axis as (outer, size, inner):
/// element (o, s, i) lives at (o·size + s)·inner + i. "Accumulate" means destination += result; otherwise
/// destination = result. Unless stated, a destination must not overlap a source (an elementwise destination
/// may be exactly one of its inputs). Lengths of zero are valid everywhere and do nothing.
/// </remarks>
public interface IKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A new storage of <paramref name="length"/> elements; contents unspecified.</summary>
    Storage<T> Allocate(int length);

    /// <summary>A storage for an op result that the engine will <see cref="Recycle"/> once nothing can read it.</summary>
    Storage<T> Rent(int length);

    /// <summary>Takes back a storage from <see cref="Rent"/>; the engine guarantees nothing reads it any more.</summary>
    void Recycle(Storage<T> storage);

    /// <summary>Copies host values into a buffer.</summary>
    void Upload(ReadOnlySpan<T> source, Buffer<T> destination);

    /// <summary>Copies a buffer's values to the host.</summary>
    void Download(Buffer<T> source, Span<T> destination);

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    void Fill(Buffer<T> destination, T value);

    /// <summary>destination (+)= source, equal lengths.</summary>
    void Copy(Buffer<T> source, Buffer<T> destination, bool accumulate);

    /// <summary>destination (+)= program(inputs...), element by element; every input has the destination's length.</summary>
    void Map(ElementwiseProgram program, ReadOnlySpan<Buffer<T>> inputs, Buffer<T> destination, bool accumulate);

    /// <summary>
    /// destinations[j] (+)= result j of <paramref name="program"/> (see <see cref="ElementwiseProgram.Outputs"/>), in one
    /// pass; accumulate[j] says whether result j is added. For each element the results are stored in order, so a
    /// destination may appear twice when the later occurrence accumulates (both results are then added up).
    /// </summary>
    void MapMany(ElementwiseProgram program, ReadOnlySpan<Buffer<T>> inputs, ReadOnlySpan<Buffer<T>> destinations, ReadOnlySpan<bool> accumulate);

    /// <summary>
    /// destination = a op b with NumPy broadcasting (op: Add, Subtract, Multiply, Divide, Max or Min); both
    /// shapes broadcast to <paramref name="shape"/>, which has the same rank.
    /// </summary>
    void Broadcast(ElementwiseOp op, Buffer<T> a, ReadOnlySpan<int> aShape, Buffer<T> b, ReadOnlySpan<int> bShape,
        Buffer<T> destination, ReadOnlySpan<int> shape);

    /// <summary>
    /// destination += scale · (source summed over the axes where <paramref name="targetShape"/> is 1 and
    /// <paramref name="shape"/> is not, and over the leading axes <paramref name="targetShape"/> lacks):
    /// the gradient of a broadcast.
    /// </summary>
    void ReduceTo(Buffer<T> source, ReadOnlySpan<int> shape, Buffer<T> destination, ReadOnlySpan<int> targetShape, T scale);

    /// <summary>
    /// <paramref name="count"/> runs of <paramref name="run"/> elements: run r is read at r·sourceStride and
    /// written (or added) at r·destinationStride. Slices and concatenations are this.
    /// </summary>
    void CopyRuns(Buffer<T> source, int sourceStride, Buffer<T> destination, int destinationStride, int count, int run, bool accumulate);

    /// <summary>destination (+)= the transpose of each of <paramref name="batch"/> (rows × cols) matrices.</summary>
    void Transpose(Buffer<T> source, Buffer<T> destination, int batch, int rows, int cols, bool accumulate);

    /// <summary>Row i of destination = row <paramref name="rows"/>[i] of source; rows have <paramref name="rowLength"/> elements.</summary>
    void Gather(Buffer<T> source, int rowLength, ReadOnlyMemory<int> rows, Buffer<T> destination);

    /// <summary>Row <paramref name="rows"/>[i] of destination += row i of source (repeated rows add up).</summary>
    void ScatterAdd(Buffer<T> source, int rowLength, ReadOnlyMemory<int> rows, Buffer<T> destination);

    /// <summary>destination (outer × inner) = Σ over the middle axis, accumulated at least as accurately as pairwise summation.</summary>
    void Sum(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination);

    /// <summary>destination (outer × size × inner) += source (outer × inner) repeated along the middle axis.</summary>
    void Expand(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination);

    /// <summary>
    /// destination (outer × inner) = the maximum over the middle axis (size ≥ 1) and argMax its first
    /// position; a NaN counts as the maximum.
    /// </summary>
    void Max(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination, Span<int> argMax);

    /// <summary>destination (outer × size × inner) at each argMax position += source (outer × inner).</summary>
    void MaxBackward(Buffer<T> source, ReadOnlySpan<int> argMax, int outer, int size, int inner, Buffer<T> destination);

    /// <summary>destination = log softmax of source along the middle axis, stably (x − max − log Σ exp(x − max)).</summary>
    void LogSoftmax(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination);

    /// <summary>destination += g − exp(y) · Σ g along the middle axis, y being the log softmax output.</summary>
    void LogSoftmaxBackward(Buffer<T> gradient, Buffer<T> output, int outer, int size, int inner, Buffer<T> destination);

    /// <summary>
    /// loss[0] = mean over the rows of logits (rows × classes) of −log softmax(row)[target]; the log-probabilities
    /// are written to <paramref name="logProbabilities"/> unless it is empty.
    /// </summary>
    void CrossEntropy(Buffer<T> logits, int classes, ReadOnlyMemory<int> targets, Buffer<T> logProbabilities, Buffer<T> loss);

    /// <summary>destination += gradient[0] · (exp(logProbabilities) − onehot(targets)) / rows.</summary>
    void CrossEntropyBackward(Buffer<T> gradient, Buffer<T> logProbabilities, int classes, ReadOnlyMemory<int> targets, Buffer<T> destination);

    /// <summary>Σ x², accumulated in double.</summary>
    double SquaredNorm(Buffer<T> source);

    /// <summary>True when no element is NaN or ±∞.</summary>
    bool AllFinite(Buffer<T> source);

    /// <summary>
    /// C (m × n) (+)= op(A) · op(B), row-major; op(A) is m × k (A stored k × m when transposed), op(B) is k × n
    /// (B stored n × k when transposed). Deterministic: no element's summation order depends on threads.
    /// </summary>
    void MatMul(bool transposeA, bool transposeB, int m, int n, int k, Buffer<T> a, Buffer<T> b, Buffer<T> c, bool accumulate);

    /// <summary>SGD step in place (see <see cref="ParameterUpdate.Sgd{T}"/>); velocity is read only when momentum ≠ 0.</summary>
    void Sgd(Buffer<T> parameter, Buffer<T> gradient, Buffer<T> velocity, T learningRate, T momentum, T weightDecay, bool nesterov);

    /// <summary>Adam step in place (see <see cref="ParameterUpdate.Adam{T}"/>).</summary>
    void Adam(Buffer<T> parameter, Buffer<T> gradient, Buffer<T> firstMoment, Buffer<T> secondMoment,
        T learningRate, T beta1, T beta2, T epsilon, T weightDecay, T biasCorrection1, T biasCorrection2);
}
