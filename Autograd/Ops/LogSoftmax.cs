using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// log(softmax(x)) along <paramref name="axis"/>, computed stably as x - max - log Σ exp(x - max):
    /// finite for logits of ±1000. d/dx = g - softmax(x) · Σ g (sums along the axis).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public Tensor<T> LogSoftmax(int axis)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, _shape, "LogSoftmax");
        var r = Uninitialized(_shape);
        var (outer, size, inner) = ShapeUtil.Split(_shape, ax);
        if (inner == 1)
        {
            var src = Span; var dst = r.Span;
            for (int o = 0; o < outer; o++) LogSoftmaxRow(src.Slice(o * size, size), dst.Slice(o * size, size));
        }
        else
        {
            using var row = new Scratch<T>(size);
            using var outRow = new Scratch<T>(size);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    for (int s = 0; s < size; s++) row.Span[s] = Data[(o * size + s) * inner + i];
                    LogSoftmaxRow(row.Span, outRow.Span);
                    for (int s = 0; s < size; s++) r.Data[(o * size + s) * inner + i] = outRow.Span[s];
                }
        }
        return ShouldRecord(this) ? r.WithCreator(new LogSoftmaxNode(this, ax)) : r;
    }

    /// <summary>dst = x - max(x) - log(Σ exp(x - max(x))). Shared with the fused cross-entropy.</summary>
    internal static void LogSoftmaxRow(ReadOnlySpan<T> x, Span<T> dst)
    {
        if (x.Length == 0) return;
        T max = TP.Max(x);
        TP.Subtract(x, max, dst);
        using var e = new Scratch<T>(x.Length);
        TP.Exp(dst, e.Span);
        T logSum = T.Log(TP.Sum(e.Span));
        TP.Subtract(dst, logSum, dst);
    }

    private sealed class LogSoftmaxNode(Tensor<T> x, int axis) : Node<T>(x)
    {
        internal override string Name => "LogSoftmax";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            var (outer, size, inner) = ShapeUtil.Split(output._shape, axis);
            var dx = Inputs[0].GradTarget;
            var y = output.Span;
            using var p = new Scratch<T>(size);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    T gs = T.Zero;
                    for (int s = 0; s < size; s++) gs += g[(o * size + s) * inner + i];
                    for (int s = 0; s < size; s++)
                    {
                        int k = (o * size + s) * inner + i;
                        dx[k] += g[k] - T.Exp(y[k]) * gs;
                    }
                }
        }
    }
}
