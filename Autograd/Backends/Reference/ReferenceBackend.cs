using System.Numerics;

namespace Autograd.Backends.Reference;

/// <summary>The reference backend: every kernel as plain scalar loops, accumulating in double. An oracle, not a fast path.</summary>
internal sealed class ReferenceBackend : Backend
{
    public static readonly ReferenceBackend Instance = new();

    private ReferenceBackend()
    {
        Float = new ReferenceKernels<float>(this);
        Double = new ReferenceKernels<double>(this);
    }

    public override string Name => "reference";
    public override IKernels<float> Float { get; }
    public override IKernels<double> Double { get; }
}

/// <summary>
/// Deliberately naive kernels: one element at a time, in the most literal order, sums and products in double.
/// Shares nothing with the CPU backend, so the two check each other.
/// </summary>
internal sealed class ReferenceKernels<T>(Backend backend) : IKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static Span<T> A(Buffer<T> b) => ((HostStorage<T>)b.Storage).Elements;
    private static double D(T x) => double.CreateTruncating(x);
    private static T F(double x) => T.CreateTruncating(x);

    public Storage<T> Allocate(int length) => new HostStorage<T>(backend, new T[length]);
    public Storage<T> Rent(int length) => Allocate(length);
    public void Recycle(Storage<T> storage) { }

    public void Upload(ReadOnlySpan<T> source, Buffer<T> destination)
    {
        var d = A(destination);
        for (int i = 0; i < destination.Length; i++) d[destination.Offset + i] = source[i];
    }

    public void Download(Buffer<T> source, Span<T> destination)
    {
        var s = A(source);
        for (int i = 0; i < source.Length; i++) destination[i] = s[source.Offset + i];
    }

    public void Fill(Buffer<T> destination, T value)
    {
        var d = A(destination);
        for (int i = 0; i < destination.Length; i++) d[destination.Offset + i] = value;
    }

    public void Copy(Buffer<T> source, Buffer<T> destination, bool accumulate)
    {
        var s = A(source); var d = A(destination);
        for (int i = 0; i < source.Length; i++)
        {
            ref T o = ref d[destination.Offset + i];
            o = accumulate ? F(D(o) + D(s[source.Offset + i])) : s[source.Offset + i];
        }
    }

    public void Map(ElementwiseProgram program, ReadOnlySpan<Buffer<T>> inputs, Buffer<T> destination, bool accumulate)
        => MapMany(program, inputs, [destination], [accumulate]);

    public void MapMany(ElementwiseProgram program, ReadOnlySpan<Buffer<T>> inputs, ReadOnlySpan<Buffer<T>> destinations, ReadOnlySpan<bool> accumulate)
    {
        if (destinations.Length != program.Outputs.Count || accumulate.Length != destinations.Length)
            throw new ArgumentException($"Reference.MapMany: program '{program}' has {program.Outputs.Count} outputs, got {destinations.Length} destinations and {accumulate.Length} accumulate flags.");
        var steps = program.Steps;
        var regs = new double[steps.Count];
        int n = destinations[0].Length;
        for (int e = 0; e < n; e++)
        {
            for (int i = 0; i < steps.Count; i++)
            {
                var s = steps[i];
                regs[i] = s.Op switch
                {
                    ElementwiseOp.Input => D(A(inputs[s.Left])[inputs[s.Left].Offset + e]),
                    ElementwiseOp.Constant => s.Value,
                    _ => Apply(s.Op, regs[s.Left], s.Right >= 0 ? regs[s.Right] : 0),
                };
            }
            for (int j = 0; j < destinations.Length; j++)
            {
                ref T o = ref A(destinations[j])[destinations[j].Offset + e];
                double r = regs[program.Outputs[j]];
                // Round to T before accumulating, as a kernel computing in T would.
                o = accumulate[j] ? F(D(o) + D(F(r))) : F(r);
            }
        }
    }

    private static double Apply(ElementwiseOp op, double a, double b) => op switch
    {
        ElementwiseOp.Add => a + b,
        ElementwiseOp.Subtract => a - b,
        ElementwiseOp.Multiply => a * b,
        ElementwiseOp.Divide => a / b,
        ElementwiseOp.Pow => Math.Pow(a, b),
        ElementwiseOp.Max => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b),
        ElementwiseOp.Min => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b),
        ElementwiseOp.Negate => -a,
        ElementwiseOp.Exp => Math.Exp(a),
        ElementwiseOp.Log => Math.Log(a),
        ElementwiseOp.Tanh => Math.Tanh(a),
        ElementwiseOp.Sigmoid => a >= 0 ? 1 / (1 + Math.Exp(-a)) : Math.Exp(a) / (1 + Math.Exp(a)),
        ElementwiseOp.Sqrt => Math.Sqrt(a),
        ElementwiseOp.Step => a > 0 ? 1 : 0,
        _ => throw new NotSupportedException($"Reference.Map: unknown op {op}."),
    };

    /// <summary>Flat index of the element of a (right-aligned, broadcast) operand at the output's multi-index.</summary>
    private static int SourceIndex(ReadOnlySpan<int> outIndex, ReadOnlySpan<int> shape)
    {
        int flat = 0, shift = outIndex.Length - shape.Length;
        for (int i = 0; i < shape.Length; i++) flat = flat * shape[i] + (shape[i] == 1 ? 0 : outIndex[i + shift]);
        return flat;
    }

    private static void Unravel(int flat, ReadOnlySpan<int> shape, Span<int> index)
    {
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            index[i] = flat % shape[i];
            flat /= shape[i];
        }
    }

    public void Broadcast(ElementwiseOp op, Buffer<T> a, ReadOnlySpan<int> aShape, Buffer<T> b, ReadOnlySpan<int> bShape,
        Buffer<T> destination, ReadOnlySpan<int> shape)
    {
        var x = A(a); var y = A(b); var d = A(destination);
        Span<int> idx = stackalloc int[shape.Length];
        for (int e = 0; e < destination.Length; e++)
        {
            Unravel(e, shape, idx);
            double l = D(x[a.Offset + SourceIndex(idx, aShape)]), r = D(y[b.Offset + SourceIndex(idx, bShape)]);
            d[destination.Offset + e] = F(Apply(op, l, r));
        }
    }

    public void ReduceTo(Buffer<T> source, ReadOnlySpan<int> shape, Buffer<T> destination, ReadOnlySpan<int> targetShape, T scale)
    {
        var s = A(source); var d = A(destination);
        var sums = new double[destination.Length];
        Span<int> idx = stackalloc int[shape.Length];
        for (int e = 0; e < source.Length; e++)
        {
            Unravel(e, shape, idx);
            sums[SourceIndex(idx, targetShape)] += D(s[source.Offset + e]);
        }
        for (int i = 0; i < sums.Length; i++) d[destination.Offset + i] = F(D(d[destination.Offset + i]) + D(scale) * sums[i]);
    }

    public void CopyRuns(Buffer<T> source, int sourceStride, Buffer<T> destination, int destinationStride, int count, int run, bool accumulate)
    {
        var s = A(source); var d = A(destination);
        for (int r = 0; r < count; r++)
            for (int i = 0; i < run; i++)
            {
                T v = s[source.Offset + r * sourceStride + i];
                ref T o = ref d[destination.Offset + r * destinationStride + i];
                o = accumulate ? F(D(o) + D(v)) : v;
            }
    }

    public void Transpose(Buffer<T> source, Buffer<T> destination, int batch, int rows, int cols, bool accumulate)
    {
        var s = A(source); var d = A(destination);
        for (int bt = 0; bt < batch; bt++)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    T v = s[source.Offset + bt * rows * cols + i * cols + j];
                    ref T o = ref d[destination.Offset + bt * rows * cols + j * rows + i];
                    o = accumulate ? F(D(o) + D(v)) : v;
                }
    }

    public void Gather(Buffer<T> source, int rowLength, ReadOnlyMemory<int> rowsMemory, Buffer<T> destination)
    {
        var rows = rowsMemory.Span;
        var s = A(source); var d = A(destination);
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rowLength; j++)
                d[destination.Offset + i * rowLength + j] = s[source.Offset + rows[i] * rowLength + j];
    }

    public void ScatterAdd(Buffer<T> source, int rowLength, ReadOnlyMemory<int> rowsMemory, Buffer<T> destination)
    {
        var rows = rowsMemory.Span;
        var s = A(source); var d = A(destination);
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rowLength; j++)
            {
                ref T o = ref d[destination.Offset + rows[i] * rowLength + j];
                o = F(D(o) + D(s[source.Offset + i * rowLength + j]));
            }
    }

    public void Sum(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination)
    {
        var s = A(source); var d = A(destination);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = 0;
                for (int k = 0; k < size; k++) acc += D(s[source.Offset + (o * size + k) * inner + i]);
                d[destination.Offset + o * inner + i] = F(acc);
            }
    }

    public void Expand(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination)
    {
        var s = A(source); var d = A(destination);
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < size; k++)
                for (int i = 0; i < inner; i++)
                {
                    ref T x = ref d[destination.Offset + (o * size + k) * inner + i];
                    x = F(D(x) + D(s[source.Offset + o * inner + i]));
                }
    }

    public void Max(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination, Span<int> argMax)
    {
        var s = A(source); var d = A(destination);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                T m = s[source.Offset + o * size * inner + i];
                for (int k = 1; k < size; k++)
                {
                    if (T.IsNaN(m)) break;
                    T v = s[source.Offset + (o * size + k) * inner + i];
                    if (T.IsNaN(v) || v > m) { m = v; best = k; }
                }
                d[destination.Offset + o * inner + i] = m;
                argMax[o * inner + i] = best;
            }
    }

    public void MaxBackward(Buffer<T> source, ReadOnlySpan<int> argMax, int outer, int size, int inner, Buffer<T> destination)
    {
        var s = A(source); var d = A(destination);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                ref T x = ref d[destination.Offset + (o * size + argMax[o * inner + i]) * inner + i];
                x = F(D(x) + D(s[source.Offset + o * inner + i]));
            }
    }

    public void LogSoftmax(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination)
    {
        var s = A(source); var d = A(destination);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int At(int k) => (o * size + k) * inner + i;
                double max = double.NegativeInfinity;
                for (int k = 0; k < size; k++) max = Math.Max(max, D(s[source.Offset + At(k)]));
                double sum = 0;
                for (int k = 0; k < size; k++) sum += Math.Exp(D(s[source.Offset + At(k)]) - max);
                double logSum = Math.Log(sum);
                for (int k = 0; k < size; k++) d[destination.Offset + At(k)] = F(D(s[source.Offset + At(k)]) - max - logSum);
            }
    }

    public void LogSoftmaxBackward(Buffer<T> gradient, Buffer<T> output, int outer, int size, int inner, Buffer<T> destination)
    {
        var g = A(gradient); var y = A(output); var d = A(destination);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int At(int k) => (o * size + k) * inner + i;
                double gs = 0;
                for (int k = 0; k < size; k++) gs += D(g[gradient.Offset + At(k)]);
                for (int k = 0; k < size; k++)
                {
                    ref T x = ref d[destination.Offset + At(k)];
                    x = F(D(x) + D(g[gradient.Offset + At(k)]) - Math.Exp(D(y[output.Offset + At(k)])) * gs);
                }
            }
    }

    public void CrossEntropy(Buffer<T> logits, int classes, ReadOnlyMemory<int> targetsMemory, Buffer<T> logProbabilities, Buffer<T> loss)
    {
        var targets = targetsMemory.Span;
        var x = A(logits);
        var lp = new double[classes];
        double total = 0;
        for (int r = 0; r < targets.Length; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = Math.Max(max, D(x[logits.Offset + r * classes + c]));
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(D(x[logits.Offset + r * classes + c]) - max);
            for (int c = 0; c < classes; c++) lp[c] = D(x[logits.Offset + r * classes + c]) - max - Math.Log(sum);
            if (logProbabilities.Length > 0)
                for (int c = 0; c < classes; c++) A(logProbabilities)[logProbabilities.Offset + r * classes + c] = F(lp[c]);
            total -= lp[targets[r]];
        }
        A(loss)[loss.Offset] = F(total / targets.Length);
    }

    public void CrossEntropyBackward(Buffer<T> gradient, Buffer<T> logProbabilities, int classes, ReadOnlyMemory<int> targetsMemory, Buffer<T> destination)
    {
        var targets = targetsMemory.Span;
        double scale = D(A(gradient)[gradient.Offset]) / targets.Length;
        var lp = A(logProbabilities); var d = A(destination);
        for (int r = 0; r < targets.Length; r++)
            for (int c = 0; c < classes; c++)
            {
                double p = Math.Exp(D(lp[logProbabilities.Offset + r * classes + c])) - (c == targets[r] ? 1 : 0);
                ref T x = ref d[destination.Offset + r * classes + c];
                x = F(D(x) + scale * p);
            }
    }

    public double SquaredNorm(Buffer<T> source)
    {
        var s = A(source);
        double sum = 0;
        for (int i = 0; i < source.Length; i++) sum += D(s[source.Offset + i]) * D(s[source.Offset + i]);
        return sum;
    }

    public bool AllFinite(Buffer<T> source)
    {
        var s = A(source);
        for (int i = 0; i < source.Length; i++)
            if (!T.IsFinite(s[source.Offset + i])) return false;
        return true;
    }

    public void MatMul(bool transposeA, bool transposeB, int m, int n, int k, Buffer<T> a, Buffer<T> b, Buffer<T> c, bool accumulate)
    {
        var x = A(a); var y = A(b); var z = A(c);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = D(x[a.Offset + (transposeA ? p * m + i : i * k + p)]);
                    double bv = D(y[b.Offset + (transposeB ? j * k + p : p * n + j)]);
                    acc += av * bv;
                }
                ref T o = ref z[c.Offset + i * n + j];
                o = accumulate ? F(D(o) + acc) : F(acc);
            }
    }

    public void Sgd(Buffer<T> parameter, Buffer<T> gradient, Buffer<T> velocity, T learningRate, T momentum, T weightDecay, bool nesterov)
    {
        var p = A(parameter); var g = A(gradient);
        for (int i = 0; i < parameter.Length; i++)
        {
            ref T pi = ref p[parameter.Offset + i];
            double step = D(g[gradient.Offset + i]) + D(weightDecay) * D(pi);
            if (momentum != T.Zero)
            {
                ref T vi = ref A(velocity)[velocity.Offset + i];
                vi = F(D(momentum) * D(vi) + step);
                step = nesterov ? step + D(momentum) * D(vi) : D(vi);
            }
            pi = F(D(pi) - D(learningRate) * step);
        }
    }

    public void Adam(Buffer<T> parameter, Buffer<T> gradient, Buffer<T> firstMoment, Buffer<T> secondMoment,
        T learningRate, T beta1, T beta2, T epsilon, T weightDecay, T biasCorrection1, T biasCorrection2)
    {
        var p = A(parameter); var g = A(gradient); var m = A(firstMoment); var v = A(secondMoment);
        for (int i = 0; i < parameter.Length; i++)
        {
            ref T pi = ref p[parameter.Offset + i];
            ref T mi = ref m[firstMoment.Offset + i];
            ref T vi = ref v[secondMoment.Offset + i];
            double gi = D(g[gradient.Offset + i]) + D(weightDecay) * D(pi);
            mi = F(D(beta1) * D(mi) + (1 - D(beta1)) * gi);
            vi = F(D(beta2) * D(vi) + (1 - D(beta2)) * gi * gi);
            double denom = Math.Sqrt(D(vi) / D(biasCorrection2)) + D(epsilon);
            pi = F(D(pi) - D(learningRate) / D(biasCorrection1) * D(mi) / denom);
        }
    }
}
