using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// The maximum along <paramref name="axis"/>, dropping it unless <paramref name="keepDim"/>.
    /// The gradient goes to the first position holding the maximum (NaN counts as the maximum).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    /// <exception cref="ArgumentException">The axis has size 0.</exception>
    public Tensor<T> Max(int axis, bool keepDim = false)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, _shape, "Max");
        if (_shape[ax] == 0) throw new ArgumentException($"Max: axis {axis} of shape {ShapeUtil.Format(_shape)} is empty.", nameof(axis));
        var r = Uninitialized(ReducedShape(_shape, ax, keepDim));
        var (outer, size, inner) = ShapeUtil.Split(_shape, ax);
        var arg = new int[outer * inner];
        K.Max(Buffer, outer, size, inner, r.Buffer, arg);
        return ShouldRecord(this) ? r.WithCreator(new MaxNode(this, ax, arg)) : r;
    }

    private sealed class MaxNode(Tensor<T> x, int axis, int[] argMax) : Node<T>(x)
    {
        internal override string Name => "Max";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var (outer, size, inner) = ShapeUtil.Split(x._shape, axis);
            K.MaxBackward(g, argMax, outer, size, inner, x.GradBuffer);
        }
    }
}
