using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>The sum of all elements, as a scalar (shape ()). d/dx = 1 for every element. Accumulated in double for float.</summary>
    public Tensor<T> Sum() => SumCore(null, keepDim: false);

    /// <summary>
    /// Sums along <paramref name="axis"/> (negative counts from the end), dropping it unless
    /// <paramref name="keepDim"/>. The gradient is broadcast back along that axis. Accumulated in double for float.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public Tensor<T> Sum(int axis, bool keepDim = false) => SumCore(ShapeUtil.NormalizeAxis(axis, _shape, "Sum"), keepDim);

    private Tensor<T> SumCore(int? axis, bool keepDim)
    {
        Tensor<T> r;
        var k = K;
        if (axis is null)
        {
            r = Uninitialized([]);
            if (Length == 0) k.Fill(r.Buffer, T.Zero);
            else k.Sum(Buffer, 1, Length, 1, r.Buffer);
        }
        else
        {
            int ax = axis.Value;
            r = Uninitialized(ReducedShape(_shape, ax, keepDim));
            var (outer, size, inner) = ShapeUtil.Split(_shape, ax);
            if (size == 0) k.Fill(r.Buffer, T.Zero);
            else k.Sum(Buffer, outer, size, inner, r.Buffer);
        }
        return ShouldRecord(this) ? r.WithCreator(new SumNode(this, axis ?? -1)) : r;
    }

    internal static int[] ReducedShape(int[] shape, int axis, bool keepDim)
    {
        if (keepDim) { var k = shape.AsSpan().ToArray(); k[axis] = 1; return k; }
        return [.. shape[..axis], .. shape[(axis + 1)..]];
    }

    private sealed class SumNode(Tensor<T> x, int axis) : Node<T>(x)
    {
        internal override string Name => "Sum";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradBuffer;
            if (axis < 0) { K.Expand(g, 1, x.Length, 1, dx); return; }
            var (outer, size, inner) = ShapeUtil.Split(x._shape, axis);
            K.Expand(g, outer, size, inner, dx);
        }
    }
}
