using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Elements <paramref name="start"/> .. <paramref name="start"/>+<paramref name="length"/>-1 along
    /// <paramref name="axis"/> (negative axes count from the end), as a copy. The gradient flows
    /// back into that block; the rest of the input gets zero.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis or the range is out of bounds.</exception>
    public Tensor<T> Slice(int axis, int start, int length)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, _shape, "Slice");
        if (start < 0 || length < 0 || start + length > _shape[ax])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice: range [{start}, {start + length}) is outside axis {axis} of shape {ShapeUtil.Format(_shape)}.");
        var outShape = _shape.AsSpan().ToArray();
        outShape[ax] = length;
        var r = Uninitialized(outShape);
        var (outer, size, inner) = ShapeUtil.Split(_shape, ax);
        int run = length * inner;
        var src = Span; var dst = r.Span;
        if (outer == 1) src.Slice(start * inner, run).CopyTo(dst);
        else for (int o = 0; o < outer; o++)
            src.Slice((o * size + start) * inner, run).CopyTo(dst.Slice(o * run, run));
        return ShouldRecord(this) ? r.WithCreator(new SliceNode(this, ax, start)) : r;
    }

    private sealed class SliceNode(Tensor<T> x, int axis, int start) : Node<T>(x)
    {
        internal override string Name => "Slice";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            var x = Inputs[0];
            var (outer, size, inner) = ShapeUtil.Split(x._shape, axis);
            int run = output._shape[axis] * inner;
            var dx = x.GradTarget;
            for (int o = 0; o < outer; o++)
            {
                var d = dx.Slice((o * size + start) * inner, run);
                TP.Add(d, g.Slice(o * run, run), d);
            }
        }
    }
}
