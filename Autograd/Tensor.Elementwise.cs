using Autograd.Kernels;

namespace Autograd;

// Shared plumbing for the broadcasting binary ops (Add, Subtract, Multiply, Divide); each op's
// forward and backward stay in its own file under Ops/.
public sealed partial class Tensor<T>
{
    private Tensor<T> BroadcastForward<TOp>(Tensor<T> other, string op) where TOp : IBinaryOperator<T>
    {
        ArgumentNullException.ThrowIfNull(other);
        int[] outShape = ShapeUtil.SameShape(_shape, other._shape) ? _shape : ShapeUtil.Broadcast(_shape, other._shape, op);
        var result = Uninitialized(outShape);
        Broadcast.Apply<T, TOp>(Span, _shape, other.Span, other._shape, result.Span, outShape);
        return result;
    }

    /// <summary>target += reduce_to(target's shape)(g ⊙ factor), factor broadcast to g's shape.</summary>
    internal static void AccumulateProduct(ReadOnlySpan<T> g, int[] gShape, Tensor<T> factor, Tensor<T> target)
    {
        var dst = target.GradTarget;
        if (factor.Length == g.Length && dst.Length == g.Length)
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g, factor.Span, dst, dst);
            return;
        }
        using var tmp = new Scratch<T>(g.Length);
        Broadcast.Apply<T, MultiplyOperator<T>>(g, gShape, factor.Span, factor._shape, tmp.Span, gShape);
        Broadcast.AccumulateTo<T>(tmp.Span, gShape, dst, target._shape);
    }
}
