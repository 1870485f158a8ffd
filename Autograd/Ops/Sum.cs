using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>The sum of all elements, as a scalar (shape ()). d/dx = 1 for every element.</summary>
    public Tensor<T> Sum() => SumCore(null, keepDim: false);

    /// <summary>
    /// Sums along <paramref name="axis"/> (negative counts from the end), dropping it unless
    /// <paramref name="keepDim"/>. The gradient is broadcast back along that axis.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public Tensor<T> Sum(int axis, bool keepDim = false) => SumCore(ShapeUtil.NormalizeAxis(axis, _shape, "Sum"), keepDim);

    private Tensor<T> SumCore(int? axis, bool keepDim)
    {
        Tensor<T> r;
        if (axis is null)
        {
            r = new Tensor<T>([], [TP.Sum(Span)]);
        }
        else
        {
            int ax = axis.Value;
            r = new Tensor<T>(ReducedShape(_shape, ax, keepDim));
            var (outer, size, inner) = ShapeUtil.Split(_shape, ax);
            var src = Span; var dst = r.Span;
            for (int o = 0; o < outer; o++)
            {
                var d = dst.Slice(o * inner, inner);
                if (inner == 1) { d[0] = TP.Sum(src.Slice(o * size, size)); continue; }
                for (int s = 0; s < size; s++) TP.Add(d, src.Slice((o * size + s) * inner, inner), d);
            }
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

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradTarget;
            if (axis < 0) { TP.Add(dx, g[0], dx); return; }
            var (outer, size, inner) = ShapeUtil.Split(x._shape, axis);
            for (int o = 0; o < outer; o++)
            {
                var go = g.Slice(o * inner, inner);
                for (int s = 0; s < size; s++)
                {
                    var d = dx.Slice((o * size + s) * inner, inner);
                    TP.Add(d, go, d);
                }
            }
        }
    }
}
