using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Elements <paramref name="start"/> .. <paramref name="start"/>+<paramref name="length"/>-1 along
    /// <paramref name="axis"/> (negative axes count from the end). When the block is contiguous (every axis
    /// before <paramref name="axis"/> has size 1, e.g. a time step of a time-major tensor) the result is a
    /// view sharing storage; otherwise a copy. The gradient flows back into that block; the rest of the
    /// input gets zero.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis or the range is out of bounds.</exception>
    public Tensor<T> Slice(int axis, int start, int length)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, _shape, "Slice");
        if (start < 0 || length < 0 || (long)start + length > _shape[ax])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice: range [{start}, {(long)start + length}) is outside axis {axis} of shape {ShapeUtil.Format(_shape)}.");
        var outShape = _shape.AsSpan().ToArray();
        outShape[ax] = length;
        var (outer, size, inner) = ShapeUtil.Split(_shape, ax);
        Tensor<T> r;
        if (outer == 1)
        {
            r = new Tensor<T>(outShape, _storage, _offset + start * inner);
        }
        else
        {
            r = Uninitialized(outShape);
            int run = length * inner;
            if (r.Length > 0) K.CopyRuns(Buffer.Slice(start * inner, Length - start * inner), size * inner, r.Buffer, run, outer, run, accumulate: false);
        }
        return ShouldRecord(this) ? r.WithCreator(new SliceNode(this, ax, start, view: outer == 1)) : r;
    }

    private sealed class SliceNode(Tensor<T> x, int axis, int start, bool view) : Node<T>(x)
    {
        internal override string Name => "Slice";

        internal override Tensor<T>? ViewOf => view && Inputs.Length > 0 ? Inputs[0] : null;

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var (outer, size, inner) = ShapeUtil.Split(x._shape, axis);
            int run = output._shape[axis] * inner;
            var dx = x.GradBuffer;
            if (g.Length > 0) K.CopyRuns(g, run, dx.Slice(start * inner, dx.Length - start * inner), size * inner, outer, run, accumulate: true);
        }
    }
}
